// Transfer time (issue: transfers, conferences and supervisors): from the desktop's `complete`
// to the first packet of the customer's voice reaching the target agent's softphone, over the
// wire, ROUNDS times. A SIPp carrier's callee says hello, then hums 1 kHz; agent A's softphone is
// a SIPp UAS echoing RTP; agent B's is a SIPp UAS whose SDP names a capture socket here, so every
// packet the engine sends B is timestamped as it arrives. Each round: A takes a call, consults B
// (the customer on hold, B hears A), then `complete`: the clock runs from sending `complete` over
// ZeroMQ to the first packet at B's socket carrying the hum. Median, p99 and max of the rounds,
// printed beside the bound the design promises: the relay holds nothing back, so after the
// engine has read `complete` the first packet is the customer's next one (at most one packet
// interval, 20 ms, later) plus the relay's own time.
// Usage: bench_transfer [ROUNDS=14] (at most 15: the rig's engine stops after 90 s). Drives the
// release binary (build/outpace) with SIPp; a doctest program only for the test rigs' helpers. Not
// a test; not run by CI.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

#include "tests/agent_rig.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// The test rig stops its engine after 90 s (stop_after): some 16 rounds fit.
int rounds = 14;

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

TEST_CASE("transfer time") {
    Rig rig;
    Softphones a_phone(rig.file("a-phone.log"));
    RtpCapture b_ears;
    // B's softphone: answers and streams its own voice; its SDP names the capture socket.
    const auto b_scenario = rig.streaming("human-short-000.wav", 0, b_ears.port());
    auto b_sipp = start_sipp_uas(b_scenario, rig.file("b-phone.log"));
    REQUIRE(b_sipp.child);
    const auto accounts = rig.write(
        "agents.yaml", "agents:\n  - {id: a, desktop_password: \"" + quick_hash("a-pw") +
                           "\", phone: \"sip:a@127.0.0.1:" + std::to_string(a_phone.port) +
                           "\", campaigns: [bench]}\n  - {id: b, desktop_password: \"" +
                           quick_hash("b-pw") + "\", phone: \"sip:b@127.0.0.1:" +
                           std::to_string(b_sipp.port) + "\", campaigns: [closers]}\n");
    const auto callee = rig.streaming("human-short-000.wav", 300, 0, "0 sine 1000 60");
    rig.campaign("bench", callee, rounds, "", 0);
    rig.campaign("closers", "uas_busy.xml", 1, "", 0);
    const int agents = free_port();
    auto engine =
        rig.start("agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents) +
                  "\", heartbeat: 10s, missed_heartbeats: 3, accounts: " + accounts + "}\n");
    REQUIRE(wait_tcp_listening(agents));
    Desk a(agents, "bench-a"), b(agents, "bench-b");
    a.send(json{{"type", "login"}, {"agent", "a"}, {"password", "a-pw"}});
    b.send(json{{"type", "login"}, {"agent", "b"}, {"password", "b-pw"}});
    REQUIRE(!a.expect("logged_in", 10s).is_null());
    REQUIRE(!b.expect("logged_in", 10s).is_null());
    std::vector<double> ms;
    for (int round = 0; round < rounds; ++round) {
        if (round == 0) {
            b.send(json{{"type", "ready"}});
            a.send(json{{"type", "ready"}});
        }
        const auto offer = a.expect("offer", 30s);
        REQUIRE(!offer.is_null());
        const std::uint64_t attempt = offer["attempt"];
        std::this_thread::sleep_for(2500ms);  // past the hello: the hum from here on
        a.send(json{{"type", "consult"}, {"agent", "b"}});
        auto t = a.expect("transfer", 5s);
        while (!t.is_null() && t["state"] != "consulting") t = a.expect("transfer", 5s);
        REQUIRE(!t.is_null());
        std::this_thread::sleep_for(500ms);
        const auto sent = std::chrono::steady_clock::now();
        a.send(json{{"type", "complete"}});
        REQUIRE(!a.expect("wrapup", 5s).is_null());
        std::this_thread::sleep_for(500ms);
        double first = -1;
        for (const auto& p : b_ears.packets())
            if (p.at >= sent && p.peak > 1000 && purity(p.pcm, 1000) > 0.5) {
                first = std::chrono::duration<double, std::milli>(p.at - sent).count();
                break;
            }
        REQUIRE_MESSAGE(first >= 0, "round " << round << ": B never heard the customer");
        ms.push_back(first);
        // A's part first (A is ready again at once: its next offer may come any time after
        // this `disposed`, which must not be skipped while waiting for something else).
        a.send(json{{"type", "disposition"}, {"attempt", attempt}, {"code", "SALE"}});
        REQUIRE(!a.expect("disposed", 5s).is_null());
        b.send(json{{"type", "hangup"}});
        REQUIRE(!b.expect("wrapup", 5s).is_null());
        b.send(json{{"type", "disposition"}, {"attempt", attempt}, {"code", "SALE"}});
        REQUIRE(!b.expect("disposed", 5s).is_null());
    }
    std::printf(
        "transfer time, `complete` to the customer's first packet at the target's "
        "softphone, %d rounds over loopback:\n  median %.1f ms, p99 %.1f ms, max %.1f ms\n"
        "  reference: one packet interval, 20 ms (the customer's next packet)\n",
        rounds, percentile(ms, 0.5), percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()));
    engine->signal(SIGTERM);
    engine->wait(30s);
}

int main(int argc, char** argv) {
    if (argc > 1) rounds = std::clamp(std::atoi(argv[1]), 1, 15);
    doctest::Context context;
    context.setOption("no-intro", true);
    return context.run();
}
