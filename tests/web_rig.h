// The web desktop's tests: a real Chromium (tests/web/browser.py, through chromedriver) and the
// gateway (`outpace web`) in front of a real engine.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <regex>

#include "tests/agent_rig.h"

namespace outpace::test {

// Chromium, one JSON command per line (tests/web/browser.py). Windows are tabs of one browser.
class Browser {
  public:
    explicit Browser(const std::string& log) {
        int in[2], out[2];
        REQUIRE(::pipe(in) == 0);
        REQUIRE(::pipe(out) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err >= 0) ::dup2(err, 2);
            ::close(in[1]);
            ::close(out[0]);
            // Chromium's profiles and scratch directories go in the test's folder (removed with
            // it), not /tmp, where every run left a hundred behind.
            const auto folder = log.substr(0, log.rfind('/'));
            if (!folder.empty()) ::setenv("TMPDIR", folder.c_str(), 1);
            const std::string script = std::string(OUTPACE_SOURCE_DIR) + "/tests/web/browser.py";
            // Debian's python3: its selenium package (a python3 of pyenv or a venv may be first on
            // PATH).
            ::execl("/usr/bin/python3", "python3", script.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_ = in[1];
        from_ = out[0];
        const auto hello = read_line(std::chrono::seconds(60));
        REQUIRE_MESSAGE(hello.find("ready") != std::string::npos,
                        "Chromium did not start: " << hello << read_file(log));
    }
    ~Browser() {
        if (to_ >= 0) {
            const std::string quit = "{\"op\":\"quit\"}\n";
            [[maybe_unused]] auto n = ::write(to_, quit.data(), quit.size());
            read_line(std::chrono::seconds(10));
            ::close(to_);
        }
        if (from_ >= 0) ::close(from_);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    // The answer to one command: {"ok": ..., "value" or "error"}.
    json call(const json& command, std::chrono::seconds limit = std::chrono::seconds(40)) {
        const std::string line = command.dump() + "\n";
        REQUIRE(::write(to_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        const auto answer = read_line(limit);
        auto j = json::parse(answer, nullptr, false);
        if (j.is_discarded()) return {{"ok", false}, {"error", "no answer: " + answer}};
        return j;
    }
    // The value of a command that must succeed.
    json value(const json& command) {
        const auto r = call(command);
        REQUIRE_MESSAGE(r.value("ok", false), command.dump() << " -> " << r.dump());
        return r["value"];
    }
    bool ok(const json& command) { return call(command).value("ok", false); }

  private:
    std::string read_line(std::chrono::seconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (true) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0) return "";
            pollfd p{from_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
            char buf[4096];
            const auto n = ::read(from_, buf, sizeof buf);
            if (n <= 0) return "";
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    std::string buffer_;
};

// The gateway on a free loopback port, bridging to an engine's agents, events and control
// sockets; `extra`: more of its config (a sessions section).
struct WebGatewayProcess {
    WebGatewayProcess(Rig& rig, int agents_port, int events_port, int control_port,
                      const std::string& extra = "", bool tls = false,
                      const std::string& engine_keys = "")
        : port(free_port()), tls_(tls) {
        const auto config = rig.write(
            "web.yaml", "listen: 127.0.0.1:" + std::to_string(port) + "\nroot: " +
                            std::string(OUTPACE_SOURCE_DIR) + "/dialer/web/site\nengine:\n" +
                            "  agents: tcp://127.0.0.1:" + std::to_string(agents_port) + "\n" +
                            "  events: tcp://127.0.0.1:" + std::to_string(events_port) + "\n" +
                            "  control: tcp://127.0.0.1:" + std::to_string(control_port) + "\n" +
                            engine_keys + extra);
        config_ = config;
        log_ = rig.file("web.log");
        restart();
    }
    // Starts it (again, on the same port: the old process is stopped first).
    void restart() {
        child.reset();
        child = std::make_unique<Child>(
            std::vector<std::string>{OUTPACE_BINARY, "web", "--config", config_}, log_);
        REQUIRE_MESSAGE(wait_tcp_listening(port), read_file(log_));
    }
    std::string url(const std::string& page = "") const {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/" +
               page;
    }
    int port;
    bool tls_;
    std::string config_, log_;
    std::unique_ptr<Child> child;
};

// A bare HTTP/1.1 and WebSocket client on loopback, for what a browser would never send (foreign
// origins, floods, malformed frames).
class RawHttp {
  public:
    explicit RawHttp(int port) : port_(port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~RawHttp() { ::close(fd_); }
    RawHttp(const RawHttp&) = delete;
    RawHttp& operator=(const RawHttp&) = delete;

    void send_raw(const std::string& bytes) {
        REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
    }
    // One response's head and body (by Content-Length).
    std::pair<std::string, std::string> response() {
        while (buffer_.find("\r\n\r\n") == std::string::npos)
            if (!more()) return {buffer_, ""};
        const auto end = buffer_.find("\r\n\r\n") + 4;
        std::string head = buffer_.substr(0, end);
        buffer_.erase(0, end);
        std::size_t length = 0;
        std::smatch m;
        if (std::regex_search(head, m, std::regex("Content-Length: (\\d+)", std::regex::icase)))
            length = std::stoul(m[1]);
        while (buffer_.size() < length)
            if (!more()) break;
        std::string body = buffer_.substr(0, std::min(length, buffer_.size()));
        buffer_.erase(0, body.size());
        return {head, body};
    }
    // POST `body` to `path` with these extra header lines; the response.
    std::pair<std::string, std::string> post(const std::string& path, const std::string& body,
                                             const std::string& headers) {
        send_raw("POST " + path + " HTTP/1.1\r\nHost: " + host() + "\r\n" + headers +
                 "Content-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);
        return response();
    }
    // GET `path` with these extra header lines; the response.
    std::pair<std::string, std::string> get(const std::string& path, const std::string& headers) {
        send_raw("GET " + path + " HTTP/1.1\r\nHost: " + host() + "\r\n" + headers + "\r\n");
        return response();
    }
    // The WebSocket upgrade of /ws with these extra header lines; the response's head.
    std::string upgrade(const std::string& headers) {
        send_raw("GET /ws HTTP/1.1\r\nHost: " + host() +
                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                 headers + "\r\n");
        return response().first;
    }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    // A client frame (masked, as RFC 6455 requires of clients).
    void frame(int opcode, const std::string& payload, bool fin = true) {
        std::string f;
        f += static_cast<char>((fin ? 0x80 : 0) | opcode);
        if (payload.size() < 126) {
            f += static_cast<char>(0x80 | payload.size());
        } else {
            f += static_cast<char>(0x80 | 126);
            f += static_cast<char>(payload.size() >> 8);
            f += static_cast<char>(payload.size() & 0xff);
        }
        const char mask[4] = {0x12, 0x34, 0x56, 0x78};
        f.append(mask, 4);
        for (std::size_t i = 0; i < payload.size(); ++i)
            f += static_cast<char>(payload[i] ^ mask[i % 4]);
        send_raw(f);
    }
    // The next text frame from the server ("" when none within the timeout).
    std::string text_frame() {
        while (true) {
            while (buffer_.size() < 2)
                if (!more()) return "";
            const int opcode = buffer_[0] & 0x0f;
            std::size_t length = static_cast<unsigned char>(buffer_[1]) & 0x7f, at = 2;
            if (length == 126) {
                while (buffer_.size() < 4)
                    if (!more()) return "";
                length = (static_cast<unsigned char>(buffer_[2]) << 8) |
                         static_cast<unsigned char>(buffer_[3]);
                at = 4;
            }
            while (buffer_.size() < at + length)
                if (!more()) return "";
            std::string payload = buffer_.substr(at, length);
            buffer_.erase(0, at + length);
            if (opcode == 1) return payload;
            if (opcode == 8) return "";
        }
    }

  private:
    bool more() {
        char buf[4096];
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        buffer_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    int port_ = 0;
    int fd_ = -1;
    std::string buffer_;
};

// Where the tests keep their screenshots for a reviewer: BUILD/web-screenshots/NAME.png.
inline std::string screenshot_path(const std::string& name) {
    const std::string dir = std::string(OUTPACE_BUILD_DIR) + "/web-screenshots";
    std::filesystem::create_directories(dir);
    return dir + "/" + name + ".png";
}

// Shared by the web tests (web_desktop_test.cc, web_gateway_test.cc).
// An agents file: alice and bob (agents; bob has the skill `closing`) and sue (a supervisor),
// whose phones are the SIPp softphones.
inline std::string web_agents(Rig& rig, int phones_port) {
    return rig.write("agents.yaml",
                     "agents:\n  - id: alice\n    name: Alice Martin\n"
                     "    desktop_password: \"" +
                         quick_hash("alice-pw") +
                         "\"\n    phone: sip:alice@127.0.0.1:" + std::to_string(phones_port) +
                         "\n  - id: sue\n    role: supervisor\n"
                         "    desktop_password: \"" +
                         quick_hash("sue-pw") +
                         "\"\n    phone: sip:sue@127.0.0.1:" + std::to_string(phones_port) +
                         "\n  - id: bob\n    name: Bob Closer\n    skills: [closing]\n"
                         "    desktop_password: \"" +
                         quick_hash("bob-pw") +
                         "\"\n    phone: sip:bob@127.0.0.1:" + std::to_string(phones_port) + "\n");
}

inline std::string engine_extra(int agents, int events, int control, const std::string& accounts,
                                int missed_heartbeats = 3) {
    return "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents) +
           "\", events: \"tcp://127.0.0.1:" + std::to_string(events) +
           "\", heartbeat: 1s, missed_heartbeats: " + std::to_string(missed_heartbeats) +
           ", accounts: " + accounts + "}\ncontrol: \"tcp://127.0.0.1:" + std::to_string(control) +
           "\"\n";
}

inline void log_in(Browser& b, const std::string& window, const std::string& url,
                   const std::string& who, const std::string& password) {
    b.value({{"op", "open"}, {"window", window}, {"url", url}});
    b.value({{"op", "type"}, {"css", "#login-agent"}, {"text", who}});
    // Enter in the password field, as a person at the keyboard does.
    b.value({{"op", "type"}, {"css", "#login-password"}, {"text", password + "\n"}});
}

}  // namespace outpace::test
