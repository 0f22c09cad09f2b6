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
#include "dialer/sip/dns.h"
#include "dialer/sip/sip_stack.h"
#include "metrics/metrics.h"

namespace outpace {

class Trunk {
  public:
    Trunk(const TrunkConfig& config, metrics::TrunkMetrics& m, SteadyTime now);

    const TrunkConfig& config() const { return config_; }
    metrics::TrunkMetrics& metrics() { return m_; }
    int in_progress() const { return in_progress_; }
    // Room for one more call now: not resting, under max_calls and under its calls per second.
    bool has_room(SteadyTime now);
    // Resting after carrier errors, or with nowhere to send (a host name not looked up yet, or
    // whose lookup failed with no earlier answer to fall back on): no call may leave.
    // A trunk that must register is resting while it is not registered.
    bool resting(SteadyTime now) const {
        return now < backoff_until_ || !has_target(now) || !registered(now);
    }
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

    // ---- Where its calls go ----
    // An IP trunk: its address, always. A trunk named by host name: what its last lookup found
    // (RFC 3263), each target skipped for kTargetRest after it answered 503 or nothing at all or
    // its transport failed, while another target of the trunk is still in use (the last one is
    // never skipped: the trunk's own backoff takes over).
    struct Target {
        sip::ServerTarget at;
        SteadyTime rest_until{};
        int current = 0;  // weighted round robin's running score within its priority
    };
    static constexpr std::chrono::seconds kTargetRest{30};
    bool by_name() const { return by_name_; }
    const std::vector<Target>& targets() const { return targets_; }
    bool has_target(SteadyTime now) const;
    // The target for a call: among targets not resting and not in `tried`, the best SRV priority;
    // SRV weights spread the calls within it. Null when there is none.
    const sip::ServerTarget* pick_target(SteadyTime now,
                                         const std::vector<sip::ServerTarget>& tried = {});
    bool has_untried_target(SteadyTime now, const std::vector<sip::ServerTarget>& tried) const;
    // `target` answered 503 or nothing, or its transport failed: it rests for kTargetRest when
    // another address is still in use, and true is returned (the fault stays with the address,
    // not the trunk); false when it was the last (the trunk's own backoff decides).
    bool address_failed(const sip::ServerTarget& target, SteadyTime now);

    // Looking a host name up again: when its answer's TTL (at least 1 s, at most an hour) ran out,
    // or, after a failed lookup, 1, 2, 4 ... 60 s later. A failed lookup keeps the targets of the
    // last good one (a DNS outage must not stop a carrier that still works).
    bool lookup_due(SteadyTime now) const {
        return by_name_ && !looking_up_ && now >= next_lookup_;
    }
    void lookup_started() { looking_up_ = true; }
    // Takes a lookup's result; true when the targets changed.
    bool looked_up(const sip::Located& result, SteadyTime now);
    int lookup_failures() const { return lookup_failures_; }  // in a row

    // ---- Registration (`register: true`) ----
    // Registered until the time the registrar granted runs out; nua refreshes before that, and
    // each refresh's 200 moves it on. A refused or unanswered REGISTER ends it: tried again 5,
    // 10, 20 ... 300 s later. A registration that ran out without a refresh is sent again.
    bool registers() const { return config_.register_trunk; }
    bool registered(SteadyTime now) const {
        return !config_.register_trunk || now < registered_until_;
    }
    bool registration_due(SteadyTime now) const {
        return config_.register_trunk && registration_ == 0 && now >= next_register_;
    }
    sip::RegistrationId registration() const { return registration_; }
    void registration_sent(sip::RegistrationId id) { registration_ = id; }
    // A final answer: true when the trunk became registered or stopped being so (worth a log).
    bool registration_answered(int status, std::chrono::seconds granted, SteadyTime now);
    // The registration ran out without a refresh: forgotten, and sent again now.
    bool registration_lapsed(SteadyTime now) const {
        return config_.register_trunk && registration_ != 0 && was_registered_ &&
               now >= registered_until_;
    }
    void registration_dropped(SteadyTime now);
    int registration_failures() const { return register_failures_; }
    SteadyTime registered_until() const { return registered_until_; }
    SteadyTime next_registration() const { return next_register_; }

  private:
    const TrunkConfig& config_;
    metrics::TrunkMetrics& m_;
    int in_progress_ = 0;
    std::deque<SteadyTime> recent_dials_;  // the last second's
    int consecutive_errors_ = 0;
    SteadyTime backoff_until_{};
    double tokens_ = 1;
    SteadyTime refilled_;
    bool by_name_ = false;
    std::vector<Target> targets_;
    sip::RegistrationId registration_ = 0;  // in the SIP stack (0: none)
    SteadyTime registered_until_{}, next_register_{};
    bool was_registered_ = false;
    int register_failures_ = 0;
    bool looking_up_ = false;
    SteadyTime next_lookup_{};
    int lookup_failures_ = 0;
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
