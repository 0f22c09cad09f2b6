// Agent desktop messages (ZeroMQ frames, JSON): parsed into a request, or refused with a reason.
#include <cstdint>
#include <string>
#include <string_view>

#include "dialer/engine/agent_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string error;
    auto r = outpace::parse_agent_request(
        std::string_view(reinterpret_cast<const char*>(data), size), &error);
    if (!r && error.empty()) __builtin_trap();
    return 0;
}
