// Contact lists: a list's figures, starting it over and taking it out, on a real store and
// through the CLI (the engine path is in manager_test.cc).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "campaigns/lists.h"
#include "test_util.h"

using namespace outpace;

namespace {

Contact contact(const std::string& phone, const std::string& source, ContactState state) {
    Contact c;
    c.phone = phone;
    c.zones = "America/New_York";
    c.source = source;
    c.state = state;
    c.next_eligible = 1'000;
    if (state != ContactState::pending) {
        c.attempts = 3;
        c.outcome_counts = {0, 3, 0, 0, 0};
        c.recent_attempts = {900, 950, 990};
        c.final_reason = "attempt cap reached (3)";
    }
    return c;
}

std::unique_ptr<Store> filled(const std::string& dir) {
    std::string error;
    auto store = Store::open(dir, &error);
    REQUIRE_MESSAGE(store, error);
    auto b = store->batch();
    b.put_zone_group("c", "America/New_York");
    b.put_contact("c", nullptr, contact("+12125550001", "/lists/a.csv", ContactState::exhausted));
    b.put_contact("c", nullptr, contact("+12125550002", "/lists/a.csv", ContactState::done));
    b.put_contact("c", nullptr, contact("+12125550003", "/lists/a.csv", ContactState::in_flight));
    b.put_contact("c", nullptr, contact("+12125550004", "/lists/a.csv", ContactState::dnc));
    b.put_contact("c", nullptr, contact("+12125550005", "/lists/a.csv", ContactState::pending));
    b.put_contact("c", nullptr, contact("+12125550006", "/other/a.csv", ContactState::exhausted));
    b.put_contact("c", nullptr, contact("+12125550007", "/lists/b.csv", ContactState::exhausted));
    REQUIRE(store->write(b, true).ok());
    return store;
}

}  // namespace

TEST_CASE("lists: figures per list, and a list named by its file name or its whole path") {
    test::TempDir dir;
    auto store = filled(dir.file("db"));
    const auto lists = list_summaries(*store, "c");
    REQUIRE(lists.size() == 3);
    CHECK(lists[0].source == "/lists/a.csv");
    CHECK(lists[0].contacts == 5);
    CHECK(lists[0].by_state[static_cast<int>(ContactState::exhausted)] == 1);
    CHECK(lists[0].by_state[static_cast<int>(ContactState::pending)] == 1);
    CHECK(lists[0].attempted == 4);
    CHECK(lists[0].attempts == 12);
    std::string error;
    CHECK(resolve_list(lists, "b.csv", &error) == "/lists/b.csv");
    CHECK(resolve_list(lists, "/other/a.csv", &error) == "/other/a.csv");
    CHECK(resolve_list(lists, "a.csv", &error).empty());
    CHECK(error.find("names several lists") != std::string::npos);
    CHECK(resolve_list(lists, "c.csv", &error).empty());
    CHECK(error.find("/lists/b.csv") != std::string::npos);
}

TEST_CASE("lists reset: exhausted contacts start over, keeping what the rules look back on") {
    test::TempDir dir;
    auto store = filled(dir.file("db"));
    ListChange change;
    change.source = "/lists/a.csv";
    const auto phones = list_phones(*store, "c", change);
    // The exhausted one, and the one on a call (to be counted, not touched).
    CHECK(phones == std::vector<std::string>{"+12125550001", "+12125550003"});
    ListChangeCounts counts;
    REQUIRE(apply_list_change(*store, "c", phones, change, Timestamp(Seconds(5'000)), counts, true)
                .ok());
    CHECK(counts.changed == 1);
    CHECK(counts.in_flight == 1);
    auto c = store->contact("c", "+12125550001");
    REQUIRE(c);
    CHECK(c->state == ContactState::pending);
    CHECK(c->attempts == 0);
    CHECK(c->outcome_counts[1] == 0);
    CHECK(c->final_reason.empty());
    CHECK(c->next_eligible == 5'000);
    CHECK(c->recent_attempts == std::vector<std::int64_t>{900, 950, 990});
    // It is in the due index again, where the hopper looks.
    auto cursor = store->due_cursor("c", "America/New_York", 10'000);
    std::vector<std::string> due;
    for (; cursor->valid(); cursor->next()) due.push_back(cursor->entry().phone);
    CHECK(due == std::vector<std::string>{"+12125550005", "+12125550001"});
    // Untouched: on a call, done (not asked for), DNC, and the other list's of the same name.
    CHECK(store->contact("c", "+12125550003")->state == ContactState::in_flight);
    CHECK(store->contact("c", "+12125550002")->state == ContactState::done);
    CHECK(store->contact("c", "+12125550004")->state == ContactState::dnc);
    CHECK(store->contact("c", "+12125550006")->state == ContactState::exhausted);
    // Done contacts only when asked; DNC never.
    std::string error;
    CHECK(parse_reset_states("exhausted,done", &change.states, &error));
    CHECK(change.states.size() == 2);
    CHECK_FALSE(parse_reset_states("done,dnc", &change.states, &error));
    CHECK(error.find("never reset") != std::string::npos);
    CHECK_FALSE(parse_reset_states("finished", &change.states, &error));
    CHECK_FALSE(parse_reset_states(",", &change.states, &error));
}

TEST_CASE("lists remove: a list's contacts go with their due entries, those on a call stay") {
    test::TempDir dir;
    auto store = filled(dir.file("db"));
    ListChange change;
    change.action = ListAction::remove;
    change.source = "/lists/a.csv";
    const auto phones = list_phones(*store, "c", change);
    CHECK(phones.size() == 5);
    ListChangeCounts counts;
    REQUIRE(apply_list_change(*store, "c", phones, change, Timestamp(Seconds(5'000)), counts, true)
                .ok());
    CHECK(counts.changed == 4);
    CHECK(counts.in_flight == 1);
    CHECK_FALSE(store->contact("c", "+12125550001"));
    CHECK_FALSE(store->contact("c", "+12125550005"));
    CHECK(store->contact("c", "+12125550003"));
    CHECK(store->contact("c", "+12125550006"));
    auto cursor = store->due_cursor("c", "America/New_York", 10'000);
    CHECK_FALSE(cursor->valid());
}

TEST_CASE("outpace lists: show, reset and remove on a store no engine holds") {
    test::TempDir dir;
    filled(dir.file("db"));  // closed again: the CLI opens the store itself
    const std::string bin = std::string(OUTPACE_BINARY) + " lists ";
    const std::string args = " --data " + dir.file("db") + " --campaign c";
    auto r = test::run(bin + "show" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("penetration") != std::string::npos);
    CHECK(r.out.find("b.csv") != std::string::npos);
    r = test::run(bin + "show --json" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["lists"].size() == 3);
    CHECK(j["lists"][1]["list"] == "/lists/b.csv");
    CHECK(j["lists"][0]["states"]["exhausted"] == 1);
    CHECK(j["lists"][0]["states"]["in_flight"] == 1);

    r = test::run(bin + "reset --list a.csv" + args);
    CHECK(r.status == 1);
    CHECK(r.out.find("names several lists") != std::string::npos);
    r = test::run(bin + "reset --list /lists/a.csv --states exhausted,done" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK_MESSAGE(r.out.find("/lists/a.csv: 2 contacts back to pending through the store; 1 on a "
                             "call now were left alone") != std::string::npos,
                  r.out);
    r = test::run(bin + "reset --list b.csv --states dnc" + args);
    CHECK(r.status == 2);
    CHECK(r.out.find("never reset") != std::string::npos);
    // Removing asks for --yes.
    r = test::run(bin + "remove --list b.csv" + args);
    CHECK(r.status == 2);
    CHECK(r.out.find("--yes") != std::string::npos);
    r = test::run(bin + "remove --list b.csv --yes" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("1 contacts removed") != std::string::npos);
    r = test::run(bin + "show --json" + args);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto after = nlohmann::json::parse(r.out);
    REQUIRE(after["lists"].size() == 2);
    CHECK(after["lists"][0]["states"]["pending"] == 3);
    // A store that is not there is refused, not created.
    r = test::run(bin + "reset --list b.csv --data " + dir.file("none") + " --campaign c");
    CHECK(r.status == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("none")));
}

TEST_CASE("contacts import keeps a list by its full path, wherever the command ran") {
    test::TempDir dir;
    const std::string examples = std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/";
    REQUIRE(test::run("cp -r " + examples + "prompts " + examples + "lists " + dir.path()).status ==
            0);
    dir.write("spring.yaml", test::read_file(test::example("telemarketing.yaml")));
    dir.write("monday.csv", "phone\n2125550123\n");
    auto r = test::run("cd " + dir.path() + " && " + OUTPACE_BINARY +
                       " contacts import --data data --campaign spring.yaml ./lists/../monday.csv");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = test::run(std::string(OUTPACE_BINARY) + " lists show --json --data " + dir.file("data") +
                  " --campaign spring-renewals");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(nlohmann::json::parse(r.out)["lists"][0]["list"] == dir.file("monday.csv"));
}
