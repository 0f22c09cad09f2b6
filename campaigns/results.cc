#include "campaigns/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <future>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <nlohmann/json.hpp>

#include "campaigns/abandon_window.h"
#include "campaigns/calling_hours.h"
#include "campaigns/csv.h"
#include "campaigns/json_text.h"
#include "campaigns/results_detail.h"
#include "campaigns/text_encoding.h"

namespace outpace {
namespace {

using namespace results_detail;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kQuarterMs = 15 * kMinuteMs;

// Local hour and day labels of a time, cached by UTC quarter hour (every zone's offset is a
// whole number of quarter hours, so a quarter hour never straddles a local hour).
class LocalLabels {
  public:
    explicit LocalLabels(const cctz::time_zone& tz) : tz_(tz) {}
    const std::string& hour(std::int64_t ms) { return get(ms).first; }
    const std::string& day(std::int64_t ms) { return get(ms).second; }

  private:
    const std::pair<std::string, std::string>& get(std::int64_t ms) {
        const auto q = floor_div(ms, kQuarterMs);
        auto it = cache_.find(q);
        if (it != cache_.end()) return it->second;
        const auto h = cctz::convert(at_ms(q * kQuarterMs), tz_);
        char hour[32], day[16];
        std::snprintf(hour, sizeof hour, "%04d-%02d-%02d %02d:00", static_cast<int>(h.year()),
                      h.month(), h.day(), h.hour());
        std::snprintf(day, sizeof day, "%04d-%02d-%02d", static_cast<int>(h.year()), h.month(),
                      h.day());
        return cache_.emplace(q, std::pair{std::string(hour), std::string(day)}).first->second;
    }
    const cctz::time_zone& tz_;
    std::unordered_map<std::int64_t, std::pair<std::string, std::string>> cache_;
};

// The end of a long key (a list's path) for a fixed-width column, marked as cut.
std::string last_chars(const std::string& s, std::size_t width) {
    if (s.size() <= width) return s;
    std::size_t from = s.size() - (width - 1);
    while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
    std::string out("…");
    out.append(s, from, std::string::npos);
    return out;
}

nlohmann::json figures_json(const ResultFigures& f) {
    return {{"dials", f.dials},
            {"in_flight", f.in_flight},
            {"answered", f.answered},
            {"live_answers", f.live},
            {"connected", f.connected},
            {"abandoned", f.abandoned},
            {"machines", f.machines},
            {"fax", f.fax},
            {"no_answer", f.no_answer},
            {"busy", f.busy},
            {"failed", f.failed},
            {"conversions", f.conversions},
            {"contact_rate", f.contact_rate()},
            {"conversion_rate", f.conversion()},
            {"amd_share", f.amd_share()},
            {"abandon_rate", f.abandon_rate()},
            {"talk_ms", f.talk_ms},
            {"wrap_ms", f.wrap_ms},
            {"avg_talk_s", f.avg_talk_s()},
            {"avg_wrap_s", f.avg_wrap_s()},
            {"staffed_s", f.staffed_ms / 1000},
            {"paused_s", f.paused_ms / 1000},
            {"occupancy", f.occupancy()}};
}

// Staffed time is kept by UTC hour: the first hour a range starting at `from_ms` overlaps.
std::int64_t agent_time_from(std::int64_t from_ms) {
    constexpr std::int64_t kHour = 3'600'000;
    return from_ms > 0 ? from_ms - from_ms % kHour : from_ms;
}
}  // namespace

void ResultFigures::merge(const ResultFigures& o) {
    dials += o.dials;
    in_flight += o.in_flight;
    answered += o.answered;
    live += o.live;
    connected += o.connected;
    abandoned += o.abandoned;
    machines += o.machines;
    fax += o.fax;
    no_answer += o.no_answer;
    busy += o.busy;
    failed += o.failed;
    conversions += o.conversions;
    talk_ms += o.talk_ms;
    wrap_ms += o.wrap_ms;
    staffed_ms += o.staffed_ms;
    paused_ms += o.paused_ms;
}

void ResultFigures::add(const Attempt& a, bool success) {
    ++dials;
    switch (a.outcome) {
        case Outcome::none:
            ++in_flight;
            return;
        case Outcome::connected:
            ++answered;
            ++connected;
            if (a.amd_verdict != "machine") ++live;  // a machine an agent took is no person
            if (success) ++conversions;
            talk_ms += a.talk_ms;
            wrap_ms += a.wrap_ms;
            return;
        case Outcome::abandoned:
            ++answered;
            ++live;
            ++abandoned;
            return;
        case Outcome::machine:
            ++answered;
            ++machines;
            return;
        case Outcome::fax:
            ++answered;
            ++fax;
            return;
        case Outcome::no_answer:
            ++no_answer;
            return;
        case Outcome::busy:
            ++busy;
            return;
        case Outcome::failed:
        case Outcome::invalid:
        case Outcome::carrier_error:
        case Outcome::lost:
        case Outcome::declined:
            ++failed;
            return;
    }
}

std::optional<ResultsBy> results_by(const std::string& name) {
    for (auto by : {ResultsBy::none, ResultsBy::hour, ResultsBy::day, ResultsBy::list,
                    ResultsBy::agent, ResultsBy::disposition, ResultsBy::trunk, ResultsBy::number})
        if (name == to_string(by)) return by;
    return std::nullopt;
}

const char* to_string(ResultsBy by) {
    switch (by) {
        case ResultsBy::none:
            return "none";
        case ResultsBy::hour:
            return "hour";
        case ResultsBy::day:
            return "day";
        case ResultsBy::list:
            return "list";
        case ResultsBy::agent:
            return "agent";
        case ResultsBy::disposition:
            return "disposition";
        case ResultsBy::trunk:
            return "trunk";
        case ResultsBy::number:
            return "number";
    }
    return "none";
}

std::optional<std::int64_t> parse_report_time(const std::string& text, const std::string& zone,
                                              bool end_of_range) {
    cctz::time_zone tz;
    if (!cctz::load_time_zone(zone.empty() ? "UTC" : zone, &tz)) return std::nullopt;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    char sep = 0, tail = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3) {
        const cctz::civil_day day(y, mo, d);
        if (day.year() != y || day.month() != mo || day.day() != d) return std::nullopt;
        // A day given as the end of a range is included: the range ends at the next midnight.
        const auto start = cctz::convert(cctz::civil_second(end_of_range ? day + 1 : day), tz);
        return std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch())
            .count();
    }
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &tail) ==
            6 &&
        (sep == ' ' || sep == 'T')) {
        const cctz::civil_minute m(y, mo, d, h, mi);
        if (m.year() != y || m.month() != mo || m.day() != d || m.hour() != h || m.minute() != mi)
            return std::nullopt;
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   cctz::convert(cctz::civil_second(m), tz).time_since_epoch())
            .count();
    }
    if (auto t = parse_timestamp(text)) return t->time_since_epoch().count() * 1000;
    return std::nullopt;
}

// One thread's share of the attempts.
struct ResultsBuilder::Part {
    explicit Part(const cctz::time_zone& tz) : labels(tz) {}
    LocalLabels labels;
    ResultFigures total;
    std::map<std::string, ResultFigures> groups, hours;
    // Live answers and abandons by minute over the whole ledger: the rolling window before the
    // range's first hour counts too.
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> window_minutes;
    std::int64_t first_ms = std::numeric_limits<std::int64_t>::max(), last_ms = 0;
};

ResultsBuilder::ResultsBuilder(const Campaign& campaign, const ResultsOptions& options,
                               std::size_t parts)
    : campaign_(campaign), options_(options) {
    r_.campaign = campaign.name;
    r_.by = options.by;
    r_.max_abandon_rate = campaign.max_abandon_rate;
    r_.abandon_window = campaign.abandon_window;
    r_.zone = !options.zone.empty()                ? options.zone
              : !campaign.default_timezone.empty() ? campaign.default_timezone
                                                   : "UTC";
    zone_of(r_.zone, tz_);
    for (const auto& d : campaign.dispositions)
        if (d.success) success_.insert(d.code);
    fp_ = campaign.count_amd_false_positives ? campaign.amd_false_positive_rate : 0.0;
    for (std::size_t p = 0; p < std::max<std::size_t>(parts, 1); ++p)
        parts_.push_back(std::make_unique<Part>(tz_));
}

ResultsBuilder::~ResultsBuilder() = default;

void ResultsBuilder::contact(const Contact& c) {
    // Penetration of each list (to date), and which list each number came from (for --by list).
    auto& p = r_.lists[c.source.empty() ? std::string("(unknown)") : c.source];
    ++p.loaded;
    if (c.attempts > 0) ++p.attempted;
    if (options_.by == ResultsBy::list)
        list_of_.emplace(phone_number_key(c.phone),
                         &r_.lists.find(c.source.empty() ? "(unknown)" : c.source)->first);
}

void ResultsBuilder::attempt(std::size_t part, const Attempt& a) {
    Part& p = *parts_[part];
    const auto& options = options_;
    const auto& campaign = campaign_;
    auto& labels = p.labels;
    if (options.hourly) {
        if (const auto e = window_event(a); e.counts()) {
            auto& m = p.window_minutes[floor_div(a.ended_ms, kMinuteMs)];
            // Ofcom's estimated false positives count as live answers and as abandons; kept in
            // thousandths so the sums stay whole.
            const std::int64_t extra = e.machine ? std::llround(fp_ * 1000) : 0;
            m.first += (e.live ? 1000 : 0) + extra;
            m.second += (e.abandoned ? 1000 : 0) + extra;
        }
    }
    if (a.started_ms < options.from_ms || a.started_ms >= options.to_ms) return;
    p.first_ms = std::min(p.first_ms, a.started_ms);
    p.last_ms = std::max(p.last_ms, a.started_ms);
    const bool won = a.outcome == Outcome::connected && success_.count(a.disposition) > 0;
    p.total.add(a, won);
    if (options.hourly) p.hours[labels.hour(a.started_ms)].add(a, won);
    std::string key;
    switch (options.by) {
        case ResultsBy::none:
            return;
        case ResultsBy::hour:
            key = labels.hour(a.started_ms);
            break;
        case ResultsBy::day:
            key = labels.day(a.started_ms);
            break;
        case ResultsBy::list: {
            auto it = list_of_.find(phone_number_key(a.phone));
            key = it != list_of_.end() ? *it->second : std::string("(not on a list)");
            break;
        }
        case ResultsBy::agent:
            key = a.agent.empty() ? "(no agent)" : a.agent;
            break;
        case ResultsBy::disposition:
            if (!a.disposition.empty()) {
                key = a.disposition;
            } else {  // built in steps: GCC 12 warns (-Wrestrict) on "(" + string
                key = "(";
                key += to_string(a.outcome);
                key += ')';
            }
            break;
        case ResultsBy::trunk:
            key = a.trunk.empty() ? "(none)" : a.trunk;
            break;
        case ResultsBy::number:  // which of a person's numbers: mobile, home, work
            key = results_detail::number_label(campaign, a);
            if (key.empty()) key = "(dialled by hand)";
            break;
    }
    p.groups[key].add(a, won);
}

void ResultsBuilder::agent_time(const Store::AgentTime& t) {
    // Staffed time is kept by the hour: an hour counts whole when it overlaps the range, so a
    // range that starts within an hour (`--from 14:30`, a run's start) still has the time
    // staffed in that hour.
    if (t.hour_ms < agent_time_from(options_.from_ms) || t.hour_ms >= options_.to_ms) return;
    ResultFigures f;
    f.staffed_ms = t.staffed_ms;
    f.paused_ms = t.paused_ms;
    r_.total.merge(f);
    auto& labels = parts_.front()->labels;
    if (options_.hourly) agent_hours_[labels.hour(t.hour_ms)].merge(f);
    switch (options_.by) {
        case ResultsBy::hour:
            agent_groups_[labels.hour(t.hour_ms)].merge(f);
            break;
        case ResultsBy::day:
            agent_groups_[labels.day(t.hour_ms)].merge(f);
            break;
        case ResultsBy::agent:
            agent_groups_[t.agent].merge(f);
            break;
        default:  // lists, dispositions, trunks and numbers have no agent time of their own
            break;
    }
}

ResultsReport ResultsBuilder::finish() {
    auto& r = r_;
    const auto& options = options_;
    const auto& campaign = campaign_;
    const auto& tz = tz_;
    std::map<std::string, ResultFigures> groups = agent_groups_, hours = agent_hours_;
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> window_minutes;
    std::int64_t first_ms = std::numeric_limits<std::int64_t>::max(), last_ms = 0;
    for (const auto& part : parts_) {
        r.total.merge(part->total);
        for (const auto& [k, f] : part->groups) groups[k].merge(f);
        for (const auto& [k, f] : part->hours) hours[k].merge(f);
        for (const auto& [m, v] : part->window_minutes) {
            auto& mine = window_minutes[m];
            mine.first += v.first;
            mine.second += v.second;
        }
        first_ms = std::min(first_ms, part->first_ms);
        last_ms = std::max(last_ms, part->last_ms);
    }
    r.from_ms = options.from_ms;
    r.to_ms = options.to_ms;
    for (auto& [k, f] : groups) r.groups.emplace_back(k, f);

    if (options.hourly && !hours.empty()) {
        // Minute prefix sums, then each hour's window: minutes in (end - span, end].
        std::vector<std::int64_t> minutes;
        std::vector<std::pair<std::int64_t, std::int64_t>> sums{{0, 0}};
        for (const auto& [m, v] : window_minutes) {
            minutes.push_back(m);
            sums.push_back({sums.back().first + v.first, sums.back().second + v.second});
        }
        const std::int64_t span_min =
            std::max<std::int64_t>(1, campaign.abandon_window.count() / kMinuteMs);
        for (auto& [label, f] : hours) {
            ResultsReport::Hour h{label, f, 0};
            // The hour's end in UTC minutes, from its local label.
            int y = 0, mo = 0, d = 0, hh = 0;
            std::sscanf(label.c_str(), "%d-%d-%d %d", &y, &mo, &d, &hh);
            const auto end =
                cctz::convert(cctz::civil_second(cctz::civil_hour(y, mo, d, hh) + 1), tz);
            const std::int64_t end_min = floor_div(
                std::chrono::duration_cast<std::chrono::milliseconds>(end.time_since_epoch())
                        .count() -
                    1,
                kMinuteMs);
            auto index = [&](std::int64_t m) {  // count of minutes <= m
                return std::upper_bound(minutes.begin(), minutes.end(), m) - minutes.begin();
            };
            const auto hi = index(end_min), lo = index(end_min - span_min);
            const auto live = sums[hi].first - sums[lo].first;
            const auto ab = sums[hi].second - sums[lo].second;
            h.rolling_abandon_rate = live > 0 ? static_cast<double>(ab) / live : 0.0;
            r.hours.push_back(std::move(h));
        }
    }
    if (r.from_ms == std::numeric_limits<std::int64_t>::min() && r.total.dials)
        r.from_ms = first_ms;
    if (r.to_ms == std::numeric_limits<std::int64_t>::max() && r.total.dials) r.to_ms = last_ms + 1;
    return std::move(r_);
}

ResultsReport build_results(const Store& store, const Campaign& campaign,
                            const ResultsOptions& options) {
    ResultsBuilder b(campaign, options, 2);
    store.for_each_contact(campaign.name, [&](const Contact& c) { b.contact(c); });
    store.for_each_attempt_split(campaign.name, 2,
                                 [&](std::size_t part, const Attempt& a) { b.attempt(part, a); });
    store.for_each_agent_time(campaign.name, agent_time_from(options.from_ms), options.to_ms,
                              [&](const Store::AgentTime& t) { b.agent_time(t); });
    return b.finish();
}

std::pair<CampaignReport, ResultsReport> build_report_and_results(const Store& store,
                                                                  const Campaign& campaign,
                                                                  Timestamp now, bool checks,
                                                                  const ResultsOptions& options,
                                                                  std::size_t parts) {
    SummaryBuilder summary(campaign, now, checks, parts);
    ResultsBuilder results(campaign, options, parts);
    auto contacts = [&] {
        store.for_each_contact(campaign.name, [&](const Contact& c) {
            summary.contact(c);
            results.contact(c);
        });
    };
    // The attempts need nothing from the contacts but each number's list (--by list): else the
    // contacts are read at the same time, on a thread of their own (contact() and attempt()
    // touch different parts of the builders).
    std::future<void> alongside;
    if (options.by == ResultsBy::list)
        contacts();
    else
        alongside = std::async(std::launch::async, contacts);
    store.for_each_attempt_split(campaign.name, parts, [&](std::size_t part, const Attempt& a) {
        summary.attempt(part, a);
        results.attempt(part, a);
    });
    if (alongside.valid()) alongside.get();
    store.for_each_agent_time(campaign.name, agent_time_from(options.from_ms), options.to_ms,
                              [&](const Store::AgentTime& t) { results.agent_time(t); });
    return {summary.finish(store), results.finish()};
}

std::string results_text(const ResultsReport& r) {
    cctz::time_zone tz_storage;
    const auto& tz = zone_of(r.zone, tz_storage);
    std::ostringstream out;
    char b[256];
    out << "results from " << local_time(r.from_ms, tz) << " to " << local_time(r.to_ms, tz) << " ("
        << r.zone << ")";
    if (r.by != ResultsBy::none) out << ", by " << to_string(r.by);
    out << "\n";
    std::snprintf(b, sizeof b, "  %-24s %7s %6s %8s %9s %6s %9s %7s %8s %6s %7s %7s %6s\n", "",
                  "dials", "live", "contact", "connected", "conv", "abandoned", "aband", "machines",
                  "AMD", "talk s", "wrap s", "occ");
    out << b;
    auto row = [&](const std::string& key, const ResultFigures& f) {
        const std::string k = last_chars(terminal_text(key), 24);
        std::snprintf(
            b, sizeof b, "  %-24s %7zu %6zu %8s %9zu %6s %9zu %7s %8zu %6s %7.1f %7.1f %6s\n",
            k.c_str(), f.dials, f.live, percent(f.contact_rate()).c_str(), f.connected,
            percent(f.conversion()).c_str(), f.abandoned, percent(f.abandon_rate()).c_str(),
            f.machines + f.fax, percent(f.amd_share()).c_str(), f.avg_talk_s(), f.avg_wrap_s(),
            f.staffed_ms > 0 ? percent(f.occupancy()).c_str() : "-");
        out << b;
    };
    for (const auto& [k, f] : r.groups) row(k, f);
    row("total", r.total);
    if (r.total.in_flight) out << "  (" << r.total.in_flight << " attempts still in flight)\n";
    out << "  contact = live answers / finished dials; conv = success dispositions / connected;\n"
           "  AMD = machines and fax / answered; talk and wrap-up: means per connected call;\n"
           "  occ = talk and wrap-up / the agents' staffed time (in totals, and by hour, day, "
           "agent)\n";
    if (!r.lists.empty()) {
        out << "\npenetration (contacts attempted / loaded, to date)\n";
        for (const auto& [list, p] : r.lists) {
            std::snprintf(b, sizeof b, "  %-40s %9zu loaded %9zu attempted %7s\n",
                          last_chars(terminal_text(list), 40).c_str(), p.loaded, p.attempted,
                          percent(p.rate()).c_str());
            out << b;
        }
    }
    return out.str();
}

std::string results_json(const ResultsReport& r) {
    cctz::time_zone tz_storage;
    const auto& tz = zone_of(r.zone, tz_storage);
    nlohmann::json j;
    j["campaign"] = r.campaign;
    j["zone"] = r.zone;
    j["from"] = local_time(r.from_ms, tz);
    j["to"] = local_time(r.to_ms, tz);
    j["by"] = to_string(r.by);
    j["total"] = figures_json(r.total);
    j["groups"] = nlohmann::json::array();
    for (const auto& [k, f] : r.groups) {
        auto g = figures_json(f);
        g["key"] = k;
        j["groups"].push_back(g);
    }
    j["penetration"] = nlohmann::json::object();
    for (const auto& [list, p] : r.lists)
        j["penetration"][list] = {
            {"loaded", p.loaded}, {"attempted", p.attempted}, {"rate", p.rate()}};
    if (!r.hours.empty()) {
        j["hours"] = nlohmann::json::array();
        for (const auto& h : r.hours) {
            auto g = figures_json(h.figures);
            g["hour"] = h.label;
            g["rolling_abandon_rate"] = h.rolling_abandon_rate;
            j["hours"].push_back(g);
        }
    }
    return json_text(j);
}

std::string results_csv(const ResultsReport& r, bool header) {
    std::ostringstream out;
    if (header)
        out << "campaign," << (r.by == ResultsBy::none ? "group" : to_string(r.by))
            << ",dials,in_flight,answered,live_answers,connected,abandoned,machines,fax,no_answer,"
               "busy,failed,conversions,contact_rate,conversion_rate,amd_share,abandon_rate,"
               "avg_talk_s,avg_wrap_s,staffed_s,paused_s,occupancy\n";
    char b[320];
    auto row = [&](const std::string& key, const ResultFigures& f) {
        std::snprintf(b, sizeof b,
                      ",%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%.4f,%.4f,%.4f,%.4f,%.1f,"
                      "%.1f,%lld,%lld,%.4f\n",
                      f.dials, f.in_flight, f.answered, f.live, f.connected, f.abandoned,
                      f.machines, f.fax, f.no_answer, f.busy, f.failed, f.conversions,
                      f.contact_rate(), f.conversion(), f.amd_share(), f.abandon_rate(),
                      f.avg_talk_s(), f.avg_wrap_s(), static_cast<long long>(f.staffed_ms / 1000),
                      static_cast<long long>(f.paused_ms / 1000), f.occupancy());
        out << csv_field(r.campaign) << ',' << csv_field(key) << b;
    };
    for (const auto& [k, f] : r.groups) row(k, f);
    row("total", r.total);
    return out.str();
}

}  // namespace outpace
