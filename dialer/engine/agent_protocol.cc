#include "dialer/engine/agent_protocol.h"

#include <algorithm>

#include "campaigns/calling_hours.h"

namespace outpace {

using nlohmann::json;

const char* to_string(AgentState s) {
    switch (s) {
        case AgentState::connecting:
            return "connecting";
        case AgentState::paused:
            return "paused";
        case AgentState::ready:
            return "ready";
        case AgentState::reserved:
            return "reserved";
        case AgentState::talking:
            return "talking";
        case AgentState::wrapup:
            return "wrapup";
    }
    return "?";
}

namespace {

// The screen pop's history: one object per earlier attempt, newest first.
}  // namespace

// The list column of the number a call to `contact` goes to.
std::string phone_label(const Campaign& c, const Contact& contact) {
    if (contact.current < contact.numbers.size()) return contact.numbers[contact.current].label;
    return c.phone_columns.empty() ? c.phone_column : c.phone_columns.front();
}

namespace {

json dispositions_json(const Campaign& c) {
    json out = json::array();
    for (const auto& d : c.dispositions)
        out.push_back(
            {{"code", d.code}, {"label", d.label}, {"callback", d.callback}, {"dnc", d.dnc}});
    return out;
}

// The callee's zone a callback time is meant in: the first of the number's zones ("A|B").
std::string first_zone(const std::string& zones) {
    return zones.substr(0, zones.find('|'));
}

json history_json(const std::vector<Attempt>& history) {
    json out = json::array();
    for (const auto& h : history) {
        json item = {{"attempt", h.id},
                     {"at", format_timestamp(Timestamp(Seconds(h.started_ms / 1000)))},
                     {"phone", h.number()},
                     {"outcome", to_string(h.outcome)},
                     {"disposition", h.disposition},
                     {"agent", h.agent},
                     {"notes", h.notes}};
        if (h.talk_ms > 0) item["talk_s"] = static_cast<double>(h.talk_ms) / 1000;
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace

void AgentProtocol::send(const Agent& a, const json& m) const {
    if (channel_ && !a.desktop_lost) channel_->send(a.peer, m);
}

void AgentProtocol::error(const std::string& peer, const std::string& reason,
                          AgentRequest::Type request) const {
    if (channel_)
        channel_->send(peer,
                       {{"type", "error"}, {"reason", reason}, {"request", to_string(request)}});
}

void AgentProtocol::error(const Agent& a, const std::string& reason) const {
    send(a, {{"type", "error"}, {"reason", reason}});
}

void AgentProtocol::error(const Agent& a, const std::string& reason,
                          AgentRequest::Type request) const {
    send(a, {{"type", "error"}, {"reason", reason}, {"request", to_string(request)}});
}

void AgentProtocol::logged_in(const Agent& a, double heartbeat_s) const {
    json m = {{"type", "logged_in"},
              {"agent", a.id},
              {"name", a.name},
              {"role", a.supervisor ? "supervisor" : "agent"},
              {"state", to_string(a.state)},
              {"heartbeat_s", heartbeat_s}};
    if (a.wrap) m["wrapup_attempt"] = a.wrap->id;
    send(a, m);
}

void AgentProtocol::state(const Agent& a, const std::string& reason) const {
    json m = {{"type", "state"}, {"state", to_string(a.state)}};
    if (!reason.empty()) m["reason"] = reason;
    send(a, m);
}

void AgentProtocol::heartbeat(const Agent& a) const {
    send(a, {{"type", "heartbeat"}, {"state", to_string(a.state)}});
}

void AgentProtocol::pause_pending(const Agent& a, const std::string& reason) const {
    send(a, {{"type", "pause_pending"}, {"reason", reason}});
}

void AgentProtocol::logout_pending(const Agent& a) const {
    send(a, {{"type", "logout_pending"}, {"reason", "after this call's disposition"}});
}

void AgentProtocol::logged_out(const Agent& a, const std::string& reason) const {
    send(a, {{"type", "logged_out"}, {"reason", reason}});
}

std::string AgentProtocol::script_for(
    const Agent& a, const Campaign& c, const std::string& phone,
    const std::vector<std::pair<std::string, std::string>>& fields) {
    // One pass, so that a value containing braces is never read as a placeholder.
    const std::string& t = c.script;
    std::string out;
    out.reserve(t.size() + 64);
    for (std::size_t i = 0; i < t.size();) {
        const auto close = t[i] == '{' ? t.find('}', i + 1) : std::string::npos;
        if (close == std::string::npos) {
            out += t[i++];
            continue;
        }
        const std::string key = t.substr(i + 1, close - i - 1);
        const std::string* value = nullptr;
        if (key == "agent")
            value = &a.name;
        else if (key == "agent_id")
            value = &a.id;
        else if (key == "campaign")
            value = &c.name;
        else if (key == "phone")
            value = &phone;
        for (const auto& [k, v] : fields)
            if (!value && k == key) value = &v;
        if (value) {
            out += *value;
            i = close + 1;
        } else {
            out += t[i++];  // left as written: the list has no such column
        }
    }
    return out;
}

void AgentProtocol::offer(const Agent& a, const OfferView& v) const {
    const Campaign& c = *v.campaign;
    json fields = json::object();
    for (const auto& [k, value] : v.fields) fields[k] = value;
    json m = {{"type", "offer"},
              {"attempt", v.attempt},
              {"campaign", c.name},
              {"phone", v.phone},
              {"phone_label", v.phone_label},
              {"fields", fields},
              {"script", script_for(a, c, v.phone, v.fields)},
              {"amd", v.amd},
              {"zone", first_zone(v.zones)},
              {"dispositions", dispositions_json(c)},
              {"history", history_json(v.history)},
              {"verdict_clock_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                       v.verdict_at.time_since_epoch())
                                       .count()}};
    if (!v.transferred_by.empty()) {
        m["transferred_by"] = v.transferred_by;
        m["transfer_kind"] = v.transfer_kind;
    }
    if (c.kind == CampaignKind::survey) {
        // An agent-led survey: the questions to read, their answers and where each leads.
        json questions = json::array();
        for (const auto& q : c.survey_questions)
            questions.push_back(
                {{"id", q.id}, {"text", q.text}, {"answers", q.digits}, {"next", q.next}});
        m["survey"] = questions;
    }
    send(a, m);
}

void AgentProtocol::connected(const Agent& a, std::uint64_t attempt, double connect_ms) const {
    send(a, {{"type", "connected"}, {"attempt", attempt}, {"connect_ms", connect_ms}});
}

void AgentProtocol::hangup(const Agent& a, const HangupView& v) const {
    json m = {{"type", "hangup"}, {"attempt", v.attempt}, {"by", v.by.empty() ? "customer" : v.by}};
    if (v.talk_s) m["talk_s"] = *v.talk_s;
    if (v.outcome) m["outcome"] = to_string(*v.outcome);
    if (v.sip_code) m["sip_code"] = *v.sip_code;
    send(a, m);
}

void AgentProtocol::wrapup(const Agent& a, std::uint64_t attempt, double max_s) const {
    send(a, {{"type", "wrapup"}, {"attempt", attempt}, {"max_s", max_s}});
}

void AgentProtocol::wrapup_timeout(const Agent& a, std::uint64_t attempt) const {
    send(a, {{"type", "wrapup_timeout"}, {"attempt", attempt}});
}

void AgentProtocol::disposed(const Agent& a, std::uint64_t attempt, const std::string& code) const {
    send(a, {{"type", "disposed"}, {"attempt", attempt}, {"code", code}});
}

void AgentProtocol::preview(const Agent& a, const Campaign& c, const Contact& contact,
                            const std::vector<Attempt>& history,
                            std::optional<std::int64_t> callback_at) const {
    json fields = json::object();
    for (const auto& [k, v] : contact.fields) fields[k] = v;
    json m = {{"type", "preview"},
              {"campaign", c.name},
              {"phone", contact.dial_number()},
              {"phone_label", phone_label(c, contact)},
              {"fields", fields},
              {"attempts", contact.attempts},
              {"zone", first_zone(contact.zones)},
              {"dispositions", dispositions_json(c)},
              {"history", history_json(history)},
              {"script", script_for(a, c, contact.dial_number(), contact.fields)}};
    if (callback_at) m["callback_at"] = format_timestamp(Timestamp(Seconds(*callback_at)));
    send(a, m);
}

void AgentProtocol::controls(const Agent& a, const ControlsView& v) const {
    send(a, {{"type", "controls"},
             {"attempt", v.attempt},
             {"on_hold", v.on_hold},
             {"muted", v.muted},
             {"recording", v.recording}});
}

void AgentProtocol::customer_key(const Agent& a, std::uint64_t attempt, char digit) const {
    send(a, {{"type", "dtmf"}, {"attempt", attempt}, {"digit", std::string(1, digit)}});
}

void AgentProtocol::keys_sent(const Agent& a, std::uint64_t attempt,
                              const std::string& digits) const {
    send(a, {{"type", "keys_sent"}, {"attempt", attempt}, {"digits", digits}});
}

void AgentProtocol::dialing(const Agent& a, std::uint64_t attempt, const std::string& phone) const {
    send(a, {{"type", "dialing"}, {"attempt", attempt}, {"phone", phone}});
}

void AgentProtocol::message_sent(const Agent& a, std::size_t desktops) const {
    send(a, {{"type", "message_sent"}, {"desktops", desktops}});
}

void AgentProtocol::message(const Agent& a, const std::string& from,
                            const std::string& text) const {
    send(a, {{"type", "message"}, {"from", from}, {"text", text}});
}

void AgentProtocol::calls(const Agent& a, const std::vector<LiveCallView>& calls) const {
    json list = json::array();
    for (const auto& c : calls) {
        json monitors = json::array();
        for (const auto& [supervisor, mode] : c.monitors)
            monitors.push_back({{"supervisor", supervisor}, {"mode", mode}});
        list.push_back({{"attempt", c.attempt},
                        {"agent", c.agent},
                        {"campaign", c.campaign},
                        {"phone", c.phone},
                        {"state", c.state},
                        {"duration_s", c.duration_s},
                        {"monitors", monitors}});
    }
    send(a, {{"type", "calls"}, {"calls", list}});
}

void AgentProtocol::monitoring(const Agent& a, std::uint64_t attempt, const std::string& agent,
                               const std::string& mode) const {
    send(a, {{"type", "monitoring"}, {"attempt", attempt}, {"agent", agent}, {"mode", mode}});
}

void AgentProtocol::monitor_ended(const Agent& a, std::uint64_t attempt,
                                  const std::string& reason) const {
    send(a, {{"type", "monitor_ended"}, {"attempt", attempt}, {"reason", reason}});
}

void AgentProtocol::transfer(const Agent& a, std::uint64_t attempt, const std::string& state,
                             const std::string& agent, const std::string& reason) const {
    json m = {{"type", "transfer"}, {"attempt", attempt}, {"state", state}, {"agent", agent}};
    if (!reason.empty()) m["reason"] = reason;
    send(a, m);
}

void AgentProtocol::supervisor(const std::string& peer, const std::string& agent,
                               const std::string& name) const {
    if (channel_) channel_->send(peer, {{"type", "supervisor"}, {"agent", agent}, {"name", name}});
}

void AgentProtocol::agent_event(const Agent& a) const {
    if (!channel_) return;
    json e = {{"event", "agent"}, {"agent", a.id}, {"state", to_string(a.state)}};
    if (a.state == AgentState::paused) e["reason"] = a.pause_reason;
    channel_->publish("agent." + a.id, e);
}

void AgentProtocol::agent_gone(const std::string& agent) const {
    if (channel_)
        channel_->publish("agent." + agent,
                          {{"event", "agent"}, {"agent", agent}, {"state", "logged_out"}});
}

void AgentProtocol::call_connected(const std::string& campaign, std::uint64_t attempt,
                                   const std::string& agent, double connect_ms) const {
    if (channel_)
        channel_->publish("call." + campaign, {{"event", "connected"},
                                               {"campaign", campaign},
                                               {"attempt", attempt},
                                               {"agent", agent},
                                               {"connect_ms", connect_ms}});
}

void AgentProtocol::call_disposed(const std::string& campaign, std::uint64_t attempt,
                                  const std::string& agent, const std::string& code,
                                  bool part) const {
    if (!channel_) return;
    json e = {{"event", "disposition"},
              {"campaign", campaign},
              {"attempt", attempt},
              {"agent", agent},
              {"code", code}};
    if (part) e["part"] = true;
    channel_->publish("call." + campaign, e);
}

void AgentProtocol::call_controls(const std::string& campaign, const std::string& agent,
                                  const ControlsView& v) const {
    if (channel_)
        channel_->publish("call." + campaign, {{"event", "controls"},
                                               {"campaign", campaign},
                                               {"attempt", v.attempt},
                                               {"agent", agent},
                                               {"on_hold", v.on_hold},
                                               {"muted", v.muted},
                                               {"recording", v.recording}});
}

void AgentProtocol::call_transfer(const std::string& campaign, std::uint64_t attempt,
                                  const std::string& agent, const std::string& target,
                                  const std::string& state) const {
    if (channel_)
        channel_->publish("call." + campaign, {{"event", "transfer"},
                                               {"campaign", campaign},
                                               {"attempt", attempt},
                                               {"agent", agent},
                                               {"target", target},
                                               {"state", state}});
}

void AgentProtocol::call_monitor(const std::string& campaign, std::uint64_t attempt,
                                 const std::string& agent, const std::string& supervisor,
                                 const std::string& mode) const {
    if (!channel_) return;
    json e = {{"event", mode.empty() ? "monitor_ended" : "monitor"},
              {"campaign", campaign},
              {"attempt", attempt},
              {"agent", agent},
              {"supervisor", supervisor}};
    if (!mode.empty()) e["mode"] = mode;
    channel_->publish("call." + campaign, e);
}

}  // namespace outpace
