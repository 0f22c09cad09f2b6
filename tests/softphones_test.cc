// Real softphones registering to the engine with digest credentials (baresip, linphonec), the
// agent logged in with a password, a live call from a SIPp carrier, audio both ways; and SIPp
// playing a softphone for what real ones will not do on demand (wrong passwords, a new port, a
// flood). The registrar's rules themselves are tested on a fake clock in registrar_test.cc.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "dialer/sip/digest.h"
#include "tests/agent_rig.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace outpace::test;

namespace {

// An agents file with `ids`, each with SIP password "<id>-sip-pw" and desktop "<id>-desk-pw".
std::string write_agents(Rig& rig, const std::vector<std::string>& ids) {
    std::string y = "agents:\n";
    for (const auto& id : ids)
        y += "  - id: " + id + "\n    sip_ha1: " + sip::digest_ha1(id, "outpace", id + "-sip-pw") +
             "\n    desktop_password: \"" + quick_hash(id + "-desk-pw") + "\"\n";
    rig.write(ids[0] + "-password", ids[0] + "-desk-pw\n");
    return rig.write("agents.yaml", y);
}

// The engine's SIP port, from the config the rig wrote.
int engine_sip_port(Rig& rig) {
    std::ifstream in(rig.file("engine.yaml"));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex("sip: \\{address: 127.0.0.1, port: (\\d+)")));
    return std::stoi(m[1]);
}

// The engine with an agents file, stopping when the list is done.
std::unique_ptr<Child> start_engine(Rig& rig, int agents_port, const std::string& accounts,
                                    int control_port = 0) {
    std::string extra = "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents_port) +
                        "\", heartbeat: 1s, missed_heartbeats: 3, accounts: " + accounts +
                        "}\nstop_when_done: true\ndrain_timeout: 20s\n";
    if (control_port)
        extra += "control: \"tcp://127.0.0.1:" + std::to_string(control_port) + "\"\n";
    auto engine = rig.start(extra);
    REQUIRE(wait_tcp_listening(agents_port));
    return engine;
}

// `outpace agent --auto` for agent `id`, logging in with the password file, no phone.
std::unique_ptr<Child> start_agent(Rig& rig, int agents_port, const std::string& id) {
    return std::make_unique<Child>(
        std::vector<std::string>{OUTPACE_BINARY, "agent", "--auto", "--endpoint",
                                 "tcp://127.0.0.1:" + std::to_string(agents_port), "--agent", id,
                                 "--password-file", rig.file(id + "-password"), "--talk",
                                 "fixed:6s", "--wrap", "fixed:500ms", "--code", "SALE", "--for",
                                 "120"},
        rig.file("agent.log"));
}

}  // namespace

TEST_CASE("softphones: baresip registers with its password, takes a live call, both sides hear") {
    Rig rig;
    RtpCapture customer;
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    rig.campaign("softphone", callee, 1, "", 0);
    const auto accounts = write_agents(rig, {"alice"});
    const int agents_port = free_port();
    auto engine = start_engine(rig, agents_port, accounts);
    // The desktop first: the agent waits, connecting, until its softphone registers.
    auto agent = start_agent(rig, agents_port, "alice");
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting; ++i) {
        waiting = rig.log("agent.log").find("logged in as alice") != std::string::npos;
        if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_MESSAGE(waiting, rig.log("agent.log"));
    const int engine_port = engine_sip_port(rig);
    REQUIRE(wait_udp_bound(engine_port));
    // A softphone as an agent sets it up: server, user, password; it answers by itself here
    // (linphonec below does not).
    Baresip baresip(rig, "127.0.0.1:" + std::to_string(free_port()),
                    "<sip:alice@127.0.0.1:" + std::to_string(engine_port) +
                        ">;auth_pass=alice-sip-pw;regint=120;answermode=auto;audio_codecs=PCMU");
    const int status = engine->wait(std::chrono::seconds(90));
    INFO(rig.log("engine.log"));
    INFO(rig.log("agent.log"));
    INFO(baresip.log());
    REQUIRE(status == 0);
    auto all = rig.attempts();
    REQUIRE(all["softphone"].size() == 1);
    CHECK(all["softphone"][0].outcome == Outcome::connected);
    CHECK(all["softphone"][0].agent == "alice");
    CHECK(rig.log("engine.log").find("agent alice: softphone registered; calling it") !=
          std::string::npos);
    int agent_voice = 0;
    for (const auto& p : customer.packets())
        agent_voice += p.peak > 2000 && purity(p.pcm, 600) > 0.8;
    CHECK_MESSAGE(agent_voice >= 100, agent_voice << " packets of the agent's voice");
    const int tone_frames = baresip.heard_frames(1000);
    CHECK_MESSAGE(tone_frames >= 100, tone_frames << " frames of the customer's tone");
}
