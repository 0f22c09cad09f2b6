// Do-not-call lists managed with `outpace dnc`: on the store, and through the running engine that
// holds it (the hopper skips a number from the next claim on).
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "dialer/engine/control.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace std::chrono_literals;
using namespace outpace::test;

namespace {
test::RunResult outpace_cmd(const std::string& args) {
    return test::run(std::string(OUTPACE_BINARY) + " " + args);
}
}  // namespace

TEST_CASE("dnc: add, check, remove and export keep the source and the time of every entry") {
    test::TempDir dir;
    const auto data = dir.file("data");
    auto r = outpace_cmd("dnc add --data " + data + " --source 'complaint 4411' '(212) 555-0123'");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("added +12125550123 to the do-not-call list (global)") != std::string::npos);
    r = outpace_cmd("dnc add --data " + data + " --scope campaign:spring +442079460123");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = outpace_cmd("dnc check --data " + data + " --json 212-555-0123 +442079460123 2125550199");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    std::istringstream lines(r.out);
    std::vector<nlohmann::json> got;
    for (std::string l; std::getline(lines, l);)
        if (!l.empty() && l[0] == '{') got.push_back(nlohmann::json::parse(l));
    REQUIRE(got.size() == 3);
    CHECK(got[0]["phone"] == "+12125550123");
    REQUIRE(got[0]["lists"].size() == 1);
    CHECK(got[0]["lists"][0]["scope"] == "global");
    CHECK(got[0]["lists"][0]["source"] == "complaint 4411");
    CHECK(got[0]["lists"][0]["added"].get<std::string>().starts_with("20"));
    CHECK(got[1]["lists"][0]["scope"] == "campaign:spring");
    CHECK(got[2]["lists"].empty());
    // The list in CSV, with its times, for a regulator.
    r = outpace_cmd("dnc export --data " + data + " -o " + dir.file("global.csv"));
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto csv = test::read_file(dir.file("global.csv"));
    CHECK(csv.starts_with("phone,scope,added,source\n+12125550123,global,20"));
    CHECK(csv.find(",complaint 4411\n") != std::string::npos);
    r = outpace_cmd("dnc remove --data " + data + " 2125550123");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = outpace_cmd("dnc check --data " + data + " 2125550123");
    CHECK(r.out.find("+12125550123: on no do-not-call list") != std::string::npos);
    // A registry file: one number a line; what is not a number is counted, never fatal.
    dir.write("registry.txt", "2125550100\n2125550101\n# a comment\nphone\n\"2125550102\",x\n");
    r = outpace_cmd("dnc import --data " + data + " " + dir.file("registry.txt"));
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("3 numbers added to the do-not-call list (global) through the store") !=
          std::string::npos);
    CHECK(r.out.find("1 lines were not numbers (first: line 4: phone)") != std::string::npos);
    // Mistakes change nothing and say why.
    r = outpace_cmd("dnc add --data " + data + " --scope bogus 2125550100");
    CHECK(r.status == 2);
    CHECK(r.out.find("--scope must be 'global' or 'campaign:NAME'") != std::string::npos);
    r = outpace_cmd("dnc add --data " + data + " 2125550100 12");
    CHECK(r.status == 1);
    CHECK(r.out.find("'12' is not a valid number in region US") != std::string::npos);
    r = outpace_cmd("dnc check --data " + dir.file("nowhere") + " 2125550100");
    CHECK(r.status == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("nowhere")));
}

TEST_CASE("dnc: while the engine dials, a number added goes through it and is never dialled") {
    Rig rig;
    rig.campaign("held", "uas_ring.xml", 6, "", 1);  // one line: one call rings at a time
    const std::string endpoint = "ipc://" + rig.file("control");
    auto engine = rig.start("control: " + endpoint + "\ndrain_timeout: 1s\n");
    auto status = [&] { return first_campaign_status(endpoint); };
    nlohmann::json s;
    for (int i = 0; i < 100 && (s.empty() || s.value("dialled", 0) < 1); ++i) {
        std::this_thread::sleep_for(100ms);
        s = status();
    }
    INFO(rig.log("engine.log"));
    REQUIRE(s.value("dialled", 0) == 1);
    CHECK(std::filesystem::exists(rig.data() + "/ENGINE"));
    // The first call rings for 15 s on the only line. Meanwhile every other number but one goes
    // on the campaign's list, through the engine (the store is the engine's).
    auto r = outpace_cmd("dnc add --data " + rig.data() +
                         " --scope campaign:held --source 'asked on the phone' +14155551000 "
                         "+14155551001 +14155551002 +14155551003 +14155551004");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("an engine is running on " + rig.data() + "; the change goes through it") !=
          std::string::npos);
    // Read beside the running engine.
    r = outpace_cmd("dnc check --data " + rig.data() + " +14155551003");
    CHECK_MESSAGE(r.out.find("on the campaign:held do-not-call list since") != std::string::npos,
                  r.out);
    r = outpace_cmd("report --data " + rig.data() + " --campaign held");
    CHECK_MESSAGE(r.status == 0, r.out);
    // ... judged by the definition the running engine loaded.
    CHECK_MESSAGE(r.out.find("held.yaml as the engine loaded it at 20") != std::string::npos,
                  r.out);
    // A request the engine must refuse: not E.164.
    std::string reply, error;
    REQUIRE(control_request(endpoint,
                            R"({"command":"dnc","action":"add","scope":"held","phones":["12"]})",
                            2000, &reply, &error));
    CHECK(nlohmann::json::parse(reply)["ok"] == false);
    // After the ring timeout the line dials the one number left, and nothing else.
    for (int i = 0; i < 250 && status().value("dialled", 0) < 2; ++i)
        std::this_thread::sleep_for(100ms);
    std::this_thread::sleep_for(1s);
    engine->signal(SIGTERM);
    CHECK(engine->wait(15s) == 0);
    CHECK_FALSE(std::filesystem::exists(rig.data() + "/ENGINE"));
    auto all = rig.attempts()["held"];
    REQUIRE_FALSE(all.empty());
    const bool first_was_last = all[0].phone == "+14155551005";
    REQUIRE(all.size() == (first_was_last ? 1u : 2u));
    CHECK(all.back().phone == "+14155551005");
}
