// Trunks that must register: no call leaves before the registrar's 200; a refusal or a lapse puts
// the trunk down (its campaigns use their other trunks) and the REGISTER is tried again with a
// backoff; the config's keys; and on the wire, a SIPp registrar that asks for digest credentials.
#include <doctest/doctest.h>

#include "dialer/engine/control.h"
#include "dialer/engine/engine_config.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// The campaign's trunk "carrier" registers (acme / secret, asking 120 s).
void carrier_registers(Sim& sim) {
    auto& t = sim.config().trunks[0];
    t.register_trunk = true;
    t.username = "acme";
    t.password = "secret";
    t.register_expires = 120s;
}

bool on_port(const ScriptedSip::Invite& i, const std::string& port) {
    return i.dial.to.find(":" + port) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "engine: a trunk that must register takes no calls before the registrar's 200, then "
    "dials, and a registration that runs out unrefreshed stops it until the next 200") {
    Sim::Options o;
    o.unattended_lines = 1;
    o.contacts = 300;
    Sim sim(o);
    carrier_registers(sim);
    sim.carrier([](const ScriptedSip::Invite&) {
        return CarrierPlan{1000ms, 486, true, {}, -1ms};
    });
    sim.start();
    sim.run_for(3s, 10ms);
    auto& regs = sim.sip().registrations();
    REQUIRE(regs.size() == 1);
    CHECK(regs[0].request.registrar == "sip:127.0.0.1:5999;transport=udp");
    CHECK(regs[0].request.aor == "sip:acme@127.0.0.1");
    CHECK(regs[0].request.user == "acme");
    CHECK(regs[0].request.password == "secret");
    CHECK(regs[0].request.expires == 120s);
    CHECK(sim.calls().empty());
    auto& m = sim.engine().metrics().trunk("carrier");
    CHECK(m.registered->Value() == 0);
    // ctl status says so.
    const auto trunk_status = [&] {
        return nlohmann::json::parse(status_report_json(sim.engine()))["trunks"].at(0);
    };
    CHECK(trunk_status()["up"] == false);
    CHECK(trunk_status()["registered_for_s"] == 0);

    sim.sip().answer_registration(regs[0].id, 200, 100s);
    sim.run_for(5s, 10ms);
    CHECK_FALSE(sim.calls().empty());
    CHECK(m.registered->Value() == 1);
    CHECK(trunk_status()["up"] == true);
    CHECK(trunk_status()["registered_for_s"] == 95);
    CHECK(trunk_status()["addresses"].at(0)["address"] == "127.0.0.1:5999");

    // A refresh's 200 at 50 s keeps it registered past the first 100 s.
    sim.run_for(42s, 10ms);
    sim.sip().answer_registration(regs[0].id, 200, 100s);
    sim.run_for(60s, 10ms);
    CHECK(m.registered->Value() == 1);
    CHECK(regs.size() == 1);

    // No refresh comes: at 150 s it has run out; calls stop and the REGISTER goes again.
    sim.run_for(45s, 10ms);
    CHECK(m.registered->Value() == 0);
    REQUIRE(regs.size() == 2);
    CHECK(regs[0].unregistered);
    const auto lapsed_at = sim.clock().now();
    sim.run_for(10s, 10ms);
    // None since it ran out (at 150 s, a tick before the check at 155 s).
    for (auto* i : sim.calls()) CHECK(i->at < lapsed_at - 4s);
    sim.sip().answer_registration(regs[1].id, 200, 100s);
    sim.run_for(5s, 10ms);
    CHECK(sim.calls().back()->at > lapsed_at);
    for (const auto& a : sim.attempts()) CHECK(a.outcome != Outcome::carrier_error);
}

TEST_CASE(
    "engine: a registration the registrar refuses puts the trunk down, the campaign's next "
    "trunk takes the calls, and the REGISTER is tried again 5 then 10 s later") {
    Sim::Options o;
    o.unattended_lines = 2;
    o.contacts = 100;
    o.more_trunks = {loopback_trunk("backup", 5997)};
    o.dialing_trunks = "trunks: [{name: carrier, priority: 1}, {name: backup, priority: 2}]";
    Sim sim(o);
    carrier_registers(sim);
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{500ms, 486, true, {}, -1ms}; });
    sim.start();
    sim.run_for(100ms, 10ms);
    auto& regs = sim.sip().registrations();
    REQUIRE(regs.size() == 1);
    const auto first = sim.clock().now();
    sim.sip().answer_registration(regs[0].id, 403, 0s);
    sim.run_for(4900ms, 10ms);
    CHECK(regs.size() == 1);
    sim.run_for(200ms, 10ms);
    REQUIRE(regs.size() == 2);
    CHECK(regs[1].at - first >= 5s);
    sim.sip().answer_registration(regs[1].id, 408, 0s);  // then silence
    sim.run_for(9800ms, 10ms);
    CHECK(regs.size() == 2);
    sim.run_for(400ms, 10ms);
    REQUIRE(regs.size() == 3);
    std::size_t on_backup = 0, on_carrier = 0;
    for (auto* i : sim.calls()) (on_port(*i, "5997") ? on_backup : on_carrier)++;
    CHECK(on_backup > 10);
    CHECK(on_carrier == 0);
    CHECK(sim.engine().metrics().trunk("carrier").up->Value() == 0);
    CHECK(sim.status().carrier_errors == 0);
    // Accepted at last: the carrier (priority 1) takes the calls again.
    sim.sip().answer_registration(regs[2].id, 200, 600s);
    const auto back = sim.clock().now();
    sim.run_for(5s, 10ms);
    std::size_t after = 0;
    for (auto* i : sim.calls()) after += i->at > back && on_port(*i, "5999");
    CHECK(after > 0);
}

TEST_CASE("engine config: register needs credentials, registrar is IP:PORT and only with it") {
    const auto errors = [](const std::string& trunk) {
        const auto l = load_engine_config_text(
            "data: d\ntrunks:\n  - " + trunk + "\ncampaigns: []\n", "engine.yaml");
        std::string all;
        for (const auto& e : l.errors) all += e.to_string() + "\n";
        return all;
    };
    CHECK(errors("{name: c, address: \"192.0.2.1:5060\", register: true}")
              .find("it needs 'username' and 'password'") != std::string::npos);
    CHECK(errors("{name: c, address: \"192.0.2.1:5060\", registrar: \"192.0.2.2:5060\"}")
              .find("only for a trunk with 'register: true'") != std::string::npos);
    CHECK(errors("{name: c, address: \"192.0.2.1:5060\", register: true, username: a, password: "
                 "b, registrar: reg.carrier.test}")
              .find("'trunks[].registrar' must be IP:PORT") != std::string::npos);
    CHECK(errors("{name: c, address: \"192.0.2.1:5060\", register: true, username: a, password: "
                 "b, register_expires: 10s}")
              .find("register_expires") != std::string::npos);
    const auto good = errors(
        "{name: c, address: \"192.0.2.1:5060\", register: true, username: a, password: b, "
        "registrar: \"192.0.2.2:5070\", register_expires: 5m}");
    CHECK(good.find("trunks") == std::string::npos);
}

TEST_CASE(
    "engine: over SIP, a trunk registers to a SIPp registrar that asks for digest credentials "
    "and then dials, and one whose password is wrong stays down while its calls go elsewhere") {
    Rig rig;
    auto good = start_sipp_uas("registrar_auth.xml", rig.file("registrar-good.sipp.log"));
    REQUIRE(good.child);
    auto bad = start_sipp_uas("registrar_auth.xml", rig.file("registrar-bad.sipp.log"));
    REQUIRE(bad.child);
    rig.campaign("registered", "uas_busy.xml", 3, "", 2,
                 ", register: true, username: acme, password: secret, registrar: \"127.0.0.1:" +
                     std::to_string(good.port) + "\"");
    rig.trunk("backup", "uas_busy.xml");
    rig.trunks_for_next("trunks: [{name: refused, priority: 1}, {name: backup, priority: 2}]");
    rig.campaign("refused", "uas_busy.xml", 3, "", 2,
                 ", register: true, username: acme, password: wrong, registrar: \"127.0.0.1:" +
                     std::to_string(bad.port) + "\"");
    const auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("trunk registered: registered for 60 s") != std::string::npos);
    CHECK(r.out.find("trunk refused: registration refused (403)") != std::string::npos);
    auto all = rig.attempts();
    REQUIRE(all["registered"].size() == 3);
    for (const auto& a : all["registered"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "registered");
    }
    REQUIRE(all["refused"].size() == 3);
    for (const auto& a : all["refused"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "backup");
        CHECK(a.hops.empty());  // never sent to the trunk that is not registered
    }
}
