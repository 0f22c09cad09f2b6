// Campaign files: the examples load, and every rule reports its error at the right place.
#include <doctest/doctest.h>

#include "campaigns/campaign_loader.h"
#include "dialer/engine/engine_config.h"
#include "test_util.h"

using namespace outpace;

namespace {

CampaignLoad load(const std::string& yaml) {
    return load_campaign_text(yaml, "c.yaml", test::example(""));
}

// The single error of a file, as FILE:LINE:COL: message.
std::string only_error(const std::string& yaml) {
    auto r = load(yaml);
    REQUIRE_MESSAGE(r.errors.size() == 1, yaml);
    CHECK_FALSE(r.campaign);
    return r.errors[0].to_string();
}

}  // namespace

TEST_CASE("the three shipped examples are valid campaigns") {
    for (const char* f : {"telemarketing.yaml", "collections.yaml", "survey.yaml"}) {
        auto r = load_campaign_file(test::example(f));
        for (const auto& e : r.errors) FAIL(e.to_string());
        REQUIRE(r.campaign);
    }
    auto tm = load_campaign_file(test::example("telemarketing.yaml")).campaign;
    CHECK(tm->name == "spring-renewals");
    CHECK(tm->mode == DialingMode::predictive);
    CHECK(tm->ring_timeout == Millis{20'000});
    CHECK(tm->hours.windows.size() == 2);
    CHECK(tm->hours.windows[0].days[1]);        // Monday
    CHECK_FALSE(tm->hours.windows[0].days[0]);  // not Sunday
    CHECK(tm->hours.windows[0].from_minute == 9 * 60);
    CHECK(tm->retry_for(RetryOutcome::busy).delay == Millis{15 * 60'000});
    CHECK(tm->retry_for(RetryOutcome::busy).max == 4);
    CHECK(tm->on_machine == MachineAction::leave_message);
    CHECK(tm->resolve_path(tm->machine_message).ends_with("deploy/examples/prompts/voicemail.wav"));
}

TEST_CASE("defaults are the strict legal ones") {
    auto r = load("name: minimal\n");
    REQUIRE(r.campaign);
    const Campaign& c = *r.campaign;
    CHECK(c.max_abandon_rate == doctest::Approx(0.03));
    CHECK(c.abandon_window == Millis{30LL * 86'400'000});
    CHECK(c.connect_grace == Millis{2000});
    CHECK(c.ring_timeout >= Millis{15'000});
    REQUIRE(c.hours.windows.size() == 1);
    CHECK(c.hours.windows[0].from_minute == 8 * 60);
    CHECK(c.hours.windows[0].to_minute == 21 * 60);
    CHECK(c.quiet_after_abandon == Millis{72LL * 3'600'000});
    CHECK(c.max_attempts_per_7_days == 0);

    auto coll = load("name: debts\nkind: collections\n");
    REQUIRE(coll.campaign);
    CHECK(coll.campaign->max_attempts_per_7_days == 7);
    CHECK(coll.campaign->quiet_after_conversation == Millis{7LL * 86'400'000});
}

TEST_CASE("an unknown key is an error at its position, with a suggestion") {
    CHECK(only_error("name: x\ndialing:\n  ring_timout: 20s\n") ==
          "c.yaml:3:3: unknown key 'ring_timout' in 'dialing' (did you mean 'ring_timeout'?)");
    CHECK(
        only_error("name: x\ncolour: blue\n")
            .starts_with("c.yaml:2:1: unknown key 'colour' at the top level (allowed: name, kind"));
    CHECK(only_error("name: x\nretry:\n  busy: {delay: 5m, maxx: 2}\n") ==
          "c.yaml:3:21: unknown key 'maxx' in 'retry.busy' (did you mean 'max'?)");
}

TEST_CASE("every error is reported, in file order, not just the first") {
    auto r = load(
        "name: x\n"
        "kind: marketing\n"
        "dialing:\n"
        "  ring_timeout: 10s\n"
        "  mode: predictive\n"
        "pacing:\n"
        "  max_abandon_rate: 5%\n");
    REQUIRE(r.errors.size() == 3);
    CHECK(
        r.errors[0].to_string() ==
        "c.yaml:2:7: 'kind' must be one of telemarketing | collections | survey; got 'marketing'");
    CHECK(r.errors[1].to_string() ==
          "c.yaml:4:17: 'dialing.ring_timeout' must be at least 15s (a phone must ring at least 15 "
          "seconds "
          "before the dialer gives up); got 10s");
    CHECK(r.errors[2].to_string() ==
          "c.yaml:7:21: 'pacing.max_abandon_rate' must be between 0 and 0.03, not 5%");
}

TEST_CASE("YAML syntax errors carry line and column") {
    auto r = load("name: x\ndialing:\n  mode: [predictive\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line >= 3);
    CHECK(r.errors[0].column >= 1);
    CHECK(r.errors[0].to_string().starts_with("c.yaml:"));
}

TEST_CASE("each rule names its problem") {
    CHECK(only_error("kind: collections\n").find("needs a 'name'") != std::string::npos);
    CHECK(only_error("name: 'bad name!'\n") ==
          "c.yaml:1:7: 'name' must be 1-64 letters, digits, '.', '_' or '-'");
    CHECK(only_error("name: x\ndialing: {ring_timeout: 20}\n") ==
          "c.yaml:2:25: 'dialing.ring_timeout' must be a duration with a unit, like 20s, 15m, 2h "
          "or 30d; got '20'");
    CHECK(only_error("name: x\ndialing: {ratio: 2}\n") ==
          "c.yaml:2:18: 'dialing.ratio' only applies to mode: power");
    CHECK(only_error("name: x\npacing: {abandon_window: 7d}\n") ==
          "c.yaml:2:26: 'pacing.abandon_window' must be 30d (US TSR) or 24h (Ofcom)");
    CHECK(only_error("name: x\npacing: {count_amd_false_positives: true}\n") ==
          "c.yaml:2:37: 'pacing.count_amd_false_positives' needs "
          "'pacing.amd_false_positive_rate', your estimate of the share of machine verdicts that "
          "were people (2% or 0.02)");
    CHECK(only_error("name: x\npacing: {prior: x}\n") ==
          "c.yaml:2:17: 'pacing.prior' names this campaign itself: name another campaign whose "
          "history this one should start from");
    CHECK(only_error("name: x\npacing: {amd_false_positive_rate: 60%}\n") ==
          "c.yaml:2:35: 'pacing.amd_false_positive_rate' must be between 0 and 0.5, not 60%");
    CHECK(only_error("name: x\npacing: {connect_grace: 3s}\n") ==
          "c.yaml:2:25: 'pacing.connect_grace' must be at most 2s; got 3s");
    CHECK(only_error("name: x\ncalling_hours:\n  windows:\n    - {days: [mon], from: \"07:30\", "
                     "to: \"12:00\"}\n") ==
          "c.yaml:4:27: calling hours may not start before 08:00 callee local time");
    CHECK(only_error("name: x\ncalling_hours:\n  windows:\n    - {days: [mon], from: \"09:00\", "
                     "to: \"21:30\"}\n") ==
          "c.yaml:4:40: calling hours may not end after 21:00 callee local time");
    CHECK(only_error("name: x\ncalling_hours:\n  windows:\n    - {days: [mon, funday], from: "
                     "\"09:00\", to: \"17:00\"}\n") ==
          "c.yaml:4:20: unknown day 'funday' (use sun, mon, tue, wed, thu, fri, sat)");
    CHECK(only_error("name: x\ncalling_hours:\n  windows:\n    - {days: [mon], from: \"9am\", to: "
                     "\"17:00\"}\n") ==
          "c.yaml:4:27: 'from' must be a local time HH:MM, like \"09:00\"");
    CHECK(only_error("name: x\ncalling_hours:\n  windows:\n    - {days: [mon], from: \"17:00\", "
                     "to: \"10:00\"}\n") == "c.yaml:4:40: 'to' must be later than 'from'");
    CHECK(only_error("name: x\ncalling_hours: {holidays: [2026-02-30]}\n") ==
          "c.yaml:2:28: holiday '2026-02-30' must be a date YYYY-MM-DD");
    CHECK(only_error("name: x\ntimezone: {default: Mars/Olympus}\n") ==
          "c.yaml:2:21: unknown time zone 'Mars/Olympus' (use an IANA name like America/Chicago)");
    CHECK(only_error("name: x\ntimezone: {policy: campaign}\n") ==
          "c.yaml:2:11: timezone policy 'campaign' needs 'timezone.default'");
    CHECK(only_error("name: x\namd: {on_machine: leave_message}\n") ==
          "c.yaml:2:19: on_machine: leave_message needs 'amd.message' (a WAV file)");
    CHECK(only_error("name: x\namd: {message: prompts/missing.wav}\n")
              .find("'amd.message': file not found") != std::string::npos);
    CHECK(only_error("name: x\nretry: {busy: {delay: 10s}}\n") ==
          "c.yaml:2:23: 'retry.busy.delay' must be at least 1m (retrying sooner than a minute "
          "looks like harassment); got 10s");
    CHECK(only_error("name: x\nretry: {busy: {max: many}}\n") ==
          "c.yaml:2:21: 'retry.busy.max' must be a whole number");
    CHECK(only_error("name: x\nlimits: {quiet_after_abandon: 24h}\n")
              .starts_with("c.yaml:2:31: 'limits.quiet_after_abandon' must be at least 3d (Ofcom"));
    CHECK(
        only_error("name: x\nkind: collections\nlimits: {max_attempts_per_7_days: 9}\n") ==
        "c.yaml:3:35: collections campaigns may place at most 7 calls in 7 days (Reg F); use 1-7");
    CHECK(only_error("name: x\nkind: collections\nlimits: {quiet_after_conversation: 2d}\n") ==
          "c.yaml:3:36: collections campaigns must wait at least 7d after a conversation (Reg F)");
    CHECK(only_error("name: x\nlist: {default_region: XX}\n") ==
          "c.yaml:2:24: unknown region 'XX' (use a two-letter code like US or GB)");
    CHECK(only_error("name: x\ndialing: {caller_id: \"12\"}\n")
              .starts_with("c.yaml:2:22: 'dialing.caller_id' is not a valid phone number in region "
                           "US: '12'"));
    CHECK(only_error("name: x\ndispositions:\n  - {code: A}\n  - {code: A}\n") ==
          "c.yaml:4:12: disposition code 'A' is used twice");
    CHECK(only_error("name: x\nkind: survey\n") ==
          "c.yaml:1:1: a survey campaign needs 'survey.questions'");
    CHECK(only_error("name: x\nsurvey: {questions: [{id: q, digits: \"12\"}]}\n") ==
          "c.yaml:2:9: 'survey' only applies to kind: survey");
    CHECK(only_error("name: x\nkind: survey\nsurvey:\n  handled_by: agents\n  questions:\n"
                     "    - {id: q1, text: Q, digits: \"12\", next: {\"1\": q9}}\n") ==
          "c.yaml:6:45: branch to unknown question 'q9'");
    CHECK(only_error("name: x\nname: y\n") == "c.yaml:2:1: duplicate key 'name'");
    // Found by fuzzing: YAML allows a list or a mapping as a key.
    CHECK(only_error("name: x\n? [a, b]\n: 1\n") ==
          "c.yaml:2:3: a key must be a plain word, not a list or a mapping");
}

TEST_CASE("a file that cannot be opened says so") {
    auto r = load_campaign_file("/nonexistent/campaign.yaml");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() == "/nonexistent/campaign.yaml: cannot open the file");
}

TEST_CASE("caller ID: written as people write it, judged in the list's region, kept in E.164") {
    // What the From header carries: "(312) 555-0188" made every call fail at the carrier.
    auto us = load("name: x\ndialing: {caller_id: \"(312) 555-0188\"}\n");
    REQUIRE(us.campaign);
    CHECK(us.campaign->caller_id == "+13125550188");
    // The region comes from 'list', even when 'list' comes after 'dialing' in the file.
    auto uk =
        load("name: x\ndialing: {caller_id: \"020 7946 0123\"}\nlist: {default_region: GB}\n");
    for (const auto& e : uk.errors) FAIL(e.to_string());
    REQUIRE(uk.campaign);
    CHECK(uk.campaign->caller_id == "+442079460123");
    // The same digits are not a US number.
    CHECK(only_error("name: x\ndialing: {caller_id: \"020 7946 0123\"}\n")
              .starts_with(
                  "c.yaml:2:22: 'dialing.caller_id' is not a valid phone number in region US"));
}

TEST_CASE("caller ID of a trunk: E.164 only (no list region to judge it by), kept normalised") {
    auto trunk = [](const std::string& id) {
        return load_engine_config_text(
            "data: d\ntrunks: [{name: t, address: \"127.0.0.1:5060\", "
            "caller_id: \"" +
                id + "\"}]\ncampaigns: [demo.yaml]\n",
            "engine.yaml", test::example(""));
    };
    auto ok = trunk("+1 (312) 555-0188");
    for (const auto& e : ok.errors) FAIL(e.to_string());
    REQUIRE(ok.config);
    CHECK(ok.config->trunks.at(0).caller_id == "+13125550188");
    for (const char* bad : {"(312) 555-0188", "+1 555", "anonymous"}) {
        auto r = trunk(bad);
        CHECK_FALSE(r.config);
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].line == 2);
        CHECK(r.errors[0].message.find("'trunks[].caller_id' must be a valid number in E.164") !=
              std::string::npos);
    }
}

TEST_CASE("engine config: media workers' keys, their defaults and their limits") {
    auto load = [](const std::string& rtp) {
        return load_engine_config_text("data: d\nrtp: {address: 127.0.0.1" + rtp +
                                           "}\ntrunks: [{name: t, address: \"127.0.0.1:5060\"}]\n"
                                           "campaigns: [demo.yaml]\n",
                                       "engine.yaml", test::example(""));
    };
    auto defaults = load("");
    for (const auto& e : defaults.errors) FAIL(e.to_string());
    REQUIRE(defaults.config);
    CHECK(defaults.config->rtp_workers == -1);  // the cores minus one, decided at start
    CHECK(defaults.config->rtp_worker_realtime == 10);
    CHECK(defaults.config->rtp_worker_nice == 0);
    CHECK(defaults.config->sip_response_timeout == std::chrono::seconds(32));  // RFC 3261's 64*T1
    auto set = load(", workers: 3, worker_realtime: 0, worker_nice: -4");
    for (const auto& e : set.errors) FAIL(e.to_string());
    REQUIRE(set.config);
    CHECK(set.config->rtp_workers == 3);
    CHECK(set.config->rtp_worker_realtime == 0);
    CHECK(set.config->rtp_worker_nice == -4);
    for (const char* bad :
         {", workers: -1", ", worker_realtime: 100", ", worker_nice: 20", ", workers: lots"}) {
        auto r = load(bad);
        CHECK_FALSE(r.config);
        REQUIRE_MESSAGE(!r.errors.empty(), bad);
        CHECK_MESSAGE(r.errors[0].to_string().find("rtp.") != std::string::npos,
                      bad << " -> " << r.errors[0].to_string());
        CHECK(r.errors[0].line == 2);
    }
}
