// What mixing costs the media path (issue: transfers, conferences and supervisors):
//   per 20 ms tick, the engine's side of K calls, each with three parties, each party a real
//   RtpSession on loopback fed by a far end (a plain UDP socket sending G.711 packets): receive
//   and decode, the call's media::Mixer, encode and send;
//     - bridged (reference, measured in the same run): customer and agent straight to each other,
//       a third session idle, as a call without a guest;
//     - monitored: a supervisor listening (customer and agent straight, the supervisor their mix);
//     - conference of three: each hears the mix of the two others;
//   CPU per call (µs per 20 ms, and % of a core) and the calls one core would carry;
//   then each kind run in real time at 20 ms ticks at 25 %, 50 % and 75 % of that estimate for
//   --seconds each, the far ends on another thread: late ticks (a tick's work that ended after
//   the next tick was due: the clock slipped a frame) counted, the largest K with none printed.
// Medians of --runs runs (default 3). Usage: bench_mixer [--runs N] [--calls K] [--seconds S]
// Everything runs on one thread (as a media worker would); the far ends' sends and receives are
// outside the timed part.
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <spandsp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "dialer/media/mixer.h"
#include "dialer/media/rtp.h"

using namespace outpace::media;
using Steady = std::chrono::steady_clock;

namespace {

enum class Kind { bridged, monitored, conference };
const char* name(Kind k) {
    return k == Kind::bridged     ? "bridged (reference)"
           : k == Kind::monitored ? "monitored (listen)"
                                  : "conference of 3";
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A far end: a UDP socket that sends one G.711 packet a tick to its engine session and drops
// what comes back.
struct FarEnd {
    int fd = -1, port = 0;
    std::uint16_t seq = 0;
    std::uint32_t ts = 0, ssrc = 0;
    ~FarEnd() {
        if (fd >= 0) ::close(fd);
    }
    bool open(int p) {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(p));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        port = p;
        ssrc = 0x1000u + static_cast<std::uint32_t>(p);
        return fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    void send_to(int engine_port, const std::array<std::uint8_t, 160>& ulaw) {
        std::array<std::uint8_t, 172> pkt{};
        pkt[0] = 0x80;
        pkt[1] = 0;  // PCMU
        pkt[2] = static_cast<std::uint8_t>(seq >> 8), pkt[3] = static_cast<std::uint8_t>(seq);
        for (int i = 0; i < 4; ++i) {
            pkt[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
            pkt[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
        }
        std::copy(ulaw.begin(), ulaw.end(), pkt.begin() + 12);
        ++seq;
        ts += 160;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(engine_port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    std::size_t drain() {
        std::size_t n = 0;
        char buf[512];
        while (::recv(fd, buf, sizeof buf, 0) > 0) ++n;
        return n;
    }
};

struct Call {
    std::array<std::unique_ptr<RtpSession>, 3> session;  // customer, agent, third party
    std::array<FarEnd, 3> far;
    Mixer mixer;
};

struct Floor {
    event_base* loop = event_base_new();
    RtpPortPool pool{20000, 39998};
    std::vector<std::unique_ptr<Call>> calls;
    std::array<std::uint8_t, 160> ulaw{};
    ~Floor() {
        calls.clear();
        event_base_free(loop);
    }
    bool build(Kind kind, int k) {
        for (int i = 0; i < 160; ++i)
            ulaw[i] = linear_to_ulaw(static_cast<int>(8000 * std::sin(i * 2 * M_PI * 440 / 8000)));
        int far_port = 40000;
        for (int c = 0; c < k; ++c) {
            auto call = std::make_unique<Call>();
            for (int p = 0; p < 3; ++p) {
                std::string error;
                call->session[p] = RtpSession::open(loop, "127.0.0.1", pool, &error);
                if (!call->session[p] || !call->far[p].open(far_port)) {
                    std::fprintf(stderr, "call %d: %s\n", c, error.c_str());
                    return false;
                }
                ++far_port;
                RemoteMedia r;
                r.address = "127.0.0.1";
                r.port = call->far[p].port;
                r.payload = kPcmu;
                call->session[p]->set_remote(r);
                RtpSession* s = call->session[p].get();
                call->mixer.add(p, [s](std::span<const std::int16_t> pcm) { s->send(pcm); });
                Mixer* m = &call->mixer;
                s->on_audio([m, p](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
                    m->input(p, pcm);
                });
            }
            auto& m = call->mixer;
            m.hear(0, 1, true);
            m.hear(1, 0, true);
            if (kind == Kind::monitored) m.hear(2, 0, true), m.hear(2, 1, true);
            if (kind == Kind::conference)
                for (int a = 0; a < 3; ++a)
                    for (int b = 0; b < 3; ++b) m.hear(a, b, a != b);
            calls.push_back(std::move(call));
        }
        return true;
    }
    // One tick: the far ends speak (not timed); the engine receives, mixes and sends (timed);
    // the far ends drop what came back (not timed). The engine's µs.
    double tick(Kind kind) {
        for (auto& c : calls)
            for (int p = 0; p < 3; ++p)
                if (kind != Kind::bridged || p < 2) c->far[p].send_to(c->session[p]->port(), ulaw);
        const auto t0 = Steady::now();
        event_base_loop(loop, EVLOOP_NONBLOCK);
        for (auto& c : calls) c->mixer.tick();
        const double us = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
        for (auto& c : calls)
            for (auto& f : c->far) f.drain();
        return us;
    }
};

// µs of engine work per call per 20 ms tick, over `ticks` ticks as fast as they go.
double cost(Kind kind, int k, int ticks) {
    Floor f;
    if (!f.build(kind, k)) std::exit(1);
    for (int i = 0; i < 10; ++i) f.tick(kind);  // warm up
    double total = 0;
    for (int i = 0; i < ticks; ++i) total += f.tick(kind);
    return total / ticks / k;
}

// Real time: the engine's tick every 20 ms for `seconds`, the far ends on a thread of their own
// (a phone is another machine); how many ticks ran past their 20 ms.
int late_ticks(Kind kind, int k, int seconds) {
    Floor f;
    if (!f.build(kind, k)) std::exit(1);
    std::atomic<bool> stop{false};
    const auto start = Steady::now();
    std::thread phones([&] {
        auto next = start + std::chrono::milliseconds(10);  // half a tick before the engine's
        while (!stop) {
            for (auto& c : f.calls)
                for (int p = 0; p < 3; ++p) {
                    if (kind != Kind::bridged || p < 2)
                        c->far[p].send_to(c->session[p]->port(), f.ulaw);
                    c->far[p].drain();
                }
            next += std::chrono::milliseconds(20);
            std::this_thread::sleep_until(next);
        }
    });
    int late = 0;
    auto next = start;
    for (int i = 0; i < seconds * 50; ++i) {
        next += std::chrono::milliseconds(20);
        std::this_thread::sleep_until(next);
        event_base_loop(f.loop, EVLOOP_NONBLOCK);
        for (auto& c : f.calls) c->mixer.tick();
        if (Steady::now() > next + std::chrono::milliseconds(20)) ++late;
    }
    stop = true;
    phones.join();
    return late;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 3, calls = 200, seconds = 3;
    for (int i = 1; i + 1 < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[++i]);
        if (!std::strcmp(argv[i], "--calls")) calls = std::atoi(argv[++i]);
        if (!std::strcmp(argv[i], "--seconds")) seconds = std::atoi(argv[++i]);
    }
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    // Six sockets a call; the engine's port range here holds 9,999 sessions.
    const int max_calls = static_cast<int>(std::min<rlim_t>(lim.rlim_cur / 6 - 10, 3300));
    std::printf("medians of %d runs, %d calls each, 3 parties a call, G.711 on loopback\n", runs,
                calls);
    for (Kind kind : {Kind::bridged, Kind::monitored, Kind::conference}) {
        std::vector<double> us;
        for (int r = 0; r < runs; ++r) us.push_back(cost(kind, calls, 200));
        const double per_call = median(us);
        const int capacity = static_cast<int>(20'000 / per_call);
        std::printf("  %-22s %7.2f us per call per 20 ms (%.3f %% of a core): ~%d calls a core\n",
                    name(kind), per_call, per_call / 200, capacity);
        int sustained = 0;
        for (double share : {0.25, 0.5, 0.75}) {
            const int k = std::min(max_calls, static_cast<int>(capacity * share));
            const int late = late_ticks(kind, k, seconds);
            std::printf("      real time, %5d calls for %d s: %d late ticks of %d\n", k, seconds,
                        late, seconds * 50);
            if (late == 0) sustained = std::max(sustained, k);
            if (k == max_calls) break;
        }
        std::printf(
            "      sustained with 0 late ticks: %d calls%s\n", sustained,
            sustained == max_calls ? " (the most this run can open: file descriptors)" : "");
    }
    return 0;
}
