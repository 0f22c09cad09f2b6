#include "dialer/cli/engine_link.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "campaigns/json_text.h"
#include "dialer/engine/control.h"

namespace outpace::cli {

std::unique_ptr<EngineLink> EngineLink::find(const std::string& data,
                                             const std::string& store_error,
                                             const EngineLinkArgs& args, const std::string& who) {
    std::ifstream in(std::filesystem::path(data) / "ENGINE");
    const auto info = nlohmann::json::parse(in, nullptr, false);
    if (info.is_discarded() || !info.is_object() || !info["control"].is_string() ||
        info["control"].get<std::string>().empty()) {
        std::cerr << who << ": " << store_error;
        if (in) std::cerr << " (its engine has no control socket: set 'control' in its config)";
        std::cerr << "\n";
        return nullptr;
    }
    // An engine killed hard leaves its ENGINE file behind: when that process is gone, whoever
    // holds the store now is another command, and waiting for an answer would take the timeout.
    const long pid = info.value("pid", 0L);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::cerr << who << ": " << store_error << " (the engine that last ran on " << data
                  << ", pid " << pid
                  << ", is no longer running: another command holds the store; run this again "
                     "when it has finished)\n";
        return nullptr;
    }
    ClientKeys keys;
    std::string error;
    if (!args.server_key.empty() && !read_client_keys(args.server_key, args.key, &keys, &error)) {
        std::cerr << who << ": " << error << "\n";
        return nullptr;
    }
    if (info.value("curve", false) && args.server_key.empty()) {
        std::cerr << who
                  << ": the running engine's control socket uses CurveZMQ: give --server-key and "
                     "--key\n";
        return nullptr;
    }
    std::cerr << who << ": an engine is running on " << data << "; the change goes through it\n";
    return std::unique_ptr<EngineLink>(new EngineLink(
        info["control"].get<std::string>(), info.value("pid", 0L), keys, args.timeout_ms, who));
}

std::optional<nlohmann::json> EngineLink::request(const nlohmann::json& req) {
    const auto text = json_text(req);
    std::string reply, error;
    nlohmann::json r;
    for (int wait_ms = 50;; wait_ms = std::min(wait_ms * 2, 1000)) {
        if (!control_request(endpoint_, text, timeout_ms_, &reply, &error, keys_)) {
            std::cerr << who_ << ": the running engine did not answer: " << error << "\n";
            return std::nullopt;
        }
        r = nlohmann::json::parse(reply, nullptr, false);
        if (!r.is_object() || !r.value("busy", false)) break;
        ++waits_;
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
    if (!r.is_object() || !r.value("ok", false)) {
        std::cerr << who_ << ": the engine refused: "
                  << (r.is_object() ? r.value("error", std::string("no reason")) : reply) << "\n";
        return std::nullopt;
    }
    return r;
}

std::string EngineLink::description() const {
    return "the running engine (pid " + std::to_string(pid_) +
           (waits_ ? ", which asked to wait " + std::to_string(waits_) +
                         " times while its store caught up"
                   : "") +
           ")";
}

}  // namespace outpace::cli
