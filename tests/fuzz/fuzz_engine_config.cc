// The engine's configuration file, over any text: errors with a position, never a crash.
#include <cstdint>
#include <string>

#include "dialer/engine/engine_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto load = outpace::load_engine_config_text(text, "engine.yaml", "/tmp");
    if (!load.config && load.errors.empty()) __builtin_trap();
    return 0;
}
