// A campaign's pool of caller IDs (dialing.caller_ids): local presence (the callee's area code,
// then country), the least used number first, a daily limit per number that a restart does not
// reset and the next day does, and the number kept with the attempt.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "campaigns/campaign_loader.h"
#include "dialer/engine/caller_ids.h"
#include "tests/engine_sim.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// The server's time zone for a test, put back after it.
class ServerZone {
  public:
    explicit ServerZone(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old, had_ = true;
        setenv("TZ", tz, 1);
        tzset();
    }
    ~ServerZone() {
        if (had_)
            setenv("TZ", old_.c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }

  private:
    std::string old_;
    bool had_ = false;
};

Campaign::CallerIdPool pool_of(std::vector<std::string> numbers, int limit = 0, bool local = true) {
    Campaign::CallerIdPool p;
    p.numbers = std::move(numbers);
    p.daily_limit = limit;
    p.local_presence = local;
    return p;
}

std::string from_number(const ScriptedSip::Invite& i) {
    const auto& f = i.dial.from;  // sip:+1...@host:port
    return f.substr(4, f.find('@') - 4);
}

}  // namespace

TEST_CASE("caller IDs: the callee's area code, then its country, then the least used") {
    const auto pool = pool_of({"+442079460000", "+13125550102", "+14155550100", "+14155550101"});
    CallerIdUsage usage;
    const std::int64_t day = 20000;
    // San Francisco: one of the two 415 numbers, the least used (ties: the pool's order).
    CHECK(choose_caller_id(pool, "+14155559999", usage, day) == "+14155550100");
    usage.count("+14155550100", day);
    CHECK(choose_caller_id(pool, "+14155559999", usage, day) == "+14155550101");
    // Chicago: its own area code.
    CHECK(choose_caller_id(pool, "+13125559999", usage, day) == "+13125550102");
    // Denver (720): no such area code in the pool: a US number (the least used of them).
    usage.count("+14155550101", day);
    CHECK(choose_caller_id(pool, "+17205559999", usage, day) == "+13125550102");
    // London: the UK number, whatever its use.
    usage.count("+442079460000", day, 50);
    CHECK(choose_caller_id(pool, "+442079460958", usage, day) == "+442079460000");
    // Without local presence: the least used of all.
    auto plain = pool;
    plain.local_presence = false;
    CHECK(choose_caller_id(plain, "+14155559999", usage, day) == "+13125550102");
    // A new day forgets the counts.
    usage.count("+13125550102", day + 1);
    CHECK(usage.today("+442079460000", day + 1) == 0);
    CHECK(usage.today("+13125550102", day + 1) == 1);
}

TEST_CASE("caller IDs: a daily limit skips a number at it, and nothing is left when all are") {
    const auto pool = pool_of({"+14155550100", "+13125550102"}, 2);
    CallerIdUsage usage;
    const std::int64_t day = 20000;
    CHECK(caller_ids_left(pool, usage, day) == 4);
    usage.count("+14155550100", day, 2);
    CHECK(choose_caller_id(pool, "+14155559999", usage, day) == "+13125550102");
    CHECK(caller_ids_left(pool, usage, day) == 2);
    usage.count("+13125550102", day, 2);
    CHECK_FALSE(choose_caller_id(pool, "+14155559999", usage, day));
    CHECK(caller_ids_left(pool, usage, day) == 0);
    CHECK(caller_ids_left(pool_of({"+14155550100"}), usage, day) > 1'000'000);  // no limit
}

TEST_CASE("caller IDs: the server's day starts at its own midnight") {
    ServerZone zone("America/Chicago");
    // 2025-12-03T05:30Z is 23:30 on the 2nd in Chicago; 06:30Z is 00:30 on the 3rd.
    const std::int64_t before = 1'764'739'800'000, after = before + 3'600'000;
    CHECK(server_day(after) == server_day(before) + 1);
    CHECK(server_day_start_ms(after) == 1'764'741'600'000);  // 06:00Z
}

TEST_CASE("campaign file: dialing.caller_ids as a list or with its settings, checked") {
    const auto load = [](const std::string& dialing) {
        return load_campaign_text("name: c\ndialing: {mode: progressive, trunk: t, " + dialing +
                                      "}\nlist: {default_region: US}\n",
                                  "c.yaml");
    };
    auto l = load("caller_ids: [\"(415) 555-0100\", \"+13125550102\"]");
    REQUIRE(l.campaign);
    CHECK(l.campaign->caller_ids.numbers ==
          std::vector<std::string>{"+14155550100", "+13125550102"});
    CHECK(l.campaign->caller_ids.local_presence);
    CHECK(l.campaign->caller_ids.daily_limit == 0);
    l = load("caller_ids: {numbers: [\"+14155550100\"], local_presence: false, daily_limit: 150}");
    REQUIRE(l.campaign);
    CHECK_FALSE(l.campaign->caller_ids.local_presence);
    CHECK(l.campaign->caller_ids.daily_limit == 150);
    const auto error = [&](const std::string& dialing) {
        const auto bad = load(dialing);
        std::string all;
        for (const auto& e : bad.errors) all += e.to_string() + "\n";
        return all;
    };
    CHECK(error("caller_id: \"+14155550100\", caller_ids: [\"+13125550102\"]")
              .find("use either 'dialing.caller_id' (one) or 'dialing.caller_ids'") !=
          std::string::npos);
    CHECK(error("caller_ids: [\"+14155550100\", \"555\"]").find("c.yaml:2:") != std::string::npos);
    CHECK(error("caller_ids: [\"+14155550100\", \"555\"]")
              .find("'555' is not a valid phone number") != std::string::npos);
    CHECK(error("caller_ids: [\"+14155550100\", \"(415) 555-0100\"]")
              .find("+14155550100 is listed twice") != std::string::npos);
    CHECK(error("caller_ids: []").find("needs at least one number") != std::string::npos);
    CHECK(error("caller_ids: {numbers: [\"+14155550100\"], daily: 3}").find("unknown key") !=
          std::string::npos);
}

TEST_CASE(
    "engine: a pool's calls show the callee's local number, each number stops at its daily "
    "limit (a restart keeps the count), the campaign waits, and the next day dials again") {
    ServerZone zone("UTC");
    Sim::Options o;
    o.unattended_lines = 1;
    o.contacts = 40;
    // 23:30Z: 18:30 in New York, in calling hours; the server's day ends in 30 minutes.
    o.start = wall_at("2026-12-02T23:30:00Z");
    // The list is +1415555xxxx: the 415 number first, then the least used of the others.
    o.caller_id_entry =
        "caller_ids: {numbers: [\"+13125550102\", \"+14155550100\", \"+12125550101\"], "
        "daily_limit: 2}";
    Sim sim(o);
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{500ms, 486, true, {}, -1ms}; });
    sim.start();
    sim.run_for(20s, 10ms);
    auto calls = sim.calls();
    REQUIRE(calls.size() == 6);  // three numbers, two calls each today
    CHECK(from_number(*calls[0]) == "+14155550100");
    CHECK(from_number(*calls[1]) == "+14155550100");
    CHECK(from_number(*calls[2]) == "+13125550102");
    CHECK(from_number(*calls[3]) == "+12125550101");
    for (const auto& a : sim.attempts()) CHECK_FALSE(a.caller_id.empty());
    CHECK(sim.engine().status().at(0).state ==
          "waiting: every caller ID has reached its daily limit");

    // A restart the same day: the ledger's count holds (the new SIP stack sends nothing).
    sim.restart();
    sim.run_for(10s, 10ms);
    CHECK(sim.calls().empty());

    // After the server's midnight the numbers are fresh: two calls each again.
    sim.run_for(30min, 1s);
    calls = sim.calls();
    REQUIRE(calls.size() == 6);
    std::map<std::string, int> by_number;
    for (auto* i : calls) ++by_number[from_number(*i)];
    CHECK(by_number == std::map<std::string, int>{
                           {"+12125550101", 2}, {"+13125550102", 2}, {"+14155550100", 2}});
    CHECK(from_number(*calls[0]) == "+14155550100");
}
