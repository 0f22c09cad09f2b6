// SDP answers from carriers and softphones: parsed, or refused with a reason.
#include <cstdint>
#include <string_view>

#include "dialer/media/sdp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto m =
        outpace::media::parse_answer(std::string_view(reinterpret_cast<const char*>(data), size));
    if (m.ok() && (m.port <= 0 || m.port > 65535 || m.address.empty())) __builtin_trap();
    return 0;
}
