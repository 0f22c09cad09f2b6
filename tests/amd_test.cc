// Answering-machine detection, component by component, then the state machine on synthetic
// calls: a short greeting, a long one, dead air, a fax, a voicemail beep, levels and noise.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "answering-detect/detector.h"
#include "campaigns/campaign.h"

using namespace outpace::amd;
using std::chrono::milliseconds;

namespace {

using Pcm = std::vector<std::int16_t>;

double amp(double dbfs) {
    return 32767 * std::pow(10, dbfs / 20);
}

void tone(Pcm& out, double hz, int ms, double dbfs) {
    const double a = amp(dbfs);
    const std::size_t n0 = out.size();
    for (int i = 0; i < ms * 8; ++i)
        out.push_back(
            static_cast<std::int16_t>(a * std::sin(2 * M_PI * hz * double(n0 + i) / 8000)));
}

void silence(Pcm& out, int ms) {
    out.insert(out.end(), static_cast<std::size_t>(ms * 8), 0);
}

// Speech-like sound: syllables of a voiced harmonic complex (pitch 120-200 Hz, energy shaped by
// two formants) with a rising and falling envelope, and short gaps between them.
void syllables(Pcm& out, int ms, double dbfs, unsigned seed = 1) {
    std::mt19937 rng(seed);
    const double a = amp(dbfs);
    int done = 0;
    while (done < ms) {
        const int len = std::min(ms - done, 150 + int(rng() % 150));
        const double f0 = 120 + rng() % 80, f1 = 500 + rng() % 400, f2 = 1200 + rng() % 800;
        for (int i = 0; i < len * 8; ++i) {
            const double env = std::sin(M_PI * i / (len * 8.0));
            double v = 0;
            for (int h = 1; h * f0 < 3400; ++h) {
                const double f = h * f0;
                const double g =
                    1 / (1 + std::pow((f - f1) / 150, 2)) + 0.5 / (1 + std::pow((f - f2) / 200, 2));
                v += g * std::sin(2 * M_PI * f * i / 8000);
            }
            out.push_back(
                static_cast<std::int16_t>(std::clamp(a * 0.5 * env * v, -32767.0, 32767.0)));
        }
        done += len;
        if (done < ms) {
            const int gap = std::min(ms - done, 30 + int(rng() % 40));
            silence(out, gap);
            done += gap;
        }
    }
}

void add_noise(Pcm& pcm, double dbfs, unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0, amp(dbfs) / std::sqrt(2.0));
    for (auto& s : pcm) s = static_cast<std::int16_t>(std::clamp(s + n(rng), -32767.0, 32767.0));
}

struct Outcome {
    std::optional<Event> verdict, beep, greeting_ended;
};

Outcome detect(const Pcm& pcm, std::size_t frame = 160, Config c = {}) {
    Detector d(c);
    Outcome o;
    for (std::size_t i = 0; i < pcm.size() && !d.finished(); i += frame) {
        const auto n = std::min(frame, pcm.size() - i);
        for (const auto& e : d.feed({pcm.data() + i, n}, milliseconds(i / 8))) {
            if (e.kind == Event::Kind::verdict) o.verdict = e;
            if (e.kind == Event::Kind::beep) o.beep = e;
            if (e.kind == Event::Kind::greeting_ended) o.greeting_ended = e;
        }
    }
    return o;
}

}  // namespace

TEST_CASE("block level: a full-scale sine is 0 dBFS, digital silence -100") {
    Pcm p;
    tone(p, 1000, 20, 0);
    CHECK(block_dbfs(p.data(), 160) == doctest::Approx(0).epsilon(0.01));
    Pcm q;
    tone(q, 1000, 20, -20);
    CHECK(block_dbfs(q.data(), 160) == doctest::Approx(-20).epsilon(0.01));
    Pcm z(160, 0);
    CHECK(block_dbfs(z.data(), 160) == -100);
    // A DC offset alone is not signal.
    Pcm dc(160, 500);
    CHECK(block_dbfs(dc.data(), 160) == -100);
}

TEST_CASE("the noise floor follows the line's background, not its speech") {
    Pcm noise;
    silence(noise, 3000);
    add_noise(noise, -40);
    NoiseFloor f;
    for (std::size_t i = 0; i < noise.size(); i += 160) f.add(block_dbfs(&noise[i], 160));
    CHECK(f.dbfs() == doctest::Approx(-40).epsilon(0.05));
    // Speech over the same noise: the gaps between syllables keep the floor down.
    Pcm talk;
    syllables(talk, 3000, -15);
    add_noise(talk, -40);
    NoiseFloor g;
    double highest = -100;
    for (std::size_t i = 0; i < talk.size(); i += 160) {
        g.add(block_dbfs(&talk[i], 160));
        if (i >= 160 * 10) highest = std::max(highest, g.dbfs());
    }
    CHECK(highest < -30);
}

TEST_CASE("words: short blips are not words, short gaps do not split one") {
    using ms = milliseconds;
    WordSegmenter w(ms(100), ms(50));
    auto feed = [&](bool voiced, int blocks, ms& t) {
        for (int i = 0; i < blocks; ++i, t += ms(20)) w.add(voiced, t, ms(20));
    };
    ms t{0};
    feed(false, 10, t);
    feed(true, 3, t);  // 60 ms: too short
    feed(false, 5, t);
    CHECK(w.words() == 0);
    feed(true, 4, t);   // 80 ms
    feed(false, 2, t);  // a 40 ms gap joins...
    feed(true, 2, t);   // ...this 40 ms: one 160 ms word
    CHECK(w.words() == 1);
    CHECK(*w.greeting_start() == ms(360));
    feed(false, 3, t);  // 60 ms: the word is over
    feed(true, 6, t);
    CHECK(w.words() == 2);
    CHECK(w.last_word_end() == t);
}

TEST_CASE("tone analysis: a beep is pure, speech and noise are not") {
    for (double hz : {300.0, 440.0, 1000.0, 1400.0, 2500.0}) {
        Pcm p;
        tone(p, hz, 20, -20);
        const auto t = analyse_tone(p.data(), 160, 8000);
        CHECK(t.hz == doctest::Approx(hz).epsilon(0.01));
        CHECK(t.purity > 0.95);
    }
    Pcm noise(160, 0);
    add_noise(noise, -20);
    CHECK(analyse_tone(noise.data(), 160, 8000).purity < 0.5);
    Pcm voice;
    syllables(voice, 400, -10);
    int pure = 0;
    for (std::size_t i = 0; i + 160 <= voice.size(); i += 160)
        pure += analyse_tone(&voice[i], 160, 8000).purity >= BeepLimits{}.min_purity;
    CHECK(pure == 0);
    // A beep under line noise (20 dB below) stays pure.
    Pcm noisy;
    tone(noisy, 1000, 20, -20);
    add_noise(noisy, -40);
    CHECK(analyse_tone(noisy.data(), 160, 8000).purity > 0.9);
}

TEST_CASE("tone tracker: a beep needs a steady frequency for its whole length") {
    auto run = [](const Pcm& p) {
        ToneTracker t{BeepLimits{}};
        std::optional<Beep> beep;
        for (std::size_t i = 0; i + 160 <= p.size(); i += 160) {
            t.add(analyse_tone(&p[i], 160, 8000), block_dbfs(&p[i], 160) > -60, milliseconds(i / 8),
                  milliseconds(20));
            if (auto b = t.take_beep()) beep = b;
        }
        return beep;
    };
    Pcm p;
    silence(p, 200);
    tone(p, 1000, 400, -12);
    silence(p, 200);
    auto b = run(p);
    REQUIRE(b);
    CHECK(b->start.count() == doctest::Approx(200).epsilon(0.15));
    CHECK(b->end.count() == doctest::Approx(600).epsilon(0.05));
    Pcm blip;
    silence(blip, 200);
    tone(blip, 1000, 80, -12);
    silence(blip, 200);
    CHECK_FALSE(run(blip));  // too short
    Pcm long_tone;
    tone(long_tone, 1000, 2000, -12);
    silence(long_tone, 200);
    CHECK_FALSE(run(long_tone));  // too long for a beep
    Pcm glide;                    // two tones back to back: neither is long enough
    tone(glide, 800, 100, -12);
    tone(glide, 1200, 100, -12);
    silence(glide, 200);
    CHECK_FALSE(run(glide));
}

TEST_CASE("a short greeting then silence is a person, decided soon after the greeting ends") {
    Pcm p;
    silence(p, 500);
    syllables(p, 600, -15);
    silence(p, 3000);
    auto o = detect(p);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::human);
    CHECK(std::string(o.verdict->cause) == "after-greeting-silence");
    const auto after_end = o.verdict->at.count() - 1100;
    CHECK(after_end >= Config{}.after_greeting_silence.count());
    CHECK(after_end <= Config{}.after_greeting_silence.count() + 100);
}

TEST_CASE("a long greeting is a machine, and its beep is located and ends the analysis") {
    Pcm p;
    silence(p, 300);
    syllables(p, 6000, -12);
    silence(p, 400);
    const int beep_start = 6700;
    tone(p, 1400, 500, -10);
    silence(p, 1000);
    auto o = detect(p);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::machine);
    CHECK(std::string(o.verdict->cause) == "long-greeting");
    CHECK(o.verdict->at.count() == doctest::Approx(300 + Config{}.greeting.count()).epsilon(0.05));
    REQUIRE(o.beep);
    CHECK(std::abs(o.beep->beep_start.count() - beep_start) <= 40);
    CHECK(std::abs(o.beep->beep_end.count() - (beep_start + 500)) <= 40);
    CHECK(o.beep->beep_hz == doctest::Approx(1400).epsilon(0.01));
}

TEST_CASE("a machine greeting that ends without a beep is reported when its silence begins") {
    Pcm p;
    syllables(p, 5000, -12);
    silence(p, 3000);
    auto o = detect(p);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::machine);
    CHECK_FALSE(o.beep);
    REQUIRE(o.greeting_ended);
    CHECK(o.greeting_ended->at.count() ==
          doctest::Approx(5000 + Config{}.machine_greeting_end_silence.count()).epsilon(0.03));
}

TEST_CASE("many words in a row make a machine") {
    Pcm p;
    for (int i = 0; i < 12; ++i) {
        syllables(p, 200, -12, i + 1);
        silence(p, 120);
    }
    silence(p, 2000);
    Config c;
    c.maximum_number_of_words = 4;
    auto o = detect(p, 160, c);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::machine);
    CHECK(std::string(o.verdict->cause) == "max-words");
}

TEST_CASE("dead air and noise alone are unknown, never a machine") {
    Pcm quiet;
    silence(quiet, 4000);
    auto o = detect(quiet);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::unknown);
    CHECK(std::string(o.verdict->cause) == "initial-silence");
    CHECK(o.verdict->at == Config{}.initial_silence);
    for (double level : {-50.0, -35.0, -20.0}) {
        Pcm noise;
        silence(noise, 4000);
        add_noise(noise, level);
        auto n = detect(noise);
        REQUIRE(n.verdict);
        CHECK(n.verdict->verdict == Verdict::unknown);
    }
}

TEST_CASE("fax tones: CED and CNG") {
    Pcm ced;
    silence(ced, 400);
    tone(ced, 2100, 3300, -12);
    auto o = detect(ced);
    REQUIRE(o.verdict);
    CHECK(o.verdict->verdict == Verdict::fax);
    CHECK(std::string(o.verdict->cause) == "fax-ced");
    Pcm cng;
    silence(cng, 400);
    for (int i = 0; i < 2; ++i) {
        tone(cng, 1100, 500, -12);
        silence(cng, 3000);
    }
    auto c = detect(cng);
    REQUIRE(c.verdict);
    CHECK(c.verdict->verdict == Verdict::fax);
    CHECK(std::string(c.verdict->cause) == "fax-cng");
}

TEST_CASE("level and background noise do not change a person into a machine") {
    for (double level : {-30.0, -20.0, -6.0, -1.0})
        for (double snr : {100.0, 25.0, 15.0}) {
            Pcm p;
            silence(p, 400);
            syllables(p, 700, level);
            silence(p, 2500);
            if (snr < 100) add_noise(p, level - snr);
            auto o = detect(p);
            INFO("level " << level << " dBFS, SNR " << snr << " dB");
            REQUIRE(o.verdict);
            CHECK(o.verdict->verdict == Verdict::human);
            CHECK_FALSE(o.beep);
        }
}

TEST_CASE("frames of any size, and lost packets heard as silence") {
    Pcm p;
    silence(p, 300);
    syllables(p, 700, -15);
    silence(p, 2000);
    const auto whole = detect(p, 160);
    REQUIRE(whole.verdict);
    for (std::size_t frame : {7u, 80u, 240u, 1000u}) {
        const auto o = detect(p, frame);
        REQUIRE(o.verdict);
        CHECK(o.verdict->verdict == whole.verdict->verdict);
        CHECK(std::abs(o.verdict->at.count() - whole.verdict->at.count()) <= 120);
    }
    // The greeting, then no packets at all: the gap counts as silence.
    Detector d;
    Pcm greeting(p.begin(), p.begin() + 8 * 1000);
    for (std::size_t i = 0; i < greeting.size(); i += 160)
        d.feed({greeting.data() + i, 160}, milliseconds(i / 8));
    Pcm one(160, 0);
    auto events = d.feed(one, milliseconds(2500));
    REQUIRE(d.verdict());
    CHECK(*d.verdict() == Verdict::human);
    CHECK(d.finished());
    CHECK(d.feed(one, milliseconds(2520)).empty());  // finished: nothing more
    (void)events;
    CHECK(d.feed({}, milliseconds(3000)).empty());
}

TEST_CASE("a timestamp leaping hours ahead is heard as a long silence, nothing worse") {
    Detector d;
    Pcm p;
    syllables(p, 600, -15);
    for (std::size_t i = 0; i < p.size(); i += 160)
        d.feed({p.data() + i, 160}, milliseconds(i / 8));
    Pcm one(160, 0);
    d.feed(one, std::chrono::hours(70));  // a far end's 32-bit timestamp wrapping
    CHECK(d.finished());
    REQUIRE(d.verdict());
    CHECK(*d.verdict() == Verdict::human);  // the silence after the words ended the greeting
}

TEST_CASE("a campaign's AMD defaults are the detector's defaults") {
    const outpace::AmdThresholds t;
    const Config c;
    CHECK(t.initial_silence == c.initial_silence);
    CHECK(t.greeting == c.greeting);
    CHECK(t.after_greeting_silence == c.after_greeting_silence);
    CHECK(t.total_analysis_time == c.total_analysis_time);
    CHECK(t.min_word_length == c.min_word_length);
    CHECK(t.between_words_silence == c.between_words_silence);
    CHECK(t.maximum_number_of_words == c.maximum_number_of_words);
    CHECK(t.maximum_word_length == c.maximum_word_length);
}
