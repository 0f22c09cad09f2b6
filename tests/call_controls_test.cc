// An agent's call controls (docs/agent-protocol.md), in-process on a fake clock: hold with music,
// mute, keys both ways, the recording paused for a card number, and the contact's history on the
// screen pop; each with its reply, its event and what the attempt keeps.
#include <doctest/doctest.h>

#include <sndfile.h>

#include "answering-detect/audio_file.h"
#include "campaigns/results.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

constexpr int kVoice = 12000;  // the agent's voice: louder than anything the engine makes

std::vector<std::int16_t> greeting() {
    auto a = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE_MESSAGE(a.error.empty(), a.error);
    return a.pcm;
}

// One agent talking to one customer: the customer's call and the agent's softphone leg.
struct Talking {
    ScriptedSip::Invite* customer = nullptr;
    ScriptedSip::Invite* leg = nullptr;
    std::uint64_t attempt = 0;
};

Talking connect_one(Sim& sim) {
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"ready"})");
    Talking t;
    for (int i = 0; i < 200 && !sim.desk().first("d", "offer"); ++i) {
        sim.run_for(50ms);
        sim.desk().request("d", R"({"type":"heartbeat"})");
    }
    const auto offer = sim.desk().first("d", "offer");
    REQUIRE(offer);
    t.attempt = offer->body["attempt"];
    for (auto& i : sim.sip().invites()) (i.agent_leg ? t.leg : t.customer) = &i;
    REQUIRE(t.customer);
    REQUIRE(t.leg);
    return t;
}

// The agent speaks for `d` (a loud frame every 20 ms) while time runs.
void agent_speaks(Sim& sim, const Talking& t, std::chrono::milliseconds d) {
    const std::array<std::int16_t, 160> voice = [] {
        std::array<std::int16_t, 160> v{};
        v.fill(kVoice);
        return v;
    }();
    for (auto left = d; left > 0ms; left -= 20ms) {
        if (FakeAudio* a = sim.audio(*t.leg)) a->feed(voice);
        sim.run_for(20ms);
    }
    sim.desk().request("d", R"({"type":"heartbeat"})");
}

// What the customer's (or the agent's) channel sent in [from, to): frames by loudness.
struct Heard {
    int voice = 0, music = 0, silence = 0, frames = 0;
    std::string keys;
};
Heard heard(const FakeAudio::Log* log, SteadyTime from, SteadyTime to) {
    Heard h;
    REQUIRE(log);
    for (const auto& s : log->sent) {
        if (s.at < from || s.at >= to) continue;
        if (s.event) {
            if (s.event_end && (h.keys.empty() || h.keys.back() != s.event)) h.keys += s.event;
            continue;
        }
        ++h.frames;
        if (s.peak >= kVoice)
            ++h.voice;
        else if (s.peak > 300)
            ++h.music;
        else
            ++h.silence;
    }
    return h;
}

}  // namespace

TEST_CASE(
    "call controls: hold plays music to the customer and cuts both ways, mute sends silence") {
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    sim.answer_all(greeting());
    sim.start();
    const Talking t = connect_one(sim);

    // Talking: the agent's voice reaches the customer, the customer's audio reaches the agent.
    auto t0 = sim.clock().now();
    agent_speaks(sim, t, 1s);
    auto before = heard(sim.sent(*t.customer), t0, sim.clock().now());
    CHECK(before.voice >= 45);
    CHECK(heard(sim.sent(*t.leg), t0, sim.clock().now()).frames >= 45);

    // On hold: music to the customer, not the agent's voice; the agent hears nothing.
    sim.desk().request("d", R"({"type":"hold"})");
    auto controls = last_to(sim, "d", "controls");
    CHECK(controls["on_hold"] == true);
    CHECK(controls["attempt"] == t.attempt);
    CHECK(controls["recording"] == "off");
    CHECK(sim.desk().event("call.sim", "event", "controls"));
    const auto held_at = sim.clock().now();
    agent_speaks(sim, t, 6s);
    const auto on_hold = heard(sim.sent(*t.customer), held_at, sim.clock().now());
    CHECK(on_hold.voice == 0);
    CHECK(on_hold.music >= 30);    // the built-in chime: ~1 s of notes every 4 s
    CHECK(on_hold.frames >= 295);  // a frame every 20 ms: never dead air
    CHECK(heard(sim.sent(*t.leg), held_at, sim.clock().now()).frames == 0);
    // Asking again changes nothing.
    sim.desk().request("d", R"({"type":"hold"})");
    CHECK(last_to(sim, "d", "error")["reason"] == "the customer is on hold already");
    CHECK(last_to(sim, "d", "error")["request"] == "hold");

    sim.desk().request("d", R"({"type":"unhold"})");
    CHECK(last_to(sim, "d", "controls")["on_hold"] == false);
    t0 = sim.clock().now();
    agent_speaks(sim, t, 1s);
    const auto after = heard(sim.sent(*t.customer), t0, sim.clock().now());
    CHECK(after.voice >= 45);
    CHECK(after.music == 0);
    CHECK(heard(sim.sent(*t.leg), t0, sim.clock().now()).frames >= 45);

    // Muted: silence in place of the agent's voice, the line still up.
    sim.desk().request("d", R"({"type":"mute"})");
    CHECK(last_to(sim, "d", "controls")["muted"] == true);
    t0 = sim.clock().now();
    agent_speaks(sim, t, 2s);
    const auto muted = heard(sim.sent(*t.customer), t0, sim.clock().now());
    CHECK(muted.voice == 0);
    CHECK(muted.silence >= 95);
    CHECK(heard(sim.sent(*t.leg), t0, sim.clock().now()).frames >= 95);  // the agent still hears
    sim.desk().request("d", R"({"type":"unmute"})");
    CHECK(last_to(sim, "d", "controls")["muted"] == false);
    sim.desk().request("d", R"({"type":"unmute"})");
    CHECK(last_to(sim, "d", "error")["reason"] == "not muted");
    // The campaign does not record, nor let agents pause a recording.
    sim.desk().request("d", R"({"type":"record_pause"})");
    CHECK(last_to(sim, "d", "error")["reason"].get<std::string>().find(
              "recording.agent_can_pause") != std::string::npos);

    // The attempt keeps the hold and the mute.
    sim.desk().request("d", R"({"type":"hold"})");
    agent_speaks(sim, t, 1s);
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(t.attempt) +
                                R"(,"code":"SALE"})");
    sim.run_for(300ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].holds == 2);
    CHECK(attempts[0].hold_ms == doctest::Approx(7000).epsilon(0.02));
    CHECK(attempts[0].mute_ms == doctest::Approx(2000).epsilon(0.02));
    // Controls after the call: refused.
    sim.desk().request("d", R"({"type":"unhold"})");
    CHECK(last_to(sim, "d", "error")["reason"] == "no call in progress");
}

TEST_CASE("call controls: a campaign's hold_prompt is what the customer on hold hears, looped") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "agents: {hold_prompt: prompts/safe-harbor.wav}\n";
    Sim sim(o);
    sim.answer_all(greeting());
    sim.start();
    const Talking t = connect_one(sim);
    const auto prompt = amd::read_audio(sim.campaign().resolve_path("prompts/safe-harbor.wav")).pcm;
    REQUIRE(prompt.size() >= 160);
    sim.desk().request("d", R"({"type":"hold"})");
    const auto held_at = sim.clock().now();
    agent_speaks(sim, t, 1100ms);
    // Frame by frame, the prompt from its start and again (it is shorter than a second): peaks
    // as in the file.
    std::vector<int> sent;
    for (const auto& s : sim.sent(*t.customer)->sent)
        if (s.at >= held_at && !s.event) sent.push_back(s.peak);
    REQUIRE(sent.size() >= 50);
    int same = 0;
    for (std::size_t k = 0; k < 50; ++k) {
        int peak = 0;
        for (std::size_t i = 160 * k; i < 160 * (k + 1); ++i)
            peak = std::max(peak, std::abs(int(prompt[i % prompt.size()])));
        same += std::abs(sent[k] - peak) <= 1;
    }
    CHECK(same == 50);
}

TEST_CASE("call controls: keys both ways, as RFC 4733 events or tones") {
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    sim.answer_all(greeting());
    sim.start();
    const Talking t = connect_one(sim);

    // The desktop's keys reach the customer as events, one after the other, while the agent's
    // voice waits.
    auto t0 = sim.clock().now();
    sim.desk().request("d", R"({"type":"dtmf","digits":"12#"})");
    CHECK(last_to(sim, "d", "keys_sent")["digits"] == "12#");
    agent_speaks(sim, t, 1s);
    auto h = heard(sim.sent(*t.customer), t0, sim.clock().now());
    CHECK(h.keys == "12#");
    CHECK(h.voice >= 20);  // between and after the keys
    CHECK(h.voice <= 50 - 15);

    // The agent's softphone's keys reach the customer too.
    t0 = sim.clock().now();
    sim.audio(*t.leg)->press('9');
    agent_speaks(sim, t, 300ms);
    CHECK(heard(sim.sent(*t.customer), t0, sim.clock().now()).keys == "9");

    // The customer's key reaches the desktop and the agent's softphone.
    t0 = sim.clock().now();
    sim.audio(*t.customer)->press('5');
    sim.run_for(300ms);
    CHECK(last_to(sim, "d", "dtmf")["digit"] == "5");
    CHECK(last_to(sim, "d", "dtmf")["attempt"] == t.attempt);
    CHECK(heard(sim.sent(*t.leg), t0, sim.clock().now()).keys == "5");

    // A customer whose SDP took no telephone-events hears the keys as tones.
    sim.audio(*t.customer)->set_events(false);
    t0 = sim.clock().now();
    sim.desk().request("d", R"({"type":"dtmf","digits":"7"})");
    sim.run_for(200ms);
    h = heard(sim.sent(*t.customer), t0, sim.clock().now());
    CHECK(h.keys.empty());
    CHECK(h.voice + h.music >= 4);  // 100 ms of tone (the agent says nothing meanwhile)

    // Bad keys never reach the engine.
    std::string error;
    CHECK_FALSE(parse_agent_request(R"({"type":"dtmf","digits":"12x"})", &error));
    CHECK(error.find("digits") != std::string::npos);
    CHECK_FALSE(parse_agent_request(R"({"type":"dtmf"})", &error));
    CHECK_FALSE(parse_agent_request(R"({"type":"dtmf","digits":")" + std::string(33, '1') + R"("})",
                                    &error));
    // Too many queued at once: refused, nothing queued.
    for (int i = 0; i < 3; ++i)
        sim.desk().request("d", R"({"type":"dtmf","digits":")" + std::string(30, '1') + R"("})");
    CHECK(last_to(sim, "d", "error")["reason"] == "too many keys waiting to be sent");
}

TEST_CASE("call controls: a paused recording holds silence, and the attempt keeps where") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "recording: {enabled: true, folder: rec, agent_can_pause: true}\n";
    Sim sim(o);
    sim.answer_all(greeting());
    sim.start();
    const Talking t = connect_one(sim);
    agent_speaks(sim, t, 1s);
    sim.desk().request("d", R"({"type":"record_resume"})");
    CHECK(last_to(sim, "d", "error")["reason"] == "the recording is not paused");
    sim.desk().request("d", R"({"type":"record_pause"})");
    CHECK(last_to(sim, "d", "controls")["recording"] == "paused");
    agent_speaks(sim, t, 2s);  // the card number
    sim.desk().request("d", R"({"type":"record_resume"})");
    CHECK(last_to(sim, "d", "controls")["recording"] == "on");
    agent_speaks(sim, t, 1s);
    sim.desk().request("d", R"({"type":"hangup"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(t.attempt) +
                                R"(,"code":"SALE"})");
    sim.run_for(300ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    REQUIRE(attempts[0].recording_paused.size() == 1);
    const auto [from, to] = attempts[0].recording_paused[0];
    CHECK(to - from == doctest::Approx(2000).epsilon(0.03));

    // The WAV: the agent's voice (right) before and after, nothing at all in the paused stretch.
    sim.engine().flush_recordings();  // written by a thread of its own
    SF_INFO info{};
    const std::string path =
        sim.campaign().resolve_path("rec") + "/sim/" + std::to_string(t.attempt) + ".wav";
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    REQUIRE_MESSAGE(f, path);
    std::vector<std::int16_t> pcm(static_cast<std::size_t>(info.frames * info.channels));
    sf_readf_short(f, pcm.data(), info.frames);
    sf_close(f);
    REQUIRE(info.channels == 2);
    auto loud = [&](std::int64_t from_ms, std::int64_t to_ms) {
        int n = 0;
        for (auto i = from_ms * 8; i < std::min<std::int64_t>(to_ms * 8, info.frames); ++i)
            n += std::abs(pcm[static_cast<std::size_t>(2 * i)]) > 100 ||
                 std::abs(pcm[static_cast<std::size_t>(2 * i + 1)]) > 100;
        return n;
    };
    CHECK(loud(from, to) == 0);
    CHECK(loud(from - 500, from) >= 3000);  // the agent was heard just before
    CHECK(loud(to, to + 500) >= 3000);      // and just after
}

TEST_CASE("call controls: the screen pop carries the contact's earlier attempts, newest first") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "retry: {busy: {delay: 1m, max: 5}}\nscreen_pop: {history: 2}\n";
    Sim sim(o);
    const auto hello = greeting();
    int invites = 0;
    sim.carrier([&](const ScriptedSip::Invite&) {
        ++invites;
        return invites <= 2 ? CarrierPlan{300ms, 486, true, {}, -1ms}
                            : CarrierPlan{400ms, 200, true, hello, -1ms};
    });
    sim.start();
    const auto offer = sim.first_offer("d", "a1", 200, 5ms);
    REQUIRE(offer);
    CHECK(invites == 3);
    const auto& history = offer->body["history"];
    REQUIRE(history.is_array());
    REQUIRE(history.size() == 2);  // screen_pop.history
    CHECK(history[0]["outcome"] == "busy");
    CHECK(history[0]["attempt"].get<std::uint64_t>() > history[1]["attempt"].get<std::uint64_t>());
    CHECK(history[0]["at"].get<std::string>().rfind("2026-12-02T17:0", 0) == 0);
    CHECK(history[0]["attempt"] != offer->body["attempt"]);
}

TEST_CASE("records: an attempt's call controls and a contact's recent ids survive the store") {
    Attempt a;
    a.id = 7;
    a.hold_ms = 12'345;
    a.holds = 2;
    a.mute_ms = 800;
    a.recording_paused = {{1000, 3000}, {5000, 5200}};
    const auto back = Attempt::decode(a.encode());
    REQUIRE(back);
    CHECK(back->hold_ms == 12'345);
    CHECK(back->holds == 2);
    CHECK(back->mute_ms == 800);
    CHECK(back->recording_paused == a.recording_paused);
    Contact c;
    c.phone = "+14155550100";
    c.recent_ids = {3, 9};
    c.callback_agent = "alice";
    c.outcome_counts = {1, 2, 3, 4, 5, 6};
    const auto cb = Contact::decode(c.encode());
    REQUIRE(cb);
    CHECK(cb->recent_ids == c.recent_ids);
    CHECK(cb->callback_agent == "alice");
    CHECK(cb->outcome_counts == c.outcome_counts);
    // A version 1 contact (before the ids), a version 2 one (before several numbers) and a
    // version 3 one (before the declined count): read, with none.
    Contact plain = c;
    plain.recent_ids.clear();
    plain.callback_agent.clear();
    std::string v3 = plain.encode();
    v3[0] = 3;
    v3.resize(v3.size() - 1);  // no declined count
    std::string v2 = v3;
    v2[0] = 2;
    v2.resize(v2.size() - 2);  // no numbers (an empty list's count), current 0
    std::string v1 = v2;
    v1[0] = 1;
    v1.resize(v1.size() - 2);  // the empty list's count and the empty callback agent
    for (const auto& bytes : {v1, v2, v3}) {
        const auto old = Contact::decode(bytes);
        REQUIRE(old);
        CHECK(old->phone == c.phone);
        CHECK(old->recent_ids.empty());
        CHECK(old->numbers.empty());
        CHECK(old->dial_number() == c.phone);
        CHECK(old->outcome_counts[4] == 5);
        CHECK(old->outcome_counts[5] == 0);
    }
}

TEST_CASE(
    "call controls: every control in every state without a call is refused and changes "
    "nothing") {
    Sim::Options o;
    o.agents = true;
    o.campaign_yaml = "recording: {enabled: true, folder: rec, agent_can_pause: true}\n";
    Sim sim(o);
    sim.answer_all(greeting(), 3s);
    sim.start();
    const char* controls[] = {R"({"type":"hold"})",
                              R"({"type":"unhold"})",
                              R"({"type":"mute"})",
                              R"({"type":"unmute"})",
                              R"({"type":"record_pause"})",
                              R"({"type":"record_resume"})",
                              R"({"type":"dtmf","digits":"1"})"};
    auto all_refused = [&](const std::string& state) {
        CAPTURE(state);
        for (const char* c : controls) {
            CAPTURE(c);
            const auto before = sim.desk().to("d").size();
            sim.desk().request("d", c);
            sim.run_for(20ms);
            const auto& msgs = sim.desk().to("d");
            REQUIRE(msgs.size() == before + 1);  // one answer, and it is an error
            CHECK(msgs.back().body["type"] == "error");
            CHECK(msgs.back().body["request"] == nlohmann::json::parse(c)["type"]);
            CHECK(sim.engine().status().at(0).connected == (state == "wrapup" ? 1 : 0));
        }
        sim.desk().request("d", R"({"type":"heartbeat"})");
        sim.run_for(20ms);
        CHECK(last_to(sim, "d", "heartbeat")["state"] == state);  // the state did not move
    };
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    all_refused("paused");
    // Talking, then the customer hangs up: wrap-up.
    sim.desk().request("d", R"({"type":"ready"})");
    for (int i = 0; i < 200 && !sim.desk().first("d", "wrapup"); ++i) {
        sim.run_for(50ms);
        sim.desk().request("d", R"({"type":"heartbeat"})");
    }
    REQUIRE(sim.desk().first("d", "wrapup"));
    all_refused("wrapup");
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].in_flight());  // still waiting for its disposition
    CHECK(attempts[0].holds == 0);
}

TEST_CASE("agent time: the report's occupancy is talk and wrap-up over the time staffed, by hour") {
    Sim::Options o;
    o.agents = true;
    o.start = wall_at("2026-12-02T17:59:50Z");  // the call crosses 1 pm in New York
    o.campaign_yaml = "dispositions:\n  - {code: SALE, label: Sale, final: true, success: true}\n";
    Sim sim(o);
    sim.answer_all(greeting());
    sim.start();
    const Talking t = connect_one(sim);
    for (int i = 0; i < 20; ++i) agent_speaks(sim, t, 1s);  // a heartbeat each second
    sim.desk().request("d", R"({"type":"hangup"})");
    for (int i = 0; i < 5; ++i) {  // wrap-up
        sim.run_for(1s, 10ms);
        sim.desk().request("d", R"({"type":"heartbeat"})");
    }
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(t.attempt) +
                                R"(,"code":"SALE"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"pause","reason":"lunch"})");
    const auto paused_at = sim.clock().now();
    for (int i = 0; i < 12; ++i) {
        sim.desk().request("d", R"({"type":"heartbeat"})");
        sim.run_for(1s, 10ms);
    }
    sim.desk().request("d", R"({"type":"logout"})");
    const auto paused = sim.clock().now() - paused_at;
    sim.run_for(11s, 10ms);  // the agent time is written every 10 s

    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    const std::int64_t handled = attempts[0].talk_ms + attempts[0].wrap_ms;
    CHECK(handled >= 24'000);
    ResultsOptions by_agent;
    by_agent.by = ResultsBy::agent;
    const auto r = build_results(sim.store(), sim.campaign(), by_agent);
    REQUIRE(r.groups.size() == 1);
    CHECK(r.groups[0].first == "a1");
    const auto& f = r.groups[0].second;
    // Staffed from ready to the pause: the wait for the call, the talk and the wrap-up.
    CHECK(f.staffed_ms >= handled);
    CHECK(f.staffed_ms <= handled + 5'000);
    const auto paused_ms = std::chrono::duration_cast<std::chrono::milliseconds>(paused).count();
    CHECK(f.paused_ms == doctest::Approx(paused_ms).epsilon(0.03));
    CHECK(f.occupancy() > 0.8);
    CHECK(f.occupancy() <= 1.0);
    CHECK(r.total.staffed_ms == f.staffed_ms);

    // By hour: the shift's two hours, their staffed time adding up to the whole; in the text,
    // JSON and CSV forms.
    ResultsOptions by_hour;
    by_hour.by = ResultsBy::hour;
    const auto h = build_results(sim.store(), sim.campaign(), by_hour);
    REQUIRE(h.groups.size() == 2);
    CHECK(h.groups[0].first == "2026-12-02 12:00");
    CHECK(h.groups[1].first == "2026-12-02 13:00");
    CHECK(h.groups[0].second.staffed_ms > 0);
    CHECK(h.groups[1].second.staffed_ms > 0);
    CHECK(h.groups[0].second.staffed_ms + h.groups[1].second.staffed_ms == f.staffed_ms);
    CHECK(results_text(h).find(" occ") != std::string::npos);
    const auto j = nlohmann::json::parse(results_json(h));
    CHECK(j["total"]["staffed_s"] == f.staffed_ms / 1000);
    CHECK(j["total"]["occupancy"].get<double>() == doctest::Approx(f.occupancy()));
    CHECK(results_csv(h, true).find("staffed_s,paused_s,occupancy") != std::string::npos);
    // From 1 pm New York (18:00Z): only the second hour's time.
    ResultsOptions later = by_hour;
    later.from_ms = 1796234400000;
    const auto l = build_results(sim.store(), sim.campaign(), later);
    CHECK(l.total.staffed_ms == h.groups[1].second.staffed_ms);
    // From 1:30 pm (a run that started then): the hour it starts in counts whole, as agent time
    // is kept by the hour.
    later.from_ms = 1796234400000 + 1'800'000;
    CHECK(build_results(sim.store(), sim.campaign(), later).total.staffed_ms ==
          h.groups[1].second.staffed_ms);

    // What the store holds is added to, never replaced (an engine restarted within the hour).
    const std::int64_t hour_ms = 1796234400000;  // 2026-12-02T18:00Z
    REQUIRE(sim.store().add_agent_time({{"sim", "a1", hour_ms, 60'000, 0}}, true).ok());
    const auto again = build_results(sim.store(), sim.campaign(), by_agent);
    REQUIRE(again.groups.size() == 1);
    CHECK(again.groups[0].second.staffed_ms == f.staffed_ms + 60'000);
}
