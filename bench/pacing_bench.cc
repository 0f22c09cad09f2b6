// Pacing figures for the pacing issue, in one run:
//   occupancy of predictive vs progressive over the scenario grid (agents x live rate), median of
//   several seeds, beside the oracle reference; abandon rate and windows over the cap;
//   first days at scale (the spread of the small teams' cells over many seeds, runs over the
//   cap); a step in live rate; decision cost at 500 agents / 2,000 calls; simulator speed.
// Usage: bench_pacing [--seeds N] [--hours H]
// Columns: occupancy (median over the seeds) against the reference and progressive; the median
// run's abandon rate and worst trailing-24 h rate; "over": runs in which any hourly check of the
// 30-day window (which holds the whole run) found it over the cap.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "pacing/plan.h"
#include "pacing/simulator.h"

using namespace outpace::pacing;
using Clock = std::chrono::steady_clock;

namespace {

// The oracle-tuned look-ahead policy's occupancy from the issue (true distributions known).
const std::map<std::pair<int, int>, double> kReference = {
    {{5, 10}, 0.757},   {{5, 20}, 0.820},   {{5, 40}, 0.882},  {{10, 10}, 0.840},
    {{10, 20}, 0.861},  {{10, 40}, 0.893},  {{20, 10}, 0.892}, {{20, 20}, 0.901},
    {{20, 40}, 0.916},  {{50, 10}, 0.939},  {{50, 20}, 0.942}, {{50, 40}, 0.947},
    {{100, 10}, 0.962}, {{100, 20}, 0.964}, {{100, 40}, 0.967}};

template <typename T>
T median(std::vector<T> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Mean occupancy over 5-minute slices [from, to) of each run, median over the runs.
double block(const std::vector<std::vector<double>>& v, std::size_t from, std::size_t to) {
    std::vector<double> x;
    for (const auto& r : v) {
        double sum = 0;
        for (std::size_t i = from; i < to && i < r.size(); ++i) sum += r[i];
        x.push_back(sum / double(to - from));
    }
    return median(x);
}

// One cell of the grid: `agents` on a list whose live rate is `live` %, for `seconds`.
Scenario cell(int agents, int live, double seconds, int seed) {
    Scenario sc;
    sc.agents = agents;
    sc.live_rate = live / 100.0;
    sc.duration_s = seconds;
    sc.seed = static_cast<std::uint64_t>(seed);
    return sc;
}

}  // namespace

int main(int argc, char** argv) {
    int seeds = 3;
    double hours = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--seeds")) seeds = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--hours")) hours = std::atof(argv[i + 1]);
    }
    std::printf(
        "machine: %u cores; %d seeds per cell, %.0f h each; reference scenario of the pacing "
        "issue\n",
        std::thread::hardware_concurrency(), seeds, hours);
    std::printf("%6s %5s | %9s %9s %7s | %9s %9s %9s %7s\n", "agents", "live", "reference",
                "predict.", "% ref", "progress.", "abandon", "worst24h", "over");
    for (int agents : {5, 10, 20, 50, 100}) {
        for (int live : {10, 20, 40}) {
            std::vector<double> occ, prog, ab, worst;
            std::vector<int> over;
            for (int seed = 1; seed <= seeds; ++seed) {
                Scenario sc = cell(agents, live, hours * 3600, seed);
                auto p = simulate(sc);
                occ.push_back(p.occupancy);
                ab.push_back(p.abandon_rate);
                worst.push_back(p.max_window_abandon_rate);
                over.push_back(p.windows_over_cap);
                sc.pacing.mode = Mode::progressive;
                prog.push_back(simulate(sc).occupancy);
            }
            const double ref = kReference.at({agents, live});
            const auto runs_over =
                std::count_if(over.begin(), over.end(), [](int n) { return n > 0; });
            std::printf("%6d %5.2f | %9.3f %9.3f %6.1f%% | %9.3f %8.2f%% %8.2f%% %3ld/%-3d\n",
                        agents, live / 100.0, ref, median(occ), 100 * median(occ) / ref,
                        median(prog), 100 * median(ab), 100 * median(worst),
                        static_cast<long>(runs_over), seeds);
        }
    }

    // First days at scale: the grid's 21 seeds are one sample of a noisy cell. For the small
    // teams, 20 sets of seeds (each its own median, as the grid prints it) give the spread of
    // that median, and every run is checked for an hour over the cap: a rare burst the grid's
    // few runs would not show.
    {
        const int sets = 20, per_set = std::max(seeds, 21);
        std::printf(
            "\nfirst days at scale: %d sets of %d seeds (8 h each); %% of the reference: lowest, "
            "median and highest set's median; runs with an hour over the cap, of all %d:\n",
            sets, per_set, sets * per_set);
        for (int agents : {5, 10}) {
            for (int live : {10, 20, 40}) {
                std::vector<double> set_medians(sets);
                std::vector<int> over(sets);
                std::vector<std::thread> threads;
                for (int t = 0; t < 2; ++t)
                    threads.emplace_back([&, t] {
                        for (int k = t; k < sets; k += 2) {
                            std::vector<double> occ;
                            for (int i = 1; i <= per_set; ++i) {
                                const auto r =
                                    simulate(cell(agents, live, hours * 3600, k * per_set + i));
                                occ.push_back(r.occupancy);
                                over[k] += r.windows_over_cap > 0;
                            }
                            set_medians[k] = median(occ);
                        }
                    });
                for (auto& t : threads) t.join();
                std::sort(set_medians.begin(), set_medians.end());
                const double ref = kReference.at({agents, live});
                int runs_over = 0;
                for (int n : over) runs_over += n;
                std::printf("%6d %5.2f | %6.1f%% %6.1f%% %6.1f%% | over the cap: %d\n", agents,
                            live / 100.0, 100 * set_medians.front() / ref,
                            100 * set_medians[sets / 2] / ref, 100 * set_medians.back() / ref,
                            runs_over);
            }
        }
    }

    // The long run: five 8-hour days back to back in one 30-day window, so the budget a small
    // team earns on its first day is there to spend on the next. Abandon rate over the five
    // days and occupancy, median over the seeds.
    std::printf(
        "\nlong run, 5 x 8 h in one 30-day window (abandon rate | occupancy, %% of ref):\n");
    std::printf("%6s %22s %22s %22s\n", "agents", "live 0.10", "live 0.20", "live 0.40");
    for (int agents : {5, 10, 20}) {
        std::printf("%6d", agents);
        for (int live : {10, 20, 40}) {
            std::vector<double> ab, occ;
            int over = 0;
            for (int seed = 1; seed <= seeds; ++seed) {
                auto r = simulate(cell(agents, live, 5 * hours * 3600, seed));
                ab.push_back(r.abandon_rate);
                occ.push_back(r.occupancy);
                over += r.windows_over_cap > 0;
            }
            std::printf("   %5.2f%% | %5.1f%% (%d)", 100 * median(ab),
                        100 * median(occ) / kReference.at({agents, live}), over);
        }
        std::printf("\n");
    }
    std::printf("(in brackets: runs with an hour over the cap)\n");

    // Step in live rate 0.20 -> 0.10 at 2 h, 20 agents: occupancy in 5-minute slices after it,
    // against a run at 0.10 throughout (median over seeds, slice by slice).
    {
        const int runs = std::max(20, seeds);
        std::vector<std::vector<double>> stepped, steady;
        int step_over = 0;
        double step_abandon = 0;
        for (int seed = 1; seed <= runs; ++seed) {
            Scenario sc;
            sc.duration_s = 4 * 3600;
            sc.seed = static_cast<std::uint64_t>(seed);
            sc.changes.push_back({2 * 3600.0, 0.10, std::nullopt, std::nullopt, std::nullopt});
            auto r = simulate(sc);
            step_over += r.windows_over_cap;
            step_abandon = std::max(step_abandon, r.abandon_rate);
            stepped.push_back(r.occupancy_by_slice);
            sc.changes.clear();
            sc.live_rate = 0.10;
            steady.push_back(simulate(sc).occupancy_by_slice);
        }
        const double level = block(steady, 24, 48);  // the same two hours at 0.10 throughout
        std::printf(
            "\nstep 0.20 -> 0.10 at 2h, 20 agents, %d seeds: windows over cap %d, worst abandon "
            "%.2f%%\n  occupancy at 0.10 throughout (same hours): %.3f; after the step, by 15 "
            "min:",
            runs, step_over, 100 * step_abandon, level);
        for (std::size_t b = 0; b < 4; ++b)
            std::printf(" %.3f", block(stepped, 24 + 3 * b, 27 + 3 * b));
        std::printf("; from 15 min to 2 h: %.3f (target: within 0.02 of steady from 15 min on)\n",
                    block(stepped, 27, 48));
    }

    // A restart in the middle of a campaign: 4 h, restart, 4 h, 20 agents at 0.20 live.
    // Occupancy in the 15 minutes after the restart against the same 15 minutes of the same
    // seeds without a restart (median over seeds), warm (the pacer resumes from its saved
    // state) and cold (it starts over, as before warm start).
    {
        const int runs = std::max(20, seeds);
        std::vector<std::vector<double>> none, warm, cold;
        int warm_over = 0, cold_over = 0;
        for (int seed = 1; seed <= runs; ++seed) {
            Scenario sc;
            sc.duration_s = 8 * 3600;
            sc.seed = static_cast<std::uint64_t>(seed);
            none.push_back(simulate(sc).occupancy_by_slice);
            sc.restart_at_s = 4 * 3600;
            auto w = simulate(sc);
            warm.push_back(w.occupancy_by_slice);
            warm_over += w.windows_over_cap;
            sc.warm_restart = false;
            auto c = simulate(sc);
            cold.push_back(c.occupancy_by_slice);
            cold_over += c.windows_over_cap;
        }
        std::printf(
            "\nrestart at 4 h of 8, 20 agents, live 0.20, %d seeds: occupancy in the 15 min after "
            "it: no restart %.3f, warm %.3f, cold %.3f (target: warm within 0.02); hours 4-8: "
            "no restart %.3f, warm %.3f, cold %.3f; windows over cap: warm %d, cold %d\n",
            runs, block(none, 48, 51), block(warm, 48, 51), block(cold, 48, 51),
            block(none, 48, 96), block(warm, 48, 96), block(cold, 48, 96), warm_over, cold_over);
    }

    // Two campaigns sharing 20 agents (live 0.10 and 0.30, shares 1:1), each agent counted by
    // one campaign's pacer at a time, against one campaign of 20 agents at the live rate the
    // two blended (live answers over dials of the shared run), median over the seeds.
    {
        const int runs = std::max(20, seeds);
        std::vector<double> shared_occ, single_occ, blend, ab0, ab1;
        int over = 0;
        for (int seed = 1; seed <= runs; ++seed) {
            Scenario sc;
            sc.seed = static_cast<std::uint64_t>(seed);
            sc.live_rate = 0.10;
            sc.second = Scenario::SecondCampaign{0.30, 0.25, 0.15, 1};
            const auto r = simulate(sc);
            shared_occ.push_back(r.occupancy);
            const double p = static_cast<double>(r.live_answers) / static_cast<double>(r.dials);
            blend.push_back(p);
            ab0.push_back(r.campaigns[0].abandon_rate);
            ab1.push_back(r.campaigns[1].abandon_rate);
            over += r.windows_over_cap > 0;
            Scenario one;
            one.seed = sc.seed;
            one.live_rate = p;
            single_occ.push_back(simulate(one).occupancy);
        }
        std::printf(
            "\ntwo campaigns sharing 20 agents (live 0.10 and 0.30, 1:1), %d seeds: occupancy "
            "%.3f against %.3f for one campaign at the blended %.3f (target: within 0.02); "
            "abandon rates %.2f%% and %.2f%%; runs with an hour over the cap %d\n",
            runs, median(shared_occ), median(single_occ), median(blend), 100 * median(ab0),
            100 * median(ab1), over);
    }

    // on_machine: agent. A machine answer takes a ready agent for a 25 s message; the pacer
    // counts the machines on their way against the agents it expects free, or (as before) not.
    {
        const int runs = std::max(20, seeds);
        for (int agents : {10, 20, 50}) {
            std::vector<double> occ[2], ab[2], worst[2];
            int over[2] = {0, 0};
            long taken = 0;
            for (int seed = 1; seed <= runs; ++seed)
                for (int counted = 0; counted < 2; ++counted) {
                    Scenario sc;
                    sc.agents = agents;
                    sc.seed = static_cast<std::uint64_t>(seed);
                    sc.machines_to_agents = true;
                    sc.pacing.machines_to_agents = counted == 1;
                    const auto r = simulate(sc);
                    occ[counted].push_back(r.occupancy);
                    ab[counted].push_back(r.abandon_rate);
                    worst[counted].push_back(r.max_window_abandon_rate);
                    over[counted] += r.windows_over_cap > 0;
                    taken += counted ? r.machines_to_agents : 0;
                }
            std::printf(
                "%s%3d agents, on_machine agent, %d seeds: not counted occupancy %.3f, abandons "
                "%.2f%% (worst 24 h %.2f%%, runs over %d) | counted %.3f, %.2f%% (%.2f%%, %d); "
                "%.0f machines a run to agents\n",
                agents == 10 ? "\nmachines taken by agents:\n" : "", agents, runs, median(occ[0]),
                100 * median(ab[0]), 100 * median(worst[0]), over[0], median(occ[1]),
                100 * median(ab[1]), 100 * median(worst[1]), over[1], double(taken) / runs);
        }
    }

    // outpace plan against the simulator's own long run: a finite list dialled until every
    // contact is final, against the plan's projection from two simulated days.
    {
        struct Case {
            int agents;
            double live;
            long contacts;
            int max_attempts;
        };
        std::printf("\nplan vs the long run (working hours to finish the list, 8 h days):\n");
        for (const Case& k :
             {Case{10, 0.20, 20000, 3}, Case{20, 0.10, 40000, 5}, Case{5, 0.40, 4000, 2}}) {
            PlanInput in;
            in.calls.live_rate = k.live;
            in.contacts = k.contacts;
            in.max_attempts = k.max_attempts;
            in.hours_per_day = 8;
            const PlanRow row = plan_for(in, k.agents);
            Scenario sc = in.calls;
            sc.agents = k.agents;
            sc.contacts = k.contacts;
            sc.max_attempts = k.max_attempts;
            sc.duration_s = 1e8;
            sc.seed = 11;
            const auto t0 = Clock::now();
            const SimResult run = simulate(sc);
            const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
            const double simulated_h = run.list_done_s / 3600;
            std::printf(
                "  %3d agents, live %.2f, %ld contacts, %d attempts: plan %.1f h, long run %.1f h "
                "(%+.1f%%; %.1f s to simulate), reached %ld vs %ld\n",
                k.agents, k.live, k.contacts, k.max_attempts, row.working_hours, simulated_h,
                100 * (row.working_hours - simulated_h) / simulated_h, secs, row.contacts_reached,
                run.contacts_reached);
        }
    }

    // 24 h window: days over the cap in 100 simulated 8-hour days, each day its own window.
    std::printf("\nabandon_window 24h, 100 days each:");
    for (int agents : {10, 20, 50}) {
        int days_over = 0;
        double worst = 0;
        for (int day = 1; day <= 100; ++day) {
            Scenario sc;
            sc.agents = agents;
            sc.abandon_window_s = 86400;
            sc.seed = static_cast<std::uint64_t>(1000 + day);
            auto r = simulate(sc);
            days_over += r.abandon_rate > sc.pacing.max_abandon_rate;
            worst = std::max(worst, r.abandon_rate);
        }
        std::printf("  %d agents: %d days over 3%% (worst %.2f%%);", agents, days_over,
                    100 * worst);
    }
    std::printf(" target <= 1 in 100\n\n");

    // Decision cost at 500 agents and 2,000 calls in flight.
    {
        Estimator est;
        for (int i = 0; i < 2000; ++i) {
            est.dial_resolved(i % 5 == 0   ? DialResult::live
                              : i % 5 == 1 ? DialResult::machine
                                           : DialResult::no_answer,
                              5 + i % 15);
            est.amd_decided(2.5);
            est.handled(30 + i % 300, 30);
        }
        Snapshot s;
        for (int i = 0; i < 500; ++i)
            s.agents.push_back({i % 10 == 0 ? AgentState::ready
                                : i % 3     ? AgentState::talking
                                            : AgentState::wrapup,
                                double(i % 200)});
        for (int i = 0; i < 2000; ++i) s.ringing_age_s.push_back(i % 19);
        s.window_live = 100000;
        s.window_abandoned = 1000;
        PacingConfig c;
        c.max_lines_per_agent = 10;
        auto policy = make_policy(c);
        std::vector<double> us;
        int calls = 0;
        for (int i = 0; i < 2000; ++i) {
            auto t = Clock::now();
            calls += policy->decide(s, est).calls;
            us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
        }
        std::printf(
            "decision cost, 500 agents, 2,000 calls in flight: median %.1f us (target <= 20 "
            "us)%s\n",
            median(us), calls < 0 ? "" : "");
    }

    // Simulator speed: simulated 8-hour days of 100 agents per CPU second.
    {
        Scenario sc;
        sc.agents = 100;
        auto t = Clock::now();
        const int runs = 3;
        for (int i = 0; i < runs; ++i) {
            sc.seed = static_cast<std::uint64_t>(i + 1);
            simulate(sc);
        }
        const double s = std::chrono::duration<double>(Clock::now() - t).count();
        std::printf(
            "simulator: %.1f simulated 8-hour days of 100 agents per second (target >= 1)\n",
            runs / s);
    }
    return 0;
}
