// The HTML report: one self-contained file (inline CSS and SVG charts, no scripts, no fonts).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "campaigns/duration.h"
#include "campaigns/results.h"
#include "campaigns/results_detail.h"

namespace outpace {
namespace {

using namespace results_detail;

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
            // A dot at each value: a line of one point (a report of one hour) draws nothing.
            for (std::size_t i = 0; i < n && i < s.values.size(); ++i) {
                std::snprintf(b, sizeof b,
                              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
                              left + step * (i + 0.5), y(s.values[i]), s.color.c_str());
                o << b << html_escape(labels[i]) << ' ' << html_escape(s.name) << ": "
                  << (as_percent ? percent(s.values[i]) : axis_label(s.values[i], max, false))
                  << "</title></circle>";
            }
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
             "<th>abandoned</th><th>machines</th><th>AMD</th><th>talk s</th><th>wrap s</th>"
             "<th>occupancy</th></tr>";
        char b[64];
        for (const auto& [k, f] : rows) {
            o << "<tr><td>" << html_escape(k) << "</td><td>" << f.dials << "</td><td>" << f.live
              << "</td><td>" << percent(f.contact_rate()) << "</td><td>" << f.connected
              << "</td><td>" << percent(f.conversion()) << "</td><td>" << f.abandoned << "</td><td>"
              << f.machines + f.fax << "</td><td>" << percent(f.amd_share()) << "</td>";
            std::snprintf(b, sizeof b, "<td>%.1f</td><td>%.1f</td>", f.avg_talk_s(),
                          f.avg_wrap_s());
            o << b << "<td>" << (f.staffed_ms > 0 ? percent(f.occupancy()) : "-") << "</td></tr>";
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
            talk{"talking", "#2e8b57", {}}, wrap{"wrap-up", "#8fbc8f", {}},
            occupancy{"occupancy", "#5b7db1", {}};
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
            occupancy.values.push_back(f.occupancy());
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
          << svg_chart("Occupancy: talk and wrap-up / the agents' staffed time", labels,
                       {occupancy}, true, 0, true)
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

}  // namespace outpace
