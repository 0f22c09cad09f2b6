#include "campaigns/calling_hours.h"

#include <algorithm>
#include <cstdio>

namespace outpace {
namespace {

int weekday_index(cctz::weekday wd) {
    switch (wd) {
        case cctz::weekday::sunday:
            return 0;
        case cctz::weekday::monday:
            return 1;
        case cctz::weekday::tuesday:
            return 2;
        case cctz::weekday::wednesday:
            return 3;
        case cctz::weekday::thursday:
            return 4;
        case cctz::weekday::friday:
            return 5;
        case cctz::weekday::saturday:
            return 6;
    }
    return 0;
}

template <typename F>
bool for_each_zone(const std::string& zones, F&& f) {
    if (zones.empty()) return false;
    std::size_t start = 0;
    while (start <= zones.size()) {
        std::size_t end = zones.find('|', start);
        if (end == std::string::npos) end = zones.size();
        if (!f(zones.substr(start, end - start))) return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

void add_zones(std::string& zones, const std::string& more) {
    for_each_zone(more, [&](const std::string& zone) {
        bool have = false;
        for_each_zone(zones, [&](const std::string& z) { return !(have = z == zone); });
        if (!have && !zone.empty()) zones += (zones.empty() ? "" : "|") + zone;
        return true;
    });
}

namespace {

bool open_in_zone(const CallingHours& hours, const cctz::time_zone& tz, Timestamp at) {
    const auto local = cctz::convert(at, tz);
    const int minute = local.hour() * 60 + local.minute();
    const int day = weekday_index(cctz::get_weekday(cctz::civil_day(local)));
    if (!hours.holidays.empty()) {
        char date[16];
        std::snprintf(date, sizeof date, "%04d-%02d-%02d", static_cast<int>(local.year()),
                      local.month(), local.day());
        if (std::find(hours.holidays.begin(), hours.holidays.end(), date) != hours.holidays.end())
            return false;
    }
    for (const auto& w : hours.windows)
        if (w.days[day] && minute >= w.from_minute && minute < w.to_minute) return true;
    return false;
}

}  // namespace

const cctz::time_zone* ZoneCache::get(const std::string& name) {
    auto it = zones_.find(name);
    if (it == zones_.end()) {
        cctz::time_zone tz;
        std::optional<cctz::time_zone> loaded;
        if (!name.empty() && cctz::load_time_zone(name, &tz)) loaded = tz;
        it = zones_.emplace(name, loaded).first;
    }
    return it->second ? &*it->second : nullptr;
}

bool within_calling_hours(const CallingHours& hours, const std::string& zones, Timestamp at,
                          ZoneCache& cache) {
    return for_each_zone(zones, [&](const std::string& name) {
        const cctz::time_zone* tz = cache.get(name);
        return tz && open_in_zone(hours, *tz, at);
    });
}

std::optional<Timestamp> next_callable(const CallingHours& hours, const std::string& zones,
                                       Timestamp from, ZoneCache& cache,
                                       std::chrono::hours horizon) {
    // Windows open and close on whole local minutes; step to the next minute boundary, then
    // minute by minute (at most 20,160 checks over two weeks, only when rescheduling).
    if (within_calling_hours(hours, zones, from, cache)) return from;
    Timestamp t = std::chrono::floor<std::chrono::minutes>(from) + std::chrono::minutes(1);
    const Timestamp end = from + horizon;
    for (; t <= end; t += std::chrono::minutes(1))
        if (within_calling_hours(hours, zones, t, cache)) return t;
    return std::nullopt;
}

std::optional<Timestamp> parse_timestamp(const std::string& text) {
    cctz::time_point<cctz::seconds> tp;
    const cctz::time_zone utc = cctz::utc_time_zone();
    for (const char* fmt : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*SZ", "%Y-%m-%d %H:%M:%E*S",
                            "%Y-%m-%dT%H:%M%Ez", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M"}) {
        if (cctz::parse(fmt, text, utc, &tp)) return Timestamp{tp.time_since_epoch()};
    }
    return std::nullopt;
}

std::string format_timestamp(Timestamp t) {
    return cctz::format("%Y-%m-%dT%H:%M:%SZ", t, cctz::utc_time_zone());
}

}  // namespace outpace
