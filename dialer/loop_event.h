// The one owner of a libevent event: created with its callback, freed exactly once when the owner
// goes. The SIP stack, RTP sessions, the agents' channel, the control socket and the engine's
// timers all hold their events through it: no raw event_new/event_free pair anywhere. Move-only.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <utility>

namespace outpace {

class LoopEvent {
  public:
    LoopEvent() = default;
    // An event on `fd` (-1 for a pure timer) with libevent's flags (EV_READ, EV_PERSIST...).
    // Empty (false) when libevent could not create it.
    LoopEvent(event_base* base, evutil_socket_t fd, short what, event_callback_fn fn, void* arg)
        : ev_(base ? event_new(base, fd, what, fn, arg) : nullptr) {}
    ~LoopEvent() { reset(); }
    LoopEvent(LoopEvent&& o) noexcept : ev_(std::exchange(o.ev_, nullptr)) {}
    LoopEvent& operator=(LoopEvent&& o) noexcept {
        if (this != &o) {
            reset();
            ev_ = std::exchange(o.ev_, nullptr);
        }
        return *this;
    }
    LoopEvent(const LoopEvent&) = delete;
    LoopEvent& operator=(const LoopEvent&) = delete;

    explicit operator bool() const { return ev_ != nullptr; }
    // Arms the event, with a timeout (a timer's period) or without. False if libevent refused.
    bool add(std::chrono::microseconds timeout) {
        const timeval tv{static_cast<time_t>(timeout.count() / 1'000'000),
                         static_cast<suseconds_t>(timeout.count() % 1'000'000)};
        return ev_ && event_add(ev_, &tv) == 0;
    }
    bool add() { return ev_ && event_add(ev_, nullptr) == 0; }
    // Arms it with a timeval libevent gave (event_base_init_common_timeout's, for many timers of
    // one period).
    bool add(const timeval* timeout) { return ev_ && event_add(ev_, timeout) == 0; }
    // Makes it active now, as if it fired: its callback runs on its loop's next pass (from
    // another thread too, once libevent's thread locks are on).
    void activate() {
        if (ev_) event_active(ev_, EV_TIMEOUT, 0);
    }
    // Disarms it (it stays owned).
    void remove() {
        if (ev_) event_del(ev_);
    }
    void reset() {
        if (ev_) event_free(ev_);
        ev_ = nullptr;
    }

  private:
    ::event* ev_ = nullptr;
};

}  // namespace outpace
