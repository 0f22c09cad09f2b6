// Pacing policies: how many new calls to launch now, from a snapshot and learned statistics.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "pacing/estimator.h"
#include "pacing/snapshot.h"

namespace outpace::pacing {

// survey: an IVR survey, no agents. Nobody waits to be connected, so nothing can be abandoned:
// the policy fills `survey_lines` IVR sessions from the live answers expected.
enum class Mode { predictive, progressive, power, preview, survey };

struct PacingConfig {
    Mode mode = Mode::predictive;
    double power_ratio = 1.0;
    double max_abandon_rate = 0.03;
    double ring_timeout_s = 20;
    double connect_grace_s = 2;
    int min_agents_predictive = 5;   // smaller teams dial progressively
    int survey_lines = 0;            // survey: IVR sessions at once
    double min_dials_learned = 200;  // cold start: progressive until this many dials resolved
    // on_machine: agent. A machine answer takes a ready agent (to leave the message) when one is
    // ready at its verdict: predictive pacing counts the machines on their way against the
    // agents it expects free, as it counts people.
    bool machines_to_agents = false;
    // Caps.
    double max_lines_per_agent = 3;
    int max_calls_per_second = 1000;
    int max_trunk_calls = 100000;
};

// Why the decision came out as it did: for metrics and tests.
struct Decision {
    int calls = 0;
    const char* reason = "";
    double expected_free_agents = 0;  // predictive: agents expected free over the horizon
    double expected_live = 0;         // predictive: live answers expected from calls in flight
    double target_abandon = 0;        // predictive: abandon rate the budget allows now
    double calibration = 0;           // predictive: realised abandons per abandon the model saw
};

// What predictive pacing learned about its own model: the abandons that followed its decisions
// and the abandons its model predicted for them (their ratio, with a prior, is the calibration
// factor). Kept between runs with the estimator.
struct Calibration {
    double realised = 0, predicted = 0;
};

class Policy {
  public:
    virtual ~Policy() = default;
    virtual Decision decide(const Snapshot& s, const Estimator& est) = 0;
    // The calibration learned so far (predictive only), and a calibration to resume from.
    virtual std::optional<Calibration> calibration() const { return std::nullopt; }
    virtual void restore(const Calibration&) {}
};

std::unique_ptr<Policy> make_policy(const PacingConfig& config);

// One call per ready agent not already covered by a call in flight.
int progressive_calls(const Snapshot& s);
// Enforces lines per agent, calls per second and trunk concurrency on any policy's answer.
int apply_caps(int calls, const Snapshot& s, const PacingConfig& config);

// The abandon budget: the abandon ratio predictive pacing may aim at now, given how much of the
// window's allowance is spent. Aims below the cap, tightens as the window's rate nears it, and
// returns 0 (progressive) once the cap is reached.
double abandon_target(const PacingConfig& config, long window_live, long window_abandoned);

// Expected abandoned calls when `live` (mean mu, variance var_live) live answers meet `free`
// (mean, variance var_free) agents: E[(L - F)+] under a normal approximation.
double expected_overflow(double mu_live, double var_live, double mu_free, double var_free);

}  // namespace outpace::pacing
