// Small helpers shared by the results' text, HTML and call-log writers (not part of the
// store's or the CLI's contract).
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include <cctz/time_zone.h>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/records.h"

namespace outpace::results_detail {

// The list column of the number an attempt dialled: its own of a contact's several, else the
// campaign's one phone column ("" for a number dialled by hand on a campaign with several).
inline std::string number_label(const Campaign& c, const Attempt& a) {
    if (!a.number_label.empty()) return a.number_label;
    return c.phone_columns.empty() && a.origin != "manual" ? c.phone_column : std::string();
}

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : (a - b + 1) / b;
}

inline Timestamp at_ms(std::int64_t ms) {
    return Timestamp(Seconds(floor_div(ms, 1000)));
}

inline std::string percent(double f) {
    char b[16];
    std::snprintf(b, sizeof b, "%.1f%%", f * 100);
    return b;
}

inline std::string local_time(std::int64_t ms, const cctz::time_zone& tz) {
    if (ms == std::numeric_limits<std::int64_t>::min()) return "the first attempt";
    if (ms == std::numeric_limits<std::int64_t>::max()) return "now";
    return cctz::format("%Y-%m-%d %H:%M", at_ms(ms), tz);
}

inline const cctz::time_zone& zone_of(const std::string& name, cctz::time_zone& storage) {
    if (!cctz::load_time_zone(name, &storage)) storage = cctz::utc_time_zone();
    return storage;
}

}  // namespace outpace::results_detail
