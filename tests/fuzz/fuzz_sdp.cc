// SDP answers from carriers and softphones: parsed, or refused with a reason (their SDES keys
// included).
#include <cstdint>
#include <string_view>

#include "dialer/media/sdp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto m =
        outpace::media::parse_answer(std::string_view(reinterpret_cast<const char*>(data), size));
    if (m.ok() && (m.port <= 0 || m.port > 65535 || m.address.empty())) __builtin_trap();
    // An RTP/SAVP answer is usable only with a key; a plain one never carries one.
    if (m.ok() && m.secure != m.srtp.has_value()) __builtin_trap();
    return 0;
}
