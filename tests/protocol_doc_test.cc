// docs/agent-protocol.md is the desktops' contract: its table of engine → desktop messages is
// compared with what the engine really sends over a whole preview session, field by field, so the
// two cannot drift apart again (a `hangup` once went out without the `by` the table promised).
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>

#include "tests/agent_rig.h"

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

// The "Engine → desktop" table: type -> its fields and optional fields.
std::map<std::string, DocRow> documented_messages() {
    const auto doc = read_file(std::string(OUTPACE_SOURCE_DIR) + "/docs/agent-protocol.md");
    const auto start = doc.find("## Engine → desktop");
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("\n## ", start + 1);
    std::istringstream section(doc.substr(start, end - start));
    std::map<std::string, DocRow> rows;
    for (std::string line; std::getline(section, line);) {
        if (line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells;
        std::istringstream parts(line);
        for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(cell);
        REQUIRE(cells.size() >= 5);
        const auto type = ticked(cells[1]);
        REQUIRE(type.size() == 1);
        rows[*type.begin()] = {ticked(cells[2]), ticked(cells[3])};
    }
    return rows;
}

}  // namespace

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
    for (const auto& m : desk.received()) {
        const std::string type = m.value("type", "");
        INFO(m.dump());
        auto row = docs.find(type);
        REQUIRE_MESSAGE(row != docs.end(), "'" << type << "' is not in the table");
        seen.insert(type);
        for (const auto& field : row->second.fields)
            CHECK_MESSAGE(m.contains(field), "'" << type << "' without '" << field << "'");
        for (const auto& item : m.items()) {
            const std::string key = item.key();
            const bool listed = key == "type" || row->second.fields.count(key) > 0 ||
                                row->second.optional.count(key) > 0;
            CHECK_MESSAGE(listed,
                          "'" << type << "' sends '" << key << "', which the table does not list");
        }
    }
    // The session met every message but the ones a preview session cannot (a live answer's
    // offer comes in preview too).
    std::set<std::string> missing;
    for (const auto& [type, row] : docs)
        if (!seen.count(type)) missing.insert(type);
    CHECK_MESSAGE(missing.empty(), "not met in this session: " << missing.size());
}
