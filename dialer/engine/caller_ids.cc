#include "dialer/engine/caller_ids.h"

#include <ctime>
#include <limits>

#include "campaigns/phone.h"

namespace outpace {

std::int64_t server_day_start_ms(std::int64_t unix_ms) {
    const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm local{};
    localtime_r(&t, &local);
    local.tm_hour = local.tm_min = local.tm_sec = 0;
    local.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&local)) * 1000;
}

std::int64_t server_day(std::int64_t unix_ms) {
    const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm local{};
    localtime_r(&t, &local);
    // Days since the epoch of the local calendar date (civil-from-days, Howard Hinnant's).
    const int y = local.tm_year + 1900 - (local.tm_mon < 2);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned m = static_cast<unsigned>(local.tm_mon + 1);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + local.tm_mday - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int CallerIdUsage::today(const std::string& number, std::int64_t day) const {
    if (day != day_) return 0;
    auto it = counts_.find(number);
    return it == counts_.end() ? 0 : it->second;
}

void CallerIdUsage::count(const std::string& number, std::int64_t day, int n) {
    if (day < day_) return;  // an old attempt seen at start: yesterday's
    if (day > day_) counts_.clear(), day_ = day;
    counts_[number] += n;
}

namespace {

// The region a number belongs to (US, CA, GB ...); the pool's numbers are asked again and
// again, so their answers are kept (a bounded cache: the pools' numbers and the last callees').
const std::string& region_of(const std::string& e164) {
    thread_local std::unordered_map<std::string, std::string> cache;
    if (auto it = cache.find(e164); it != cache.end()) return it->second;
    if (cache.size() > 100'000) cache.clear();
    return cache.emplace(e164, normalize_phone(e164, "US").region).first->second;
}

// How close `number` is to `callee`: 2 the same NANP area code, 1 the same country, 0 neither.
int nearness(const std::string& number, const std::string& callee,
             const std::string& callee_region) {
    if (number.rfind("+1", 0) == 0 && callee.rfind("+1", 0) == 0 && number.size() >= 5 &&
        callee.size() >= 5 && number.compare(0, 5, callee, 0, 5) == 0)
        return 2;
    return !callee_region.empty() && region_of(number) == callee_region ? 1 : 0;
}

}  // namespace

std::optional<std::string> choose_caller_id(const Campaign::CallerIdPool& pool,
                                            const std::string& callee, const CallerIdUsage& usage,
                                            std::int64_t day) {
    const std::string* best = nullptr;
    int best_near = -1, best_used = 0;
    const std::string callee_region =
        pool.local_presence ? normalize_phone(callee, "US").region : std::string();
    for (const auto& n : pool.numbers) {
        const int used = usage.today(n, day);
        if (pool.daily_limit > 0 && used >= pool.daily_limit) continue;
        const int near = pool.local_presence ? nearness(n, callee, callee_region) : 0;
        if (!best || near > best_near || (near == best_near && used < best_used))
            best = &n, best_near = near, best_used = used;
    }
    if (!best) return std::nullopt;
    return *best;
}

int caller_ids_left(const Campaign::CallerIdPool& pool, const CallerIdUsage& usage,
                    std::int64_t day) {
    if (pool.daily_limit <= 0) return std::numeric_limits<int>::max();
    long long left = 0;
    for (const auto& n : pool.numbers) left += std::max(0, pool.daily_limit - usage.today(n, day));
    return static_cast<int>(std::min<long long>(left, std::numeric_limits<int>::max()));
}

}  // namespace outpace
