// `outpace agent`: the reference agent desktop in the terminal, and (--auto) simulated agents
// that drive load tests and the demo. It speaks the protocol of docs/agent-protocol.md over one
// ZeroMQ DEALER per agent; voice goes through the agent's softphone, never through here.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <zmq.hpp>

#include <nlohmann/json.hpp>

#include "campaigns/duration.h"
#include "campaigns/json_text.h"
#include "dialer/cli/commands.h"
#include "dialer/engine/curve.h"
#include "pacing/distribution.h"

namespace outpace::cli {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using pacing::Distribution;

std::atomic<bool> g_stop{false};
extern "C" void on_agent_signal(int) {
    g_stop = true;
}

// "fixed:30s", "uniform:10s:20s", "exponential:60s", "lognormal:120s:1.0".
std::optional<Distribution> parse_dist(const std::string& text, std::string* error) {
    std::vector<std::string> p;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ':');) p.push_back(part);
    auto secs = [&](std::size_t i) -> std::optional<double> {
        if (i >= p.size()) return std::nullopt;
        auto d = parse_duration(p[i]);
        if (!d) return std::nullopt;
        return std::chrono::duration<double>(*d).count();
    };
    std::optional<Distribution> d;
    if (p.size() == 2 && p[0] == "fixed" && secs(1)) d = Distribution::fixed(*secs(1));
    if (p.size() == 3 && p[0] == "uniform" && secs(1) && secs(2) && *secs(1) <= *secs(2))
        d = Distribution::uniform(*secs(1), *secs(2));
    if (p.size() == 2 && p[0] == "exponential" && secs(1) && *secs(1) > 0)
        d = Distribution::exponential(*secs(1));
    if (p.size() == 3 && p[0] == "lognormal" && secs(1) && *secs(1) > 0) {
        char* end = nullptr;
        const double cv = std::strtod(p[2].c_str(), &end);
        if (end && *end == 0 && cv > 0) d = Distribution::lognormal(*secs(1), cv);
    }
    if (!d)
        *error = "'" + text +
                 "' is not a distribution (fixed:30s, uniform:10s:20s, exponential:60s, "
                 "lognormal:120s:1.0)";
    return d;
}

struct AgentArgs {
    std::string endpoint = "tcp://127.0.0.1:5570";
    std::string id = "agent1", phone, password;
    std::vector<std::string> campaigns, skills, codes;
    bool automatic = false, preview = false, quiet = false, json_summary = false;
    int count = 1;
    std::string talk = "lognormal:20s:0.5", wrap = "uniform:2s:5s", preview_time = "fixed:1s";
    double duration_s = 0;
    unsigned seed = 1;
    std::string server_key_file, key_file;
    ClientKeys keys;
};

// One agent's desktop: its socket and, in --auto, what it is about to do.
struct Desk {
    std::string id, phone;
    std::unique_ptr<zmq::socket_t> socket;
    std::string state = "logged_out";
    std::uint64_t attempt = 0;
    bool in_call = false, logged_in = false, logged_out = false;
    std::optional<Clock::time_point> hang_up_at, dispose_at, next_at, dial_at, login_again_at;
    json login;  // sent again when the engine was busy checking other logins
    Clock::time_point last_sent = Clock::now();
    json dispositions = json::array();
    long calls = 0, dispositions_sent = 0, errors = 0;
    std::vector<double> offer_ms;  // human verdict to this desktop's screen pop
};

class Desktop {
  public:
    Desktop(const AgentArgs& a, Distribution talk, Distribution wrap, Distribution preview)
        : args_(a), talk_(talk), wrap_(wrap), preview_(preview), rng_(a.seed) {}

    int run() {
        ctx_.set(zmq::ctxopt::max_sockets, args_.count + 16);
        for (int i = 0; i < args_.count; ++i) {
            auto d = std::make_unique<Desk>();
            d->id = args_.count == 1 ? args_.id : args_.id + std::to_string(i + 1);
            d->phone = phone_for(d->id);
            d->socket = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
            d->socket->set(zmq::sockopt::linger, 200);
            d->socket->set(zmq::sockopt::routing_id, "desk-" + d->id);
            std::string error;
            if (args_.keys.enabled() && !curve_client(*d->socket, args_.keys, &error)) {
                std::fprintf(stderr, "outpace agent: %s\n", error.c_str());
                return 2;
            }
            d->socket->connect(args_.endpoint);
            json login = {{"type", "login"}, {"agent", d->id}};
            if (!d->phone.empty()) login["phone"] = d->phone;
            if (!args_.password.empty()) login["password"] = args_.password;
            if (!args_.campaigns.empty()) login["campaigns"] = args_.campaigns;
            if (!args_.skills.empty()) login["skills"] = args_.skills;
            d->login = login;
            send(*d, login);
            desks_.push_back(std::move(d));
        }
        if (!args_.automatic)
            std::printf(
                "keys: r ready · p [reason] pause · h hang up · d CODE [notes] disposition · "
                "cb CODE TIME callback · n next (preview) · c call it · s skip · q log out\n"
                "in a call: hold · unhold · mute · unmute · rp / rr pause / resume the "
                "recording · k DIGITS keys to the customer\n"
                "m NUMBER [CAMPAIGN] dial a number by hand\n"
                "transfers: t AGENT / tq QUEUE / tn NUMBER blind · x AGENT / xq QUEUE / xn NUMBER "
                "consult · done "
                "complete · back cancel · conf three-way\n"
                "supervisors: calls · listen / whisper / barge ATTEMPT · leave\n");
        const auto started = Clock::now();
        // Passwords are checked one after the other (Argon2id, ~60 ms each): a floor of desktops
        // logging in at once waits for all of them.
        auto login_deadline =
            started + std::chrono::seconds(10) +
            std::chrono::milliseconds(args_.password.empty() ? 0 : 150) * args_.count;
        bool leaving = false;
        Clock::time_point leave_deadline{};
        while (true) {
            const auto now = Clock::now();
            if (!leaving &&
                (g_stop || (args_.duration_s > 0 &&
                            now - started >= std::chrono::duration<double>(args_.duration_s)))) {
                leaving = true;
                leave_deadline = now + std::chrono::seconds(30);
                for (auto& d : desks_) {
                    if (!d->logged_out) {
                        if (d->in_call) d->hang_up_at = now;  // finish the call, then log out
                        send(*d, {{"type", "logout"}});
                    }
                }
            }
            if (leaving && (all_out() || now >= leave_deadline)) break;
            if (!leaving && now > login_deadline) {
                for (auto& d : desks_)
                    if (!d->logged_in) {
                        std::fprintf(stderr, "outpace agent: %s: no answer from %s\n",
                                     d->id.c_str(), args_.endpoint.c_str());
                        return 1;
                    }
                login_deadline = Clock::time_point::max();
            }
            std::vector<zmq::pollitem_t> items;
            for (auto& d : desks_) items.push_back({d->socket->handle(), 0, ZMQ_POLLIN, 0});
            const bool keys = !args_.automatic;
            if (keys) items.push_back({nullptr, 0, ZMQ_POLLIN, 0});
            try {
                zmq::poll(items.data(), items.size(), std::chrono::milliseconds(20));
            } catch (const zmq::error_t&) {
                continue;  // EINTR: the signal is checked above
            }
            for (std::size_t i = 0; i < desks_.size(); ++i)
                if (items[i].revents & ZMQ_POLLIN) receive(*desks_[i]);
            if (keys && (items.back().revents & ZMQ_POLLIN) && !key(*desks_.front())) {
                g_stop = true;
            }
            if (args_.automatic)
                act(leaving);
            else
                for (auto& d : desks_) retry_login(*d);
            heartbeats();
        }
        summary();
        return 0;
    }

  private:
    std::string phone_for(const std::string& id) const {
        // --phone sip:%a@127.0.0.1:5090 puts each agent's id into the URI.
        std::string p = args_.phone;
        if (auto at = p.find("%a"); at != std::string::npos) p.replace(at, 2, id);
        return p;
    }

    bool all_out() const {
        for (const auto& d : desks_)
            if (!d->logged_out) return false;
        return true;
    }

    void send(Desk& d, const json& m) {
        const std::string text = json_text(m);
        try {
            d.socket->send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
        }
        d.last_sent = Clock::now();
    }

    void heartbeats() {
        const auto now = Clock::now();
        for (auto& d : desks_)
            if (d->logged_in && !d->logged_out && now - d->last_sent >= heartbeat_)
                send(*d, {{"type", "heartbeat"}});
    }

    void say(const Desk& d, const std::string& line) {
        if (args_.quiet) return;
        if (args_.count == 1)
            std::printf("%s\n", line.c_str());
        else if (!args_.automatic)
            std::printf("%s: %s\n", d.id.c_str(), line.c_str());
        std::fflush(stdout);
    }

    void receive(Desk& d) {
        for (int i = 0; i < 64; ++i) {
            zmq::message_t m;
            try {
                if (!d.socket->recv(m, zmq::recv_flags::dontwait)) return;
            } catch (const zmq::error_t&) {
                return;
            }
            const auto msg = json::parse(m.to_string(), nullptr, false);
            if (msg.is_discarded() || !msg.is_object()) continue;
            handle(d, msg);
        }
    }

    void handle(Desk& d, const json& m) {
        const std::string type = m.value("type", "");
        const auto now = Clock::now();
        if (type == "logged_in") {
            d.logged_in = true;
            d.state = m.value("state", "");
            heartbeat_ = std::chrono::milliseconds(
                static_cast<long>(1000 * m.value("heartbeat_s", 5.0) / 2));
            say(d, "logged in as " + d.id + " (" +
                       (d.phone.empty() ? std::string("its phone per the agents file") : d.phone) +
                       "): " + d.state);
            if (args_.automatic) send(d, {{"type", "ready"}});
        } else if (type == "state") {
            d.state = m.value("state", "");
            say(d, "state: " + d.state +
                       (m.contains("reason") ? " (" + m.value("reason", "") + ")" : ""));
            if (args_.automatic && args_.preview && d.state == "ready") d.next_at = now;
        } else if (type == "offer") {
            d.attempt = m.value("attempt", std::uint64_t{0});
            // The engine's verdict time on the shared monotonic clock (same host only).
            const auto verdict = std::chrono::microseconds(m.value("verdict_clock_us", 0LL));
            const double pop_ms =
                std::chrono::duration<double, std::milli>(now.time_since_epoch() - verdict).count();
            if (verdict.count() > 0 && pop_ms >= 0 && pop_ms < 60'000) d.offer_ms.push_back(pop_ms);
            d.dispositions = m.value("dispositions", json::array());
            std::string pop = "── call " + std::to_string(d.attempt) + " · " +
                              m.value("campaign", "") + " · " + m.value("phone", "") + " ──";
            const json fields = m.value("fields", json::object());
            for (const auto& [k, v] : fields.items())
                pop += "\n  " + k + ": " + (v.is_string() ? v.get<std::string>() : json_text(v));
            std::string script = m.value("script", "");
            // {column} placeholders from the contact's fields.
            for (const auto& [k, v] : fields.items()) {
                const std::string key = "{" + k + "}";
                const std::string value = v.is_string() ? v.get<std::string>() : json_text(v);
                for (auto at = script.find(key); at != std::string::npos;
                     at = script.find(key, at + value.size()))
                    script.replace(at, key.size(), value);
            }
            if (!script.empty()) pop += "\n  script: " + script;
            pop += history_lines(m);
            std::string codes;
            for (const auto& c : d.dispositions) codes += " " + c.value("code", "");
            pop += "\n  dispositions:" + codes;
            say(d, pop);
        } else if (type == "connected") {
            d.in_call = true;
            ++d.calls;
            say(d, "connected (attempt " + std::to_string(d.attempt) + ")");
            if (args_.automatic)
                d.hang_up_at = now + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(talk_.sample(rng_)));
        } else if (type == "hangup") {
            d.in_call = false;
            d.hang_up_at.reset();
            say(d, "call ended" + (m.contains("outcome") ? ": " + m.value("outcome", "") : ""));
        } else if (type == "wrapup") {
            d.attempt = m.value("attempt", d.attempt);
            say(d, "wrap-up for attempt " + std::to_string(d.attempt) + ": send a disposition");
            if (args_.automatic)
                d.dispose_at = now + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(wrap_.sample(rng_)));
        } else if (type == "preview") {
            std::string pop =
                "── preview · " + m.value("campaign", "") + " · " + m.value("phone", "") + " ──";
            const json fields = m.value("fields", json::object());
            for (const auto& [k, v] : fields.items())
                pop += "\n  " + k + ": " + (v.is_string() ? v.get<std::string>() : json_text(v));
            say(d, pop + history_lines(m) + "\n  c: call · s: skip");
            if (args_.automatic)
                d.dial_at = now + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(preview_.sample(rng_)));
        } else if (type == "logged_out") {
            d.logged_out = true;
            say(d, "logged out: " + m.value("reason", ""));
        } else if (type == "error" && m.value("request", "") == "login" &&
                   m.value("reason", "").rfind("busy", 0) == 0) {
            d.login_again_at = now + std::chrono::seconds(1);  // a whole floor logging in
        } else if (type == "error") {
            ++d.errors;
            std::fprintf(stderr, "%s: engine: %s\n", d.id.c_str(), m.value("reason", "").c_str());
            if (args_.automatic && args_.preview && m.value("request", "") == "next")
                d.next_at = now + std::chrono::seconds(2);  // nobody to call yet: ask again
        } else if (type == "disposed") {
            ++d.dispositions_sent;
        } else if (type == "controls") {
            say(d, std::string(m.value("on_hold", false) ? "on hold" : "not on hold") +
                       (m.value("muted", false) ? " · muted" : "") + " · recording " +
                       m.value("recording", ""));
        } else if (type == "dtmf") {
            say(d, "the customer pressed " + m.value("digit", ""));
        } else if (type == "dialing") {
            d.attempt = m.value("attempt", d.attempt);
            say(d, "dialling " + m.value("phone", "") + " (attempt " + std::to_string(d.attempt) +
                       ")");
        } else if (type == "keys_sent") {
            say(d, "keys sent: " + m.value("digits", ""));
        } else if (type == "transfer") {
            say(d, "transfer " + m.value("state", "") +
                       (m.value("agent", "").empty() ? "" : " · " + m.value("agent", "")) +
                       (m.contains("reason") ? " (" + m.value("reason", "") + ")" : ""));
        } else if (type == "calls") {
            std::string list = "live calls:";
            for (const auto& c : m.value("calls", json::array())) {
                if (!c.is_object()) continue;
                char dur[32];
                std::snprintf(dur, sizeof dur, "%.0fs", c.value("duration_s", 0.0));
                list += "\n  " + std::to_string(c.value("attempt", std::uint64_t{0})) + "  " +
                        c.value("agent", "") + "  " + c.value("campaign", "") + "  " +
                        c.value("phone", "") + "  " + c.value("state", "") + "  " + dur;
                for (const auto& mon : c.value("monitors", json::array()))
                    if (mon.is_object())
                        list +=
                            "  [" + mon.value("supervisor", "") + " " + mon.value("mode", "") + "]";
            }
            say(d, list);
        } else if (type == "monitoring") {
            say(d, m.value("mode", "") + " · attempt " +
                       std::to_string(m.value("attempt", std::uint64_t{0})) + " · agent " +
                       m.value("agent", ""));
        } else if (type == "monitor_ended") {
            say(d, "monitoring ended: " + m.value("reason", ""));
        } else if (type == "message") {
            say(d, "message from " + m.value("from", "") + ": " + m.value("text", ""));
        }
    }

    // The screen pop's history: one line per earlier attempt, newest first.
    static std::string history_lines(const json& m) {
        std::string out;
        const json history = m.value("history", json::array());
        if (!history.is_array()) return out;
        for (const auto& h : history) {
            if (!h.is_object()) continue;
            out += "\n  earlier: " + h.value("at", "") + " " + h.value("outcome", "");
            if (!h.value("disposition", "").empty()) out += " " + h.value("disposition", "");
            if (!h.value("agent", "").empty()) out += " by " + h.value("agent", "");
            if (!h.value("notes", "").empty()) out += " · " + h.value("notes", "");
        }
        return out;
    }

    // --auto: hang up when the talk time is over, dispose when the wrap-up time is.
    // A login the engine was too busy to check: sent again when its second has passed.
    void retry_login(Desk& d) {
        if (!d.login_again_at || Clock::now() < *d.login_again_at) return;
        d.login_again_at.reset();
        if (!d.logged_in) send(d, d.login);
    }

    void act(bool leaving) {
        const auto now = Clock::now();
        for (auto& dp : desks_) {
            Desk& d = *dp;
            if (d.hang_up_at && now >= *d.hang_up_at) {
                d.hang_up_at.reset();
                if (d.in_call) send(d, {{"type", "hangup"}});
            }
            if (d.dispose_at && now >= *d.dispose_at) {
                d.dispose_at.reset();
                send(d, disposition(d));
            }
            if (!leaving && d.next_at && now >= *d.next_at) {
                d.next_at.reset();
                send(d, {{"type", "next"}});
            }
            if (d.dial_at && now >= *d.dial_at) {
                d.dial_at.reset();
                send(d, {{"type", "dial"}});
            }
            retry_login(d);
        }
    }

    json disposition(const Desk& d) {
        std::vector<json> choices;
        for (const auto& c : d.dispositions) {
            const std::string code = c.value("code", "");
            if (!args_.codes.empty()) {
                if (std::find(args_.codes.begin(), args_.codes.end(), code) != args_.codes.end())
                    choices.push_back(c);
            } else if (!c.value("dnc", false)) {
                choices.push_back(c);  // a simulated agent never puts people on the DNC list
            }
        }
        json m = {{"type", "disposition"}, {"attempt", d.attempt}};
        if (choices.empty()) {
            m["code"] = args_.codes.empty() ? "" : args_.codes.front();
            return m;
        }
        std::uniform_int_distribution<std::size_t> pick(0, choices.size() - 1);
        const auto& c = choices[pick(rng_)];
        m["code"] = c.value("code", "");
        if (c.value("callback", false))
            m["callback_at"] = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count() +
                               86400;
        return m;
    }

    // One line typed at the terminal. False to quit.
    bool key(Desk& d) {
        std::string line;
        if (!std::getline(std::cin, line)) return false;
        std::istringstream in(line);
        std::string k;
        in >> k;
        std::string rest;
        std::getline(in, rest);
        if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
        if (k == "r")
            send(d, {{"type", "ready"}});
        else if (k == "p")
            send(d, {{"type", "pause"}, {"reason", rest.empty() ? "break" : rest}});
        else if (k == "h")
            send(d, {{"type", "hangup"}});
        else if (k == "n")
            send(d, {{"type", "next"}});
        else if (k == "c")
            send(d, {{"type", "dial"}});
        else if (k == "s")
            send(d, {{"type", "skip"}});
        else if (k == "hold" || k == "unhold" || k == "mute" || k == "unmute")
            send(d, {{"type", k}});
        else if (k == "rp")
            send(d, {{"type", "record_pause"}});
        else if (k == "rr")
            send(d, {{"type", "record_resume"}});
        else if (k == "k")
            send(d, {{"type", "dtmf"}, {"digits", rest}});
        else if (k == "t" || k == "x")
            send(d, {{"type", k == "t" ? "transfer" : "consult"}, {"agent", rest}});
        else if (k == "tq" || k == "xq")
            send(d, {{"type", k == "tq" ? "transfer" : "consult"}, {"queue", rest}});
        else if (k == "tn" || k == "xn")
            send(d, {{"type", k == "tn" ? "transfer" : "consult"}, {"number", rest}});
        else if (k == "done")
            send(d, {{"type", "complete"}});
        else if (k == "back")
            send(d, {{"type", "cancel"}});
        else if (k == "conf")
            send(d, {{"type", "conference"}});
        else if (k == "calls")
            send(d, {{"type", "calls"}});
        else if (k == "listen" || k == "whisper" || k == "barge") {
            std::uint64_t attempt = 0;
            if (std::from_chars(rest.data(), rest.data() + rest.size(), attempt).ec != std::errc())
                std::printf("%s ATTEMPT: the attempt of a live call (see: calls)\n", k.c_str());
            else
                send(d, {{"type", "monitor"}, {"attempt", attempt}, {"mode", k}});
        } else if (k == "leave")
            send(d, {{"type", "unmonitor"}});
        else if (k == "m") {
            // The number may contain spaces; a last word that is not part of it names a campaign.
            std::string number = rest, campaign;
            const auto space = rest.rfind(' ');
            if (space != std::string::npos &&
                rest.find_first_of("0123456789", space) == std::string::npos) {
                number = rest.substr(0, space);
                campaign = rest.substr(space + 1);
            }
            json m = {{"type", "manual_dial"}, {"phone", number}};
            if (!campaign.empty()) m["campaign"] = campaign;
            send(d, m);
        } else if (k == "q")
            return false;
        else if (k == "d" || k == "cb") {
            std::istringstream r(rest);
            std::string code, when;
            r >> code;
            json m = {{"type", "disposition"}, {"attempt", d.attempt}, {"code", code}};
            if (k == "cb") {
                r >> when;
                m["callback_at"] = when;
            }
            std::string notes;
            std::getline(r, notes);
            if (!notes.empty() && notes[0] == ' ') notes.erase(0, 1);
            if (!notes.empty()) m["notes"] = notes;
            send(d, m);
        } else if (!k.empty()) {
            std::printf("unknown key '%s'\n", k.c_str());
        }
        return true;
    }

    void summary() {
        long calls = 0, disp = 0, errors = 0;
        std::vector<double> ms;
        for (const auto& d : desks_) {
            calls += d->calls;
            disp += d->dispositions_sent;
            errors += d->errors;
            ms.insert(ms.end(), d->offer_ms.begin(), d->offer_ms.end());
        }
        std::sort(ms.begin(), ms.end());
        auto q = [&](double p) {
            return ms.empty() ? 0.0 : ms[static_cast<std::size_t>(p * (ms.size() - 1) + 0.5)];
        };
        if (args_.json_summary) {
            std::printf("%s\n", json_text(json{{"agents", desks_.size()},
                                               {"calls", calls},
                                               {"dispositions", disp},
                                               {"errors", errors},
                                               {"offer_ms_median", q(0.5)},
                                               {"offer_ms_p99", q(0.99)}})
                                    .c_str());
        } else if (!args_.quiet) {
            std::printf(
                "%zu agents: %ld calls, %ld dispositions, %ld errors; screen pop after the "
                "verdict: median %.2f ms, p99 %.2f ms\n",
                desks_.size(), calls, disp, errors, q(0.5), q(0.99));
        }
    }

    AgentArgs args_;
    Distribution talk_, wrap_, preview_;
    std::mt19937_64 rng_;
    zmq::context_t ctx_;
    std::vector<std::unique_ptr<Desk>> desks_;
    std::chrono::milliseconds heartbeat_{2500};
};

}  // namespace

void add_agent_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<AgentArgs>();
    auto* cmd = app.add_subcommand(
        "agent", "An agent desktop in the terminal (or, with --auto, simulated agents)");
    cmd->add_option("--endpoint", args->endpoint, "The engine's agent socket (agents.endpoint)");
    cmd->add_option("--agent", args->id, "Agent id (with --count: the prefix, numbered from 1)");
    cmd->add_option("--phone", args->phone,
                    "Lab mode (no agents file): the softphone's SIP URI the engine calls; %a "
                    "stands for the agent id. With an agents file the phone is the file's or "
                    "the registered softphone");
    auto password_file = std::make_shared<std::string>();
    cmd->add_option("--password-file", *password_file,
                    "A file whose first line is the desktop password (else the environment's "
                    "OUTPACE_AGENT_PASSWORD)");
    cmd->add_option("--campaign", args->campaigns, "Campaigns to serve (default: all)");
    cmd->add_option("--skill", args->skills, "Skills");
    cmd->add_flag("--auto", args->automatic,
                  "Simulated agent: ready, talk, hang up, wrap up, dispose at random");
    cmd->add_option("--count", args->count, "Simulated agents in this process (--auto)")
        ->check(CLI::Range(1, 5000));
    cmd->add_option("--talk", args->talk, "Talk time distribution (--auto)")->capture_default_str();
    cmd->add_option("--wrap", args->wrap, "Wrap-up time distribution (--auto)")
        ->capture_default_str();
    cmd->add_flag("--preview", args->preview, "Ask for and dial contacts (preview campaigns)");
    cmd->add_option("--preview-time", args->preview_time, "Time to look at a preview")
        ->capture_default_str();
    cmd->add_option("--code", args->codes, "Dispositions to choose from (--auto)");
    cmd->add_option("--for", args->duration_s, "Log out after this many seconds (0: until Ctrl-C)");
    cmd->add_option("--seed", args->seed, "Random seed (--auto)");
    cmd->add_flag("--quiet", args->quiet, "Print only the summary");
    cmd->add_flag("--json", args->json_summary, "Summary as JSON");
    auto* server_key = cmd->add_option("--server-key", args->server_key_file,
                                       "CurveZMQ: the engine's public key file");
    cmd->add_option("--key", args->key_file, "CurveZMQ: this desktop's secret key file")
        ->needs(server_key);
    server_key->needs("--key");
    cmd->callback([args, password_file, &exit_code] {
        std::string error;
        if (!password_file->empty()) {
            std::ifstream in(*password_file);
            if (!in || !std::getline(in, args->password)) {
                std::cerr << "outpace agent: cannot read the password from " << *password_file
                          << "\n";
                exit_code = 2;
                return;
            }
        } else if (const char* env = std::getenv("OUTPACE_AGENT_PASSWORD")) {
            args->password = env;
        }
        auto talk = parse_dist(args->talk, &error);
        auto wrap = parse_dist(args->wrap, &error);
        auto preview = parse_dist(args->preview_time, &error);
        if (!talk || !wrap || !preview) {
            std::cerr << "outpace agent: " << error << "\n";
            exit_code = 2;
            return;
        }
        if (!args->server_key_file.empty() &&
            !read_client_keys(args->server_key_file, args->key_file, &args->keys, &error)) {
            std::cerr << "outpace agent: " << error << "\n";
            exit_code = 2;
            return;
        }
        if (args->count > 1 && !args->phone.empty() &&
            args->phone.find("%a") == std::string::npos) {
            std::cerr << "outpace agent: --count needs %a in --phone (one softphone URI each)\n";
            exit_code = 2;
            return;
        }
        std::signal(SIGINT, on_agent_signal);
        std::signal(SIGTERM, on_agent_signal);
        Desktop desk(*args, *talk, *wrap, *preview);
        exit_code = desk.run();
    });
}

}  // namespace outpace::cli
