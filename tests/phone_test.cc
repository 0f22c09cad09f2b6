// Number normalisation and the callee's time zone.
#include <doctest/doctest.h>

#include <cstdio>

#include "campaigns/phone.h"

using namespace outpace;

TEST_CASE("the ways people write a US number all normalise to one E.164") {
    for (const char* raw :
         {"(415) 555-0142", "415-555-0142", "415.555.0142", "4155550142", "1 415 555 0142",
          "+1 415 555 0142", "+14155550142", " 415 555 0142 "}) {
        auto p = normalize_phone(raw, "US");
        INFO(raw);
        REQUIRE(p.ok());
        CHECK(p.e164 == "+14155550142");
        CHECK(p.region == "US");
    }
}

TEST_CASE("the fast path and libphonenumber's full parser agree") {
    // "tel:" forces the full parser; the plain forms take the fast path.
    for (const char* n :
         {"2125550123", "+442079460958", "+33142685300", "+4930901820", "+6421555012"}) {
        auto fast = normalize_phone(n, "US");
        auto full = normalize_phone(std::string("tel:") + n, "US");
        INFO(n);
        // Both must succeed: two failures would "agree" too.
        REQUIRE(fast.ok());
        REQUIRE(full.ok());
        CHECK(fast.e164 == full.e164);
    }
}

TEST_CASE("numbers of other countries and national formats") {
    CHECK(normalize_phone("020 7946 0958", "GB").e164 == "+442079460958");
    CHECK(normalize_phone("0044 20 7946 0958", "US").e164.empty());  // 00 is not the US exit code
    CHECK(normalize_phone("011 44 20 7946 0958", "US").e164 == "+442079460958");
    CHECK(normalize_phone("+44 20 7946 0958", "US").region == "GB");
    CHECK(normalize_phone("+1 416 555 0199", "US").region == "CA");
}

TEST_CASE("invalid numbers are refused with a reason") {
    CHECK(normalize_phone("555-0100", "US").error == "not a valid number for its country");
    CHECK(normalize_phone("not a number", "US").error == "not a phone number");
    CHECK(normalize_phone("+999 123 456", "US").error == "unknown country code");
    CHECK_FALSE(normalize_phone("", "US").ok());
    CHECK_FALSE(normalize_phone("123 555 0100", "US").ok());  // no area code starts with 1
}

TEST_CASE("time zones come from the area code, or the region when it has one zone") {
    CHECK(zones_for_number("+12125550123", "US") == "America/New_York");
    CHECK(zones_for_number("+13125550123", "US") == "America/Chicago");
    CHECK(zones_for_number("+13035550123", "US") == "America/Denver");
    CHECK(zones_for_number("+16025550123", "US") == "America/Phoenix");
    CHECK(zones_for_number("+14155550123", "US") == "America/Los_Angeles");
    CHECK(zones_for_number("+19075550123", "US") == "America/Anchorage");
    CHECK(zones_for_number("+18085550123", "US") == "Pacific/Honolulu");
    CHECK(zones_for_number("+14165550123", "CA") == "America/Toronto");
    CHECK(zones_for_number("+442079460958", "GB") == "Europe/London");
    // An area code across two zones yields both; toll-free and multi-zone countries yield nothing.
    CHECK(zones_for_number("+18505550123", "US") == "America/Chicago|America/New_York");
    CHECK(zones_for_number("+18005550100", "US") == "");
    CHECK(zones_for_number("+61255550123", "AU") == "");
}

TEST_CASE("the exchange-memoising normaliser agrees with libphonenumber on random NANP numbers") {
    // The memo assumes NANP validity is decided by area code and exchange; this checks it against
    // the library, number by number, including numbers sharing exchanges with earlier ones.
    PhoneNormalizer memo("US");
    std::uint64_t x = 88172645463325252ULL;  // xorshift: deterministic, no <random> needed
    auto next = [&x] { return x ^= x << 13, x ^= x >> 7, x ^= x << 17; };
    int valid = 0;
    for (int i = 0; i < 20000; ++i) {
        const int npa = 200 + static_cast<int>(next() % 800);
        const int nxx = (i % 4 == 0) ? 555 : 200 + static_cast<int>(next() % 800);
        const int line = static_cast<int>(next() % 10000);
        char raw[32];
        std::snprintf(raw, sizeof raw, (i % 2) ? "(%03d) %03d-%04d" : "+1%03d%03d%04d", npa, nxx,
                      line);
        auto a = memo.normalize(raw);
        auto b = normalize_phone(raw, "US");
        INFO(raw);
        REQUIRE(a.ok() == b.ok());
        REQUIRE(a.e164 == b.e164);
        REQUIRE(a.region == b.region);
        valid += a.ok();
    }
    CHECK(valid > 1000);  // the sample really exercised valid numbers, not only refusals
    // Non-NANP and unusual forms fall through to the full parser.
    CHECK(memo.normalize("+44 20 7946 0958").e164 == "+442079460958");
    CHECK(memo.normalize("tel:+1-212-555-0123").e164 == "+12125550123");
}
