// Listening in over the wire: a SIPp carrier as the customer (hello, then a 1 kHz hum; what the
// engine sends it captured as RTP), baresip as the agent (saying 600 Hz, over PCMU) and another
// baresip as the supervisor (saying 1.5 kHz, over PCMA: each party's own law), desktops over
// ZeroMQ. What each heard is searched for the others' tones: the supervisor hears customer and
// agent mixed, the customer hears the supervisor only while barging, nobody hears itself.
#include <doctest/doctest.h>

#include "tests/agent_rig.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// Packets the customer received in [from, to) carrying `hz` (at least a fifth of the energy).
int customer_heard(RtpCapture& capture, double hz, std::chrono::steady_clock::time_point from,
                   std::chrono::steady_clock::time_point to) {
    int n = 0;
    for (const auto& p : capture.packets())
        n += p.at >= from && p.at < to && p.peak > 1000 && purity(p.pcm, hz) >= 0.2;
    return n;
}

}  // namespace

TEST_CASE("monitoring over the wire: softphones hear the mix, each with its own law") {
    Rig rig;
    RtpCapture customer;
    const int alice_sip = free_port(), sue_sip = free_port();
    Baresip alice(rig, "127.0.0.1:" + std::to_string(alice_sip),
                  "<sip:alice@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU", "", 600,
                  "alice");
    Baresip sue(rig, "127.0.0.1:" + std::to_string(sue_sip),
                "<sip:sue@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMA", "", 1500, "sue");
    REQUIRE(wait_udp_bound(alice_sip));
    REQUIRE(wait_udp_bound(sue_sip));
    const auto accounts = rig.write(
        "agents.yaml", "agents:\n  - id: alice\n    desktop_password: \"" + quick_hash("alice-pw") +
                           "\"\n    phone: sip:alice@127.0.0.1:" + std::to_string(alice_sip) +
                           "\n  - id: sue\n    role: supervisor\n    desktop_password: \"" +
                           quick_hash("sue-pw") +
                           "\"\n    phone: sip:sue@127.0.0.1:" + std::to_string(sue_sip) + "\n");
    const auto callee =
        rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 40");
    rig.campaign("wire", callee, 1, "", 0);
    const int agents = free_port();
    auto engine =
        rig.start("agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents) +
                  "\", heartbeat: 5s, missed_heartbeats: 3, accounts: " + accounts + "}\n");
    REQUIRE(wait_tcp_listening(agents));
    INFO(rig.log("engine.log"));
    Desk a(agents, "desk-alice"), s(agents, "desk-sue");
    s.send(json{{"type", "login"}, {"agent", "sue"}, {"password", "sue-pw"}});
    REQUIRE(!s.expect("logged_in", 10s).is_null());
    a.send(json{{"type", "login"}, {"agent", "alice"}, {"password", "alice-pw"}});
    REQUIRE(!a.expect("logged_in", 10s).is_null());
    a.send(json{{"type", "ready"}});
    const auto offer = a.expect("offer", 30s);
    REQUIRE(!offer.is_null());
    const std::uint64_t attempt = offer["attempt"];
    std::this_thread::sleep_for(3s);  // past the customer's hello: the hum from here on

    const auto t0 = std::chrono::steady_clock::now();
    s.send(json{{"type", "monitor"}, {"attempt", attempt}, {"mode", "listen"}});
    REQUIRE(!s.expect("monitoring", 5s).is_null());
    std::this_thread::sleep_for(3s);
    a.send(json{{"type", "heartbeat"}});
    const auto t1 = std::chrono::steady_clock::now();
    s.send(json{{"type", "monitor"}, {"attempt", attempt}, {"mode", "barge"}});
    REQUIRE(!s.expect("monitoring", 5s).is_null());
    std::this_thread::sleep_for(3s);
    const auto t2 = std::chrono::steady_clock::now();
    s.send(json{{"type", "unmonitor"}});
    REQUIRE(!s.expect("monitor_ended", 5s).is_null());
    a.send(json{{"type", "hangup"}});
    REQUIRE(!a.expect("wrapup", 10s).is_null());
    a.send(json{{"type", "disposition"}, {"attempt", attempt}, {"code", "SALE"}});
    REQUIRE(!a.expect("disposed", 5s).is_null());
    s.send(json{{"type", "logout"}});
    a.send(json{{"type", "logout"}});
    REQUIRE(!a.expect("logged_out", 10s).is_null());
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);

    // The customer: the agent all along; the supervisor only while barging (a little slack at
    // each edge for packets in flight).
    const auto slack = 300ms;
    const int agent_listen = customer_heard(customer, 600, t0 + slack, t1 - slack);
    const int sue_listen = customer_heard(customer, 1500, t0 + slack, t1 - slack);
    const int sue_barge = customer_heard(customer, 1500, t1 + slack, t2 - slack);
    const int agent_barge = customer_heard(customer, 600, t1 + slack, t2 - slack);
    CHECK_MESSAGE(agent_listen >= 100, agent_listen << " packets of the agent while listened to");
    CHECK_MESSAGE(sue_listen == 0, sue_listen << " packets of the supervisor while listening");
    CHECK_MESSAGE(sue_barge >= 100, sue_barge << " packets of the supervisor while barging");
    CHECK_MESSAGE(agent_barge >= 100, agent_barge << " packets of the agent while barging");
    CHECK(customer_heard(customer, 1000, t0, t2) == 0);  // never its own hum

    // The supervisor (PCMA): customer and agent in the same frames, for listen and barge; never
    // itself.
    const int both = mixed_frames(sue.heard_wav(), {1000, 600});
    CHECK_MESSAGE(both >= 200, both << " frames of customer and agent mixed");
    CHECK(mixed_frames(sue.heard_wav(), {1500}) == 0);
    // The agent (PCMU): the supervisor over the customer while barged, never itself.
    const int barged = mixed_frames(alice.heard_wav(), {1000, 1500});
    CHECK_MESSAGE(barged >= 100, barged << " frames of customer and supervisor");
    CHECK_MESSAGE(barged <= 200, barged << " frames: more than the barge lasted");
    CHECK(mixed_frames(alice.heard_wav(), {600}) == 0);

    // The ledger: sue's two stretches.
    const auto all = rig.attempts()["wire"];
    REQUIRE(all.size() == 1);
    REQUIRE(all[0].monitors.size() == 2);
    CHECK(all[0].monitors[0].mode == "listen");
    CHECK(all[0].monitors[1].mode == "barge");
}
