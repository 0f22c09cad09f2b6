#include "campaigns/report.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

namespace outpace {

CampaignReport build_report(const Store& store, const Campaign& campaign, Timestamp now) {
    CampaignReport r;
    r.campaign = campaign.name;
    r.max_abandon_rate = campaign.max_abandon_rate;
    for (int s = 0; s <= static_cast<int>(ContactState::exhausted); ++s)
        r.by_state[to_string(static_cast<ContactState>(s))] = 0;
    store.for_each_contact(campaign.name, [&](const Contact& c) {
        ++r.contacts;
        ++r.by_state[to_string(c.state)];
        ++r.by_last_outcome[c.last_outcome.empty() ? "never dialled" : c.last_outcome];
    });
    const std::int64_t now_ms = now.time_since_epoch().count() * 1000;
    store.for_each_attempt(campaign.name, [&](const Attempt& a) {
        ++r.attempts;
        if (a.in_flight()) {
            ++r.in_flight;
            return;
        }
        ++r.attempts_by_outcome[to_string(a.outcome)];
        if (!a.amd_verdict.empty()) ++r.amd_verdicts[a.amd_verdict];
        const bool live = a.outcome == Outcome::connected || a.outcome == Outcome::abandoned;
        if (!live) return;
        for (auto* w : {&r.last_24h, &r.last_30d}) {
            const std::int64_t span_ms = (w == &r.last_24h ? 1LL : 30LL) * 86'400'000;
            if (a.ended_ms > now_ms - span_ms) {
                ++w->live_answers;
                w->abandoned += (a.outcome == Outcome::abandoned);
            }
        }
    });
    return r;
}

std::string report_text(const CampaignReport& r) {
    std::ostringstream out;
    char buf[160];
    out << "campaign " << r.campaign << ": " << r.contacts << " contacts, " << r.attempts
        << " attempts";
    if (r.in_flight) out << " (" << r.in_flight << " in flight)";
    out << "\n\ncontacts by state\n";
    for (const auto& [k, v] : r.by_state) {
        std::snprintf(buf, sizeof buf, "  %-20s %10zu\n", k.c_str(), v);
        out << buf;
    }
    out << "\ncontacts by last outcome\n";
    for (const auto& [k, v] : r.by_last_outcome) {
        std::snprintf(buf, sizeof buf, "  %-20s %10zu\n", k.c_str(), v);
        out << buf;
    }
    if (!r.attempts_by_outcome.empty()) {
        out << "\nattempts by outcome\n";
        for (const auto& [k, v] : r.attempts_by_outcome) {
            std::snprintf(buf, sizeof buf, "  %-20s %10zu\n", k.c_str(), v);
            out << buf;
        }
    }
    if (!r.amd_verdicts.empty()) {
        out << "\nanswering-machine detection verdicts\n";
        for (const auto& [k, v] : r.amd_verdicts) {
            std::snprintf(buf, sizeof buf, "  %-20s %10zu\n", k.c_str(), v);
            out << buf;
        }
    }
    out << "\nabandon rate (cap " << r.max_abandon_rate * 100 << "%)\n";
    for (const auto* w : {&r.last_24h, &r.last_30d}) {
        std::snprintf(buf, sizeof buf,
                      "  last %-4s %6.2f%%  (%zu abandoned of %zu live answers)%s\n",
                      w->window.c_str(), w->rate() * 100, w->abandoned, w->live_answers,
                      w->rate() > r.max_abandon_rate ? "  OVER CAP" : "");
        out << buf;
    }
    return out.str();
}

std::string report_json(const CampaignReport& r) {
    nlohmann::json j;
    j["campaign"] = r.campaign;
    j["contacts"] = r.contacts;
    j["by_state"] = r.by_state;
    j["by_last_outcome"] = r.by_last_outcome;
    j["attempts"] = r.attempts;
    j["in_flight"] = r.in_flight;
    j["attempts_by_outcome"] = r.attempts_by_outcome;
    j["amd_verdicts"] = r.amd_verdicts;
    j["max_abandon_rate"] = r.max_abandon_rate;
    for (const auto* w : {&r.last_24h, &r.last_30d})
        j["abandon"][w->window] = {
            {"live_answers", w->live_answers}, {"abandoned", w->abandoned}, {"rate", w->rate()}};
    return j.dump();
}

}  // namespace outpace
