// The web gateway (`outpace web`; docs/web.md): serves the agent desktop and the supervisor
// console to browsers and bridges each browser session to the engine's agent protocol
// (docs/agent-protocol.md): one ZeroMQ DEALER per agent, the events' PUB for consoles and the
// control socket for a supervisor's campaign pause/resume and messages.
//
// It is a process of its own, never a part of the engine: HTTP, TLS handshakes and a thousand
// browsers' WebSockets then never run on the engine's SIP/RTP loop, it can be restarted (or
// crash) without dropping a call, and it can sit on another host than the engine. It holds no
// credentials: the engine checks every password against its agents file.
#pragma once

#include <memory>
#include <string>

#include "dialer/web/web_config.h"

namespace outpace {

class Gateway {
  public:
    // Binds the configured address and connects to the engine (ZeroMQ connects lazily: an
    // engine that is not up yet is found when it comes). Null with `error` set.
    static std::unique_ptr<Gateway> start(const WebConfig& config, std::string* error);
    virtual ~Gateway() = default;
    // The port bound (the configured one, or the one chosen for port 0) and the base URL.
    virtual int port() const = 0;
    virtual std::string url() const = 0;
};

}  // namespace outpace
