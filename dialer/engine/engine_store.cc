// The engine's side of the store: outcomes and progress handed to the ledger's writer one batch
// at a time, what a store that cannot write leaves held for the next try, pacing state saved.
// (The engine's other parts: engine.cc decides what to dial and follows the calls,
// engine_manage.cc the manager's operations, engine_media.cc its media.)
#include <chrono>

#include "dialer/engine/engine.h"  // the class whose members these are
#include "dialer/engine/engine_util.h"

namespace outpace {

void Engine::flush_completed() {
    if (writing_held_) return;  // one batch of outcomes at a time
    const auto t = now();
    if (!store_stall_.ok()) {
        if (t < store_retry_at_) return;
        store_retry_at_ = t + std::chrono::seconds(1);
    }
    take_held();
    if (held_.empty() && store_stall_.ok()) return;  // nothing to write
    writing_held_ = true;
    auto written = std::make_shared<Status>();
    env_.write_ledger([this, written] { *written = write_held(); },
                      [this, alive = std::weak_ptr<int>(alive_), written] {
                          if (alive.expired()) return;
                          writing_held_ = false;
                          held_written(*written);
                      });
}

// On the loop: every campaign's progress and outcomes held, taken for the writer.
void Engine::take_held() {
    held_.clear();
    for (auto& run : runs_) {
        auto h = run->take_held();
        if (!h.empty()) held_.emplace_back(run.get(), std::move(h));
    }
    held_stalled_ = !store_stall_.ok();
    held_wall_ = env_.clock().wall_s();
}

// On the ledger's writer: what take_held() took (after asking a store that could not write to
// recover). Touches nothing of the loop's but held_, which the loop leaves alone meanwhile.
Status Engine::write_held() {
    if (held_stalled_)
        if (auto st = store_.resume(); !st.ok()) return st;
    for (auto& [run, h] : held_)
        if (auto st = run->write_held(h, held_wall_, metrics_); !st.ok()) return st;
    return {};
}

// Back on the loop: what the store could not write goes back to its campaign for the next try.
void Engine::held_written(const Status& st) {
    for (auto& [run, h] : held_)
        if (!h.empty()) run->give_back(std::move(h));
    held_.clear();
    if (!st.ok()) {
        store_failed(st);
        return;
    }
    if (!store_stall_.ok()) {
        engine_log("the store writes again after " +
                   std::to_string(ms_between(store_stalled_at_, now()) / 1000) +
                   " s: outcomes held meanwhile are recorded, dialling resumes");
        store_stall_ = {};
        metrics_.store_stalled().Set(0);
    }
}

void Engine::save_pacing(bool now) {
    const auto t = this->now();
    if (!now && t - pacing_saved_at_ < std::chrono::seconds(10)) return;
    pacing_saved_at_ = t;
    // A store that cannot write (a full disk) loses a few seconds of learning, nothing else: the
    // next save carries everything.
    const auto wall = env_.clock().wall_ms();
    for (auto& run : runs_)
        if (!run->save_pacing(store_, wall).ok()) return;
}

void Engine::store_failed(const Status& st) {
    const bool first = store_stall_.ok();
    store_stall_ = st;
    if (!first) return;
    store_stalled_at_ = now();
    store_retry_at_ = store_stalled_at_ + std::chrono::seconds(1);
    metrics_.store_stalled().Set(1);
    engine_log("dialling stalled: " + st.error +
               ". Outcomes are held in memory and written when the store can write again; "
               "no call is placed until then");
}

}  // namespace outpace
