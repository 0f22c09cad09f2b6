#include "dialer/web/gateway.h"

#include <civetweb.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include <nlohmann/json.hpp>

#include "campaigns/json_text.h"
#include "dialer/engine/agent_channel.h"
#include "dialer/engine/curve.h"
#include "dialer/web/web_http.h"

namespace outpace {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using web::Bucket;
using web::console_request;
using web::cookie_name;
using web::cookie_token;
using web::load_tls_shims;
using web::random_token;
using web::reply;
using web::same_origin;
using namespace std::chrono_literals;

constexpr std::size_t kMaxBody = 4096;          // a login request
constexpr std::size_t kMaxPageMessage = 16384;  // one WebSocket message from a page
constexpr std::size_t kMaxReplay = 100;         // a call's messages kept for a page that reloads
constexpr auto kLoginWait = 30s;                // the engine's answer to a login
constexpr auto kControlWait = 5s;               // the engine's answer on its control socket
constexpr auto kHeartbeat = 2s;                 // the gateway's heartbeats for a seat
void log_line(const std::string& text) {
    std::fprintf(stderr, "outpace web: %s\n", text.c_str());
}

// One browser page's WebSocket. civetweb's threads receive on it; the hub thread sends. The
// mutex keeps a send from touching a connection civetweb is closing.
struct Page {
    std::mutex m;
    mg_connection* conn = nullptr;  // null once closed
    std::string token, ip;
    Bucket bucket;  // its messages
    bool send(const std::string& text) {
        std::lock_guard lock(m);
        return conn &&
               mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, text.data(), text.size()) > 0;
    }
    void close() {
        std::lock_guard lock(m);
        if (conn) mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
    }
};

struct PageHolder {
    std::shared_ptr<Page> page;
};

enum class Role { agent, supervisor };

struct Session {
    std::string token, agent, name;
    Role role = Role::agent;
    Clock::time_point created, detached_at;
    std::shared_ptr<Page> page;
};

struct LoginResult {
    LoginResult() = default;
    LoginResult(int s, json b, std::string t = "")
        : status(s), body(std::move(b)), token(std::move(t)) {}
    int status = 500;
    json body;
    std::string token;
};

// A login (agent) or a supervisor's sign-in waiting for the engine.
struct Pending {
    std::promise<LoginResult> promise;
    std::string request;  // sent again when the engine is busy checking other logins
    Clock::time_point deadline, retry_at = Clock::time_point::max();
};

// An agent's link to the engine: the DEALER the engine knows as this agent's desktop. Its
// routing id is the agent's ("web-ID"), so a gateway restarted under a logged-in agent resumes
// the session with the agent's password (the engine checks it again).
struct Seat {
    std::string agent, token;  // its session, once the engine said logged_in
    std::unique_ptr<zmq::socket_t> dealer;
    Clock::time_point last_sent{};
    // Something goes to the engine at least this often (half its heartbeat, at most kHeartbeat).
    Clock::duration heartbeat = kHeartbeat;
    std::string logged_in, state;  // the engine's last `logged_in` and `state`
    std::vector<std::string> replay;
    std::optional<Pending> pending;
    bool supervise = false;  // a supervisor's sign-in: the seat goes once it is answered
};

// One whole message waiting on `s` (all its frames), without blocking; false when none is.
bool recv_frames(zmq::socket_t& s, std::vector<zmq::message_t>& frames) {
    try {
        zmq::message_t part;
        if (!s.recv(part, zmq::recv_flags::dontwait)) return false;
        frames.push_back(std::move(part));
        while (s.get(zmq::sockopt::rcvmore)) {
            zmq::message_t more;
            if (!s.recv(more, zmq::recv_flags::dontwait)) break;
            frames.push_back(std::move(more));
        }
        return true;
    } catch (const zmq::error_t&) {
        return false;
    }
}

class WebGateway final : public Gateway {
  public:
    explicit WebGateway(const WebConfig& config) : config_(config) {}

    ~WebGateway() override {
        if (server_) mg_stop(server_);  // close handlers still post to the hub: stop it after
        stop_ = true;
        wake();
        if (hub_.joinable()) hub_.join();
        if (wake_fd_ >= 0) ::close(wake_fd_);
    }

    bool start(std::string* error) {
        if (sodium_init() < 0) {
            *error = "libsodium cannot start";
            return false;
        }
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd_ < 0) {
            *error = "eventfd failed";
            return false;
        }
        ctx_.set(zmq::ctxopt::max_sockets, config_.max_sessions * 2 + 64);
        try {
            if (!config_.events.empty()) {
                sub_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::sub);
                if (!secure(*sub_, error)) return false;
                sub_->set(zmq::sockopt::subscribe, "agent.");
                sub_->set(zmq::sockopt::subscribe, "call.");
                sub_->connect(config_.events);
            }
            if (!config_.control.empty() && !open_control(error)) return false;
        } catch (const zmq::error_t& e) {
            *error = std::string("ZeroMQ: ") + e.what();
            return false;
        }
        if (!config_.certificate.empty() && !load_tls_shims(error)) return false;
        mg_init_library(MG_FEATURES_WEBSOCKET |
                        (config_.certificate.empty() ? 0 : MG_FEATURES_TLS));
        const bool tls = !config_.certificate.empty();
        const std::string ports = config_.listen + (tls ? "s" : "");
        const std::string threads = std::to_string(config_.max_pages + 16);
        // Pages get a strict policy: scripts and styles only from here, no framing.
        const std::string headers =
            "Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' "
            "data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer";
        std::vector<const char*> options = {"listening_ports",
                                            ports.c_str(),
                                            "document_root",
                                            config_.root.c_str(),
                                            "enable_directory_listing",
                                            "no",
                                            "num_threads",
                                            threads.c_str(),
                                            "request_timeout_ms",
                                            "10000",
                                            "websocket_timeout_ms",
                                            "3600000",
                                            "additional_header",
                                            headers.c_str(),
                                            "static_file_cache_control",
                                            "no-cache"};
        if (tls) {
            options.insert(options.end(), {"ssl_certificate", config_.certificate.c_str(),
                                           "ssl_protocol_version", "4"});
        }
        options.push_back(nullptr);
        mg_callbacks callbacks{};
        callbacks.log_message = [](const mg_connection*, const char* message) {
            log_line(message);
            return 1;
        };
        // civetweb listens before its handlers can be set: a request in between would be
        // answered 404 as if /api/login did not exist, so requests wait for them.
        callbacks.begin_request = [](mg_connection* c) {
            auto* g = static_cast<WebGateway*>(mg_get_user_data(mg_get_context(c)));
            g->handlers_set_.wait(false);
            return 0;
        };
        server_ = mg_start(&callbacks, this, options.data());
        if (!server_) {
            *error = "cannot listen on " + config_.listen + (tls ? " with TLS" : "") +
                     " (address in use, not this host's, or a bad certificate)";
            return false;
        }
        mg_server_port port{};
        if (mg_get_server_ports(server_, 1, &port) == 1) port_ = port.port;
        mg_set_request_handler(server_, "/api/login", &WebGateway::on_login, this);
        mg_set_request_handler(server_, "/api/logout", &WebGateway::on_logout, this);
        mg_set_request_handler(server_, "/api/session", &WebGateway::on_session, this);
        mg_set_websocket_handler(server_, "/ws", &WebGateway::on_ws_connect,
                                 &WebGateway::on_ws_ready, &WebGateway::on_ws_data,
                                 &WebGateway::on_ws_close, this);
        handlers_set_ = true;
        handlers_set_.notify_all();
        hub_ = std::thread([this] { run_hub(); });
        return true;
    }

    int port() const override { return port_; }
    std::string url() const override {
        std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
        return std::string(config_.certificate.empty() ? "http" : "https") + "://" + host + ":" +
               std::to_string(port_) + "/";
    }

  private:
    // ---- civetweb's threads ----------------------------------------------------------------

    // Runs `fn` on the hub thread and waits for its result.
    template <typename T>
    T on_hub(std::function<T()> fn) {
        auto task = std::make_shared<std::packaged_task<T()>>(std::move(fn));
        auto result = task->get_future();
        post([task] { (*task)(); });
        return result.get();
    }

    void post(std::function<void()> fn) {
        {
            std::lock_guard lock(queue_m_);
            queue_.push_back(std::move(fn));
        }
        wake();
    }

    void wake() {
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0) [[maybe_unused]]
            auto n = ::write(wake_fd_, &one, sizeof one);
    }

    static std::string read_body(mg_connection* c, bool* too_big) {
        std::string body;
        char buf[1024];
        for (int n; (n = mg_read(c, buf, sizeof buf)) > 0;) {
            body.append(buf, static_cast<std::size_t>(n));
            if (body.size() > kMaxBody) {
                *too_big = true;
                return "";
            }
        }
        return body;
    }

    std::string cookie_header(bool supervisor, const std::string& token, bool clear = false) const {
        std::string h = std::string("Set-Cookie: ") + cookie_name(supervisor) + "=" +
                        (clear ? "" : token) + "; Path=/; HttpOnly; SameSite=Strict";
        if (!config_.certificate.empty()) h += "; Secure";
        if (clear) h += "; Max-Age=0";
        return h + "\r\n";
    }

    static int on_login(mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        const mg_request_info* ri = mg_get_request_info(c);
        if (std::string(ri->request_method) != "POST") {
            reply(c, 405, {{"error", "POST a JSON object: agent, password, role"}});
            return 405;
        }
        if (!same_origin(c)) {
            reply(c, 403, {{"error", "this page is not from this site"}});
            return 403;
        }
        const std::string ip = ri->remote_addr;
        double wait = 0;
        {
            std::lock_guard lock(g->logins_m_);
            if (g->login_buckets_.size() > 100'000) g->login_buckets_.clear();
            auto& b = g->login_buckets_[ip];
            const double rate = g->config_.logins_per_minute / 60;
            if (!b.take(rate, g->config_.login_burst)) wait = b.wait_s(rate);
        }
        if (wait > 0) {
            reply(c, 429,
                  {{"error", "too many logins from this address; try again in " +
                                 std::to_string(static_cast<int>(wait) + 1) + " s"}});
            return 429;
        }
        bool too_big = false;
        const std::string body = read_body(c, &too_big);
        const json req = json::parse(body, nullptr, false);
        if (too_big || req.is_discarded() || !req.is_object() || !req.contains("agent") ||
            !req["agent"].is_string() || !req.contains("password") ||
            !req["password"].is_string() ||
            (req.contains("role") && req["role"] != "agent" && req["role"] != "supervisor") ||
            (req.contains("phone") && !req["phone"].is_string())) {
            reply(c, too_big ? 413 : 400,
                  {{"error", "a login is {\"agent\", \"password\", \"role\": agent|supervisor}"}});
            return too_big ? 413 : 400;
        }
        const bool supervisor = req.value("role", std::string("agent")) == "supervisor";
        json engine_req = {{"type", supervisor ? "supervise" : "login"},
                           {"agent", req["agent"]},
                           {"password", req["password"]}};
        if (!supervisor && req.contains("phone") && !req["phone"].get<std::string>().empty())
            engine_req["phone"] = req["phone"];
        std::string error;
        if (!parse_agent_request(json_text(engine_req), &error)) {
            reply(c, 400, {{"error", error}});
            return 400;
        }
        auto result = std::make_shared<std::promise<LoginResult>>();
        auto future = result->get_future();
        g->post([g, engine_req, supervisor, result]() mutable {
            g->begin_login(engine_req, supervisor, std::move(*result));
        });
        if (future.wait_for(kLoginWait + 5s) != std::future_status::ready) {
            reply(c, 504, {{"error", "the engine did not answer"}});
            return 504;
        }
        LoginResult r = future.get();
        reply(c, r.status, r.body, r.token.empty() ? "" : g->cookie_header(supervisor, r.token));
        return r.status;
    }

    static int on_logout(mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        if (std::string(mg_get_request_info(c)->request_method) != "POST" || !same_origin(c)) {
            reply(c, 403, {{"error", "POST from this site"}});
            return 403;
        }
        const std::string token = cookie_token(c);
        g->post([g, token] { g->end_session(token, "logged out", true); });
        reply(c, 200, {{"ok", true}}, g->cookie_header(console_request(c), "", true));
        return 200;
    }

    static int on_session(mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        const std::string token = cookie_token(c);
        const Role role = console_request(c) ? Role::supervisor : Role::agent;
        const json who = g->on_hub<json>([g, token, role]() -> json {
            auto it = g->sessions_.find(token);
            if (it == g->sessions_.end() || it->second.role != role) return nullptr;
            return {{"agent", it->second.agent},
                    {"name", it->second.name},
                    {"role", it->second.role == Role::supervisor ? "supervisor" : "agent"}};
        });
        if (who.is_null()) {
            reply(c, 401, {{"error", token.empty() ? "not logged in" : "the session has ended"}});
            return 401;
        }
        reply(c, 200, who);
        return 200;
    }

    static int on_ws_connect(const mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        if (!same_origin(c)) return 1;
        const std::string token = cookie_token(c);
        if (token.empty()) return 1;
        const Role role = console_request(c) ? Role::supervisor : Role::agent;
        const bool known = g->on_hub<bool>([g, token, role] {
            auto it = g->sessions_.find(token);
            return it != g->sessions_.end() && it->second.role == role &&
                   g->pages_ < g->config_.max_pages;
        });
        if (!known) return 1;
        auto* holder = new PageHolder{std::make_shared<Page>()};
        holder->page->token = token;
        holder->page->ip = mg_get_request_info(c)->remote_addr;
        mg_set_user_connection_data(c, holder);
        return 0;
    }

    static void on_ws_ready(mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        auto* holder = static_cast<PageHolder*>(mg_get_user_connection_data(c));
        if (!holder) return;
        {
            std::lock_guard lock(holder->page->m);
            holder->page->conn = c;
        }
        g->post([g, page = holder->page] { g->attach(page); });
    }

    static int on_ws_data(mg_connection* c, int flags, char* data, std::size_t len, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        auto* holder = static_cast<PageHolder*>(mg_get_user_connection_data(c));
        if (!holder) return 0;
        const int opcode = flags & 0x0f;
        if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) return 0;
        if (opcode == MG_WEBSOCKET_OPCODE_PING) {
            std::lock_guard lock(holder->page->m);
            mg_websocket_write(c, MG_WEBSOCKET_OPCODE_PONG, data, len);
            return 1;
        }
        if (opcode != MG_WEBSOCKET_OPCODE_TEXT) return 1;  // pongs; binary is not ours
        auto page = holder->page;
        auto refuse = [&](const std::string& why) {
            page->send(json_text({{"type", "error"}, {"reason", why}}));
        };
        if (!(flags & 0x80) || len > kMaxPageMessage) {
            refuse("a message is one JSON object of at most 16 KiB in one frame");
            return 1;
        }
        if (!page->bucket.take(g->config_.messages_per_second, g->config_.message_burst)) {
            refuse("too many messages; slow down");
            return 1;
        }
        g->post([g, page, text = std::string(data, len)] { g->from_page(page, text); });
        return 1;
    }

    static void on_ws_close(const mg_connection* c, void* self) {
        auto* g = static_cast<WebGateway*>(self);
        auto* holder = static_cast<PageHolder*>(mg_get_user_connection_data(c));
        if (!holder) return;
        {
            std::lock_guard lock(holder->page->m);
            holder->page->conn = nullptr;
        }
        g->post([g, page = holder->page] { g->detach(page); });
        delete holder;
    }

    // ---- the hub thread: every ZeroMQ socket and every session ----------------------------

    bool secure(zmq::socket_t& s, std::string* error) {
        s.set(zmq::sockopt::linger, 1000);
        return !config_.keys.enabled() || curve_client(s, config_.keys, error);
    }

    bool open_control(std::string* error) {
        control_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
        if (!secure(*control_, error)) return false;
        control_->set(zmq::sockopt::linger, 0);
        control_->connect(config_.control);
        return true;
    }

    void run_hub() {
        Clock::time_point next_tick{};
        while (!stop_) {
            std::vector<zmq::pollitem_t> items;
            std::vector<std::string> seat_ids;
            items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
            if (sub_) items.push_back({sub_->handle(), 0, ZMQ_POLLIN, 0});
            if (control_) items.push_back({control_->handle(), 0, ZMQ_POLLIN, 0});
            const std::size_t first_seat = items.size();
            for (auto& [id, seat] : seats_) {
                items.push_back({seat->dealer->handle(), 0, ZMQ_POLLIN, 0});
                seat_ids.push_back(id);
            }
            try {
                zmq::poll(items.data(), items.size(), 200ms);
            } catch (const zmq::error_t&) {
                continue;
            }
            std::uint64_t n;
            while (::read(wake_fd_, &n, sizeof n) > 0) {
            }
            std::deque<std::function<void()>> work;
            {
                std::lock_guard lock(queue_m_);
                work.swap(queue_);
            }
            for (auto& fn : work) fn();
            std::size_t i = 1;
            if (sub_ && (items[i++].revents & ZMQ_POLLIN)) read_events();
            if (control_ && (items[i++].revents & ZMQ_POLLIN)) read_control();
            for (std::size_t k = 0; k < seat_ids.size(); ++k)
                if (items[first_seat + k].revents & ZMQ_POLLIN) read_seat(seat_ids[k]);
            if (Clock::now() >= next_tick) {
                next_tick = Clock::now() + 250ms;
                tick();
            }
        }
        for (auto& [token, s] : sessions_)
            if (s.page)
                s.page->send(json_text(
                    {{"type", "session_ended"}, {"reason", "the web gateway is stopping"}}));
    }

    // Logins: an agent's goes on its seat (made for it if new), a supervisor's on a seat of its
    // own that goes when answered.
    void begin_login(const json& req, bool supervisor, std::promise<LoginResult> promise) {
        const std::string agent = req["agent"];
        const std::string key = supervisor ? "sv-" + random_token().substr(0, 16) : agent;
        Seat* seat = nullptr;
        if (auto it = seats_.find(key); it != seats_.end()) {
            seat = it->second.get();
            if (seat->pending) {
                promise.set_value({409, {{"error", "a login for this agent is being checked"}}});
                return;
            }
        } else {
            // A new session (a re-login on an agent's seat replaces its old one): room for it,
            // counting the logins being checked, if need be by ending the longest idle session.
            const auto full = [&] {
                std::size_t checking = 0;
                for (const auto& [k, st] : seats_) checking += st->token.empty();
                return sessions_.size() + checking >=
                       static_cast<std::size_t>(config_.max_sessions);
            };
            if (full()) expire_oldest_detached();
            if (full()) {
                promise.set_value({503, {{"error", "the gateway has no room for more sessions"}}});
                return;
            }
            auto s = std::make_unique<Seat>();
            s->agent = agent;
            s->supervise = supervisor;
            s->dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
            std::string error;
            if (!secure(*s->dealer, &error)) {
                promise.set_value({500, {{"error", error}}});
                return;
            }
            s->dealer->set(zmq::sockopt::routing_id, supervisor ? key : "web-" + agent);
            s->dealer->connect(config_.agents);
            seat = s.get();
            seats_[key] = std::move(s);
        }
        seat->pending.emplace();
        seat->pending->promise = std::move(promise);
        seat->pending->request = json_text(req);
        seat->pending->deadline = Clock::now() + kLoginWait;
        send_seat(*seat, seat->pending->request);
    }

    void send_seat(Seat& seat, const std::string& text) {
        try {
            seat.dealer->send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
        }
        seat.last_sent = Clock::now();
    }

    void read_seat(const std::string& id) {
        for (int i = 0; i < 64; ++i) {
            auto it = seats_.find(id);
            if (it == seats_.end()) return;
            zmq::message_t m;
            try {
                if (!it->second->dealer->recv(m, zmq::recv_flags::dontwait)) return;
            } catch (const zmq::error_t&) {
                return;
            }
            from_engine(id, m.to_string());
        }
    }

    void from_engine(const std::string& id, const std::string& text) {
        Seat& seat = *seats_.at(id);
        const json m = json::parse(text, nullptr, false);
        if (!m.is_object() || !m.contains("type") || !m["type"].is_string()) return;
        const std::string type = m["type"];
        if (type == "heartbeat") return;  // the answer to our own heartbeats
        if (seat.pending && (type == "logged_in" || type == "supervisor" ||
                             (type == "error" && (m.value("request", "") == "login" ||
                                                  m.value("request", "") == "supervise")))) {
            answer_login(id, seat, m, text);
            return;
        }
        if (seat.supervise) return;
        Session* session = find_session(seat.token);
        if (type == "error" && m.value("reason", "") == "log in first") {
            // The engine does not know this desktop: it restarted, or logged the agent out.
            end_session(seat.token, "the engine restarted or ended this session; log in again",
                        false);
            remove_seat(id);
            return;
        }
        if (type == "state") seat.state = text;
        if (type == "offer" || type == "preview") seat.replay.clear();
        if (type == "offer" || type == "preview" || type == "connected" || type == "hangup" ||
            type == "wrapup" || type == "controls" || type == "dialing" || type == "dtmf") {
            if (seat.replay.size() < kMaxReplay) seat.replay.push_back(text);
        }
        if (type == "disposed" || type == "wrapup_timeout") seat.replay.clear();
        if (session && session->page) session->page->send(text);
        if (type == "logged_out") {
            end_session(seat.token, "logged out: " + m.value("reason", std::string()), false);
            remove_seat(id);
        }
    }

    void answer_login(const std::string& id, Seat& seat, const json& m, const std::string& text) {
        Pending& p = *seat.pending;
        const std::string type = m["type"];
        if (type == "error") {
            const std::string reason = m.value("reason", std::string());
            if (reason.rfind("busy", 0) == 0) {  // the engine checks other logins: ask again
                p.retry_at = Clock::now() + 1s;
                return;
            }
            p.promise.set_value({401, {{"error", reason}}});
            seat.pending.reset();
            if (seat.token.empty()) remove_seat(id);
            return;
        }
        // A new session; one the seat had before (another browser, or an older login of this
        // one) ends: the agent is at one desktop.
        const std::string old = seat.token;
        Session s;
        s.token = random_token();
        s.agent = seat.agent;
        s.name = m.value("name", seat.agent);
        s.role = type == "supervisor" ? Role::supervisor : Role::agent;
        s.created = s.detached_at = Clock::now();
        LoginResult r{200,
                      {{"agent", s.agent},
                       {"name", s.name},
                       {"role", s.role == Role::supervisor ? "supervisor" : "agent"}},
                      s.token};
        if (s.role == Role::agent) {
            r.body["state"] = m.value("state", std::string());
            seat.logged_in = text;
            seat.token = s.token;
            if (const double hb = m.value("heartbeat_s", 0.0); hb > 0)
                seat.heartbeat = std::min<Clock::duration>(
                    kHeartbeat, std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(hb / 2)));
        }
        sessions_[s.token] = s;
        if (!old.empty() && old != s.token)
            end_session(old, "this agent logged in again in another window", false);
        p.promise.set_value(std::move(r));
        seat.pending.reset();
        if (seat.supervise) remove_seat(id);
        log_line((s.role == Role::supervisor ? "supervisor " : "agent ") + s.agent + " logged in");
    }

    void remove_seat(const std::string& id) {
        auto it = seats_.find(id);
        if (it == seats_.end()) return;
        if (it->second->pending)
            it->second->pending->promise.set_value({503, {{"error", "the session ended"}}});
        seats_.erase(it);
    }

    Session* find_session(const std::string& token) {
        auto it = sessions_.find(token);
        return it == sessions_.end() ? nullptr : &it->second;
    }

    Seat* seat_of(const Session& s) {
        if (s.role != Role::agent) return nullptr;
        auto it = seats_.find(s.agent);
        return it == seats_.end() || it->second->token != s.token ? nullptr : it->second.get();
    }

    // Ends a session: its page is told why and closed; an agent's is logged out of the engine
    // when `logout` (the agent asked, or the session expired).
    void end_session(const std::string& token, const std::string& why, bool logout) {
        auto it = sessions_.find(token);
        if (it == sessions_.end()) return;
        Session s = it->second;
        sessions_.erase(it);
        log_line((s.role == Role::supervisor ? "supervisor " : "agent ") + s.agent +
                 ": session ended (" + why + ")");
        if (s.page) {
            s.page->send(json_text({{"type", "session_ended"}, {"reason", why}}));
            s.page->close();
            --pages_;
            if (s.role == Role::supervisor) --consoles_;
        }
        if (Seat* seat = seat_of(s)) {
            seat->token.clear();
            if (logout) {
                send_seat(*seat, json_text({{"type", "logout"}}));
                remove_seat(s.agent);  // the DEALER lingers a second to deliver it
            }
        }
    }

    void expire_oldest_detached() {
        const Session* oldest = nullptr;
        for (const auto& [token, s] : sessions_)
            if (!s.page && (!oldest || s.detached_at < oldest->detached_at)) oldest = &s;
        if (oldest) end_session(oldest->token, "too many sessions", true);
    }

    void attach(const std::shared_ptr<Page>& page) {
        Session* s = find_session(page->token);
        if (!s) {
            page->send(json_text({{"type", "session_ended"}, {"reason", "the session has ended"}}));
            page->close();
            return;
        }
        if (s->page) {
            // A second tab (or a reload whose old page is still closing): the newest wins.
            s->page->send(
                json_text({{"type", "session_moved"},
                           {"reason", "this desktop was opened in another tab or window"}}));
            s->page->close();
        } else {
            ++pages_;
            if (s->role == Role::supervisor) ++consoles_;
        }
        s->page = page;
        page->send(json_text({{"type", "session"},
                              {"agent", s->agent},
                              {"name", s->name},
                              {"role", s->role == Role::supervisor ? "supervisor" : "agent"}}));
        if (Seat* seat = seat_of(*s)) {
            if (!seat->logged_in.empty()) page->send(seat->logged_in);
            if (!seat->state.empty()) page->send(seat->state);
            for (const auto& m : seat->replay) page->send(m);
        }
        if (s->role == Role::supervisor) {
            if (!floor_.empty()) page->send(floor_);
            poll_status();
        }
    }

    void detach(const std::shared_ptr<Page>& page) {
        Session* s = find_session(page->token);
        if (!s || s->page != page) return;
        s->page.reset();
        s->detached_at = Clock::now();
        --pages_;
        if (s->role == Role::supervisor) --consoles_;
    }

    void from_page(const std::shared_ptr<Page>& page, const std::string& text) {
        Session* s = find_session(page->token);
        if (!s || s->page != page) return;
        auto refuse = [&](const std::string& why, const std::string& request = "") {
            json e = {{"type", "error"}, {"reason", why}};
            if (!request.empty()) e["request"] = request;
            page->send(json_text(e));
        };
        if (s->role == Role::supervisor) return from_console(*s, text, refuse);
        std::string error;
        const auto r = parse_agent_request(text, &error);
        if (!r) return refuse(error);
        if (r->type == AgentRequest::Type::login || r->type == AgentRequest::Type::supervise)
            return refuse("log in on the page's form", to_string(r->type));
        Seat* seat = seat_of(*s);
        if (!seat) return refuse("not connected to the engine; log in again");
        send_seat(*seat, text);
    }

    template <typename Refuse>
    void from_console(Session& s, const std::string& text, const Refuse& refuse) {
        const json m = json::parse(text, nullptr, false);
        if (!m.is_object() || !m.contains("type") || !m["type"].is_string())
            return refuse("a message is one JSON object with a 'type'");
        const std::string type = m["type"];
        auto field = [&](const char* key, std::size_t max) -> std::optional<std::string> {
            if (!m.contains(key)) return std::string();
            if (!m[key].is_string() || m[key].get<std::string>().size() > max) return std::nullopt;
            return m[key].get<std::string>();
        };
        if (type == "heartbeat") return;
        if (type == "pause_campaign" || type == "resume_campaign") {
            const auto campaign = field("campaign", 256);
            if (!campaign || campaign->empty())
                return refuse("'" + type + "' needs 'campaign'", type);
            json req = {{"command", type == "pause_campaign" ? "pause" : "resume"},
                        {"campaign", *campaign}};
            log_line("supervisor " + s.agent + ": " + req["command"].get<std::string>() + " " +
                     *campaign);
            return control(req, s.token, type);
        }
        if (type == "message") {
            const auto text_field = field("text", 2000);
            const auto agent = field("agent", 64);
            const auto campaign = field("campaign", 256);
            if (!text_field || text_field->empty() || !agent || !campaign)
                return refuse(
                    "'message' needs 'text' (at most 2000 bytes), and 'agent' or "
                    "'campaign' (or neither: everyone)",
                    type);
            json req = {{"command", "message"}, {"text", *text_field}, {"from", s.agent}};
            if (!agent->empty()) req["agent"] = *agent;
            if (!campaign->empty()) req["campaign"] = *campaign;
            return control(req, s.token, type);
        }
        refuse("unknown type '" + type + "'");
    }

    // ---- the engine's control socket: one request at a time in order ---------------------

    struct ControlWait {
        Clock::time_point sent;
        std::function<void(const json*)> done;  // null: no answer
    };

    void control(const json& req, const std::string& token, const std::string& request) {
        if (!control_) {
            if (Session* s = find_session(token); s && s->page)
                s->page->send(json_text({{"type", "error"},
                                         {"reason", "the gateway has no engine.control"},
                                         {"request", request}}));
            return;
        }
        control_request(req, [this, token, request](const json* r) {
            Session* s = find_session(token);
            if (!s || !s->page) return;
            if (r && r->value("ok", false))
                s->page->send(json_text({{"type", "done"}, {"request", request}, {"reply", *r}}));
            else
                s->page->send(json_text({{"type", "error"},
                                         {"reason", r ? r->value("error", std::string("refused"))
                                                      : std::string("the engine did not answer")},
                                         {"request", request}}));
        });
    }

    void control_request(const json& req, std::function<void(const json*)> done) {
        const std::string text = json_text(req);
        try {
            control_->send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            control_->send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
            done(nullptr);
            return;
        }
        control_waits_.push_back({Clock::now(), std::move(done)});
    }

    void read_control() {
        for (int i = 0; i < 64; ++i) {
            std::vector<zmq::message_t> frames;
            if (!recv_frames(*control_, frames)) return;
            if (control_waits_.empty()) continue;
            auto wait = std::move(control_waits_.front());
            control_waits_.pop_front();
            const json r = json::parse(frames.back().to_string(), nullptr, false);
            wait.done(r.is_object() ? &r : nullptr);
        }
    }

    void check_control() {
        if (control_waits_.empty() || Clock::now() - control_waits_.front().sent < kControlWait)
            return;
        // The engine went away with our requests: a new socket, every wait answered "no".
        auto waits = std::move(control_waits_);
        control_waits_.clear();
        std::string error;
        try {
            open_control(&error);
        } catch (const zmq::error_t&) {
        }
        for (auto& w : waits) w.done(nullptr);
    }

    // Consoles get the floor (the engine's status: agents, campaigns) every second while any is
    // open, and the engine's events as they come.
    void poll_status() {
        if (!control_ || status_pending_) return;
        status_pending_ = true;
        control_request({{"command", "status"}}, [this](const json* r) {
            status_pending_ = false;
            const bool up = r && r->value("ok", false);
            json floor = {{"type", "floor"}, {"engine_up", up}};
            if (up) {
                floor["agents"] = r->value("agents", json::array());
                floor["campaigns"] = r->value("campaigns", json::array());
                floor["at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
            }
            floor_ = json_text(floor);
            for (auto& [token, s] : sessions_)
                if (s.role == Role::supervisor && s.page) s.page->send(floor_);
        });
    }

    void read_events() {
        for (int i = 0; i < 256; ++i) {
            std::vector<zmq::message_t> frames;
            if (!recv_frames(*sub_, frames)) return;
            if (frames.size() != 2 || consoles_ == 0) continue;
            const json event = json::parse(frames[1].to_string(), nullptr, false);
            if (!event.is_object()) continue;
            const std::string text =
                json_text({{"type", "event"}, {"topic", frames[0].to_string()}, {"event", event}});
            for (auto& [token, s] : sessions_)
                if (s.role == Role::supervisor && s.page) s.page->send(text);
        }
    }

    void tick() {
        const auto now = Clock::now();
        std::vector<std::string> ended, expired;
        for (auto& [token, s] : sessions_) {
            if (now - s.created > config_.lifetime)
                expired.push_back(token);
            else if (!s.page && now - s.detached_at > config_.idle)
                ended.push_back(token);
        }
        for (const auto& t : expired) end_session(t, "the session reached its time limit", true);
        for (const auto& t : ended) end_session(t, "no page was open for this session", true);
        std::vector<std::string> gone;
        for (auto& [id, seat] : seats_) {
            if (seat->pending) {
                if (now >= seat->pending->deadline) {
                    seat->pending->promise.set_value(
                        {504, {{"error", "the engine did not answer (is it running?)"}}});
                    seat->pending.reset();
                    if (seat->token.empty()) gone.push_back(id);
                } else if (now >= seat->pending->retry_at) {
                    seat->pending->retry_at = Clock::time_point::max();
                    send_seat(*seat, seat->pending->request);
                }
                continue;
            }
            if (!seat->token.empty() && now - seat->last_sent >= seat->heartbeat)
                send_seat(*seat, R"({"type":"heartbeat"})");
        }
        for (const auto& id : gone) remove_seat(id);
        check_control();
        if (now >= next_status_) {
            next_status_ = now + 1s;
            if (consoles_ > 0) poll_status();
        }
    }

    WebConfig config_;
    mg_context* server_ = nullptr;
    std::atomic<bool> handlers_set_{false};  // requests wait for it (see begin_request)
    int port_ = 0;
    std::thread hub_;
    std::atomic<bool> stop_{false};
    int wake_fd_ = -1;
    std::mutex queue_m_;
    std::deque<std::function<void()>> queue_;
    std::mutex logins_m_;
    std::unordered_map<std::string, Bucket> login_buckets_;  // by client address
    // The hub thread's alone:
    zmq::context_t ctx_;
    std::unique_ptr<zmq::socket_t> sub_, control_;
    std::deque<ControlWait> control_waits_;
    bool status_pending_ = false;
    Clock::time_point next_status_{};
    std::string floor_;                                   // the last floor sent to consoles
    std::map<std::string, std::unique_ptr<Seat>> seats_;  // by agent id (supervisors: sv-...)
    std::unordered_map<std::string, Session> sessions_;   // by token
    int pages_ = 0, consoles_ = 0;
};

}  // namespace

std::unique_ptr<Gateway> Gateway::start(const WebConfig& config, std::string* error) {
    auto g = std::make_unique<WebGateway>(config);
    if (!g->start(error)) return nullptr;
    return g;
}

}  // namespace outpace
