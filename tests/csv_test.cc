// The CSV reader: quoting, line numbers and malformed rows.
#include <doctest/doctest.h>

#include "campaigns/csv.h"
#include "test_util.h"

using namespace outpace;

TEST_CASE("quoted fields, doubled quotes, CRLF and line breaks inside quotes") {
    test::TempDir dir;
    auto path = dir.write("l.csv",
                          "\xEF\xBB\xBFphone,name\r\n\"212 555 0123\",\"Smith, \"\"Jo\"\"\"\r\n\n"
                          "312 555 0166,\"two\nlines\"\n415 555 0142,last");
    CsvReader r(path);
    CsvRecord rec;
    REQUIRE(r.next(rec));
    CHECK(rec.fields == std::vector<std::string>{"phone", "name"});
    CHECK(rec.line == 1);
    REQUIRE(r.next(rec));
    CHECK(rec.fields == std::vector<std::string>{"212 555 0123", "Smith, \"Jo\""});
    CHECK(rec.line == 2);
    REQUIRE(r.next(rec));
    CHECK(rec.fields == std::vector<std::string>{"312 555 0166", "two\nlines"});
    CHECK(rec.line == 4);  // the blank line 3 is skipped, and counted
    REQUIRE(r.next(rec));
    CHECK(rec.fields == std::vector<std::string>{"415 555 0142", "last"});
    CHECK(rec.line == 6);
    CHECK(rec.error.empty());
    CHECK_FALSE(r.next(rec));
}

TEST_CASE("malformed records are returned with an error, not dropped") {
    test::TempDir dir;
    auto path = dir.write("bad.csv", "a,b\nx\"y,z\n\"never closed,1\n2,3\n");
    CsvReader r(path);
    CsvRecord rec;
    REQUIRE(r.next(rec));
    REQUIRE(r.next(rec));
    CHECK(rec.line == 2);
    CHECK(rec.error == "stray quote inside an unquoted field (column 1)");
    REQUIRE(r.next(rec));
    CHECK(rec.line == 3);
    CHECK(rec.error == "a quote opened on line 3 is never closed");
    CHECK_FALSE(r.next(rec));
}
