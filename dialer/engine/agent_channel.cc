#include "dialer/engine/agent_channel.h"

#include "campaigns/json_text.h"
#include "dialer/loop_event.h"

#include <event2/event.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <zmq.hpp>

#include "dialer/engine/curve.h"

namespace outpace {
namespace {

using nlohmann::json;

struct TypeName {
    AgentRequest::Type type;
    const char* name;
};
constexpr TypeName kTypes[] = {
    {AgentRequest::Type::login, "login"},
    {AgentRequest::Type::ready, "ready"},
    {AgentRequest::Type::pause, "pause"},
    {AgentRequest::Type::hangup, "hangup"},
    {AgentRequest::Type::disposition, "disposition"},
    {AgentRequest::Type::next, "next"},
    {AgentRequest::Type::dial, "dial"},
    {AgentRequest::Type::skip, "skip"},
    {AgentRequest::Type::logout, "logout"},
    {AgentRequest::Type::heartbeat, "heartbeat"},
    {AgentRequest::Type::hold, "hold"},
    {AgentRequest::Type::unhold, "unhold"},
    {AgentRequest::Type::mute, "mute"},
    {AgentRequest::Type::unmute, "unmute"},
    {AgentRequest::Type::record_pause, "record_pause"},
    {AgentRequest::Type::record_resume, "record_resume"},
    {AgentRequest::Type::dtmf, "dtmf"},
    {AgentRequest::Type::manual_dial, "manual_dial"},
    {AgentRequest::Type::supervise, "supervise"},
    {AgentRequest::Type::calls, "calls"},
    {AgentRequest::Type::monitor, "monitor"},
    {AgentRequest::Type::unmonitor, "unmonitor"},
    {AgentRequest::Type::transfer, "transfer"},
    {AgentRequest::Type::consult, "consult"},
    {AgentRequest::Type::complete, "complete"},
    {AgentRequest::Type::cancel, "cancel"},
    {AgentRequest::Type::conference, "conference"},
    {AgentRequest::Type::message, "message"},
};

// "2026-11-24T10:30:00Z" or with an offset ("+01:00"); seconds since the epoch.
std::optional<std::int64_t> parse_utc(const std::string& s) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    const std::string zone = s.substr(static_cast<std::size_t>(consumed));
    long offset = 0;
    if (zone != "Z") {
        int sign_h = 0, m = 0;
        char sign = 0;
        if (std::sscanf(zone.c_str(), "%c%2d:%2d", &sign, &sign_h, &m) != 3 ||
            (sign != '+' && sign != '-') || zone.size() != 6)
            return std::nullopt;
        offset = (sign == '+' ? 1 : -1) * (sign_h * 3600L + m * 60L);
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

}  // namespace

const char* to_string(AgentRequest::Type t) {
    for (const auto& n : kTypes)
        if (n.type == t) return n.name;
    return "?";
}

namespace {

// A request's fields, each checked for its type and size; false with `error` set when wrong.
struct Fields {
    const json& m;
    const std::string& type;
    std::string* error;

    bool text(const char* key, std::string& out, bool required) const {
        if (!m.contains(key)) {
            if (required) *error = "'" + type + "' needs '" + key + "'";
            return !required;
        }
        if (!m[key].is_string() || m[key].get<std::string>().size() > 4096) {
            *error = std::string("'") + key + "' must be a string (at most 4096 bytes)";
            return false;
        }
        out = m[key];
        return true;
    }
    bool list(const char* key, std::vector<std::string>& out) const {
        if (!m.contains(key)) return true;
        const bool ok =
            m[key].is_array() && m[key].size() <= 256 &&
            std::all_of(m[key].begin(), m[key].end(), [](const json& v) { return v.is_string(); });
        if (!ok) {
            *error = std::string("'") + key + "' must be a list of strings";
            return false;
        }
        for (const auto& v : m[key]) out.push_back(v);
        return true;
    }
    bool attempt(std::uint64_t& out, bool required) const {
        if (!m.contains("attempt")) {
            if (required) *error = "'" + type + "' needs 'attempt'";
            return !required;
        }
        if (!m["attempt"].is_number_unsigned()) {
            *error = "'attempt' must be the attempt id (a positive integer)";
            return false;
        }
        out = m["attempt"];
        return true;
    }
};

bool parse_agent_id(const Fields& f, AgentRequest& r) {
    if (r.agent.empty() || r.agent.size() > 64 ||
        std::any_of(r.agent.begin(), r.agent.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; })) {
        *f.error = "'agent' must be 1 to 64 characters, none of them control characters";
        return false;
    }
    return true;
}

bool parse_login(const Fields& f, AgentRequest& r) {
    // Without an agents file (lab mode) the phone is required and no password is checked; with
    // one, the password is, and the phone comes from the file or the softphone's registration.
    if (!f.text("agent", r.agent, true) || !f.text("password", r.password, false) ||
        !f.text("phone", r.phone, false) || !f.list("campaigns", r.campaigns) ||
        !f.list("skills", r.skills) || !parse_agent_id(f, r))
        return false;
    if (!r.phone.empty() && r.phone.rfind("sip:", 0) != 0) {
        *f.error = "'phone' must be the softphone's SIP URI (sip:USER@IP:PORT)";
        return false;
    }
    return true;
}

bool parse_disposition(const Fields& f, AgentRequest& r) {
    if (!f.attempt(r.attempt, true) || !f.text("code", r.code, true) ||
        !f.text("notes", r.notes, false))
        return false;
    const json& m = f.m;
    if (m.contains("callback_at")) {
        const auto& cb = m["callback_at"];
        std::optional<std::int64_t> t;
        if (cb.is_number_integer()) t = cb.get<std::int64_t>();
        if (cb.is_string()) t = parse_utc(cb.get<std::string>());
        if (!t || *t <= 0) {
            *f.error = "'callback_at' must be unix seconds or a time like 2026-11-24T10:30:00Z";
            return false;
        }
        r.callback_at = *t;
    }
    if (m.contains("for")) {
        if (m["for"] != "me") {
            *f.error = "'for' can only be \"me\" (a personal callback)";
            return false;
        }
        r.callback_for_me = true;
    }
    if (m.contains("answers")) {
        if (!m["answers"].is_object()) {
            *f.error = "'answers' must be an object (question id -> answer)";
            return false;
        }
        r.answers = m["answers"];
    }
    return true;
}

}  // namespace

std::optional<AgentRequest> parse_agent_request(std::string_view text, std::string* error) {
    const auto m = json::parse(text, nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
        *error = "a message is one JSON object";
        return std::nullopt;
    }
    if (!m.contains("type") || !m["type"].is_string()) {
        *error = "missing 'type'";
        return std::nullopt;
    }
    AgentRequest r;
    const std::string type = m["type"];
    bool known = false;
    for (const auto& n : kTypes)
        if (type == n.name) r.type = n.type, known = true;
    if (!known) {
        *error = "unknown type '" + type + "'";
        return std::nullopt;
    }
    const Fields f{m, type, error};
    bool ok = true;
    switch (r.type) {
        case AgentRequest::Type::login:
            ok = parse_login(f, r);
            break;
        case AgentRequest::Type::supervise:
            ok = f.text("agent", r.agent, true) && f.text("password", r.password, true) &&
                 parse_agent_id(f, r);
            break;
        case AgentRequest::Type::pause:
            ok = f.text("reason", r.reason, false);
            break;
        case AgentRequest::Type::disposition:
            ok = parse_disposition(f, r);
            break;
        case AgentRequest::Type::dtmf:
            ok = f.text("digits", r.digits, true);
            if (ok && (r.digits.empty() || r.digits.size() > 32 ||
                       r.digits.find_first_not_of("0123456789*#ABCD") != std::string::npos)) {
                *error = "'digits' must be 1 to 32 keys from 0-9 * # A-D";
                ok = false;
            }
            break;
        case AgentRequest::Type::manual_dial:
            ok = f.text("phone", r.phone, true) && f.text("campaign", r.campaign, false);
            if (ok && (r.phone.empty() || r.phone.size() > 64)) {
                *error = "'phone' must be the number to call (1 to 64 characters)";
                ok = false;
            }
            break;
        case AgentRequest::Type::monitor:
            ok = f.attempt(r.attempt, true) && f.text("mode", r.mode, false);
            if (ok && r.mode.empty()) r.mode = "listen";
            if (ok && r.mode != "listen" && r.mode != "whisper" && r.mode != "barge") {
                *error = "'mode' must be listen, whisper or barge";
                ok = false;
            }
            break;
        case AgentRequest::Type::transfer:
        case AgentRequest::Type::consult:
            ok = f.text("agent", r.agent, false) && f.text("queue", r.queue, false) &&
                 f.text("number", r.phone, false);
            if (ok && int(!r.agent.empty()) + int(!r.queue.empty()) + int(!r.phone.empty()) != 1) {
                *error = "'" + type +
                         "' needs one of 'agent' (an agent id), 'queue' (a skill or campaign) or "
                         "'number' (a number the campaign allows)";
                ok = false;
            }
            if (ok && r.phone.size() > 64) {
                *error = "'number' must be at most 64 characters";
                ok = false;
            }
            if (ok && !r.agent.empty()) ok = parse_agent_id(f, r);
            if (ok && r.queue.size() > 64) {
                *error = "'queue' must be at most 64 characters";
                ok = false;
            }
            break;
        case AgentRequest::Type::message:
            ok = f.text("text", r.text, true) && f.text("agent", r.agent, false) &&
                 f.text("campaign", r.campaign, false);
            if (ok && (r.text.empty() || r.text.size() > 1000)) {
                *error = "'text' must be 1 to 1000 characters";
                ok = false;
            }
            if (ok && !r.agent.empty() && !r.campaign.empty()) {
                *error = "a message goes to an 'agent' or a 'campaign', not both";
                ok = false;
            }
            if (ok && !r.agent.empty()) ok = parse_agent_id(f, r);
            break;
        case AgentRequest::Type::dial:
        case AgentRequest::Type::skip:
        case AgentRequest::Type::hangup:
            ok = f.attempt(r.attempt, false);
            break;
        default:
            break;
    }
    if (!ok) return std::nullopt;
    return r;
}

namespace {

class ZmqAgentChannel final : public AgentChannel {
  public:
    ZmqAgentChannel(event_base* loop, const CurveConfig& curve, Handler handler)
        : handler_(std::move(handler)),
          router_(ctx_, zmq::socket_type::router),
          pub_(ctx_, zmq::socket_type::pub) {
        if (curve.enabled()) {
            guard_ = std::make_unique<CurveGuard>(ctx_, curve);
            guard_->protect(router_);
            guard_->protect(pub_);
        }
        router_.set(zmq::sockopt::linger, 0);
        router_.set(zmq::sockopt::maxmsgsize, std::int64_t{64 * 1024});
        router_.set(zmq::sockopt::router_mandatory, true);  // unknown peer: an error, not a loss
        router_.set(zmq::sockopt::sndhwm, 1000);
        pub_.set(zmq::sockopt::linger, 0);
        pub_.set(zmq::sockopt::sndhwm, 10000);
        loop_ = loop;
    }
    ~ZmqAgentChannel() override = default;

    bool bind(const std::string& endpoint, const std::string& events, std::string* error) {
        try {
            bind_private(router_, endpoint);
        } catch (const zmq::error_t& e) {
            *error = "agent socket " + endpoint + ": " + e.what();
            return false;
        }
        if (!events.empty()) {
            try {
                bind_private(pub_, events);
            } catch (const zmq::error_t& e) {
                *error = "agent events socket " + events + ": " + e.what();
                return false;
            }
        }
        // ZeroMQ's descriptor signals "something changed" (edge-like): drain on every wake-up,
        // and once more on a short timer in case a wake-up was consumed by our own sends.
        const auto fd = router_.get(zmq::sockopt::fd);
        read_ev_ = LoopEvent(loop_, fd, EV_READ | EV_PERSIST, &ZmqAgentChannel::wake, this);
        timer_ev_ = LoopEvent(loop_, -1, EV_PERSIST, &ZmqAgentChannel::wake, this);
        if (!read_ev_.add() || !timer_ev_.add(std::chrono::milliseconds(20))) {
            *error = "agent socket " + endpoint + ": cannot watch it on the event loop";
            return false;
        }
        return true;
    }

    void send(const std::string& peer, const json& message) override {
        const std::string text = json_text(message);
        try {
            if (!router_.send(zmq::buffer(peer),
                              zmq::send_flags::sndmore | zmq::send_flags::dontwait))
                return;
            router_.send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
            // EHOSTUNREACH: the desktop is gone; its heartbeats stop and it is logged out.
        }
    }

    void publish(const std::string& topic, const json& event) override {
        const std::string text = json_text(event);
        try {
            if (pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
                pub_.send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
        }
    }

  private:
    static void wake(evutil_socket_t, short, void* self) {
        static_cast<ZmqAgentChannel*>(self)->drain();
    }

    void drain() {
        if (guard_) guard_->serve();
        // Bounded per wake-up so a flood of messages cannot starve calls on the loop.
        for (int i = 0; i < 256; ++i) {
            std::vector<zmq::message_t> frames;
            try {
                zmq::message_t part;
                if (!router_.recv(part, zmq::recv_flags::dontwait)) return;
                frames.push_back(std::move(part));
                while (router_.get(zmq::sockopt::rcvmore) && frames.size() < 8) {
                    zmq::message_t more;
                    if (!router_.recv(more, zmq::recv_flags::dontwait)) break;
                    frames.push_back(std::move(more));
                }
                while (router_.get(zmq::sockopt::rcvmore)) {  // too many frames: discard
                    zmq::message_t rest;
                    if (!router_.recv(rest, zmq::recv_flags::dontwait)) break;
                }
            } catch (const zmq::error_t&) {
                return;
            }
            const std::string peer = frames[0].to_string();
            // A DEALER sends [id, body]; a REQ-style client [id, "", body]. Anything else is
            // answered with an error.
            std::string body;
            if (frames.size() == 2) {
                body = frames[1].to_string();
            } else if (frames.size() == 3 && frames[1].size() == 0) {
                body = frames[2].to_string();
            } else {
                send(peer, {{"type", "error"}, {"reason", "one JSON object per message"}});
                continue;
            }
            std::string error;
            const auto request = parse_agent_request(body, &error);
            if (!request) {
                send(peer, {{"type", "error"}, {"reason", error}});
                continue;
            }
            // CurveGuard made the client's key the connection's User-Id.
            const char* key = zmq_msg_gets(frames.back().handle(), "User-Id");
            handler_(peer, key ? key : "", *request);
        }
    }

    Handler handler_;
    zmq::context_t ctx_;
    std::unique_ptr<CurveGuard> guard_;  // before the sockets: they are closed first
    zmq::socket_t router_, pub_;
    event_base* loop_ = nullptr;
    LoopEvent read_ev_, timer_ev_;
};

}  // namespace

std::unique_ptr<AgentChannel> AgentChannel::start(event_base* loop, const std::string& endpoint,
                                                  const std::string& events_endpoint,
                                                  const CurveConfig& curve, Handler handler,
                                                  std::string* error) {
    auto c = std::make_unique<ZmqAgentChannel>(loop, curve, std::move(handler));
    if (!c->bind(endpoint, events_endpoint, error)) return nullptr;
    return c;
}

}  // namespace outpace
