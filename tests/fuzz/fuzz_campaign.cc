// Campaign files: the YAML loader and every check behind it, over any text. Errors must come back
// as FILE:LINE:COL messages, never as a crash or an exception.
#include <cstdint>
#include <string>

#include "campaigns/campaign_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto load = outpace::load_campaign_text(text, "fuzz.yaml", "/tmp");
    if (!load.campaign && load.errors.empty()) __builtin_trap();  // refused without a reason
    return 0;
}
