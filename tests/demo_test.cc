// The README's main job, end to end and shorter: deploy/demo.sh with this build's binary (no
// install, no build), then the ledger, the report and the recordings. The demo carrier scripts
// each number's outcome by its last digit (deploy/demo/carrier.xml.in), so every attempt can be
// checked against what the carrier did.
#include <doctest/doctest.h>

#include <regex>
#include <sndfile.h>

#include <cmath>

#include "campaigns/campaign_loader.h"
#include "campaigns/report.h"
#include "campaigns/store.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

using namespace outpace;

namespace {

// When the callee's greeting ended and when the first loud audio reached them, from a call
// recording (left: the callee, right: what they heard), in ms; -1 when not found.
std::pair<long, long> greeting_end_and_message(const std::string& wav) {
    SF_INFO info{};
    SNDFILE* f = sf_open(wav.c_str(), SFM_READ, &info);
    if (!f || info.channels != 2) {
        if (f) sf_close(f);
        return {-1, -1};
    }
    std::vector<std::int16_t> pcm(static_cast<std::size_t>(info.frames) * 2);
    sf_readf_short(f, pcm.data(), info.frames);
    sf_close(f);
    const std::size_t frames = pcm.size() / 2 / 160;
    auto peak = [&](std::size_t block, int channel) {
        int p = 0;
        for (std::size_t i = block * 160; i < (block + 1) * 160; ++i)
            p = std::max(p, std::abs(int(pcm[2 * i + static_cast<std::size_t>(channel)])));
        return p;
    };
    std::size_t message = 0;
    while (message < frames && peak(message, 1) < 1000) ++message;
    if (message == frames) return {-1, -1};
    int loudest = 0;
    for (std::size_t b = 0; b < message; ++b) loudest = std::max(loudest, peak(b, 0));
    long end = -1;
    for (std::size_t b = 0; b < message; ++b)
        if (peak(b, 0) > loudest / 5) end = static_cast<long>((b + 1) * 20);
    return {end, static_cast<long>(message * 20)};
}

}  // namespace

TEST_CASE("demo: every attempt matches the carrier's script, within the rules") {
    test::TempDir tmp;
    const std::string work = tmp.file("demo");
    auto r = test::run("cd " + std::string(OUTPACE_SOURCE_DIR) +
                       " && OUTPACE_DEMO_BINARY=" + OUTPACE_BINARY + " OUTPACE_DEMO_DATA=" + work +
                       " OUTPACE_DEMO_SECONDS=25 OUTPACE_DEMO_AGENTS=6 OUTPACE_DEMO_TALK=fixed:3s "
                       "OUTPACE_DEMO_RTP_PORTS=32000-32699 timeout 240 bash "
                       "deploy/demo.sh 2>&1");
    INFO(r.out);
    REQUIRE(r.status == 0);
    // The web desktop ran beside it, its address and passwords printed.
    CHECK(r.out.find("the agent desktop:      http://127.0.0.1:") != std::string::npos);
    CHECK(std::regex_search(r.out, std::regex("log in as 'you', password [A-Za-z0-9]{12}")));
    CHECK(test::read_file(work + "/web.log").find("the agent desktop is at") != std::string::npos);
    CHECK(r.out.find("compliance checks") != std::string::npos);
    // The pacer started warm from the simulated day in the ledger, and said so.
    CHECK(r.out.find("started warm: 2000 dials of the last 7 days in the ledger") !=
          std::string::npos);
    {
        // The results' total row ends with the occupancy the engine's agent time gives.
        const auto total = r.out.find("\n  total ", r.out.find("results from"));
        REQUIRE(total != std::string::npos);
        const auto line = r.out.substr(total + 1, r.out.find('\n', total + 1) - total - 1);
        INFO(line);
        CHECK(line.back() == '%');
    }

    auto load = load_campaign_file(work + "/demo.yaml");
    REQUIRE(load.campaign);
    std::string error;
    auto store = Store::open(work + "/data", &error);
    REQUIRE_MESSAGE(store, error);
    std::map<std::string, int> per_phone;
    int humans = 0, checked_messages = 0, simulated = 0;
    store->for_each_attempt("demo", [&](const Attempt& a) {
        // The simulated previous day (deploy/demo/history.yaml), labelled as such.
        if (a.origin == "simulated") {
            ++simulated;
            CHECK(a.notes.find("simulated history") != std::string::npos);
            CHECK(a.agent.rfind("sim-", 0) == (a.agent.empty() ? std::string::npos : 0));
            return;
        }
        ++per_phone[a.phone];
        CHECK_MESSAGE(!a.in_flight(), a.phone);
        const char digit = a.phone.back();
        INFO(a.phone << ": " << to_string(a.outcome) << " " << a.notes);
        switch (digit) {
            case '0':
                CHECK(a.outcome == Outcome::invalid);
                break;
            case '1':
                CHECK(a.outcome == Outcome::busy);
                break;
            case '2':
            case '3':
                CHECK(a.outcome == Outcome::no_answer);
                break;
            case '4':
            case '5':
                CHECK(a.outcome == Outcome::machine);
                CHECK(a.amd_verdict == "machine");
                break;
            default:
                ++humans;
                CHECK(a.amd_verdict == "human");
                CHECK((a.outcome == Outcome::connected || a.outcome == Outcome::abandoned));
                if (a.outcome == Outcome::connected) {
                    CHECK(!a.agent.empty());
                    CHECK(!a.disposition.empty());
                }
                if (a.outcome == Outcome::abandoned) {
                    // The safe-harbor message within 2 s of the greeting's end, as recorded.
                    const auto [end, message] = greeting_end_and_message(
                        work + "/recordings/demo/" + std::to_string(a.id) + ".wav");
                    REQUIRE(end >= 0);
                    CHECK(message - end <= 2000);
                    ++checked_messages;
                }
        }
    });
    CHECK(simulated > 1000);
    REQUIRE(per_phone.size() >= 8);  // the run reached a fair part of the list
    CHECK(humans >= 3);
    for (const auto& [phone, n] : per_phone)
        CHECK_MESSAGE(n == 1, phone);  // retries are hours away

    const auto report = build_report(
        *store, *load.campaign,
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), true);
    CHECK(report.outside_hours == 0);
    CHECK(report.over_attempt_cap == 0);
    CHECK(report.last_24h.rate() <= load.campaign->max_abandon_rate);
    CHECK(report.in_flight == 0);
    MESSAGE(per_phone.size() << " contacts dialled, " << humans << " people, " << checked_messages
                             << " abandoned calls' messages timed");
}
