// The engine that holds a store, as the CLI reaches it: commands that change data (`dnc`,
// `contacts import`) send their writes through its control socket while it runs, because a
// running engine is the store's one writer. It is found by the ENGINE file it keeps in the
// store's folder (control endpoint, pid, whether CurveZMQ is on).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dialer/engine/curve.h"

namespace outpace::cli {

struct EngineLinkArgs {
    std::string server_key, key;  // CurveZMQ: the engine's public key, this client's secret key
    int timeout_ms = 30'000;
};

class EngineLink {
  public:
    // The engine running on `data`, or null with the reason printed after `who` ("outpace dnc").
    // `store_error`: why the store itself could not be opened, printed when no engine is found.
    static std::unique_ptr<EngineLink> find(const std::string& data, const std::string& store_error,
                                            const EngineLinkArgs& args, const std::string& who);
    // Sends one request and returns the engine's reply when it says ok. While the engine
    // answers `busy` (its store is catching up with flushes) it waits and sends it again, never
    // pushing the engine's store into a write stall. Null with the reason printed otherwise.
    std::optional<nlohmann::json> request(const nlohmann::json& req);
    long pid() const { return pid_; }
    // "the running engine (pid N, which asked to wait K times ...)".
    std::string description() const;

  private:
    EngineLink(std::string endpoint, long pid, ClientKeys keys, int timeout_ms, std::string who)
        : endpoint_(std::move(endpoint)),
          pid_(pid),
          keys_(std::move(keys)),
          timeout_ms_(timeout_ms),
          who_(std::move(who)) {}
    std::string endpoint_;
    long pid_;
    ClientKeys keys_;
    int timeout_ms_;
    std::string who_;
    int waits_ = 0;
};

}  // namespace outpace::cli
