// A campaign manager's day on a running engine: lists loaded into the store the engine holds go
// through the engine (its one writer), are read and checked by the CLI, and are dialled by the
// running campaign without a restart.
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "dialer/engine/control.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace std::chrono_literals;
using namespace outpace::test;

namespace {
nlohmann::json control(const std::string& endpoint, const std::string& request) {
    std::string reply, error;
    REQUIRE_MESSAGE(control_request(endpoint, request, 5000, &reply, &error), error);
    return nlohmann::json::parse(reply);
}
// Starts the rig's engine with a control socket at `endpoint` and waits for its first dial (one
// line: that call rings while the others wait).
std::unique_ptr<test::Child> start_ringing(Rig& rig, const std::string& endpoint) {
    auto engine = rig.start("control: " + endpoint + "\ndrain_timeout: 1s\n");
    for (int i = 0; i < 100 && first_campaign_status(endpoint).value("dialled", 0) < 1; ++i)
        std::this_thread::sleep_for(100ms);
    INFO(rig.log("engine.log"));
    REQUIRE(first_campaign_status(endpoint).value("dialled", 0) == 1);
    return engine;
}
}  // namespace

TEST_CASE("contacts import: while the engine dials, a list goes through it and is dialled") {
    Rig rig;
    // One line: one call rings at a time. The campaign obeys its client's do-not-call list.
    rig.campaign("held", "uas_ring.xml", 2, "client: bank\n", 1);
    const std::string endpoint = "ipc://" + rig.file("control");
    auto engine = rig.start("control: " + endpoint + "\ndrain_timeout: 1s\n");
    nlohmann::json s;
    for (int i = 0; i < 100 && (s.empty() || s.value("dialled", 0) < 1); ++i) {
        std::this_thread::sleep_for(100ms);
        s = first_campaign_status(endpoint);
    }
    INFO(rig.log("engine.log"));
    REQUIRE(s.value("dialled", 0) == 1);
    // The list's zone column, as the rig wrote it.
    const auto first = test::read_file(rig.file("held.csv"));
    const auto zone =
        first.substr(first.find(',', 16) + 1, first.find('\n', 16) - first.find(',', 16) - 1);
    auto r = outpace_cmd("dnc add --data " + rig.data() + " --scope client:bank +14155552003");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    // The afternoon's list: three new people, one already on the campaign, one the manager just
    // put on do-not-call, one that is not a number.
    const auto list = rig.write("afternoon.csv",
                                "phone,timezone,name\n"
                                "+14155552000," +
                                    zone +
                                    ",Ann\n"
                                    "+14155552001," +
                                    zone +
                                    ",Bob\n"
                                    "+14155552002," +
                                    zone +
                                    ",Cy\n"
                                    "+14155551000," +
                                    zone +
                                    ",Old\n"
                                    "+14155552003," +
                                    zone +
                                    ",Dee\n"
                                    "12," +
                                    zone + ",Bad\n");
    r = outpace_cmd("contacts import --data " + rig.data() + " --campaign " +
                    rig.file("held.yaml") + " " + list);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("an engine is running on " + rig.data() + "; the change goes through it") !=
          std::string::npos);
    CHECK_MESSAGE(
        r.out.find("6 rows: 3 imported, 1 already present, 2 rejected") != std::string::npos,
        r.out);
    CHECK(r.out.find("through the running engine (pid " + std::to_string(engine->pid())) !=
          std::string::npos);
    CHECK(r.out.find("rejected, on do-not-call list: 1") != std::string::npos);
    // The engine keeps the definition it dials with, and says so.
    CHECK(r.out.find("with the definition it loaded at its start") != std::string::npos);
    CHECK(test::read_file(rig.file("afternoon.csv.rejects.csv")).find("+14155552003") !=
          std::string::npos);
    // The engine has the last word: a number stored meanwhile is left as it is, one put on
    // do-not-call meanwhile is not stored, and what is not E.164 is refused.
    auto j = control(endpoint, R"({"command":"import","campaign":"held","action":"contacts",
        "contacts":[{"phone":"+14155551000","zones":"UTC"},{"phone":"+14155552003","zones":"UTC"},
                    {"phone":"+14155552009","zones":"UTC","fields":[["name","Eve"]]}]})");
    CHECK(j["ok"] == true);
    CHECK(j["present"] == nlohmann::json::array({0}));
    CHECK(j["dnc"] == nlohmann::json::array({1}));
    j = control(endpoint, R"({"command":"import","campaign":"held","action":"contacts",
        "contacts":[{"phone":"4155552010","zones":"UTC"}]})");
    CHECK(j["ok"] == false);
    j = control(endpoint, R"({"command":"import","campaign":"held","action":"contacts",
        "contacts":[{"phone":"+14155552011","zones":"UTC","fields":[["name"]]}]})");
    CHECK(j["ok"] == false);
    j = control(endpoint, R"({"command":"import","action":"contacts","contacts":[]})");
    CHECK(j["ok"] == false);
    // Read beside the engine: the new contacts are there for the hopper.
    r = outpace_cmd("contacts next --data " + rig.data() + " --campaign held -n 20");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK_MESSAGE(r.out.find("+14155552000") != std::string::npos, r.out);
    CHECK(r.out.find("name=Ann") != std::string::npos);
    CHECK(r.out.find("+14155552003") == std::string::npos);
    // The running campaign dials them: after the first ring timeout the line takes the next.
    for (int i = 0; i < 250 && first_campaign_status(endpoint).value("dialled", 0) < 2; ++i)
        std::this_thread::sleep_for(100ms);
    engine->signal(SIGTERM);
    CHECK(engine->wait(15s) == 0);
    CHECK(rig.log("engine.log").find("contacts import into held: 3 contacts stored of 6 rows") !=
          std::string::npos);
    const auto eve = rig.contact("held", "+14155552009");
    REQUIRE(eve);
    CHECK(eve->fields == std::vector<std::pair<std::string, std::string>>{{"name", "Eve"}});
    CHECK_FALSE(rig.contact("held", "+14155552003"));
    const auto ann = rig.contact("held", "+14155552000");
    REQUIRE(ann);
    CHECK(ann->source == list);
    // Nothing the import sent changed the contact an attempt was already made on.
    const auto old = rig.contact("held", "+14155551000");
    REQUIRE(old);
    CHECK(old->fields.empty() == false);
    auto all = rig.attempts()["held"];
    REQUIRE(all.size() >= 2);
}

TEST_CASE(
    "ctl reload: a changed campaign file applies between calls, a change that cannot is "
    "refused, and a campaign added to the config starts") {
    Rig rig;
    rig.campaign("held", "uas_ring.xml", 2, "", 1);
    const std::string endpoint = "ipc://" + rig.file("control");
    auto engine = start_ringing(rig, endpoint);
    INFO(rig.log("engine.log"));
    const std::string original = test::read_file(rig.file("held.yaml"));
    auto reload = [&](const std::string& name = "") {
        return test::run(std::string(OUTPACE_BINARY) + " ctl reload " + name + " --endpoint " +
                         endpoint);
    };
    // Nothing changed: said so.
    auto r = reload("held");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("held: no change") != std::string::npos);
    // A stricter abandon cap applies at once.
    rig.write("held.yaml", original + "pacing: {max_abandon_rate: 0.02}\n");
    r = reload("held");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("held: applied: pacing") != std::string::npos);
    CHECK(first_campaign_status(endpoint)["max_abandon_rate"] == 0.02);
    // Reports judge by what now dials.
    auto rep = test::run(std::string(OUTPACE_BINARY) + " report --data " + rig.data() +
                         " --campaign held --json");
    REQUIRE_MESSAGE(rep.status == 0, rep.out);
    CHECK(nlohmann::json::parse(rep.out.substr(rep.out.find('{')))["max_abandon_rate"] == 0.02);
    // Another trunk cannot apply live: refused whole, the campaign runs on as it was.
    std::string moved = original + "pacing: {max_abandon_rate: 0.01}\n";
    moved.replace(moved.find("trunk: held"), 11, "trunk: other");
    rig.write("held.yaml", moved);
    r = reload("held");
    CHECK(r.status == 1);
    CHECK(r.out.find("held: not reloaded, it runs as before") != std::string::npos);
    CHECK(r.out.find("dialing.trunk or dialing.trunks changed: restart the engine to apply it") !=
          std::string::npos);
    CHECK(first_campaign_status(endpoint)["max_abandon_rate"] == 0.02);
    // A broken file: its error with file, line and column; nothing changes.
    rig.write("held.yaml", original + "pacing: {max_abandon_rate: lots}\n");
    r = reload();
    CHECK(r.status == 1);
    CHECK_MESSAGE(r.out.find(rig.file("held.yaml") + ":") != std::string::npos, r.out);
    CHECK(first_campaign_status(endpoint)["max_abandon_rate"] == 0.02);
    // A campaign added to the engine's config is started by a reload without a name.
    std::string second = original;
    second.replace(second.find("name: held"), 10, "name: later");
    rig.write("later.yaml", second);
    std::string cfg = test::read_file(rig.file("engine.yaml"));
    cfg.insert(cfg.find("campaigns:\n") + 11, "  - {file: later.yaml, unattended_lines: 1}\n");
    rig.write("engine.yaml", cfg);
    rig.write("held.yaml", original);
    r = reload();
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("later: added and started") != std::string::npos);
    CHECK(r.out.find("held: applied: pacing") != std::string::npos);
    std::string reply, error;
    REQUIRE(control_request(endpoint, R"({"command":"status"})", 2000, &reply, &error));
    const auto status = nlohmann::json::parse(reply);
    REQUIRE(status["campaigns"].size() == 2);
    CHECK(status["campaigns"][1]["campaign"] == "later");
    CHECK(status["campaigns"][0]["max_abandon_rate"] == doctest::Approx(0.03));
    // A second file for a campaign already dialling is refused: two runs must never claim one
    // list, and loading it would recover the running campaign's calls as lost.
    rig.write("again.yaml", original);
    cfg.insert(cfg.find("campaigns:\n") + 11, "  - {file: again.yaml, unattended_lines: 1}\n");
    rig.write("engine.yaml", cfg);
    r = reload();
    CHECK(r.status == 1);
    CHECK_MESSAGE(r.out.find("campaign 'held' already runs in this engine") != std::string::npos,
                  r.out);
    REQUIRE(control_request(endpoint, R"({"command":"status"})", 2000, &reply, &error));
    CHECK(nlohmann::json::parse(reply)["campaigns"].size() == 2);
    // Asked for a campaign the engine does not have.
    r = reload("nosuch");
    CHECK(r.status == 1);
    engine->signal(SIGTERM);
    CHECK(engine->wait(15s) == 0);
    CHECK(rig.log("engine.log").find("later: added from") != std::string::npos);
}

TEST_CASE("outpace lists: reset and remove go through the running engine, never touching a call") {
    Rig rig;
    rig.campaign("held", "uas_ring.xml", 3, "", 1);  // one line: one contact rings, two wait
    const std::string endpoint = "ipc://" + rig.file("control");
    auto engine = start_ringing(rig, endpoint);
    INFO(rig.log("engine.log"));
    const std::string args = " --data " + rig.data() + " --campaign held";
    // Read beside the engine.
    auto r = outpace_cmd("lists show --json" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto shown = nlohmann::json::parse(r.out);
    REQUIRE(shown["lists"].size() == 1);
    CHECK(shown["lists"][0]["states"]["in_flight"] == 1);
    CHECK(shown["lists"][0]["states"]["pending"] == 2);
    r = outpace_cmd("lists reset --list held.csv --states pending" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("an engine is running on " + rig.data()) != std::string::npos);
    CHECK_MESSAGE(r.out.find("2 contacts back to pending through the running engine (pid " +
                             std::to_string(engine->pid())) != std::string::npos,
                  r.out);
    CHECK(r.out.find("1 on a call now were left alone") != std::string::npos);
    r = outpace_cmd("lists remove --yes --list held.csv" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("2 contacts removed through the running engine") != std::string::npos);
    // The engine checks what it is sent.
    auto j = control(endpoint, R"({"command":"lists","action":"reset","campaign":"held",
        "list":"x","states":["dnc"],"phones":[]})");
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("never reset") != std::string::npos);
    j = control(endpoint, R"({"command":"lists","action":"remove","campaign":"held",
        "list":"x","phones":["12"]})");
    CHECK(j["ok"] == false);
    j = control(endpoint, R"({"command":"lists","action":"empty","campaign":"held","list":"x"})");
    CHECK(j["ok"] == false);
    engine->signal(SIGTERM);
    CHECK(engine->wait(15s) == 0);
    CHECK(rig.log("engine.log").find("lists remove held") != std::string::npos);
    // The contact on the call is still there (with its attempt completed); the others are gone.
    std::size_t left = 0;
    for (int i = 0; i < 3; ++i)
        left += rig.contact("held", "+1415555" + std::to_string(1000 + i)).has_value();
    CHECK(left == 1);
}
