// The engine's control socket: `outpace ctl` talks to a running engine over ZeroMQ (REQ/REP,
// one JSON object each way) to pause, resume or stop a campaign, stop the engine, or read status.
// Malformed requests get an error reply; nothing a client sends can stop the loop.
#pragma once

#include <memory>
#include <string>

#include "dialer/engine/engine_config.h"

struct event_base;

namespace outpace {

class Engine;

class ControlServer {
  public:
    // Binds `endpoint` (tcp://127.0.0.1:PORT or ipc://PATH). With `curve` enabled, only the
    // authorized client keys get in. Null with `error` set on failure.
    static std::unique_ptr<ControlServer> start(event_base* loop, Engine& engine,
                                                const std::string& endpoint,
                                                const CurveConfig& curve, std::string* error);
    virtual ~ControlServer() = default;
};

// The engine's status as the JSON object `ctl status` returns.
std::string status_report_json(Engine& engine);

// The reply to one request (also what the tests call directly).
std::string handle_control_request(Engine& engine, const std::string& request);

// Client side, for `outpace ctl`: sends one request, waits up to `timeout_ms` for the reply.
// Returns false with `error` set when the engine cannot be reached.
bool control_request(const std::string& endpoint, const std::string& request, int timeout_ms,
                     std::string* reply, std::string* error, const ClientKeys& keys = {});

}  // namespace outpace
