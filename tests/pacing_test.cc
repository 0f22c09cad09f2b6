// Pacing: each policy's arithmetic on hand-made snapshots, the abandon budget, and the
// simulator's accounting against a closed form.
#include <doctest/doctest.h>

#include <cmath>

#include "pacing/plan.h"
#include "pacing/policy.h"
#include "pacing/simulator.h"

using namespace outpace::pacing;

namespace {

Snapshot team(int ready, int talking, int ringing) {
    Snapshot s;
    for (int i = 0; i < ready; ++i) s.agents.push_back({AgentState::ready, 5});
    for (int i = 0; i < talking; ++i) s.agents.push_back({AgentState::talking, 30});
    for (int i = 0; i < ringing; ++i) s.ringing_age_s.push_back(3);
    return s;
}

// An estimator that has seen a steady list: 20% live after ~8 s, 25% machines, 15% fast
// failures, the rest ringing out at 20 s; calls of 150 s handle time.
Estimator learned() {
    Estimator est;
    for (int i = 0; i < 1000; ++i) {
        const int k = i % 20;
        if (k < 4)
            est.dial_resolved(DialResult::live, 6 + (i % 5));
        else if (k < 9)
            est.dial_resolved(DialResult::machine, 8 + (i % 5));
        else if (k < 12)
            est.dial_resolved(DialResult::fail, 3);
        else
            est.dial_resolved(DialResult::no_answer, 20);
        est.amd_decided(3);
    }
    for (int i = 0; i < 200; ++i) est.handled(60 + (i % 120), 30);
    return est;
}

}  // namespace

TEST_CASE("progressive dials one call per ready agent not covered by a call in flight") {
    auto s = team(3, 2, 1);
    CHECK(progressive_calls(s) == 2);
    s.live_waiting = 2;
    CHECK(progressive_calls(s) == 0);
    PacingConfig c;
    c.mode = Mode::progressive;
    CHECK(make_policy(c)->decide(team(4, 0, 0), Estimator()).calls == 4);
}

TEST_CASE("power dials ratio x ready agents, less what is in flight") {
    PacingConfig c;
    c.mode = Mode::power;
    c.power_ratio = 2.5;
    CHECK(make_policy(c)->decide(team(4, 3, 3), Estimator()).calls == 7);  // floor(10) - 3
    CHECK(make_policy(c)->decide(team(1, 3, 3), Estimator()).calls == 0);
}

TEST_CASE("preview dials only what agents asked for") {
    PacingConfig c;
    c.mode = Mode::preview;
    auto s = team(5, 0, 0);
    CHECK(make_policy(c)->decide(s, Estimator()).calls == 0);
    s.preview_requests = 2;
    CHECK(make_policy(c)->decide(s, Estimator()).calls == 2);
}

TEST_CASE("caps: lines per agent, calls per second, trunk concurrency, paused agents") {
    PacingConfig c;
    c.max_lines_per_agent = 2;
    auto s = team(3, 2, 4);  // 5 staffed agents -> at most 10 in flight, 4 already
    CHECK(apply_caps(100, s, c) == 6);
    s.agents.push_back({AgentState::paused, 10});  // paused agents add no lines
    CHECK(apply_caps(100, s, c) == 6);
    c.max_calls_per_second = 5;
    s.dials_last_second = 3;
    CHECK(apply_caps(100, s, c) == 2);
    c.max_trunk_calls = 5;
    s.trunk_in_flight = 4;
    CHECK(apply_caps(100, s, c) == 1);
    CHECK(apply_caps(-3, s, c) == 0);
}

TEST_CASE("the abandon budget throttles as the window's allowance is spent") {
    PacingConfig c;
    c.max_abandon_rate = 0.03;
    const double fresh = abandon_target(c, 1000, 0);
    CHECK(fresh > 0);
    CHECK(fresh < 0.03);
    CHECK(abandon_target(c, 1000, 29) < fresh);  // 2.9%: near the cap
    CHECK(abandon_target(c, 1000, 30) == 0);     // at the cap: progressive
    CHECK(abandon_target(c, 1000, 45) == 0);
    CHECK(abandon_target(c, 10, 0) < fresh);  // early window: little budget in hand
    CHECK(abandon_target(c, 0, 0) == 0);
    // The same 2.6% leaves less room early in a window, when a few abandons move the rate most.
    CHECK(abandon_target(c, 500, 13) < abandon_target(c, 50000, 1300));
    CHECK(abandon_target(c, 50000, 1300) > 0);
    c.max_abandon_rate = 0;
    CHECK(abandon_target(c, 1000, 0) == 0);
}

TEST_CASE("expected overflow of live answers over free agents") {
    CHECK(expected_overflow(5, 0, 3, 0) == doctest::Approx(2).epsilon(0.02));
    CHECK(expected_overflow(1, 0, 6, 0) == doctest::Approx(0).epsilon(0.001));
    // Equal means: sd * phi(0).
    CHECK(expected_overflow(10, 4, 10, 5) == doctest::Approx(3 * 0.398942).epsilon(0.001));
    CHECK(expected_overflow(12, 4, 10, 5) > expected_overflow(11, 4, 10, 5));
}

TEST_CASE("predictive starts progressive: cold start and small teams") {
    PacingConfig c;
    auto policy = make_policy(c);
    auto s = team(6, 10, 0);
    auto cold = policy->decide(s, Estimator());
    CHECK(cold.calls == 6);
    CHECK(std::string(cold.reason) == "cold start: progressive");
    auto small = policy->decide(team(2, 1, 0), learned());
    CHECK(small.calls == 2);
    CHECK(std::string(small.reason) == "small team: progressive");
}

TEST_CASE(
    "predictive dials ahead for agents about to be free, and holds back when the budget is gone") {
    PacingConfig c;
    auto policy = make_policy(c);
    Estimator est = learned();
    auto s = team(2, 18, 0);
    // Agents still talking will not be free in time: their 30 s wrap-up alone outlasts the
    // ~13 s until a new call's live answer needs one.
    s.window_live = 2000;
    s.window_abandoned = 10;
    CHECK(policy->decide(s, est).expected_free_agents == doctest::Approx(2));
    for (auto& a : s.agents)
        if (a.state == AgentState::talking)
            a.state = AgentState::wrapup, a.in_state_s = 25;  // 5 s left
    s.window_abandoned = 10;
    auto d = policy->decide(s, est);
    CHECK(d.expected_free_agents > 2);
    CHECK(d.calls > progressive_calls(s));
    CHECK(d.calls <= apply_caps(1000, s, c));

    s.window_abandoned = 60;  // 3%: the budget is spent
    auto spent = policy->decide(s, est);
    CHECK(spent.target_abandon == 0);
    CHECK(spent.calls == progressive_calls(s));

    // Calls already ringing count against the need.
    auto busy_lines = s;
    busy_lines.window_abandoned = 10;
    for (int i = 0; i < 30; ++i) busy_lines.ringing_age_s.push_back(2);
    CHECK(policy->decide(busy_lines, est).calls < d.calls);
}

TEST_CASE("the simulator is deterministic for a seed and its accounting adds up") {
    Scenario sc;
    sc.agents = 10;
    sc.duration_s = 2 * 3600;
    auto a = simulate(sc);
    auto b = simulate(sc);
    CHECK(a.dials == b.dials);
    CHECK(a.abandoned == b.abandoned);
    CHECK(a.occupancy == b.occupancy);
    // Every dial ends in exactly one outcome, except those still in flight at the end.
    const long ended = a.live_answers + a.machines + a.fails + a.no_answers;
    CHECK(ended <= a.dials);
    CHECK(a.dials - ended <= 3 * sc.agents);
    CHECK(a.abandoned <= a.live_answers);
    CHECK(a.ring_short_of_15s == 0);
    CHECK(a.occupancy > 0);
    CHECK(a.occupancy < 1);
    CHECK(a.talk_occupancy < a.occupancy);
    CHECK(a.logged_in_agent_hours == doctest::Approx(20));
    // Five-minute slices cover the run and average (equal staffing) to the whole-run occupancy.
    REQUIRE(a.occupancy_by_slice.size() == 24);
    double sum = 0;
    for (double x : a.occupancy_by_slice) sum += x;
    CHECK(sum / 24 == doctest::Approx(a.occupancy).epsilon(0.01));
}

TEST_CASE("progressive occupancy matches its closed form for exponential times") {
    Scenario sc;
    sc.agents = 40;
    sc.duration_s = 8 * 3600;
    sc.seed = 7;
    sc.pacing.mode = Mode::progressive;
    const double R = 20, m_live = 8, m_mach = 10, m_fail = 4, amd = 3, talk = 120, wrap = 30;
    sc.pacing.ring_timeout_s = R;
    sc.live_answer_delay = Distribution::exponential(m_live);
    sc.machine_answer_delay = Distribution::exponential(m_mach);
    sc.fail_delay = Distribution::exponential(m_fail);
    sc.amd_decision = Distribution::fixed(amd);
    sc.talk = Distribution::exponential(talk);
    sc.wrap = Distribution::exponential(wrap);
    auto r = simulate(sc);

    // One call at a time per idle agent: the idle time until a live answer is the attempts'
    // durations (geometric count) plus the wait for the next one-second pacing tick.
    auto answered = [&](double m) { return 1 - std::exp(-R / m); };
    auto mean_below = [&](double m) { return m - R * std::exp(-R / m) / answered(m); };
    const double pl = sc.live_rate * answered(m_live);
    const double pm = sc.machine_rate * answered(m_mach);
    const double pf = sc.fail_rate * (1 - std::exp(-R / m_fail));
    const double pn = 1 - pl - pm - pf;
    const double d_live = mean_below(m_live) + amd;
    const double d_other =
        (pm * (mean_below(m_mach) + amd) +
         pf * (m_fail - R * std::exp(-R / m_fail) / (1 - std::exp(-R / m_fail))) + pn * R) /
        (pm + pf + pn);
    const double tick_wait = 0.5;
    const double idle = (1 - pl) / pl * (d_other + tick_wait) + d_live + tick_wait;
    const double closed = (talk + wrap) / (talk + wrap + idle);
    INFO("simulated " << r.occupancy << ", closed form " << closed);
    CHECK(std::abs(r.occupancy - closed) < 0.02);
    CHECK(r.abandoned == 0);
}

TEST_CASE("predictive beats progressive on the reference scenario without breaking the cap") {
    Scenario sc;  // the reference: 20 agents, 8 h, live 0.20
    auto pred = simulate(sc);
    sc.pacing.mode = Mode::progressive;
    auto prog = simulate(sc);
    CHECK(pred.occupancy > prog.occupancy + 0.05);
    CHECK(pred.abandon_rate <= 0.03);
    CHECK(pred.ring_short_of_15s == 0);
}

TEST_CASE("the abandon budget keeps a call in hand and starts a fresh window near progressive") {
    PacingConfig c;
    c.max_abandon_rate = 0.03;
    // 35 live answers allow 1.05 abandons: the one in hand and a margin leave nothing to spend.
    CHECK(abandon_target(c, 35, 0) == 0);
    CHECK(abandon_target(c, 40, 0) > 0);
    // Spending speeds up as the allowance grows, and never aims above 95% of the cap.
    double last = 0;
    for (long live : {100L, 300L, 1000L, 3000L}) {
        const double t = abandon_target(c, live, 0);
        INFO(live << " live answers: " << t);
        CHECK(t > last);
        last = t;
    }
    CHECK(last < 0.95 * 0.03);
    CHECK(abandon_target(c, 100000, 0) == doctest::Approx(0.95 * 0.03));
    // A window that sits at 2.9% over 100,000 live answers still has 100 calls to spend.
    CHECK(abandon_target(c, 100000, 2900) > 0.02);
}

TEST_CASE("predictive learns how its model's abandons turn into real ones") {
    PacingConfig c;
    Estimator est = learned();
    auto snapshot = [](long live, long abandoned) {
        Snapshot s = team(3, 17, 0);
        for (int i = 3; i < 6; ++i) s.agents[i] = {AgentState::wrapup, 25};  // 5 s left
        s.window_live = live;
        s.window_abandoned = abandoned;
        return s;
    };
    // The window's history when pacing starts (earlier days) is not the model's doing.
    auto fresh = make_policy(c);
    const auto first = fresh->decide(snapshot(20000, 500), est);
    CHECK(first.calibration == doctest::Approx(4));
    CHECK(fresh->decide(snapshot(20000, 500), est).calibration == doctest::Approx(4));

    // Far more abandons than the model predicted: it holds back.
    auto burnt = make_policy(c);
    burnt->decide(snapshot(20000, 500), est);
    Decision d;
    for (int i = 1; i <= 20; ++i) d = burnt->decide(snapshot(20000 + 50 * i, 500 + 2 * i), est);
    CHECK(d.calibration > 8);
    CHECK(d.calls < first.calls);
    CHECK(d.calls >= progressive_calls(snapshot(0, 0)));

    // Thousands of live answers and no abandon: the model was cautious, and it may dial more.
    auto timid = make_policy(c);
    timid->decide(snapshot(20000, 500), est);
    for (int i = 1; i <= 40; ++i) d = timid->decide(snapshot(20000 + 100 * i, 500), est);
    CHECK(d.calibration < 3);
    CHECK(d.calls > first.calls);
}

TEST_CASE("abandon control under forced agent shortages: half the team leaves, the list livens") {
    // Agents log out and the live rate doubles while calls are in flight for the larger team:
    // the abandons that follow must not take any hour's window over the cap.
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Scenario sc;
        sc.duration_s = 4 * 3600;
        sc.seed = seed;
        sc.changes.push_back({3600.0, std::nullopt, std::nullopt, std::nullopt, 10});
        sc.changes.push_back({5400.0, 0.40, std::nullopt, std::nullopt, std::nullopt});
        sc.changes.push_back({7200.0, std::nullopt, std::nullopt, std::nullopt, 4});
        auto r = simulate(sc);
        INFO("seed " << seed << ": abandon " << r.abandon_rate << ", worst window "
                     << r.max_window_abandon_rate);
        CHECK(r.abandoned > 0);  // the shortages did bite
        CHECK(r.windows_over_cap == 0);
        CHECK(r.abandon_rate <= 0.03);
        // A policy with no abandon control, at the same pace, breaks the cap.
        sc.pacing.mode = Mode::power;
        sc.pacing.power_ratio = 3;
        CHECK(simulate(sc).windows_over_cap > 0);
    }
}

TEST_CASE("Ofcom: estimated AMD false positives spend the abandon budget, and the cap holds") {
    Scenario sc;
    sc.duration_s = 4 * 3600;
    sc.abandon_window_s = 86400;
    const auto plain = simulate(sc);
    sc.amd_false_positive_rate = 0.02;
    const auto ofcom = simulate(sc);
    // A quarter of dials are machines: at 2% the estimates alone use most of a 3% cap.
    const double estimated = 0.02 * static_cast<double>(ofcom.machines);
    INFO("machines " << ofcom.machines << ", abandoned " << ofcom.abandoned);
    CHECK(ofcom.estimated_false_positives == static_cast<long>(std::floor(estimated)));
    CHECK(ofcom.abandoned >= ofcom.estimated_false_positives);
    CHECK(plain.estimated_false_positives == 0);
    CHECK(ofcom.windows_over_cap == 0);
    CHECK(ofcom.abandon_rate <= 0.03);
    CHECK(ofcom.occupancy < plain.occupancy);  // less left for pacing to spend
    CHECK(ofcom.occupancy > simulate([&] {
                                auto p = sc;
                                p.pacing.mode = Mode::progressive;
                                return p;
                            }())
                                .occupancy);
}

TEST_CASE("plan: attempts per contact, and the projection against a finite list dialled out") {
    CHECK(expected_attempts(0.5, 1) == doctest::Approx(1));
    CHECK(expected_attempts(0.5, 2) == doctest::Approx(1.5));
    CHECK(expected_attempts(0.2, 0) == doctest::Approx(5));
    CHECK(expected_attempts(0.0, 4) == doctest::Approx(4));

    // A finite list: every contact ends reached or at its cap, and the run stops there.
    Scenario sc;
    sc.agents = 10;
    sc.contacts = 5000;
    sc.max_attempts = 3;
    sc.duration_s = 1e7;
    const auto run = simulate(sc);
    REQUIRE(run.list_done_s > 0);
    CHECK(run.dials <= 3 * 5000);
    CHECK(run.contacts_reached <= 5000);
    CHECK(run.contacts_reached == doctest::Approx(5000 * (1 - std::pow(0.8, 3))).epsilon(0.05));
    CHECK(run.peak_lines >= 10);

    PlanInput in;
    in.contacts = 5000;
    in.max_attempts = 3;
    in.hours_per_day = 8;
    const auto row = plan_for(in, 10);
    CHECK(row.working_hours * 3600 == doctest::Approx(run.list_done_s).epsilon(0.06));
    CHECK(row.contacts_reached == doctest::Approx(run.contacts_reached).epsilon(0.05));
}

TEST_CASE("two campaigns on one team: each agent counted once, split by share, caps held") {
    Scenario sc;
    sc.duration_s = 4 * 3600;
    sc.live_rate = 0.10;
    sc.second = Scenario::SecondCampaign{0.30, 0.25, 0.15, 1};
    const auto even = simulate(sc);
    REQUIRE(even.campaigns.size() == 2);
    CHECK(even.campaigns[0].dials + even.campaigns[1].dials == even.dials);
    CHECK(even.campaigns[0].live_answers + even.campaigns[1].live_answers == even.live_answers);
    for (const auto& f : even.campaigns) {
        CHECK(f.windows_over_cap == 0);
        CHECK(f.abandon_rate <= 0.03);
        CHECK(f.live_answers > 100);
    }
    // Each campaign's calls are its own list's: a tenth and three tenths of dials reach people.
    CHECK(double(even.campaigns[0].live_answers) / double(even.campaigns[0].dials) ==
          doctest::Approx(0.10).epsilon(0.1));
    CHECK(double(even.campaigns[1].live_answers) / double(even.campaigns[1].dials) ==
          doctest::Approx(0.30).epsilon(0.1));
    // Shares 3:1: the first campaign's pacer counts three agents in four, and reaches more
    // people than at 1:1.
    sc.share = 3;
    const auto weighted = simulate(sc);
    CHECK(weighted.campaigns[0].live_answers > 1.3 * even.campaigns[0].live_answers);
    CHECK(weighted.campaigns[1].live_answers < even.campaigns[1].live_answers);
    CHECK(weighted.windows_over_cap == 0);
    // The team is used as one: about as busy as one campaign at the blended live rate.
    Scenario one;
    one.duration_s = sc.duration_s;
    one.live_rate = double(even.live_answers) / double(even.dials);
    CHECK(even.occupancy == doctest::Approx(simulate(one).occupancy).epsilon(0.04));
}

TEST_CASE("on_machine agent: predictive counts the machines that will take its agents") {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Scenario sc;
        sc.agents = 50;
        sc.duration_s = 4 * 3600;
        sc.seed = seed;
        sc.machines_to_agents = true;
        const auto blind = simulate(sc);
        sc.pacing.machines_to_agents = true;
        const auto counted = simulate(sc);
        INFO("seed " << seed << ": blind " << blind.occupancy << " " << blind.abandon_rate
                     << ", counted " << counted.occupancy << " " << counted.abandon_rate);
        CHECK(counted.machines_to_agents > 1000);  // agents did take machines
        CHECK(counted.windows_over_cap == 0);
        CHECK(counted.abandon_rate <= 0.03);
        CHECK(counted.abandon_rate < blind.abandon_rate);
        CHECK(counted.occupancy > blind.occupancy);
    }
}
