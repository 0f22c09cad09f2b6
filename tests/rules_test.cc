// Retry rules and caps, as pure functions of campaign, contact and time.
#include <doctest/doctest.h>

#include "campaigns/campaign_loader.h"
#include "campaigns/rules.h"
#include "test_util.h"

using namespace outpace;
using test::at;
using test::secs;

namespace {

Campaign campaign(const std::string& extra = "") {
    auto r = load_campaign_text("name: rules\n" + extra, "rules.yaml", ".");
    for (const auto& e : r.errors) FAIL(e.to_string());
    return *r.campaign;
}

Attempt ended(Outcome o, Timestamp start, int sip = 0) {
    Attempt a;
    a.outcome = o;
    a.sip_code = sip;
    a.started_ms = start.time_since_epoch().count() * 1000;
    return a;
}

}  // namespace

TEST_CASE("each outcome waits its retry delay, then the contact is final after max retries") {
    Campaign c = campaign("retry:\n  busy: {delay: 10m, max: 2}\n");
    Contact k;
    auto t = at("2026-11-24T15:00:00Z");
    apply_outcome(c, k, ended(Outcome::busy, t), t);
    CHECK(k.state == ContactState::pending);
    CHECK(k.next_eligible == secs(t) + 600);
    CHECK(k.attempts == 1);
    apply_outcome(c, k, ended(Outcome::busy, t), t);
    CHECK(k.state == ContactState::pending);
    apply_outcome(c, k, ended(Outcome::busy, t), t);
    CHECK(k.state == ContactState::exhausted);
    CHECK(k.final_reason == "retries for busy used up (3)");
}

TEST_CASE("outcomes count per class: busy retries do not use up no-answer retries") {
    Campaign c =
        campaign("retry:\n  busy: {delay: 10m, max: 1}\n  no_answer: {delay: 1h, max: 1}\n");
    Contact k;
    auto t = at("2026-11-24T15:00:00Z");
    apply_outcome(c, k, ended(Outcome::busy, t), t);
    apply_outcome(c, k, ended(Outcome::no_answer, t), t);
    CHECK(k.state == ContactState::pending);
    CHECK(k.next_eligible == secs(t) + 3600);
    apply_outcome(c, k, ended(Outcome::no_answer, t), t);
    CHECK(k.state == ContactState::exhausted);
}

TEST_CASE("the lifetime attempt cap ends the contact") {
    Campaign c = campaign("limits: {max_attempts: 2}\n");
    Contact k;
    auto t = at("2026-11-24T15:00:00Z");
    apply_outcome(c, k, ended(Outcome::no_answer, t), t);
    apply_outcome(c, k, ended(Outcome::busy, t), t);
    CHECK(k.state == ContactState::exhausted);
    CHECK(k.final_reason == "attempt cap reached (2)");
}

TEST_CASE("7 in 7: the eighth call waits until the first leaves the 7-day window") {
    Campaign c = campaign(
        "kind: collections\nretry:\n  no_answer: {delay: 1h, max: 50}\nlimits: {max_attempts: "
        "50}\n");
    REQUIRE(c.max_attempts_per_7_days == 7);
    Contact k;
    auto first = at("2026-11-23T15:00:00Z");
    auto t = first;
    for (int i = 0; i < 7; ++i) {
        CHECK_FALSE(cap_blocks(c, k, t));
        apply_outcome(c, k, ended(Outcome::no_answer, t), t);
        t += std::chrono::hours(3);
    }
    // Seven calls placed over 18 hours: the next is allowed 7 days after the first.
    CHECK(k.next_eligible == secs(first) + 7 * 86400);
    CHECK(cap_blocks(c, k, t).value_or("") == "7 attempts in the last 7 days");
    CHECK_FALSE(cap_blocks(c, k, first + std::chrono::hours(7 * 24)));
}

TEST_CASE("no call within the quiet period after a conversation (collections) or an abandon") {
    Campaign coll = campaign(
        "kind: collections\ndispositions:\n  - {code: CB, callback: true, conversation: true}\n");
    Contact k;
    auto t = at("2026-11-24T15:00:00Z");
    Attempt talk = ended(Outcome::connected, t);
    talk.disposition = "CB";
    talk.callback_at = secs(t) + 3600;  // the customer asked for a call in an hour...
    apply_outcome(coll, k, talk, t);
    CHECK(k.state == ContactState::pending);
    CHECK(k.next_eligible == secs(t) + 7 * 86400);  // ...but Reg F's 7-day quiet period wins

    Campaign tm = campaign();
    Contact a;
    apply_outcome(tm, a, ended(Outcome::abandoned, t), t);
    CHECK(a.next_eligible == secs(t) + 72 * 3600);
    CHECK(cap_blocks(tm, a, t + std::chrono::hours(71)).value_or("") ==
          "within the quiet period after an abandoned call");
}

TEST_CASE("dispositions decide what a conversation does to the contact") {
    Campaign c =
        campaign();  // default dispositions: SALE, CALLBACK, NOT_INTERESTED, WRONG_NUMBER, DNC
    auto t = at("2026-11-24T15:00:00Z");
    Contact sale;
    Attempt a = ended(Outcome::connected, t);
    a.disposition = "SALE";
    apply_outcome(c, sale, a, t);
    CHECK(sale.state == ContactState::done);

    Contact dnc;
    a.disposition = "DNC";
    apply_outcome(c, dnc, a, t);
    CHECK(dnc.state == ContactState::dnc);

    Contact cb;
    a.disposition = "CALLBACK";
    a.callback_at = secs(t) + 2 * 86400;
    apply_outcome(c, cb, a, t);
    CHECK(cb.state == ContactState::pending);
    CHECK(cb.next_eligible == secs(t) + 2 * 86400);
}

TEST_CASE("a carrier failure does not burn the contact's attempts") {
    Campaign c = campaign("limits: {max_attempts: 1}\n");
    Contact k;
    auto t = at("2026-11-24T15:00:00Z");
    for (int i = 0; i < 5; ++i) apply_outcome(c, k, ended(Outcome::carrier_error, t, 503), t);
    CHECK(k.attempts == 0);
    CHECK(k.state == ContactState::pending);
    CHECK(k.next_eligible > secs(t));
    CHECK_FALSE(counts_as_attempt(Outcome::carrier_error));
    CHECK(counts_as_attempt(Outcome::lost));
}

TEST_CASE("invalid numbers and fax lines are final at once") {
    Campaign c = campaign();
    auto t = at("2026-11-24T15:00:00Z");
    Contact k;
    apply_outcome(c, k, ended(Outcome::invalid, t, 404), t);
    CHECK(k.state == ContactState::invalid);
    CHECK(k.final_reason == "number does not exist (SIP 404)");
    Contact f;
    apply_outcome(c, f, ended(Outcome::fax, t), t);
    CHECK(f.state == ContactState::invalid);
}

TEST_CASE("a declined call is final unless the campaign's retry.declined allows more") {
    auto t = at("2026-11-24T15:00:00Z");
    Contact strict;
    apply_outcome(campaign(), strict, ended(Outcome::declined, t, 603), t);
    CHECK(strict.state == ContactState::exhausted);
    CHECK(strict.final_reason == "retries for declined used up (1)");
    CHECK(strict.attempts == 1);  // a refusal reached the person's phone: it counts

    Campaign lenient = campaign("retry:\n  declined: {delay: 2d, max: 1}\n");
    Contact k;
    apply_outcome(lenient, k, ended(Outcome::declined, t, 607), t);
    CHECK(k.state == ContactState::pending);
    CHECK(k.next_eligible == secs(t) + 2 * 86400);
    apply_outcome(lenient, k, ended(Outcome::declined, t, 603), t);
    CHECK(k.state == ContactState::exhausted);
}
