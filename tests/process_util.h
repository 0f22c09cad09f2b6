// Peers for integration tests: free loopback ports and child processes (SIPp) that are stopped
// when the test ends, whatever happens.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outpace::test {

// Locks one of `blocks` lock files (`prefix`N.lock), trying this process's own first (by its
// pid). The block's number, with `fd` holding its lock, or -1 when every one is held (`fd` -1).
inline int lock_one_block(const std::string& prefix, int blocks, int& fd) {
    fd = -1;
    for (int i = 0; i < blocks; ++i) {
        const int block = (::getpid() + i) % blocks;
        const std::string path = prefix + std::to_string(block) + ".lock";
        const int f = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (f < 0) continue;
        if (::flock(f, LOCK_EX | LOCK_NB) == 0) {
            fd = f;
            return block;
        }
        ::close(f);
    }
    return -1;
}

// Whether nobody has `port` on 127.0.0.1, over UDP or TCP, right now.
inline bool port_unused(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    bool unused = true;
    for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
        const int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        unused = unused && s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        if (s >= 0) ::close(s);
    }
    return unused;
}

// A UDP (and TCP) port on 127.0.0.1 nobody uses right now, and no other test will be given.
//
// Each test process holds a block of 2,048 ports below the kernel's ephemeral range (32768-) and
// the RTP blocks (20000-), with a lock file for its life, and hands its ports out 32 apart (a
// peer may take a few after the one it is given: SIPp's media, baresip's RTP range). A port the
// kernel chose (bind to 0) could be given to two tests running at once (ctest -j), or taken by
// another test's outgoing connection, between this call and the peer's bind; a test then reached
// another test's gateway.
inline int free_port() {
    constexpr int kFirst = 3000, kBlock = 2048, kStride = 32, kBlocks = (20000 - kFirst) / kBlock;
    static std::mutex mutex;
    static int first = 0, next = 0;
    std::lock_guard lock(mutex);
    if (first == 0) {
        int fd;  // held until the process ends
        const int block = lock_one_block("/tmp/outpace-test-ports-", kBlocks, fd);
        first = kFirst + (block >= 0 ? block : ::getpid() % kBlocks) * kBlock;  // all taken: share
    }
    for (int tries = 0; tries < kBlock / kStride; ++tries) {
        const int port = first + next;
        // Round again once spent: the first ones are free by then.
        next = (next + kStride) % kBlock;
        if (port_unused(port)) return port;
    }
    return 0;
}

// A block of 100 RTP ports for one test's engine, below the kernel's ephemeral ports (32768-) so
// no outgoing socket takes a port reserved for an offer before the call is answered. Held with a
// lock file for the test's life, so two tests that run at once (ctest -j) never share a block.
class RtpPortBlock {
  public:
    RtpPortBlock() {
        constexpr int kBlocks = 120;
        const int block = lock_one_block("/tmp/outpace-test-rtp-", kBlocks, fd_);
        first_ = 20000 + (block >= 0 ? block : ::getpid() % kBlocks) * 100;  // all taken: share
    }
    ~RtpPortBlock() {
        if (fd_ >= 0) ::close(fd_);
    }
    RtpPortBlock(const RtpPortBlock&) = delete;
    RtpPortBlock& operator=(const RtpPortBlock&) = delete;
    int first() const { return first_; }
    // "FIRST-LAST" for the engine's rtp.ports.
    std::string range() const { return std::to_string(first_) + "-" + std::to_string(first_ + 99); }

  private:
    int fd_ = -1, first_ = 0;
};

// Waits until something has bound UDP `port` on 127.0.0.1 (a peer that has started listening).
inline bool wait_udp_bound(int port, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        const bool taken = ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
        ::close(u);
        if (taken) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Waits until something listens on TCP `port` on 127.0.0.1 (a ZeroMQ socket bound there).
inline bool wait_tcp_listening(int port,
                               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        int t = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        const bool up = ::connect(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(t);
        if (up) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

class Child {
  public:
    // Starts argv[0] (searched in PATH) with its output in `log`.
    Child(const std::vector<std::string>& argv, const std::string& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
            int null = ::open("/dev/null", O_RDONLY);
            if (null >= 0) ::dup2(null, 0);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Child() { stop(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // Waits up to `limit` for the child to exit by itself; returns its exit status or -1.
    int wait(std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (pid_ > 0) {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                break;
            }
            if (std::chrono::steady_clock::now() > end) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return status_;
    }
    bool running() {
        if (pid_ <= 0) return false;
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            return false;
        }
        return true;
    }
    void signal(int sig) {
        if (pid_ > 0) ::kill(pid_, sig);
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        if (wait(std::chrono::milliseconds(2000)) == -1 && pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    int pid() const { return pid_; }

  private:
    int pid_ = -1;
    int status_ = -1;
};

// SIPp as a carrier (UAS) on 127.0.0.1:port with a scenario from tests/sipp/, a scenario file
// given by absolute path, or the built-in "uas".
inline std::vector<std::string> sipp_uas(const std::string& scenario, int port, int media_port) {
    std::vector<std::string> a = {"sipp", "-nostdin",
                                  "-i",   "127.0.0.1",
                                  "-p",   std::to_string(port),
                                  "-mi",  "127.0.0.1",
                                  "-mp",  std::to_string(media_port)};
    if (scenario == "uas") {
        a.insert(a.end(), {"-sn", "uas"});
    } else {
        const bool path = !scenario.empty() && scenario[0] == '/';
        a.insert(
            a.end(),
            {"-sf", path ? scenario : std::string(OUTPACE_SOURCE_DIR) + "/tests/sipp/" + scenario});
    }
    return a;
}

// SIPp as a UAS, started and listening on `port` (0: a free one; then another is tried when
// SIPp could not bind it: a test running at the same time took the port between free_port()
// and SIPp's bind). `child` is empty when SIPp never listened (three tries).
struct SippUas {
    std::unique_ptr<Child> child;
    int port = 0;
};
inline SippUas start_sipp_uas(const std::string& scenario, const std::string& log, int port = 0,
                              const std::vector<std::string>& extra = {}) {
    for (int tries = 0; tries < 3; ++tries) {
        SippUas s;
        s.port = port ? port : free_port();
        auto argv = sipp_uas(scenario, s.port, free_port());
        argv.insert(argv.end(), extra.begin(), extra.end());
        s.child = std::make_unique<Child>(argv, log);
        if (wait_udp_bound(s.port)) {
            // Bound by SIPp, not by whoever made it fail: it is still running.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (s.child->running()) return s;
        }
    }
    return {};
}

// dnsmasq as the carrier's DNS server on 127.0.0.1:port, answering only from `records`
// (--srv-host=..., --host-record=..., --naptr-record=...; nothing from /etc or upstream), with
// `ttl` seconds on its answers. `child` is empty when it never listened.
struct Dnsmasq {
    std::unique_ptr<Child> child;
    int port = 0;
};
inline Dnsmasq start_dnsmasq(const std::vector<std::string>& records, const std::string& log,
                             int ttl = 60) {
    for (int tries = 0; tries < 3; ++tries) {
        Dnsmasq d;
        d.port = free_port();
        std::vector<std::string> argv = {"dnsmasq",
                                         "--keep-in-foreground",
                                         "--conf-file=/dev/null",
                                         "--no-resolv",
                                         "--no-hosts",
                                         "--no-poll",
                                         "--bind-interfaces",
                                         "--listen-address=127.0.0.1",
                                         "--port=" + std::to_string(d.port),
                                         "--pid-file=",
                                         "--log-facility=-",
                                         "--log-queries",
                                         "--local-ttl=" + std::to_string(ttl),
                                         "--user=root"};
        argv.insert(argv.end(), records.begin(), records.end());
        d.child = std::make_unique<Child>(argv, log);
        if (wait_udp_bound(d.port)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (d.child->running()) return d;
        }
    }
    return {};
}

// One HTTP/1.0 GET on loopback; the body, or "" when nothing answered.
inline std::string http_get(int port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return "";
    }
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), 0) < 0) {
        ::close(fd);
        return "";
    }
    std::string resp;
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        resp.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? "" : resp.substr(body + 4);
}

}  // namespace outpace::test
