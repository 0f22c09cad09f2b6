// Calls that move between agents (docs/agent-protocol.md, "Transfers and conferences"), in-process
// on a fake clock: agent a1 talks to the customer, agent a2 is the target. Each party speaks its
// own tone (customer 440 Hz, a1 1 kHz, a2 3 kHz) and what each hears is searched for the others'
// tones through a consult, a conference and the hand-over; a blind transfer waits on hold for a
// free agent and comes back when none is; the ledger keeps each agent's stretch and parts.
#include <doctest/doctest.h>

#include "campaigns/call_log.h"
#include "campaigns/report.h"
#include "tests/agent_rig.h"
#include "tests/monitor_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

void request(MonitorFloor& f, const std::string& desk, const std::string& json) {
    f.sim.desk().request(desk, json);
}

// Of a recording (stereo: the customer left, what the customer heard right), the 20 ms frames
// of channel `channel` carrying `hz`.
int recorded_frames(const std::string& wav, int channel, int hz) {
    int frames = 0;
    const int channels =
        for_each_wav_frame(wav, channel, [&](const std::vector<std::int16_t>& frame, int, int) {
            frames += FakeAudio::tone_amplitude(frame, hz) >= kHeard;
        });
    REQUIRE(channels == 2);
    return frames;
}

}  // namespace

TEST_CASE(
    "transfers: a consult, then a conference of three, then the customer left with the "
    "second agent, each hearing exactly whom it should") {
    MonitorFloor f;
    auto& sim = f.sim;
    request(f, "x", R"({"type":"ready"})");
    sim.run_for(100ms);

    request(f, "d", R"({"type":"consult","agent":"a2"})");
    // a2 was ready: found at once.
    CHECK(f.last("d", "transfer")["state"] == "consulting");
    CHECK(f.last("d", "transfer")["agent"] == "a2");
    const auto pop = f.last("x", "offer");  // the target sees the contact's card
    CHECK(pop["attempt"] == f.attempt);
    CHECK(pop["transferred_by"] == "a1");
    CHECK(pop["transfer_kind"] == "consult");
    CHECK(f.last("x", "transfer")["state"] == "consulting");
    CHECK(f.last("x", "state")["state"] == "talking");
    CHECK(sim.desk().event("call.sim", "event", "transfer"));

    // Consult: the agents hear each other; the customer is on hold and hears neither.
    auto h = f.second();
    CHECK(h.agent.share(kOtherAgentHz) > 0.9);
    CHECK(h.agent.absent(kCustomerHz));
    CHECK(h.agent.absent(kAgentHz));
    CHECK(h.other.share(kAgentHz) > 0.9);
    CHECK(h.other.absent(kCustomerHz));
    CHECK(h.other.absent(kOtherAgentHz));
    CHECK(h.customer.frames >= 45);  // the hold prompt, never dead air
    CHECK(h.customer.absent(kAgentHz));
    CHECK(h.customer.absent(kOtherAgentHz));

    // A conference: each of the three hears the two others.
    request(f, "d", R"({"type":"conference"})");
    CHECK(f.last("d", "transfer")["state"] == "conference");
    CHECK(f.last("x", "transfer")["state"] == "conference");
    h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.share(kOtherAgentHz) > 0.9);
    CHECK(h.customer.absent(kCustomerHz));
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.share(kOtherAgentHz) > 0.9);
    CHECK(h.agent.absent(kAgentHz));
    CHECK(h.other.share(kCustomerHz) > 0.9);
    CHECK(h.other.share(kAgentHz) > 0.9);
    CHECK(h.other.absent(kOtherAgentHz));
    request(f, "d", R"({"type":"conference"})");
    CHECK(f.last("d", "error")["reason"] == "already in a conference");

    // a1 leaves: the customer and a2 go on, straight to each other; a1 wraps its part up.
    request(f, "d", R"({"type":"complete"})");
    CHECK(f.last("d", "transfer")["state"] == "completed");
    CHECK(f.last("d", "hangup")["by"] == "transfer");
    CHECK(f.last("d", "state")["state"] == "wrapup");
    CHECK(f.last("x", "transfer")["state"] == "completed");
    CHECK(f.last("x", "connected")["attempt"] == f.attempt);
    h = f.second();
    CHECK(h.customer.share(kOtherAgentHz) > 0.9);
    CHECK(h.customer.absent(kAgentHz));
    CHECK(h.other.share(kCustomerHz) > 0.9);
    CHECK(h.other.absent(kAgentHz));
    CHECK(h.agent.frames == 0);

    // a1's part gets its own code; a2 ends the call and gives the attempt's.
    request(f, "d",
            R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) +
                R"(,"code":"CALLBACK","callback_at":"2030-01-01T10:00:00Z"})");
    CHECK(f.last("d", "disposed")["code"] == "CALLBACK");
    sim.run_for(100ms);
    CHECK(f.last("d", "state")["state"] == "ready");
    request(f, "x", R"({"type":"hangup"})");
    sim.run_for(100ms);
    CHECK(f.last("x", "hangup")["by"] == "agent");
    request(
        f, "x",
        R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) + R"(,"code":"SALE"})");
    sim.run_for(300ms);
    const auto a = f.stored();
    REQUIRE(a);
    CHECK(a->agent == "a2");
    CHECK(a->disposition == "SALE");
    CHECK(a->callback_at == 0);  // a part's code is only that part's
    REQUIRE(a->legs.size() == 4);
    CHECK(a->legs[0].agent == "a2");
    CHECK(a->legs[0].kind == "consult");
    CHECK(a->legs[1].agent == "a1");
    CHECK(a->legs[1].kind == "talk");
    CHECK(a->legs[1].to == "a2");
    CHECK(a->legs[1].disposition == "CALLBACK");
    CHECK(a->legs[2].agent == "a2");
    CHECK(a->legs[2].kind == "conference");
    CHECK(a->legs[3].agent == "a2");
    CHECK(a->legs[3].kind == "talk");
    CHECK(a->legs[0].to_ms == a->legs[2].from_ms);  // the consult became the conference
    CHECK(a->legs[1].to_ms == a->legs[3].from_ms);  // a1 handed over as a2 took the customer
    CHECK(a->legs[3].to_ms - a->legs[3].from_ms >= 1000);

    // The per-agent totals credit each agent its own stretches with the customer.
    CampaignReport report = build_report(sim.store(), sim.campaign(), sim.clock().wall_s(), true);
    REQUIRE(report.agents.count("a1"));
    REQUIRE(report.agents.count("a2"));
    CHECK(report.agents["a1"].calls == 1);
    CHECK(report.agents["a2"].calls == 1);
    CHECK(report.agents["a1"].talk_ms == a->legs[1].to_ms - a->legs[1].from_ms);
    CHECK(report.agents["a2"].talk_ms ==
          (a->legs[2].to_ms - a->legs[2].from_ms) + (a->legs[3].to_ms - a->legs[3].from_ms));
}

TEST_CASE(
    "transfers: a blind transfer waits on hold for its target, and one nobody takes in the "
    "campaign's time comes back") {
    MonitorFloor f("transfer: {timeout: 3s}\n");
    // What cannot be asked for.
    request(f, "d", R"({"type":"transfer","agent":"nobody"})");
    CHECK(f.last("d", "error")["reason"] == "agent nobody is not logged in");
    request(f, "d", R"({"type":"transfer","queue":"klingon"})");
    CHECK(f.last("d", "error")["reason"] == "no queue 'klingon': name a skill or a campaign");
    request(f, "d", R"({"type":"transfer","agent":"a1"})");
    CHECK(f.last("d", "error")["reason"] == "that is you");
    request(f, "d", R"({"type":"complete"})");
    CHECK(f.last("d", "error")["reason"] == "nothing to complete: consult first");
    request(f, "x", R"({"type":"transfer","agent":"a1"})");
    CHECK(f.last("x", "error")["reason"] == "no call to transfer");

    // To the campaign's queue while nobody else is ready: hold, then back after 3 s.
    request(f, "d", R"({"type":"transfer","queue":"sim"})");
    CHECK(f.last("d", "transfer")["state"] == "waiting");
    auto h = f.second();
    CHECK(h.customer.absent(kAgentHz));
    CHECK(h.customer.frames >= 45);
    request(f, "d", R"({"type":"transfer","agent":"a2"})");
    CHECK(f.last("d", "error")["reason"] == "a transfer is under way: complete or cancel it first");
    f.speak(2500ms);
    const auto failed = f.last("d", "transfer");
    CHECK(failed["state"] == "failed");
    CHECK(failed["reason"] == "nobody in queue sim was free within 3 s");
    h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);  // back with a1
    CHECK(h.agent.share(kCustomerHz) > 0.9);

    // To a2, who is paused: the customer waits; a2 goes ready a second later and has the call.
    request(f, "d", R"({"type":"transfer","agent":"a2"})");
    f.speak(1s);
    CHECK(f.last("x", "offer").is_null());
    request(f, "x", R"({"type":"ready"})");
    f.speak(200ms);
    const auto pop = f.last("x", "offer");
    CHECK(pop["transferred_by"] == "a1");
    CHECK(pop["transfer_kind"] == "transfer");
    CHECK(f.last("d", "transfer")["state"] == "completed");
    CHECK(f.last("d", "state")["state"] == "wrapup");
    h = f.second();
    CHECK(h.customer.share(kOtherAgentHz) > 0.9);
    CHECK(h.customer.absent(kAgentHz));
    CHECK(h.other.share(kCustomerHz) > 0.9);
    CHECK(h.agent.frames == 0);
}

TEST_CASE("transfers: a consult ends cleanly when the customer hangs up or the target leaves") {
    MonitorFloor f;
    auto& sim = f.sim;
    request(f, "x", R"({"type":"ready"})");
    sim.run_for(100ms);

    // The target hangs up on the consult: a1 is back with the customer.
    request(f, "d", R"({"type":"consult","agent":"a2"})");
    f.speak(500ms);
    request(f, "x", R"({"type":"hangup"})");
    CHECK(f.last("x", "transfer")["state"] == "ended");
    CHECK(f.last("d", "transfer")["state"] == "cancelled");
    CHECK(f.last("d", "transfer")["reason"] == "a2 hung up");
    sim.run_for(100ms);
    CHECK(f.last("x", "state")["state"] == "ready");
    auto h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.absent(kOtherAgentHz));

    // Consulting again, a1 cancels: the same.
    request(f, "d", R"({"type":"consult","queue":"sim"})");
    CHECK(f.last("d", "transfer")["state"] == "consulting");
    request(f, "d", R"({"type":"cancel"})");
    CHECK(f.last("d", "transfer")["state"] == "cancelled");
    CHECK(f.last("x", "transfer")["state"] == "ended");

    // The customer hangs up during a consult: the target is free again, a1 wraps up.
    request(f, "d", R"({"type":"consult","agent":"a2"})");
    f.speak(500ms);
    sim.sip().finish_ended(f.customer->id, true);
    sim.run_for(100ms);
    CHECK(f.last("x", "transfer")["state"] == "ended");
    CHECK(f.last("x", "transfer")["reason"] == "the call ended");
    CHECK(f.last("x", "state")["state"] == "ready");
    CHECK(f.last("d", "state")["state"] == "wrapup");
    request(f, "d",
            R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) +
                R"(,"code":"NOT_INTERESTED"})");
    sim.run_for(300ms);
    const auto a = f.stored();
    REQUIRE(a);
    CHECK(a->agent == "a1");
    // Three consults with a2, then a1's own stretch (the call moved between agents).
    REQUIRE(a->legs.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CHECK(a->legs[i].agent == "a2");
        CHECK(a->legs[i].kind == "consult");
    }
    CHECK(a->legs[3].agent == "a1");
    CHECK(a->legs[3].kind == "talk");
}

TEST_CASE(
    "transfers: to a number outside the campaign allows - busy, then a consult, a conference "
    "and the customer left with it") {
    MonitorFloor f("transfer: {timeout: 5s, external_allowed: [\"+1800555*\"]}\n");
    auto& sim = f.sim;
    // The numbers outside: +18005550100 is busy, +18005550199 answers and hums 2.5 kHz.
    std::vector<std::int16_t> hum;
    std::size_t n = 0;
    for (int i = 0; i < 60 * 50; ++i) {
        const auto frame = tone_frame(kOutsideHz, n);
        hum.insert(hum.end(), frame.begin(), frame.end());
    }
    sim.carrier([hum](const ScriptedSip::Invite& i) {
        if (i.dial.to.find("+18005550100") != std::string::npos)
            return CarrierPlan{200ms, 486, true, {}, -1ms};
        return CarrierPlan{300ms, 200, true, hum, -1ms};
    });
    auto outside = [&]() -> ScriptedSip::Invite* {
        for (auto& i : sim.sip().invites())
            if (i.dial.to.find("+18005550199") != std::string::npos) return &i;
        return nullptr;
    };

    // Only the numbers the campaign lists.
    request(f, "d", R"({"type":"transfer","number":"+12125551234"})");
    CHECK(f.last("d", "error")["reason"] ==
          "campaign sim does not allow transfers to +12125551234 (transfer.external_allowed)");
    CHECK(sim.sip().invites().size() == 4);  // the customer and three softphones: nothing dialled
    std::string error;
    CHECK_FALSE(
        parse_agent_request(R"({"type":"consult","agent":"a2","number":"+18005550199"})", &error));
    CHECK(error ==
          "'consult' needs one of 'agent' (an agent id), 'queue' (a skill or campaign) or "
          "'number' (a number the campaign allows)");

    // Busy: the customer is back with a1.
    request(f, "d", R"({"type":"consult","number":"+1 800 555 0100"})");
    CHECK(f.last("d", "transfer")["state"] == "waiting");
    f.speak(500ms);
    CHECK(f.last("d", "transfer")["state"] == "failed");
    CHECK(f.last("d", "transfer")["reason"] == "+18005550100: 486 scripted");
    auto h = f.second();
    CHECK(h.customer.share(kAgentHz) > 0.9);

    // A consult: a1 and the number hear each other, the customer is on hold.
    request(f, "d", R"({"type":"consult","number":"+18005550199"})");
    f.speak(500ms);
    CHECK(f.last("d", "transfer")["state"] == "consulting");
    CHECK(f.last("d", "transfer")["agent"] == "+18005550199");
    ScriptedSip::Invite* x = outside();
    REQUIRE(x);
    CHECK(x->dial.from.find("+12125550100") != std::string::npos);  // the campaign's caller ID
    auto t0 = sim.clock().now();
    h = f.second();
    auto t1 = sim.clock().now();
    auto heard_outside = tones_in(sim.sent(*x), t0, t1);
    CHECK(h.agent.share(kOutsideHz) > 0.9);
    CHECK(h.agent.absent(kCustomerHz));
    CHECK(heard_outside.share(kAgentHz) > 0.9);
    CHECK(heard_outside.absent(kOutsideHz));
    CHECK(h.customer.absent(kOutsideHz));
    CHECK(h.customer.absent(kAgentHz));

    // The conference of the three.
    request(f, "d", R"({"type":"conference"})");
    CHECK(f.last("d", "transfer")["state"] == "conference");
    t0 = sim.clock().now();
    h = f.second();
    t1 = sim.clock().now();
    heard_outside = tones_in(sim.sent(*x), t0, t1);
    CHECK(h.customer.share(kAgentHz) > 0.9);
    CHECK(h.customer.share(kOutsideHz) > 0.9);
    CHECK(h.agent.share(kCustomerHz) > 0.9);
    CHECK(h.agent.share(kOutsideHz) > 0.9);
    CHECK(heard_outside.share(kCustomerHz) > 0.9);
    CHECK(heard_outside.share(kAgentHz) > 0.9);

    // a1 leaves: the customer and the number, through the engine.
    request(f, "d", R"({"type":"complete"})");
    CHECK(f.last("d", "transfer")["state"] == "completed");
    CHECK(f.last("d", "state")["state"] == "wrapup");
    t0 = sim.clock().now();
    h = f.second();
    t1 = sim.clock().now();
    heard_outside = tones_in(sim.sent(*x), t0, t1);
    CHECK(h.customer.share(kOutsideHz) > 0.9);
    CHECK(h.customer.absent(kAgentHz));
    CHECK(heard_outside.share(kCustomerHz) > 0.9);
    CHECK(heard_outside.absent(kAgentHz));
    CHECK(h.agent.frames == 0);
    request(
        f, "d",
        R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) + R"(,"code":"SALE"})");
    CHECK(f.last("d", "disposed")["code"] == "SALE");

    // The number hangs up: the customer's call ends with it (nobody left in silence).
    sim.sip().finish_ended(x->id, true);
    sim.run_for(300ms);
    CHECK(f.customer->over);
    sim.run_for(500ms);
    const auto a = f.stored();
    REQUIRE(a);
    CHECK(a->outcome == Outcome::connected);
    CHECK(a->agent == "a1");
    CHECK(a->disposition == "SALE");  // no agent after a1: a1's code is the call's
    REQUIRE(a->legs.size() == 4);
    CHECK(a->legs[0].agent == "+18005550199");
    CHECK(a->legs[0].kind == "consult");
    CHECK(a->legs[1].agent == "a1");
    CHECK(a->legs[1].to == "+18005550199");
    CHECK(a->legs[1].disposition == "SALE");
    CHECK(a->legs[2].kind == "conference");
    CHECK(a->legs[3].kind == "outside");
    CHECK(a->legs[3].to_ms - a->legs[3].from_ms >= 1000);
}

TEST_CASE("transfers: the recording follows the customer from the first agent to the second") {
    MonitorFloor f("recording: {enabled: true, folder: rec}\n");
    auto& sim = f.sim;
    request(f, "x", R"({"type":"ready"})");
    f.speak(1s);
    request(f, "d", R"({"type":"transfer","agent":"a2"})");
    CHECK(f.last("d", "transfer")["state"] == "completed");
    f.speak(2s);
    request(f, "x", R"({"type":"hangup"})");
    sim.run_for(200ms);
    sim.engine().flush_recordings();  // written by a thread of its own
    const std::string wav = recording_path(sim.campaign(), f.attempt);
    // One file for the attempt: the customer's hum on the left all along; on the right, a1
    // before the transfer and a2 after it.
    CHECK(recorded_frames(wav, 0, kCustomerHz) >= 200);
    const int first = recorded_frames(wav, 1, kAgentHz);
    const int second = recorded_frames(wav, 1, kOtherAgentHz);
    CHECK_MESSAGE(first >= 200, first << " frames of a1");  // the 4 s + 1 s before the transfer
    CHECK_MESSAGE(second >= 90, second << " frames of a2");
    CHECK_MESSAGE(second <= 110, second << " frames of a2: more than it talked");
}
