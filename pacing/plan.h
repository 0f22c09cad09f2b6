// Sizing a campaign before it runs: how fast a team of a given size works through a list, by
// running the simulator with the real pacing code on the campaign's settings and the list's
// expected rates, then the attempts each contact needs under the campaign's attempt cap.
#pragma once

#include "pacing/simulator.h"

namespace outpace::pacing {

struct PlanInput {
    Scenario calls;        // the campaign's pacing and the calls' rates and durations
    long contacts = 0;     // contacts left to finish
    int max_attempts = 0;  // per contact (0: no cap)
    double hours_per_day = 8;
};

struct PlanRow {
    int agents = 0;
    double dials_per_hour = 0;
    double occupancy = 0;
    double abandon_rate = 0;
    int peak_lines = 0;         // trunk channels at the busiest moment
    double live_per_dial = 0;   // people reached per dial (learnt by the run)
    double dials_needed = 0;    // the list's expected dials under the attempt cap
    double working_hours = 0;   // dialling hours to finish the list
    double days = 0;            // working_hours / hours per day
    long contacts_reached = 0;  // expected contacts that end with a person answering
    int windows_over_cap = 0;   // hourly checks of the run's window over the cap
};

// Expected dials per contact when each dial reaches a person with probability `p` and a contact
// is dialled until reached or `max_attempts` (0: no cap) have been made.
double expected_attempts(double p, int max_attempts);

// Simulates `agents` on an endless list of the same calls for as long as the list will take (a
// first run of two working days says how long; the first day's abandon budget starts empty, as
// a campaign's does) and projects the list's completion from the rate it measured.
PlanRow plan_for(const PlanInput& in, int agents);

}  // namespace outpace::pacing
