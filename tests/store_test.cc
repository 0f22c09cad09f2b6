// Import, hopper and ledger against a real RocksDB store in a temporary folder.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/hopper.h"
#include "campaigns/importer.h"
#include "campaigns/ledger.h"
#include "campaigns/report.h"
#include "campaigns/results.h"
#include "test_util.h"

using namespace outpace;
using test::at;

namespace {

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<Store> store;
    Campaign campaign;

    explicit Fixture(const std::string& yaml = "name: t\ntimezone: {default: America/New_York}\n") {
        std::string err;
        store = Store::open(dir.file("db"), &err);
        REQUIRE_MESSAGE(store, err);
        auto r = load_campaign_text(yaml, "t.yaml", dir.path());
        for (const auto& e : r.errors) FAIL(e.to_string());
        campaign = *r.campaign;
    }

    ImportSummary import(const std::string& csv) {
        auto list = dir.write("list.csv", csv);
        ImportSummary s;
        std::string err;
        REQUIRE_MESSAGE(import_contacts(*store, campaign, "name: t\n", list, {}, s, &err), err);
        return s;
    }

    std::string rejects() { return test::read_file(dir.file("list.csv.rejects.csv")); }

    // Claims up to `n` contacts from the hopper at `t` and begins their attempts.
    std::vector<Attempt> dial(std::size_t n, Timestamp t) {
        Hopper hopper(*store, campaign);
        Ledger ledger(*store, campaign);
        std::string err;
        auto begun = ledger.begin(hopper.next(t, n), t, "main");
        REQUIRE_MESSAGE(begun.ok(), begun.status.error);
        auto attempts = std::move(begun.value);
        return attempts;
    }
};

std::vector<std::string> phones(const std::vector<Contact>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs) out.push_back(c.phone);
    return out;
}

}  // namespace

TEST_CASE("import stores valid rows and reports every rejected row with its line and reason") {
    Fixture f;
    auto s = f.import(
        "phone,name,timezone\n"
        "212 555 0123,Ada,\n"
        "555-0100,Bad,\n"
        "(212) 555-0123,Dup,\n"
        "312 555 0166,Alan\n"
        "+1 800 555 0100,Toll,Mars/Base\n"
        ",Empty,\n"
        "+1 800 555 0101,Toll,America/Denver\n");
    CHECK(s.rows == 7);
    CHECK(s.imported == 2);
    CHECK(s.rejected == 5);
    CHECK(s.reject_reasons["invalid phone number"] == 1);
    CHECK(s.reject_reasons["duplicate in list"] == 1);
    CHECK(s.reject_reasons["wrong number of fields"] == 1);
    CHECK(s.reject_reasons["unknown time zone"] == 1);
    CHECK(s.reject_reasons["no phone number"] == 1);
    CHECK(s.rows == s.imported + s.rejected + s.already_present);  // nothing dropped silently
    const std::string rej = f.rejects();
    CHECK(rej.find("3,invalid phone number,'555-0100': not a valid number for its country") !=
          std::string::npos);
    CHECK(rej.find("4,duplicate in list,+12125550123 already on line 2") != std::string::npos);
    CHECK(rej.find("5,wrong number of fields") != std::string::npos);

    auto c = f.store->contact("t", "+12125550123");
    REQUIRE(c);
    CHECK(c->zones == "America/New_York");
    CHECK(c->line == 2);
    CHECK(c->fields ==
          std::vector<std::pair<std::string, std::string>>{{"name", "Ada"}, {"timezone", ""}});
    // A toll-free number cannot tell its zone: the column does.
    CHECK(f.store->contact("t", "+18005550101")->zones == "America/Denver");
}

TEST_CASE("a row whose zone nobody can tell is rejected when the campaign has no default") {
    Fixture f("name: t\n");
    auto s = f.import("phone\n+1 800 555 0100\n212 555 0123\n");
    CHECK(s.imported == 1);
    CHECK(s.reject_reasons["unknown callee time zone"] == 1);
}

TEST_CASE("re-importing the same list is idempotent") {
    Fixture f;
    const std::string csv = "phone\n212 555 0123\n312 555 0166\n";
    auto first = f.import(csv);
    CHECK(first.imported == 2);
    // Dial one so its state differs from a fresh import.
    Ledger ledger(*f.store, f.campaign);
    auto t = at("2026-11-24T16:00:00Z");
    Hopper hopper(*f.store, f.campaign);
    std::string err;
    auto attempts = ledger.begin(hopper.next(t, 1), t, "main").value;
    REQUIRE(attempts.size() == 1);
    auto second = f.import(csv);
    CHECK(second.imported == 0);
    CHECK(second.already_present == 2);
    CHECK(f.store->contact("t", attempts[0].phone)->state == ContactState::in_flight);
    CHECK(build_report(*f.store, f.campaign, t).contacts == 2);
}

TEST_CASE("DNC files block numbers at import and a later DNC entry blocks them in the hopper") {
    Fixture f;
    f.dir.write("dnc.txt", "# internal list\n212-555-0199\nnot a number\n");
    auto r = load_campaign_text(
        "name: t\ntimezone: {default: America/New_York}\nlist: {dnc_files: [dnc.txt]}\n", "t.yaml",
        f.dir.path());
    REQUIRE(r.campaign);
    f.campaign = *r.campaign;
    auto s = f.import("phone\n212 555 0199\n212 555 0123\n212 555 0124\n");
    CHECK(s.dnc_loaded == 1);
    CHECK(s.reject_reasons["on do-not-call list"] == 1);
    CHECK(s.imported == 2);

    auto t = at("2026-11-24T16:00:00Z");
    Hopper hopper(*f.store, f.campaign);
    CHECK(hopper.next(t, 10).size() == 2);
    auto b = f.store->batch();
    b.add_dnc("*", "+12125550124", "national registry");
    REQUIRE(f.store->write(b, true).ok());
    CHECK(phones(hopper.next(t, 10)) == std::vector<std::string>{"+12125550123"});
}

TEST_CASE("the hopper honours each callee's local hours and hands out the longest-waiting first") {
    Fixture f;
    f.import("phone\n415 555 0142\n212 555 0123\n312 555 0166\n850 555 0105\n808 555 0178\n");
    Hopper hopper(*f.store, f.campaign);
    // The campaign calls 08:00-21:00 every day. 13:30Z Tuesday: New York 08:30 (open), Chicago
    // 07:30, Los Angeles 05:30, Honolulu 03:30 (all closed).
    CHECK(phones(hopper.next(at("2026-11-24T13:30:00Z"), 10)) ==
          std::vector<std::string>{"+12125550123"});
    // 850 spans Chicago and New York: it waits until both are open. 14:30Z: Chicago 08:30.
    CHECK(phones(hopper.next(at("2026-11-24T14:30:00Z"), 10)) ==
          std::vector<std::string>{"+12125550123", "+13125550166", "+18505550105"});
    // 16:00Z: Los Angeles 08:00 joins; Honolulu (06:00) still sleeps.
    CHECK(hopper.next(at("2026-11-24T16:00:00Z"), 10).size() == 4);
    // k limits the answer.
    CHECK(hopper.next(at("2026-11-24T20:00:00Z"), 2).size() == 2);
    CHECK(hopper.next(at("2026-11-24T20:00:00Z"), 0).empty());
    // 03:00Z Wednesday: Chicago (21:00) and New York (22:00) have closed; Los Angeles 19:00 and
    // Honolulu 17:00 are still open.
    CHECK(phones(hopper.next(at("2026-11-25T03:00:00Z"), 10)) ==
          std::vector<std::string>{"+14155550142", "+18085550178"});
}

TEST_CASE("the ledger claims contacts, completes attempts once and applies the retry rules") {
    Fixture f(
        "name: t\ntimezone: {default: America/New_York}\nretry:\n  busy: {delay: 10m, max: 3}\n");
    f.import("phone\n212 555 0123\n212 555 0124\n");
    Hopper hopper(*f.store, f.campaign);
    Ledger ledger(*f.store, f.campaign);
    auto t = at("2026-11-24T16:00:00Z");
    std::string err;
    auto attempts = ledger.begin(hopper.next(t, 10), t, "main").value;
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].id != attempts[1].id);
    CHECK(hopper.next(t, 10).empty());  // claimed contacts leave the hopper

    auto done = attempts[0];
    done.outcome = Outcome::busy;
    done.sip_code = 486;
    REQUIRE(ledger.complete({done}, t + std::chrono::seconds(5)).ok());
    CHECK(ledger.complete({done}, t + std::chrono::seconds(6)).error.find("already completed") !=
          std::string::npos);

    auto c = f.store->contact("t", done.phone);
    CHECK(c->state == ContactState::pending);
    CHECK(c->next_eligible == (t + std::chrono::seconds(5 + 600)).time_since_epoch().count());
    CHECK(hopper.next(t + std::chrono::seconds(604), 10).empty());
    CHECK(phones(hopper.next(t + std::chrono::seconds(605), 10)) ==
          std::vector<std::string>{done.phone});

    auto stored = f.store->attempt("t", done.id);
    REQUIRE(stored);
    CHECK(stored->outcome == Outcome::busy);
    CHECK(stored->sip_code == 486);
    CHECK(stored->trunk == "main");
    CHECK(stored->zones == "America/New_York");  // where the calling hours were judged

    auto report = build_report(*f.store, f.campaign, t);
    CHECK(report.attempts == 2);
    CHECK(report.in_flight == 1);
    CHECK(report.attempts_by_outcome["busy"] == 1);
}

TEST_CASE("attempts left in flight by a crash are recovered as lost and counted") {
    Fixture f;
    f.import("phone\n212 555 0123\n");
    auto t = at("2026-11-24T16:00:00Z");
    REQUIRE(f.dial(1, t).size() == 1);
    CHECK(f.store->in_flight_attempts().size() == 1);
    Ledger ledger(*f.store, f.campaign);
    std::string err;
    CHECK(ledger.recover(t + std::chrono::minutes(1)).value == 1);
    CHECK(f.store->in_flight_attempts().empty());
    auto c = f.store->contact("t", "+12125550123");
    CHECK(c->attempts == 1);
    CHECK(c->last_outcome == "lost");
    CHECK(c->state == ContactState::pending);
}

TEST_CASE(
    "progress on an attempt in flight (survey answers) survives a crash, and never "
    "overwrites a completed attempt") {
    Fixture f;
    f.import("phone\n212 555 0123\n212 555 0124\n");
    auto t = at("2026-11-24T16:00:00Z");
    const auto attempts = f.dial(2, t);
    REQUIRE(attempts.size() == 2);
    {
        Ledger ledger(*f.store, f.campaign);
        auto a = attempts[0];
        a.answers = {{"rate", "4"}};
        a.survey = "incomplete";
        auto b = attempts[1];
        b.outcome = Outcome::busy;
        REQUIRE(ledger.complete({b}, t).ok());
        b.outcome = Outcome::none;
        b.answers = {{"rate", "1"}};
        REQUIRE(ledger.progress({a, b}).ok());
        // Still in flight: progress is not an outcome.
        CHECK(f.store->attempt("t", a.id)->in_flight());
        CHECK(f.store->attempt("t", b.id)->outcome == Outcome::busy);
        CHECK(f.store->attempt("t", b.id)->answers.empty());
    }
    Ledger ledger(*f.store, f.campaign);
    std::string err;
    CHECK(ledger.recover(t + std::chrono::minutes(1)).value == 1);
    const auto lost = f.store->attempt("t", attempts[0].id);
    REQUIRE(lost);
    CHECK(lost->outcome == Outcome::lost);
    CHECK(lost->answers == std::vector<std::pair<std::string, std::string>>{{"rate", "4"}});
    CHECK(lost->survey == "incomplete");
}

TEST_CASE("an outcome decided in flight (a person abandoned or connected) survives a crash") {
    Fixture f;
    f.import("phone\n212 555 0123\n212 555 0124\n212 555 0125\n");
    auto t = at("2026-11-24T16:00:00Z");
    auto attempts = f.dial(3, t);
    REQUIRE(attempts.size() == 3);
    attempts[0].decided = Outcome::abandoned;
    attempts[1].decided = Outcome::connected;
    REQUIRE(Ledger(*f.store, f.campaign).progress({attempts[0], attempts[1]}).ok());
    // The engine dies here; the next one recovers.
    Ledger ledger(*f.store, f.campaign);
    std::string err;
    CHECK(ledger.recover(t + std::chrono::minutes(1)).value == 3);
    CHECK(f.store->attempt("t", attempts[0].id)->outcome == Outcome::abandoned);
    CHECK(f.store->attempt("t", attempts[1].id)->outcome == Outcome::connected);
    CHECK(f.store->attempt("t", attempts[2].id)->outcome == Outcome::lost);
    const auto report = build_report(*f.store, f.campaign, t + std::chrono::minutes(2));
    CHECK(report.last_24h.abandoned == 1);
    CHECK(report.last_24h.live_answers == 2);
    // The abandoned person is not called again for 72 hours (Ofcom), as after any abandon.
    auto c = f.store->contact("t", attempts[0].phone);
    REQUIRE(c);
    CHECK(c->last_outcome == "abandoned");
    CHECK(c->next_eligible >= std::chrono::system_clock::to_time_t(t) + 72 * 3600);
    Hopper hopper(*f.store, f.campaign);
    const auto due = [&](Timestamp when) {
        const auto next = hopper.next(when, 10);
        return std::any_of(next.begin(), next.end(),
                           [&](const Contact& x) { return x.phone == attempts[0].phone; });
    };
    CHECK_FALSE(due(t + std::chrono::hours(71)));
    CHECK(due(t + std::chrono::hours(73)));
}

TEST_CASE("abandon rates are computed per window from the ledger") {
    Fixture f;
    f.import("phone\n212 555 0123\n212 555 0124\n212 555 0125\n212 555 0126\n");
    auto t = at("2026-11-24T16:00:00Z");
    auto attempts = f.dial(4, t);
    REQUIRE(attempts.size() == 4);
    Ledger ledger(*f.store, f.campaign);
    attempts[0].outcome = Outcome::abandoned;
    attempts[1].outcome = Outcome::connected;
    attempts[2].outcome = Outcome::connected;
    attempts[3].outcome = Outcome::machine;
    REQUIRE(ledger.complete(attempts, t).ok());
    auto r = build_report(*f.store, f.campaign, t + std::chrono::hours(1));
    CHECK(r.last_24h.live_answers == 3);
    CHECK(r.last_24h.abandoned == 1);
    CHECK(r.last_30d.rate() == doctest::Approx(1.0 / 3));
    auto later = build_report(*f.store, f.campaign, t + std::chrono::hours(25));
    CHECK(later.last_24h.live_answers == 0);
    CHECK(later.last_30d.live_answers == 3);
}

TEST_CASE("Ofcom: estimated AMD false positives count as abandoned live answers") {
    Fixture f;
    std::string list = "phone\n";
    for (int i = 0; i < 12; ++i) list += "212 555 01" + std::to_string(10 + i) + "\n";
    f.import(list);
    auto t = at("2026-11-24T16:00:00Z");
    auto attempts = f.dial(12, t);
    REQUIRE(attempts.size() == 12);
    Ledger ledger(*f.store, f.campaign);
    // 2 people connected, 10 calls released as machines by AMD (one of them an unknown verdict
    // the campaign hangs up on), and one machine outcome AMD did not decide (no verdict).
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        attempts[i].outcome = i < 2 ? Outcome::connected : Outcome::machine;
        attempts[i].amd_verdict = i < 2 ? "human" : i == 2 ? "unknown" : "machine";
    }
    attempts[11].amd_verdict.clear();
    REQUIRE(ledger.complete(attempts, t).ok());

    auto plain = build_report(*f.store, f.campaign, t + std::chrono::hours(1));
    CHECK(plain.last_24h.machines == 9);
    CHECK(plain.last_24h.rate() == 0);  // not counted unless the campaign says so

    f.campaign.count_amd_false_positives = true;
    f.campaign.amd_false_positive_rate = 0.2;
    auto r = build_report(*f.store, f.campaign, t + std::chrono::hours(1));
    CHECK(r.last_24h.false_positives() == doctest::Approx(1.8));
    // 1.8 people abandoned among 2 + 1.8 live answers.
    CHECK(r.last_24h.rate() == doctest::Approx(1.8 / 3.8));
    CHECK(r.last_30d.rate() == doctest::Approx(1.8 / 3.8));
    const auto text = report_text(r);
    CHECK(text.find("counting 1.8 estimated AMD false positives (20.00% of 9 machine releases)") !=
          std::string::npos);
    CHECK(text.find("OVER CAP") != std::string::npos);
    const auto j = nlohmann::json::parse(report_json(r));
    CHECK(j["abandon"]["24h"]["estimated_false_positives"].get<double>() == doctest::Approx(1.8));
}

TEST_CASE("a reader beside the writer: sees what was written, takes no lock, leaves nothing") {
    Fixture f;
    f.import(
        "phone,timezone\n+14155550100,America/Los_Angeles\n+14155550101,America/Los_Angeles\n");
    f.dial(1, at("2026-11-23T18:00:00Z"));  // an attempt in the write-ahead log only
    auto listing = [&] {
        std::set<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(f.dir.file("db")))
            out.insert(e.path().filename().string());
        return out;
    };
    const auto before = listing();
    for (int i = 0; i < 3; ++i) {  // the writer (the engine) still holds the store
        std::string err;
        auto reader = Store::open_reader(f.dir.file("db"), &err);
        REQUIRE_MESSAGE(reader, err);
        CHECK(reader->contact("t", "+14155550101"));
        int attempts = 0;
        reader->for_each_attempt("t", [&](const Attempt&) { ++attempts; });
        CHECK(attempts == 1);
    }
    CHECK(listing() == before);  // no LOG, LOG.old.*, or lock file of the readers
    // A second writer is told who holds the store, in words.
    std::string err;
    CHECK_FALSE(Store::open(f.dir.file("db"), &err));
    CHECK(err.find("in use by another process, most likely a running engine") != std::string::npos);
}

TEST_CASE("a reader refuses a folder without a store and creates nothing") {
    test::TempDir dir;
    std::string err;
    CHECK_FALSE(Store::open_reader(dir.file("nowhere"), &err));
    CHECK(err == "no store in " + dir.file("nowhere") + ": no such folder");
    CHECK_FALSE(std::filesystem::exists(dir.file("nowhere")));
    std::filesystem::create_directories(dir.file("empty"));
    CHECK_FALSE(Store::open_reader(dir.file("empty"), &err));
    CHECK(err.find("nothing has been imported there yet") != std::string::npos);
    CHECK(std::filesystem::is_empty(dir.file("empty")));
}

TEST_CASE(
    "a list in a folder nobody may write: the rejects go to the working folder, and it says so") {
    Fixture f;
    // A folder where the reject file is, for everybody (root included), impossible to create.
    std::filesystem::create_directories(f.dir.file("list.csv.rejects.csv"));
    auto list = f.dir.write("list.csv", "phone,timezone\nnot a number,America/New_York\n");
    const auto cwd = std::filesystem::current_path();
    std::filesystem::create_directories(f.dir.file("work"));
    std::filesystem::current_path(f.dir.file("work"));
    ImportSummary s;
    std::string err;
    const bool ok = import_contacts(*f.store, f.campaign, "name: t\n", list, {}, s, &err);
    std::filesystem::current_path(cwd);
    REQUIRE_MESSAGE(ok, err);
    CHECK(s.rejected == 1);
    CHECK(s.rejects_path == "list.csv.rejects.csv");
    CHECK(s.rejects_note.find("rejects written to " + f.dir.file("work") +
                              "/list.csv.rejects.csv") != std::string::npos);
    CHECK(test::read_file(f.dir.file("work/list.csv.rejects.csv")).find("invalid phone number") !=
          std::string::npos);
    // And where neither works (working in the list's folder), the error names the way out.
    std::filesystem::current_path(f.dir.path());
    const bool again = import_contacts(*f.store, f.campaign, "name: t\n", list, {}, s, &err);
    std::filesystem::current_path(cwd);
    CHECK_FALSE(again);
    CHECK(err.find("name a writable one with --rejects FILE") != std::string::npos);
}

TEST_CASE(
    "the report's calling-hours check reads each attempt's zones, old attempts by their "
    "contact's, over a ledger read in parts") {
    Fixture f;
    f.import("phone\n212 555 0123\n415 555 0142\n");
    const auto nine_in_new_york = at("2026-11-24T14:00:00Z");  // 06:00 in Los Angeles: closed
    const auto afternoon = at("2026-11-24T20:00:00Z");         // open in both
    const auto ms = [](Timestamp t) { return t.time_since_epoch().count() * 1000; };
    // 3,000 attempts: enough for the ledger to be read in parts.
    std::size_t expected_outside = 0;
    {
        auto b = f.store->batch();
        for (std::uint64_t id = 1; id <= 3000; ++id) {
            Attempt a;
            a.id = id;
            a.campaign = "t";
            const bool west = id % 2 == 0;
            a.phone = west ? "+14155550142" : "+12125550123";
            // Every third attempt is from before the ledger kept zones.
            if (id % 3 != 0) a.zones = west ? "America/Los_Angeles" : "America/New_York";
            const bool early = id % 5 == 0;
            a.started_ms = ms(early ? nine_in_new_york : afternoon) + static_cast<std::int64_t>(id);
            a.ended_ms = a.started_ms + 30'000;
            a.outcome = id % 4 == 0 ? Outcome::busy : Outcome::no_answer;
            expected_outside += early && west;
            b.put_attempt(a);
        }
        // One more, dialled under a zone its contact no longer has: the zone it was dialled
        // under is what the calling hours were judged by.
        Attempt moved;
        moved.id = 3001;
        moved.campaign = "t";
        moved.phone = "+12125550123";
        moved.zones = "America/Los_Angeles";
        moved.started_ms = ms(nine_in_new_york);
        moved.outcome = Outcome::no_answer;
        b.put_attempt(moved);
        ++expected_outside;
        REQUIRE(f.store->write(b, true).ok());
    }
    REQUIRE(expected_outside == 301);

    // The parts cover every attempt once, each part a range of ids in order.
    for (std::size_t parts : {2u, 3u}) {
        std::vector<std::vector<std::uint64_t>> seen(parts);
        std::mutex m;
        f.store->for_each_attempt_split("t", parts, [&](std::size_t part, const Attempt& a) {
            std::lock_guard lock(m);
            seen[part].push_back(a.id);
        });
        std::vector<std::uint64_t> all;
        for (const auto& ids : seen) {
            CHECK(!ids.empty());
            CHECK(std::is_sorted(ids.begin(), ids.end()));
            if (!all.empty() && !ids.empty()) CHECK(ids.front() > all.back());
            all.insert(all.end(), ids.begin(), ids.end());
        }
        CHECK(all.size() == 3001);
        CHECK(std::set<std::uint64_t>(all.begin(), all.end()).size() == 3001);
    }

    const auto now = at("2026-11-25T12:00:00Z");
    const auto [summary, results] =
        build_report_and_results(*f.store, f.campaign, now, true, {}, 2);
    CHECK(summary.outside_hours == expected_outside);
    CHECK(summary.attempts == 3001);
    CHECK(summary.attempts_by_outcome.at("busy") == 750);
    CHECK(summary.attempts_by_outcome.at("no_answer") == 2251);
    CHECK(results.total.dials == 3001);
    CHECK(results.total.busy == 750);
    CHECK(build_report(*f.store, f.campaign, now, true).outside_hours == expected_outside);
}
