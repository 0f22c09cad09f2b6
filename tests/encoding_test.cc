// Lists from spreadsheets in any encoding: the store keeps UTF-8 only, and no stored text can make
// a JSON encoder throw (a Latin-1 list used to abort the engine at its first screen pop).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/importer.h"
#include "campaigns/json_text.h"
#include "campaigns/text_encoding.h"
#include "test_util.h"

using namespace outpace;
using test::kOutpace;

namespace {

struct ImportRun {
    test::TempDir dir;
    std::unique_ptr<Store> store;
    Campaign campaign;
    ImportSummary summary;
    bool ok = false;
    std::string error;

    ImportRun(const std::string& csv, const std::string& encoding = "") {
        store = Store::open(dir.file("db"), &error);
        REQUIRE_MESSAGE(store, error);
        auto r = load_campaign_text("name: t\ntimezone: {default: America/New_York}\n", "t.yaml",
                                    dir.path());
        REQUIRE(r.campaign);
        campaign = *r.campaign;
        ImportOptions o;
        o.encoding = encoding;
        ok = import_contacts(*store, campaign, "name: t\n", dir.write("list.csv", csv), o, summary,
                             &error);
    }
    std::string field(const std::string& phone, const std::string& name) {
        auto c = store->contact("t", phone);
        REQUIRE(c);
        for (const auto& [k, v] : c->fields)
            if (k == name) return v;
        return "<none>";
    }
};

}  // namespace

TEST_CASE("utf-8 is told from what is not: overlongs, surrogates and cut sequences are not") {
    CHECK(valid_utf8("Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e"));
    CHECK_FALSE(valid_utf8("Jos\xe9"));
    CHECK_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // a UTF-16 surrogate
    CHECK_FALSE(valid_utf8("\xe2\x82"));          // cut short
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST_CASE("import: a list saved from Excel in a Western locale is read as windows-1252") {
    ImportRun r("phone,name,city\n212 555 0123,Jos\xe9,K\xf6ln\n212 555 0124,Ren\xe9\x80,Paris\n");
    REQUIRE_MESSAGE(r.ok, r.error);
    CHECK(r.summary.encoding == "windows-1252");
    CHECK(r.summary.encoding_note.find("line 2 is not UTF-8") != std::string::npos);
    CHECK(r.summary.imported == 2);
    CHECK(r.field("+12125550123", "name") == "Jos\xc3\xa9");
    CHECK(r.field("+12125550123", "city") == "K\xc3\xb6ln");
    CHECK(r.field("+12125550124", "name") == "Ren\xc3\xa9\xe2\x82\xac");  // 0x80 is the euro sign
}

TEST_CASE("import: UTF-8 with and without a BOM stays as it is") {
    ImportRun plain("phone,name\n212 555 0123,Jos\xc3\xa9\n");
    REQUIRE(plain.ok);
    CHECK(plain.summary.encoding == "utf-8");
    CHECK(plain.summary.encoding_note.empty());
    CHECK(plain.field("+12125550123", "name") == "Jos\xc3\xa9");
    ImportRun bom("\xef\xbb\xbfphone,name\n212 555 0123,Jos\xc3\xa9\n");
    REQUIRE_MESSAGE(bom.ok, bom.error);
    CHECK(bom.summary.imported == 1);
    CHECK(bom.field("+12125550123", "name") == "Jos\xc3\xa9");
}

TEST_CASE("import: a declared encoding is kept to, and rows it cannot decode are rejected") {
    // Declared UTF-8: the Latin-1 row is reported, the others are stored.
    ImportRun utf8("phone,name\n212 555 0123,Jos\xe9\n212 555 0124,Ada\n", "utf-8");
    REQUIRE_MESSAGE(utf8.ok, utf8.error);
    CHECK(utf8.summary.imported == 1);
    CHECK(utf8.summary.reject_reasons["cannot decode text"] == 1);
    CHECK(test::read_file(utf8.dir.file("list.csv.rejects.csv"))
              .find("2,cannot decode text,field 2 is not valid utf-8") != std::string::npos);
    // 0x81 has no character in windows-1252.
    ImportRun cp("phone,name\n212 555 0123,A\x81\n212 555 0124,\xc4\n", "windows-1252");
    REQUIRE(cp.ok);
    CHECK(cp.summary.imported == 1);
    CHECK(cp.summary.reject_reasons["cannot decode text"] == 1);
    CHECK(cp.field("+12125550124", "name") == "\xc3\x84");
    // ISO-8859-15 has the euro at 0xA4.
    ImportRun iso("phone,name\n212 555 0123,\xa4\n", "iso-8859-15");
    REQUIRE(iso.ok);
    CHECK(iso.field("+12125550123", "name") == "\xe2\x82\xac");
    // An unknown name is refused before anything is written.
    ImportRun unknown("phone,name\n212 555 0123,x\n", "klingon-7");
    CHECK_FALSE(unknown.ok);
    CHECK(unknown.error.find("unknown encoding 'klingon-7'") != std::string::npos);
    CHECK_FALSE(unknown.store->contact("t", "+12125550123"));
}

TEST_CASE("import: a UTF-16 file is refused with what to do instead") {
    ImportRun r(std::string("\xff\xfep\0h\0o\0n\0e\0", 12));
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("is UTF-16") != std::string::npos);
    CHECK(r.error.find("CSV UTF-8") != std::string::npos);
}

TEST_CASE("json_text never throws: bytes that are not UTF-8 become U+FFFD") {
    nlohmann::json j = {{"name", "Jos\xe9"}, {"ok", "caf\xc3\xa9"}};
    CHECK_THROWS(j.dump());  // what used to abort the engine
    std::string text;
    CHECK_NOTHROW(text = json_text(j));
    CHECK(text.find("Jos\xef\xbf\xbd") != std::string::npos);
    CHECK(text.find("caf\xc3\xa9") != std::string::npos);
}

TEST_CASE("contacts next --json shows a contact with bad bytes instead of aborting") {
    // A store written before imports transcoded (or by another tool) may hold Latin-1.
    test::TempDir dir;
    const std::string data = dir.file("data");
    auto list = dir.write("list.csv", "phone,name\n212 555 0123,Jos\xe9\n");
    auto imp = test::run(kOutpace + " contacts import --encoding utf-8 --data " + data +
                         " --campaign " + test::example("telemarketing.yaml") + " " + list);
    REQUIRE_MESSAGE(imp.status == 0, imp.out);
    CHECK(imp.out.find("rejected, cannot decode text: 1") != std::string::npos);
    {
        std::string err;
        auto store = Store::open(data, &err);
        REQUIRE_MESSAGE(store, err);
        Contact c;
        c.phone = "+12125550123";
        c.zones = "America/New_York";
        c.fields = {{"name", "Jos\xe9"}};
        auto b = store->batch();
        b.put_zone_group("spring-renewals", c.zones);
        b.put_contact("spring-renewals", nullptr, c);
        REQUIRE(store->write(b, true).ok());
    }
    auto next = test::run(kOutpace + " contacts next --json --data " + data +
                          " --campaign spring-renewals --at 2026-11-24T15:30:00Z -n 5");
    REQUIRE_MESSAGE(next.status == 0, next.out);
    auto j = nlohmann::json::parse(next.out.substr(0, next.out.find('\n')));
    CHECK(j["fields"]["name"] == "Jos\xef\xbf\xbd");
}
