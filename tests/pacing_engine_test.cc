// The engine's pacer in-process. Warm start: what the pacer learnt survives a restart (the
// estimator's bytes and the calibration, saved in the store), a campaign without a saved state
// learns from its recent attempts in the ledger, and a new campaign may start from another's
// (`pacing.prior`). Ofcom's estimated AMD false positives reach the metrics.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "answering-detect/audio_file.h"
#include "dialer/engine/pacing_memory.h"
#include "pacing/policy.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using pacing::DialResult;
using pacing::Estimator;

namespace {

// An estimator that has seen a list with every kind of outcome and spread-out durations.
Estimator busy_estimator(int dials, std::uint32_t seed = 7) {
    Estimator est;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < dials; ++i) {
        const double x = u(rng);
        const auto r = x < 0.2    ? DialResult::live
                       : x < 0.45 ? DialResult::machine
                       : x < 0.6  ? DialResult::fail
                                  : DialResult::no_answer;
        est.dial_resolved(r, 2 + 18 * u(rng));
        if (r == DialResult::live || r == DialResult::machine) est.amd_decided(1.5 + 3 * u(rng));
        if (r == DialResult::live) est.handled(20 + 400 * u(rng) * u(rng), 5 + 40 * u(rng));
    }
    return est;
}

void check_same(const Estimator& a, const Estimator& b) {
    CHECK(b.dials_seen() == doctest::Approx(a.dials_seen()));
    for (auto r : {DialResult::live, DialResult::machine, DialResult::fail, DialResult::no_answer})
        CHECK(b.share(r) == doctest::Approx(a.share(r)));
    CHECK(b.live_verdict_delay_s() == doctest::Approx(a.live_verdict_delay_s()));
    for (double t : {0.0, 3.3, 7.0, 12.5, 19.9})
        CHECK(b.live_given_ringing(t, 20) == doctest::Approx(a.live_given_ringing(t, 20)));
    for (double t : {0.0, 30.0, 61.5, 200.0}) {
        CHECK(b.talk().survival(t) == doctest::Approx(a.talk().survival(t)));
        CHECK(b.wrap().ends_within(t / 10, 2) == doctest::Approx(a.wrap().ends_within(t / 10, 2)));
    }
    CHECK(b.handle().mean() == doctest::Approx(a.handle().mean()));
}

}  // namespace

TEST_CASE(
    "warm start: the estimator's bytes give back what it learnt, and bad bytes change nothing") {
    const Estimator learnt = busy_estimator(1500);
    REQUIRE(learnt.handle().count() > 200);
    const std::string bytes = learnt.save();

    Estimator back;
    REQUIRE(back.restore(bytes));
    check_same(learnt, back);

    // Every truncation, a wrong version and trailing bytes are refused, leaving the estimator
    // as it was (here: what it restored above).
    for (std::size_t n = 0; n < bytes.size(); n += std::max<std::size_t>(1, bytes.size() / 97)) {
        CAPTURE(n);
        CHECK_FALSE(back.restore(bytes.substr(0, n)));
    }
    std::string versioned = bytes;
    versioned[0] = 9;
    CHECK_FALSE(back.restore(versioned));
    CHECK_FALSE(back.restore(bytes + "x"));
    // A bin whose weight does not add up to the histogram's total is not a histogram of ours.
    std::string forged = bytes;
    forged[forged.size() - 1] ^= 0x10;
    CHECK_FALSE(back.restore(forged));
    check_same(learnt, back);
}

TEST_CASE("warm start: a restored history is capped so that what comes next still counts") {
    Estimator est;
    for (int i = 0; i < 5000; ++i) est.handled(100, 20);
    Estimator back;
    REQUIRE(back.restore(est.save(), 2000));
    CHECK(back.handle().count() == doctest::Approx(2000));
    CHECK(back.handle().mean() == doctest::Approx(120));
    // Calls now take 300 s: after 2,000 of them the estimate is halfway, not a sixth of the way.
    for (int i = 0; i < 2000; ++i) back.handled(280, 20);
    CHECK(back.handle().mean() == doctest::Approx(210));
}

TEST_CASE("warm start: predictive pacing resumes its calibration") {
    pacing::PacingConfig c;
    const Estimator est = busy_estimator(2000);
    auto snapshot = [](long live, long abandoned) {
        pacing::Snapshot s;
        for (int i = 0; i < 20; ++i)
            s.agents.push_back(
                {i < 3 ? pacing::AgentState::ready : pacing::AgentState::talking, 40});
        s.window_live = live;
        s.window_abandoned = abandoned;
        return s;
    };
    auto before = pacing::make_policy(c);
    before->decide(snapshot(20000, 500), est);
    pacing::Decision d;
    for (int i = 1; i <= 20; ++i) d = before->decide(snapshot(20000 + 50 * i, 500 + 2 * i), est);
    REQUIRE(d.calibration > 8);  // it learnt to hold back
    const auto saved = before->calibration();
    REQUIRE(saved.has_value());

    auto cold = pacing::make_policy(c);
    auto warm = pacing::make_policy(c);
    warm->restore(*saved);
    const auto s = snapshot(21000, 540);
    const auto dc = cold->decide(s, est), dw = warm->decide(s, est);
    CHECK(dc.calibration == doctest::Approx(4));  // the prior
    CHECK(dw.calibration == doctest::Approx(d.calibration));
    CHECK(dw.calls < dc.calls);
    // Progressive pacing learns no calibration.
    c.mode = pacing::Mode::progressive;
    CHECK_FALSE(pacing::make_policy(c)->calibration().has_value());
}

TEST_CASE("warm start: the ledger's recent attempts, newest first, teach what the calls did") {
    TempDir dir;
    std::string error;
    auto store = Store::open(dir.file("data"), &error);
    REQUIRE_MESSAGE(store, error);
    const std::int64_t t0 = 1'780'000'000'000;
    std::uint64_t id = 0;
    auto add = [&](Store::Batch& b, std::int64_t at, Outcome o, const char* verdict,
                   const char* agent) {
        Attempt a;
        a.id = ++id;
        a.campaign = "c";
        a.phone = "+12125550100";
        a.started_ms = at;
        a.outcome = o;
        a.amd_verdict = verdict;
        a.ring_ms = 6000;
        a.amd_ms = *verdict ? 2500 : 0;
        a.agent = agent;
        if (*agent) a.talk_ms = 60'000, a.wrap_ms = 10'000;
        b.put_attempt(a);
    };
    {
        auto b = store->batch();
        // Eight days ago: outside the look-back.
        for (int i = 0; i < 50; ++i)
            add(b, t0 - 8 * 86'400'000LL + i, Outcome::connected, "human", "alice");
        // Recent: 10 people who talked to an agent, 5 machines, 3 busy, 2 rang out, and what
        // says nothing about the callee (4 carrier errors, one lost, one hung up before AMD).
        std::int64_t at = t0 - 3'600'000;
        for (int i = 0; i < 10; ++i) add(b, at++, Outcome::connected, "human", "alice");
        for (int i = 0; i < 5; ++i) add(b, at++, Outcome::machine, "machine", "");
        for (int i = 0; i < 3; ++i) add(b, at++, Outcome::busy, "", "");
        for (int i = 0; i < 2; ++i) add(b, at++, Outcome::no_answer, "", "");
        for (int i = 0; i < 4; ++i) add(b, at++, Outcome::carrier_error, "", "");
        add(b, at++, Outcome::lost, "", "");
        add(b, at++, Outcome::machine, "", "");
        // Another campaign's attempt sorts right after: never read as this one's.
        Attempt other;
        other.id = ++id;
        other.campaign = "c2";
        other.started_ms = at;
        other.outcome = Outcome::connected;
        other.amd_verdict = "human";
        b.put_attempt(other);
        REQUIRE(store->write(b, true).ok());
    }

    // Newest first, bounded by count and by time.
    std::vector<std::uint64_t> ids;
    store->for_each_recent_attempt("c", 3, 0, [&](const Attempt& a) {
        ids.push_back(a.id);
        return true;
    });
    CHECK(ids == std::vector<std::uint64_t>{76, 75, 74});
    long recent = 0;
    store->for_each_recent_attempt("c", 1000, t0 - 86'400'000, [&](const Attempt&) {
        ++recent;
        return true;
    });
    CHECK(recent == 26);

    Estimator est;
    CHECK(learn_from_ledger(*store, "c", t0 - kWarmStartLookBackMs, est) == 20);
    CHECK(est.dials_seen() == doctest::Approx(20));
    CHECK(est.handle().count() == doctest::Approx(10));
    CHECK(est.handle().mean() == doctest::Approx(70));
    CHECK(est.live_rate() == doctest::Approx(0.5).epsilon(0.02));
    CHECK(est.share(DialResult::machine) == doctest::Approx(0.25).epsilon(0.02));
    CHECK(est.share(DialResult::fail) == doctest::Approx(0.15).epsilon(0.02));
    CHECK(est.share(DialResult::no_answer) == doctest::Approx(0.10).epsilon(0.02));
    CHECK(est.live_verdict_delay_s() == doctest::Approx(6 + 2.5).epsilon(0.05));
    // The bound on dials keeps the newest.
    Estimator few;
    CHECK(learn_from_ledger(*store, "c", 0, few, 4) == 4);
    CHECK(few.share(DialResult::live) == doctest::Approx(0));  // 2 rang out, 2 busy
}

TEST_CASE("warm start: an engine restarted resumes its pacer, else learns from the ledger") {
    Sim::Options o;
    o.contacts = 400;
    o.unattended_lines = 3;
    Sim sim(o);
    // Every callee is busy after half a second: the estimator counts each as a failure.
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{500ms, 486, true, {}, -1ms}; });
    sim.start();
    CHECK(sim.status().pacing_start == "cold: no history of the last 7 days");
    sim.run_for(30s, 10ms);
    sim.restart();
    long busy = 0;
    for (const auto& a : sim.attempts()) busy += a.outcome == Outcome::busy;
    REQUIRE(busy > 50);
    // Everything the stopped engine learnt, to the dial: its last save came after its drain.
    CHECK(sim.status().pacing_start ==
          "warm: state saved 0 min ago (" + std::to_string(busy) + " dials seen)");

    // The pacer's state is saved as the engine runs, not only at stop: a crash loses seconds.
    sim.run_for(12s, 10ms);
    auto saved = PacingMemory::decode(*sim.store().load_pacing("sim"));
    REQUIRE(saved.has_value());
    Estimator est;
    REQUIRE(est.restore(saved->estimator));
    CHECK(est.dials_seen() > static_cast<double>(busy));

    // A state that does not decode: the ledger teaches instead (nothing crashes).
    sim.stop_engine();
    REQUIRE(sim.store().save_pacing("sim", "not a pacer's state").ok());
    sim.start();
    busy = 0;
    for (const auto& a : sim.attempts()) {
        CHECK(a.outcome == Outcome::busy);
        busy += a.outcome == Outcome::busy;
    }
    CHECK(sim.status().pacing_start ==
          "warm: " + std::to_string(busy) + " dials of the last 7 days in the ledger");

    // Eight days on, the saved state and the ledger are too old to trust.
    sim.stop_engine();
    sim.clock().jump(std::chrono::hours(8 * 24));
    sim.start();
    CHECK(sim.status().pacing_start == "cold: no history of the last 7 days");
}

TEST_CASE("warm start: pacing.prior starts a new campaign from another campaign's history") {
    Sim::Options o;
    o.campaign_yaml = "pacing: {prior: last-week}\n";
    Sim sim(o);
    PacingMemory m;
    m.saved_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(sim.clock().wall().time_since_epoch())
            .count() -
        3 * 60'000;
    m.estimator = busy_estimator(900).save();
    m.calibration = pacing::Calibration{50, 2};  // last week's team: not this one's to inherit
    REQUIRE(sim.store().save_pacing("last-week", m.encode()).ok());
    sim.start();
    CHECK(sim.status().pacing_start ==
          "warm from pacing.prior 'last-week': state saved 3 min ago (900 dials seen)");

    // Without the prior's history, the campaign starts cold and says where it looked.
    Sim::Options none;
    none.campaign_yaml = "pacing: {prior: nobody}\n";
    Sim cold(none);
    cold.start();
    CHECK(cold.status().pacing_start ==
          "cold: pacing.prior 'nobody' has no history of the last 7 days either");
}

TEST_CASE("pacing: Ofcom's estimated AMD false positives are counted for the dashboards") {
    Sim::Options o;
    o.contacts = 10;
    o.unattended_lines = 2;
    o.campaign_yaml =
        "pacing: {abandon_window: 24h, count_amd_false_positives: true, "
        "amd_false_positive_rate: 25%}\n";
    Sim sim(o);
    auto machine = amd::read_audio(corpus_dir() + "/machine-beep-000.wav");
    REQUIRE(machine.error.empty());
    sim.answer_all(machine.pcm);
    sim.start();
    for (int i = 0; i < 120 && sim.status().machines < 10; ++i) sim.run_for(1s, 5ms);
    REQUIRE(sim.status().machines == 10);
    // Ten machine releases at 25 %: two whole people taken for machines, as the window counts.
    auto& m = sim.engine().metrics().campaign("sim", "24h");
    CHECK(m.estimated_false_positives->Value() == 2);
    CHECK(sim.status().window_abandoned == 2);
    CHECK(m.abandoned->Value() == 0);  // nobody was really abandoned
}

namespace {

// Logs in `n` agents (desks d1..dn, agents a1..an, fixed phones), each ready once its softphone
// leg is up.
void ready_team(Sim& sim, int n) {
    for (int i = 1; i <= n; ++i) {
        const std::string id = std::to_string(i);
        sim.desk().request("d" + id, R"({"type":"login","agent":"a)" + id + R"(","phone":"sip:a)" +
                                         id + R"(@127.0.0.1:5998"})");
    }
    sim.run_for(100ms);
    for (int i = 1; i <= n; ++i) sim.desk().request("d" + std::to_string(i), R"({"type":"ready"})");
}

// Customer calls of each campaign still ringing (the carrier never answers them here).
std::pair<int, int> ringing(Sim& sim) {
    int a = 0, b = 0;
    for (auto* i : sim.calls())
        if (!i->over) (i->dial.to.find("+1415555") != std::string::npos ? a : b) += 1;
    return {a, b};
}

}  // namespace

TEST_CASE("shared agents: two campaigns count each agent once, divided by their shares") {
    for (const auto& [share, want_a, want_b] : {std::tuple{"1", 2, 2}, std::tuple{"3", 3, 1}}) {
        CAPTURE(share);
        Sim::Options o;
        o.agents = true;
        o.contacts = 20;
        o.campaign_yaml = std::string("agents: {share: ") + share + "}\n";
        o.second_campaign_yaml = "";
        Sim sim(o);
        // Nobody answers for a minute: each call holds the agent it was dialled for.
        sim.carrier([](const ScriptedSip::Invite&) {
            return CarrierPlan{60s, 480, true, {}, -1ms};
        });
        sim.start();
        ready_team(sim, 4);
        sim.run_for(2s, 10ms);
        // Progressive: one call per ready agent, and each agent in one campaign's count. Before
        // agents were divided, both campaigns dialled for all four (eight calls).
        const auto [a, b] = ringing(sim);
        CHECK(a == want_a);
        CHECK(b == want_b);
        CHECK(sim.status(0).abandoned + sim.status(1).abandoned == 0);
        CHECK(sim.status(0).pacing_agents == want_a);
        CHECK(sim.status(1).pacing_agents == want_b);
        CHECK(sim.status(0).agents_ready + sim.status(0).agents_talking == 4);  // serving it

        // Campaign sim2 paused: its agents are counted by sim from the next tick.
        REQUIRE(sim.engine().pause("sim2"));
        sim.run_for(1s, 10ms);
        CHECK(ringing(sim).first == 4);
        CHECK(ringing(sim).second == want_b);  // its calls in progress go on
    }
}

TEST_CASE("shared agents: a campaign with nobody left to dial gives its agents to the other") {
    Sim::Options o;
    o.agents = true;
    o.contacts = 20;
    o.second_campaign_yaml =
        "calling_hours: {windows: [{days: [sun], from: \"09:00\", to: \"10:00\"}]}\n";
    Sim sim(o);  // Wednesday noon: sim2's only window is on Sundays
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{60s, 480, true, {}, -1ms}; });
    sim.start();
    ready_team(sim, 4);
    sim.run_for(3s, 10ms);
    CHECK(ringing(sim) == std::pair{4, 0});
}
