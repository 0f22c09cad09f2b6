// The regulatory abandon window as it rolls: live answers, abandons and AMD machine releases of
// the last 24 hours (Ofcom) or 30 days (the US TSR), kept in one-minute buckets so an engine that
// runs for months holds at most 43,200 of them. The report and the engine count the same events
// by the same rule (`in_abandon_window`), so their figures agree at any moment.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "campaigns/records.h"

namespace outpace {

class Store;
struct Campaign;

// What one finished attempt adds to the window: a live answer (connected, a machine an agent
// took excepted; or abandoned), an abandon, a machine release (Ofcom's false-positive estimate).
struct WindowEvent {
    bool live = false, abandoned = false, machine = false;
    bool counts() const { return live || abandoned || machine; }
};
WindowEvent window_event(const Attempt& a);

// An event at `at_ms` is in the window that ends at `now_ms` when its minute is one of the
// window's: the window rolls by whole minutes.
bool in_abandon_window(std::int64_t at_ms, std::int64_t now_ms, std::chrono::milliseconds span);

class RollingAbandonWindow {
  public:
    explicit RollingAbandonWindow(std::chrono::milliseconds span) : span_(span) {}

    // Every finished attempt of the campaign's ledger within the window ending at `now_ms`.
    void seed(const Store& store, const Campaign& campaign, std::int64_t now_ms);
    void add(std::int64_t at_ms, const WindowEvent& e);
    // Drops what has left the window ending at `now_ms`.
    void roll(std::int64_t now_ms);

    std::int64_t live_answers() const { return live_; }
    std::int64_t abandoned() const { return abandoned_; }
    std::int64_t machines() const { return machines_; }
    std::chrono::milliseconds span() const { return span_; }

  private:
    struct Bucket {
        std::int64_t minute = 0;
        std::int64_t live = 0, abandoned = 0, machines = 0;
    };
    std::chrono::milliseconds span_;
    std::deque<Bucket> buckets_;  // by minute, oldest first
    std::int64_t live_ = 0, abandoned_ = 0, machines_ = 0;
};

}  // namespace outpace
