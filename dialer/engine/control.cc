#include "dialer/engine/control.h"

#include "campaigns/json_text.h"
#include "dialer/loop_event.h"

#include <event2/event.h>

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "dialer/engine/curve.h"
#include "dialer/engine/engine.h"
#include "dialer/engine/engine_util.h"

namespace outpace {
namespace {

nlohmann::json status_json(const CampaignStatus& s) {
    return {{"campaign", s.name},
            {"state", s.state},
            {"dialled", s.dialled},
            {"in_progress", s.in_progress},
            {"answered", s.answered},
            {"humans", s.humans},
            {"machines", s.machines},
            {"fax", s.fax},
            {"unknown", s.unknown},
            {"connected", s.connected},
            {"waiting", s.waiting},
            {"contacts_left", s.contacts_left},
            {"abandoned", s.abandoned},
            {"busy", s.busy},
            {"no_answer", s.no_answer},
            {"failed", s.failed},
            {"invalid", s.invalid},
            {"carrier_errors", s.carrier_errors},
            {"window_live", s.window_live},
            {"window_abandoned", s.window_abandoned},
            {"max_abandon_rate", s.max_abandon_rate},
            {"rtp_packets", s.rtp_packets},
            {"rtp_lost", s.rtp_lost},
            {"agents",
             {{"ready", s.agents_ready},
              {"talking", s.agents_talking},
              {"wrapup", s.agents_wrapup},
              {"paused", s.agents_paused}}},
            {"heard_ms_median", s.heard_ms_median},
            {"heard_ms_p99", s.heard_ms_p99},
            {"pacing",
             {{"started", s.pacing_start},
              {"decision", s.pacing_reason},
              {"calibration", s.pacing_calibration},
              {"agents", s.pacing_agents}}},
            {"surveys",
             {{"lines", s.survey_lines},
              {"in_progress", s.surveys},
              {"complete", s.surveys_complete},
              {"incomplete", s.surveys_incomplete}}}};
}

class ZmqControl final : public ControlServer {
  public:
    ZmqControl(event_base* loop, Engine& engine, const CurveConfig& curve)
        : engine_(engine), socket_(ctx_, zmq::socket_type::rep) {
        if (curve.enabled()) {
            guard_ = std::make_unique<CurveGuard>(ctx_, curve);
            guard_->protect(socket_);
        }
        socket_.set(zmq::sockopt::linger, 0);
        // A request is a small JSON object, a chunk of at most 10,000 do-not-call numbers or a
        // chunk of an imported list (the CLI sends at most 500 contacts, about 128 KiB).
        socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{1024 * 1024});
        loop_ = loop;
    }
    bool bind(const std::string& endpoint, std::string* error) {
        try {
            bind_private(socket_, endpoint);
        } catch (const zmq::error_t& e) {
            *error = "control socket " + endpoint + ": " + e.what();
            return false;
        }
        // Answered as soon as a request comes (a list import sends one chunk after another):
        // ZeroMQ's descriptor says "something changed", edge-like, so every wake-up drains, and
        // a timer drains once more in case our own send consumed a wake-up.
        read_ = LoopEvent(loop_, socket_.get(zmq::sockopt::fd), EV_READ | EV_PERSIST,
                          &ZmqControl::on_poll, this);
        poll_ = LoopEvent(loop_, -1, EV_PERSIST, &ZmqControl::on_poll, this);
        if (!read_.add() || !poll_.add(std::chrono::milliseconds(50))) {
            *error = "control socket " + endpoint + ": cannot watch it on the event loop";
            return false;
        }
        return true;
    }

  private:
    static void on_poll(evutil_socket_t, short, void* self) {
        auto* c = static_cast<ZmqControl*>(self);
        if (c->guard_) c->guard_->serve();
        for (int i = 0; i < 16; ++i) {
            zmq::message_t request;
            zmq::recv_result_t got;
            try {
                got = c->socket_.recv(request, zmq::recv_flags::dontwait);
            } catch (const zmq::error_t&) {
                return;
            }
            if (!got) return;
            const std::string reply = handle_control_request(c->engine_, request.to_string());
            try {
                c->socket_.send(zmq::buffer(reply), zmq::send_flags::dontwait);
            } catch (const zmq::error_t&) {
            }
        }
    }

    Engine& engine_;
    zmq::context_t ctx_;
    std::unique_ptr<CurveGuard> guard_;
    zmq::socket_t socket_;
    event_base* loop_ = nullptr;
    LoopEvent read_, poll_;
};

}  // namespace

// A supervisor's message to agents' desktops: {"command": "message", "text", "from", and
// "agent" (one agent) or "campaign" (its agents; neither: everyone)}.
std::string message_request(Engine& engine, const nlohmann::json& req) {
    auto error = [](const std::string& why) {
        return json_text(nlohmann::json{{"ok", false}, {"error", why}});
    };
    for (const char* key : {"text", "from", "agent", "campaign"})
        if (req.contains(key) && !req[key].is_string())
            return error(std::string("'") + key + "' must be a string");
    const std::string text = req.value("text", std::string());
    const std::string from = req.value("from", std::string());
    const std::string agent = req.value("agent", std::string());
    const std::string campaign = req.value("campaign", std::string());
    if (text.empty() || text.size() > 2000) return error("'text' must be 1 to 2000 bytes");
    if (from.empty() || from.size() > 64)
        return error("'from' must be 1 to 64 bytes: who sends it");
    if (!agent.empty() && !campaign.empty()) return error("'message' takes 'agent' or 'campaign'");
    if (!campaign.empty()) {
        const auto runs = engine.status();
        if (std::none_of(runs.begin(), runs.end(),
                         [&](const CampaignStatus& s) { return s.name == campaign; }))
            return error("no campaign '" + campaign + "' in this engine");
    }
    const std::size_t sent = engine.message_agents(agent, campaign, from, text);
    if (!agent.empty() && sent == 0) return error("agent " + agent + " is not logged in");
    return json_text(nlohmann::json{{"ok", true}, {"sent", sent}});
}

std::string status_report_json(Engine& engine) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : engine.status()) list.push_back(status_json(s));
    const auto relay = engine.relay_figures();
    // Registered softphones: agent → its bindings (where from, until when, which device).
    nlohmann::json registrations = nlohmann::json::object();
    nlohmann::json locked = nlohmann::json::array();
    if (const Registrar* reg = engine.registrar()) {
        const auto now = engine.now();
        for (const auto& agent : reg->agents()) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& b : reg->bindings(agent))
                list.push_back(
                    {{"contact", b.uri},
                     {"source", b.source_ip + ":" + std::to_string(b.source_port)},
                     {"transport", b.transport},
                     {"expires_in_s",
                      std::chrono::duration_cast<std::chrono::seconds>(b.expires - now).count()},
                     {"user_agent", b.user_agent},
                     {"missed_keepalives", b.missed_pings}});
            registrations[agent] = list;
        }
        for (const auto& ip : reg->locked_out()) locked.push_back(ip);
    }
    // Trunks: whether calls may leave on each, where they go, and its registration.
    nlohmann::json trunks = nlohmann::json::array();
    {
        const auto now = engine.now();
        for (const auto& [name, t] : engine.trunks()) {
            nlohmann::json addresses = nlohmann::json::array();
            for (const auto& target : t->targets())
                addresses.push_back(
                    {{"address", host_port(target.at.ip, target.at.port)},
                     {"transport", target.at.transport},
                     {"priority", target.at.priority},
                     {"weight", target.at.weight},
                     {"resting_s",
                      std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(
                                                 target.rest_until - now)
                                                 .count())}});
            nlohmann::json j = {
                {"trunk", name},          {"host", t->config().host},
                {"up", !t->resting(now)}, {"calls", t->in_progress()},
                {"addresses", addresses}, {"dns_failures_in_a_row", t->lookup_failures()}};
            if (t->registers())
                j["registered_for_s"] = std::max<long long>(
                    0, std::chrono::duration_cast<std::chrono::seconds>(t->registered_until() - now)
                           .count());
            trunks.push_back(std::move(j));
        }
    }
    // The agents, as a supervisors' wallboard shows them.
    nlohmann::json floor = nlohmann::json::array();
    for (const auto& a : engine.agent_floor()) {
        nlohmann::json j = {{"agent", a.agent},       {"name", a.name},
                            {"state", a.state},       {"state_s", a.state_s},
                            {"calls", a.calls},       {"occupancy", a.occupancy},
                            {"campaign", a.campaign}, {"attempt", a.attempt}};
        if (!a.reason.empty()) j["reason"] = a.reason;
        floor.push_back(std::move(j));
    }
    return json_text(nlohmann::json{{"ok", true},
                                    {"trunks", trunks},
                                    {"agents_logged_in", engine.agents_logged_in()},
                                    {"agents", floor},
                                    {"registrations", registrations},
                                    {"registration_lockouts", locked},
                                    {"relay",
                                     {{"packets", relay.packets},
                                      {"latency_p50_us", relay.p50_us},
                                      {"latency_p99_us", relay.p99_us},
                                      {"latency_max_us", relay.max_us},
                                      {"media_workers", relay.workers},
                                      {"on_workers", relay.on_workers},
                                      {"lent_to_workers", relay.lent},
                                      {"listening_on_workers", relay.listening},
                                      {"listened_on_workers", relay.listened}}},
                                    {"stopping", engine.stopping()},
                                    {"calls_in_progress", engine.calls_in_progress()},
                                    {"campaigns", list}});
}

namespace {
bool e164_shaped(const nlohmann::json& p) {
    if (!p.is_string()) return false;
    const auto& s = p.get_ref<const std::string&>();
    return s.size() >= 8 && s.size() <= 16 && s[0] == '+' && s[1] != '0' &&
           s.find_first_not_of("0123456789", 1) == std::string::npos;
}

bool short_text(const nlohmann::json& j, const char* key, std::size_t max, bool required = true) {
    if (!j.contains(key)) return !required;
    if (!j[key].is_string()) return false;
    const auto& s = j[key].get_ref<const std::string&>();
    return s.size() <= max && (!required || !s.empty()) && s.find('\0') == std::string::npos;
}

// {"command":"import","campaign":NAME,"action":"definition"|"contacts"|"done", ...} from
// `outpace contacts import` while this engine holds the store. The CLI reads the list, checks
// every row (libphonenumber, time zones, duplicates) and sends the new contacts in chunks of at
// most 2,000; the engine writes them between calls. "definition": {"path","yaml"}; "contacts":
// [{"phone","zones","source","line","fields":[[column,value],...]}]; "done": {"stored","rows"}
// for the engine's log.
std::string import_request(Engine& engine, const nlohmann::json& req) {
    auto error = [](const std::string& why) {
        return json_text(nlohmann::json{{"ok", false}, {"error", why}});
    };
    if (!short_text(req, "campaign", 200)) return error("'import' needs 'campaign'");
    const std::string campaign = req["campaign"];
    const auto action = req.value("action", std::string());
    if (action == "definition") {
        if (!short_text(req, "path", 4096) || !short_text(req, "yaml", 256 * 1024))
            return error("'definition' needs 'path' and 'yaml'");
        bool kept = false;
        const auto why = engine.save_imported_definition(
            campaign, {req["path"], req["yaml"], "import", std::time(nullptr)}, &kept);
        if (!why.empty()) return error(why);
        return json_text(nlohmann::json{{"ok", true}, {"kept_running_definition", kept}});
    }
    if (action == "done") {
        engine_log("contacts import into " + printable(campaign, 100) + ": " +
                   std::to_string(req.value("stored", 0)) + " contacts stored of " +
                   std::to_string(req.value("rows", 0)) + " rows, from " +
                   printable(req.value("list", std::string()), 200));
        return json_text(nlohmann::json{{"ok", true}});
    }
    if (action != "contacts") return error("'import' needs 'action': definition, contacts or done");
    if (!req.contains("contacts") || !req["contacts"].is_array() || req["contacts"].size() > 2'000)
        return error("'contacts' needs 'contacts': an array of at most 2,000 contacts");
    std::vector<Contact> contacts;
    contacts.reserve(req["contacts"].size());
    for (const auto& j : req["contacts"]) {
        if (!j.is_object() || !e164_shaped(j.value("phone", nlohmann::json())) ||
            !short_text(j, "zones", 512) || !short_text(j, "source", 4096, false) ||
            (j.contains("line") && !j["line"].is_number_unsigned()))
            return error("a contact needs 'phone' in E.164 and 'zones': " +
                         json_text(j).substr(0, 80));
        Contact c;
        c.phone = j["phone"];
        c.zones = j["zones"];
        c.source = j.value("source", std::string());
        c.line = j.value("line", 0u);
        if (j.contains("numbers")) {
            // A person's several numbers: [E.164, column] in dialling order, the first the key.
            const auto& ns = j["numbers"];
            if (!ns.is_array() || ns.empty() || ns.size() > 16)
                return error("'numbers' must be an array of 1 to 16 [number, column] pairs");
            for (const auto& n : ns) {
                if (!n.is_array() || n.size() != 2 || !e164_shaped(n[0]) || !n[1].is_string() ||
                    n[1].get_ref<const std::string&>().size() > 200)
                    return error("'numbers' must be an array of [number in E.164, column] pairs");
                c.numbers.push_back({n[0], n[1], false});
            }
            if (c.numbers.front().e164 != c.phone)
                return error("a contact's first number must be its 'phone'");
        }
        if (j.contains("fields")) {
            if (!j["fields"].is_array() || j["fields"].size() > 500)
                return error("'fields' must be an array of [column, value] pairs");
            for (const auto& f : j["fields"]) {
                if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string())
                    return error("'fields' must be an array of [column, value] pairs");
                c.fields.emplace_back(f[0], f[1]);
            }
        }
        contacts.push_back(std::move(c));
    }
    std::vector<ImportSink::Verdict> verdicts;
    if (!short_text(req, "client", 64, false)) return error("'client' must be a client's name");
    const auto why =
        engine.import_contacts(campaign, req.value("client", std::string()), contacts, verdicts);
    if (why == "busy")
        return json_text(nlohmann::json{
            {"ok", false}, {"busy", true}, {"error", "the store is catching up; send it again"}});
    if (!why.empty()) return error(why);
    nlohmann::json present = nlohmann::json::array(), dnc = nlohmann::json::array();
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        if (verdicts[i] == ImportSink::Verdict::present) present.push_back(i);
        if (verdicts[i] == ImportSink::Verdict::dnc) dnc.push_back(i);
    }
    return json_text(nlohmann::json{{"ok", true}, {"present", present}, {"dnc", dnc}});
}

// {"command":"dnc","action":"add"|"remove","scope":"*"|CAMPAIGN,"phones":[E.164...],
//  "source":TEXT,"at":UNIX_S} from `outpace dnc`. Bounded: at most 10,000 numbers a request,
// so that one request holds the loop for milliseconds, not the audio for a second.
std::string dnc_request(Engine& engine, const nlohmann::json& req) {
    auto error = [](const std::string& why) {
        return json_text(nlohmann::json{{"ok", false}, {"error", why}});
    };
    const auto action = req.value("action", std::string());
    if (action != "add" && action != "remove") return error("'dnc' needs 'action': add or remove");
    if (!req.contains("scope") || !req["scope"].is_string() ||
        req["scope"].get<std::string>().empty() ||
        req["scope"].get<std::string>().find('\0') != std::string::npos)
        return error("'dnc' needs 'scope': \"*\", \"client:NAME\" or a campaign's name");
    if (!req.contains("phones") || !req["phones"].is_array() || req["phones"].size() > 10'000)
        return error("'dnc' needs 'phones': an array of at most 10,000 numbers in E.164");
    std::vector<std::string> phones;
    for (const auto& p : req["phones"]) {
        // The CLI normalised them (libphonenumber is too slow to run 10,000 times on the
        // loop); the engine still refuses anything not shaped like E.164.
        if (!e164_shaped(p)) return error("not a number in E.164: " + json_text(p).substr(0, 40));
        phones.push_back(p);
    }
    const auto source = req.value("source", std::string());
    const auto at =
        req.contains("at") && req["at"].is_number_integer() ? req["at"].get<std::int64_t>() : 0;
    const auto why =
        engine.change_dnc(action == "remove", req["scope"], phones, source.substr(0, 500), at);
    if (why == "busy")
        return json_text(nlohmann::json{
            {"ok", false}, {"busy", true}, {"error", "the store is catching up; send it again"}});
    if (!why.empty()) return error(why);
    return json_text(nlohmann::json{{"ok", true}, {"count", phones.size()}});
}

// {"command":"lists","action":"reset"|"remove","campaign":NAME,"list":SOURCE,
//  "states":["exhausted",...],"phones":[E.164...]} from `outpace lists` while this engine holds
// the store: the CLI found the list's numbers; the engine changes those the change still fits.
// At most 10,000 numbers a request.
std::string lists_request(Engine& engine, const nlohmann::json& req) {
    auto error = [](const std::string& why) {
        return json_text(nlohmann::json{{"ok", false}, {"error", why}});
    };
    const auto action = req.value("action", std::string());
    if (action != "reset" && action != "remove")
        return error("'lists' needs 'action': reset or remove");
    if (!short_text(req, "campaign", 200) || !short_text(req, "list", 4096))
        return error("'lists' needs 'campaign' and 'list'");
    ListChange change;
    change.action = action == "reset" ? ListAction::reset : ListAction::remove;
    change.source = req["list"];
    if (change.action == ListAction::reset && req.contains("states")) {
        if (!req["states"].is_array() || req["states"].size() > kContactStates)
            return error("'states' must be an array of contact states");
        std::string text;
        for (const auto& st : req["states"]) {
            if (!st.is_string() || st.get_ref<const std::string&>().size() > 20)
                return error("'states' must be an array of contact states");
            text += st.get<std::string>() + ",";
        }
        std::string why;
        if (!parse_reset_states(text, &change.states, &why)) return error(why);
    }
    if (!req.contains("phones") || !req["phones"].is_array() || req["phones"].size() > 10'000)
        return error("'lists' needs 'phones': an array of at most 10,000 numbers in E.164");
    std::vector<std::string> phones;
    for (const auto& p : req["phones"]) {
        if (!e164_shaped(p)) return error("not a number in E.164: " + json_text(p).substr(0, 40));
        phones.push_back(p);
    }
    ListChangeCounts counts;
    const auto why = engine.change_list(req["campaign"], phones, change, counts);
    if (why == "busy")
        return json_text(nlohmann::json{
            {"ok", false}, {"busy", true}, {"error", "the store is catching up; send it again"}});
    if (!why.empty()) return error(why);
    return json_text(nlohmann::json{{"ok", true},
                                    {"changed", counts.changed},
                                    {"in_flight", counts.in_flight},
                                    {"skipped", counts.skipped}});
}
}  // namespace

std::string handle_control_request(Engine& engine, const std::string& text) {
    auto error = [](const std::string& why) {
        return json_text(nlohmann::json{{"ok", false}, {"error", why}});
    };
    const auto req = nlohmann::json::parse(text, nullptr, false);
    if (req.is_discarded() || !req.is_object()) return error("request is not a JSON object");
    if (!req.contains("command") || !req["command"].is_string())
        return error(
            "missing 'command' (status, pause, resume, stop, shutdown, reload, reload-agents, "
            "dnc, import, lists, message)");
    const std::string cmd = req["command"];
    if (cmd == "status") return status_report_json(engine);
    if (cmd == "message") return message_request(engine, req);
    if (cmd == "shutdown") {
        engine.stop();
        return json_text(nlohmann::json{{"ok", true}});
    }
    if (cmd == "reload-agents") {
        std::vector<std::string> errors;
        if (!engine.reload_agents(&errors)) {
            std::string all;
            for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
            return error("the agents file was not reloaded (the old accounts stay): " + all);
        }
        return json_text(nlohmann::json{{"ok", true}});
    }
    if (cmd == "dnc") return dnc_request(engine, req);
    if (cmd == "import") return import_request(engine, req);
    if (cmd == "lists") return lists_request(engine, req);
    if (cmd == "reload") {
        if (req.contains("campaign") && !req["campaign"].is_string())
            return error("'reload' takes 'campaign': a name, or none for every campaign");
        const auto results = engine.reload_campaigns(req.value("campaign", std::string()));
        if (results.empty())
            return error(req.contains("campaign")
                             ? "no campaign '" + req["campaign"].get<std::string>() +
                                   "' in this engine or its config"
                             : "no campaign to reload");
        nlohmann::json list = nlohmann::json::array();
        bool all = true;
        for (const auto& r : results) {
            all = all && r.applied;
            list.push_back({{"campaign", r.campaign},
                            {"applied", r.applied},
                            {"added", r.added},
                            {"changed", r.changed},
                            {"errors", r.errors}});
        }
        return json_text(nlohmann::json{
            {"ok", all}, {"campaigns", list}, {"error", all ? "" : "some changes were refused"}});
    }
    if (cmd != "pause" && cmd != "resume" && cmd != "stop")
        return error(
            "unknown command '" + cmd +
            "' (status, pause, resume, stop, shutdown, reload, reload-agents, dnc, import, lists, "
            "message)");
    if (!req.contains("campaign") || !req["campaign"].is_string())
        return error("'" + cmd + "' needs 'campaign'");
    const std::string name = req["campaign"];
    const bool found = cmd == "pause"    ? engine.pause(name)
                       : cmd == "resume" ? engine.resume(name)
                                         : engine.stop_campaign(name);
    if (!found) return error("no campaign '" + name + "' in this engine");
    return json_text(nlohmann::json{{"ok", true}});
}

std::unique_ptr<ControlServer> ControlServer::start(event_base* loop, Engine& engine,
                                                    const std::string& endpoint,
                                                    const CurveConfig& curve, std::string* error) {
    auto c = std::make_unique<ZmqControl>(loop, engine, curve);
    if (!c->bind(endpoint, error)) return nullptr;
    return c;
}

bool control_request(const std::string& endpoint, const std::string& request, int timeout_ms,
                     std::string* reply, std::string* error, const ClientKeys& keys) {
    try {
        zmq::context_t ctx;
        zmq::socket_t s(ctx, zmq::socket_type::req);
        if (keys.enabled() && !curve_client(s, keys, error)) return false;
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::rcvtimeo, timeout_ms);
        s.set(zmq::sockopt::sndtimeo, timeout_ms);
        s.connect(endpoint);
        if (!s.send(zmq::buffer(request), zmq::send_flags::none)) {
            *error = "cannot send to " + endpoint;
            return false;
        }
        zmq::message_t m;
        if (!s.recv(m, zmq::recv_flags::none)) {
            *error = "no answer from an engine at " + endpoint + " within " +
                     std::to_string(timeout_ms) + " ms";
            return false;
        }
        *reply = m.to_string();
        return true;
    } catch (const zmq::error_t& e) {
        *error = endpoint + ": " + e.what();
        return false;
    }
}

}  // namespace outpace
