// The web gateway's config (`outpace web --config web.yaml`; docs/web.md): where it listens, its
// TLS certificate, the page files, the engine's sockets it bridges to and the limits on what
// browsers may do. Checked with FILE:LINE:COL errors like the engine's config.
#pragma once

#include <optional>
#include <string>

#include "campaigns/diagnostics.h"
#include "campaigns/duration.h"
#include "dialer/engine/engine_config.h"

namespace outpace {

struct WebConfig {
    std::string source_path;
    std::string listen = "127.0.0.1:8080";  // IP:PORT; only this address is bound
    std::string certificate;                // PEM: the private key, then the chain. Empty: HTTP
    std::string root = "/usr/share/outpace/web";  // the pages (index.html, supervisor.html, ...)
    // The engine (docs/agent-protocol.md): the agents' ROUTER, the events' PUB, the control REP.
    std::string agents = "tcp://127.0.0.1:5570", events, control;
    std::string server_key, key;  // CurveZMQ: the engine's public key file, the gateway's secret
    ClientKeys keys;
    Millis idle{60'000};  // a session with no page open for this long ends (its agent logs out)
    Millis lifetime{12 * 3'600'000};  // and every session ends this long after its login
    int max_sessions = 1000;
    int max_pages = 600;            // WebSocket connections at once (civetweb: a thread each)
    double logins_per_minute = 10;  // per client address
    int login_burst = 5;
    double messages_per_second = 20;  // per page
    int message_burst = 40;
    bool plain_http_ok() const { return certificate.empty(); }
};

struct WebConfigLoad {
    std::optional<WebConfig> config;
    Diagnostics errors;
};

WebConfigLoad load_web_config(const std::string& path);
WebConfigLoad load_web_config_text(const std::string& text, const std::string& display_name,
                                   const std::string& base_dir);

}  // namespace outpace
