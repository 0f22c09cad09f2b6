#include "campaigns/report.h"

#include "campaigns/abandon_window.h"
#include "campaigns/json_text.h"
#include "campaigns/text_encoding.h"

#include <array>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

namespace outpace {

// One thread's share of the attempts: what it counted, and its own caches.
struct SummaryBuilder::Part {
    CampaignReport r;
    // Counted by the enum and the verdict's first letter, named at the end (no string built
    // or looked up per attempt).
    std::array<std::size_t, kOutcomeCount> by_outcome{};
    std::map<std::string, std::size_t> verdicts;
    OpenAt open;
    // Attempts recorded before they kept their zones: (number, start), judged at the end by
    // their contact's zones.
    std::vector<std::pair<std::uint64_t, std::int64_t>> unzoned;
};

bool SummaryBuilder::OpenAt::operator()(const Campaign& campaign, const std::string& zones,
                                        std::int64_t started_ms) {
    // Calling-hours verdicts by (zone group, minute): windows open and close on whole local
    // minutes, so one check answers every attempt started in that minute.
    auto [g, fresh_group] = group_index.emplace(zones, static_cast<std::uint32_t>(groups.size()));
    if (fresh_group) groups.push_back(zones);
    const std::int64_t minute =
        started_ms >= 0 ? started_ms / 60'000 : (started_ms - 59'999) / 60'000;
    const auto key =
        (static_cast<std::uint64_t>(g->second) << 40) ^ static_cast<std::uint64_t>(minute);
    auto [it, fresh] = verdicts.emplace(key, true);
    if (fresh) {
        const Timestamp at{std::chrono::seconds(started_ms / 1000)};
        it->second = within_calling_hours(campaign.hours, zones, at, cache);
    }
    return it->second;
}

SummaryBuilder::SummaryBuilder(const Campaign& campaign, Timestamp now, bool checks,
                               std::size_t parts)
    : campaign_(campaign), now_ms_(now.time_since_epoch().count() * 1000), checks_(checks) {
    r_.checked = checks;
    r_.max_attempts = campaign.max_attempts;
    r_.campaign = campaign.name;
    r_.max_abandon_rate = campaign.max_abandon_rate;
    for (int s = 0; s <= static_cast<int>(ContactState::exhausted); ++s)
        r_.by_state[to_string(static_cast<ContactState>(s))] = 0;
    for (std::size_t p = 0; p < std::max<std::size_t>(parts, 1); ++p)
        parts_.push_back(std::make_unique<Part>());
}

SummaryBuilder::~SummaryBuilder() = default;

void SummaryBuilder::contact(const Contact& c) {
    ++r_.contacts;
    ++r_.by_state[to_string(c.state)];
    ++r_.by_last_outcome[c.last_outcome.empty() ? "never dialled" : c.last_outcome];
    if (!checks_) return;
    if (campaign_.max_attempts > 0 &&
        c.attempts > static_cast<std::uint32_t>(campaign_.max_attempts))
        ++r_.over_attempt_cap;
}

void SummaryBuilder::attempt(std::size_t part, const Attempt& a) {
    Part& p = *parts_[part];
    CampaignReport& r = p.r;
    ++r.attempts;
    if (checks_) {
        if (a.zones.empty())
            p.unzoned.emplace_back(phone_number_key(a.phone), a.started_ms);
        else if (!p.open(campaign_, a.zones, a.started_ms))
            ++r.outside_hours;
        if (a.outcome == Outcome::connected && !a.legs.empty()) {
            // A call that moved between agents: each is credited its own stretches with the
            // customer (talk and conference; a consult is not), and counts the call once.
            std::set<std::string> counted;
            for (const auto& leg : a.legs) {
                // Agents only: a number outside (kind outside, or an E.164 "agent") is no one's.
                if (leg.kind == "consult" || leg.kind == "outside" || leg.agent.rfind('+', 0) == 0)
                    continue;
                auto& t = r.agents[leg.agent];
                if (counted.insert(leg.agent).second) ++t.calls;
                t.talk_ms += leg.to_ms - leg.from_ms;
            }
            if (!a.agent.empty()) r.agents[a.agent].wrap_ms += a.wrap_ms;
        } else if (a.outcome == Outcome::connected && !a.agent.empty()) {
            auto& t = r.agents[a.agent];
            ++t.calls;
            t.talk_ms += a.talk_ms;
            t.wrap_ms += a.wrap_ms;
        }
    }
    if (a.in_flight()) {
        ++r.in_flight;
        return;
    }
    ++p.by_outcome[static_cast<std::size_t>(a.outcome)];
    if (!a.amd_verdict.empty()) ++p.verdicts[a.amd_verdict];
    // The engine's rolling window counts the same events by the same rule.
    const auto e = window_event(a);
    if (!e.counts()) return;
    for (auto* w : {&r.last_24h, &r.last_30d}) {
        const std::chrono::milliseconds span((w == &r.last_24h ? 1LL : 30LL) * 86'400'000);
        if (in_abandon_window(a.ended_ms, now_ms_, span)) {
            w->live_answers += e.live;
            w->abandoned += e.abandoned;
            w->machines += e.machine;
        }
    }
}

CampaignReport SummaryBuilder::finish(const Store& store) {
    // Attempts from before the ledger kept zones: their contact's zones, from one more pass
    // over the contacts (only when there are any).
    std::unordered_map<std::uint64_t, std::string> zones_of;
    for (const auto& part : parts_)
        for (const auto& [number, started] : part->unzoned) zones_of.emplace(number, std::string());
    if (!zones_of.empty()) {
        store.for_each_contact(campaign_.name, [&](const Contact& c) {
            if (auto it = zones_of.find(phone_number_key(c.phone)); it != zones_of.end())
                it->second = c.zones;
        });
        OpenAt open;
        for (const auto& part : parts_)
            for (const auto& [number, started] : part->unzoned)
                if (const auto& z = zones_of[number]; !z.empty() && !open(campaign_, z, started))
                    ++r_.outside_hours;
    }
    std::array<std::size_t, kOutcomeCount> by_outcome{};
    for (const auto& part : parts_) {
        const CampaignReport& p = part->r;
        r_.attempts += p.attempts;
        r_.in_flight += p.in_flight;
        r_.outside_hours += p.outside_hours;
        for (std::size_t o = 0; o < by_outcome.size(); ++o) by_outcome[o] += part->by_outcome[o];
        for (const auto& [v, n] : part->verdicts) r_.amd_verdicts[v] += n;
        for (const auto& [id, t] : p.agents) {
            auto& mine = r_.agents[id];
            mine.calls += t.calls;
            mine.talk_ms += t.talk_ms;
            mine.wrap_ms += t.wrap_ms;
        }
        for (auto [w, pw] : {std::pair{&r_.last_24h, &p.last_24h}, {&r_.last_30d, &p.last_30d}}) {
            w->live_answers += pw->live_answers;
            w->abandoned += pw->abandoned;
            w->machines += pw->machines;
        }
    }
    for (std::size_t o = 0; o < by_outcome.size(); ++o)
        if (by_outcome[o])
            r_.attempts_by_outcome[to_string(static_cast<Outcome>(o))] = by_outcome[o];
    if (campaign_.count_amd_false_positives)
        for (auto* w : {&r_.last_24h, &r_.last_30d})
            w->false_positive_rate = campaign_.amd_false_positive_rate;
    return std::move(r_);
}

CampaignReport build_report(const Store& store, const Campaign& campaign, Timestamp now,
                            bool checks) {
    SummaryBuilder b(campaign, now, checks, 2);
    store.for_each_contact(campaign.name, [&](const Contact& c) { b.contact(c); });
    store.for_each_attempt_split(campaign.name, 2,
                                 [&](std::size_t part, const Attempt& a) { b.attempt(part, a); });
    return b.finish(store);
}

std::string report_text(const CampaignReport& r) {
    std::ostringstream out;
    char buf[160];
    out << "campaign " << terminal_text(r.campaign) << ": " << r.contacts << " contacts, "
        << r.attempts << " attempts";
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
        if (w->false_positive_rate > 0) {
            std::snprintf(buf, sizeof buf,
                          "            counting %.1f estimated AMD false positives (%.2f%% of %zu "
                          "machine releases) as abandoned live answers\n",
                          w->false_positives(), w->false_positive_rate * 100, w->machines);
            out << buf;
        }
    }
    if (r.checked) {
        out << "\ncompliance checks\n";
        for (const auto* w : {&r.last_24h, &r.last_30d}) {
            std::snprintf(buf, sizeof buf, "  abandon rate, last %-4s %6.2f%% <= %.2f%%  %s\n",
                          w->window.c_str(), w->rate() * 100, r.max_abandon_rate * 100,
                          w->rate() <= r.max_abandon_rate ? "ok" : "FAILED");
            out << buf;
        }
        std::snprintf(buf, sizeof buf,
                      "  attempts outside calling hours (callee's time) %4zu  %s\n",
                      r.outside_hours, r.outside_hours == 0 ? "ok" : "FAILED");
        out << buf;
        std::snprintf(buf, sizeof buf, "  contacts over the attempt cap (%d) %15zu  %s\n",
                      r.max_attempts, r.over_attempt_cap,
                      r.over_attempt_cap == 0 ? "ok" : "FAILED");
        out << buf;
        if (!r.agents.empty()) {
            out << "\nagents (connected calls)\n";
            for (const auto& [id, t] : r.agents) {
                std::snprintf(buf, sizeof buf,
                              "  %-16s %5zu calls, talk %6.0f s (mean %.0f s), wrap-up %5.0f s\n",
                              terminal_text(id).c_str(), t.calls, t.talk_ms / 1000.0,
                              t.talk_ms / 1000.0 / static_cast<double>(t.calls),
                              t.wrap_ms / 1000.0);
                out << buf;
            }
        }
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
        j["abandon"][w->window] = {{"live_answers", w->live_answers},
                                   {"abandoned", w->abandoned},
                                   {"machines", w->machines},
                                   {"estimated_false_positives", w->false_positives()},
                                   {"rate", w->rate()}};
    if (r.checked) {
        j["compliance"] = {{"outside_calling_hours", r.outside_hours},
                           {"over_attempt_cap", r.over_attempt_cap}};
        for (const auto& [id, t] : r.agents)
            j["agents"][id] = {{"calls", t.calls}, {"talk_ms", t.talk_ms}, {"wrap_ms", t.wrap_ms}};
    }
    return json_text(j);
}

}  // namespace outpace
