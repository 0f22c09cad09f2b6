#include "pacing/plan.h"

#include <algorithm>
#include <cmath>

namespace outpace::pacing {

double expected_attempts(double p, int max_attempts) {
    if (p <= 0) return max_attempts > 0 ? max_attempts : INFINITY;
    if (max_attempts <= 0) return 1 / p;
    return (1 - std::pow(1 - p, max_attempts)) / p;
}

namespace {

PlanRow project(const PlanInput& in, int agents, double hours) {
    Scenario sc = in.calls;
    sc.agents = agents;
    sc.duration_s = hours * 3600;
    sc.contacts = 0;  // the rate of a list that does not run dry
    const SimResult r = simulate(sc);
    PlanRow row;
    row.agents = agents;
    row.dials_per_hour = static_cast<double>(r.dials) / hours;
    row.occupancy = r.occupancy;
    row.abandon_rate = r.abandon_rate;
    row.peak_lines = r.peak_lines;
    row.windows_over_cap = r.windows_over_cap;
    // Live answers per dial as the run saw them (answers after the ring timeout are none).
    row.live_per_dial = r.dials
                            ? static_cast<double>(r.live_answers - r.estimated_false_positives) /
                                  static_cast<double>(r.dials)
                            : 0;
    row.dials_needed =
        static_cast<double>(in.contacts) * expected_attempts(row.live_per_dial, in.max_attempts);
    row.working_hours = row.dials_per_hour > 0 ? row.dials_needed / row.dials_per_hour : INFINITY;
    row.days = row.working_hours / in.hours_per_day;
    const double reached = in.max_attempts > 0
                               ? 1 - std::pow(1 - row.live_per_dial, in.max_attempts)
                               : (row.live_per_dial > 0 ? 1.0 : 0.0);
    row.contacts_reached = std::lround(static_cast<double>(in.contacts) * reached);
    return row;
}

}  // namespace

PlanRow plan_for(const PlanInput& in, int agents) {
    // Two days first; then the campaign's own length, so that the first day's cautious start
    // (its abandon budget earns its way up) weighs what it will weigh, within 1 and 60 days.
    const PlanRow first = project(in, agents, 2 * in.hours_per_day);
    if (!std::isfinite(first.working_hours)) return first;
    const double hours = std::clamp(first.working_hours, in.hours_per_day, 60 * in.hours_per_day);
    return project(in, agents, hours);
}

}  // namespace outpace::pacing
