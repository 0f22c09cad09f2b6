// Calling hours in the callee's local time.
#pragma once

#include <cctz/time_zone.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "campaigns/campaign.h"

namespace outpace {

using Timestamp = std::chrono::sys_seconds;

// Loads IANA zones once; cctz zones are cheap to copy but loading parses tzdata files.
class ZoneCache {
  public:
    // nullptr when the name is not a known zone.
    const cctz::time_zone* get(const std::string& name);

  private:
    std::map<std::string, std::optional<cctz::time_zone>> zones_;
};

// Adds to `zones` ('|'-joined IANA names) those of `more` it does not have yet.
void add_zones(std::string& zones, const std::string& more);

// True when `at` falls inside one of the campaign's windows on a non-holiday, in every zone of
// `zones` ("America/Chicago|America/Denver"). An empty or unknown zone is never callable: when
// the dialer cannot tell the callee's local time it must not guess.
bool within_calling_hours(const CallingHours& hours, const std::string& zones, Timestamp at,
                          ZoneCache& cache);

// The earliest time >= `from` when within_calling_hours holds, searched minute-exactly over the
// next `horizon`; nullopt when none (e.g. no windows). Tells when a contact outside its hours
// opens next; nothing in the engine calls it yet.
std::optional<Timestamp> next_callable(const CallingHours& hours, const std::string& zones,
                                       Timestamp from, ZoneCache& cache,
                                       std::chrono::hours horizon = std::chrono::hours(24 * 14));

// Parses "2026-11-23T15:00:00Z", "2026-11-23T10:00:00-05:00" or "2026-11-23 15:00" (UTC).
std::optional<Timestamp> parse_timestamp(const std::string& text);
std::string format_timestamp(Timestamp t);  // RFC 3339 in UTC

}  // namespace outpace
