// Several trunks per campaign: which trunk a call takes (priority, weight, prefixes, trunks
// resting or already tried), the campaign file's `dialing.trunks`, and on the fake clock the
// same call moving to the next trunk when one refuses it for its own trouble or answers nothing.
#include <doctest/doctest.h>

#include "campaigns/campaign_loader.h"
#include "dialer/engine/trunk.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

TrunkRoute route_rule(const std::string& name, int priority, int weight,
                      std::vector<std::string> prefixes = {}) {
    TrunkRoute r;
    r.name = name;
    r.priority = priority;
    r.weight = weight;
    r.prefixes = std::move(prefixes);
    return r;
}

// The trunk each customer INVITE went to, by its port ("5999" = carrier).
std::string invite_port(const ScriptedSip::Invite& i) {
    const auto colon = i.dial.to.rfind(':');
    return i.dial.to.substr(colon + 1, 4);
}

std::string number_of(const ScriptedSip::Invite& i) {
    return i.dial.to.substr(4, i.dial.to.find('@') - 4);
}

// Two trunks: "carrier" (port 5999) first, "backup" (port 5997) second.
Sim::Options two_trunks(int contacts) {
    Sim::Options o;
    o.unattended_lines = 2;
    o.contacts = contacts;
    o.more_trunks = {loopback_trunk("backup", 5997)};
    o.dialing_trunks = "trunks: [{name: carrier, priority: 1}, {name: backup, priority: 2}]";
    return o;
}

}  // namespace

TEST_CASE(
    "trunk routes: priority first, weight within a priority, prefixes, and trunks resting "
    "or already tried are passed over") {
    metrics::Metrics m;
    const auto t0 = SteadyTime{} + 1h;
    const auto ca = loopback_trunk("a", 5001), cb = loopback_trunk("b", 5002),
               cc = loopback_trunk("c", 5003), cuk = loopback_trunk("uk", 5004);
    Trunk a(ca, m.trunk("a"), t0), b(cb, m.trunk("b"), t0), c(cc, m.trunk("c"), t0),
        uk(cuk, m.trunk("uk"), t0);
    TrunkRoutes routes;
    routes.add(uk, route_rule("uk", 1, 1, {"+44"}));
    routes.add(a, route_rule("a", 2, 3));
    routes.add(b, route_rule("b", 2, 1));
    routes.add(c, route_rule("c", 3, 1));
    CHECK(routes.max_calls_per_second() == 200);
    CHECK(routes.max_calls() == 400);

    // 3:1 within priority 2, spread (a a b a), never the low priority while those have room.
    std::string order;
    for (int i = 0; i < 8; ++i) {
        Trunk* t = routes.pick("+14155550100", t0, {});
        REQUIRE(t);
        order += t->config().name;
    }
    CHECK(order == "aabaaaba");
    // The prefix route takes its numbers first; others never reach it.
    CHECK(routes.pick("+442079460000", t0, {}) == &uk);
    CHECK(routes.serves("+442079460000"));
    // Tried already: the next priority's trunks, then the one after, then none.
    Trunk* second = routes.pick("+442079460000", t0, {&uk});
    CHECK((second == &a || second == &b));
    CHECK(routes.pick("+14155550100", t0, {&a, &b}) == &c);
    CHECK(routes.pick("+14155550100", t0, {&a, &b, &c}) == nullptr);
    // Three carrier errors in a row rest a trunk: its calls go to the others meanwhile.
    for (int i = 0; i < 3; ++i) a.failed(t0);
    REQUIRE(a.resting(t0));
    for (int i = 0; i < 4; ++i) CHECK(routes.pick("+14155550100", t0, {}) == &b);
    CHECK_FALSE(routes.all_resting(t0));
    // Full (max_calls in progress): passed over like a resting one. The rest was a second.
    for (int i = 0; i < cb.max_calls; ++i) b.dialled(t0 + 2s + std::chrono::milliseconds(i * 30));
    CHECK(routes.pick("+14155550100", t0 + 5s, {}) == &a);
    CHECK(routes.pick("+14155550100", t0 + 5s, {&a}) == &c);

    // A prefix route alone does not serve other numbers.
    TrunkRoutes only_uk;
    only_uk.add(uk, route_rule("uk", 1, 1, {"+44"}));
    CHECK_FALSE(only_uk.serves("+14155550100"));
    CHECK(only_uk.pick("+14155550100", t0, {}) == nullptr);
}

TEST_CASE("dialing.trunks: names or mappings, checked, and one of dialing.trunk or trunks") {
    auto load = [](const std::string& dialing) {
        return load_campaign_text("name: t\ndialing:\n" + dialing, "t.yaml", ".");
    };
    auto ok = load(
        "  trunks:\n    - main\n    - {name: uk, priority: 1, weight: 5, prefixes: "
        "[\"+44\", \"+353\"]}\n");
    for (const auto& e : ok.errors) FAIL(e.to_string());
    REQUIRE(ok.campaign);
    REQUIRE(ok.campaign->trunks.size() == 2);
    CHECK(ok.campaign->trunks[0].name == "main");
    CHECK(ok.campaign->trunks[0].priority == 1);
    CHECK(ok.campaign->trunks[0].weight == 1);
    CHECK(ok.campaign->trunks[1].weight == 5);
    CHECK(ok.campaign->trunks[1].prefixes == std::vector<std::string>{"+44", "+353"});
    auto one = load("  trunk: main\n");
    REQUIRE(one.campaign);
    REQUIRE(one.campaign->trunks.size() == 1);
    CHECK(one.campaign->trunks[0].name == "main");

    auto error_of = [&](const std::string& dialing) {
        auto r = load(dialing);
        CHECK_FALSE(r.campaign);
        REQUIRE(r.errors.size() >= 1);
        return r.errors[0].to_string();
    };
    CHECK(error_of("  trunk: a\n  trunks: [b]\n").find("either 'dialing.trunk'") !=
          std::string::npos);
    CHECK(error_of("  trunks: [a, a]\n").find("names 'a' twice") != std::string::npos);
    CHECK(error_of("  trunks: [{name: a, prefixes: [\"44\"]}]\n").find("E.164 number") !=
          std::string::npos);
    CHECK(error_of("  trunks: [{priority: 2}]\n").find("needs a 'name'") != std::string::npos);
    CHECK(error_of("  trunks: [{name: a, weight: 0}]\n").find("between 1 and 1000") !=
          std::string::npos);
    CHECK(error_of("  trunks: [{name: a, cost: 3}]\n").find("unknown key 'cost'") !=
          std::string::npos);
    const auto at = error_of("  trunks: []\n");
    CHECK(at.find("t.yaml:3:") == 0);
    CHECK(at.find("must be a list") != std::string::npos);
}

TEST_CASE("engine: a campaign whose dialing.trunks names a trunk the config lacks is refused") {
    auto o = two_trunks(1);
    o.dialing_trunks = "trunks: [carrier, nowhere]";
    Sim sim(o);
    Engine engine(sim.config(), sim.store(), sim.env());
    std::vector<std::string> errors;
    CHECK_FALSE(engine.start(&errors));
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    CHECK(all.find("trunk 'nowhere' is not in") != std::string::npos);
}

TEST_CASE(
    "engine: a call the first trunk refuses (503) moves to the next one as the same call, "
    "and the contact is charged only for the callee's answer") {
    Sim sim(two_trunks(3));
    sim.carrier([](const ScriptedSip::Invite& i) {
        if (invite_port(i) == "5999") return CarrierPlan{100ms, 503, false, {}, -1ms};
        return CarrierPlan{300ms, 486, true, {}, -1ms};
    });
    sim.start();
    sim.run_for(10s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 3);
    for (const auto& a : attempts) {
        CAPTURE(a.phone);
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.sip_code == 486);
        CHECK(a.trunk == "backup");
        CHECK(a.hops == std::vector<TrunkHop>{{"carrier", 503}});
        const auto c = sim.store().contact("sim", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == 1u);  // the busy line, not the 503
    }
    // Each number: one INVITE per trunk, the second right after the 503, offering the same RTP
    // port and caller ID.
    std::map<std::string, std::vector<ScriptedSip::Invite*>> by_number;
    for (auto* i : sim.calls()) by_number[number_of(*i)].push_back(i);
    REQUIRE(by_number.size() == 3);
    for (const auto& [number, legs] : by_number) {
        CAPTURE(number);
        REQUIRE(legs.size() == 2);
        CHECK(invite_port(*legs[0]) == "5999");
        CHECK(invite_port(*legs[1]) == "5997");
        CHECK(legs[1]->at - legs[0]->at >= 100ms);
        CHECK(legs[1]->at - legs[0]->at <= 120ms);
        CHECK(Sim::offer_port(legs[0]->dial.sdp) == Sim::offer_port(legs[1]->dial.sdp));
        CHECK(legs[1]->dial.from.find("+12125550100") != std::string::npos);
    }
    CHECK(sim.status().carrier_errors == 0);
    CHECK(sim.engine().metrics().trunk("carrier").failovers->Value() == 3);
    CHECK(sim.engine().metrics().trunk("backup").failovers->Value() == 0);
}

TEST_CASE(
    "engine: when every trunk refuses, the call is a carrier error that costs the contact "
    "nothing, with each trunk tried once") {
    Sim sim(two_trunks(1));
    sim.carrier([](const ScriptedSip::Invite&) {
        return CarrierPlan{100ms, 503, false, {}, -1ms};
    });
    sim.start();
    sim.run_for(3s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].outcome == Outcome::carrier_error);
    CHECK(attempts[0].sip_code == 503);
    CHECK(attempts[0].trunk == "backup");
    CHECK(attempts[0].hops == std::vector<TrunkHop>{{"carrier", 503}});
    CHECK(sim.calls().size() == 2);
    const auto c = sim.store().contact("sim", attempts[0].phone);
    REQUIRE(c);
    CHECK(c->attempts == 0u);
    CHECK(c->state == ContactState::pending);
}

TEST_CASE(
    "engine: a trunk that answers nothing at all loses the call to the next trunk after "
    "its response_timeout, and one that said 100 Trying keeps it") {
    SUBCASE("dark: not even 100 Trying") {
        auto o = two_trunks(2);
        Sim sim(o);
        sim.config().sip_response_timeout = 2s;
        sim.carrier([](const ScriptedSip::Invite& i) {
            CarrierPlan p{300ms, 486, true, {}, -1ms};
            p.silent = invite_port(i) == "5999";
            return p;
        });
        sim.start();
        sim.run_for(8s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 2);
        for (const auto& a : attempts) {
            CHECK(a.outcome == Outcome::busy);
            CHECK(a.trunk == "backup");
            CHECK(a.hops == std::vector<TrunkHop>{{"carrier", 408}});
            // Ringing counts from the leg that rang, not from the dark trunk's INVITE.
            CHECK(a.ring_ms >= 300);
            CHECK(a.ring_ms <= 400);
        }
        std::map<std::string, std::vector<ScriptedSip::Invite*>> by_number;
        for (auto* i : sim.calls()) by_number[number_of(*i)].push_back(i);
        for (const auto& [number, legs] : by_number) {
            REQUIRE(legs.size() == 2);
            // sip.response_timeout: the SIP stack gives up on the leg, the call moves at once.
            CHECK(legs[1]->at - legs[0]->at >= 2000ms);
            CHECK(legs[1]->at - legs[0]->at <= 2020ms);
        }
    }
    SUBCASE("slow: 100 Trying, then 5 s to the callee's busy line") {
        Sim sim(two_trunks(1));
        sim.config().sip_response_timeout = 2s;
        sim.carrier([](const ScriptedSip::Invite&) {
            CarrierPlan p{5000ms, 486, false, {}, -1ms};
            p.trying = true;
            return p;
        });
        sim.start();
        sim.run_for(8s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 1);
        CHECK(attempts[0].outcome == Outcome::busy);
        CHECK(attempts[0].trunk == "carrier");
        CHECK(attempts[0].hops.empty());
        CHECK(sim.calls().size() == 1);
    }
    SUBCASE("dark, and no other trunk: a carrier error once SIP gives up (32 s by default)") {
        Sim::Options o;
        o.unattended_lines = 1;
        Sim sim(o);
        sim.carrier([](const ScriptedSip::Invite&) {
            CarrierPlan p;
            p.silent = true;
            return p;
        });
        sim.start();
        sim.run_for(31s, 100ms);
        REQUIRE(sim.calls().size() == 1);
        CHECK(sim.attempts().at(0).in_flight());
        sim.run_for(2s, 100ms);
        CHECK(sim.attempts().at(0).outcome == Outcome::carrier_error);
        CHECK(sim.attempts().at(0).hops.empty());
    }
}

TEST_CASE(
    "engine: calls spread over a priority's trunks by weight, and a prefix route takes its "
    "country, falling back to the general trunk when it refuses") {
    SUBCASE("weights 3:1") {
        auto o = two_trunks(40);
        o.unattended_lines = 4;
        o.dialing_trunks = "trunks: [{name: carrier, weight: 3}, {name: backup, weight: 1}]";
        Sim sim(o);
        sim.carrier([](const ScriptedSip::Invite&) {
            return CarrierPlan{200ms, 486, true, {}, -1ms};
        });
        sim.start();
        sim.run_for(20s, 10ms);
        REQUIRE(sim.attempts().size() == 40);
        int first = 0, second = 0;
        for (auto* i : sim.calls()) ++(invite_port(*i) == "5999" ? first : second);
        CHECK(first + second == 40);
        CHECK(first >= 28);
        CHECK(first <= 32);
    }
    SUBCASE("prefixes") {
        Sim::Options o;
        o.unattended_lines = 4;
        o.contacts = 4;
        o.list_csv =
            "phone,timezone\n+442079460000,Europe/London\n+442079460001,Europe/London\n"
            "+14155551000,America/New_York\n+14155551001,America/New_York\n";
        o.more_trunks = {loopback_trunk("uk", 5996)};
        o.dialing_trunks =
            "trunks: [{name: uk, priority: 1, prefixes: [\"+44\"]}, {name: carrier, priority: 2}]";
        Sim sim(o);
        sim.carrier([](const ScriptedSip::Invite& i) {
            // The UK carrier refuses one of its two numbers.
            if (number_of(i) == "+442079460001" && invite_port(i) == "5996")
                return CarrierPlan{100ms, 503, false, {}, -1ms};
            return CarrierPlan{200ms, 486, true, {}, -1ms};
        });
        sim.start();
        sim.run_for(5s, 10ms);
        std::map<std::string, Attempt> by_phone;
        for (const auto& a : sim.attempts()) by_phone[a.phone] = a;
        REQUIRE(by_phone.size() == 4);
        CHECK(by_phone["+442079460000"].trunk == "uk");
        CHECK(by_phone["+442079460000"].hops.empty());
        CHECK(by_phone["+442079460001"].trunk == "carrier");
        CHECK(by_phone["+442079460001"].hops == std::vector<TrunkHop>{{"uk", 503}});
        CHECK(by_phone["+14155551000"].trunk == "carrier");
        CHECK(by_phone["+14155551001"].trunk == "carrier");
        for (auto* i : sim.calls())
            if (number_of(*i).starts_with("+1")) CHECK(invite_port(*i) == "5999");
    }
}

TEST_CASE(
    "engine: over SIP, a call the trunk refuses (503) or leaves unanswered moves to the "
    "campaign's next trunk, and a trunk that said 100 Trying keeps its call") {
    Rig rig;
    rig.sip_extra(", response_timeout: 1s");
    rig.trunk("backup", "uas_busy.xml");
    rig.trunks_for_next("trunks: [{name: refusing, priority: 1}, {name: backup, priority: 2}]");
    rig.campaign("refusing", "uas_503.xml", 3);
    rig.trunks_for_next("trunks: [{name: dark, priority: 1}, {name: backup, priority: 2}]");
    rig.campaign("dark", "uas_silent.xml", 2);
    rig.trunks_for_next("trunks: [{name: slow, priority: 1}, {name: backup, priority: 2}]");
    rig.campaign("slow", "uas_slow_trying.xml", 2);
    const auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["refusing"].size() == 3);
    for (const auto& a : all["refusing"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "backup");
        CHECK(a.hops == std::vector<TrunkHop>{{"refusing", 503}});
        const auto c = rig.contact("refusing", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == 1u);
    }
    REQUIRE(all["dark"].size() == 2);
    for (const auto& a : all["dark"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "backup");
        CHECK(a.hops == std::vector<TrunkHop>{{"dark", 408}});
        // Moved after the trunk's 1 s of silence (sip.response_timeout), not RFC 3261's 32 s.
        CHECK(a.ended_ms - a.started_ms < 3000);
    }
    // Its 100 Trying stopped the transaction timer: the slow trunk is not taken for dark.
    REQUIRE(all["slow"].size() == 2);
    for (const auto& a : all["slow"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "slow");
        CHECK(a.hops.empty());
        CHECK(a.ring_ms >= 2900);
    }
}

TEST_CASE(
    "engine: one of two trunks goes dark at 100 calls/s: no contact is charged for it and "
    "the traffic moves to the other") {
    auto o = two_trunks(3000);
    o.unattended_lines = 150;
    o.max_calls_per_second = 100;
    o.more_trunks = {loopback_trunk("backup", 5997)};
    o.more_trunks[0].max_calls_per_second = 100;
    o.more_trunks[0].max_calls = 200;
    o.dialing_trunks = "trunks: [carrier, backup]";  // one priority: the load is shared
    Sim sim(o);
    sim.config().trunks[0].max_calls = 200;
    sim.config().sip_response_timeout = 2s;
    const auto dark_at = sim.clock().now() + 10s;
    sim.carrier([&](const ScriptedSip::Invite& i) {
        CarrierPlan p{1000ms, 486, true, {}, -1ms};
        p.silent = invite_port(i) == "5999" && i.at >= dark_at;
        return p;
    });
    sim.start();
    sim.run_for(30s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() > 1500);
    std::size_t moved = 0, charged_wrongly = 0, ended = 0;
    for (const auto& a : attempts) {
        if (a.in_flight()) continue;
        ++ended;
        CHECK(a.outcome == Outcome::busy);  // never a carrier error: the other trunk took it
        moved += !a.hops.empty();
        const auto c = sim.store().contact("sim", a.phone);
        charged_wrongly += !c || c->attempts != 1u;
    }
    CHECK(charged_wrongly == 0);
    CHECK(moved > 0);
    // From 3 s after the trunk went dark (its 2 s timeout, then the first three errors rest it),
    // the dark trunk gets only its backoff's probes.
    std::size_t after = 0, on_dark = 0;
    for (auto* i : sim.calls())
        if (i->at >= dark_at + 3s) ++after, on_dark += invite_port(*i) == "5999";
    REQUIRE(after > 1000);
    MESSAGE("calls ended " << ended << ", moved off the dark trunk " << moved
                           << ", INVITEs to it from 3 s after it went dark: " << on_dark << " of "
                           << after);
    CHECK(on_dark * 20 < after);  // under 5 %
}

TEST_CASE(
    "engine: a call whose next trunk is full waits up to 3 s for room there, then is a "
    "carrier error that costs the contact nothing") {
    // The backup takes one call at a time; the first call holds it while it rings.
    auto o = two_trunks(2);
    o.more_trunks[0].max_calls = 1;
    for (const auto ring : {1000ms, 10000ms}) {
        CAPTURE(ring.count());
        Sim sim(o);
        sim.carrier([ring](const ScriptedSip::Invite& i) {
            if (invite_port(i) == "5999") return CarrierPlan{100ms, 503, false, {}, -1ms};
            return CarrierPlan{ring, 486, true, {}, -1ms};
        });
        sim.start();
        sim.run_for(15s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 2);
        std::map<std::string, std::vector<ScriptedSip::Invite*>> by_number;
        for (auto* i : sim.calls()) by_number[number_of(*i)].push_back(i);
        int waited = 0;
        for (const auto& a : attempts) {
            const auto& legs = by_number[a.number()];
            REQUIRE(!legs.empty());
            const auto c = sim.store().contact("sim", a.phone);
            REQUIRE(c);
            if (ring == 1000ms) {
                // Room came back within the wait: both calls reached the callee on the backup.
                CHECK(a.outcome == Outcome::busy);
                CHECK(a.hops == std::vector<TrunkHop>{{"carrier", 503}});
                REQUIRE(legs.size() == 2);
                waited += legs[1]->at - legs[0]->at > 500ms;
            } else if (a.outcome == Outcome::carrier_error) {
                // No room for 3 s: given up, on the first trunk's 503, the contact not charged.
                ++waited;
                CHECK(a.sip_code == 503);
                CHECK(a.hops.empty());
                CHECK(a.notes.find("no other trunk had room for it") != std::string::npos);
                CHECK(legs.size() == 1);
                CHECK(c->attempts == 0u);
                const auto waited_ms = a.ended_ms - a.started_ms;
                CHECK(waited_ms >= 3100);  // its 503 came at 100 ms
                CHECK(waited_ms <= 3250);  // then the wait, checked on the 100 ms tick
            } else {
                CHECK(a.outcome == Outcome::busy);
            }
        }
        CHECK(waited == 1);  // the second call waited, the first did not
    }
}
