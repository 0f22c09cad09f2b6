// One SIP trunk while the engine runs: calls in progress on it, its rate limit (a token bucket,
// and never more than max_calls_per_second INVITEs in any one second), and its backoff after
// carrier errors. Shared by the campaigns that dial through it.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "campaigns/campaign.h"

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
    // Room for one more call now: not resting, under max_calls and under its calls per second.
    bool has_room(SteadyTime now);
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

// The trunks one campaign dials through (`dialing.trunks`), and the choice of one for a call:
// the best priority among the trunks that serve the number (its prefixes), have room and were
// not tried for this call yet; within a priority, calls spread by weight (smooth weighted
// round robin: 3:1 sends 3 of every 4 calls to the first, never 3 in a row by chance).
class TrunkRoutes {
  public:
    struct Route {
        Trunk* trunk = nullptr;
        TrunkRoute rule;
        int current = 0;  // weighted round robin's running score
    };
    void add(Trunk& trunk, const TrunkRoute& rule) { routes_.push_back({&trunk, rule, 0}); }
    bool empty() const { return routes_.empty(); }
    const std::vector<Route>& routes() const { return routes_; }

    // For the pacer: the trunks together.
    bool all_resting(SteadyTime now) const;
    int dials_last_second(SteadyTime now);
    int in_progress() const;
    int max_calls_per_second() const;
    int max_calls() const;

    // A tick's launch: each trunk's allowance (its token bucket) is opened as a budget that the
    // picks of this launch take from; returns their sum. close_budget() ends it; picks outside a
    // launch (an agent's dial, a call moving to another trunk) take any trunk with room.
    int open_budget(SteadyTime now, std::chrono::milliseconds tick);
    void close_budget() { budget_.clear(), budget_open_ = false; }

    // The trunk for a call to `number` (E.164), skipping `tried`; null when none can take it.
    Trunk* pick(const std::string& number, SteadyTime now, const std::vector<const Trunk*>& tried);
    // Whether any of the trunks serves `number` at all (its prefixes), resting or full or not.
    bool serves(const std::string& number) const;
    // Whether a trunk not in `tried` serves `number` and is not resting: it may have room soon.
    bool could_take(const std::string& number, SteadyTime now,
                    const std::vector<const Trunk*>& tried) const;

  private:
    static bool matches(const TrunkRoute& rule, const std::string& number);
    std::vector<Route> routes_;
    std::map<const Trunk*, int> budget_;
    bool budget_open_ = false;
};

}  // namespace outpace
