// The regulatory abandon window rolls: the engine's running figures and `outpace report`'s agree
// at every moment, and old abandons leave the window (issue 18: an engine up for days used to
// keep them, diluting or inflating its rate).
#include <doctest/doctest.h>

#include "campaigns/abandon_window.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/report.h"
#include "test_util.h"

using namespace outpace;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;
// 2026-11-24T00:00:00Z
constexpr std::int64_t kStartMs = 1'795'478'400'000;

Timestamp at_ms(std::int64_t ms) {
    return Timestamp{std::chrono::seconds(ms / 1000)};
}

}  // namespace

TEST_CASE("the abandon window rolls: abandons of 25 hours ago no longer count under 24 hours") {
    test::TempDir dir;
    std::string error;
    auto store = Store::open(dir.file("db"), &error);
    REQUIRE_MESSAGE(store, error);
    auto load = load_campaign_text(
        "name: t\ntimezone: {default: America/New_York}\n"
        "pacing: {abandon_window: 24h}\n",
        "t.yaml", dir.path());
    for (const auto& e : load.errors) FAIL(e.to_string());
    const Campaign& campaign = *load.campaign;

    // The engine's window, seeded from an empty ledger, then told of each call as it ends.
    RollingAbandonWindow engine_window(std::chrono::hours(24));
    engine_window.seed(*store, campaign, kStartMs);
    std::uint64_t id = 1;
    auto record = [&](std::int64_t ended_ms, Outcome outcome, const std::string& verdict) {
        Attempt a;
        a.id = id++;
        a.campaign = "t";
        a.phone = "+1212555" + std::to_string(1000 + a.id);
        a.started_ms = ended_ms - 30'000;
        a.ended_ms = ended_ms;
        a.outcome = outcome;
        a.amd_verdict = verdict;
        auto b = store->batch();
        b.put_attempt(a);
        REQUIRE(store->write(b, true).ok());
        engine_window.add(ended_ms, window_event(a));
    };
    // Hour 0 to 2: a bad start, six abandons; then only good calls (a person connected and a
    // machine released every ten minutes) until hour 26.
    std::vector<std::pair<std::int64_t, Outcome>> calls;
    for (std::int64_t t = kStartMs + 60'000; t < kStartMs + 2 * kHourMs; t += 20 * 60'000)
        calls.emplace_back(t, Outcome::abandoned);
    for (std::int64_t t = kStartMs + 2 * kHourMs; t < kStartMs + 26 * kHourMs; t += 10 * 60'000) {
        calls.emplace_back(t, Outcome::connected);
        calls.emplace_back(t + 1000, Outcome::machine);
    }
    // Time passes: every simulated hour, and each minute around the first abandon's 24th hour.
    std::vector<std::int64_t> moments;
    for (std::int64_t h = 1; h <= 26; ++h) moments.push_back(kStartMs + h * kHourMs);
    for (std::int64_t m = -2; m <= 2; ++m)
        moments.push_back(kStartMs + 24 * kHourMs + 60'000 + m * 60'000);
    std::sort(moments.begin(), moments.end());
    std::size_t next = 0;
    std::int64_t abandons_at_25h = -1;
    for (const auto now : moments) {
        for (; next < calls.size() && calls[next].first <= now; ++next)
            record(calls[next].first, calls[next].second,
                   calls[next].second == Outcome::machine ? "machine" : "human");
        engine_window.roll(now);
        const auto report = build_report(*store, campaign, at_ms(now)).last_24h;
        RollingAbandonWindow seeded(std::chrono::hours(24));
        seeded.seed(*store, campaign, now);
        INFO("at hour " << double(now - kStartMs) / kHourMs);
        // The engine's running window, the report, and a window seeded afresh (a restart) agree.
        CHECK(engine_window.live_answers() == static_cast<std::int64_t>(report.live_answers));
        CHECK(engine_window.abandoned() == static_cast<std::int64_t>(report.abandoned));
        CHECK(engine_window.machines() == static_cast<std::int64_t>(report.machines));
        CHECK(seeded.live_answers() == engine_window.live_answers());
        CHECK(seeded.abandoned() == engine_window.abandoned());
        CHECK(seeded.machines() == engine_window.machines());
        if (now == kStartMs + 25 * kHourMs) abandons_at_25h = engine_window.abandoned();
        if (now == kStartMs + 2 * kHourMs) CHECK(engine_window.abandoned() == 6);
    }
    // The six abandons of the first two hours: all out of the window by hour 26 (at hour 25,
    // those of hour 1 to 2 are still in: the window is the last 24 hours, not the last day).
    CHECK(abandons_at_25h == 3);
    CHECK(engine_window.abandoned() == 0);
    // The last 24 hours of good calls: the one at hour 2 sharp has just left the window.
    CHECK(engine_window.live_answers() == 6 * 24 - 1);
    // Read a day earlier, the same ledger still had the bad start in the window.
    RollingAbandonWindow early(std::chrono::hours(24));
    early.seed(*store, campaign, kStartMs + 3 * kHourMs);
    CHECK(early.abandoned() == 6);
}
