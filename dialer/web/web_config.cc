#include "dialer/web/web_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "campaigns/yaml_reader.h"
#include "dialer/engine/curve.h"

namespace outpace {
namespace fs = std::filesystem;
namespace {

const YamlReader::KeyTree& web_keys() {
    static const YamlReader::KeyTree k = {
        {"", {"listen", "certificate", "root", "engine", "sessions", "limits"}},
        {"engine", {"agents", "events", "control", "server_key", "key"}},
        {"sessions", {"idle", "lifetime", "max"}},
        {"limits",
         {"pages", "logins_per_minute", "login_burst", "messages_per_second", "message_burst"}},
    };
    return k;
}

bool zmq_endpoint(const std::string& e) {
    return e.rfind("tcp://", 0) == 0 || e.rfind("ipc://", 0) == 0;
}

// "IP:PORT" or "[IPv6]:PORT" with a port in 1-65535 (0: any free port, for tests).
bool listen_address(const std::string& s) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
    const std::string port = s.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) return false;
    return std::stoi(port) <= 65535;
}

}  // namespace

WebConfigLoad load_web_config_text(const std::string& text, const std::string& display_name,
                                   const std::string& base_dir) {
    WebConfigLoad out;
    static const YamlReader::KeyTree no_enums;
    YamlReader r(display_name, base_dir, web_keys(), no_enums, "the web gateway's config");
    const auto document = load_yaml_document(text, display_name, out.errors);
    if (!document) return out;
    const YAML::Node& root = *document;
    WebConfig c;
    c.source_path = (fs::path(base_dir) / fs::path(display_name).filename()).string();
    auto resolve = [&](const std::string& p) {
        return p.empty() || fs::path(p).is_absolute()
                   ? p
                   : (fs::path(base_dir) / p).lexically_normal().string();
    };
    try {
        if (!r.section(root, "")) {
            out.errors = r.errors;
            return out;
        }
        r.string(root, "listen", "", c.listen);
        if (!listen_address(c.listen))
            r.error(root["listen"] ? root["listen"] : root,
                    "'listen' must be IP:PORT, like 127.0.0.1:8080 or [::1]:8443; got '" +
                        c.listen + "'");
        r.string(root, "certificate", "", c.certificate);
        c.certificate = resolve(c.certificate);
        if (!c.certificate.empty() && !pem_has_key_and_certificate(c.certificate))
            r.error(root["certificate"],
                    "'certificate': " + c.certificate +
                        " must be readable and hold both the private key and the certificate "
                        "(PEM; cat key.pem cert.pem > web.pem)");
        r.string(root, "root", "", c.root);
        c.root = resolve(c.root);
        std::error_code ec;
        if (!fs::is_regular_file(fs::path(c.root) / "index.html", ec))
            r.error(root["root"] ? root["root"] : root,
                    "'root': " + c.root + " holds no index.html (the desktop's pages)");
        if (auto e = root["engine"]; e && r.section(e, "engine")) {
            r.string(e, "agents", "engine.", c.agents);
            r.string(e, "events", "engine.", c.events);
            r.string(e, "control", "engine.", c.control);
            for (const char* key : {"agents", "events", "control"}) {
                const std::string& v = std::string(key) == "agents"   ? c.agents
                                       : std::string(key) == "events" ? c.events
                                                                      : c.control;
                if (!v.empty() && !zmq_endpoint(v))
                    r.error(e[key], std::string("'engine.") + key +
                                        "' must be a ZeroMQ endpoint: tcp://IP:PORT or ipc://PATH");
            }
            r.string(e, "server_key", "engine.", c.server_key);
            r.string(e, "key", "engine.", c.key);
            if (c.server_key.empty() != c.key.empty())
                r.error(e,
                        "CurveZMQ needs both 'engine.server_key' (the engine's public key) and "
                        "'engine.key' (the gateway's secret key)");
            if (!c.server_key.empty() && !c.key.empty()) {
                std::string error;
                if (!read_client_keys(resolve(c.server_key), resolve(c.key), &c.keys, &error))
                    r.error(e, "'engine': " + error);
            }
        }
        if (c.agents.empty())
            r.error(root, "'engine.agents' is required: the engine's agents.endpoint");
        if (auto s = root["sessions"]; s && r.section(s, "sessions")) {
            r.duration(s, "idle", "sessions.", c.idle, Millis{5'000}, Millis{3'600'000});
            r.duration(s, "lifetime", "sessions.", c.lifetime, Millis{5'000},
                       Millis{7 * 86'400'000LL});
            r.integer(s, "max", "sessions.", c.max_sessions, 1, 100'000);
        }
        if (auto l = root["limits"]; l && r.section(l, "limits")) {
            r.integer(l, "pages", "limits.", c.max_pages, 1, 20'000);
            r.number(l, "logins_per_minute", "limits.", c.logins_per_minute, 0.1, 10'000);
            r.integer(l, "login_burst", "limits.", c.login_burst, 1, 10'000);
            r.number(l, "messages_per_second", "limits.", c.messages_per_second, 0.1, 10'000);
            r.integer(l, "message_burst", "limits.", c.message_burst, 1, 100'000);
        }
    } catch (const YAML::Exception& e) {
        r.error_at(e.mark.line, e.mark.column, e.msg);
    }
    out.errors = r.errors;
    sort_by_position(out.errors);
    if (out.errors.empty()) out.config = std::move(c);
    return out;
}

WebConfigLoad load_web_config(const std::string& path) {
    return load_yaml_file<WebConfigLoad>(path, load_web_config_text);
}

}  // namespace outpace
