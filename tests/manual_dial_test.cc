// An agent's manual dial (docs/agent-protocol.md), in-process on a fake clock: the number is
// normalised, held to the campaign's rules through the hopper's own checks (DNC, calling hours in
// the callee's zone, caps), placed with the agent listening, recorded with the agent and counted
// against the contact like any other attempt.
#include <doctest/doctest.h>

#include "answering-detect/audio_file.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

std::string refusal(Sim& sim, const std::string& request) {
    const std::size_t before = sim.desk().to("d").size();
    sim.desk().request("d", request);
    sim.run_for(20ms);
    const auto& all = sim.desk().to("d");
    for (std::size_t i = before; i < all.size(); ++i)
        if (all[i].body.value("type", "") == "error") return all[i].body.value("reason", "");
    return "";
}

void login(Sim& sim) {
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    REQUIRE(last_to(sim, "d", "state")["state"] == "paused");
}

}  // namespace

TEST_CASE(
    "manual dial: a number off the list is called with the agent listening, recorded with "
    "the agent, and never dialled again by the campaign") {
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE(hello.error.empty());
    sim.carrier([&](const ScriptedSip::Invite&) {
        return CarrierPlan{2s, 200, true, hello.pcm, -1ms};
    });
    sim.start();
    login(sim);
    sim.desk().request("d", R"({"type":"manual_dial","phone":"(415) 555-2671"})");
    sim.run_for(50ms);
    const auto dialing = last_to(sim, "d", "dialing");
    REQUIRE_MESSAGE(!dialing.is_null(), sim.desk().to("d").back().body.dump());
    CHECK(dialing["phone"] == "+14155552671");
    REQUIRE(sim.calls().size() == 1);
    CHECK(sim.calls()[0]->dial.to.find("+14155552671") != std::string::npos);
    CHECK(last_to(sim, "d", "state")["state"] == "reserved");
    // While it rings, a second one is refused.
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"+14155552672"})") ==
          "finish the current call first");
    sim.run_for(2500ms);
    const auto offer = sim.desk().first("d", "offer");
    REQUIRE(offer);  // answered: connected at once, no answering-machine detection
    CHECK(offer->body["phone"] == "+14155552671");
    CHECK(last_to(sim, "d", "state")["state"] == "talking");
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(dialing["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"NOT_INTERESTED"})");
    sim.run_for(300ms);
    // Back to the pause the agent dialled from.
    CHECK(last_to(sim, "d", "state")["state"] == "paused");
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].origin == "manual");
    CHECK(attempts[0].agent == "a1");
    CHECK(attempts[0].outcome == Outcome::connected);
    const auto contact = sim.store().contact("sim", "+14155552671");
    REQUIRE(contact);
    CHECK(contact->source == kManualSource);
    CHECK(contact->attempts == 1);
    CHECK(contact->zones == "America/Los_Angeles");
    CHECK(contact->state == ContactState::done);
}

TEST_CASE("manual dial: refused with the reason the campaign's rules give, and nothing dialled") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "limits: {max_attempts: 1}\n";
    Sim sim(o);
    sim.carrier([&](const ScriptedSip::Invite&) {
        return CarrierPlan{300ms, 486, true, {}, -1ms};
    });
    sim.start();
    {
        auto b = sim.store().batch();
        b.add_dnc("sim", "+14155552672", "complaint");
        REQUIRE(sim.store().write(b, true).ok());
    }
    login(sim);
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"415 555 2672"})") ==
          "on a do-not-call list");
    // 02:00 in Tokyo.
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"+81 3 1234 5678"})") ==
          "outside calling hours in the callee's time zone (Asia/Tokyo)");
    // Australia spans zones: its number cannot tell which, and the campaign's default zone (New
    // York) is no guess for it.
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"+61 2 9374 4000"})") ==
          "cannot tell the callee's time zone from +61293744000");
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"12"})")
              .starts_with("not a number that can be called"));
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"+14155552673","campaign":"other"})") ==
          "you do not work campaign 'other'");
    CHECK(sim.calls().empty());
    CHECK(sim.attempts().empty());

    // A contact on the list: its attempt counts against its caps like a paced one.
    sim.desk().request("d", R"({"type":"manual_dial","phone":"+14155551000"})");
    sim.run_for(1s);
    REQUIRE(sim.calls().size() == 1);
    auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].outcome == Outcome::busy);
    CHECK(attempts[0].origin == "manual");
    const auto contact = sim.store().contact("sim", "+14155551000");
    REQUIRE(contact);
    CHECK(contact->attempts == 1);
    CHECK(contact->recent_attempts.size() == 1);  // in the 7-day count (Reg F)
    CHECK(refusal(sim, R"({"type":"manual_dial","phone":"+14155551000"})") ==
          "the contact is exhausted: attempt cap reached (1)");
    CHECK(sim.calls().size() == 1);

    // Bad requests never reach the engine.
    std::string error;
    CHECK_FALSE(parse_agent_request(R"({"type":"manual_dial"})", &error));
    CHECK_FALSE(parse_agent_request(R"({"type":"manual_dial","phone":""})", &error));
    CHECK_FALSE(parse_agent_request(R"({"type":"manual_dial","phone":5})", &error));
}
