// The detector on the generated corpus (espeak-ng speech, sox for the line): the figures
// as assertions, and the same verdicts through µ-law and A-law. The corpus is generated at test
// time for a seed that was not used to tune the defaults, and kept in the build folder.
#include <doctest/doctest.h>

extern "C" {
#include <spandsp.h>
}

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "answering-detect/corpus_score.h"
#include "tests/test_util.h"

using namespace outpace::amd;

namespace {

std::string corpus() {
    const std::string dir = std::string(OUTPACE_BUILD_DIR) + "/amd-corpus-seed11";
    const auto error = ensure_corpus(
        std::string(OUTPACE_SOURCE_DIR) + "/answering-detect/corpus/make_corpus.py", dir, 11, 1);
    REQUIRE_MESSAGE(error.empty(), error);
    return dir;
}

std::vector<std::int16_t> via_ulaw(const std::vector<std::int16_t>& pcm) {
    std::vector<std::int16_t> out;
    out.reserve(pcm.size());
    for (auto s : pcm) out.push_back(ulaw_to_linear(linear_to_ulaw(s)));
    return out;
}

std::vector<std::int16_t> via_alaw(const std::vector<std::int16_t>& pcm) {
    std::vector<std::int16_t> out;
    out.reserve(pcm.size());
    for (auto s : pcm) out.push_back(alaw_to_linear(linear_to_alaw(s)));
    return out;
}

}  // namespace

TEST_CASE("corpus: accuracy, people never taken for machines, fast human verdicts, beeps") {
    const auto s = score_corpus(corpus());
    REQUIRE_MESSAGE(s.error.empty(), s.error);
    for (const auto& f : s.files)
        if (f.verdict != f.label)
            MESSAGE(f.file << ": labelled " << f.label << ", got " << f.verdict << " (" << f.cause
                           << ") at " << f.decision_ms << " ms");
    CHECK(s.files.size() >= 100);
    CHECK(s.accuracy() >= 0.97);
    CHECK(s.humans >= 50);
    CHECK(s.humans_as_machine * 100 <= s.humans);  // at most 1 %
    CHECK(s.latency_percentile(0.5) <= 800);
    CHECK(s.latency_percentile(0.95) <= 1200);
    CHECK(s.beeps >= 20);
    CHECK(s.beeps_within_100ms * 100 >= 95 * s.beeps);
    CHECK(s.beeps_in_human_audio == 0);
    // Every category is represented and mostly right: none is carried by the others.
    std::map<std::string, std::pair<int, int>> by_category;
    for (const auto& f : s.files) {
        auto& [right, all] = by_category[f.category];
        right += f.verdict == f.label;
        ++all;
    }
    for (const char* c : {"human-short", "human-twice", "human-sentence", "machine-beep",
                          "machine-nobeep", "fax-ced", "fax-cng", "silence"}) {
        INFO(c);
        REQUIRE(by_category.count(c));
        CHECK(by_category[c].first * 10 >= by_category[c].second * 9);
    }
}

TEST_CASE("corpus: the same verdicts through µ-law and A-law") {
    const auto dir = corpus();
    const auto plain = score_corpus(dir);
    const auto ulaw = score_corpus(dir, {}, via_ulaw);
    const auto alaw = score_corpus(dir, {}, via_alaw);
    REQUIRE(plain.error.empty());
    REQUIRE(ulaw.files.size() == plain.files.size());
    REQUIRE(alaw.files.size() == plain.files.size());
    int differ = 0;
    for (std::size_t i = 0; i < plain.files.size(); ++i) {
        for (const auto* other : {&ulaw.files[i], &alaw.files[i]}) {
            if (other->verdict != plain.files[i].verdict) {
                ++differ;
                MESSAGE(plain.files[i].file << ": " << plain.files[i].verdict << " vs "
                                            << other->verdict);
            }
        }
    }
    CHECK(differ == 0);
}

TEST_CASE("outpace amd prints one JSON object per file, and a clear error for a bad file") {
    using outpace::test::run;
    const auto dir = corpus();
    const std::string bin = OUTPACE_BINARY;
    auto r =
        run(bin + " amd --json " + dir + "/machine-beep-000.wav " + dir + "/human-short-000.wav");
    REQUIRE(r.status == 0);
    std::istringstream lines(r.out);
    std::string line;
    std::vector<nlohmann::json> out;
    while (std::getline(lines, line)) out.push_back(nlohmann::json::parse(line));
    REQUIRE(out.size() == 2);
    CHECK(out[0]["verdict"] == "machine");
    CHECK(out[0].contains("beep_end_ms"));
    CHECK(out[0].contains("decision_ms"));
    CHECK(out[1]["verdict"] == "human");
    CHECK(out[1]["cause"] == "after-greeting-silence");
    CHECK_FALSE(out[1].contains("beep_end_ms"));

    outpace::test::TempDir tmp;
    const auto bad = tmp.write("bad.wav", "RIFF this is not audio");
    auto e = run(bin + " amd " + bad);
    CHECK(e.status == 1);
    CHECK(e.out.find("bad.wav:") != std::string::npos);
    auto txt = run(bin + " amd " + dir + "/human-short-000.wav");
    CHECK(txt.status == 0);
    CHECK(txt.out.find("human (after-greeting-silence) at ") != std::string::npos);
}
