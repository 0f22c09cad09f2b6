// One SIP trunk while the engine runs: calls in progress on it, its rate limit (a token bucket,
// and never more than max_calls_per_second INVITEs in any one second), and its backoff after
// carrier errors. Shared by the campaigns that dial through it.
#pragma once

#include <chrono>
#include <deque>

#include "dialer/engine/clock.h"
#include "dialer/engine/engine_config.h"
#include "metrics/metrics.h"

namespace outpace {

class Trunk {
  public:
    Trunk(const TrunkConfig& config, metrics::TrunkMetrics& m, SteadyTime now)
        : config_(config), m_(m), refilled_(now) {}

    const TrunkConfig& config() const { return config_; }
    metrics::TrunkMetrics& metrics() { return m_; }
    int in_progress() const { return in_progress_; }
    // Resting after carrier errors: no call may leave.
    bool resting(SteadyTime now) const { return now < backoff_until_; }
    // INVITEs sent within the last second.
    int dials_last_second(SteadyTime now);
    // How many calls may leave now. The bucket spreads the trunk's calls per second over the
    // ticks instead of sending a second's worth in one burst (past saturation, bursts of INVITEs
    // turn into UDP retransmissions) and holds the rate on average whatever the ticks' jitter;
    // its burst can never put more than the rate into one second.
    int allowance(SteadyTime now, std::chrono::milliseconds tick);
    // An INVITE left / a call on it ended.
    void dialled(SteadyTime now);
    void call_ended() { --in_progress_; }
    // A carrier error (503, no response, no media): after three in a row the trunk rests,
    // doubling up to a minute, instead of burning the list against it; the first call that gets
    // through (succeeded()) ends the backoff.
    void failed(SteadyTime now);
    void succeeded() { consecutive_errors_ = 0; }
    void update_gauges(SteadyTime now);

  private:
    const TrunkConfig& config_;
    metrics::TrunkMetrics& m_;
    int in_progress_ = 0;
    std::deque<SteadyTime> recent_dials_;  // the last second's
    int consecutive_errors_ = 0;
    SteadyTime backoff_until_{};
    double tokens_ = 1;
    SteadyTime refilled_;
};

}  // namespace outpace
