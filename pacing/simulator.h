// A discrete-event simulation of a campaign: modelled calls and agents driven by the same pacing
// code the engine runs. The policy sees only a Snapshot and what its Estimator learned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pacing/distribution.h"
#include "pacing/policy.h"

namespace outpace::pacing {

struct ScenarioChange {
    double at_s = 0;
    std::optional<double> live_rate, machine_rate, fail_rate;
    std::optional<int> agents;
};

struct Scenario {
    int agents = 20;
    double duration_s = 8 * 3600;
    std::uint64_t seed = 1;
    PacingConfig pacing;
    double abandon_window_s = 30 * 86400;
    double live_rate = 0.20, machine_rate = 0.25, fail_rate = 0.15;
    Distribution live_answer_delay = Distribution::lognormal(8, 0.5);
    Distribution machine_answer_delay = Distribution::lognormal(10, 0.5);
    Distribution fail_delay = Distribution::uniform(2, 6);
    Distribution amd_decision = Distribution::uniform(2, 4);
    Distribution talk = Distribution::lognormal(120, 1.0);
    Distribution wrap = Distribution::fixed(30);
    // Ofcom: each machine release counts this share of an abandoned live answer in the window
    // (the campaign's estimate of AMD's false positives). 0: not counted.
    double amd_false_positive_rate = 0;
    double preview_time_s = 10;  // preview mode: time an agent looks at a contact before dialling
    std::vector<ScenarioChange> changes;
    // The engine restarts at this time (0: never). Only the pacer's state is modelled: calls and
    // agents carry on, and the abandon window is kept (the engine reads it back from the
    // ledger). warm_restart: the pacer resumes from what it saved (the estimator through its
    // bytes, as the store keeps them, and the calibration); otherwise it starts cold.
    double restart_at_s = 0;
    bool warm_restart = true;
    bool record_calls = false;  // SimResult::calls: every dial, for a simulated ledger
    // A finite list: this many contacts (0: an endless list), each dialled again (at the end of
    // the list's order) until a person answers or it has had `max_attempts` (0: no cap). The run
    // ends when every contact is final (SimResult::list_done_s).
    long contacts = 0;
    int max_attempts = 0;
    // Two campaigns on one team: the second's calls (the first's are the rates above) and each
    // campaign's weight in dividing the agents (as `agents.share`). Both pace with `pacing`.
    struct SecondCampaign {
        double live_rate = 0.20, machine_rate = 0.25, fail_rate = 0.15;
        double share = 1;
    };
    std::optional<SecondCampaign> second;
    double share = 1;
    // on_machine: agent. A machine answer takes a ready agent (if any at its verdict) for this
    // long, then its wrap-up. The policy's own PacingConfig::machines_to_agents says whether it
    // accounts for them.
    bool machines_to_agents = false;
    Distribution machine_message = Distribution::fixed(25);
};

// One campaign's figures when a team serves two (SimResult::campaigns).
struct CampaignFigures {
    long dials = 0, live_answers = 0, abandoned = 0;
    double abandon_rate = 0, max_window_abandon_rate = 0;
    int windows_over_cap = 0;
};

// One simulated dial, as the ledger would record it (times in seconds from the run's start).
struct SimCall {
    double dial_s = 0;
    double resolved_s = 0;  // answered, failed or given up
    DialResult result = DialResult::no_answer;
    double verdict_s = -1;  // answered: the AMD verdict
    bool abandoned = false;
    int agent = -1;  // connected: the agent (0-based), with talk and wrap-up
    double talk_s = 0, wrap_s = 0;
};

struct SimResult {
    double occupancy = 0;                // (talk + wrap) / logged-in time
    double talk_occupancy = 0;           // talk / logged-in time
    double abandon_rate = 0;             // abandoned / live answers
    long abandoned = 0;                  // including estimated AMD false positives, if counted
    long estimated_false_positives = 0;  // Ofcom: counted in abandoned and live_answers
    long live_answers = 0;
    long dials = 0;
    long machines = 0, fails = 0, no_answers = 0;
    double agent_wait_mean_s = 0;
    double agent_wait_p95_s = 0;
    double max_window_abandon_rate = 0;  // worst trailing 24 h window, checked hourly
    int windows_over_cap = 0;            // hourly checks of the campaign's window over the cap
    double connects_per_agent_hour = 0;
    long ring_short_of_15s = 0;
    long decisions = 0;
    double logged_in_agent_hours = 0;
    std::string policy;
    std::vector<double> occupancy_by_slice;  // occupancy in consecutive 5-minute slices
    std::vector<SimCall> calls;              // with Scenario::record_calls, in dial order
    int peak_lines = 0;
    long machines_to_agents = 0;  // machine answers an agent took (on_machine: agent)         //
                                  // most trunk channels at once: calls in flight and conversations
    double list_done_s = -1;      // a finite list: when its last contact became final (-1: not)
    long contacts_reached = 0;    // a finite list: contacts that ended with a person answering
    std::vector<CampaignFigures> campaigns;  // each campaign's own (one, or two)
};

SimResult simulate(const Scenario& scenario);

}  // namespace outpace::pacing
