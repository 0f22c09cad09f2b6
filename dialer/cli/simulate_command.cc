// outpace simulate SCENARIO.yaml [--json] [--policy NAME]: the pacing simulator.
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/duration.h"
#include "campaigns/json_text.h"
#include "campaigns/store.h"
#include "campaigns/yaml_reader.h"
#include "dialer/cli/commands.h"
#include "pacing/simulator.h"

namespace outpace::cli {
namespace {

using pacing::Distribution;

struct ScenarioReader {
    std::string file;
    std::vector<std::string> errors;

    void error(const YAML::Node& n, const std::string& msg) {
        auto m = n.Mark();
        errors.push_back(file + ":" + std::to_string(m.line + 1) + ":" +
                         std::to_string(m.column + 1) + ": " + msg);
    }
    bool keys(const YAML::Node& n, const std::string& what, std::set<std::string> allowed) {
        if (!n.IsMap()) {
            error(n, what + " must be a mapping");
            return false;
        }
        for (const auto& kv : n)
            if (!allowed.count(kv.first.as<std::string>()))
                error(kv.first, "unknown key '" + kv.first.as<std::string>() + "' in " + what);
        return true;
    }
    double seconds(const YAML::Node& n, const std::string& what) {
        auto d = n.IsScalar() ? parse_duration(n.Scalar()) : std::nullopt;
        if (!d) {
            error(n, what + " must be a duration with a unit (20s, 2h)");
            return 0;
        }
        return d->count() / 1000.0;
    }
    double number(const YAML::Node& n, const std::string& what, double lo, double hi) {
        double v = 0;
        try {
            v = n.as<double>();
        } catch (const YAML::Exception&) {
            error(n, what + " must be a number");
            return lo;
        }
        if (v < lo || v > hi)
            error(n,
                  what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
        return v;
    }
    Distribution dist(const YAML::Node& n, const std::string& what) {
        if (!n.IsMap() || !n["dist"]) {
            error(n, what + " must be a distribution like {dist: lognormal, mean: 120s, cv: 1.0}");
            return Distribution::fixed(0);
        }
        const std::string kind = n["dist"].as<std::string>();
        if (kind == "fixed" && keys(n, what, {"dist", "value"}) && n["value"])
            return Distribution::fixed(seconds(n["value"], what + ".value"));
        if (kind == "uniform" && keys(n, what, {"dist", "min", "max"}) && n["min"] && n["max"])
            return Distribution::uniform(seconds(n["min"], what + ".min"),
                                         seconds(n["max"], what + ".max"));
        if (kind == "exponential" && keys(n, what, {"dist", "mean"}) && n["mean"])
            return Distribution::exponential(seconds(n["mean"], what + ".mean"));
        if (kind == "lognormal" && keys(n, what, {"dist", "mean", "cv"}) && n["mean"] && n["cv"])
            return Distribution::lognormal(seconds(n["mean"], what + ".mean"),
                                           number(n["cv"], what + ".cv", 0.01, 10));
        if (kind == "mixture" && keys(n, what, {"dist", "of"}) && n["of"].IsSequence()) {
            std::vector<std::pair<double, Distribution>> parts;
            for (const auto& part : n["of"]) {
                YAML::Node copy = YAML::Clone(part);
                double w = part["weight"] ? number(part["weight"], what + ".weight", 0, 1e9) : 1;
                copy.remove("weight");
                parts.emplace_back(w, dist(copy, what + ".of[]"));
            }
            if (!parts.empty()) return Distribution::mixture(std::move(parts));
        }
        error(n, what + ": unknown or incomplete distribution '" + kind +
                     "' (fixed, uniform, exponential, lognormal, mixture)");
        return Distribution::fixed(0);
    }
};

pacing::Mode mode_from(const std::string& s, bool& ok) {
    ok = true;
    if (s == "predictive") return pacing::Mode::predictive;
    if (s == "progressive") return pacing::Mode::progressive;
    if (s == "power") return pacing::Mode::power;
    if (s == "preview") return pacing::Mode::preview;
    ok = false;
    return pacing::Mode::predictive;
}

std::optional<pacing::Scenario> read_scenario(const std::string& path, const std::string& text,
                                              std::vector<std::string>& errors) {
    ScenarioReader r{path, {}};
    pacing::Scenario sc;
    Diagnostics parse_errors;
    const auto document = load_yaml_document(text, path, parse_errors);
    if (!document) {
        for (const auto& e : parse_errors) errors.push_back(e.to_string());
        return std::nullopt;
    }
    const YAML::Node& root = *document;
    try {
        if (r.keys(root, "the scenario",
                   {"agents", "duration", "seed", "campaign", "calls", "changes",
                    "second_campaign"})) {
            if (root["agents"])
                sc.agents = static_cast<int>(r.number(root["agents"], "agents", 1, 100000));
            if (root["duration"]) sc.duration_s = r.seconds(root["duration"], "duration");
            if (root["seed"]) sc.seed = root["seed"].as<std::uint64_t>();
            if (auto c = root["campaign"];
                c && r.keys(c, "campaign",
                            {"mode", "ratio", "max_abandon_rate", "abandon_window", "ring_timeout",
                             "connect_grace", "min_agents_predictive", "max_lines_per_agent",
                             "amd_false_positive_rate", "on_machine"})) {
                bool ok = true;
                if (c["mode"]) sc.pacing.mode = mode_from(c["mode"].as<std::string>(), ok);
                if (!ok)
                    r.error(c["mode"], "mode must be predictive, progressive, power or preview");
                if (c["ratio"]) sc.pacing.power_ratio = r.number(c["ratio"], "ratio", 1, 10);
                if (c["max_abandon_rate"])
                    sc.pacing.max_abandon_rate =
                        r.number(c["max_abandon_rate"], "max_abandon_rate", 0, 0.03);
                if (c["abandon_window"]) {
                    sc.abandon_window_s = r.seconds(c["abandon_window"], "abandon_window");
                    if (sc.abandon_window_s != 86400 && sc.abandon_window_s != 30 * 86400)
                        r.error(c["abandon_window"], "abandon_window must be 24h or 30d");
                }
                if (c["ring_timeout"]) {
                    sc.pacing.ring_timeout_s = r.seconds(c["ring_timeout"], "ring_timeout");
                    if (sc.pacing.ring_timeout_s < 15)
                        r.error(c["ring_timeout"], "ring_timeout must be at least 15s");
                }
                if (c["connect_grace"])
                    sc.pacing.connect_grace_s = r.seconds(c["connect_grace"], "connect_grace");
                if (c["min_agents_predictive"])
                    sc.pacing.min_agents_predictive = static_cast<int>(
                        r.number(c["min_agents_predictive"], "min_agents_predictive", 1, 1e6));
                if (c["amd_false_positive_rate"])
                    sc.amd_false_positive_rate =
                        r.number(c["amd_false_positive_rate"], "amd_false_positive_rate", 0, 0.5);
                if (auto m = c["on_machine"]) {
                    // agent: a ready agent leaves the message (calls.machine_message long), and
                    // the pacer counts machines against the agents it expects free.
                    const auto v = m.IsScalar() ? m.Scalar() : "";
                    if (v == "agent" || v == "hangup")
                        sc.machines_to_agents = sc.pacing.machines_to_agents = v == "agent";
                    else
                        r.error(m, "on_machine must be hangup or agent");
                }
                if (c["max_lines_per_agent"])
                    sc.pacing.max_lines_per_agent =
                        r.number(c["max_lines_per_agent"], "max_lines_per_agent", 1, 10);
            }
            if (auto c = root["calls"];
                c && r.keys(c, "calls",
                            {"live_rate", "machine_rate", "fail_rate", "live_answer_delay",
                             "machine_answer_delay", "fail_delay", "amd_decision", "talk", "wrap",
                             "connect_grace", "machine_message"})) {
                if (c["live_rate"]) sc.live_rate = r.number(c["live_rate"], "live_rate", 0, 1);
                if (c["machine_rate"])
                    sc.machine_rate = r.number(c["machine_rate"], "machine_rate", 0, 1);
                if (c["fail_rate"]) sc.fail_rate = r.number(c["fail_rate"], "fail_rate", 0, 1);
                if (sc.live_rate + sc.machine_rate + sc.fail_rate > 1)
                    r.error(c, "live_rate + machine_rate + fail_rate must not exceed 1");
                if (c["live_answer_delay"])
                    sc.live_answer_delay = r.dist(c["live_answer_delay"], "live_answer_delay");
                if (c["machine_answer_delay"])
                    sc.machine_answer_delay =
                        r.dist(c["machine_answer_delay"], "machine_answer_delay");
                if (c["fail_delay"]) sc.fail_delay = r.dist(c["fail_delay"], "fail_delay");
                if (c["amd_decision"]) sc.amd_decision = r.dist(c["amd_decision"], "amd_decision");
                if (c["talk"]) sc.talk = r.dist(c["talk"], "talk");
                if (c["wrap"]) sc.wrap = r.dist(c["wrap"], "wrap");
                if (c["machine_message"])
                    sc.machine_message = r.dist(c["machine_message"], "machine_message");
                if (c["connect_grace"])
                    sc.pacing.connect_grace_s = r.seconds(c["connect_grace"], "connect_grace");
            }
            // Two campaigns on one team: the second's calls and each one's share of the agents.
            if (auto c = root["second_campaign"];
                c && r.keys(c, "second_campaign",
                            {"live_rate", "machine_rate", "fail_rate", "share", "first_share"})) {
                pacing::Scenario::SecondCampaign second;
                if (c["live_rate"]) second.live_rate = r.number(c["live_rate"], "live_rate", 0, 1);
                if (c["machine_rate"])
                    second.machine_rate = r.number(c["machine_rate"], "machine_rate", 0, 1);
                if (c["fail_rate"]) second.fail_rate = r.number(c["fail_rate"], "fail_rate", 0, 1);
                if (second.live_rate + second.machine_rate + second.fail_rate > 1)
                    r.error(c, "live_rate + machine_rate + fail_rate must not exceed 1");
                if (c["share"]) second.share = r.number(c["share"], "share", 0.01, 100);
                if (c["first_share"])
                    sc.share = r.number(c["first_share"], "first_share", 0.01, 100);
                sc.second = second;
            }
            if (auto ch = root["changes"]) {
                for (const auto& item : ch) {
                    if (!r.keys(item, "a change",
                                {"at", "live_rate", "machine_rate", "fail_rate", "agents"}))
                        continue;
                    pacing::ScenarioChange c;
                    if (item["at"])
                        c.at_s = r.seconds(item["at"], "at");
                    else
                        r.error(item, "a change needs 'at'");
                    if (item["live_rate"])
                        c.live_rate = r.number(item["live_rate"], "live_rate", 0, 1);
                    if (item["machine_rate"])
                        c.machine_rate = r.number(item["machine_rate"], "machine_rate", 0, 1);
                    if (item["fail_rate"])
                        c.fail_rate = r.number(item["fail_rate"], "fail_rate", 0, 1);
                    if (item["agents"])
                        c.agents = static_cast<int>(r.number(item["agents"], "agents", 0, 100000));
                    sc.changes.push_back(c);
                }
            }
        }
    } catch (const YAML::Exception& e) {
        r.errors.push_back(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    errors = r.errors;
    if (!errors.empty()) return std::nullopt;
    return sc;
}

nlohmann::json to_json(const pacing::SimResult& r) {
    return {{"policy", r.policy},
            {"occupancy", r.occupancy},
            {"talk_occupancy", r.talk_occupancy},
            {"abandon_rate", r.abandon_rate},
            {"abandoned", r.abandoned},
            {"estimated_false_positives", r.estimated_false_positives},
            {"live_answers", r.live_answers},
            {"dials", r.dials},
            {"machines", r.machines},
            {"fails", r.fails},
            {"no_answers", r.no_answers},
            {"agent_wait_mean_s", r.agent_wait_mean_s},
            {"agent_wait_p95_s", r.agent_wait_p95_s},
            {"max_window_abandon_rate", r.max_window_abandon_rate},
            {"windows_over_cap", r.windows_over_cap},
            {"occupancy_by_5min", r.occupancy_by_slice},
            {"connects_per_agent_hour", r.connects_per_agent_hour},
            {"ring_short_of_15s", r.ring_short_of_15s},
            {"decisions", r.decisions},
            {"logged_in_agent_hours", r.logged_in_agent_hours},
            {"machines_to_agents", r.machines_to_agents},
            {"campaigns", [&] {
                 auto a = nlohmann::json::array();
                 for (const auto& f : r.campaigns)
                     a.push_back({{"dials", f.dials},
                                  {"live_answers", f.live_answers},
                                  {"abandoned", f.abandoned},
                                  {"abandon_rate", f.abandon_rate},
                                  {"max_window_abandon_rate", f.max_window_abandon_rate},
                                  {"windows_over_cap", f.windows_over_cap}});
                 return a;
             }()}};
}

struct SimulateArgs {
    std::string file, policy;
    bool json = false;
    // --into-store: the simulated run becomes a campaign's history in a store's ledger.
    std::string store, campaign_file, ended_at, zone;
};

// Writes the simulated calls into the campaign's ledger as attempts of a run that ended at
// `end_ms`, each labelled as simulated (origin "simulated", a note, agents "sim-N", numbers from
// the fictional 555-01XX range): a demo's or a trial's "previous day", from which warm start
// learns and in which the abandon window finds the allowance that day earned.
int write_history(const SimulateArgs& a, const pacing::Scenario& sc, const pacing::SimResult& r) {
    auto load = load_campaign_file(a.campaign_file);
    for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
    if (!load.campaign) return 1;
    const Campaign& c = *load.campaign;
    std::int64_t end_ms = 0;
    if (a.ended_at.empty()) {
        end_ms = (static_cast<std::int64_t>(std::time(nullptr)) - 86'400) * 1000;
    } else if (auto t = parse_timestamp(a.ended_at)) {
        end_ms = static_cast<std::int64_t>(t->time_since_epoch().count()) * 1000;
    } else {
        std::cerr << "outpace: --ended-at must be a time like 2026-12-01T17:00:00Z\n";
        return 1;
    }
    const std::string zone = !a.zone.empty()               ? a.zone
                             : !c.default_timezone.empty() ? c.default_timezone
                                                           : "UTC";
    std::string error;
    auto store = Store::open(a.store, &error);
    if (!store) {
        std::cerr << "outpace: " << error
                  << " (simulated history is written before the engine starts)\n";
        return 1;
    }
    if (!store->load_campaign(c.name)) {
        std::ifstream in(a.campaign_file);
        std::stringstream yaml;
        yaml << in.rdbuf();
        std::error_code ec;
        const auto path = std::filesystem::absolute(a.campaign_file, ec).string();
        if (auto st = store->save_campaign(
                c.name, {ec ? a.campaign_file : path, yaml.str(), "simulate", 0});
            !st.ok()) {
            std::cerr << "outpace: " << st.error << "\n";
            return 1;
        }
    }
    const std::int64_t start_ms = end_ms - static_cast<std::int64_t>(sc.duration_s * 1000);
    auto ms = [](double s) { return static_cast<std::int64_t>(s * 1000); };
    auto batch = store->batch();
    const std::uint64_t first = store->reserve_attempt_ids(batch, r.calls.size());
    std::size_t n = 0;
    long connected = 0, abandoned = 0;
    for (const auto& call : r.calls) {
        // A person still waiting for an agent when the run ended was in flight: not history.
        if (call.result == pacing::DialResult::live && call.agent < 0 && !call.abandoned) continue;
        Attempt at;
        at.id = first + n;  // ids left by the skipped are never used
        at.campaign = c.name;
        // 555-0100 to 555-0199, the range kept for fiction, in ten area codes: a thousand
        // numbers, each dialled a few times as a day's list would be.
        static constexpr int kAreas[] = {202, 212, 213, 303, 312, 404, 415, 503, 617, 702};
        char phone[16];
        std::snprintf(phone, sizeof phone, "+1%d555%04zu", kAreas[(n / 100) % 10], 100 + n % 100);
        at.phone = phone;
        at.zones = zone;
        at.trunk = c.trunks.empty() ? std::string() : c.trunks.front().name;
        at.origin = "simulated";
        at.notes = "simulated history (outpace simulate --into-store)";
        at.started_ms = start_ms + ms(call.dial_s);
        at.ring_ms = ms(call.resolved_s - call.dial_s);
        std::int64_t end = at.started_ms + at.ring_ms;
        switch (call.result) {
            case pacing::DialResult::live:
            case pacing::DialResult::machine:
                at.sip_code = 200;
                at.amd_ms = ms(call.verdict_s - call.resolved_s);
                at.amd_verdict = call.result == pacing::DialResult::live ? "human" : "machine";
                end += at.amd_ms;
                if (call.result == pacing::DialResult::machine) {
                    at.outcome = Outcome::machine;
                } else if (call.agent >= 0) {
                    at.outcome = Outcome::connected;
                    at.agent = "sim-" + std::to_string(call.agent + 1);
                    at.talk_ms = ms(call.talk_s);
                    at.wrap_ms = ms(call.wrap_s);
                    end += at.talk_ms;
                    ++connected;
                } else {
                    at.outcome = Outcome::abandoned;
                    ++abandoned;
                }
                break;
            case pacing::DialResult::fail:
                at.outcome = Outcome::busy;
                at.sip_code = 486;
                break;
            case pacing::DialResult::no_answer:
                at.outcome = Outcome::no_answer;
                at.sip_code = 487;
                break;
        }
        at.decided = at.outcome;
        at.ended_ms = end;
        batch.put_attempt(at);
        ++n;
    }
    if (auto st = store->write(batch, true); !st.ok()) {
        std::cerr << "outpace: " << st.error << "\n";
        return 1;
    }
    std::cerr << "outpace: " << n << " simulated attempts (" << connected << " connected, "
              << abandoned << " abandoned) written to " << c.name << "'s ledger, "
              << format_timestamp(Timestamp(std::chrono::seconds(start_ms / 1000))) << " to "
              << format_timestamp(Timestamp(std::chrono::seconds(end_ms / 1000)))
              << ", labelled origin \"simulated\"\n";
    return 0;
}

int run_simulate(const SimulateArgs& a) {
    std::ifstream in(a.file);
    if (!in) {
        std::cerr << a.file << ": cannot open the file\n";
        return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> errors;
    auto sc = read_scenario(a.file, ss.str(), errors);
    for (const auto& e : errors) std::cerr << e << "\n";
    if (!sc) return 1;
    if (!a.policy.empty()) {
        bool ok;
        sc->pacing.mode = mode_from(a.policy, ok);
        if (!ok) {
            std::cerr << "outpace: --policy must be predictive, progressive, power or preview\n";
            return 1;
        }
    }
    sc->record_calls = !a.store.empty();
    const auto r = pacing::simulate(*sc);
    if (!a.store.empty()) return write_history(a, *sc, r);
    if (a.json) {
        std::cout << json_text(to_json(r)) << "\n";
        return 0;
    }
    std::printf("%s pacing, %d agents, %.1f h simulated\n", r.policy.c_str(), sc->agents,
                sc->duration_s / 3600);
    std::printf("  occupancy (talk+wrap)      %6.3f\n", r.occupancy);
    std::printf("  talk occupancy             %6.3f\n", r.talk_occupancy);
    std::printf("  dials                      %6ld\n", r.dials);
    std::printf("  live answers               %6ld\n", r.live_answers);
    std::printf("  abandoned                  %6ld  (%.2f%%, cap %.2f%%)\n", r.abandoned,
                r.abandon_rate * 100, sc->pacing.max_abandon_rate * 100);
    if (sc->amd_false_positive_rate > 0)
        std::printf(
            "    of which AMD false positives, estimated %6ld  (counted in live answers too)\n",
            r.estimated_false_positives);
    std::printf("  worst 24 h window          %6.2f%%\n", r.max_window_abandon_rate * 100);
    std::printf("  windows over the cap       %6d\n", r.windows_over_cap);
    std::printf("  agent wait mean / p95      %6.1f s / %.1f s\n", r.agent_wait_mean_s,
                r.agent_wait_p95_s);
    std::printf("  connects per agent-hour    %6.1f\n", r.connects_per_agent_hour);
    std::printf("  rang short of 15 s         %6ld\n", r.ring_short_of_15s);
    if (r.campaigns.size() > 1)
        for (std::size_t k = 0; k < r.campaigns.size(); ++k) {
            const auto& f = r.campaigns[k];
            std::printf(
                "  campaign %zu: %ld dials, %ld live, %ld abandoned (%.2f%%), %d hours over\n",
                k + 1, f.dials, f.live_answers, f.abandoned, 100 * f.abandon_rate,
                f.windows_over_cap);
        }
    return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_code) {
    auto a = std::make_shared<SimulateArgs>();
    auto* sim =
        app.add_subcommand("simulate", "Run the pacing code against modelled calls and agents");
    sim->add_option("scenario", a->file, "scenario YAML file")->required();
    sim->add_flag("--json", a->json, "print one JSON object");
    sim->add_option("--policy", a->policy,
                    "override the scenario's mode: predictive | progressive | power | preview");
    sim->add_option("--into-store", a->store,
                    "write the simulated calls into this store's ledger as --campaign's history "
                    "(labelled simulated): a demo's or a trial's previous day, for warm start and "
                    "the abandon window");
    sim->add_option("--campaign", a->campaign_file, "with --into-store: the campaign file");
    sim->add_option(
        "--ended-at", a->ended_at,
        "with --into-store: when the simulated run ended (RFC 3339; default: 24 h ago)");
    sim->add_option("--zone", a->zone,
                    "with --into-store: the callees' zone (default: the campaign's "
                    "timezone.default)");
    sim->callback([a, &exit_code] {
        if (!a->store.empty() && a->campaign_file.empty()) {
            std::cerr << "outpace: --into-store needs --campaign\n";
            exit_code = 2;
            return;
        }
        exit_code = run_simulate(*a);
    });
}

}  // namespace outpace::cli
