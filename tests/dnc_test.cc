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
    CHECK(r.out.find("--scope must be 'global', 'client:NAME' or 'campaign:NAME'") !=
          std::string::npos);
    r = outpace_cmd("dnc add --data " + data + " 2125550100 12");
    CHECK(r.status == 1);
    CHECK(r.out.find("'12' is not a valid number in region US") != std::string::npos);
    r = outpace_cmd("dnc check --data " + dir.file("nowhere") + " 2125550100");
    CHECK(r.status == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("nowhere")));
    // A source holding a terminal escape (it may come from a file's name or an agent's notes)
    // is printed harmless; UTF-8 stays.
    r = outpace_cmd("dnc add --data " + data +
                    " --source \"$(printf '\\033]0;owned\\007 Müller')\" 2125550177");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = outpace_cmd("dnc check --data " + data + " 2125550177");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK_MESSAGE(r.out.find("source: ?]0;owned? Müller") != std::string::npos, r.out);
    CHECK(r.out.find('\x1b') == std::string::npos);
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

TEST_CASE("dnc: a client's list stops every campaign of that client and no other") {
    test::TempDir dir;
    const auto data = dir.file("data");
    const auto original = test::read_file(test::example("telemarketing.yaml"));
    // Beside the example's prompts and DNC file, which it names by relative paths.
    const std::string examples = std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/";
    REQUIRE(test::run("cp -r " + examples + "prompts " + examples + "lists " + dir.path()).status ==
            0);
    auto campaign = [&](const std::string& name, const std::string& client) {
        auto y = original;
        y.replace(y.find("name: spring-renewals"), 21, "name: " + name + client);
        return dir.write(name + ".yaml", y);
    };
    const auto bank_a = campaign("bank-a", "\nclient: bank");
    const auto bank_b = campaign("bank-b", "\nclient: bank");
    const auto other = campaign("other", "");
    // A complaint to the bank, before its lists come in.
    auto r = outpace_cmd("dnc add --data " + data + " --scope client:bank --source 'complaint 7' " +
                         "2125550123");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("added +12125550123 to the do-not-call list (client:bank)") !=
          std::string::npos);
    const auto list = dir.write("list.csv", "phone\n2125550123\n2125550124\n");
    for (const auto& [file, stored] : {std::pair{bank_a, 1}, {other, 2}}) {
        r = outpace_cmd("contacts import --json --data " + data + " --campaign " + file + " " +
                        list + " 2>/dev/null");
        REQUIRE_MESSAGE(r.status == 0, r.out);
        CHECK_MESSAGE(nlohmann::json::parse(r.out)["imported"] == stored, file);
    }
    // After the import: the hopper of every campaign of the bank skips it, the other dials it.
    r = outpace_cmd("dnc add --data " + data + " --scope client:bank 2125550124");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = outpace_cmd("contacts import --data " + data + " --campaign " + bank_b + " " + list);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK_MESSAGE(r.out.find("2 rows: 0 imported") != std::string::npos, r.out);
    for (const auto& [name, count] : {std::pair{"bank-a", 0}, {"other", 2}}) {
        r = outpace_cmd("contacts next --json --data " + data + " --campaign " + name +
                        " --at 2026-11-24T15:30:00Z -n 5");
        REQUIRE_MESSAGE(r.status == 0, r.out);
        CHECK_MESSAGE(std::count(r.out.begin(), r.out.end(), '{') == count, name);
    }
    r = outpace_cmd("dnc check --data " + data + " 2125550123");
    CHECK(r.out.find("on the client:bank do-not-call list since 20") != std::string::npos);
    CHECK(r.out.find("source: complaint 7") != std::string::npos);
    r = outpace_cmd("dnc export --data " + data + " --scope client:bank");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("+12125550124,client:bank,20") != std::string::npos);
    for (const auto* bad : {"client:", "client:a:b", "campaign:", "bank"}) {
        r = outpace_cmd("dnc add --data " + data + " --scope " + bad + " 2125550125");
        CHECK_MESSAGE(r.status == 2, bad);
        CHECK(r.out.find("'global', 'client:NAME' or 'campaign:NAME'") != std::string::npos);
    }
    // A client's name follows the rules of a campaign's.
    r = outpace_cmd("campaign check " +
                    dir.write("bad.yaml", original + "client: \"the bank!\"\n"));
    CHECK(r.status == 1);
    CHECK(r.out.find("'client' must be 1-64 letters") != std::string::npos);
}

TEST_CASE(
    "dnc: a store held by another command, with a dead engine's ENGINE file, is said at once") {
    test::TempDir dir;
    const auto data = dir.file("data");
    std::string error;
    auto held = Store::open(data, &error);  // this process holds the lock, as an import would
    REQUIRE_MESSAGE(held, error);
    const auto dead = test::run("sh -c 'echo $$'");
    const long pid = std::stol(dead.out);
    dir.write("data/ENGINE", R"({"control":"ipc://)" + dir.file("gone") + R"(","pid":)" +
                                 std::to_string(pid) + "}");
    const auto started = std::chrono::steady_clock::now();
    auto r = outpace_cmd("dnc add --data " + data + " 2125550100");
    CHECK(r.status == 1);
    CHECK_MESSAGE(
        r.out.find("pid " + std::to_string(pid) + ", is no longer running") != std::string::npos,
        r.out);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
}
