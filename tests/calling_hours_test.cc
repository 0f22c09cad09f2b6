// Calling hours in the callee's local time, across DST changes and zones.
#include <doctest/doctest.h>

#include "campaigns/calling_hours.h"
#include "test_util.h"

using namespace outpace;
using test::at;

namespace {

CallingHours weekdays_9_to_20() {
    CallingHours h;
    CallingWindow w;
    for (int d = 1; d <= 5; ++d) w.days[d] = true;
    w.from_minute = 9 * 60;
    w.to_minute = 20 * 60;
    h.windows.push_back(w);
    return h;
}

}  // namespace

TEST_CASE("a window opens and closes in the callee's local time") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    // Tuesday 2026-11-24, New York is UTC-5.
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-11-24T13:59:59Z"), zones));
    CHECK(within_calling_hours(h, "America/New_York", at("2026-11-24T14:00:00Z"), zones));
    CHECK(within_calling_hours(h, "America/New_York", at("2026-11-25T00:59:59Z"), zones));
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-11-25T01:00:00Z"), zones));
    // Saturday is not in the window.
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-11-28T16:00:00Z"), zones));
}

TEST_CASE("the callee's local time decides, not the campaign's") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    // 14:30 UTC: 09:30 in New York (open) but 06:30 in Los Angeles (closed).
    auto t = at("2026-11-24T14:30:00Z");
    CHECK(within_calling_hours(h, "America/New_York", t, zones));
    CHECK_FALSE(within_calling_hours(h, "America/Los_Angeles", t, zones));
    // Phoenix keeps standard time (UTC-7) all year: 16:30Z in July is 09:30 there (open), 15:30Z
    // is 08:30 (closed), although Denver, on the same standard time, is already at 09:30.
    CHECK(within_calling_hours(h, "America/Phoenix", at("2026-07-14T16:30:00Z"), zones));
    CHECK_FALSE(within_calling_hours(h, "America/Phoenix", at("2026-07-14T15:30:00Z"), zones));
}

TEST_CASE("daylight saving changes move the window in UTC") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    // US DST began Sunday 2026-03-08. Friday 03-06: 09:00 EST = 14:00Z; Monday 03-09: 09:00 EDT =
    // 13:00Z.
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-03-06T13:30:00Z"), zones));
    CHECK(within_calling_hours(h, "America/New_York", at("2026-03-09T13:30:00Z"), zones));
    // Europe changes on a different date (2026-03-29): in the gap weeks London is still UTC+0.
    CallingHours every_day = h;
    for (auto& w : every_day.windows) w.days.fill(true);
    CHECK_FALSE(
        within_calling_hours(every_day, "Europe/London", at("2026-03-20T08:30:00Z"), zones));
    CHECK(within_calling_hours(every_day, "Europe/London", at("2026-03-30T08:30:00Z"), zones));
    // Autumn back (US 2026-11-01): 20:00 EDT on Friday 10-30 = 00:00Z; 20:00 EST on Monday 11-02 =
    // 01:00Z.
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-10-31T00:30:00Z"), zones));
    CHECK(within_calling_hours(h, "America/New_York", at("2026-11-03T00:30:00Z"), zones));
}

TEST_CASE("a contact in two possible zones is callable only when both are open") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    // 14:30Z: New York 09:30 (open), Chicago 08:30 (closed).
    CHECK_FALSE(within_calling_hours(h, "America/Chicago|America/New_York",
                                     at("2026-11-24T14:30:00Z"), zones));
    CHECK(within_calling_hours(h, "America/Chicago|America/New_York", at("2026-11-24T15:30:00Z"),
                               zones));
    // 00:30Z: Chicago 18:30 (open), New York 19:30 (open); 01:30Z: New York 20:30 (closed).
    CHECK(within_calling_hours(h, "America/Chicago|America/New_York", at("2026-11-25T00:30:00Z"),
                               zones));
    CHECK_FALSE(within_calling_hours(h, "America/Chicago|America/New_York",
                                     at("2026-11-25T01:30:00Z"), zones));
}

TEST_CASE("holidays and unknown zones are never callable") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    h.holidays.push_back("2026-12-25");
    // 2026-12-25 is a Friday; 23:00Z on the 25th is 18:00 in New York, still the 25th locally.
    CHECK_FALSE(within_calling_hours(h, "America/New_York", at("2026-12-25T23:00:00Z"), zones));
    // ...but 02:00Z on the 26th is 17:00 on the 25th in Los Angeles, and Saturday the 26th in New
    // York.
    CHECK_FALSE(within_calling_hours(h, "America/Los_Angeles", at("2026-12-26T02:00:00Z"), zones));
    CHECK(within_calling_hours(h, "America/New_York", at("2026-12-24T23:00:00Z"), zones));
    CHECK_FALSE(within_calling_hours(h, "", at("2026-11-24T16:00:00Z"), zones));
    CHECK_FALSE(within_calling_hours(h, "Nowhere/Land", at("2026-11-24T16:00:00Z"), zones));
}

TEST_CASE("next_callable finds the next opening") {
    ZoneCache zones;
    auto h = weekdays_9_to_20();
    // Friday 21:00 in New York -> Monday 09:00 EST = 14:00Z.
    auto next = next_callable(h, "America/New_York", at("2026-11-28T02:00:00Z"), zones);
    REQUIRE(next);
    CHECK(format_timestamp(*next) == "2026-11-30T14:00:00Z");
    auto now = at("2026-11-24T15:00:00Z");
    CHECK(next_callable(h, "America/New_York", now, zones) == now);
    CHECK_FALSE(next_callable(CallingHours{}, "America/New_York", now, zones));
}

TEST_CASE("timestamps parse in the forms the CLI accepts") {
    CHECK(format_timestamp(at("2026-11-23T15:00:00Z")) == "2026-11-23T15:00:00Z");
    CHECK(format_timestamp(*parse_timestamp("2026-11-23T10:00:00-05:00")) ==
          "2026-11-23T15:00:00Z");
    CHECK(format_timestamp(*parse_timestamp("2026-11-23 15:00")) == "2026-11-23T15:00:00Z");
    CHECK_FALSE(parse_timestamp("yesterday"));
}
