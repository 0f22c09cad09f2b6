// Personal callbacks (a callback disposition "for: me"), in-process on a fake clock: at its time
// the contact is shown to the agent who asked for it, as a preview; nobody else gets it until the
// campaign's callback_grace has passed, then the dialler calls it like any due contact.
#include <doctest/doctest.h>

#include "answering-detect/audio_file.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// Runs for `d` in 10 ms steps while the desktops send heartbeats every second.
void run_alive(Sim& sim, std::chrono::milliseconds d, const std::vector<std::string>& desks) {
    for (; d > 0ms; d -= 1s) {
        sim.run_for(std::min<std::chrono::milliseconds>(d, 1s), 10ms);
        for (const auto& desk : desks) sim.desk().request(desk, R"({"type":"heartbeat"})");
    }
}

std::optional<FakeChannel::Message> last(Sim& sim, const std::string& desk,
                                         const std::string& type) {
    std::optional<FakeChannel::Message> out;
    for (const auto& m : sim.desk().to(desk))
        if (m.body.value("type", "") == type) out = m;
    return out;
}

// Agent a1 on desk d talks to the one contact and asks to call it back in `in`, for itself.
std::int64_t talk_and_keep_callback(Sim& sim, std::chrono::seconds in) {
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"ready"})");
    for (int i = 0; i < 20 && !sim.desk().first("d", "offer"); ++i) run_alive(sim, 1s, {"d"});
    const auto offer = sim.desk().first("d", "offer");
    REQUIRE(offer);
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    const std::int64_t at = sim.clock().wall_s().time_since_epoch().count() + in.count();
    // "for" goes only with a callback disposition.
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(offer->body["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"SALE","for":"me"})");
    CHECK(last(sim, "d", "error")->body["reason"] == "'for: me' goes with a callback disposition");
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(offer->body["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"CALLBACK","for":"me","callback_at":)" +
                                std::to_string(at) + "}");
    sim.run_for(300ms);
    REQUIRE(last(sim, "d", "disposed"));
    const auto contact = sim.store().contact("sim", "+14155551000");
    REQUIRE(contact);
    CHECK(contact->callback_agent == "a1");
    CHECK(contact->next_eligible == at);
    return at;
}

CarrierPlan answer(const std::vector<std::int16_t>& hello) {
    return CarrierPlan{400ms, 200, true, hello, -1ms};
}

}  // namespace

TEST_CASE("personal callback: at its time the contact is shown to its agent, who dials it") {
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    const auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav").pcm;
    sim.carrier([&](const ScriptedSip::Invite&) { return answer(hello); });
    sim.start();
    const auto at = talk_and_keep_callback(sim, 120s);
    sim.desk().request("d", R"({"type":"ready"})");
    run_alive(sim, 100s, {"d"});
    CHECK(sim.calls().size() == 1);  // not before its time
    CHECK_FALSE(sim.desk().first("d", "preview"));
    run_alive(sim, 25s, {"d"});
    const auto preview = sim.desk().first("d", "preview");
    REQUIRE(preview);
    CHECK(preview->body["phone"] == "+14155551000");
    CHECK(preview->body["callback_at"] == format_timestamp(Timestamp(Seconds(at))));
    CHECK(preview->body["history"].size() == 1);
    CHECK(last(sim, "d", "state")->body["state"] == "reserved");
    CHECK(sim.calls().size() == 1);  // shown, not dialled: the agent decides
    sim.desk().request("d", R"({"type":"dial"})");
    sim.run_for(1s);
    REQUIRE(sim.calls().size() == 2);
    const auto offer = last(sim, "d", "offer");
    REQUIRE(offer);
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(offer->body["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"SALE"})");
    sim.run_for(300ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].callback_for == "a1");
    CHECK(attempts[1].origin == "callback");
    const auto contact = sim.store().contact("sim", "+14155551000");
    REQUIRE(contact);
    CHECK(contact->callback_agent.empty());
    CHECK(contact->state == ContactState::done);
    CHECK(sim.store().personal_callbacks("sim", "a1").empty());
}

TEST_CASE("personal callback: nobody else gets it until the grace has passed, then anyone does") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "agents: {callback_grace: 2m}\n";
    Sim sim(o);
    const auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav").pcm;
    sim.carrier([&](const ScriptedSip::Invite&) { return answer(hello); });
    sim.start();
    talk_and_keep_callback(sim, 60s);
    REQUIRE(sim.store().personal_callbacks("sim", "a1").size() == 1);
    sim.desk().request("d", R"({"type":"logout"})");
    sim.desk().request("d2", R"({"type":"login","agent":"a2","phone":"sip:a2@127.0.0.1:5997"})");
    sim.run_for(100ms);
    sim.desk().request("d2", R"({"type":"ready"})");
    run_alive(sim, 175s, {"d2"});  // the callback's time, and most of the grace
    CHECK(sim.calls().size() == 1);
    CHECK_FALSE(sim.desk().first("d2", "preview"));
    run_alive(sim, 10s, {"d2"});
    CHECK(sim.calls().size() == 2);  // the dialler's own call, for a2
    CHECK(sim.desk().first("d2", "offer"));
}
