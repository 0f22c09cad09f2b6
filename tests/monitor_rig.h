// A floor for monitoring tests, in-process on a fake clock with an agents file: agent a1 talking to
// a customer, agent a2 beside, supervisor boss, each with a fixed softphone. Each party speaks its
// own tone (customer 440 Hz, agent 1 kHz, supervisor 2 kHz) and what each channel sent is searched
// for the others' tones.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "answering-detect/audio_file.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

namespace outpace::test {

using namespace std::chrono_literals;

inline constexpr int kCustomerHz = 440, kAgentHz = 1000, kSupervisorHz = 2000, kOtherAgentHz = 3000,
                     kOutsideHz = 2500;
inline constexpr double kLevel = 6000;   // each party's tone
inline constexpr float kHeard = 1500;    // a tone this strong in a frame was heard
inline constexpr float kNotHeard = 300;  // one this weak was not (leakage and rounding only)

// 20 ms of a `hz` tone, continuing from sample `n` (a running phase, as a voice would be).
inline std::array<std::int16_t, 160> tone_frame(double hz, std::size_t& n) {
    std::array<std::int16_t, 160> f{};
    for (auto& s : f) {
        s = static_cast<std::int16_t>(
            kLevel * std::sin(2 * 3.141592653589793 * hz * static_cast<double>(n++) / 8000));
    }
    return f;
}

inline std::size_t tone_index(int hz) {
    for (std::size_t i = 0; i < FakeAudio::kTones.size(); ++i)
        if (FakeAudio::kTones[i] == hz) return i;
    FAIL("not a test tone: " << hz);
    return 0;
}

// Of what a channel sent in [from, to): frames, and how many carried each tone.
struct ToneCounts {
    int frames = 0;
    std::map<int, int> with;     // tone -> frames in which it was heard
    std::map<int, int> without;  // tone -> frames in which it was surely absent
    double share(int hz) const {
        auto it = with.find(hz);
        return frames ? (it == with.end() ? 0 : it->second) / double(frames) : 0;
    }
    bool absent(int hz) const {
        auto it = without.find(hz);
        return it != without.end() && it->second == frames;
    }
};
inline ToneCounts tones_in(const FakeAudio::Log* log, SteadyTime from, SteadyTime to) {
    ToneCounts t;
    REQUIRE(log);
    for (const auto& s : log->sent) {
        if (s.at < from || s.at >= to || s.event) continue;
        ++t.frames;
        for (int hz : {kCustomerHz, kAgentHz, kSupervisorHz, kOtherAgentHz, kOutsideHz}) {
            const float a = s.tones[tone_index(hz)];
            if (a >= kHeard) ++t.with[hz];
            if (a <= kNotHeard) ++t.without[hz];
        }
    }
    return t;
}

inline std::string monitor_agents_file() {
    return "realm: outpace\nagents:\n"
           "  - id: a1\n    desktop_password: \"" +
           quick_hash("a1-pw") +
           "\"\n    phone: sip:a1@127.0.0.1:5998\n"
           "  - id: a2\n    desktop_password: \"" +
           quick_hash("a2-pw") +
           "\"\n    phone: sip:a2@127.0.0.1:5996\n"
           "  - id: boss\n    role: supervisor\n    desktop_password: \"" +
           quick_hash("boss-pw") + "\"\n    phone: sip:boss@127.0.0.1:5997\n";
}

// The customer says hello (a person, for AMD), then hums 440 Hz for the rest of the call.
inline std::vector<std::int16_t> customer_audio() {
    auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE_MESSAGE(hello.error.empty(), hello.error);
    std::vector<std::int16_t> pcm = hello.pcm;
    std::size_t n = 0;
    for (int i = 0; i < 120 * 50; ++i) {
        const auto f = tone_frame(kCustomerHz, n);
        pcm.insert(pcm.end(), f.begin(), f.end());
    }
    return pcm;
}

struct MonitorFloor {
    TempDir dir;
    Sim sim;
    ScriptedSip::Invite *customer = nullptr, *agent_leg = nullptr, *boss_leg = nullptr,
                        *other_leg = nullptr;  // a2's softphone
    std::uint64_t attempt = 0;
    std::size_t agent_n = 0, boss_n = 0, other_n = 0;

    // `campaign_yaml`: lines for the campaign (e.g. its agents section).
    explicit MonitorFloor(const std::string& campaign_yaml = "") : sim(options(campaign_yaml)) {
        sim.config().agents.accounts = dir.write("agents.yaml", monitor_agents_file());
        sim.answer_all(customer_audio());
        sim.start();
        for (const auto& [desk, who] : {std::pair{"b", "boss"}, {"x", "a2"}, {"d", "a1"}})
            sim.desk().request(desk, std::string(R"({"type":"login","agent":")") + who +
                                         R"(","password":")" + who + R"(-pw"})");
        sim.run_for(200ms);
        sim.desk().request("d", R"({"type":"ready"})");
        for (int i = 0; i < 200 && !sim.desk().first("d", "offer"); ++i) {
            sim.run_for(50ms);
            heartbeats();
        }
        const auto offer = sim.desk().first("d", "offer");
        REQUIRE(offer);
        attempt = offer->body["attempt"];
        for (auto& i : sim.sip().invites()) {
            if (!i.agent_leg)
                customer = &i;
            else if (i.dial.to.find("boss@") != std::string::npos)
                boss_leg = &i;
            else if (i.dial.to.find("a1@") != std::string::npos)
                agent_leg = &i;
            else if (i.dial.to.find("a2@") != std::string::npos)
                other_leg = &i;
        }
        REQUIRE(customer);
        REQUIRE(agent_leg);
        REQUIRE(boss_leg);
        REQUIRE(other_leg);
        speak(4s);  // past the customer's hello: the hum from here on
    }
    static Sim::Options options(const std::string& campaign_yaml) {
        Sim::Options o;
        o.agents = true;
        o.campaign_yaml = campaign_yaml;
        return o;
    }
    void heartbeats() {
        for (const char* desk : {"b", "x", "d"})
            sim.desk().request(desk, R"({"type":"heartbeat"})");
    }
    // The agent (1 kHz), the supervisor (2 kHz) and agent a2 (3 kHz) speak for `d` while time
    // runs.
    void speak(std::chrono::milliseconds d, bool boss_speaks = true) {
        for (auto left = d; left > 0ms; left -= 20ms) {
            if (FakeAudio* a = sim.audio(*agent_leg)) a->feed(tone_frame(kAgentHz, agent_n));
            if (FakeAudio* o = sim.audio(*other_leg)) o->feed(tone_frame(kOtherAgentHz, other_n));
            if (boss_speaks)
                if (FakeAudio* b = sim.audio(*boss_leg)) b->feed(tone_frame(kSupervisorHz, boss_n));
            sim.run_for(20ms);
        }
        heartbeats();
    }
    // What the customer, the agent and the supervisor heard over 1 s of everyone speaking.
    struct Heard {
        ToneCounts customer, agent, boss, other;
    };
    Heard second() {
        const auto t0 = sim.clock().now();
        speak(1s);
        const auto t1 = sim.clock().now();
        return {tones_in(sim.sent(*customer), t0, t1), tones_in(sim.sent(*agent_leg), t0, t1),
                tones_in(sim.sent(*boss_leg), t0, t1), tones_in(sim.sent(*other_leg), t0, t1)};
    }
    // The last `type` message to desk `desk`.
    nlohmann::json last(const std::string& desk, const std::string& type) {
        return last_to(sim, desk, type);
    }
    // The attempt as the ledger holds it (once disposed).
    std::optional<Attempt> stored() {
        for (const auto& a : sim.attempts())
            if (a.id == attempt) return a;
        return std::nullopt;
    }
    void monitor(const std::string& mode) {
        sim.desk().request("b", R"({"type":"monitor","attempt":)" + std::to_string(attempt) +
                                    R"(,"mode":")" + mode + R"("})");
    }
};

}  // namespace outpace::test
