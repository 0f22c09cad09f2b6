// The engine killed with SIGKILL at random moments while it dials at a high rate, restarted each
// time, then run to the end: the ledger holds every attempt with an outcome (the ones in flight at
// a kill recovered at the next start), no contact is dialled more often than its rules allow, the
// contacts' attempt counts match the ledger, and the abandon counts match what the ledger says.
#include <doctest/doctest.h>

#include <random>

#include "campaigns/rules.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

TEST_CASE(
    "crash: kill -9 at random moments mid-dialling loses no outcome and double-dials "
    "nobody") {
    Rig rig;
    // Busy callees at 50 calls/s on 30 lines, and people (who hear the safe harbor on
    // unattended lines: abandoned, counted) on 6.
    rig.campaign("crash-busy", "uas_busy.xml", 400, "", 30);
    rig.campaign("crash-people", rig.streaming("human-short-000.wav", 200), 60, "", 6);
    std::mt19937 rng(static_cast<unsigned>(std::time(nullptr)));
    std::uniform_int_distribution<int> when(1200, 3500);
    int kills = 0;
    for (int i = 0; i < 4; ++i) {
        auto engine = rig.start("");
        std::this_thread::sleep_for(std::chrono::milliseconds(when(rng)));
        engine->signal(SIGKILL);
        engine->wait(10s);
        ++kills;
    }
    // The last start recovers what the last kill left and dials everyone still due.
    const auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(kills == 4);

    auto all = rig.attempts();
    std::size_t lost = 0, recovered_decided = 0;
    for (const auto& name : {"crash-busy", "crash-people"}) {
        const auto& attempts = all[name];
        REQUIRE(!attempts.empty());
        std::map<std::string, std::vector<const Attempt*>> by_phone;
        for (const auto& a : attempts) {
            CHECK_MESSAGE(!a.in_flight(), name << " attempt " << a.id << " left in flight");
            by_phone[a.phone].push_back(&a);
            if (a.outcome == Outcome::lost) ++lost;
            if (a.outcome != Outcome::lost &&
                a.notes.find("recovered after the engine stopped") != std::string::npos)
                ++recovered_decided;
        }
        for (const auto& [phone, list] : by_phone) {
            // Every retry delay is a minute or more and the test is shorter: whatever the kills,
            // nobody was dialled twice.
            CHECK_MESSAGE(list.size() == 1, name << " " << phone << " dialled " << list.size());
            auto c = rig.contact(name, phone);
            REQUIRE(c);
            std::uint32_t counted = 0;
            for (const auto* a : list) counted += counts_as_attempt(a->outcome);
            CHECK_MESSAGE(c->attempts == counted, name << " " << phone);
            CHECK(c->state != ContactState::in_flight);
        }
    }
    // Each kill left calls in flight; each restart recovered them.
    MESSAGE("after 4 kills: " << lost << " attempts recovered as lost, " << recovered_decided
                              << " with the outcome decided before the kill");
    CHECK(lost + recovered_decided >= 1);

    // Everyone in the people campaign who answered was abandoned (no agents), and the report's
    // window counts are the ledger's, kills included.
    std::size_t abandoned = 0, live = 0;
    for (const auto& a : all["crash-people"]) {
        abandoned += a.outcome == Outcome::abandoned;
        live += a.outcome == Outcome::abandoned || a.outcome == Outcome::connected;
    }
    auto rep = test::run(std::string(OUTPACE_BINARY) + " report --json --data " + rig.data() +
                         " --campaign crash-people");
    REQUIRE(rep.status == 0);
    const auto j = nlohmann::json::parse(rep.out);
    CHECK(j["abandon"]["24h"]["abandoned"] == abandoned);
    CHECK(j["abandon"]["24h"]["live_answers"] == live);
    CHECK(abandoned >= 30);  // most of the 60 answered before or between the kills
}
