// The script an agent reads: placeholders filled by the engine, for every desktop alike.
#include <doctest/doctest.h>

#include "answering-detect/audio_file.h"
#include "dialer/engine/agent_protocol.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

TEST_CASE("script: {agent} is the agent's name, list columns and {phone} are the contact's") {
    Agent a;
    a.id = "a17";
    a.name = "Dana Reyes";
    Campaign c;
    c.name = "spring";
    c.script =
        "Hello {first_name}, this is {agent} ({agent_id}) for {campaign}, on {phone}. "
        "{unknown} stays, {first_name} twice, { broken";
    const auto s = AgentProtocol::script_for(a, c, "+14155551000",
                                             {{"first_name", "{agent}"}, {"plan", "Gold"}});
    // A value is never read again as a placeholder: a list cannot make the script say more.
    CHECK(s ==
          "Hello {agent}, this is Dana Reyes (a17) for spring, on +14155551000. "
          "{unknown} stays, {agent} twice, { broken");
}

TEST_CASE("script: the screen pop and the preview carry the filled script") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "screen_pop: {script: \"This is {agent} calling {timezone} at {phone}.\"}\n";
    Sim sim(o);
    const auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav").pcm;
    sim.carrier([&](const ScriptedSip::Invite&) {
        return CarrierPlan{400ms, 200, true, hello, -1ms};
    });
    sim.start();
    const auto offer = sim.first_offer("d", "a1");
    REQUIRE(offer);
    // Lab mode has no agents file: the name is the id.
    CHECK(offer->body["script"] == "This is a1 calling " +
                                       offer->body["fields"]["timezone"].get<std::string>() +
                                       " at " + offer->body["phone"].get<std::string>() + ".");
}
