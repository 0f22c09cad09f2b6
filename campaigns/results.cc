#include "campaigns/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <nlohmann/json.hpp>

#include "campaigns/abandon_window.h"
#include "campaigns/calling_hours.h"
#include "campaigns/csv.h"
#include "campaigns/duration.h"
#include "campaigns/json_text.h"

namespace outpace {
namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kQuarterMs = 15 * kMinuteMs;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : (a - b + 1) / b;
}

Timestamp at_ms(std::int64_t ms) {
    return Timestamp(Seconds(floor_div(ms, 1000)));
}

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

std::string percent(double f) {
    char b[16];
    std::snprintf(b, sizeof b, "%.1f%%", f * 100);
    return b;
}

std::string local_time(std::int64_t ms, const cctz::time_zone& tz) {
    if (ms == std::numeric_limits<std::int64_t>::min()) return "the first attempt";
    if (ms == std::numeric_limits<std::int64_t>::max()) return "now";
    return cctz::format("%Y-%m-%d %H:%M", at_ms(ms), tz);
}

const cctz::time_zone& zone_of(const std::string& name, cctz::time_zone& storage) {
    if (!cctz::load_time_zone(name, &storage)) storage = cctz::utc_time_zone();
    return storage;
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
            {"avg_wrap_s", f.avg_wrap_s()}};
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// A y-axis value: whole numbers on a tall axis, one decimal on a short one (2 calls an hour
// must not be labelled 2, 2, 1, 1, 0).
std::string axis_label(double v, double top, bool as_percent) {
    if (as_percent) return percent(v);
    char b[32];
    std::snprintf(b, sizeof b, top >= 20 ? "%.0f" : "%.1f", v);
    return b;
}

// An SVG chart: stacked bars, or lines, over `labels`, with an optional dashed cap line.
struct Series {
    std::string name, color;
    std::vector<double> values;
};

std::string svg_chart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<Series>& series, bool lines, double cap, bool as_percent) {
    const double W = 960, H = 280, left = 64, right = 16, top = 34, bottom = 56;
    const double pw = W - left - right, ph = H - top - bottom;
    const std::size_t n = labels.size();
    double max = cap;
    for (std::size_t i = 0; i < n; ++i) {
        double sum = 0;
        for (const auto& s : series) {
            const double v = i < s.values.size() ? s.values[i] : 0;
            sum = lines ? std::max(sum, v) : sum + v;
        }
        max = std::max(max, sum);
    }
    if (max <= 0) max = 1;
    max *= 1.1;
    auto y = [&](double v) { return top + ph - v / max * ph; };
    std::ostringstream o;
    char b[256];
    std::snprintf(b, sizeof b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                  "role=\"img\" aria-label=\"%s\">",
                  W, H, html_escape(title).c_str());
    o << b << "<text x=\"" << left << "\" y=\"20\" class=\"t\">" << html_escape(title) << "</text>";
    for (int g = 0; g <= 4; ++g) {
        const double v = max / 1.1 * g / 4;
        std::snprintf(b, sizeof b,
                      "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%s</text>",
                      left, W - right, y(v), y(v), left - 6, y(v) + 4,
                      axis_label(v, max / 1.1, as_percent).c_str());
        o << b;
    }
    const double step = n ? pw / static_cast<double>(n) : pw;
    if (lines) {
        for (const auto& s : series) {
            o << "<polyline fill=\"none\" stroke=\"" << s.color
              << "\" stroke-width=\"2\" points=\"";
            for (std::size_t i = 0; i < n && i < s.values.size(); ++i) {
                std::snprintf(b, sizeof b, "%.1f,%.1f ", left + step * (i + 0.5), y(s.values[i]));
                o << b;
            }
            o << "\"/>";
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            double base = 0;
            for (const auto& s : series) {
                const double v = i < s.values.size() ? s.values[i] : 0;
                if (v <= 0) continue;
                std::snprintf(b, sizeof b,
                              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                              "fill=\"%s\"><title>%s %s: %g</title></rect>",
                              left + step * i + step * 0.1, y(base + v), step * 0.8,
                              y(base) - y(base + v), s.color.c_str(),
                              html_escape(labels[i]).c_str(), html_escape(s.name).c_str(), v);
                o << b;
                base += v;
            }
        }
    }
    if (cap > 0) {
        std::snprintf(b, sizeof b,
                      "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" class=\"cap\"/>"
                      "<text x=\"%.0f\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">cap %s</text>",
                      left, W - right, y(cap), y(cap), W - right, y(cap) - 4, percent(cap).c_str());
        o << b;
    }
    const std::size_t every = std::max<std::size_t>(1, (n + 11) / 12);
    for (std::size_t i = 0; i < n; i += every) {
        std::snprintf(b, sizeof b,
                      "<text x=\"%.1f\" y=\"%.0f\" class=\"a\" text-anchor=\"middle\">",
                      left + step * (i + 0.5), H - bottom + 18);
        o << b << html_escape(labels[i].substr(5)) << "</text>";
    }
    double lx = left;
    for (const auto& s : series) {
        std::snprintf(b, sizeof b,
                      "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                      "<text x=\"%.0f\" y=\"%.0f\" class=\"a\">",
                      lx, H - 22, s.color.c_str(), lx + 16, H - 12);
        o << b << html_escape(s.name) << "</text>";
        lx += 24 + 7.5 * static_cast<double>(s.name.size());
    }
    o << "</svg>";
    return o.str();
}

}  // namespace

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
            ++failed;
            return;
    }
}

std::optional<ResultsBy> results_by(const std::string& name) {
    for (auto by : {ResultsBy::none, ResultsBy::hour, ResultsBy::day, ResultsBy::list,
                    ResultsBy::agent, ResultsBy::disposition, ResultsBy::trunk})
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

ResultsReport build_results(const Store& store, const Campaign& campaign,
                            const ResultsOptions& options) {
    ResultsReport r;
    r.campaign = campaign.name;
    r.by = options.by;
    r.max_abandon_rate = campaign.max_abandon_rate;
    r.abandon_window = campaign.abandon_window;
    r.zone = !options.zone.empty()                ? options.zone
             : !campaign.default_timezone.empty() ? campaign.default_timezone
                                                  : "UTC";
    cctz::time_zone tz_storage;
    const auto& tz = zone_of(r.zone, tz_storage);
    LocalLabels labels(tz);
    std::unordered_set<std::string> success;
    for (const auto& d : campaign.dispositions)
        if (d.success) success.insert(d.code);

    // Penetration of each list (to date), and which list each number came from (for --by list).
    std::unordered_map<std::string, const std::string*> list_of;
    store.for_each_contact(campaign.name, [&](const Contact& c) {
        auto& p = r.lists[c.source.empty() ? std::string("(unknown)") : c.source];
        ++p.loaded;
        if (c.attempts > 0) ++p.attempted;
        if (options.by == ResultsBy::list)
            list_of.emplace(c.phone,
                            &r.lists.find(c.source.empty() ? "(unknown)" : c.source)->first);
    });

    std::map<std::string, ResultFigures> groups;
    std::map<std::string, ResultFigures> hours;
    // Live answers and abandons by minute over the whole ledger: the rolling window before the
    // range's first hour counts too.
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> window_minutes;
    const double fp = campaign.count_amd_false_positives ? campaign.amd_false_positive_rate : 0.0;
    std::int64_t first_ms = std::numeric_limits<std::int64_t>::max(), last_ms = 0;
    store.for_each_attempt(campaign.name, [&](const Attempt& a) {
        if (options.hourly) {
            if (const auto e = window_event(a); e.counts()) {
                auto& m = window_minutes[floor_div(a.ended_ms, kMinuteMs)];
                // Ofcom's estimated false positives count as live answers and as abandons; kept
                // in thousandths so the sums stay whole.
                const std::int64_t extra = e.machine ? std::llround(fp * 1000) : 0;
                m.first += (e.live ? 1000 : 0) + extra;
                m.second += (e.abandoned ? 1000 : 0) + extra;
            }
        }
        if (a.started_ms < options.from_ms || a.started_ms >= options.to_ms) return;
        first_ms = std::min(first_ms, a.started_ms);
        last_ms = std::max(last_ms, a.started_ms);
        const bool won = a.outcome == Outcome::connected && success.count(a.disposition) > 0;
        r.total.add(a, won);
        if (options.hourly) hours[labels.hour(a.started_ms)].add(a, won);
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
                auto it = list_of.find(a.phone);
                key = it != list_of.end() ? *it->second : std::string("(not on a list)");
                break;
            }
            case ResultsBy::agent:
                key = a.agent.empty() ? "(no agent)" : a.agent;
                break;
            case ResultsBy::disposition:
                key = !a.disposition.empty() ? a.disposition
                                             : "(" + std::string(to_string(a.outcome)) + ")";
                break;
            case ResultsBy::trunk:
                key = a.trunk.empty() ? "(none)" : a.trunk;
                break;
        }
        groups[key].add(a, won);
    });
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
    return r;
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
    std::snprintf(b, sizeof b, "  %-24s %7s %6s %8s %9s %6s %9s %7s %8s %6s %7s %7s\n", "", "dials",
                  "live", "contact", "connected", "conv", "abandoned", "aband", "machines", "AMD",
                  "talk s", "wrap s");
    out << b;
    auto row = [&](const std::string& key, const ResultFigures& f) {
        const std::string k = last_chars(key, 24);
        std::snprintf(b, sizeof b, "  %-24s %7zu %6zu %8s %9zu %6s %9zu %7s %8zu %6s %7.1f %7.1f\n",
                      k.c_str(), f.dials, f.live, percent(f.contact_rate()).c_str(), f.connected,
                      percent(f.conversion()).c_str(), f.abandoned,
                      percent(f.abandon_rate()).c_str(), f.machines + f.fax,
                      percent(f.amd_share()).c_str(), f.avg_talk_s(), f.avg_wrap_s());
        out << b;
    };
    for (const auto& [k, f] : r.groups) row(k, f);
    row("total", r.total);
    if (r.total.in_flight) out << "  (" << r.total.in_flight << " attempts still in flight)\n";
    out << "  contact = live answers / finished dials; conv = success dispositions / connected;\n"
           "  AMD = machines and fax / answered; talk and wrap-up: means per connected call\n";
    if (!r.lists.empty()) {
        out << "\npenetration (contacts attempted / loaded, to date)\n";
        for (const auto& [list, p] : r.lists) {
            std::snprintf(b, sizeof b, "  %-40s %9zu loaded %9zu attempted %7s\n",
                          last_chars(list, 40).c_str(), p.loaded, p.attempted,
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
               "avg_talk_s,avg_wrap_s\n";
    char b[320];
    auto row = [&](const std::string& key, const ResultFigures& f) {
        std::snprintf(b, sizeof b,
                      ",%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%.4f,%.4f,%.4f,%.4f,%.1f,"
                      "%.1f\n",
                      f.dials, f.in_flight, f.answered, f.live, f.connected, f.abandoned,
                      f.machines, f.fax, f.no_answer, f.busy, f.failed, f.conversions,
                      f.contact_rate(), f.conversion(), f.amd_share(), f.abandon_rate(),
                      f.avg_talk_s(), f.avg_wrap_s());
        out << csv_field(r.campaign) << ',' << csv_field(key) << b;
    };
    for (const auto& [k, f] : r.groups) row(k, f);
    row("total", r.total);
    return out.str();
}

std::string results_html(const CampaignReport& s, const ResultsReport& r) {
    cctz::time_zone tz_storage;
    const auto& tz = zone_of(r.zone, tz_storage);
    std::ostringstream o;
    const std::string title = "Outpace report: " + r.campaign;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
      << html_escape(title)
      << "</title><style>"
         "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1000px}"
         "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
         "table{border-collapse:collapse;margin:8px 0}"
         "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
         "td:first-child,th:first-child{text-align:left}"
         ".over{color:#b00;font-weight:bold}svg{width:100%;height:auto;margin:12px 0}"
         ".t{font:bold 14px sans-serif}.a{font:11px sans-serif;fill:#444}"
         ".g{stroke:#e4e4e4}.cap{stroke:#b00;stroke-dasharray:6 4}"
         "</style></head><body>\n";
    o << "<h1>" << html_escape(title) << "</h1>\n<p>From " << html_escape(local_time(r.from_ms, tz))
      << " to " << html_escape(local_time(r.to_ms, tz)) << " (" << html_escape(r.zone) << "). "
      << s.contacts << " contacts, " << s.attempts << " attempts in the ledger.</p>\n";

    o << "<h2>Abandon rate (cap " << html_escape(percent(s.max_abandon_rate)) << ")</h2><table>"
      << "<tr><th>window</th><th>live answers</th><th>abandoned</th><th>rate</th></tr>";
    for (const auto* w : {&s.last_24h, &s.last_30d})
        o << "<tr><td>last " << html_escape(w->window) << "</td><td>" << w->live_answers
          << "</td><td>" << w->abandoned << "</td><td"
          << (w->rate() > s.max_abandon_rate ? " class=\"over\"" : "") << ">" << percent(w->rate())
          << "</td></tr>";
    o << "</table>\n";

    auto table = [&](const std::vector<std::pair<std::string, ResultFigures>>& rows,
                     const std::string& first) {
        o << "<table><tr><th>" << html_escape(first)
          << "</th><th>dials</th><th>live</th><th>contact</th><th>connected</th><th>conv</th>"
             "<th>abandoned</th><th>machines</th><th>AMD</th><th>talk s</th><th>wrap s</th></tr>";
        char b[64];
        for (const auto& [k, f] : rows) {
            o << "<tr><td>" << html_escape(k) << "</td><td>" << f.dials << "</td><td>" << f.live
              << "</td><td>" << percent(f.contact_rate()) << "</td><td>" << f.connected
              << "</td><td>" << percent(f.conversion()) << "</td><td>" << f.abandoned << "</td><td>"
              << f.machines + f.fax << "</td><td>" << percent(f.amd_share()) << "</td>";
            std::snprintf(b, sizeof b, "<td>%.1f</td><td>%.1f</td></tr>", f.avg_talk_s(),
                          f.avg_wrap_s());
            o << b;
        }
        o << "</table>\n";
    };
    o << "<h2>Results</h2>\n";
    auto rows = r.groups;
    rows.emplace_back("total", r.total);
    table(rows, r.by == ResultsBy::none ? "" : to_string(r.by));

    if (!r.hours.empty()) {
        std::vector<std::string> labels;
        Series dials{"dials", "#5b7db1", {}}, connected{"connected", "#2e8b57", {}},
            abandoned{"abandoned", "#c0392b", {}}, machines{"machine or fax", "#b07cc6", {}},
            no_answer{"no answer", "#aab4be", {}}, busy{"busy", "#e0a040", {}},
            failed{"failed", "#6d6d6d", {}}, rolling{"abandon rate over the window", "#c0392b", {}},
            talk{"talking", "#2e8b57", {}}, wrap{"wrap-up", "#8fbc8f", {}};
        for (const auto& h : r.hours) {
            const auto& f = h.figures;
            labels.push_back(h.label);
            dials.values.push_back(static_cast<double>(f.dials));
            connected.values.push_back(static_cast<double>(f.connected));
            abandoned.values.push_back(static_cast<double>(f.abandoned));
            machines.values.push_back(static_cast<double>(f.machines + f.fax));
            no_answer.values.push_back(static_cast<double>(f.no_answer));
            busy.values.push_back(static_cast<double>(f.busy));
            failed.values.push_back(static_cast<double>(f.failed));
            rolling.values.push_back(h.rolling_abandon_rate);
            talk.values.push_back(f.talk_ms / 3.6e6);
            wrap.values.push_back(f.wrap_ms / 3.6e6);
        }
        o << "<h2>By hour</h2>\n"
          << svg_chart("Dial rate (calls placed per hour)", labels, {dials}, false, 0, false)
          << "\n"
          << svg_chart("Outcomes by hour", labels,
                       {connected, abandoned, machines, no_answer, busy, failed}, false, 0, false)
          << "\n"
          << svg_chart("Abandon rate over the campaign's " + format_duration(r.abandon_window) +
                           " window, at each hour's end, against the cap",
                       labels, {rolling}, true, r.max_abandon_rate, true)
          << "\n"
          << svg_chart("Agent hours talking and in wrap-up, by the hour the call started", labels,
                       {talk, wrap}, false, 0, false)
          << "\n";
    }
    if (!r.lists.empty()) {
        o << "<h2>Penetration (contacts attempted / loaded, to date)</h2><table>"
             "<tr><th>list</th><th>loaded</th><th>attempted</th><th>rate</th></tr>";
        for (const auto& [list, p] : r.lists)
            o << "<tr><td>" << html_escape(list) << "</td><td>" << p.loaded << "</td><td>"
              << p.attempted << "</td><td>" << percent(p.rate()) << "</td></tr>";
        o << "</table>\n";
    }
    o << "<p>Made by outpace report. Contact rate: live answers / finished dials. Conversion: "
         "dispositions marked success / connected calls. AMD share: machines and fax / "
         "answered.</p>\n</body></html>\n";
    return o.str();
}

std::string recording_path(const Campaign& campaign, std::uint64_t attempt) {
    return campaign.resolve_path(campaign.recording_folder) + "/" + campaign.name + "/" +
           std::to_string(attempt) + ".wav";
}

std::size_t export_calls(const Store& store, const Campaign& campaign, std::int64_t from_ms,
                         std::int64_t to_ms, const std::vector<std::string>& fields,
                         ExportFormat format, std::ostream& out) {
    // The list and the chosen columns of every contact (only what the rows need).
    std::unordered_map<std::string, std::pair<std::string, std::vector<std::string>>> contacts;
    store.for_each_contact(campaign.name, [&](const Contact& c) {
        auto& [list, values] = contacts[c.phone];
        list = c.source;
        for (const auto& f : fields) {
            auto it = std::find_if(c.fields.begin(), c.fields.end(),
                                   [&](const auto& kv) { return kv.first == f; });
            values.push_back(it != c.fields.end() ? it->second : std::string());
        }
    });
    static const char* kColumns[] = {
        "attempt",  "started",     "ended",       "phone", "list",  "origin",   "outcome",
        "sip_code", "ring_s",      "amd_verdict", "amd_s", "agent", "talk_s",   "wrap_s",
        "hold_s",   "disposition", "callback_at", "notes", "trunk", "recording"};
    if (format == ExportFormat::csv) {
        bool first = true;
        for (const char* c : kColumns) out << (first ? "" : ",") << c, first = false;
        for (const auto& f : fields) out << ',' << csv_field(f);
        out << '\n';
    }
    auto when = [](std::int64_t ms) {
        return ms > 0 ? format_timestamp(at_ms(ms)) : std::string();
    };
    auto seconds = [](std::int64_t ms) {
        char b[32];
        std::snprintf(b, sizeof b, "%.1f", ms / 1000.0);
        return std::string(b);
    };
    std::size_t rows = 0;
    store.for_each_attempt(campaign.name, [&](const Attempt& a) {
        if (a.started_ms < from_ms || a.started_ms >= to_ms) return;
        std::string recording;
        if (campaign.record_calls) {
            std::error_code ec;
            const auto path = recording_path(campaign, a.id);
            if (std::filesystem::exists(path, ec)) recording = path;
        }
        const auto it = contacts.find(a.phone);
        const std::string list = it != contacts.end() ? it->second.first : std::string();
        const std::vector<std::string> values =
            it != contacts.end() ? it->second.second : std::vector<std::string>(fields.size());
        const std::vector<std::string> row = {
            std::to_string(a.id),
            when(a.started_ms),
            when(a.ended_ms),
            a.phone,
            list,
            a.origin.empty() ? "dialler" : a.origin,
            a.in_flight() ? "in flight" : to_string(a.outcome),
            a.sip_code ? std::to_string(a.sip_code) : "",
            seconds(a.ring_ms),
            a.amd_verdict,
            seconds(a.amd_ms),
            a.agent,
            seconds(a.talk_ms),
            seconds(a.wrap_ms),
            seconds(a.hold_ms),
            a.disposition,
            a.callback_at > 0 ? format_timestamp(Timestamp(Seconds(a.callback_at))) : "",
            a.notes,
            a.trunk,
            recording};
        if (format == ExportFormat::csv) {
            for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
            for (const auto& v : values) out << ',' << csv_field(v);
            out << '\n';
        } else {
            nlohmann::json j = nlohmann::json::object();
            for (std::size_t i = 0; i < row.size(); ++i) j[kColumns[i]] = row[i];
            j["attempt"] = a.id;
            j["sip_code"] = a.sip_code;
            for (const char* k : {"ring_s", "amd_s", "talk_s", "wrap_s", "hold_s"})
                j[k] = std::stod(j[k].get<std::string>());
            for (std::size_t i = 0; i < fields.size(); ++i) j["fields"][fields[i]] = values[i];
            out << json_text(j) << '\n';
        }
        ++rows;
    });
    return rows;
}

}  // namespace outpace
