// Media workers: a conversation lent to one and relayed there, an answer lent to be listened to
// (AMD) with its silence sent there, both brought home whole; the workers' priority and their
// bounded queue to the loop. Over loopback, with the engine's loop left idle while a worker works.
#include <doctest/doctest.h>

#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

extern "C" {
#include <spandsp.h>
}

#include "dialer/media/media_worker.h"
#include "dialer/media/recorder.h"
#include "dialer/media/rtp.h"
#include "tests/rtp_peer.h"
#include "tests/test_util.h"

using namespace outpace::media;
using namespace outpace::test;

namespace {

// Until `done` (checked every 5 ms, for at most 2 s): what a worker does meanwhile.
void wait_until(const std::function<bool()>& done) {
    for (int i = 0; i < 400 && !done(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// Runs the owner's `loop` until `done` (at most about 200 ms): a session back home is heard there.
void run_loop_until(event_base* loop, const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i) {
        event_base_loop(loop, EVLOOP_NONBLOCK);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

TEST_CASE(
    "media workers: a lent conversation is relayed without the loop, keys come back as "
    "events, and it comes home whole") {
    event_base* loop = event_base_new();  // never run while lent: the worker relays alone
    RtpPortPool pool(46400, 46409);
    std::string error;
    auto customer = RtpSession::open(loop, "127.0.0.1", pool, &error);
    auto agent = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE((customer && agent));
    Peer carrier("127.0.0.1"), phone("127.0.0.1");
    REQUIRE(customer->set_remote({"127.0.0.1", carrier.port, kPcmu, 101, ""}));
    REQUIRE(agent->set_remote({"127.0.0.1", phone.port, kPcma, 101, ""}));
    std::size_t heard_home = 0;
    customer->on_audio([&](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
        heard_home += pcm.size();
    });
    RecordingWriter writer;
    outpace::test::TempDir dir;
    auto recorder = std::make_unique<Recorder>(writer, dir.file("call.wav"));

    MediaWorkers workers(1);
    REQUIRE(workers.size() == 1);
    MediaWorker* w = workers.least_busy();
    REQUIRE(w);
    std::atomic<int> relayed{0};
    auto bridge = Bridge::lend(workers, *w, *customer, *agent, recorder.get(), 77,
                               [&](std::chrono::steady_clock::time_point) { ++relayed; });
    REQUIRE(bridge);
    CHECK(bridge->lent());
    CHECK(w->bridges == 1);
    CHECK(workers.lent == 1);

    // The customer's µ-law reaches the agent's phone as A-law, and back, with the loop idle.
    std::vector<std::uint8_t> bytes;
    RtpPacket p;
    carrier.send_to(customer->port(), packet(kPcmu, 1, 160, 160, 0x55));
    REQUIRE(receive_within(phone, 2000, bytes, p));
    CHECK(p.payload_type == kPcma);
    CHECK(p.payload.size() == 160);
    CHECK(p.payload[0] == linear_to_alaw(ulaw_to_linear(0x55)));
    phone.send_to(agent->port(), packet(kPcma, 1, 160, 160, 0xd5));
    REQUIRE(receive_within(carrier, 2000, bytes, p));
    CHECK(p.payload_type == kPcmu);
    CHECK(p.payload[0] == linear_to_ulaw(alaw_to_linear(0xd5)));
    // Keys on either side: events for the loop, tagged with the bridge, once per press.
    auto key = [](std::uint8_t code, std::uint16_t seq, std::uint32_t ts) {
        auto e = packet(101, seq, ts, 4, 0);
        e[12] = code;
        return e;
    };
    carrier.send_to(customer->port(), key(7, 2, 320));
    carrier.send_to(customer->port(), key(7, 3, 320));  // the same press
    phone.send_to(agent->port(), key(11, 2, 320));
    std::vector<MediaEvent> events;
    wait_until([&] {
        workers.drain([&](const MediaEvent& e) { events.push_back(e); });
        return events.size() >= 2;
    });
    REQUIRE(events.size() == 2);
    // (Two sockets: which the worker reads first is epoll's choice.)
    if (events[0].kind == MediaEvent::Kind::agent_key) std::swap(events[0], events[1]);
    CHECK(events[0].kind == MediaEvent::Kind::customer_key);
    CHECK(events[0].key == '7');
    CHECK(events[0].bridge == 77);
    CHECK(events[1].kind == MediaEvent::Kind::agent_key);
    CHECK(events[1].key == '#');
    CHECK(relayed.load() == 2);
    CHECK(heard_home == 0);  // the owner's handler never saw the lent customer's audio

    // Home: the owner's handler hears the customer again and nothing is relayed.
    bridge->home();
    CHECK(!bridge->lent());
    CHECK(w->bridges == 0);
    CHECK(workers.homed == 1);
    carrier.send_to(customer->port(), packet(kPcmu, 4, 480, 160, 0x55));
    run_loop_until(loop, [&] { return heard_home != 0; });
    CHECK(heard_home == 160);
    CHECK(!receive_within(phone, 50, bytes, p));
    // The recording framed what the agent said while it was away: one 20 ms frame.
    CHECK(recorder->position_ms() == 20);

    // Lent again, then used by its owner: it comes home by itself first.
    bridge = Bridge::lend(workers, *w, *customer, *agent, recorder.get(), 77, {});
    REQUIRE(bridge);
    customer->send(std::vector<std::int16_t>(160, 0));
    CHECK(!bridge->lent());
    REQUIRE(receive_within(carrier, 2000, bytes, p));
    // Lent again, and one side goes (the agent's phone hung up): both come home, the other side
    // still works on the loop.
    bridge = Bridge::lend(workers, *w, *customer, *agent, recorder.get(), 77, {});
    REQUIRE(bridge);
    agent.reset();
    CHECK(!bridge->lent());
    heard_home = 0;
    carrier.send_to(customer->port(), packet(kPcmu, 6, 800, 160, 0x55));
    run_loop_until(loop, [&] { return heard_home != 0; });
    CHECK(heard_home == 160);
    bridge.reset();
    CHECK(workers.lent == 3);
    CHECK(workers.homed == 3);
    recorder.reset();
    customer.reset();
    CHECK(pool.free() == 10);
    event_base_free(loop);
}

TEST_CASE(
    "media workers: a listening call is heard and sent silence on the worker, its news wakes the "
    "loop once, and it comes home") {
    event_base* loop = event_base_new();  // never run while lent: the worker listens alone
    RtpPortPool pool(46420, 46429);
    std::string error;
    auto session = RtpSession::open(loop, "127.0.0.1", pool, &error);
    REQUIRE(session);
    Peer carrier("127.0.0.1");
    REQUIRE(session->set_remote({"127.0.0.1", carrier.port, kPcmu, 101, ""}));
    std::size_t heard_home = 0;
    session->on_audio([&](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
        heard_home += pcm.size();
    });
    RecordingWriter writer;
    outpace::test::TempDir dir;
    auto recorder = std::make_unique<Recorder>(writer, dir.file("call.wav"));

    MediaWorkers workers(1);
    REQUIRE(workers.size() == 1);
    std::atomic<int> wakes{0};
    workers.wake_with([&] { ++wakes; });
    MediaWorker* w = workers.least_busy();
    REQUIRE(w);
    // What the worker hears: packets counted; the third and fourth are "news" (a verdict).
    std::atomic<int> heard{0}, odd_sizes{0};
    std::atomic<bool> on_worker{true};
    const auto loop_thread = std::this_thread::get_id();
    auto listen = Listen::lend(workers, *w, *session, recorder.get(), 42,
                               [&](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
                                   if (std::this_thread::get_id() == loop_thread) on_worker = false;
                                   if (pcm.size() != 160) ++odd_sizes;
                                   return ++heard >= 3;
                               });
    REQUIRE(listen);
    CHECK(listen->lent());
    CHECK(w->listening == 1);
    CHECK(workers.listens == 1);
    CHECK(workers.least_busy() == w);  // (one worker: still it, with one call more)

    // Silence every 20 ms from the worker, with the loop idle: 0xff is µ-law's silence.
    std::vector<std::uint8_t> bytes;
    RtpPacket p;
    std::uint16_t last_seq = 0;
    for (int i = 0; i < 5; ++i) {
        REQUIRE(receive_within(carrier, 2000, bytes, p));
        CHECK(p.payload_type == kPcmu);
        CHECK(p.payload.size() == 160);
        CHECK(p.payload[0] == 0xff);
        if (i) CHECK(p.seq == static_cast<std::uint16_t>(last_seq + 1));
        last_seq = p.seq;
    }
    // Two packets: heard there, nothing to tell.
    carrier.send_to(session->port(), packet(kPcmu, 1, 160, 160, 0x55));
    carrier.send_to(session->port(), packet(kPcmu, 2, 320, 160, 0x55));
    wait_until([&] { return heard >= 2; });
    CHECK(heard == 2);
    std::vector<MediaEvent> events;
    workers.drain([&](const MediaEvent& e) { events.push_back(e); });
    CHECK(events.empty());
    CHECK(wakes == 0);
    // Two more: the news is told once, and the loop is woken for it.
    carrier.send_to(session->port(), packet(kPcmu, 3, 480, 160, 0x55));
    carrier.send_to(session->port(), packet(kPcmu, 4, 640, 160, 0x55));
    wait_until([&] { return heard >= 4; });
    CHECK(heard == 4);
    workers.drain([&](const MediaEvent& e) { events.push_back(e); });
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == MediaEvent::Kind::heard);
    CHECK(events[0].bridge == 42);
    CHECK(wakes == 1);
    CHECK(on_worker);
    CHECK(odd_sizes == 0);
    CHECK(heard_home == 0);  // the owner's handler never saw the lent call's audio

    // Home: the owner's handler hears again, the worker sends nothing more.
    listen.reset();
    CHECK(w->listening == 0);
    CHECK(workers.listens_homed == 1);
    while (receive_within(carrier, 0, bytes, p)) {
    }
    CHECK(!receive_within(carrier, 100, bytes, p));
    carrier.send_to(session->port(), packet(kPcmu, 5, 800, 160, 0x55));
    run_loop_until(loop, [&] { return heard_home != 0; });
    CHECK(heard_home == 160);
    CHECK(heard == 4);
    // The recording was framed with each silence the worker sent (20 ms each; five were read).
    CHECK(recorder->position_ms() >= 5 * 20);

    // Lent again and used by its owner: it comes home by itself first, and stays counted.
    listen = Listen::lend(
        workers, *w, *session, recorder.get(), 42,
        [](std::span<const std::int16_t>, std::chrono::milliseconds) { return false; });
    REQUIRE(listen);
    session->send(std::vector<std::int16_t>(160, 0));
    CHECK(!listen->lent());
    CHECK(w->listening == 0);
    CHECK(workers.listens == 2);
    CHECK(workers.listens_homed == 2);
    listen.reset();
    recorder.reset();
    session.reset();
    CHECK(pool.free() == 10);
    event_base_free(loop);
}

TEST_CASE("media workers: their priority is set and read back, or refused with the reason") {
    MediaWorkers nicer(2, 4);
    REQUIRE(nicer.size() == 2);
    CHECK(nicer.running_at() == "nice +4");
    CHECK(nicer.priority_error().empty());
    // SCHED_FIFO: granted (root, CAP_SYS_NICE) or refused with why; never silently ignored.
    MediaWorkers fifo(1, 0, 5);
    REQUIRE(fifo.size() == 1);
    if (fifo.priority_error().empty())
        CHECK(fifo.running_at() == "SCHED_FIFO 5");
    else
        CHECK(fifo.priority_error().find("SCHED_FIFO 5 refused") != std::string::npos);
    CHECK(MediaWorkers(0).size() == 0);
    // Made and destroyed at once, many times: each stops (a hang here would end the suite by its
    // timeout), even when asked before its thread has entered its loop.
    for (int i = 0; i < 50; ++i) CHECK(MediaWorkers(2).size() == 2);
}

TEST_CASE("media workers: the worker-to-loop queue is bounded and drops what does not fit") {
    EventRing ring;
    for (std::size_t i = 0; i < EventRing::kSize; ++i)
        CHECK(ring.push({MediaEvent::Kind::customer_key, i, '1'}));
    CHECK(!ring.push({MediaEvent::Kind::customer_key, 9999, '1'}));
    CHECK(ring.dropped() == 1);
    MediaEvent e;
    for (std::size_t i = 0; i < EventRing::kSize; ++i) {
        REQUIRE(ring.pop(e));
        CHECK(e.bridge == i);
    }
    CHECK(!ring.pop(e));
    CHECK(ring.push({MediaEvent::Kind::agent_key, 1, '2'}));  // room again
}
