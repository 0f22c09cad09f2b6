// Supervisors listening in (docs/agent-protocol.md, "Monitoring"): the mixer on its own, then the
// engine in-process on a fake clock with an agents file. Each party speaks its own tone (customer
// 440 Hz, agent 1 kHz, supervisor 2 kHz) and each one's received audio is searched for the
// others' tones: who hears whom in listen, whisper and barge, that nobody hears itself, and what
// the attempt keeps.
#include <doctest/doctest.h>

#include "dialer/media/mixer.h"
#include "tests/monitor_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

TEST_CASE(
    "mixer: a lone source goes straight through, several are summed and clipped on the tick") {
    media::Mixer m;
    std::map<int, std::vector<std::array<std::int16_t, 160>>> got;
    for (int p : {0, 1, 2})
        m.add(p, [&got, p](std::span<const std::int16_t> pcm) {
            std::array<std::int16_t, 160> f{};
            std::copy_n(pcm.begin(), 160, f.begin());
            got[p].push_back(f);
        });
    m.hear(0, 1, true);
    m.hear(1, 0, true);
    m.hear(2, 0, true);
    m.hear(2, 1, true);
    m.hear(2, 2, true);  // nobody hears itself: ignored
    CHECK_FALSE(m.hears(2, 2));
    std::array<std::int16_t, 160> a{}, b{};
    a.fill(20000);
    b.fill(15000);
    m.input(0, a);
    // 1 hears only 0: at once, unchanged.
    REQUIRE(got[1].size() == 1);
    CHECK(got[1][0][0] == 20000);
    CHECK(got[2].empty());  // 2 mixes: nothing before the tick
    m.input(1, b);
    CHECK(got[0].size() == 1);
    m.tick();
    REQUIRE(got[2].size() == 1);
    CHECK(got[2][0][0] == 32767);  // 35000 clipped
    b.fill(-20000);
    m.input(0, b);
    m.input(1, b);
    m.tick();
    CHECK(got[2].back()[0] == -32768);
    // A tick with nothing from anyone sends nothing.
    m.tick();
    CHECK(got[2].size() == 2);
    // A burst beyond the queue loses its oldest frames, not the clock.
    for (int i = 0; i < 5; ++i) m.input(0, a);
    CHECK(m.dropped() == 2);
    m.remove(1);
    CHECK_FALSE(m.hears(0, 1));
    CHECK_FALSE(m.hears(2, 1));
}

TEST_CASE(
    "monitoring: a supervisor listens, whispers and barges, and each party hears exactly "
    "whom it should") {
    MonitorFloor f;
    auto& sim = f.sim;

    // Before anyone listens in: customer and agent hear each other, the supervisor nothing.
    auto h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.absent(kSupervisorHz));
    CHECK(h.customer.absent(kCustomerHz));  // never itself
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.absent(kAgentHz));
    CHECK(h.boss.frames == 0);

    // An agent may not listen in; the error says nothing about the call.
    sim.desk().request("x", R"({"type":"monitor","attempt":)" + std::to_string(f.attempt) + "}");
    CHECK(last_to(sim, "x", "error")["reason"] ==
          "monitoring is for supervisors (role: supervisor in the agents file)");
    sim.desk().request("x", R"({"type":"calls"})");
    CHECK(last_to(sim, "x", "error")["request"] == "calls");
    CHECK(last_to(sim, "x", "calls").is_null());
    sim.desk().request("b", R"({"type":"monitor","attempt":999999})");
    CHECK(last_to(sim, "b", "error")["reason"] == "no call with attempt 999999 is live");

    // The supervisor's list of live calls.
    sim.desk().request("b", R"({"type":"calls"})");
    const auto calls = last_to(sim, "b", "calls")["calls"];
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]["attempt"] == f.attempt);
    CHECK(calls[0]["agent"] == "a1");
    CHECK(calls[0]["campaign"] == "sim");
    CHECK(calls[0]["phone"] == f.customer->dial.to.substr(4, 12));
    CHECK(calls[0]["state"] == "talking");
    CHECK(calls[0]["duration_s"].get<double>() >= 2.0);
    CHECK(calls[0]["monitors"].empty());

    // Listen: the supervisor hears both sides mixed; nobody hears the supervisor.
    f.monitor("listen");
    auto m = last_to(sim, "b", "monitoring");
    CHECK(m["attempt"] == f.attempt);
    CHECK(m["agent"] == "a1");
    CHECK(m["mode"] == "listen");
    CHECK(sim.desk().event("call.sim", "event", "monitor"));
    h = f.second();
    CHECK(h.boss.frames >= 45);
    CHECK(h.boss.share(kCustomerHz) > 0.9);
    CHECK(h.boss.share(kAgentHz) > 0.9);
    CHECK(h.boss.absent(kSupervisorHz));
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.absent(kSupervisorHz));
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.absent(kSupervisorHz));
    sim.desk().request("b", R"({"type":"calls"})");
    CHECK(last_to(sim, "b", "calls")["calls"][0]["monitors"][0]["mode"] == "listen");

    // Whisper: the agent hears the supervisor over the customer; the customer still does not.
    f.monitor("whisper");
    CHECK(last_to(sim, "b", "monitoring")["mode"] == "whisper");
    h = f.second();
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.share(kSupervisorHz) > 0.9);
    CHECK(h.agent.absent(kAgentHz));
    CHECK(h.customer.absent(kSupervisorHz));
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.boss.share(kCustomerHz) > 0.9);
    CHECK(h.boss.share(kAgentHz) > 0.9);
    CHECK(h.boss.absent(kSupervisorHz));

    // Barge: a three-way call; each hears the two others and never itself.
    f.monitor("barge");
    h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.share(kSupervisorHz) > 0.9);
    CHECK(h.customer.absent(kCustomerHz));
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.share(kSupervisorHz) > 0.9);
    CHECK(h.agent.absent(kAgentHz));
    CHECK(h.boss.share(kCustomerHz) > 0.9);
    CHECK(h.boss.share(kAgentHz) > 0.9);
    CHECK(h.boss.absent(kSupervisorHz));
    // The same mode again changes nothing.
    f.monitor("barge");
    CHECK(last_to(sim, "b", "error")["reason"] == "already barging");
    // A supervisor monitoring does not take calls.
    sim.desk().request("b", R"({"type":"ready"})");
    CHECK(last_to(sim, "b", "error")["reason"] == "monitoring a call: leave it first (unmonitor)");

    // Leaving: back to the two of them, straight through; the supervisor hears nothing.
    sim.desk().request("b", R"({"type":"unmonitor"})");
    CHECK(last_to(sim, "b", "monitor_ended")["reason"] == "left");
    CHECK(sim.desk().event("call.sim", "event", "monitor_ended"));
    h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.absent(kSupervisorHz));
    CHECK(h.agent.absent(kSupervisorHz));
    CHECK(h.boss.frames == 0);

    // Listening again, then the supervisor's softphone drops: the monitoring ends, the call
    // goes on between customer and agent.
    f.monitor("listen");
    f.speak(500ms);
    sim.sip().finish_ended(f.boss_leg->id, true);
    sim.run_for(20ms);
    CHECK(last_to(sim, "b", "monitor_ended")["reason"] == "your softphone hung up");
    h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.agent.share(kCustomerHz) > 0.9);

    // The attempt keeps each stretch: who, how, from when to when.
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) +
                                R"(,"code":")" + sim.campaign().dispositions.front().code + "\"}");
    sim.run_for(200ms);
    const std::optional<Attempt> done = f.stored();
    REQUIRE(done);
    REQUIRE(done->monitors.size() == 4);
    const char* modes[] = {"listen", "whisper", "barge", "listen"};
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(done->monitors[i].supervisor == "boss");
        CHECK(done->monitors[i].mode == modes[i]);
        CHECK(done->monitors[i].to_ms > done->monitors[i].from_ms);
    }
    CHECK(done->monitors[0].to_ms - done->monitors[0].from_ms >= 1000);
    CHECK(done->monitors[1].from_ms == done->monitors[0].to_ms);
}

TEST_CASE("monitoring: the customer hanging up ends it, and the supervisor can take calls again") {
    MonitorFloor f;
    auto& sim = f.sim;
    f.monitor("barge");
    f.speak(500ms);
    sim.sip().finish_ended(f.customer->id, true);  // the customer hangs up
    sim.run_for(40ms);
    CHECK(last_to(sim, "b", "monitor_ended")["reason"] == "the call ended");
    CHECK(last_to(sim, "b", "monitor_ended")["attempt"] == f.attempt);
    sim.desk().request("b", R"({"type":"unmonitor"})");
    CHECK(last_to(sim, "b", "error")["reason"] == "not monitoring a call");
    sim.desk().request("b", R"({"type":"ready"})");
    sim.run_for(100ms);
    CHECK(last_to(sim, "b", "state")["state"] == "ready");
    // The agent's wrap-up holds the barge, closed when the call ended.
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) +
                                R"(,"code":")" + sim.campaign().dispositions.front().code + "\"}");
    sim.run_for(200ms);
    const std::optional<Attempt> done = f.stored();
    REQUIRE(done);
    REQUIRE(done->monitors.size() == 1);
    CHECK(done->monitors[0].mode == "barge");
    CHECK(done->monitors[0].to_ms - done->monitors[0].from_ms >= 500);
}

TEST_CASE(
    "messages between desktops: agents write to supervisors, supervisors to anyone, bounded") {
    MonitorFloor f;
    auto& sim = f.sim;
    sim.desk().request("x", R"({"type":"message","text":"can you help on 4417?"})");
    CHECK(f.last("x", "message_sent")["desktops"] == 1);
    CHECK(f.last("b", "message")["from"] == "a2");
    CHECK(f.last("b", "message")["text"] == "can you help on 4417?");
    CHECK(f.last("d", "message").is_null());  // an agent's message is for supervisors only
    sim.desk().request("x", R"({"type":"message","text":"hi","agent":"a1"})");
    CHECK(f.last("x", "error")["reason"] == "agent a1 is not a supervisor logged in");
    sim.desk().request("x", R"({"type":"message","text":"hi","campaign":"sim"})");
    CHECK(f.last("x", "error")["reason"] == "agents message supervisors, not campaigns");
    // A supervisor writes to one agent, or to a campaign's agents (a1 serves sim).
    sim.desk().request("b", R"({"type":"message","text":"offer the 10% plan","agent":"a1"})");
    CHECK(f.last("d", "message")["text"] == "offer the 10% plan");
    CHECK(f.last("d", "message")["from"] == "boss");
    sim.desk().request("b", R"({"type":"message","text":"huddle at 3","campaign":"sim"})");
    CHECK(f.last("d", "message")["text"] == "huddle at 3");
    CHECK(f.last("b", "message_sent")["desktops"].get<int>() >= 1);
    // A flood is cut to its rate: 5 at once (1 spent above), then one a second.
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
        sim.desk().request("x", R"({"type":"message","text":"again"})");
        refused += f.last("x", "error")["reason"] == "too many messages: one a second";
        f.sim.desk().to("x").clear();
    }
    CHECK(refused == 6);
    sim.run_for(1100ms);
    sim.desk().request("x", R"({"type":"message","text":"later"})");
    CHECK(f.last("x", "message_sent")["desktops"] == 1);
}
