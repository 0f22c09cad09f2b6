// docs/agent-protocol.md is the desktops' contract: its table of engine → desktop messages is
// compared with what the engine really sends over a whole preview session, field by field, so the
// two cannot drift apart again (a `hangup` once went out without the `by` the table promised).
// The control socket's table in docs/engine.md is held to the engine's replies the same way.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>

#include "tests/agent_rig.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"
#include "tests/monitor_rig.h"

using namespace outpace;
using namespace outpace::test;

namespace {

struct DocRow {
    std::set<std::string> fields, optional;
};

std::set<std::string> ticked(const std::string& cell) {
    std::set<std::string> out;
    static const std::regex word("`([a-z_]+)`");
    for (std::sregex_iterator i(cell.begin(), cell.end(), word), end; i != end; ++i)
        out.insert((*i)[1]);
    return out;
}

// A table of docs/agent-protocol.md under `heading`: the name in the first column -> the fields
// in column `fields` and the optional ones in the column after it.
std::map<std::string, DocRow> documented(const std::string& heading, std::size_t fields) {
    const auto doc = read_file(std::string(OUTPACE_SOURCE_DIR) + "/docs/agent-protocol.md");
    const auto start = doc.find(heading);
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("\n## ", start + 1);
    std::istringstream section(doc.substr(start, end - start));
    std::map<std::string, DocRow> rows;
    for (std::string line; std::getline(section, line);) {
        if (line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells;
        std::istringstream parts(line);
        for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(cell);
        REQUIRE(cells.size() >= fields + 3);
        const auto name = ticked(cells[1]);
        REQUIRE(name.size() == 1);
        rows[*name.begin()] = {ticked(cells[fields]), ticked(cells[fields + 1])};
    }
    return rows;
}

// The "Engine → desktop" table: type | fields | optional fields | meaning.
std::map<std::string, DocRow> documented_messages() {
    return documented("## Engine → desktop", 2);
}

// The "Events (PUB)" table: event | topic | fields | optional fields | meaning.
std::map<std::string, DocRow> documented_events() {
    return documented("## Events (PUB)", 3);
}

// One message against its row of the table: every field the table promises is there, nothing
// is sent that it does not list. Returns the message's type.
std::string check_message(const std::map<std::string, DocRow>& docs, const nlohmann::json& m) {
    const std::string type = m.value("type", "");
    INFO(m.dump());
    auto row = docs.find(type);
    REQUIRE_MESSAGE(row != docs.end(), "'" << type << "' is not in the table");
    for (const auto& field : row->second.fields)
        CHECK_MESSAGE(m.contains(field), "'" << type << "' without '" << field << "'");
    for (const auto& item : m.items()) {
        const std::string key = item.key();
        const bool listed = key == "type" || row->second.fields.count(key) > 0 ||
                            row->second.optional.count(key) > 0;
        CHECK_MESSAGE(listed,
                      "'" << type << "' sends '" << key << "', which the table does not list");
    }
    return type;
}

}  // namespace

TEST_CASE("protocol docs: every event the engine publishes is in the table, as published") {
    const auto docs = documented_events();
    REQUIRE(docs.size() == 7);
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE(hello.error.empty());
    sim.carrier([&](const ScriptedSip::Invite&) {
        return CarrierPlan{400ms, 200, true, hello.pcm, 6s};
    });
    sim.start();
    // A shift in short: login, ready, a customer connected and hung up, a disposition, a pause,
    // a logout.
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"ready"})");
    for (int i = 0; i < 100 && !sim.desk().first("d", "offer"); ++i) sim.run_for(50ms);
    REQUIRE(sim.desk().first("d", "offer"));
    sim.desk().request("d", R"({"type":"hold"})");  // the customer on hold for a moment
    sim.run_for(500ms);
    sim.desk().request("d", R"({"type":"unhold"})");
    sim.run_for(8s);
    const auto wrap = sim.desk().first("d", "wrapup");
    REQUIRE(wrap);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" +
                                std::to_string(wrap->body["attempt"].get<std::uint64_t>()) +
                                R"(,"code":"SALE"})");
    sim.desk().request("d", R"({"type":"pause","reason":"lunch"})");
    sim.desk().request("d", R"({"type":"logout"})");
    sim.run_for(100ms);

    std::set<std::string> seen;
    for (const auto& m : sim.desk().events()) {
        const auto& e = m.body["event"];
        const std::string type = e.value("event", "");
        CAPTURE(e.dump());
        REQUIRE_MESSAGE(docs.count(type), "event '" << type << "' is not in the table");
        seen.insert(type);
        const auto& row = docs.at(type);
        for (const auto& f : row.fields) CHECK_MESSAGE(e.contains(f), "missing " << f);
        for (const auto& [k, v] : e.items())
            if (k != "event")
                CHECK_MESSAGE((row.fields.count(k) || row.optional.count(k)),
                              "'" << k << "' is sent but not documented");
        // The topic the table names.
        const std::string topic = m.body["topic"];
        CHECK(topic == (type == "agent" ? "agent." + e.value("agent", "")
                                        : "call." + e.value("campaign", "")));
    }
    // Supervisors' monitoring events: held to the table by the monitoring test below.
    for (const auto& [type, row] : docs)
        if (type != "monitor" && type != "monitor_ended" && type != "transfer")
            CHECK_MESSAGE(seen.count(type), "never saw " << type);
    // A pause says why; the session's end is published.
    bool paused_with_reason = false, logged_out = false;
    for (const auto& m : sim.desk().events()) {
        const auto& e = m.body["event"];
        paused_with_reason |= e.value("state", "") == "paused" && e.value("reason", "") == "lunch";
        logged_out |= e.value("state", "") == "logged_out";
    }
    CHECK(paused_with_reason);
    CHECK(logged_out);
}

TEST_CASE("protocol docs: every message the engine sends a desktop is in the table, as sent") {
    const auto docs = documented_messages();
    REQUIRE(docs.size() >= 10);

    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    const int agents_port = free_port();
    rig.mode("preview");
    rig.campaign("contract", "uas", 2, "agents: {wrapup_max: 2s}\n", 0);
    auto engine = rig.start(agents_section(agents_port, 0, "5s"));
    REQUIRE(wait_tcp_listening(agents_port));
    Desk desk(agents_port, "desk-contract");
    auto got = [&](const std::string& type, std::chrono::milliseconds limit = 5s) {
        auto m = desk.expect(type, limit);
        REQUIRE_MESSAGE(!m.is_null(), "no '" << type << "' came");
        return m;
    };
    desk.send(json{{"type", "login"},
                   {"agent", "c1"},
                   {"phone", "sip:c1@127.0.0.1:" + std::to_string(phones.port)}});
    got("logged_in");
    got("state");
    desk.send(json{{"type", "heartbeat"}});
    got("heartbeat");
    desk.send_text("not json");
    got("error");
    desk.send(json{{"type", "dial"}});
    got("error");
    desk.send(json{{"type", "ready"}});
    got("state");

    // A call with a disposition, a pause asked for during it.
    desk.send(json{{"type", "next"}});
    got("preview");
    auto offer = desk.dial_previewed();
    got("connected");
    // The call controls, over the wire.
    for (const char* control : {"hold", "unhold", "mute", "unmute"}) {
        desk.send(json{{"type", control}});
        got("controls");
    }
    desk.send(json{{"type", "dtmf"}, {"digits", "1#"}});
    got("keys_sent");
    desk.send(json{{"type", "pause"}, {"reason", "coffee"}});
    got("pause_pending");
    desk.send(json{{"type", "hangup"}});
    got("hangup");
    got("wrapup");
    std::string code;
    for (const auto& d : offer["dispositions"])
        if (!d["callback"].get<bool>() && !d["dnc"].get<bool>()) code = d["code"];
    REQUIRE(!code.empty());
    desk.send(json{{"type", "disposition"}, {"attempt", offer["attempt"]}, {"code", code}});
    got("disposed");

    // A second call, a logout asked for during it, and a wrap-up left to run out.
    desk.send(json{{"type", "ready"}});
    desk.send(json{{"type", "next"}});
    got("preview");
    desk.dial_previewed();
    got("connected");
    desk.send(json{{"type", "logout"}});
    got("logout_pending");
    desk.send(json{{"type", "hangup"}});
    got("hangup");
    got("wrapup_timeout", 10s);
    got("logged_out");

    std::set<std::string> seen;
    for (const auto& m : desk.received()) seen.insert(check_message(docs, m));
    // The session met every message but the customer's key (SIPp's customer presses none) and
    // a supervisor's (this engine has no agents file): the tests below hold those to the table.
    std::set<std::string> missing;
    for (const auto& [type, row] : docs)
        if (!seen.count(type) && type != "dtmf" && type != "supervisor" && type != "message" &&
            type != "calls" && type != "monitoring" && type != "monitor_ended" &&
            type != "transfer" && type != "message_sent")
            missing.insert(type);
    CHECK_MESSAGE(missing.empty(), "not met in this session: " << missing.size());
}

TEST_CASE("protocol docs: the customer's keys reach the desktop as the table says") {
    const auto docs = documented_messages();
    Sim::Options o;
    o.agents = true;
    Sim sim(o);
    auto hello = amd::read_audio(corpus_dir() + "/human-short-000.wav");
    REQUIRE(hello.error.empty());
    sim.answer_all(hello.pcm);
    sim.start();
    sim.desk().request("d", R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5998"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"ready"})");
    for (int i = 0; i < 100 && !sim.desk().first("d", "offer"); ++i) sim.run_for(50ms);
    REQUIRE(sim.desk().first("d", "offer"));
    for (auto* call : sim.calls()) sim.audio(*call)->press('4');
    sim.run_for(100ms);
    const auto key = sim.desk().first("d", "dtmf");
    REQUIRE(key);
    CHECK(check_message(docs, key->body) == "dtmf");
    CHECK(key->body["digit"] == "4");
}

TEST_CASE("protocol docs: monitoring and transfers, their messages and events as the tables say") {
    const auto messages = documented_messages();
    const auto events = documented_events();
    MonitorFloor f;
    auto& sim = f.sim;
    sim.desk().request("b", R"({"type":"calls"})");
    f.monitor("listen");
    f.speak(100ms);
    f.monitor("barge");
    sim.desk().request("b", R"({"type":"unmonitor"})");
    sim.desk().request("x", R"({"type":"message","text":"a word, boss?"})");
    // A consult, a conference and the hand-over to a2.
    sim.desk().request("x", R"({"type":"ready"})");
    sim.run_for(100ms);
    sim.desk().request("d", R"({"type":"consult","agent":"a2"})");
    f.speak(100ms);
    sim.desk().request("d", R"({"type":"conference"})");
    sim.desk().request("d", R"({"type":"complete"})");
    f.speak(100ms);
    sim.desk().request("d", R"({"type":"disposition","attempt":)" + std::to_string(f.attempt) +
                                R"(,"code":"NOT_INTERESTED"})");  // alice's part
    std::set<std::string> seen;
    for (const char* desk : {"b", "d", "x"})
        for (const auto& m : sim.desk().to(desk)) seen.insert(check_message(messages, m.body));
    for (const char* type :
         {"calls", "monitoring", "monitor_ended", "transfer", "message", "message_sent"})
        CHECK_MESSAGE(seen.count(type), "never saw " << type);
    CHECK(last_to(sim, "x", "offer").contains("transferred_by"));
    CHECK(last_to(sim, "d", "hangup")["by"] == "transfer");
    // The list's entries carry what the `calls` row says.
    const auto calls = last_to(sim, "b", "calls")["calls"];
    REQUIRE(calls.size() == 1);
    for (const char* field :
         {"attempt", "agent", "campaign", "phone", "state", "duration_s", "monitors"})
        CHECK_MESSAGE(calls[0].contains(field), "a call without " << field);
    std::set<std::string> published;
    for (const auto& m : sim.desk().events()) {
        const auto& e = m.body["event"];
        const std::string type = e.value("event", "");
        if (type != "monitor" && type != "monitor_ended" && type != "transfer" &&
            type != "disposition")
            continue;
        CAPTURE(e.dump());
        published.insert(type);
        const auto& row = events.at(type);
        for (const auto& field : row.fields) CHECK_MESSAGE(e.contains(field), "missing " << field);
        for (const auto& [k, v] : e.items())
            if (k != "event")
                CHECK_MESSAGE((row.fields.count(k) || row.optional.count(k)),
                              "'" << k << "' is sent but not documented");
        CHECK(m.body["topic"] == "call.sim");
    }
    CHECK(published.size() == 4);
    // a1's part's disposition is published as such.
    bool part = false;
    for (const auto& m : sim.desk().events())
        part |= m.body["event"].value("event", "") == "disposition" &&
                m.body["event"].value("part", false) && m.body["event"]["agent"] == "a1";
    CHECK(part);
}

TEST_CASE("protocol docs: the control socket's table lists every request, and replies as it says") {
    // docs/engine.md, "The control socket": command(s) | other fields | reply fields.
    const auto doc = read_file(std::string(OUTPACE_SOURCE_DIR) + "/docs/engine.md");
    const auto start = doc.find("## The control socket");
    REQUIRE(start != std::string::npos);
    std::istringstream section(doc.substr(start, doc.find("\n## ", start + 1) - start));
    std::map<std::string, std::set<std::string>> replies;  // command -> reply fields promised
    for (std::string line; std::getline(section, line);) {
        if (line.rfind("| `", 0) != 0 || line.rfind("| `command` |", 0) == 0) continue;
        std::vector<std::string> cells;
        std::istringstream parts(line);
        for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(cell);
        REQUIRE(cells.size() >= 4);
        // Command names may hold '-' (reload-agents).
        static const std::regex command_name("`([a-z_-]+)`");
        for (std::sregex_iterator i(cells[1].begin(), cells[1].end(), command_name), end; i != end;
             ++i)
            replies[(*i)[1]] = ticked(cells[3]);
    }
    // The commands the engine names when it does not know one are exactly the table's.
    Sim::Options o;
    o.contacts = 3;
    Sim sim(o);
    sim.start();
    const auto unknown = nlohmann::json::parse(handle_control_request(
        sim.engine(), R"({"command":"frobnicate"})"))["error"]
                             .get<std::string>();
    std::set<std::string> known;
    {
        std::istringstream list(
            unknown.substr(unknown.find('(') + 1, unknown.find(')') - unknown.find('(') - 1));
        for (std::string c; std::getline(list, c, ',');) known.insert(c.substr(c[0] == ' '));
    }
    std::set<std::string> in_table;
    for (const auto& [command, fields] : replies) in_table.insert(command);
    auto joined = [](const std::set<std::string>& set) {
        std::string out;
        for (const auto& c : set) out += c + " ";
        return out;
    };
    CHECK_MESSAGE(known == in_table, unknown << " | " << joined(known) << "| " << joined(in_table));

    // One request of each (shutdown last), and every reply against its row.
    const std::vector<std::pair<std::string, std::string>> requests = {
        {"status", R"({"command":"status"})"},
        {"pause", R"({"command":"pause","campaign":"sim"})"},
        {"resume", R"({"command":"resume","campaign":"sim"})"},
        {"reload", R"({"command":"reload","campaign":"sim"})"},
        {"reload-agents", R"({"command":"reload-agents"})"},
        {"dnc", R"({"command":"dnc","action":"add","scope":"*","phones":["+14155559999"]})"},
        {"import", R"({"command":"import","campaign":"other","action":"definition",
                       "path":"/x/other.yaml","yaml":"name: other\n"})"},
        {"import", R"({"command":"import","campaign":"sim","action":"contacts","client":"",
                       "contacts":[{"phone":"+14155551000","zones":"UTC"},
                                   {"phone":"+14155559999","zones":"UTC"}]})"},
        {"import", R"({"command":"import","campaign":"sim","action":"done","rows":2})"},
        {"lists", R"({"command":"lists","action":"reset","campaign":"sim","list":"x",
                      "phones":["+14155551001"]})"},
        {"message", R"({"command":"message","text":"hello","from":"sue"})"},
        {"stop", R"({"command":"stop","campaign":"sim"})"},
        {"shutdown", R"({"command":"shutdown"})"},
    };
    std::map<std::string, std::set<std::string>> seen;  // command -> fields its ok replies had
    for (const auto& [command, request] : requests) {
        const auto reply = nlohmann::json::parse(handle_control_request(sim.engine(), request));
        INFO(command << ": " << reply.dump());
        REQUIRE(replies.count(command));
        REQUIRE(reply.contains("ok"));
        if (reply["ok"] != true) {
            CHECK(reply.contains("error"));
            continue;
        }
        for (const auto& item : reply.items()) {
            if (item.key() == "ok" || item.key() == "error") continue;
            seen[command].insert(item.key());
            CHECK_MESSAGE(replies[command].count(item.key()),
                          "'" << command << "' replies '" << item.key()
                              << "', which the table does not list");
        }
    }
    // `relay` in status: exactly the fields the paragraph under the table lists.
    {
        const auto doc = read_file(std::string(OUTPACE_SOURCE_DIR) + "/docs/engine.md");
        std::smatch m;
        REQUIRE(std::regex_search(doc, m, std::regex("`relay` is `\\{([a-z0-9_, \n]+)\\}`")));
        std::string list = m[1];
        std::replace(list.begin(), list.end(), '\n', ' ');
        std::set<std::string> promised, sent;
        std::istringstream in(list);
        for (std::string f; std::getline(in, f, ',');)
            promised.insert(f.substr(f.find_first_not_of(' ')));
        const auto status =
            nlohmann::json::parse(handle_control_request(sim.engine(), R"({"command":"status"})"));
        for (const auto& item : status["relay"].items()) sent.insert(item.key());
        CHECK(sent == promised);
    }
    for (const auto& [command, fields] : replies)
        for (const auto& field : fields) {
            // Said only while the store catches up; `ok` is in every reply.
            if (field == "busy" || field == "ok") continue;
            CHECK_MESSAGE(seen[command].count(field), "the table promises '"
                                                          << field << "' in the reply to '"
                                                          << command << "', which did not come");
        }
}

TEST_CASE(
    "protocol docs: a supervisor's sign-in, a message to an agent and the floor in status, "
    "as the tables say") {
    const auto docs = documented_messages();
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    rig.campaign("floor", "uas_busy.xml", 1, "", 0);
    const auto accounts = rig.write(
        "agents.yaml", "agents:\n  - id: alice\n    desktop_password: \"" + quick_hash("a-pw") +
                           "\"\n    phone: sip:alice@127.0.0.1:" + std::to_string(phones.port) +
                           "\n  - id: sue\n    name: Sue Park\n    role: supervisor\n"
                           "    desktop_password: \"" +
                           quick_hash("s-pw") + "\"\n    phone: sip:sue@127.0.0.1:" +
                           std::to_string(phones.port) + "\n");
    const int agents_port = free_port(), control_port = free_port();
    auto engine = start_engine(rig, agents_port, accounts, control_port);
    Desk alice(agents_port, "desk-alice"), console(agents_port, "console-sue");
    alice.send(json{{"type", "login"}, {"agent", "alice"}, {"password", "a-pw"}});
    REQUIRE(!alice.expect("logged_in", 10s).is_null());
    // The supervisor signs in; an agent may not.
    console.send(json{{"type", "supervise"}, {"agent", "alice"}, {"password", "a-pw"}});
    const auto refused = console.expect("error", 10s);
    REQUIRE(!refused.is_null());
    CHECK(refused["reason"] == "agent alice is not a supervisor (its role in the agents file)");
    console.send(json{{"type", "supervise"}, {"agent", "sue"}, {"password", "s-pw"}});
    const auto ok = console.expect("supervisor", 10s);
    REQUIRE(!ok.is_null());
    CHECK(check_message(docs, ok) == "supervisor");
    CHECK(ok["name"] == "Sue Park");
    // A message through the control socket reaches the agent's desktop.
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(control_port);
    std::string reply, error;
    REQUIRE(control_request(endpoint,
                            R"({"command":"message","agent":"alice","from":"sue","text":"hi"})",
                            5000, &reply, &error));
    CHECK(json::parse(reply)["sent"] == 1);
    const auto message = alice.expect("message", 5s);
    REQUIRE(!message.is_null());
    CHECK(check_message(docs, message) == "message");
    CHECK(message["from"] == "sue");
    CHECK(message["text"] == "hi");
    // The floor: each agent as docs/engine.md's control socket section lists it.
    REQUIRE(control_request(endpoint, R"({"command":"status"})", 5000, &reply, &error));
    const auto status = json::parse(reply);
    REQUIRE(status["agents"].size() == 1);
    const auto doc = read_file(std::string(OUTPACE_SOURCE_DIR) + "/docs/engine.md");
    std::smatch m;
    REQUIRE(std::regex_search(doc, m, std::regex("each of `agents` is `\\{([a-z_, \n]+)\\}`")));
    std::set<std::string> promised;
    {
        std::string list = m[1];
        std::replace(list.begin(), list.end(), '\n', ' ');
        std::istringstream in(list);
        for (std::string f; std::getline(in, f, ',');)
            promised.insert(f.substr(f.find_first_not_of(' ')));
    }
    std::set<std::string> sent;
    for (const auto& item : status["agents"][0].items()) sent.insert(item.key());
    // `reason` comes with a pause only.
    CHECK(sent.erase("reason") == (status["agents"][0]["state"] == "paused" ? 1u : 0u));
    CHECK(sent == promised);
    CHECK(status["agents"][0]["agent"] == "alice");
}
