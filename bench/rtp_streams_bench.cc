// Answered calls streaming into AMD, the engine's media path for calls in analysis: per call, the
// engine's RtpSession (its socket and read event, sequence and loss accounting, G.711 decoding)
// and an AMD Detector, and a frame of silence sent to each call every 20 ms while it listens.
// With --workers 0, all on one libevent loop with a 20 ms tick for the silence (the engine's loop
// with rtp.workers: 0); with --workers N, each call lent to one of N media workers as the engine
// lends it (media::Listen: the detector and the silence's timer on the worker). The
// callee side is one generator thread sending every stream's 20 ms packet with sendmmsg from
// one socket, on an absolute 20 ms schedule: far cheaper than SIPp (a thread per 20 streams and
// a system call per packet), so that on a small machine the figure is the engine's and not the
// generator's. bench/originate.sh step 5 is the same over SIP with SIPp generating.
//
// Prints, per run: packets sent and received, lost (sequence gaps the sessions counted), the
// kernel's UDP receive-buffer drops meanwhile, the loop's and the generator's CPU; then the
// median of the runs. A detector that reaches a verdict is replaced by a new one (a new call).
// Usage: bench_rtp_streams [--streams N=5000] [--seconds S=20] [--runs R=3] [--workers W=0]
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <spandsp.h>
}

#include "answering-detect/detector.h"
#include "dialer/loop_event.h"
#include "dialer/media/media_worker.h"
#include "dialer/media/rtp.h"
#include "dialer/media/sdp.h"

using namespace outpace;
using namespace std::chrono;

namespace {

double thread_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

double process_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::uint64_t rcvbuf_errors() {  // /proc/net/snmp's second Udp: line, RcvbufErrors
    std::ifstream in("/proc/net/snmp");
    std::string line;
    int seen = 0;
    while (std::getline(in, line))
        if (line.rfind("Udp:", 0) == 0 && ++seen == 2) {
            std::istringstream f(line);
            std::string tag;
            std::uint64_t v[5] = {};
            f >> tag >> v[0] >> v[1] >> v[2] >> v[3] >> v[4];
            return v[4];
        }
    return 0;
}

// Quiet noise as µ-law (-60 dBFS, under AMD's speech floor): every frame is analysed and no
// call decides early on speech.
std::vector<std::uint8_t> quiet_ulaw(std::size_t n) {
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 33);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out)
        b = linear_to_ulaw(static_cast<int>(std::clamp(noise(rng), -32768.0, 32767.0)));
    return out;
}

struct Stream {
    std::unique_ptr<media::RtpSession> rtp;
    std::unique_ptr<amd::Detector> amd;
    milliseconds offset{0};  // where the current detector's call began on the session's clock
    std::uint64_t calls = 1;
    std::unique_ptr<media::Listen> listen;  // on a worker (--workers N)
    // Audio heard into AMD.
    void heard(std::span<const std::int16_t> pcm, milliseconds at) {
        amd->feed(pcm, at - offset);
        if (amd->finished()) {  // a verdict: the next call on this line
            amd = std::make_unique<amd::Detector>();
            offset = at + milliseconds(20);
            ++calls;
        }
    }
};

struct Run {
    std::uint64_t sent = 0, received = 0, lost = 0, drops = 0, calls = 0;
    std::uint64_t loop_sent = 0, returned = 0;  // the loop's silence, and what the generator read
    double loop_cpu = 0, generator_cpu = 0, generator_late_ms = 0;
    // How long the loop took to read what was queued when sending stopped, to 0.1 s: 0.1 when
    // only what was in flight was left.
    double behind_s = 0;
};

Run run_once(int streams, double seconds, int workers) {
    Run r;
    std::unique_ptr<media::MediaWorkers> pool_of_workers;
    if (workers > 0) {
        pool_of_workers = std::make_unique<media::MediaWorkers>(workers, 0, 0);
        if (pool_of_workers->size() != static_cast<std::size_t>(workers)) {
            std::fprintf(stderr, "bench_rtp_streams: could not start %d workers\n", workers);
            std::exit(1);
        }
    }
    event_base* loop = event_base_new();
    media::RtpPortPool pool(10000, 32767);
    // The generator's socket: every stream's packets come from it.
    const int gen = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(gen, reinterpret_cast<sockaddr*>(&any), sizeof any);
    socklen_t len = sizeof any;
    ::getsockname(gen, reinterpret_cast<sockaddr*>(&any), &len);
    const int big = 8 << 20;
    ::setsockopt(gen, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    ::setsockopt(gen, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);

    std::vector<Stream> calls(static_cast<std::size_t>(streams));
    std::vector<sockaddr_in> to(calls.size());
    for (std::size_t i = 0; i < calls.size(); ++i) {
        std::string error;
        auto& c = calls[i];
        c.rtp = media::RtpSession::open(loop, "127.0.0.1", pool, &error);
        if (!c.rtp) {
            std::fprintf(stderr, "bench_rtp_streams: stream %zu: %s\n", i, error.c_str());
            std::exit(1);
        }
        media::RemoteMedia remote;
        remote.address = "127.0.0.1";
        remote.port = ntohs(any.sin_port);
        remote.payload = media::kPcmu;
        c.rtp->set_remote(remote);
        c.amd = std::make_unique<amd::Detector>();
        c.rtp->on_audio(
            [&c](std::span<const std::int16_t> pcm, milliseconds at) { c.heard(pcm, at); });
        if (pool_of_workers) {
            // As the engine lends a call in analysis: to the least busy worker, which hears it
            // and sends its silence (never news here: each verdict starts the next call).
            c.listen = media::Listen::lend(
                *pool_of_workers, *pool_of_workers->least_busy(), *c.rtp, nullptr, i,
                [&c](std::span<const std::int16_t> pcm, milliseconds at) {
                    c.heard(pcm, at);
                    return false;
                });
            if (!c.listen) {
                std::fprintf(stderr, "bench_rtp_streams: stream %zu: not lent\n", i);
                std::exit(1);
            }
        }
        to[i].sin_family = AF_INET;
        to[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to[i].sin_port = htons(static_cast<std::uint16_t>(c.rtp->port()));
    }

    const auto audio = quiet_ulaw(8000 * 10);
    const std::uint64_t drops_before = rcvbuf_errors();
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> sent{0}, returned{0};
    double generator_cpu = 0, late_ms = 0;
    std::thread generator([&] {
        std::vector<std::array<std::uint8_t, 172>> packets(calls.size());
        std::vector<iovec> iov(calls.size());
        std::vector<mmsghdr> msgs(calls.size());
        std::vector<std::array<std::uint8_t, 256>> back_buf(1024);
        std::vector<iovec> back_iov(back_buf.size());
        std::vector<mmsghdr> back(back_buf.size());
        for (std::size_t i = 0; i < back.size(); ++i) {
            back_iov[i] = {back_buf[i].data(), back_buf[i].size()};
            back[i].msg_hdr.msg_iov = &back_iov[i];
            back[i].msg_hdr.msg_iovlen = 1;
        }
        const std::uint32_t ssrc_base = 0x5eed0000;
        auto next = steady_clock::now();
        for (std::uint32_t tick = 0; !stop; ++tick) {
            const std::size_t at = (tick % 500) * 160;  // 10 s of audio, looped
            for (std::size_t i = 0; i < calls.size(); ++i) {
                auto& p = packets[i];
                p[0] = 0x80;
                p[1] = 0;  // PCMU
                const auto seq = static_cast<std::uint16_t>(tick);
                const std::uint32_t ts = tick * 160, ssrc = ssrc_base + i;
                p[2] = seq >> 8, p[3] = seq & 0xff;
                for (int k = 0; k < 4; ++k) p[4 + k] = (ts >> (24 - 8 * k)) & 0xff;
                for (int k = 0; k < 4; ++k) p[8 + k] = (ssrc >> (24 - 8 * k)) & 0xff;
                std::memcpy(p.data() + 12, audio.data() + at, 160);
                iov[i] = {p.data(), p.size()};
                msgs[i] = {};
                msgs[i].msg_hdr.msg_name = &to[i];
                msgs[i].msg_hdr.msg_namelen = sizeof to[i];
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            for (std::size_t i = 0; i < msgs.size();) {
                const int n = ::sendmmsg(
                    gen, msgs.data() + i,
                    static_cast<unsigned>(std::min<std::size_t>(1024, msgs.size() - i)), 0);
                if (n <= 0) break;
                i += static_cast<std::size_t>(n);
                sent += static_cast<std::uint64_t>(n);
            }
            // What the loop sent back (its silence), read in batches as a carrier would.
            for (int n; (n = ::recvmmsg(gen, back.data(), static_cast<unsigned>(back.size()),
                                        MSG_DONTWAIT, nullptr)) > 0;)
                returned += static_cast<std::uint64_t>(n);
            next += milliseconds(20);
            const auto now = steady_clock::now();
            if (now > next)
                late_ms = std::max(late_ms, duration<double, std::milli>(now - next).count());
            std::this_thread::sleep_until(next);
        }
        generator_cpu = thread_cpu_s();
    });

    // As the engine's media tick does for a call in analysis: a frame of silence to each call
    // every 20 ms (it keeps NAT bindings open while the engine listens), from the same loop.
    struct Tick {
        std::vector<Stream>* calls;
        std::uint64_t sent = 0;
    } tick{&calls};
    LoopEvent media_tick;
    if (!pool_of_workers)
        media_tick = LoopEvent(
            loop, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* arg) {
                static const std::int16_t silence[160] = {};
                auto* t = static_cast<Tick*>(arg);
                for (auto& c : *t->calls) c.rtp->send(silence);
                t->sent += t->calls->size();
            },
            &tick);
    media_tick.add(milliseconds(20));

    // The loop (or the workers) run `seconds`, then a little longer to read what is still
    // queued.
    const double cpu0 = thread_cpu_s(), process0 = process_cpu_s();
    if (pool_of_workers) {
        std::this_thread::sleep_for(duration<double>(seconds));
    } else {
        timeval tv{static_cast<long>(seconds), static_cast<long>(std::fmod(seconds, 1) * 1e6)};
        event_base_loopexit(loop, &tv);
        event_base_dispatch(loop);
    }
    const double loop_cpu = thread_cpu_s() - cpu0;
    stop = true;
    generator.join();
    // The workers' CPU: the process's less the generator's and this thread's (asleep).
    const double process_cpu = process_cpu_s() - process0;
    media_tick = LoopEvent();  // sending stops with the generator
    for (auto& c : calls)
        if (c.listen) r.loop_sent += c.rtp->stats().packets_out;  // (brings it home)
    // What is still queued is late, not lost: read until 100 ms pass with nothing new.
    auto received = [&] {
        std::uint64_t n = 0;
        for (auto& c : calls) n += c.rtp->stats().packets_in;
        return n;
    };
    const auto behind_from = steady_clock::now();
    for (std::uint64_t before = received(), now = 0;; before = now) {
        timeval slice{0, 100000};
        event_base_loopexit(loop, &slice);
        event_base_dispatch(loop);
        now = received();
        if (now == before) break;
    }
    r.behind_s = duration<double>(steady_clock::now() - behind_from).count() - 0.1;
    r.loop_cpu = pool_of_workers ? process_cpu - generator_cpu - loop_cpu : loop_cpu;
    r.generator_cpu = generator_cpu;
    r.generator_late_ms = late_ms;
    r.sent = sent;
    if (!pool_of_workers) r.loop_sent = tick.sent;
    r.returned = returned;
    for (auto& c : calls) {
        r.received += c.rtp->stats().packets_in;
        r.lost += c.rtp->stats().lost;
        r.calls += c.calls;
    }
    r.drops = rcvbuf_errors() - drops_before;
    calls.clear();
    ::close(gen);
    event_base_free(loop);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    int streams = 5000, runs = 3, workers = 0;
    double seconds = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--streams")) streams = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    }
    const std::string where =
        workers > 0 ? "on " + std::to_string(workers) + " media worker(s)" : "on one loop";
    std::printf("%d streams into AMD %s, %.0f s a run, %d runs; %u cores\n", streams, where.c_str(),
                seconds, runs, std::thread::hardware_concurrency());
    std::vector<Run> all;
    for (int k = 0; k < runs; ++k) {
        const Run r = run_once(streams, seconds, workers);
        std::printf(
            "run %d: sent %llu, received (each a frame into AMD) %llu, sequence gaps %llu "
            "(kernel receive-buffer drops %llu); %llu calls analysed; silence sent "
            "%llu, read back by the "
            "generator %llu; CPU: listening (the loop or the workers) %.1f s (%.0f%% of a core), "
            "generator "
            "%.1f s (latest tick %.1f ms late); queued at the end read within %.1f s\n",
            k + 1, static_cast<unsigned long long>(r.sent),
            static_cast<unsigned long long>(r.received), static_cast<unsigned long long>(r.lost),
            static_cast<unsigned long long>(r.drops), static_cast<unsigned long long>(r.calls),
            static_cast<unsigned long long>(r.loop_sent),
            static_cast<unsigned long long>(r.returned), r.loop_cpu, 100 * r.loop_cpu / seconds,
            r.generator_cpu, r.generator_late_ms, r.behind_s);
        all.push_back(r);
    }
    auto median = [&](auto field) {
        std::vector<double> v;
        for (const auto& r : all) v.push_back(static_cast<double>(field(r)));
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    // Lost: sent and never received (gaps and a tail alike).
    std::printf(
        "median: lost %.0f of %.0f sent (target 0); listening %.0f%% of a core, the generator "
        "%.0f%% (its reference cost: one sendmmsg per 1,024 packets); queued at the end read "
        "within %.1f s\n",
        median([](const Run& r) { return r.sent - std::min(r.sent, r.received); }),
        median([](const Run& r) { return r.sent; }),
        median([](const Run& r) { return 100 * r.loop_cpu; }) / seconds,
        median([](const Run& r) { return 100 * r.generator_cpu; }) / seconds,
        median([](const Run& r) { return r.behind_s; }));
    return 0;
}
