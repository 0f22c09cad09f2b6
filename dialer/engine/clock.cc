#include "dialer/engine/clock.h"

#include <algorithm>

#include "dialer/loop_event.h"

namespace outpace {
namespace {

class LoopTimer final : public Timer {
  public:
    LoopTimer(event_base* loop, std::function<void()> fn)
        : fn_(std::move(fn)), ev_(loop, -1, EV_PERSIST, &LoopTimer::fire, this) {}
    bool arm(std::chrono::microseconds period) { return ev_.add(period); }

  private:
    static void fire(evutil_socket_t, short, void* self) { static_cast<LoopTimer*>(self)->fn_(); }
    std::function<void()> fn_;
    LoopEvent ev_;
};

}  // namespace

std::unique_ptr<Timer> LoopClock::every(std::chrono::microseconds period,
                                        std::function<void()> fn) {
    auto t = std::make_unique<LoopTimer>(loop_, std::move(fn));
    if (!t->arm(period)) return nullptr;
    return t;
}

class FakeClock::FakeTimer final : public Timer {
  public:
    explicit FakeTimer(std::shared_ptr<Entry> e) : e_(std::move(e)) {}
    ~FakeTimer() override { e_->alive = false; }

  private:
    std::shared_ptr<Entry> e_;
};

FakeClock::FakeClock(WallTime wall_start, SteadyTime steady_start)
    : steady0_(steady_start), now_(steady_start), wall0_(wall_start) {}

std::unique_ptr<Timer> FakeClock::every(std::chrono::microseconds period,
                                        std::function<void()> fn) {
    auto e = std::make_shared<Entry>(
        Entry{now_ + period, now_ + period + late(), period, std::move(fn), true});
    timers_.push_back(e);
    return std::make_unique<FakeTimer>(std::move(e));
}

void FakeClock::step() {
    std::erase_if(timers_, [](const auto& e) { return !e->alive; });
    if (timers_.empty()) return;
    const auto next = std::min_element(timers_.begin(), timers_.end(),
                                       [](const auto& a, const auto& b) { return a->due < b->due; })
                          ->get()
                          ->due;
    now_ = std::max(now_, next);
    fire_due(false);
}

void FakeClock::fire_due(bool restart) {
    std::erase_if(timers_, [](const auto& e) { return !e->alive; });
    const auto due = timers_;  // a copy: a callback may add or stop timers
    for (const auto& e : due) {
        if (!e->alive || e->due > now_) continue;
        e->nominal = restart ? now_ + e->period : e->nominal + e->period;
        e->due = std::max(e->nominal + late(), now_ + std::chrono::microseconds(1));
        e->fn();
    }
}

void FakeClock::set_jitter(std::chrono::microseconds max, unsigned seed) {
    jitter_ = max;
    rng_ = seed ? seed : 1;
}

std::chrono::microseconds FakeClock::late() {
    if (jitter_.count() <= 0) return std::chrono::microseconds(0);
    // xorshift64: reproducible, and no dependence on <random>'s distributions across libraries.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return std::chrono::microseconds(
        static_cast<std::int64_t>(rng_ % static_cast<std::uint64_t>(jitter_.count())));
}

void FakeClock::jump(std::chrono::microseconds d) {
    now_ += d;
    fire_due(true);
}

void FakeClock::advance(std::chrono::microseconds d) {
    const auto until = now_ + d;
    for (;;) {
        std::erase_if(timers_, [](const auto& e) { return !e->alive; });
        bool due = false;
        for (const auto& e : timers_) due |= e->due <= until;
        if (!due) break;
        step();
    }
    now_ = until;
}

}  // namespace outpace
