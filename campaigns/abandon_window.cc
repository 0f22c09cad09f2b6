#include "campaigns/abandon_window.h"

#include <algorithm>

#include "campaigns/campaign.h"
#include "campaigns/store.h"

namespace outpace {
namespace {

constexpr std::int64_t kMinuteMs = 60'000;

std::int64_t minute_of(std::int64_t ms) {
    return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs;
}

}  // namespace

WindowEvent window_event(const Attempt& a) {
    WindowEvent e;
    if (a.in_flight()) return e;
    // A machine an agent took (on_machine: agent) is connected, but not a live answer.
    e.live = (a.outcome == Outcome::connected && a.amd_verdict != "machine") ||
             a.outcome == Outcome::abandoned;
    e.abandoned = a.outcome == Outcome::abandoned;
    e.machine = a.outcome == Outcome::machine && !a.amd_verdict.empty();
    return e;
}

bool in_abandon_window(std::int64_t at_ms, std::int64_t now_ms, std::chrono::milliseconds span) {
    return minute_of(at_ms) > minute_of(now_ms - span.count());
}

void RollingAbandonWindow::seed(const Store& store, const Campaign& campaign, std::int64_t now_ms) {
    buckets_.clear();
    live_ = abandoned_ = machines_ = 0;
    std::vector<std::pair<std::int64_t, WindowEvent>> events;
    store.for_each_attempt(campaign.name, [&](const Attempt& a) {
        const auto e = window_event(a);
        if (e.counts() && in_abandon_window(a.ended_ms, now_ms, span_))
            events.emplace_back(a.ended_ms, e);
    });
    std::sort(events.begin(), events.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [at, e] : events) add(at, e);
}

void RollingAbandonWindow::add(std::int64_t at_ms, const WindowEvent& e) {
    if (!e.counts()) return;
    const std::int64_t minute = minute_of(at_ms);
    // Events come in time order; one a little late (a clock step) joins the newest bucket.
    if (buckets_.empty() || buckets_.back().minute < minute) buckets_.push_back({minute});
    Bucket& b = buckets_.back();
    b.live += e.live;
    b.abandoned += e.abandoned;
    b.machines += e.machine;
    live_ += e.live;
    abandoned_ += e.abandoned;
    machines_ += e.machine;
}

void RollingAbandonWindow::roll(std::int64_t now_ms) {
    const std::int64_t oldest = minute_of(now_ms - span_.count());  // this minute is out
    while (!buckets_.empty() && buckets_.front().minute <= oldest) {
        live_ -= buckets_.front().live;
        abandoned_ -= buckets_.front().abandoned;
        machines_ -= buckets_.front().machines;
        buckets_.pop_front();
    }
}

}  // namespace outpace
