// Real softphones registering to the engine with digest credentials (baresip, linphonec), the
// agent logged in with a password, a live call from a SIPp carrier, audio both ways; and SIPp
// playing a softphone for what real ones will not do on demand (wrong passwords, a new port, a
// flood). The registrar's rules themselves are tested on a fake clock in registrar_test.cc.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "dialer/engine/control.h"
#include "dialer/sip/digest.h"
#include "tests/agent_rig.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace outpace::test;

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
    REQUIRE_MESSAGE(wait_logged_in(rig, "alice"), rig.log("agent.log"));
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
    const int agent_voice = tone_packets(customer, 600);
    CHECK_MESSAGE(agent_voice >= 100, agent_voice << " packets of the agent's voice");
    const int tone_frames = baresip.heard_frames(1000);
    CHECK_MESSAGE(tone_frames >= 100, tone_frames << " frames of the customer's tone");
}

TEST_CASE(
    "softphones: linphonec registers, rings until the agent answers, takes a live call, both "
    "sides hear") {
    Rig rig;
    RtpCapture customer;
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    rig.campaign("softphone", callee, 1, "", 0);
    const auto accounts = write_agents(rig, {"bob"});
    const int agents_port = free_port();
    auto engine = start_engine(rig, agents_port, accounts);
    auto agent = start_agent(rig, agents_port, "bob");
    REQUIRE_MESSAGE(wait_logged_in(rig, "bob"), rig.log("agent.log"));
    const int engine_port = engine_sip_port(rig);
    REQUIRE(wait_udp_bound(engine_port));
    Linphone phone(rig, free_port(), "bob", "bob-sip-pw", engine_port);
    // It registers, the engine calls it, and it rings: nobody has answered yet.
    bool ringing = false;
    for (int i = 0; i < 300 && !ringing; ++i) {
        ringing = phone.output().find("incoming call") != std::string::npos;
        if (!ringing) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(phone.output());
    INFO(phone.log());
    REQUIRE(ringing);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the agent reaches for the phone
    CHECK(rig.log("engine.log").find("agent bob: softphone answered") == std::string::npos);
    // Nobody is dialled for a phone that only rings: the desktop has had no call.
    CHECK(rig.log("agent.log").find("connected (attempt") == std::string::npos);
    phone.command("answer");
    const int status = engine->wait(std::chrono::seconds(90));
    INFO(rig.log("engine.log"));
    INFO(rig.log("agent.log"));
    REQUIRE(status == 0);
    auto all = rig.attempts();
    REQUIRE(all["softphone"].size() == 1);
    CHECK(all["softphone"][0].outcome == Outcome::connected);
    CHECK(all["softphone"][0].agent == "bob");
    const int agent_voice = tone_packets(customer, 600);
    CHECK_MESSAGE(agent_voice >= 100, agent_voice << " packets of the agent's voice");
    const int tone_frames = phone.heard_frames(1000);
    CHECK_MESSAGE(tone_frames >= 100, tone_frames << " frames of the customer's tone");
}

namespace {

// SIPp as a softphone at `ip`:`port`, one scenario from tests/sipp; its exit status.
int sipp_phone(Rig& rig, const std::string& scenario, const std::string& ip, int port,
               int engine_port, const std::string& user, const std::string& password,
               const std::string& extra = "-m 1") {
    const auto r = test::run("sipp -nostdin -timeout 20s -sf " + std::string(OUTPACE_SOURCE_DIR) +
                             "/tests/sipp/" + scenario + " -i " + ip + " -p " +
                             std::to_string(port) + " -s " + user + " -ap " + password + " " +
                             extra + " 127.0.0.1:" + std::to_string(engine_port) + " >> " +
                             rig.file("sipp-phones.log") + " 2>&1");
    return r.status;
}

json control_status(int control_port) {
    std::string reply, error;
    REQUIRE_MESSAGE(control_request("tcp://127.0.0.1:" + std::to_string(control_port),
                                    R"({"command":"status"})", 3000, &reply, &error),
                    error);
    return json::parse(reply);
}

double metric(int port, const std::string& name) {
    const auto text = http_get(port, "/metrics");
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE(
    "softphones over the wire (SIPp): wrong passwords lock an address out, a new port moves "
    "the binding, an unrefreshed one expires, a flood is locked out while calls go on") {
    Rig rig;
    rig.campaign("during-flood", "uas_busy.xml", 2000, "", 2);
    const auto accounts = write_agents(rig, {"alice"});
    const int agents_port = free_port(), control_port = free_port(), metrics_port = free_port();
    auto engine =
        rig.start("agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents_port) +
                  "\", accounts: " + accounts +
                  ", registration: {min_expires: 10s, failures_before_lockout: 3, lockout: 1m, "
                  "flood_lockout_after: 50}}\n"
                  "control: \"tcp://127.0.0.1:" +
                  std::to_string(control_port) +
                  "\"\nmetrics: \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n");
    const int engine_port = engine_sip_port(rig);
    REQUIRE(wait_udp_bound(engine_port));
    REQUIRE(wait_tcp_listening(control_port));
    INFO(rig.log("sipp-phones.log"));

    // Registered from behind a NAT: reached where the REGISTER came from.
    const int first_port = free_port(), second_port = free_port();
    REQUIRE(sipp_phone(rig, "register.xml", "127.0.0.2", first_port, engine_port, "alice",
                       "alice-sip-pw", "-m 1 -key expires 10") == 0);
    auto status = control_status(control_port);
    REQUIRE(status["registrations"]["alice"].size() == 1);
    CHECK(status["registrations"]["alice"][0]["contact"] == "sip:alice@10.0.0.5:5060");
    CHECK(status["registrations"]["alice"][0]["source"] ==
          "127.0.0.2:" + std::to_string(first_port));
    // The NAT gave it a new port: the same device, now reached there.
    REQUIRE(sipp_phone(rig, "register.xml", "127.0.0.2", second_port, engine_port, "alice",
                       "alice-sip-pw", "-m 1 -key expires 10") == 0);
    const auto rebound = std::chrono::steady_clock::now();
    status = control_status(control_port);
    REQUIRE(status["registrations"]["alice"].size() == 1);
    CHECK(status["registrations"]["alice"][0]["source"] ==
          "127.0.0.2:" + std::to_string(second_port));

    // Wrong passwords from another address: 403 each, then that address gets no answer at all.
    REQUIRE(sipp_phone(rig, "register_wrong.xml", "127.0.0.3", free_port(), engine_port, "alice",
                       "guess", "-m 3 -key expires 60") == 0);
    // SIPp exits 1 when a call failed: here, the REGISTER's answer never came.
    CHECK(sipp_phone(rig, "register_once.xml", "127.0.0.3", free_port(), engine_port, "alice",
                     "guess") == 1);
    CHECK(sipp_phone(rig, "register_once.xml", "127.0.0.5", free_port(), engine_port, "alice",
                     "guess") == 0);  // while another address is answered
    status = control_status(control_port);
    CHECK(status["registration_lockouts"] == json::array({"127.0.0.3"}));
    CHECK(status["registrations"]["alice"].size() == 1);  // the real phone is not affected

    // 3,000 REGISTERs in 3 s from one address while the campaign dials.
    const double refused_before =
        metric(metrics_port, "outpace_sip_register_total{result=\"rate_limited\"}");
    const double calls_before =
        metric(metrics_port, "outpace_dials_total{campaign=\"during-flood\"}");
    const auto flood_start = std::chrono::steady_clock::now();
    sipp_phone(rig, "register_flood.xml", "127.0.0.4", free_port(), engine_port, "mallory", "x",
               "-m 3000 -r 1000 -recv_timeout 2000");
    const double flood_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - flood_start).count();
    const double refused =
        metric(metrics_port, "outpace_sip_register_total{result=\"rate_limited\"}") -
        std::max(0.0, refused_before);
    const double calls =
        metric(metrics_port, "outpace_dials_total{campaign=\"during-flood\"}") - calls_before;
    MESSAGE("flood of 3000 REGISTERs over " << flood_s << " s: " << refused
                                            << " refused by the per-source limit, then the "
                                               "address locked out; "
                                            << calls << " calls placed meanwhile");
    // flood_lockout_after (50 here; 100 by default) refusals in a row lock the address out: the
    // rest are dropped by the kernel (a few already queued are answered 403 locked_out).
    CHECK(refused >= 50);
    CHECK(refused < 100);
    CHECK(control_status(control_port)["registration_lockouts"] ==
          json::array({"127.0.0.3", "127.0.0.4"}));
    CHECK(calls >= 5);  // the campaign kept dialling (20 on a quiet machine)
    CHECK(engine->running());

    // Not refreshed: the binding is gone 10 s after the last REGISTER.
    std::this_thread::sleep_until(rebound + std::chrono::milliseconds(10'500));
    bool gone = false;
    for (int i = 0; i < 40 && !gone; ++i) {
        gone = control_status(control_port)["registrations"].empty();
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(gone);
    CHECK(metric(metrics_port, "outpace_agents_registered") == 0);
}

TEST_CASE(
    "softphones: one behind NAT (its Contact names a private address) is called where its "
    "REGISTER came from") {
    Rig rig;
    rig.campaign("nat", "uas_busy.xml", 1, "", 0);
    const auto accounts = write_agents(rig, {"alice"});
    const int agents_port = free_port();
    auto engine = start_engine(rig, agents_port, accounts);
    auto agent = start_agent(rig, agents_port, "alice");
    REQUIRE_MESSAGE(wait_logged_in(rig, "alice"), rig.log("agent.log"));
    const int engine_port = engine_sip_port(rig);
    REQUIRE(wait_udp_bound(engine_port));
    // SIPp registers naming 10.0.0.5:5060, and exits; another SIPp takes the same address and
    // port and answers one INVITE with 486 (Sofia resends the INVITE until it does): it
    // succeeds only if the engine's call comes to where the REGISTER came from. It used to go
    // to the Contact's address (nua ignored the handle's outbound proxy).
    const int port = free_port();
    REQUIRE(sipp_phone(rig, "register.xml", "127.0.0.2", port, engine_port, "alice", "alice-sip-pw",
                       "-m 1 -key expires 60") == 0);
    const auto r = test::run("sipp -nostdin -timeout 20s -sf " + std::string(OUTPACE_SOURCE_DIR) +
                             "/tests/sipp/uas_busy.xml -i 127.0.0.2 -p " + std::to_string(port) +
                             " -m 1 >> " + rig.file("sipp-phones.log") + " 2>&1");
    INFO(rig.log("sipp-phones.log"));
    INFO(rig.log("engine.log"));
    CHECK(r.status == 0);
    CHECK(rig.log("engine.log").find("agent alice: softphone registered; calling it") !=
          std::string::npos);
}
