// Retry rules and attempt caps: what an attempt's outcome does to its contact. Pure functions of
// the campaign, the contact and the time, so every rule is tested without a store.
#pragma once

#include <optional>
#include <string>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/records.h"

namespace outpace {

// Updates `c` for the finished attempt `a` ending at `now`: counts it, sets the next eligible
// time (retry delay, then the caps: 7-in-7, quiet periods after a conversation or an abandon) or
// a final state with its reason. A contact with several numbers moves to its next one after the
// campaign's list.next_number_on outcomes, and retires a number found invalid or a fax line
// (final only when none is left).
void apply_outcome(const Campaign& campaign, Contact& c, const Attempt& a, Timestamp now);

// Why the contact may not be dialled at `now` under the caps alone (ignoring calling hours and
// DNC), or nullopt when it may. The hopper re-checks this so an edited campaign takes effect.
std::optional<std::string> cap_blocks(const Campaign& campaign, const Contact& c, Timestamp now);

// The earliest time the caps allow the contact's next attempt (>= `after`).
std::int64_t earliest_under_caps(const Campaign& campaign, const Contact& c, std::int64_t after);

// Which retry rule an outcome falls under; nullopt for outcomes with no retry rule.
std::optional<RetryOutcome> retry_class(Outcome o);

// Whether an outcome counts as an attempt on the contact. A carrier failure (503, trunk timeout)
// never reached the callee and must not burn the contact's attempts.
bool counts_as_attempt(Outcome o);

}  // namespace outpace
