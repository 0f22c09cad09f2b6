// The engine's notion of time, passed in (like LevelDB's Env): monotonic time for every timeout
// and measurement, wall time for calling hours and the ledger, and periodic timers. LoopClock is
// the real one, on the libevent loop; FakeClock is set and advanced by tests (and moves only when
// told), so that timing rules can be checked to the millisecond in no time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

struct event_base;

namespace outpace {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// A periodic timer; it stops when destroyed.
class Timer {
  public:
    virtual ~Timer() = default;
};

class Clock {
  public:
    virtual ~Clock() = default;
    virtual SteadyTime now() const = 0;
    virtual WallTime wall() const = 0;
    // Calls `fn` every `period` from now on until the returned timer is destroyed. Null when the
    // timer could not be armed.
    virtual std::unique_ptr<Timer> every(std::chrono::microseconds period,
                                         std::function<void()> fn) = 0;

    std::int64_t wall_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(wall().time_since_epoch())
            .count();
    }
    // Wall time in whole seconds, as calling hours and the ledger's schedule take it.
    std::chrono::sys_seconds wall_s() const {
        return std::chrono::floor<std::chrono::seconds>(wall());
    }
};

// Real time; timers on the libevent loop.
class LoopClock final : public Clock {
  public:
    explicit LoopClock(event_base* loop) : loop_(loop) {}
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    WallTime wall() const override { return std::chrono::system_clock::now(); }
    std::unique_ptr<Timer> every(std::chrono::microseconds period,
                                 std::function<void()> fn) override;

  private:
    event_base* loop_;
};

// Time that moves only in advance(): timers fire in order of their due times, each seeing now()
// at its due time. Wall time moves with it from the wall time it was made at.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(WallTime wall_start,
                       SteadyTime steady_start = SteadyTime{} + std::chrono::hours(1000));
    SteadyTime now() const override { return now_; }
    WallTime wall() const override {
        return wall0_ + std::chrono::duration_cast<WallTime::duration>(now_ - steady0_);
    }
    std::unique_ptr<Timer> every(std::chrono::microseconds period,
                                 std::function<void()> fn) override;
    // Moves time forward by `d`, firing every timer that falls due on the way.
    void advance(std::chrono::microseconds d);
    // Moves time forward to the next timer's due time and fires it (and any due with it).
    void step();
    // Moves time forward by `d` at once, as a machine that slept: each timer that fell due fires
    // once, at the new time, and runs on from there (libevent's persistent timers do the same).
    void jump(std::chrono::microseconds d);
    // From now on each firing is late by up to `max` (pseudo-random, seeded), as a busy loop's
    // timers are; periods still count from the nominal times.
    void set_jitter(std::chrono::microseconds max, unsigned seed = 1);

  private:
    struct Entry {
        SteadyTime nominal, due;
        std::chrono::microseconds period;
        std::function<void()> fn;
        bool alive = true;
    };
    class FakeTimer;
    SteadyTime steady0_, now_;
    WallTime wall0_;
    std::chrono::microseconds late();
    // Fires every live timer due by now; the next period counts from its nominal time, or from
    // now when `restart` (a jump).
    void fire_due(bool restart);
    std::vector<std::shared_ptr<Entry>> timers_;
    std::chrono::microseconds jitter_{0};
    std::uint64_t rng_ = 1;
};

}  // namespace outpace
