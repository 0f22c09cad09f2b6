// `outpace ctl` requests against an engine (with a real store, no campaigns): every request gets
// a JSON reply, whatever it holds.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "campaigns/store.h"
#include "dialer/engine/control.h"
#include "dialer/engine/engine.h"

namespace {

struct World {
    outpace::EngineConfig config;
    std::unique_ptr<outpace::Store> store;
    std::unique_ptr<outpace::LoopEnv> env;
    std::unique_ptr<outpace::Engine> engine;
    World() {
        const std::string dir = "/tmp/outpace-fuzz-control-" + std::to_string(::getpid());
        std::filesystem::remove_all(dir);
        std::string error;
        store = outpace::Store::open(dir, &error);
        if (!store) __builtin_trap();
        config.rtp_first_port = 40000;
        config.rtp_last_port = 40001;
        env = std::make_unique<outpace::LoopEnv>(nullptr);
        engine = std::make_unique<outpace::Engine>(config, *store, *env);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    const std::string request(reinterpret_cast<const char*>(data), size);
    const auto reply = outpace::handle_control_request(*world.engine, request);
    const auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.contains("ok")) __builtin_trap();
    return 0;
}
