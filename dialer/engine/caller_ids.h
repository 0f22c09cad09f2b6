// Caller IDs from a campaign's pool (`dialing.caller_ids`): which number a call shows, and how
// often each number has been used today. Carriers and call-blocking apps label a number that
// calls too often as spam; callees answer a local number more readily ("local presence").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "campaigns/campaign.h"
#include "dialer/engine/clock.h"

namespace outpace {

// The day a wall time falls on in the server's own time zone (days since 1970-01-01), and when
// that day began (unix milliseconds). A daily limit counts from the server's midnight.
std::int64_t server_day(std::int64_t unix_ms);
std::int64_t server_day_start_ms(std::int64_t unix_ms);

// Calls per caller ID today, across campaigns (two campaigns showing the same number share its
// daily limit). Forgets yesterday's counts when the day changes.
class CallerIdUsage {
  public:
    int today(const std::string& number, std::int64_t day) const;
    void count(const std::string& number, std::int64_t day, int n = 1);

  private:
    std::int64_t day_ = -1;
    std::unordered_map<std::string, int> counts_;
};

// The number for a call to `callee` (E.164): among the pool's numbers under the daily limit,
// the same NANP area code first (+1NPA), then the same country, then any (with local presence;
// without it, any); within that, the least used today, the pool's order breaking ties. Nothing
// when every number has reached its limit.
std::optional<std::string> choose_caller_id(const Campaign::CallerIdPool& pool,
                                            const std::string& callee, const CallerIdUsage& usage,
                                            std::int64_t day);
// How many more calls the pool may show today (a large number without a limit).
int caller_ids_left(const Campaign::CallerIdPool& pool, const CallerIdUsage& usage,
                    std::int64_t day);

}  // namespace outpace
