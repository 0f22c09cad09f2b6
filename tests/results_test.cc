// The results a manager is judged on (outpace report --from/--to/--by/--format): figures from a
// ledger written by hand, so every count is known.
#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/results.h"
#include "test_util.h"

using namespace outpace;

namespace {

const char* kYaml =
    "name: judged\n"
    "timezone: {default: America/New_York}\n"
    "dialing: {caller_id: \"+12125550100\"}\n"
    "pacing: {abandon_window: 24h}\n"
    "dispositions:\n"
    "  - {code: SALE, label: Sale, final: true, conversation: true, success: true}\n"
    "  - {code: NO, label: Not interested, final: true, conversation: true}\n";

std::int64_t ms(const std::string& rfc3339) {
    return parse_timestamp(rfc3339)->time_since_epoch().count() * 1000;
}

struct JudgedLedger {
    test::TempDir dir;
    std::unique_ptr<Store> store;
    Campaign campaign;

    explicit JudgedLedger(const std::string& yaml = kYaml) {
        std::string err;
        store = Store::open(dir.file("data"), &err);
        REQUIRE_MESSAGE(store, err);
        auto load = load_campaign_text(yaml, dir.file("judged.yaml"), dir.path());
        for (const auto& e : load.errors) FAIL(e.to_string());
        campaign = *load.campaign;
        auto b = store->batch();
        // Six people from two lists; five were dialled.
        int n = 0;
        for (const auto* list : {"a.csv", "a.csv", "a.csv", "a.csv", "b.csv", "b.csv"}) {
            Contact c;
            c.phone = "+1212555010" + std::to_string(n);
            c.zones = "America/New_York";
            c.source = list;
            c.attempts = n < 5 ? 1 : 0;
            b.put_contact(campaign.name, nullptr, c);
            ++n;
        }
        // In New York (UTC-5 in December): 14:10, 14:40, 15:05, 15:20 on the 1st; 09:00 and
        // 10:00 on the 2nd.
        auto attempt = [&](int id, int phone, const char* start, Outcome o, const char* agent,
                           const char* disposition, std::int64_t talk_s, std::int64_t wrap_s,
                           const char* verdict, const char* trunk) {
            Attempt a;
            a.id = id;
            a.campaign = campaign.name;
            a.phone = "+1212555010" + std::to_string(phone);
            a.started_ms = ms(start);
            a.ended_ms = o == Outcome::none ? 0 : a.started_ms + (talk_s + 20) * 1000;
            a.outcome = o;
            a.agent = agent;
            a.disposition = disposition;
            a.talk_ms = talk_s * 1000;
            a.wrap_ms = wrap_s * 1000;
            a.amd_verdict = verdict;
            a.trunk = trunk;
            // Attempt 1 reached its callee on its second trunk.
            // (Both trunks named by host name: the address on each is kept.)
            if (id == 1) a.hops = {{"west", 503, "192.0.2.1:5060"}}, a.target = "192.0.2.7:5080";
            a.caller_id = "+12125550100";
            // Attempt 1: a supervisor listened, then barged in.
            if (id == 1)
                a.monitors = {{"boss", "listen", a.started_ms + 20'000, a.started_ms + 35'000},
                              {"boss", "barge", a.started_ms + 35'000, a.started_ms + 40'000}};
            b.put_attempt(a);
        };
        attempt(1, 0, "2026-12-01T19:10:00Z", Outcome::connected, "ann", "SALE", 60, 10, "human",
                "east");
        attempt(2, 1, "2026-12-01T19:40:00Z", Outcome::connected, "bob", "NO", 30, 20, "human",
                "east");
        attempt(3, 2, "2026-12-01T20:05:00Z", Outcome::abandoned, "", "", 0, 0, "human", "west");
        attempt(4, 3, "2026-12-01T20:20:00Z", Outcome::machine, "", "", 0, 0, "machine", "west");
        attempt(5, 4, "2026-12-02T14:00:00Z", Outcome::no_answer, "", "", 0, 0, "", "west");
        attempt(6, 4, "2026-12-02T15:00:00Z", Outcome::none, "", "", 0, 0, "", "west");
        REQUIRE(store->write(b, true).ok());
        REQUIRE(
            store->save_campaign(campaign.name, {dir.file("judged.yaml"), yaml, "import"}).ok());
        dir.write("judged.yaml", yaml);
    }
};

const ResultFigures& group(const ResultsReport& r, const std::string& key) {
    for (const auto& [k, f] : r.groups)
        if (k == key) return f;
    FAIL("no group " << key);
    static ResultFigures none;
    return none;
}

}  // namespace

TEST_CASE("results: contact rate, conversion, talk, AMD share and abandons from the ledger") {
    JudgedLedger l;
    const auto r = build_results(*l.store, l.campaign, {});
    const auto& t = r.total;
    CHECK(t.dials == 6);
    CHECK(t.in_flight == 1);
    CHECK(t.answered == 4);
    CHECK(t.live == 3);
    CHECK(t.connected == 2);
    CHECK(t.conversions == 1);
    CHECK(t.contact_rate() == doctest::Approx(3.0 / 5));
    CHECK(t.conversion() == doctest::Approx(0.5));
    CHECK(t.amd_share() == doctest::Approx(0.25));
    CHECK(t.abandon_rate() == doctest::Approx(1.0 / 3));
    CHECK(t.avg_talk_s() == doctest::Approx(45));
    CHECK(t.avg_wrap_s() == doctest::Approx(15));
    CHECK(r.zone == "America/New_York");
    // Penetration by list, to date.
    REQUIRE(r.lists.size() == 2);
    CHECK(r.lists.at("a.csv").loaded == 4);
    CHECK(r.lists.at("a.csv").attempted == 4);
    CHECK(r.lists.at("b.csv").loaded == 2);
    CHECK(r.lists.at("b.csv").rate() == doctest::Approx(0.5));
}

TEST_CASE(
    "results: grouped by hour and day in the campaign's zone, list, agent, disposition, trunk") {
    JudgedLedger l;
    ResultsOptions o;
    o.by = ResultsBy::hour;
    auto r = build_results(*l.store, l.campaign, o);
    REQUIRE(r.groups.size() == 4);
    CHECK(r.groups[0].first == "2026-12-01 14:00");
    CHECK(r.groups[0].second.dials == 2);
    CHECK(r.groups[0].second.conversions == 1);
    CHECK(r.groups[1].first == "2026-12-01 15:00");
    CHECK(r.groups[1].second.abandoned == 1);
    CHECK(r.groups[3].first == "2026-12-02 10:00");
    // Another zone moves the hours.
    o.zone = "Europe/London";
    r = build_results(*l.store, l.campaign, o);
    CHECK(r.groups[0].first == "2026-12-01 19:00");
    o.zone = "";
    o.by = ResultsBy::day;
    r = build_results(*l.store, l.campaign, o);
    REQUIRE(r.groups.size() == 2);
    CHECK(group(r, "2026-12-01").dials == 4);
    CHECK(group(r, "2026-12-02").dials == 2);
    o.by = ResultsBy::list;
    r = build_results(*l.store, l.campaign, o);
    CHECK(group(r, "a.csv").dials == 4);
    CHECK(group(r, "b.csv").dials == 2);
    o.by = ResultsBy::agent;
    r = build_results(*l.store, l.campaign, o);
    CHECK(group(r, "ann").conversions == 1);
    CHECK(group(r, "bob").avg_talk_s() == doctest::Approx(30));
    CHECK(group(r, "(no agent)").dials == 4);
    o.by = ResultsBy::disposition;
    r = build_results(*l.store, l.campaign, o);
    CHECK(group(r, "SALE").conversions == 1);
    CHECK(group(r, "(abandoned)").abandoned == 1);
    o.by = ResultsBy::trunk;
    r = build_results(*l.store, l.campaign, o);
    CHECK(group(r, "east").dials == 2);
    CHECK(group(r, "west").dials == 4);
}

TEST_CASE("results: --from and --to as a manager writes them, in the report's zone") {
    CHECK(parse_report_time("2026-12-01", "America/New_York", false) == ms("2026-12-01T05:00:00Z"));
    // A day given as the end of the range is included.
    CHECK(parse_report_time("2026-12-01", "America/New_York", true) == ms("2026-12-02T05:00:00Z"));
    CHECK(parse_report_time("2026-12-01 14:30", "America/New_York", false) ==
          ms("2026-12-01T19:30:00Z"));
    CHECK(parse_report_time("2026-12-01T14:30", "UTC", false) == ms("2026-12-01T14:30:00Z"));
    CHECK(parse_report_time("2026-12-01T14:30:00Z", "America/New_York", false) ==
          ms("2026-12-01T14:30:00Z"));
    CHECK_FALSE(parse_report_time("2026-02-30", "UTC", false));
    CHECK_FALSE(parse_report_time("yesterday", "UTC", false));
    CHECK_FALSE(parse_report_time("2026-12-01", "Mars/Olympus", false));
    JudgedLedger l;
    ResultsOptions o;
    o.from_ms = *parse_report_time("2026-12-02", "America/New_York", false);
    auto r = build_results(*l.store, l.campaign, o);
    CHECK(r.total.dials == 2);
    o.from_ms = *parse_report_time("2026-12-01 15:00", "America/New_York", false);
    o.to_ms = *parse_report_time("2026-12-01", "America/New_York", true);
    r = build_results(*l.store, l.campaign, o);
    CHECK(r.total.dials == 2);
    CHECK(r.total.abandoned == 1);
}

TEST_CASE("results: a disposition counts as a conversion only when the campaign marks it success") {
    std::string yaml = kYaml;
    yaml.replace(yaml.find(", success: true"), 15, "");
    JudgedLedger l(yaml);
    CHECK(build_results(*l.store, l.campaign, {}).total.conversions == 0);
}

TEST_CASE("results: the hourly series carries the abandon rate over the campaign's window") {
    JudgedLedger l;
    ResultsOptions o;
    o.hourly = true;
    const auto r = build_results(*l.store, l.campaign, o);
    REQUIRE(r.hours.size() == 4);
    // By the end of 14:00 two people answered and reached agents; by 15:00's end one more
    // answered and was abandoned; on the 2nd the 24-hour window still holds all three.
    CHECK(r.hours[0].rolling_abandon_rate == doctest::Approx(0));
    CHECK(r.hours[1].rolling_abandon_rate == doctest::Approx(1.0 / 3));
    CHECK(r.hours[2].rolling_abandon_rate == doctest::Approx(1.0 / 3));
}

TEST_CASE("report CLI: csv, json and a self-contained html file, read beside the store") {
    JudgedLedger l;
    const std::string data = l.dir.file("data");
    l.store.reset();
    const std::string cmd =
        std::string(OUTPACE_BINARY) + " report --data " + data + " --campaign judged ";
    auto r = test::run(cmd + "--by agent --format csv");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("campaign,agent,dials,in_flight,answered,live_answers,connected,") !=
          std::string::npos);
    CHECK(r.out.find("judged,ann,1,0,1,1,1,0,0,0,0,0,0,1,1.0000,1.0000,") != std::string::npos);
    CHECK(
        r.out.find("judged,total,6,1,4,3,2,1,1,0,1,0,0,1,0.6000,0.5000,0.2500,0.3333,45.0,15.0") !=
        std::string::npos);
    r = test::run(cmd + "--by day --from 2026-12-02 --json");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    CHECK(j["results"]["total"]["dials"] == 2);
    CHECK(j["results"]["groups"][0]["key"] == "2026-12-02");
    CHECK(j["results"]["zone"] == "America/New_York");
    CHECK(j["results"]["penetration"]["b.csv"]["attempted"] == 1);
    r = test::run(cmd + "--by hour");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("results from 2026-12-01 14:10 to 2026-12-02 10:00 (America/New_York), by "
                     "hour") != std::string::npos);
    CHECK(r.out.find("2026-12-01 15:00") != std::string::npos);
    CHECK(r.out.find("a.csv") != std::string::npos);
    const auto html = l.dir.file("judged.html");
    r = test::run(cmd + "--format html -o " + html);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto page = test::read_file(html);
    CHECK(page.starts_with("<!DOCTYPE html>"));
    CHECK(page.find("<svg") != std::string::npos);
    CHECK(page.find("Abandon rate over the campaign&#39;s 1d window") != std::string::npos);
    // Self-contained: no scripts, no fetched fonts, styles or images.
    CHECK(page.find("<script") == std::string::npos);
    CHECK(page.find("<link") == std::string::npos);
    CHECK(page.find("src=") == std::string::npos);
    CHECK(page.find("url(") == std::string::npos);
    // Mistakes are usage errors that say what to write.
    r = test::run(cmd + "--from 2026-13-01");
    CHECK(r.status == 2);
    CHECK(r.out.find("cannot read the time '2026-13-01'") != std::string::npos);
    r = test::run(cmd + "--by week");
    CHECK(r.status == 2);
}

TEST_CASE("export --calls: the call log for a CRM, and recording finds a call's file") {
    std::string yaml = kYaml;
    yaml += "recording: {enabled: true, folder: rec}\n";
    JudgedLedger l(yaml);
    const std::string data = l.dir.file("data");
    l.store.reset();
    // The engine's file for attempt 1 (it answered); attempt 2's is missing.
    std::filesystem::create_directories(l.dir.file("rec/judged"));
    l.dir.write("rec/judged/1.wav", "RIFF");
    const std::string bin = std::string(OUTPACE_BINARY);
    auto r = test::run(bin + " export --calls --data " + data +
                       " --campaign judged --from 2026-12-01 --to 2026-12-01");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find(
              "attempt,started,ended,phone,dialled,phone_label,list,origin,outcome,sip_code,ring_s,"
              "amd_verdict,amd_s,agent,talk_s,wrap_s,hold_s,disposition,callback_at,notes,"
              "trunk,trunk_address,trunk_hops,caller_id,recording,monitored\n") !=
          std::string::npos);
    CHECK(r.out.find("1,2026-12-01T19:10:00Z,2026-12-01T19:11:20Z,+12125550100,+12125550100,phone,"
                     "a.csv,dialler,"
                     "connected,,0.0,human,0.0,ann,60.0,10.0,0.0,SALE,,,east,192.0.2.7:5080,"
                     "west 192.0.2.1:5060 503,+12125550100," +
                     l.dir.file("rec/judged/1.wav") +
                     ",boss listen 2026-12-01T19:10:20Z 15.0s; boss barge 2026-12-01T19:10:35Z "
                     "5.0s\n") != std::string::npos);
    CHECK(r.out.find("4,2026-12-01T20:20:00Z") != std::string::npos);
    // The 2nd is outside the range.
    CHECK(r.out.find("\n5,") == std::string::npos);
    CHECK(r.out.find("exported 4 attempts of judged") != std::string::npos);
    r = test::run(bin + " export --calls --format jsonl --data " + data + " --campaign judged");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto first = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
    CHECK(first["attempt"] == 1);
    CHECK(first["talk_s"] == 60.0);
    CHECK(first["recording"] == l.dir.file("rec/judged/1.wav"));
    REQUIRE(first["monitored"].size() == 2);
    CHECK(first["monitored"][1]["supervisor"] == "boss");
    CHECK(first["monitored"][1]["mode"] == "barge");
    CHECK(first["monitored"][1]["from"] == "2026-12-01T19:10:35Z");
    CHECK(first["monitored"][1]["to"] == "2026-12-01T19:10:40Z");
    CHECK(r.out.find("\"outcome\":\"in flight\"") != std::string::npos);
    r = test::run(bin + " recording --data " + data + " 1");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("1 judged 2026-12-01T19:10:00Z +12125550100 connected " +
                     l.dir.file("rec/judged/1.wav")) != std::string::npos);
    r = test::run(bin + " recording --data " + data + " --phone '(212) 555-0101'");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("(no file: " + l.dir.file("rec/judged/2.wav") + ")") != std::string::npos);
    r = test::run(bin + " recording --data " + data + " --phone 2125550104");
    CHECK(r.out.find("(not answered: nothing recorded)") != std::string::npos);
    r = test::run(bin + " recording --data " + data + " 99");
    CHECK(r.status == 1);
    CHECK(r.out.find("no attempt 99 in the store") != std::string::npos);
    r = test::run(bin + " recording --data " + data);
    CHECK(r.status == 2);
}

TEST_CASE("report text: names from outside cannot drive the manager's terminal") {
    // A list's file name, an agent id and a campaign name with escape sequences (retitle the
    // window, clear the screen) and a bell: shown with '?' in their place.
    const std::string evil = "x\x1b]0;owned\x07y\x1b[2J\x7f\xc2\x9b";
    ResultsReport r;
    r.campaign = "c";
    r.zone = "UTC";
    r.by = ResultsBy::list;
    r.groups.emplace_back(evil, ResultFigures{});
    r.lists[evil + ".csv"] = ListPenetration{1, 1};
    CampaignReport summary;
    summary.campaign = evil;
    summary.checked = true;
    summary.agents[evil].calls = 1;
    for (const auto& text : {results_text(r), report_text(summary)}) {
        INFO(text);
        CHECK(text.find('\x1b') == std::string::npos);
        CHECK(text.find('\x07') == std::string::npos);
        CHECK(text.find('\x7f') == std::string::npos);
        CHECK(text.find("\xc2\x9b") == std::string::npos);
        CHECK(text.find("x?]0;owned?y?[2J") != std::string::npos);
    }
}

TEST_CASE("html report: a report of one hour still shows its rates and its occupancy") {
    ResultsReport r;
    r.campaign = "c";
    r.zone = "UTC";
    r.max_abandon_rate = 0.03;
    r.abandon_window = std::chrono::hours(24);
    ResultFigures f;
    f.dials = 10;
    f.connected = 4;
    f.talk_ms = 90'000;
    f.wrap_ms = 18'000;
    f.staffed_ms = 216'000;
    r.total = f;
    r.hours.push_back({"2026-12-05 22:00", f, 0.0});
    CampaignReport summary;
    summary.campaign = "c";
    const auto page = results_html(summary, r);
    // Each line chart (the abandon rate, the occupancy) marks its one value with a dot, with
    // the value in its tooltip.
    const auto occupancy = page.find("Occupancy: talk and wrap-up");
    REQUIRE(occupancy != std::string::npos);
    const auto dot = page.find("<circle", occupancy);
    REQUIRE(dot != std::string::npos);
    CHECK(dot < page.find("</svg>", occupancy));
    CHECK(page.find("2026-12-05 22:00 occupancy: 50.0%", dot) != std::string::npos);
    const auto abandon = page.find("Abandon rate over the campaign");
    REQUIRE(abandon != std::string::npos);
    CHECK(page.find("<circle", abandon) < page.find("</svg>", abandon));
    CHECK(page.find("<th>occupancy</th>") != std::string::npos);
}
