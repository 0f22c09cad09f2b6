// What SRTP costs the media path (issue: carriers as they are, TLS and SRTP):
//   protect + unprotect of one 20 ms G.711 packet with libsrtp2 (µs), next to a plain copy and
//     RTP parse of the same packet in the same run;
//   one packet through the engine's real media path, sent by one RtpSession and heard by another
//     over loopback (G.711 encode, sendto, recvmsg, decode, the handler), plain RTP and SRTP in
//     the same run: the share SRTP adds, and the answered calls one core could carry at 50
//     packets a second each way.
// Medians of --runs runs (default 5). Usage: bench_srtp [--runs N] [--packets N]
#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dialer/media/rtp.h"
#include "dialer/media/srtp.h"

using namespace outpace::media;
using Steady = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// µs per packet through two sessions on loopback, with SRTP or not.
double through_sessions(bool srtp, int packets) {
    event_base* loop = event_base_new();
    RtpPortPool pool(47000, 47999);
    std::string error;
    auto a = RtpSession::open(loop, "127.0.0.1", pool, &error);
    auto b = RtpSession::open(loop, "127.0.0.1", pool, &error);
    if (!a || !b) {
        std::fprintf(stderr, "cannot open RTP sessions: %s\n", error.c_str());
        std::exit(1);
    }
    if (srtp) {
        const auto ka = new_srtp_key(), kb = new_srtp_key();
        a->use_srtp(ka, kb);
        b->use_srtp(kb, ka);
    }
    a->set_remote({"127.0.0.1", b->port(), kPcmu, 101, ""});
    b->set_remote({"127.0.0.1", a->port(), kPcmu, 101, ""});
    std::size_t heard = 0;
    b->on_audio(
        [&](std::span<const std::int16_t> p, std::chrono::milliseconds) { heard += p.size(); });
    std::vector<std::int16_t> frame(160);
    for (int i = 0; i < 160; ++i) frame[i] = static_cast<std::int16_t>((i * 397) % 16000 - 8000);
    const auto t0 = Steady::now();
    for (int i = 0; i < packets; ++i) {
        a->send(frame);
        if (i % 32 == 31) event_base_loop(loop, EVLOOP_NONBLOCK);
    }
    for (int i = 0; i < 50 && heard < 160u * packets; ++i) event_base_loop(loop, EVLOOP_NONBLOCK);
    const double us =
        std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / packets;
    if (heard < 160u * packets * 9 / 10)
        std::fprintf(stderr, "warning: only %zu of %d packets heard (loopback drops)\n",
                     heard / 160, packets);
    a.reset();
    b.reset();
    event_base_free(loop);
    return us;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 5, packets = 20000;
    for (int i = 1; i + 1 < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[++i]);
        if (!std::strcmp(argv[i], "--packets")) packets = std::atoi(argv[++i]);
    }
    std::vector<double> copy_us, crypto_us, plain_path_us, srtp_path_us;
    for (int run = 0; run < runs; ++run) {
        // A 20 ms PCMU packet: 12-byte header, 160 bytes.
        std::vector<std::uint8_t> rtp(12 + 160 + SrtpSession::kTrailer, 0x55);
        rtp[0] = 0x80;
        std::vector<std::uint8_t> buf(rtp.size());
        // Reference: copy and parse.
        auto t0 = Steady::now();
        volatile int sink = 0;
        for (int i = 0; i < packets; ++i) {
            rtp[3] = static_cast<std::uint8_t>(i), rtp[2] = static_cast<std::uint8_t>(i >> 8);
            std::memcpy(buf.data(), rtp.data(), 172);
            RtpPacket p;
            sink = sink + parse_rtp({buf.data(), 172}, p);
        }
        copy_us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count() /
                          packets);
        // protect (our side) then unprotect (theirs).
        const auto k1 = new_srtp_key(), k2 = new_srtp_key();
        auto ours = SrtpSession::create(k1, k2, nullptr);
        auto theirs = SrtpSession::create(k2, k1, nullptr);
        t0 = Steady::now();
        for (int i = 0; i < packets; ++i) {
            rtp[3] = static_cast<std::uint8_t>(i), rtp[2] = static_cast<std::uint8_t>(i >> 8);
            std::memcpy(buf.data(), rtp.data(), 172);
            const auto n = ours->protect(buf.data(), 172);
            sink = sink + static_cast<int>(theirs->unprotect(buf.data(), n));
        }
        crypto_us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count() /
                            packets);
        (void)sink;
        plain_path_us.push_back(through_sessions(false, packets));
        srtp_path_us.push_back(through_sessions(true, packets));
    }
    const double copy = median(copy_us), crypto = median(crypto_us);
    const double plain = median(plain_path_us), secure = median(srtp_path_us);
    std::printf("medians of %d runs, %d packets each (20 ms G.711, 172 bytes)\n", runs, packets);
    std::printf("  reference: copy + RTP parse          %8.3f us/packet\n", copy);
    std::printf("  libsrtp2 protect + unprotect         %8.3f us/packet\n", crypto);
    std::printf("  media path, plain RTP (reference)    %8.3f us/packet (send + receive)\n", plain);
    std::printf("  media path, SRTP                     %8.3f us/packet (+%.1f %%)\n", secure,
                100.0 * (secure - plain) / plain);
    // A bridged call (customer and agent): the engine receives 50 packets a second on each leg
    // and sends 50 on each: 100 sends and 100 receives, 100 of the units measured here.
    std::printf(
        "  bridged calls per core (100 sends + 100 receives a second each): plain %.0f, "
        "SRTP on both legs %.0f\n",
        1e6 / (plain * 100), 1e6 / (secure * 100));
    return 0;
}
