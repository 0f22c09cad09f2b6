#include "campaigns/call_log.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "campaigns/csv.h"
#include "campaigns/json_text.h"
#include "campaigns/results_detail.h"

namespace outpace {

using results_detail::at_ms;

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
        "attempt",     "started",  "ended",   "phone",         "dialled",    "phone_label",
        "list",        "origin",   "outcome", "sip_code",      "ring_s",     "amd_verdict",
        "amd_s",       "agent",    "talk_s",  "wrap_s",        "hold_s",     "disposition",
        "callback_at", "notes",    "trunk",   "trunk_address", "trunk_hops", "caller_id",
        "recording",   "monitored"};
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
        // The trunks (and addresses, for host-name trunks) tried before `trunk`, with the code
        // that moved the call on: "east 503", "east 192.0.2.10:5060 503".
        std::string hops;
        for (const auto& h : a.hops)
            hops += (hops.empty() ? "" : "; ") + h.trunk + (h.target.empty() ? "" : " ") +
                    h.target + " " + std::to_string(h.sip_code);
        // Supervisors who listened in: "boss listen 2026-12-01T19:10:20Z 15.0s; ...".
        std::string monitored;
        for (const auto& m : a.monitors)
            monitored += (monitored.empty() ? "" : "; ") + m.supervisor + " " + m.mode + " " +
                         when(m.from_ms) + " " + seconds(m.to_ms - m.from_ms) + "s";
        const auto it = contacts.find(a.phone);
        const std::string list = it != contacts.end() ? it->second.first : std::string();
        const std::vector<std::string> values =
            it != contacts.end() ? it->second.second : std::vector<std::string>(fields.size());
        const std::vector<std::string> row = {
            std::to_string(a.id),
            when(a.started_ms),
            when(a.ended_ms),
            a.phone,
            a.number(),
            results_detail::number_label(campaign, a),
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
            a.target,
            hops,
            a.caller_id,
            recording,
            monitored};
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
            j["monitored"] = nlohmann::json::array();
            for (const auto& m : a.monitors)
                j["monitored"].push_back({{"supervisor", m.supervisor},
                                          {"mode", m.mode},
                                          {"from", when(m.from_ms)},
                                          {"to", when(m.to_ms)}});
            for (std::size_t i = 0; i < fields.size(); ++i) j["fields"][fields[i]] = values[i];
            out << json_text(j) << '\n';
        }
        ++rows;
    });
    return rows;
}

}  // namespace outpace
