// Special information tones: each of Telcordia's codes recognised through G.711 and noise, at its
// standard's tolerances, within ~150 ms of the third tone's start + 200 ms; nothing in the AMD
// corpus's greetings and speech taken for one; and the engine on the fake clock ending a call
// answered by an intercept recording as the number's fault (invalid) and a reorder as the
// network's (a carrier error that costs the contact nothing).
#include <doctest/doctest.h>

#include <spandsp.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "answering-detect/audio_file.h"
#include "answering-detect/sit.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

struct SitTone {
    double hz;
    int ms;
};

// A SIT as a network plays it: three tones at -13 dBm0 (gaps of `gap_ms`), then an announcement
// stand-in (a vowel-like mix), through u-law and with noise at -50 dBm0. `scale` stretches the
// durations and `shift` the frequencies (the standard's tolerances).
std::vector<std::int16_t> sit_audio(std::vector<SitTone> tones, double scale = 1.0,
                                    double shift = 1.0, int gap_ms = 0, int lead_ms = 0) {
    std::vector<std::int16_t> out(static_cast<std::size_t>(lead_ms * 8), 0);
    double phase = 0;
    for (const auto& t : tones) {
        const int n = static_cast<int>(std::lround(t.ms * scale * 8));
        for (int i = 0; i < n; ++i) {
            phase += 2 * M_PI * t.hz * shift / 8000;
            out.push_back(static_cast<std::int16_t>(5000 * std::sin(phase)));
        }
        out.insert(out.end(), static_cast<std::size_t>(gap_ms * 8), 0);
    }
    for (int i = 0; i < 16000; ++i)
        out.push_back(static_cast<std::int16_t>(3000 * std::sin(2 * M_PI * 220 * i / 8000) +
                                                1500 * std::sin(2 * M_PI * 660 * i / 8000)));
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 10);
    for (auto& s : out) s = ulaw_to_linear(linear_to_ulaw(static_cast<int>(s + noise(rng))));
    return out;
}

std::optional<amd::Sit> detect(const std::vector<std::int16_t>& pcm, std::size_t chunk = 160) {
    amd::SitDetector d;
    for (std::size_t i = 0; i < pcm.size(); i += chunk) {
        const auto n = std::min(chunk, pcm.size() - i);
        if (auto s = d.feed({pcm.data() + i, n})) return s;
    }
    return std::nullopt;
}

constexpr double kL1 = 913.8, kH1 = 985.2, kL2 = 1370.6, kH2 = 1428.5, k3 = 1776.7;
constexpr int kS = 274, kLong = 380;

// A SIPp carrier scenario (tests/sipp/`name`.xml.in) that streams `pcm` as headerless u-law,
// with its other placeholders filled: its path in the rig.
std::string carrier_playing(Rig& rig, const std::string& name, const std::vector<std::int16_t>& pcm,
                            const std::vector<std::pair<std::string, std::string>>& fill = {}) {
    std::string ulaw;
    for (const auto s : pcm) ulaw.push_back(static_cast<char>(linear_to_ulaw(s)));
    std::string xml =
        read_file(std::string(OUTPACE_SOURCE_DIR) + "/tests/sipp/" + name + ".xml.in");
    auto all = fill;
    all.emplace_back("@AUDIO@", rig.write(name + ".ulaw", ulaw));
    for (const auto& [key, value] : all)
        for (auto at = xml.find(key); at != std::string::npos; at = xml.find(key))
            xml.replace(at, key.size(), value);
    return rig.write(name + ".xml", xml);
}

}  // namespace

TEST_CASE("SIT: every Telcordia code, through u-law and noise, within its tolerances") {
    const struct {
        std::vector<SitTone> tones;
        amd::SitCode code;
    } cases[] = {
        {{{kL1, kS}, {kL2, kS}, {k3, kLong}}, amd::SitCode::intercept},
        {{{kH1, kLong}, {kL2, kS}, {k3, kLong}}, amd::SitCode::vacant_code},
        {{{kL1, kS}, {kH2, kLong}, {k3, kLong}}, amd::SitCode::reorder},
        {{{kH1, kS}, {kL2, kLong}, {k3, kLong}}, amd::SitCode::reorder},
        {{{kH1, kLong}, {kH2, kLong}, {k3, kLong}}, amd::SitCode::no_circuit},
        {{{kL1, kLong}, {kL2, kLong}, {k3, kLong}}, amd::SitCode::no_circuit},
        {{{kL1, kLong}, {kH2, kS}, {k3, kLong}}, amd::SitCode::ineffective_other},
        {{{kH1, kS}, {kH2, kS}, {k3, kLong}}, amd::SitCode::unknown},  // reserved
    };
    int heard = 0, right = 0;
    for (const auto& c : cases) {
        // The standard allows +/-5 % on durations and 0.2 % on frequencies (here 0.5 %), gaps
        // of up to 30 ms, and the tones may start mid-block; chunks of any size.
        for (const double scale : {0.95, 1.0, 1.05})
            for (const double shift : {0.995, 1.0, 1.005})
                for (const int gap : {0, 4, 30})
                    for (const int lead : {0, 7}) {
                        CAPTURE(std::string(amd::to_string(c.code)));
                        CAPTURE(scale);
                        CAPTURE(shift);
                        CAPTURE(gap);
                        CAPTURE(lead);
                        const auto pcm = sit_audio(c.tones, scale, shift, gap, lead);
                        const auto s = detect(pcm, lead ? 97 : 160);
                        REQUIRE(s);
                        ++heard;
                        right += s->code == c.code;
                        CHECK(s->code == c.code);
                        // Decided 200 ms into the third tone (block-rounded).
                        long third = lead;
                        for (std::size_t k = 0; k < 2; ++k)
                            third += std::lround(c.tones[k].ms * scale) + gap;
                        const long after = s->at.count() - third;
                        CHECK(after >= 180);
                        CHECK(after <= 260);
                    }
    }
    MESSAGE("SIT codes right: " << right << " of " << heard);
}

TEST_CASE("SIT: the AMD corpus's greetings, speech, beeps and fax tones are never taken for one") {
    const auto dir = corpus_dir();
    int files = 0, false_sits = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".wav") continue;
        const auto audio = amd::read_audio(e.path().string());
        REQUIRE_MESSAGE(audio.error.empty(), audio.error);
        ++files;
        if (const auto s = detect(audio.pcm)) {
            ++false_sits;
            MESSAGE(e.path().filename().string() << ": " << amd::to_string(s->code));
        }
    }
    REQUIRE(files > 100);
    MESSAGE("corpus files " << files << ", taken for a SIT: " << false_sits);
    CHECK(false_sits == 0);
    // Two of the three tones, or the three out of order, are no SIT either.
    CHECK_FALSE(detect(sit_audio({{kL1, kS}, {kL2, kS}})));
    CHECK_FALSE(detect(sit_audio({{kL2, kS}, {kL1, kS}, {k3, kLong}})));
    CHECK_FALSE(detect(sit_audio({{kL1, kS}, {kL2, kS}, {1000, kLong}})));
}

TEST_CASE("SIT: a stretch of its tones is 'possible' while it lasts and not 80 ms after it") {
    auto tone = [](double hz) {
        std::vector<std::int16_t> out;
        for (int i = 0; i < kS * 8; ++i)
            out.push_back(static_cast<std::int16_t>(5000 * std::sin(2 * M_PI * hz * i / 8000)));
        return out;
    };
    // A SIT's first tone alone (then silence): possible while it sounds, and no longer once
    // 80 ms of something else followed it.
    {
        amd::SitDetector d;
        CHECK(!d.possible());
        CHECK(!d.feed(tone(kL1)));
        CHECK(d.possible());
        const std::vector<std::int16_t> quiet(160, 0);
        for (int block = 1; block <= 3; ++block) {
            CHECK(!d.feed(quiet));
            CHECK(d.possible());  // (a gap of up to 60 ms is bridged)
        }
        CHECK(!d.feed(quiet));
        CHECK(!d.possible());
    }
    // A voicemail's usual 1 kHz beep is outside the SIT's bands (985.2 Hz + 1.5 %): never one.
    {
        amd::SitDetector d;
        CHECK(!d.feed(tone(1000)));
        CHECK(!d.possible());
    }
    // Speech-like audio is never one; a whole SIT is, until it is heard (then nothing more).
    amd::SitDetector d;
    std::vector<std::int16_t> vowel;
    for (int i = 0; i < 8000; ++i)
        vowel.push_back(static_cast<std::int16_t>(3000 * std::sin(2 * M_PI * 220 * i / 8000) +
                                                  1500 * std::sin(2 * M_PI * 660 * i / 8000)));
    CHECK(!d.feed(vowel));
    CHECK(!d.possible());
    const auto sit = sit_audio({{kL1, kS}, {kL2, kS}, {k3, kLong}});
    bool heard = false;
    for (std::size_t i = 0; i < sit.size() && !heard; i += 160) {
        heard = d.feed({sit.data() + i, std::min<std::size_t>(160, sit.size() - i)}).has_value();
        if (!heard && i >= 160 * 5 && i < 160 * 30) CHECK(d.possible());
    }
    CHECK(heard);
    CHECK(!d.possible());
}

TEST_CASE(
    "engine: a call answered by an intercept recording is invalid (the number is dead), one "
    "answered by a reorder SIT a carrier error, and neither reaches anyone") {
    for (const bool intercept : {true, false}) {
        CAPTURE(intercept);
        Sim::Options o;
        o.unattended_lines = 1;
        o.contacts = 1;
        Sim sim(o);
        const auto tones = intercept ? std::vector<SitTone>{{kL1, kS}, {kL2, kS}, {k3, kLong}}
                                     : std::vector<SitTone>{{kL1, kS}, {kH2, kLong}, {k3, kLong}};
        sim.answer_all(sit_audio(tones));
        sim.start();
        sim.run_for(8s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 1);
        const auto& a = attempts[0];
        CHECK(a.outcome == (intercept ? Outcome::invalid : Outcome::carrier_error));
        CHECK(a.notes.find(intercept ? "SIT IC" : "SIT RO") != std::string::npos);
        CHECK(sim.status().abandoned == 0);
        CHECK(sim.status().humans == 0);
        const auto c = sim.store().contact("sim", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == (intercept ? 1u : 0u));
        // Hung up once the SIT was heard: well before the announcement's end.
        CHECK(a.ended_ms - a.started_ms < 3000);
    }
}

TEST_CASE(
    "engine: a machine that only beeps, at a SIT's first frequency, is still a machine: its "
    "verdict waits for the tones to be ruled out, then counts") {
    Sim::Options o;
    o.unattended_lines = 1;
    o.contacts = 1;
    Sim sim(o);
    // 300 ms of 913.8 Hz (the intercept's first tone), then silence: no second tone follows.
    std::vector<std::int16_t> beep(800, 0);
    for (int i = 0; i < 300 * 8; ++i)
        beep.push_back(static_cast<std::int16_t>(5000 * std::sin(2 * M_PI * kL1 * i / 8000)));
    beep.resize(beep.size() + 6 * 8000, 0);
    sim.answer_all(beep);
    sim.start();
    sim.run_for(10s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    const auto& a = attempts[0];
    INFO("verdict " << a.amd_verdict << " at " << a.amd_ms << " ms: " << a.notes);
    CHECK(a.outcome == Outcome::machine);
    CHECK(a.amd_verdict == "machine");
    CHECK(a.notes == "beep");
    CHECK(sim.status().machines == 1);
    const auto c = sim.store().contact("sim", a.phone);
    REQUIRE(c);
    CHECK(c->state != ContactState::invalid);
}

TEST_CASE(
    "engine: a beep verdict held for special information tones waits at most 1 s, even while "
    "tones in a SIT's bands go on") {
    Sim::Options o;
    o.unattended_lines = 1;
    o.contacts = 1;
    Sim sim(o);
    // A SIT's first tone, 40 ms of silence (a gap the SIT detector bridges, where AMD hears the
    // beep end), then its second tone that never ends (no third tone): the SIT detector keeps
    // it possible throughout, so only the hold's bound releases the machine's verdict.
    std::vector<std::int16_t> audio;
    for (const auto& [hz, ms] : {std::pair{kL1, kS}, std::pair{0.0, 40}, std::pair{kL2, 4000}})
        for (int i = 0; i < ms * 8; ++i)
            audio.push_back(static_cast<std::int16_t>(5000 * std::sin(2 * M_PI * hz * i / 8000)));
    sim.answer_all(audio);
    sim.start();
    sim.run_for(10s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() == 1);
    const auto& a = attempts[0];
    INFO("verdict " << a.amd_verdict << " at " << a.amd_ms << " ms: " << a.notes);
    CHECK(a.outcome == Outcome::machine);
    CHECK(a.notes == "beep");
    // Hung up on the verdict's release: 1 s after the beep's verdict (~0.3 s into the answer),
    // not when the tone ends 4.3 s in.
    const auto answered_for = a.ended_ms - a.started_ms - a.ring_ms;
    CHECK(answered_for >= a.amd_ms + 1000);
    CHECK(answered_for < a.amd_ms + 1500);
}

TEST_CASE(
    "engine: special information tones in early media (183 with SDP) cancel the call at once: "
    "intercept invalid, reorder a carrier error, and ringback in early media changes nothing") {
    for (const int kind : {0, 1, 2}) {  // intercept, reorder, ringback then an answer
        CAPTURE(kind);
        Sim::Options o;
        o.unattended_lines = 1;
        o.contacts = 1;
        Sim sim(o);
        std::vector<std::int16_t> early;
        if (kind == 0) early = sit_audio({{kL1, kS}, {kL2, kS}, {k3, kLong}});
        if (kind == 1) early = sit_audio({{kL1, kS}, {kH2, kLong}, {k3, kLong}});
        if (kind == 2)  // North American ringback: 440 + 480 Hz, 2 s on
            for (int i = 0; i < 16000; ++i)
                early.push_back(
                    static_cast<std::int16_t>(2000 * (std::sin(2 * M_PI * 440 * i / 8000) +
                                                      std::sin(2 * M_PI * 480 * i / 8000))));
        sim.carrier([&](const ScriptedSip::Invite&) {
            CarrierPlan p{kind == 2 ? 2000ms : 12000ms, kind == 2 ? 200 : 480, true, {}, 1000ms};
            p.early = early;
            return p;
        });
        sim.start();
        sim.run_for(15s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 1);
        const auto& a = attempts[0];
        const auto c = sim.store().contact("sim", a.phone);
        REQUIRE(c);
        if (kind == 2) {
            CHECK(sim.status().answered == 1);
            CHECK(a.notes.find("SIT") == std::string::npos);
            continue;
        }
        CHECK(a.outcome == (kind == 0 ? Outcome::invalid : Outcome::carrier_error));
        CHECK(a.notes.find(kind == 0 ? "SIT IC in early media" : "SIT RO in early media") !=
              std::string::npos);
        CHECK(c->attempts == (kind == 0 ? 1u : 0u));
        CHECK(sim.status().answered == 0);
        // Cancelled once the SIT was heard (under a second of tones), not after 12 s of ringing.
        REQUIRE(!sim.calls().empty());
        CHECK(sim.calls()[0]->cancelled);
        CHECK(a.ended_ms - a.started_ms < 2000);
    }
}

TEST_CASE(
    "engine: over SIP, a carrier's 183 with an intercept SIT in its early media gets a CANCEL "
    "within a second of the tones and the number is recorded invalid") {
    Rig rig;
    // The tones and announcement as the carrier streams them in its 183.
    rig.campaign(
        "early_sit",
        carrier_playing(rig, "uas_early_audio", sit_audio({{kL1, kS}, {kL2, kS}, {k3, kLong}})), 2);
    const auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["early_sit"].size() == 2);
    for (const auto& a : all["early_sit"]) {
        CHECK(a.outcome == Outcome::invalid);
        CHECK(a.notes.find("SIT IC in early media") != std::string::npos);
        // About 0.75 s of tones, then the CANCEL and its 487.
        CHECK(a.ring_ms >= 600);
        CHECK(a.ring_ms < 2000);
        CHECK(a.sip_code == 487);
    }
}

TEST_CASE(
    "engine: over SIP, an answer that plays an intercept SIT is hung up within seconds and "
    "recorded invalid, on a media worker and on the loop (AMD takes its first tone for a beep)") {
    const auto pcm = sit_audio({{kL1, kS}, {kL2, kS}, {k3, kLong}});
    for (const bool on_loop : {false, true}) {
        CAPTURE(on_loop);
        Rig rig;
        rig.campaign("answered_sit",
                     carrier_playing(rig, "uas_answer_audio", pcm, {{"@RING_MS@", "200"}}), 2);
        if (on_loop) rig.rtp_extra(", workers: 0");
        const auto r = rig.run();
        INFO(r.out);
        REQUIRE(r.status == 0);
        auto all = rig.attempts();
        REQUIRE(all["answered_sit"].size() == 2);
        for (const auto& a : all["answered_sit"]) {
            // AMD alone said "machine: beep" at ~300 ms, the first tone's end, in about half the
            // runs: the verdict now waits while the tones may be a SIT.
            INFO("verdict " << a.amd_verdict << " at " << a.amd_ms << " ms: " << a.notes);
            CHECK(a.outcome == Outcome::invalid);
            CHECK(a.sip_code == 200);
            CHECK(a.notes.find("SIT IC") != std::string::npos);
            CHECK(a.notes.find("early media") == std::string::npos);
            // About 0.75 s of tones after the answer, then our BYE: not the analysis's full time.
            CHECK(a.amd_ms > 0);
            CHECK(a.amd_ms < 2000);
        }
        // Listened to by the media worker (the default: one on this machine), which told the
        // loop of the tones; or by the loop itself.
        CHECK(r.out.find(on_loop ? "; 0 answers were listened to there"
                                 : "; 2 answers were listened to there") != std::string::npos);
    }
}
