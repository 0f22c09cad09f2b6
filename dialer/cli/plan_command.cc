// outpace plan CAMPAIGN.yaml: how many agents and trunk lines finish a list by a date. Runs the
// pacing simulator with the campaign's own pacing settings and the list's expected calls (given,
// or learnt from the campaign's recent attempts in a store), then counts the campaign's calling
// days from a start date.
#include <cctz/civil_time.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/duration.h"
#include "campaigns/json_text.h"
#include "campaigns/store.h"
#include "dialer/cli/commands.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/engine/pacing_memory.h"
#include "pacing/plan.h"

namespace outpace::cli {
namespace {

struct PlanArgs {
    std::string campaign_file, data, agents, start, by, talk, wrap;
    long contacts = -1;
    double live = -1, machine = -1, fail = -1, hours_per_day = 8;
    std::uint64_t seed = 1;
    bool json = false;
};

std::optional<cctz::civil_day> parse_day(const std::string& text) {
    int y, m, d;
    char tail;
    if (std::sscanf(text.c_str(), "%d-%d-%d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
    const cctz::civil_day day(y, m, d);
    if (day.year() != y || day.month() != m || day.day() != d) return std::nullopt;
    return day;
}

std::string day_text(const cctz::civil_day& d) {
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02d-%02d", static_cast<int>(d.year()), d.month(),
                  d.day());
    return out;
}

// Agents to tabulate: "10", "5,10,20" or "5-40" (about eight steps).
std::optional<std::vector<int>> parse_agents(const std::string& text) {
    std::vector<int> out;
    int a = 0, b = 0;
    char dash = 0, tail = 0;
    if (std::sscanf(text.c_str(), "%d%c%d%c", &a, &dash, &b, &tail) == 3 && dash == '-') {
        if (a < 1 || b < a || b > 5000) return std::nullopt;
        const int step = std::max(1, (b - a) / 7);
        for (int n = a; n < b; n += step) out.push_back(n);
        out.push_back(b);
        return out;
    }
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const long n = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end || n < 1 || n > 5000) return std::nullopt;
        out.push_back(static_cast<int>(n));
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// The campaign's calling days from `start`: hours worked each day (the shift, at most the day's
// longest calling window; none on days without a window or on holidays), until `hours` are
// done. The last day is the day the list finishes.
cctz::civil_day finish_day(const Campaign& c, cctz::civil_day start, double hours,
                           double hours_per_day) {
    cctz::civil_day d = start;
    for (int i = 0; i < 3660 && hours > 1e-9; ++i, ++d) {
        const int wd = (static_cast<int>(cctz::get_weekday(d)) + 1) % 7;  // Sunday = 0
        if (std::find(c.hours.holidays.begin(), c.hours.holidays.end(), day_text(d)) !=
            c.hours.holidays.end())
            continue;
        double open = 0;
        for (const auto& w : c.hours.windows)
            if (w.days[static_cast<std::size_t>(wd)])
                open = std::max(open, (w.to_minute - w.from_minute) / 60.0);
        if (c.hours.windows.empty()) open = 24;
        const double worked = std::min(open, hours_per_day);
        if (worked <= 0) continue;
        hours -= worked;
        if (hours <= 1e-9) return d;
    }
    return d;
}

int run_plan(const PlanArgs& a) {
    auto load = load_campaign_file(a.campaign_file);
    for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
    if (!load.campaign) return 1;
    const Campaign& c = *load.campaign;

    pacing::PlanInput in;
    pacing::Scenario& sc = in.calls;
    sc.seed = a.seed;
    sc.pacing = campaign_pacing(c);  // as the engine paces it, before its trunk's caps
    const pacing::PacingConfig& pc = sc.pacing;
    sc.machines_to_agents = pc.machines_to_agents;
    sc.abandon_window_s = c.abandon_window <= Millis{86'400'000} ? 86400 : 30 * 86400;
    if (c.count_amd_false_positives) sc.amd_false_positive_rate = c.amd_false_positive_rate;
    in.max_attempts = c.max_attempts;
    in.hours_per_day = a.hours_per_day;

    // The list and its calls: from the command line, else the store.
    std::string source = "given";
    long contacts = a.contacts;
    if (!a.data.empty()) {
        auto store = read_store(a.data);
        if (!store) return 1;
        if (contacts < 0) {
            contacts = 0;
            store->for_each_contact(c.name, [&](const Contact& k) {
                contacts += k.state == ContactState::pending || k.state == ContactState::in_flight;
            });
        }
        pacing::Estimator est;
        const auto now_ms = static_cast<std::int64_t>(std::time(nullptr)) * 1000;
        if (const long n = learn_from_ledger(*store, c.name, now_ms - kWarmStartLookBackMs, est);
            n > 0) {
            source = "learnt from " + std::to_string(n) + " dials of the last 7 days";
            if (a.live < 0) sc.live_rate = est.share(pacing::DialResult::live);
            if (a.machine < 0) sc.machine_rate = est.share(pacing::DialResult::machine);
            if (a.fail < 0) sc.fail_rate = est.share(pacing::DialResult::fail);
            if (a.talk.empty() && est.talk().count() >= 20)
                sc.talk = pacing::Distribution::lognormal(est.talk().mean(), 1.0);
            if (a.wrap.empty() && est.wrap().count() >= 20)
                sc.wrap = pacing::Distribution::fixed(est.wrap().mean());
        } else if (a.live < 0) {
            std::cerr << "outpace: " << c.name
                      << " has no attempts of the last 7 days to learn from: give --live-rate\n";
            return 1;
        }
    } else if (a.live < 0) {
        std::cerr << "outpace: give --live-rate (or --data, to learn it from the campaign's "
                     "recent attempts)\n";
        return 1;
    }
    if (contacts < 0) {
        std::cerr << "outpace: give --contacts (or --data, to count the contacts left)\n";
        return 1;
    }
    in.contacts = contacts;
    if (a.live >= 0) sc.live_rate = a.live;
    if (a.machine >= 0) sc.machine_rate = a.machine;
    if (a.fail >= 0) sc.fail_rate = a.fail;
    for (const auto& [text, dist] : {std::pair{&a.talk, &sc.talk}, std::pair{&a.wrap, &sc.wrap}}) {
        if (text->empty()) continue;
        const auto d = parse_duration(*text);
        if (!d || d->count() <= 0) {
            std::cerr << "outpace: --talk and --wrap take a duration (2m, 45s)\n";
            return 1;
        }
        const double s = std::chrono::duration<double>(*d).count();
        *dist = dist == &sc.talk ? pacing::Distribution::lognormal(s, 1.0)
                                 : pacing::Distribution::fixed(s);
    }
    if (sc.live_rate + sc.machine_rate + sc.fail_rate > 1) {
        std::cerr << "outpace: live + machine + fail rates add up to more than 1\n";
        return 1;
    }

    cctz::civil_day start;
    if (!a.start.empty()) {
        auto d = parse_day(a.start);
        if (!d) {
            std::cerr << "outpace: --start must be a date like 2026-12-07\n";
            return 1;
        }
        start = *d;
    } else {
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        start = cctz::civil_day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    std::optional<cctz::civil_day> deadline;
    if (!a.by.empty()) {
        deadline = parse_day(a.by);
        if (!deadline || *deadline < start) {
            std::cerr << "outpace: --by must be a date like 2026-12-18, not before --start\n";
            return 1;
        }
    }

    auto finishes = [&](const pacing::PlanRow& r) {
        return std::isfinite(r.working_hours)
                   ? std::optional(finish_day(c, start, r.working_hours, in.hours_per_day))
                   : std::nullopt;
    };
    // The smallest team that finishes by the deadline: completion only comes sooner with more
    // agents, so doubling up to a team that does (at most 5,000), then a bisection below it.
    std::optional<pacing::PlanRow> needed;
    if (deadline) {
        auto in_time = [&](const pacing::PlanRow& r) {
            const auto f = finishes(r);
            return f && *f <= *deadline;
        };
        int lo = 1, hi = 1;
        for (;;) {
            auto r = pacing::plan_for(in, hi);
            if (in_time(r)) {
                needed = r;
                break;
            }
            if (hi >= 5000) break;
            lo = hi + 1;
            hi = std::min(5000, 2 * hi);
        }
        while (needed && lo < hi) {
            const int mid = (lo + hi) / 2;
            auto r = pacing::plan_for(in, mid);
            if (in_time(r))
                hi = mid, needed = r;
            else
                lo = mid + 1;
        }
    }
    std::vector<int> sizes;
    if (!a.agents.empty()) {
        auto parsed = parse_agents(a.agents);
        if (!parsed) {
            std::cerr << "outpace: --agents takes a number, a list (5,10,20) or a range (5-40)\n";
            return 1;
        }
        sizes = *parsed;
    } else if (needed) {
        const int n = needed->agents;
        for (int k : {n / 2, (3 * n) / 4, n, (5 * n) / 4, (3 * n) / 2})
            if (k >= 1 && (sizes.empty() || sizes.back() != k)) sizes.push_back(k);
    } else {
        sizes = {5, 10, 20, 50, 100};
    }
    std::vector<pacing::PlanRow> rows;
    for (int n : sizes) rows.push_back(needed && needed->agents == n ? *needed : plan_for(in, n));

    const char* mode = pc.mode == pacing::Mode::predictive    ? "predictive"
                       : pc.mode == pacing::Mode::progressive ? "progressive"
                       : pc.mode == pacing::Mode::power       ? "power"
                                                              : "preview";
    if (a.json) {
        auto row_json = [&](const pacing::PlanRow& r) {
            const auto f = finishes(r);
            return nlohmann::json{
                {"agents", r.agents},
                {"dials_per_hour", r.dials_per_hour},
                {"occupancy", r.occupancy},
                {"abandon_rate", r.abandon_rate},
                {"trunk_lines", r.peak_lines},
                {"working_hours", std::isfinite(r.working_hours) ? nlohmann::json(r.working_hours)
                                                                 : nlohmann::json()},
                {"finishes", f ? nlohmann::json(day_text(*f)) : nlohmann::json()},
                {"contacts_reached", r.contacts_reached},
                {"windows_over_cap", r.windows_over_cap}};
        };
        nlohmann::json j = {{"campaign", c.name},
                            {"mode", mode},
                            {"contacts", contacts},
                            {"max_attempts", in.max_attempts},
                            {"calls",
                             {{"live_rate", sc.live_rate},
                              {"machine_rate", sc.machine_rate},
                              {"fail_rate", sc.fail_rate},
                              {"talk_s", sc.talk.mean()},
                              {"wrap_s", sc.wrap.mean()},
                              {"source", source}}},
                            {"hours_per_day", in.hours_per_day},
                            {"start", day_text(start)},
                            {"rows", nlohmann::json::array()}};
        for (const auto& r : rows) j["rows"].push_back(row_json(r));
        if (deadline) {
            j["by"] = day_text(*deadline);
            j["needed"] = needed ? row_json(*needed) : nlohmann::json();
        }
        std::cout << json_text(j) << "\n";
        return 0;
    }
    std::printf(
        "%s (%s, abandon cap %.1f%%): %ld contacts left, at most %d attempts each\n"
        "calls (%s): live %.2f, machines %.2f, failures %.2f; talk %.0f s, wrap-up %.0f s\n"
        "from %s, %.1f h a day on the campaign's calling days; simulated with the engine's "
        "pacing code\n\n",
        c.name.c_str(), mode, 100 * pc.max_abandon_rate, contacts, in.max_attempts, source.c_str(),
        sc.live_rate, sc.machine_rate, sc.fail_rate, sc.talk.mean(), sc.wrap.mean(),
        day_text(start).c_str(), in.hours_per_day);
    std::printf("%7s %9s %9s %8s %6s %8s %7s  %s\n", "agents", "dials/h", "occupancy", "abandon",
                "lines", "hours", "reached", "finishes");
    for (const auto& r : rows) {
        const auto f = finishes(r);
        std::printf("%7d %9.0f %9.3f %7.2f%% %6d %8.1f %7ld  %s\n", r.agents, r.dials_per_hour,
                    r.occupancy, 100 * r.abandon_rate, r.peak_lines, r.working_hours,
                    r.contacts_reached, f ? day_text(*f).c_str() : "never");
    }
    if (deadline) {
        if (needed)
            std::printf(
                "\nto finish by %s: %d agents and %d trunk lines (occupancy %.3f, %.0f dials an "
                "hour, the list done on %s)\n",
                day_text(*deadline).c_str(), needed->agents, needed->peak_lines, needed->occupancy,
                needed->dials_per_hour, day_text(*finishes(*needed)).c_str());
        else
            std::printf("\n5,000 agents do not finish by %s\n", day_text(*deadline).c_str());
    }
    return 0;
}

}  // namespace

void add_plan_command(CLI::App& app, int& exit_code) {
    auto a = std::make_shared<PlanArgs>();
    auto* plan = app.add_subcommand(
        "plan",
        "Agents and trunk lines to finish a list by a date (simulated with the real pacer)");
    plan->add_option("campaign", a->campaign_file, "campaign file")->required();
    plan->add_option("--contacts", a->contacts, "contacts left to finish (default: --data's)");
    plan->add_option("--data", a->data,
                     "store: count the campaign's contacts left and learn its calls from its "
                     "attempts of the last 7 days");
    plan->add_option("--live-rate", a->live, "share of dials a person answers (0-1)")
        ->check(CLI::Range(0.0, 1.0));
    plan->add_option("--machine-rate", a->machine, "share of dials a machine answers (0.25)")
        ->check(CLI::Range(0.0, 1.0));
    plan->add_option("--fail-rate", a->fail, "share of dials that fail (busy, invalid: 0.15)")
        ->check(CLI::Range(0.0, 1.0));
    plan->add_option("--talk", a->talk, "mean conversation (2m)");
    plan->add_option("--wrap", a->wrap, "wrap-up (30s)");
    plan->add_option("--agents", a->agents,
                     "team sizes to tabulate: 10, 5,10,20 or 5-40 (default: around the answer)");
    plan->add_option("--hours-per-day", a->hours_per_day,
                     "dialling hours a day (8; at most the day's calling window)")
        ->check(CLI::Range(0.5, 24.0));
    plan->add_option("--start", a->start, "first day (default: today, UTC)");
    plan->add_option("--by", a->by, "deadline: the smallest team that finishes by this day");
    plan->add_option("--seed", a->seed, "the simulation's seed (1)");
    plan->add_flag("--json", a->json, "print one JSON object");
    plan->callback([a, &exit_code] { exit_code = run_plan(*a); });
}

}  // namespace outpace::cli
