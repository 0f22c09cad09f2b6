// RTP from the network: SRTP's check (libsrtp2, fixed keys: anything from outside is checked
// before it is read), the packet parser, then what the engine does with a payload it accepts:
// G.711 decoding, answering-machine detection and in-band DTMF detection. The first byte picks
// the law; the rest is the packet.
#include <cstdint>
#include <span>
#include <vector>

extern "C" {
#include <spandsp.h>
}

#include "answering-detect/detector.h"
#include "dialer/media/dtmf.h"
#include "dialer/media/rtp.h"
#include "dialer/media/srtp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    {
        static const auto keys = [] {
            outpace::media::SrtpKey k;
            for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(i);
            return k;
        }();
        static auto srtp = outpace::media::SrtpSession::create(keys, keys, nullptr);
        std::vector<std::uint8_t> copy(data + 1, data + size);
        if (srtp && srtp->unprotect(copy.data(), copy.size()) > copy.size()) __builtin_trap();
    }
    const bool alaw = data[0] & 1;
    outpace::media::RtpPacket p;
    if (!outpace::media::parse_rtp(std::span(data + 1, size - 1), p)) return 0;
    // The payload must be a view inside the packet (RTP allows up to 64 KiB of it).
    if (p.payload.data() < data + 1 || p.payload.data() + p.payload.size() > data + size)
        __builtin_trap();
    std::vector<std::int16_t> pcm;
    for (auto b : p.payload) pcm.push_back(alaw ? alaw_to_linear(b) : ulaw_to_linear(b));
    outpace::amd::Detector amd(outpace::amd::Config{});
    outpace::media::DtmfDetector dtmf([](char) {});
    for (int i = 0; i < 4; ++i) {
        (void)amd.feed(pcm, std::chrono::milliseconds(20 * i));
        dtmf.feed(pcm);
    }
    return 0;
}
