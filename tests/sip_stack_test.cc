// The SIP face against a real carrier: SIPp as UAS on loopback, Sofia-SIP's nua on libevent.
#include <doctest/doctest.h>

#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>

#include "dialer/sip/sip_stack.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace std::chrono_literals;

namespace {

struct Recorder : sip::CallObserver {
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
    void on_failed(sip::CallId c, int s, const std::string&, bool local) override {
        calls[c].failed = true;
        calls[c].status = s;
        calls[c].local = local;
    }
    void on_ended(sip::CallId c, bool remote) override {
        calls[c].ended = true;
        calls[c].by_remote = remote;
    }
};

struct Harness {
    event_base* loop = event_base_new();
    Recorder rec;
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
    Recorder rec;
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
