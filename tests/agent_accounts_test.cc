// Agent accounts: the agents file's loader (FILE:LINE:COL errors), desktop logins that must prove
// the agent, and softphones that register before their agent's leg is called — in-process on a
// fake clock (tests/engine_sim.h). The same over real SIP, with real softphones, is
// tests/softphones_e2e.sh.
#include <doctest/doctest.h>

#include "dialer/engine/agent_accounts.h"
#include "dialer/engine/control.h"
#include "dialer/sip/digest.h"
#include "tests/engine_sim.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

std::string agents_file(bool with_alice = true) {
    std::string y = "realm: outpace\nagents:\n";
    if (with_alice)
        y += "  - id: alice\n    name: Alice A.\n    sip_ha1: " +
             sip::digest_ha1("alice", "outpace", "alice-sip-pw") + "\n    desktop_password: \"" +
             quick_hash("alice-desk-pw") + "\"\n    campaigns: [sim]\n    skills: [spanish]\n";
    y += "  - id: bob\n    desktop_password: \"" + quick_hash("bob-desk-pw") +
         "\"\n    phone: sip:bob@127.0.0.1:5998\n";
    return y;
}

sip::RegisterRequest register_alice(const std::string& authorization, int port,
                                    const std::string& transport = "udp") {
    sip::RegisterRequest r;
    r.source_ip = "127.0.0.9";
    r.source_port = port;
    r.transport = transport;
    r.user = "alice";
    r.authorization = authorization;
    r.call_id = "alice-phone";
    static std::uint32_t cseq = 0;
    r.cseq = ++cseq;
    r.expires = 600;
    r.contacts.push_back(
        {"sip:alice@192.168.1.20:5060", "sip:alice@127.0.0.9:" + std::to_string(port), -1});
    return r;
}

// Alice's softphone registers (challenged first, as a real one is).
void alice_registers(Sim& sim, int port = 40001, const std::string& transport = "udp") {
    auto& reg = sim.sip().on_register;
    REQUIRE(reg);
    auto challenge = reg(register_alice("", port, transport));
    REQUIRE(challenge.status == 401);
    const auto answer = sip::DigestServer::answer(
        challenge.www_authenticate, "alice", sip::digest_ha1("alice", "outpace", "alice-sip-pw"),
        "REGISTER", "sip:127.0.0.1:5070");
    REQUIRE(reg(register_alice(answer, port, transport)).status == 200);
}

std::string last_error(Sim& sim, const std::string& desk) {
    std::string out;
    for (const auto& m : sim.desk().to(desk))
        if (m.body.value("type", "") == "error") out = m.body.value("reason", "");
    return out;
}

std::vector<ScriptedSip::Invite*> legs(Sim& sim) {
    std::vector<ScriptedSip::Invite*> out;
    for (auto& i : sim.sip().invites())
        if (i.agent_leg) out.push_back(&i);
    return out;
}

struct AccountsSim {
    TempDir dir;
    Sim sim;
    explicit AccountsSim(const std::string& file = agents_file()) : sim(options()) {
        sim.config().agents.accounts = dir.write("agents.yaml", file);
        sim.start();
    }
    static Sim::Options options() {
        Sim::Options o;
        o.agents = true;
        return o;
    }
};

}  // namespace

TEST_CASE("agents file: every mistake named at its line and column, and nothing half-loaded") {
    auto load = load_agent_directory_text(
        "realm: outpace\n"
        "agents:\n"
        "  - id: alice\n"
        "    sip_ha1: secret\n"            // 4: a password, not an HA1
        "    desktop_password: hunter2\n"  // 5: not a hash
        "  - id: \"bad id\"\n"             // 6
        "  - id: carol\n"                  // 7: no credentials at all
        "    role: boss\n"                 // 8
        "    colour: blue\n"               // 9: unknown key
        "  - id: alice\n"                  // 10: twice
        "    desktop_password: \"$argon2id$v=19$x\"\n"
        "    phone: sip:alice@127.0.0.1:5090\n",
        "agents.yaml");
    CHECK_FALSE(load.directory);
    auto has = [&](int line, const std::string& words) {
        for (const auto& e : load.errors)
            if (e.line == line && e.to_string().find(words) != std::string::npos &&
                e.to_string().rfind("agents.yaml:" + std::to_string(line) + ":", 0) == 0)
                return true;
        return false;
    };
    CHECK(has(4, "sip_ha1"));
    CHECK(has(5, "Argon2id"));
    CHECK(has(6, "letters, digits"));
    CHECK(has(7, "desktop_password"));
    CHECK(has(8, "role"));
    CHECK(has(9, "colour"));
    CHECK(has(10, "two agents"));

    auto good = load_agent_directory_text(agents_file(), "agents.yaml");
    REQUIRE_MESSAGE(good.directory, (good.errors.empty() ? "" : good.errors[0].to_string()));
    const AgentAccount* alice = good.directory->find("alice");
    REQUIRE(alice);
    CHECK(alice->name == "Alice A.");
    CHECK(alice->campaigns == std::vector<std::string>{"sim"});
    CHECK(alice->skills == std::vector<std::string>{"spanish"});
    CHECK(check_desktop_password(alice->desktop_password, "alice-desk-pw"));
    CHECK_FALSE(check_desktop_password(alice->desktop_password, "alice-desk-p"));
    CHECK(good.directory->find("bob")->phone == "sip:bob@127.0.0.1:5998");
}

TEST_CASE(
    "accounts: a desktop must prove the agent, and unknown agents learn what wrong passwords do") {
    AccountsSim t;
    auto& sim = t.sim;
    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"guess"})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d1") == "unknown agent or wrong password");
    sim.desk().request("d2", R"({"type":"login","agent":"mallory","password":"guess"})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d2") == "unknown agent or wrong password");
    CHECK(sim.engine().agents_logged_in() == 0);

    // Bob has a fixed auto-answer phone in the file: he logs in without naming it.
    sim.desk().request("d3", R"({"type":"login","agent":"bob","password":"bob-desk-pw"})");
    sim.run_for(100ms);
    CHECK(sim.desk().first("d3", "logged_in"));
    REQUIRE(legs(sim).size() == 1);
    CHECK(legs(sim)[0]->dial.to == "sip:bob@127.0.0.1:5998");
    // A phone other than the file's is refused.
    sim.desk().request("d4", R"({"type":"login","agent":"bob","password":"bob-desk-pw",
                                 "phone":"sip:bob@127.0.0.1:5997"})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d4").find("set in the agents file") != std::string::npos);

    // Five wrong passwords in a row: that agent id is refused for a minute, even the right one.
    for (int i = 0; i < 5; ++i)
        sim.desk().request("d5", R"({"type":"login","agent":"alice","password":"x"})");
    sim.run_for(10ms);
    sim.desk().request("d5", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d5").find("too many failed logins") != std::string::npos);
    sim.run_for(61s);
    sim.desk().request("d5", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
    sim.run_for(10ms);
    CHECK(sim.desk().first("d5", "logged_in"));
}

TEST_CASE("accounts: logins the engine is too busy to check are refused as busy, not as failures") {
    AccountsSim t;
    auto& sim = t.sim;
    sim.env().off_loop_full = true;  // a whole floor's logins being checked already
    for (int i = 0; i < 6; ++i) {
        sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
        sim.run_for(10ms);
        CHECK(last_error(sim, "d1").rfind("busy", 0) == 0);
    }
    // Six busy answers did not lock alice out: the same login goes through once there is room.
    sim.env().off_loop_full = false;
    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
    sim.run_for(10ms);
    CHECK(sim.desk().first("d1", "logged_in"));
}

TEST_CASE("accounts: the leg waits for the softphone to register, then goes where it registered") {
    AccountsSim t;
    auto& sim = t.sim;
    // Campaigns and skills come from the file; a login may narrow them, never widen.
    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw",
                                 "campaigns":["other"]})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d1").find("does not work campaign 'other'") != std::string::npos);
    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw",
                                 "phone":"sip:alice@127.0.0.1:5990"})");
    sim.run_for(10ms);
    CHECK(last_error(sim, "d1").find("softphone registers") != std::string::npos);

    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
    sim.run_for(100ms);
    REQUIRE(sim.desk().first("d1", "logged_in"));
    CHECK(last_error(sim, "d1").find("not registered") != std::string::npos);
    CHECK(legs(sim).empty());
    sim.desk().request("d1", R"({"type":"ready"})");
    sim.run_for(100ms);
    CHECK(sim.status().agents_ready == 0);

    alice_registers(sim);
    sim.run_for(100ms);
    REQUIRE(legs(sim).size() == 1);
    const auto& leg = legs(sim)[0]->dial;
    CHECK(leg.to == "sip:alice@192.168.1.20:5060");              // the contact it registered...
    CHECK(leg.next_hop == "sip:127.0.0.9:40001;transport=udp");  // ...reached where it was
    CHECK(leg.peer == "127.0.0.9");
    // The ready asked for while waiting holds once the leg is up.
    CHECK(sim.status().agents_ready == 1);
    // Its address is a SIP peer now (the socket filter lets it in).
    const auto& peers = sim.sip().peers();
    CHECK(std::find(peers.begin(), peers.end(), "127.0.0.9") != peers.end());

    const auto status = nlohmann::json::parse(status_report_json(sim.engine()));
    REQUIRE(status["registrations"].contains("alice"));
    CHECK(status["registrations"]["alice"][0]["source"] == "127.0.0.9:40001");
}

TEST_CASE(
    "accounts: reload-agents logs out who left the file, keeps the rest, refuses a bad file") {
    AccountsSim t;
    auto& sim = t.sim;
    sim.desk().request("d3", R"({"type":"login","agent":"bob","password":"bob-desk-pw"})");
    sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
    sim.run_for(100ms);
    REQUIRE(sim.engine().agents_logged_in() == 2);

    t.dir.write("agents.yaml", "agents: [\n");
    auto reply = nlohmann::json::parse(
        handle_control_request(sim.engine(), R"({"command":"reload-agents"})"));
    CHECK(reply["ok"] == false);
    CHECK(reply["error"].get<std::string>().find("agents.yaml:") != std::string::npos);
    CHECK(sim.engine().agents_logged_in() == 2);

    t.dir.write("agents.yaml", agents_file(false));
    reply = nlohmann::json::parse(
        handle_control_request(sim.engine(), R"({"command":"reload-agents"})"));
    CHECK(reply["ok"] == true);
    sim.run_for(10ms);
    CHECK(sim.engine().agents_logged_in() == 1);
    CHECK(sim.desk().first("d1", "logged_out"));
    CHECK_FALSE(sim.desk().first("d3", "logged_out"));
    // Alice's softphone can no longer register either.
    auto refused = sim.sip().on_register(register_alice("", 40001));
    auto answer = sip::DigestServer::answer(refused.www_authenticate, "alice",
                                            sip::digest_ha1("alice", "outpace", "alice-sip-pw"),
                                            "REGISTER", "sip:127.0.0.1:5070");
    CHECK(sim.sip().on_register(register_alice(answer, 40001)).status == 403);
}

TEST_CASE(
    "accounts: srtp auto, required and off decide the softphone leg's encryption by how it "
    "registered") {
    struct Case {
        const char* policy;
        const char* transport;
        bool leg, savp;
    };
    for (const Case c : {Case{"auto", "udp", true, false}, Case{"auto", "tls", true, true},
                         Case{"off", "tls", true, false}, Case{"required", "udp", false, false},
                         Case{"required", "tls", true, true}}) {
        CAPTURE(c.policy);
        CAPTURE(c.transport);
        auto file = agents_file();
        file.insert(file.find("    campaigns: [sim]"), std::string("    srtp: ") + c.policy + "\n");
        AccountsSim t(file);
        auto& sim = t.sim;
        sim.desk().request("d1", R"({"type":"login","agent":"alice","password":"alice-desk-pw"})");
        sim.run_for(100ms);
        REQUIRE(sim.desk().first("d1", "logged_in"));
        alice_registers(sim, 40001, c.transport);
        sim.run_for(100ms);
        REQUIRE(legs(sim).size() == (c.leg ? 1u : 0u));
        if (!c.leg) {
            CHECK(last_error(sim, "d1").find("your account requires SRTP: register your softphone "
                                             "over TLS") != std::string::npos);
            continue;
        }
        const auto& leg = legs(sim)[0]->dial;
        CHECK(leg.next_hop == std::string("sip:127.0.0.9:40001;transport=") + c.transport);
        CHECK((leg.sdp.find("RTP/SAVP") != std::string::npos) == c.savp);
        CHECK((leg.sdp.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") != std::string::npos) ==
              c.savp);
        // The scripted phone answers with plain RTP: fine for a plain offer; for an SRTP offer
        // the leg is hung up and the agent told, never left talking in clear.
        if (c.savp)
            CHECK(last_error(sim, "d1").find("its answer is plain RTP, and SRTP was offered") !=
                  std::string::npos);
        else
            CHECK(last_error(sim, "d1").find("SRTP") == std::string::npos);
    }
}
