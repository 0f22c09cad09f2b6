// The agents file (accounts and credentials), over any text: errors with a position, never a
// crash, never an account half-read.
#include <cstdint>
#include <string>

#include "dialer/engine/agent_accounts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto load = outpace::load_agent_directory_text(text, "agents.yaml");
    if (!load.directory && load.errors.empty()) __builtin_trap();
    if (load.directory && !load.errors.empty()) __builtin_trap();
    return 0;
}
