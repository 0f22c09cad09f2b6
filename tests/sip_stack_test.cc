// The SIP face against a real carrier: SIPp as UAS on loopback, Sofia-SIP's nua on libevent.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>

#include "dialer/sip/sip_stack.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace std::chrono_literals;

namespace {

struct SipEventLog : sip::CallObserver {
    struct Log {
        std::vector<int> progress;
        bool answered = false, ended = false, by_remote = false, failed = false, local = false;
        int status = 0;
        std::string sdp;
    };
    std::map<sip::CallId, Log> calls;
    std::function<void(sip::CallId)> on_answer;
    void on_progress(sip::CallId c, int s) override { calls[c].progress.push_back(s); }
    void on_answered(sip::CallId c, const std::string& sdp) override {
        calls[c].answered = true;
        calls[c].sdp = sdp;
        if (on_answer) on_answer(c);
    }
    void on_failed(sip::CallId c, const sip::Failure& f) override {
        calls[c].failed = true;
        calls[c].status = f.status;
        calls[c].local = f.local;
    }
    void on_ended(sip::CallId c, bool remote) override {
        calls[c].ended = true;
        calls[c].by_remote = remote;
    }
};

struct Harness {
    event_base* loop = event_base_new();
    SipEventLog rec;
    std::unique_ptr<sip::SipStack> stack;
    int port = test::free_port();
    Harness() {
        std::string error;
        sip::StackConfig c;
        c.port = port;
        stack = sip::SipStack::create(loop, c, rec, &error);
        REQUIRE_MESSAGE(stack, error);
    }
    ~Harness() {
        stack.reset();
        event_base_free(loop);
    }
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > end) return false;
            event_base_loop(loop, EVLOOP_ONCE);
        }
        return true;
    }
    sip::CallId dial(int carrier_port) {
        sip::Dial d;
        d.to = "sip:+14155550123@127.0.0.1:" + std::to_string(carrier_port);
        d.from = "sip:+14155550100@127.0.0.1:" + std::to_string(port);
        d.sdp =
            "v=0\r\no=outpace 1 1 IN IP4 127.0.0.1\r\ns=outpace\r\nc=IN IP4 127.0.0.1\r\nt=0 "
            "0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n";
        return stack->invite(d);
    }
};

}  // namespace

TEST_CASE("sip: an answered call, hung up by us") {
    Harness h;
    test::TempDir tmp;
    const int carrier = test::free_port();
    test::Child sipp(test::sipp_uas("uas", carrier, test::free_port()), tmp.file("sipp.log"));
    REQUIRE(test::wait_udp_bound(carrier));
    const auto id = h.dial(carrier);
    REQUIRE(id != 0);
    h.rec.on_answer = [&](sip::CallId c) { h.stack->hangup(c); };
    REQUIRE(h.run_until([&] { return h.rec.calls[id].ended || h.rec.calls[id].failed; }, 10s));
    const auto& log = h.rec.calls[id];
    CHECK(log.answered);
    CHECK(log.ended);
    CHECK_FALSE(log.by_remote);
    CHECK_FALSE(log.failed);
    CHECK(log.sdp.find("m=audio") != std::string::npos);
    CHECK(h.run_until([&] { return h.stack->calls() == 0; }, 5s));
}

TEST_CASE("sip: busy, and ringing until we cancel") {
    Harness h;
    test::TempDir tmp;
    const int busy_port = test::free_port();
    test::Child busy(test::sipp_uas("uas_busy.xml", busy_port, test::free_port()),
                     tmp.file("busy.log"));
    const int ring_port = test::free_port();
    test::Child ring(test::sipp_uas("uas_ring.xml", ring_port, test::free_port()),
                     tmp.file("ring.log"));
    REQUIRE(test::wait_udp_bound(busy_port));
    REQUIRE(test::wait_udp_bound(ring_port));
    const auto b = h.dial(busy_port);
    const auto r = h.dial(ring_port);
    REQUIRE(h.run_until([&] { return h.rec.calls[b].failed && !h.rec.calls[r].progress.empty(); },
                        10s));
    CHECK(h.rec.calls[b].status == 486);
    CHECK_FALSE(h.rec.calls[b].local);
    CHECK(h.rec.calls[b].progress == std::vector<int>{180});
    CHECK_FALSE(h.rec.calls[r].failed);
    h.stack->cancel(r);
    REQUIRE(h.run_until([&] { return h.rec.calls[r].failed; }, 10s));
    CHECK(h.rec.calls[r].status == 487);
    CHECK_FALSE(h.rec.calls[r].answered);
}

TEST_CASE("sip: the callee hangs up") {
    Harness h;
    test::TempDir tmp;
    const int carrier = test::free_port();
    test::Child sipp(test::sipp_uas("uas_answer_bye.xml", carrier, test::free_port()),
                     tmp.file("sipp.log"));
    REQUIRE(test::wait_udp_bound(carrier));
    const auto id = h.dial(carrier);
    REQUIRE(h.run_until([&] { return h.rec.calls[id].ended || h.rec.calls[id].failed; }, 10s));
    INFO(test::run("cat " + tmp.file("sipp.log")).out);
    CHECK(h.rec.calls[id].answered);
    CHECK(h.rec.calls[id].ended);
    CHECK(h.rec.calls[id].by_remote);
}

TEST_CASE("sip: nobody at the address: the call fails locally, it does not hang") {
    Harness h;
    const auto id = h.dial(test::free_port());
    // ICMP port unreachable or the transaction timer: either way it ends.
    REQUIRE(h.run_until([&] { return h.rec.calls[id].failed; }, 40s));
    CHECK(h.rec.calls[id].status >= 400);
}

TEST_CASE("sip: a port already in use is a clear error") {
    event_base* loop = event_base_new();
    SipEventLog rec;
    std::string error;
    sip::StackConfig c;
    c.port = test::free_port();
    auto first = sip::SipStack::create(loop, c, rec, &error);
    REQUIRE(first);
    auto second = sip::SipStack::create(loop, c, rec, &error);
    CHECK_FALSE(second);
    CHECK(error.find("cannot listen") != std::string::npos);
    first.reset();
    event_base_free(loop);
}

namespace {

// A scripted SIP peer on a plain UDP socket: enough of a callee to answer one INVITE, and to
// send hand-made requests from any loopback address.
struct UdpPeer {
    int fd = -1, port = 0;
    explicit UdpPeer(const char* ip) {
        fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, ip, &a.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~UdpPeer() { ::close(fd); }
    void send(int to_port, const std::string& text) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(to_port));
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    // The next datagram (the loop is pumped meanwhile), or "" after `limit`.
    std::string recv(Harness& h, std::chrono::milliseconds limit = 3s) {
        std::string got;
        h.run_until(
            [&] {
                char buf[65536];
                const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
                return n > 0;
            },
            limit);
        return got;
    }
};

std::string header(const std::string& msg, const std::string& name) {
    const auto at = msg.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    const auto start = msg.find_first_not_of(' ', at + name.size() + 3);
    return msg.substr(start, msg.find("\r\n", start) - start);
}

std::string request(const std::string& method, int engine_port, const std::string& from_ip,
                    int from_port, const std::string& call_id, const std::string& from,
                    const std::string& to, int cseq, const std::string& extra = "") {
    return method + " sip:outpace@127.0.0.1:" + std::to_string(engine_port) +
           " SIP/2.0\r\nVia: SIP/2.0/UDP " + from_ip + ":" + std::to_string(from_port) +
           ";branch=z9hG4bK" + method + std::to_string(cseq) + "\r\nFrom: " + from +
           "\r\nTo: " + to + "\r\nCall-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) + " " +
           method + "\r\nMax-Forwards: 70\r\nContact: <sip:x@" + from_ip + ":" +
           std::to_string(from_port) + ">\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

int status_of(const std::string& response) {
    return response.rfind("SIP/2.0 ", 0) == 0 ? std::stoi(response.substr(8, 3)) : 0;
}

}  // namespace

TEST_CASE("sip: a forged BYE cannot end a call, and strangers' MESSAGE and REFER get 405") {
    Harness h;
    UdpPeer callee("127.0.0.1"), stranger("127.0.0.2");
    const auto id = h.dial(callee.port);
    REQUIRE(id != 0);
    const auto invite = callee.recv(h);
    REQUIRE(invite.rfind("INVITE ", 0) == 0);
    // Answer it, as the callee.
    const std::string to = header(invite, "To") + ";tag=callee1";
    const std::string from = header(invite, "From"), call_id = header(invite, "Call-ID");
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40002 RTP/AVP 0\r\n";
    callee.send(h.port, "SIP/2.0 200 OK\r\nVia: " + header(invite, "Via") + "\r\nFrom: " + from +
                            "\r\nTo: " + to + "\r\nCall-ID: " + call_id +
                            "\r\nCSeq: " + header(invite, "CSeq") +
                            "\r\nContact: <sip:callee@127.0.0.1:" + std::to_string(callee.port) +
                            ">\r\nContent-Type: application/sdp\r\nContent-Length: " +
                            std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
    REQUIRE(h.run_until([&] { return h.rec.calls[id].answered; }, 3s));
    CHECK(callee.recv(h).rfind("ACK ", 0) == 0);

    // In the dialog's own words (Call-ID, tags), from another address: the call stays up, and the
    // forger gets no answer (this Sofia ends a session on any final answer to a BYE, so silence
    // is the only refusal that keeps the customer's call).
    stranger.send(h.port, request("BYE", h.port, "127.0.0.2", stranger.port, call_id, to, from, 2));
    CHECK(stranger.recv(h, 600ms).empty());
    CHECK_FALSE(h.rec.calls[id].ended);
    CHECK(h.stack->forged_requests() == 1);
    // Out of any dialog: no 200 for MESSAGE, no 202 and NOTIFYs for REFER.
    stranger.send(h.port, request("MESSAGE", h.port, "127.0.0.2", stranger.port, "m1@x",
                                  "<sip:s@127.0.0.2>;tag=s1", "<sip:outpace@127.0.0.1>", 1,
                                  "Content-Type: text/plain\r\n"));
    CHECK(status_of(stranger.recv(h)) == 405);
    stranger.send(h.port, request("REFER", h.port, "127.0.0.2", stranger.port, "r1@x",
                                  "<sip:s@127.0.0.2>;tag=s2", "<sip:outpace@127.0.0.1>", 1,
                                  "Refer-To: <sip:+19005550199@127.0.0.2>\r\n"));
    CHECK(status_of(stranger.recv(h)) == 405);
    CHECK(stranger.recv(h, 500ms).empty());  // and nothing after: no NOTIFY
    // Inside the dialog, REFER is refused too.
    stranger.send(h.port, request("REFER", h.port, "127.0.0.2", stranger.port, call_id, to, from, 3,
                                  "Refer-To: <sip:+19005550199@127.0.0.2>\r\n"));
    CHECK(status_of(stranger.recv(h)) == 405);

    // The callee's own BYE ends the call.
    callee.send(h.port, request("BYE", h.port, "127.0.0.1", callee.port, call_id, to, from, 4));
    CHECK(status_of(callee.recv(h)) == 200);
    CHECK(h.run_until([&] { return h.rec.calls[id].ended; }, 3s));
    CHECK(h.rec.calls[id].by_remote);
}
