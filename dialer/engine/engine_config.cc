#include "dialer/engine/engine_config.h"

#include "campaigns/phone.h"

#include <arpa/inet.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "campaigns/yaml_reader.h"
#include "dialer/engine/curve.h"

namespace outpace {
namespace {

namespace fs = std::filesystem;

const YamlReader::KeyTree& keys() {
    static const YamlReader::KeyTree k = {
        {"",
         {"data", "sip", "rtp", "dns", "trunks", "campaigns", "control", "agents", "curve",
          "metrics", "stop_after", "drain_timeout", "tick", "stop_when_done", "cluster"}},
        {"cluster", {"engine", "clients"}},
        {"agents",
         {"endpoint", "events", "heartbeat", "missed_heartbeats", "phone_networks", "max_logged_in",
          "accounts", "registration"}},
        {"agents.registration",
         {"min_expires", "max_expires", "keepalive", "missed_keepalives", "source_rate",
          "source_burst", "flood_lockout_after", "failures_before_lockout", "lockout",
          "max_contacts"}},
        {"curve", {"secret_key", "authorized_keys"}},
        {"sip", {"address", "port", "transport", "response_timeout", "tls", "proxies"}},
        {"sip.tls", {"port", "certificate", "ca_file", "verify"}},
        {"rtp", {"address", "ports", "workers", "worker_nice", "worker_realtime"}},
        {"dns", {"servers", "timeout", "tries"}},
        {"trunks[]",
         {"name", "address", "transport", "tls_name", "srtp", "username", "password", "caller_id",
          "max_calls_per_second", "max_calls", "register", "register_expires", "registrar"}},
        {"campaigns[]", {"file", "unattended_lines"}},
    };
    return k;
}

const YamlReader::KeyTree& enums() {
    static const YamlReader::KeyTree e = {};
    return e;
}

bool ip_literal(const std::string& a) {
    unsigned char buf[16];
    return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// "IP:PORT" or "[IPv6]:PORT".
bool split_host_port(const std::string& s, std::string& host, int& port) {
    std::string h, p;
    if (!s.empty() && s[0] == '[') {
        const auto close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return false;
        h = s.substr(1, close - 1);
        p = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string::npos) return false;
        h = s.substr(0, colon);
        p = s.substr(colon + 1);
    }
    if (!ip_literal(h) || p.empty() || p.size() > 5) return false;
    for (char c : p)
        if (c < '0' || c > '9') return false;
    port = std::stoi(p);
    if (port < 1 || port > 65535) return false;
    host = h;
    return true;
}

// A DNS host name (RFC 1123): dot-separated labels of letters, digits and inner hyphens, not
// all digits (that would be a mistyped IPv4 address).
bool host_name(const std::string& s) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t start = 0;
    bool letters = false;
    while (start <= s.size()) {
        auto dot = s.find('.', start);
        if (dot == std::string::npos) dot = s.size();
        const std::string label = s.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return dot == s.size() && label.empty() && start > 0;  // one trailing dot is fine
        for (char c : label) {
            const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!alpha && !(c >= '0' && c <= '9') && c != '-') return false;
            letters = letters || alpha;
        }
        start = dot + 1;
    }
    return letters;
}

// A trunk's address: IP:PORT, [IPv6]:PORT, IP (port 5060), NAME:PORT or NAME (port 0: SRV).
bool trunk_address(const std::string& s, std::string& host, int& port) {
    if (split_host_port(s, host, port)) return true;
    if (ip_literal(s)) {
        host = s, port = 5060;
        return true;
    }
    const auto colon = s.rfind(':');
    std::string h = s, p;
    if (colon != std::string::npos) h = s.substr(0, colon), p = s.substr(colon + 1);
    if (!host_name(h)) return false;
    int n = 0;
    if (colon != std::string::npos) {
        if (p.empty() || p.size() > 5) return false;
        for (char c : p)
            if (c < '0' || c > '9') return false;
        n = std::stoi(p);
        if (n < 1 || n > 65535) return false;
    }
    host = h, port = n;
    return true;
}

// tcp://HOST:PORT whose HOST is a loopback address (or the loopback interface's name).
bool loopback_endpoint(const std::string& endpoint) {
    std::string rest = endpoint.substr(6);
    std::string host;
    if (!rest.empty() && rest[0] == '[') {
        host = rest.substr(1, rest.find(']') - 1);
    } else {
        host = rest.substr(0, rest.rfind(':'));
    }
    if (host == "localhost" || host == "lo" || host == "::1") return true;
    in_addr a{};
    return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

void read_transport(YamlReader& r, const YAML::Node& map, const std::string& path, std::string& out,
                    bool tls_allowed = false) {
    r.string(map, "transport", path, out);
    if (out != "udp" && out != "tcp" && !(tls_allowed && out == "tls")) {
        r.error(map["transport"], "'" + path + "transport' must be udp" +
                                      (tls_allowed ? ", tcp or tls" : " or tcp") + "; got '" + out +
                                      "'");
        out = "udp";
    }
}

// A file the engine will read at start: there and readable now, or an error naming the key.
bool readable_file(YamlReader& r, const YAML::Node& at, const std::string& key,
                   const std::string& path) {
    std::ifstream in(path);
    if (in) return true;
    r.error(at, "'" + key + "': cannot read " + path);
    return false;
}

}  // namespace

bool pem_has_key_and_certificate(const std::string& path) {
    // A key and its chain fit in far less than 1 MiB; never read more (a path to a device or a
    // huge file must not hang the load).
    std::ifstream in(path, std::ios::binary);
    std::string pem(1 << 20, '\0');
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(in.gcount()));
    return pem.find("PRIVATE KEY-----") != std::string::npos &&
           pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos;
}

const TrunkConfig* EngineConfig::trunk(const std::string& name) const {
    for (const auto& t : trunks)
        if (t.name == name) return &t;
    return nullptr;
}

namespace {

template <typename Resolve>
void read_curve(YamlReader& r, const YAML::Node& root, EngineConfig& c, const Resolve& resolve) {
    if (auto k = root["curve"]; k && r.section(k, "curve")) {
        std::string secret, authorized, error;
        r.string(k, "secret_key", "curve.", secret);
        r.string(k, "authorized_keys", "curve.", authorized);
        if (secret.empty() || authorized.empty()) {
            r.error(k,
                    "'curve' needs 'secret_key' (the engine's key file) and 'authorized_keys' "
                    "(the clients' public keys, one per line)");
        } else {
            c.curve.secret_key = read_key_file(resolve(secret), &error);
            if (!error.empty()) r.error(k["secret_key"], error);
            error.clear();
            if (!read_authorized_keys(resolve(authorized), &c.curve.authorized, &error))
                r.error(k["authorized_keys"], error);
        }
    }
}

template <typename Resolve>
void read_agents(YamlReader& r, const YAML::Node& root, EngineConfig& c, const Resolve& resolve) {
    if (auto a = root["agents"]; a && r.section(a, "agents")) {
        r.string(a, "endpoint", "agents.", c.agents.endpoint);
        if (c.agents.endpoint.empty())
            r.error(a,
                    "'agents.endpoint' is required: where agent desktops connect, like "
                    "tcp://127.0.0.1:5570");
        r.string(a, "events", "agents.", c.agents.events);
        r.duration(a, "heartbeat", "agents.", c.agents.heartbeat, Millis{500}, Millis{60'000});
        r.integer(a, "missed_heartbeats", "agents.", c.agents.missed_heartbeats, 1, 100);
        for (const auto& n : r.string_list(a, "phone_networks", "agents.")) {
            if (auto net = IpNetwork::parse(n))
                c.agents.phone_networks.push_back(*net);
            else
                r.error(a["phone_networks"],
                        "'agents.phone_networks': '" + n +
                            "' is not a network like 192.0.2.0/24 or fd00::/8");
        }
        r.integer(a, "max_logged_in", "agents.", c.agents.max_logged_in, 0, 100000);
        r.file(a, "accounts", "agents.", c.agents.accounts);
        c.agents.accounts = resolve(c.agents.accounts);
        if (auto g = a["registration"]; g && r.section(g, "agents.registration")) {
            const std::string p = "agents.registration.";
            auto& reg = c.agents.registration;
            r.duration(g, "min_expires", p, reg.min_expires, Millis{10'000}, Millis{3'600'000});
            r.duration(g, "max_expires", p, reg.max_expires, Millis{10'000}, Millis{86'400'000});
            if (reg.max_expires < reg.min_expires)
                r.error(g, "'agents.registration.max_expires' is shorter than 'min_expires'");
            r.duration(g, "keepalive", p, reg.keepalive, Millis{5'000}, Millis{600'000});
            r.integer(g, "missed_keepalives", p, reg.missed_keepalives, 1, 100);
            r.number(g, "source_rate", p, reg.source_rate, 0.1, 1000);
            r.integer(g, "source_burst", p, reg.source_burst, 1, 10000);
            r.integer(g, "flood_lockout_after", p, reg.flood_lockout_after, 1, 1'000'000);
            r.integer(g, "failures_before_lockout", p, reg.failures_before_lockout, 1, 1000);
            r.duration(g, "lockout", p, reg.lockout, Millis{1'000}, Millis{86'400'000});
            r.integer(g, "max_contacts", p, reg.max_contacts, 1, 20);
        }
    }
}

template <typename Resolve>
void read_sip_rtp(YamlReader& r, const YAML::Node& root, EngineConfig& c, const Resolve& resolve) {
    if (auto sip = root["sip"]; sip && r.section(sip, "sip")) {
        r.string(sip, "address", "sip.", c.sip_address);
        if (!ip_literal(c.sip_address))
            r.error(sip["address"], "'sip.address' must be an IP address, like 127.0.0.1");
        r.integer(sip, "port", "sip.", c.sip_port, 1, 65535);
        read_transport(r, sip, "sip.", c.sip_transport);
        r.duration(sip, "response_timeout", "sip.", c.sip_response_timeout, Millis{1000},
                   Millis{32'000});
        if (auto proxies = sip["proxies"]) {
            const auto list = r.string_list(sip, "proxies", "sip.");
            for (std::size_t i = 0; i < list.size(); ++i) {
                EngineConfig::Proxy p;
                if (!split_host_port(list[i], p.ip, p.port) || !ip_literal(p.ip))
                    r.error(proxies.IsSequence() ? proxies[i] : proxies,
                            "'sip.proxies' entries are IP:PORT (a proxy's address), like "
                            "127.0.0.1:5060");
                else
                    c.sip_proxies.push_back(p);
            }
        }
        if (auto tls = sip["tls"]; tls && r.section(tls, "sip.tls")) {
            auto& t = c.sip_tls;
            r.integer(tls, "port", "sip.tls.", t.port, 1, 65535);
            if (!tls["port"]) r.error(tls, "'sip.tls' needs a 'port' (5061 is SIP's TLS port)");
            if (t.port && t.port == c.sip_port && c.sip_transport == "tcp")
                r.error(tls["port"], "'sip.tls.port' is the port SIP over TCP listens on");
            r.string(tls, "certificate", "sip.tls.", t.certificate);
            r.string(tls, "ca_file", "sip.tls.", t.ca_file);
            t.certificate = resolve(t.certificate);
            t.ca_file = resolve(t.ca_file);
            r.boolean(tls, "verify", "sip.tls.", t.verify);
            if (t.certificate.empty()) {
                r.error(tls,
                        "'sip.tls' needs a 'certificate': a PEM file with the private key "
                        "and the certificate chain");
            } else if (readable_file(r, tls["certificate"], "sip.tls.certificate", t.certificate)) {
                if (!pem_has_key_and_certificate(t.certificate))
                    r.error(tls["certificate"],
                            "'sip.tls.certificate': " + t.certificate +
                                " must hold both the private key and the certificate (PEM; "
                                "cat key.pem cert.pem > engine.pem)");
            }
            readable_file(r, tls["ca_file"] ? tls["ca_file"] : tls, "sip.tls.ca_file", t.ca_file);
        }
    }
    if (auto rtp = root["rtp"]; rtp && r.section(rtp, "rtp")) {
        r.string(rtp, "address", "rtp.", c.rtp_address);
        if (!ip_literal(c.rtp_address))
            r.error(rtp["address"], "'rtp.address' must be an IP address, like 127.0.0.1");
        if (auto ports = rtp["ports"]) {
            const std::string s = ports.IsScalar() ? ports.Scalar() : "";
            int a = 0, b = 0;
            char dash = 0;
            std::istringstream in(s);
            if (!(in >> a >> dash >> b) || dash != '-' || !in.eof() || a < 1024 || b > 65535 ||
                b - a < 2)
                r.error(ports, "'rtp.ports' must be a range like 20000-29999 (above 1023)");
            else
                c.rtp_first_port = a, c.rtp_last_port = b;
        }
        r.integer(rtp, "workers", "rtp.", c.rtp_workers, 0, 256);
        r.integer(rtp, "worker_nice", "rtp.", c.rtp_worker_nice, -20, 19);
        r.integer(rtp, "worker_realtime", "rtp.", c.rtp_worker_realtime, 0, 99);
    }
}

void read_dns(YamlReader& r, const YAML::Node& root, EngineConfig& c) {
    if (auto d = root["dns"]; d && r.section(d, "dns")) {
        for (const auto& server : r.string_list(d, "servers", "dns.")) {
            std::string host;
            int port = 0;
            if (ip_literal(server) || split_host_port(server, host, port))
                c.dns.servers.push_back(server);
            else
                r.error(d["servers"], "'dns.servers': '" + server +
                                          "' is not IP or IP:PORT (like 192.0.2.53:53)");
        }
        r.duration(d, "timeout", "dns.", c.dns.timeout, Millis{100}, Millis{30'000});
        r.integer(d, "tries", "dns.", c.dns.tries, 1, 10);
    }
}

void read_trunks(YamlReader& r, const YAML::Node& root, EngineConfig& c) {
    std::set<std::string> names;
    if (auto trunks = root["trunks"]) {
        if (!trunks.IsSequence()) r.error(trunks, "'trunks' must be a list");
        for (const auto& t : trunks.IsSequence() ? trunks : YAML::Node()) {
            if (!r.section(t, "trunks[]")) continue;
            TrunkConfig tc;
            r.string(t, "name", "trunks[].", tc.name);
            if (tc.name.empty())
                r.error(t, "a trunk needs a 'name'");
            else if (!names.insert(tc.name).second)
                r.error(t["name"], "two trunks are called '" + tc.name + "'");
            std::string addr;
            r.string(t, "address", "trunks[].", addr);
            if (!trunk_address(addr, tc.host, tc.port))
                r.error(t["address"] ? t["address"] : t,
                        "'trunks[].address' must be IP:PORT (like 192.0.2.10:5060), a host name "
                        "(sip.carrier.example: its NAPTR and SRV records decide) or NAME:PORT; "
                        "got '" +
                            addr + "'");
            tc.transport_given = static_cast<bool>(t["transport"]);
            read_transport(r, t, "trunks[].", tc.transport, true);
            if (tc.transport == "tls") {
                if (!c.sip_tls.port)
                    r.error(t["transport"], "trunk '" + tc.name +
                                                "' uses TLS: the engine needs 'sip.tls' (its "
                                                "port and certificate)");
                if (ip_literal(addr)) tc.port = 5061;  // written without a port: SIP's TLS port
            }
            r.string(t, "tls_name", "trunks[].", tc.tls_name);
            // Sofia matches a certificate's DNS names and common name, never its IP addresses.
            if (tc.transport == "tls" && tc.tls_name.empty() && ip_literal(tc.host) &&
                c.sip_tls.verify)
                r.error(t["address"], "trunk '" + tc.name +
                                          "' uses TLS to an IP address: give 'tls_name', the "
                                          "name on the carrier's certificate");
            if (!tc.tls_name.empty() && tc.transport != "tls")
                r.error(t["tls_name"],
                        "'trunks[].tls_name' is only for a trunk with 'transport: "
                        "tls'");
            r.boolean(t, "srtp", "trunks[].", tc.srtp);
            if (tc.srtp && tc.transport != "tls")
                r.error(t["srtp"], "trunk '" + tc.name +
                                       "': 'srtp: true' needs 'transport: tls' (the SRTP keys "
                                       "travel in the SIP messages, never in clear)");
            r.string(t, "username", "trunks[].", tc.username);
            r.string(t, "password", "trunks[].", tc.password);
            r.string(t, "caller_id", "trunks[].", tc.caller_id);
            if (!tc.caller_id.empty()) {
                // No list region here: only a number written in E.164 is unambiguous.
                const auto n = tc.caller_id.front() == '+' ? normalize_phone(tc.caller_id, "US")
                                                           : NormalizedPhone{};
                if (tc.caller_id.front() != '+' || !n.ok())
                    r.error(t["caller_id"],
                            "'trunks[].caller_id' must be a valid number in E.164 "
                            "(like +13125550188): '" +
                                tc.caller_id + "'");
                else
                    tc.caller_id = n.e164;
            }
            r.boolean(t, "register", "trunks[].", tc.register_trunk);
            r.duration(t, "register_expires", "trunks[].", tc.register_expires, Millis{60'000},
                       Millis{86'400'000});
            if (auto reg = t["registrar"]) {
                const std::string text = reg.IsScalar() ? reg.Scalar() : "";
                if (!split_host_port(text, tc.registrar_host, tc.registrar_port))
                    r.error(reg, "'trunks[].registrar' must be IP:PORT (like 192.0.2.10:5060)");
                if (!tc.register_trunk)
                    r.error(reg, "'trunks[].registrar' is only for a trunk with 'register: true'");
            }
            if (tc.register_trunk && (tc.username.empty() || tc.password.empty()))
                r.error(t, "trunk '" + tc.name +
                               "' registers ('register: true'): it needs 'username' and "
                               "'password'");
            r.integer(t, "max_calls_per_second", "trunks[].", tc.max_calls_per_second, 1, 10000);
            r.integer(t, "max_calls", "trunks[].", tc.max_calls, 1, 100000);
            c.trunks.push_back(tc);
        }
    }
    if (c.trunks.empty()) r.error(root, "at least one trunk is needed under 'trunks'");
}

template <typename Resolve>
void read_campaigns(YamlReader& r, const YAML::Node& root, EngineConfig& c,
                    const Resolve& resolve) {
    if (auto list = root["campaigns"]) {
        if (!list.IsSequence()) r.error(list, "'campaigns' must be a list");
        for (const auto& e : list.IsSequence() ? list : YAML::Node()) {
            CampaignEntry ce;
            if (e.IsScalar()) {
                ce.file = e.Scalar();
            } else {
                if (!r.section(e, "campaigns[]")) continue;
                r.string(e, "file", "campaigns[].", ce.file);
                r.integer(e, "unattended_lines", "campaigns[].", ce.unattended_lines, 0, 100000);
            }
            if (ce.file.empty()) {
                r.error(e, "a campaign entry needs a 'file'");
                continue;
            }
            r.check_file(e.IsScalar() ? e : e["file"], ce.file, "campaigns[].file");
            ce.file = resolve(ce.file);
            c.campaigns.push_back(ce);
        }
    }
}

// `cluster`: this engine's name, and the file (shared by every engine) that says which engine
// runs each client's campaigns: {CLIENT: ENGINE, ...}.
template <typename Resolve>
void read_cluster(YamlReader& r, const YAML::Node& root, EngineConfig& c, const Resolve& resolve) {
    auto cl = root["cluster"];
    if (!cl || !r.section(cl, "cluster")) return;
    r.string(cl, "engine", "cluster.", c.cluster_engine);
    std::string file;
    r.string(cl, "clients", "cluster.", file);
    if (c.cluster_engine.empty())
        r.error(cl, "'cluster' needs 'engine': this engine's name in the clients file");
    if (file.empty()) {
        r.error(cl,
                "'cluster' needs 'clients': the file that says which engine runs each "
                "client's campaigns (docs/scaling.md)");
        return;
    }
    c.cluster_clients_file = resolve(file);
    std::ifstream in(c.cluster_clients_file);
    if (!in) {
        r.error(cl["clients"], "'cluster.clients': cannot read " + c.cluster_clients_file);
        return;
    }
    // Never more than a YAML file may hold, and one byte to tell it is too big (a path to a
    // device or a huge file must not hang the load).
    std::string text(kMaxYamlBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    Diagnostics errors;
    const auto doc = load_yaml_document(text, c.cluster_clients_file, errors);
    YamlReader f(c.cluster_clients_file, ".", {}, {}, "the clients file");
    if (doc && !doc->IsMap() && !doc->IsNull())
        f.error(*doc, "the clients file must map each client to its engine (acme: east)");
    if (doc && doc->IsMap())
        for (const auto& kv : *doc) {
            if (!kv.first.IsScalar() || !kv.second.IsScalar() || kv.second.Scalar().empty()) {
                f.error(kv.first, "each client maps to one engine's name (acme: east)");
                continue;
            }
            c.cluster_clients[kv.first.Scalar()] = kv.second.Scalar();
        }
    r.errors.insert(r.errors.end(), errors.begin(), errors.end());
    r.errors.insert(r.errors.end(), f.errors.begin(), f.errors.end());
}

template <typename Resolve>
void read_config(YamlReader& r, const YAML::Node& root, EngineConfig& c, const Resolve& resolve) {
    if (!r.section(root, "")) return;
    r.string(root, "data", "", c.data_dir);
    if (c.data_dir.empty()) r.error(root, "'data' is required: the folder where the store lives");
    c.data_dir = resolve(c.data_dir);
    r.string(root, "control", "", c.control);
    r.string(root, "metrics", "", c.metrics);
    if (!c.metrics.empty()) {
        std::string host;
        int port = 0;
        if (!split_host_port(c.metrics, host, port))
            r.error(root["metrics"], "'metrics' must be IP:PORT, like 127.0.0.1:9464");
    }
    r.duration(root, "stop_after", "", c.stop_after, Millis{0}, Millis{365LL * 86'400'000});
    r.duration(root, "drain_timeout", "", c.drain_timeout, Millis{0}, Millis{3'600'000});
    r.duration(root, "tick", "", c.tick, Millis{10}, Millis{1000});
    r.boolean(root, "stop_when_done", "", c.stop_when_done);
    read_curve(r, root, c, resolve);
    // Whoever reaches the control socket can stop every campaign: off this machine only with
    // CurveZMQ. (ipc:// sockets are created 0660.)
    if (c.control.rfind("tcp://", 0) == 0 && !loopback_endpoint(c.control) && !c.curve.enabled())
        r.error(root["control"], "'control' " + c.control +
                                     " is reachable from other machines: use a loopback address "
                                     "(tcp://127.0.0.1:PORT) or ipc://, or turn CurveZMQ on "
                                     "('curve')");
    read_agents(r, root, c, resolve);

    read_sip_rtp(r, root, c, resolve);
    read_dns(r, root, c);
    read_trunks(r, root, c);
    read_campaigns(r, root, c, resolve);
    read_cluster(r, root, c, resolve);
    if (c.campaigns.empty())
        r.error(root, "no campaigns to run: list campaign files under 'campaigns'");
}

}  // namespace

std::string cluster_refusal(const EngineConfig& c, const std::string& campaign,
                            const std::string& client) {
    if (c.cluster_engine.empty()) return "";
    if (client.empty()) return "";  // shares no client's list with any other campaign
    const auto it = c.cluster_clients.find(client);
    if (it == c.cluster_clients.end())
        return "campaign '" + campaign + "': client '" + client + "' is not in " +
               c.cluster_clients_file + ", which says which engine runs each client's campaigns";
    if (it->second != c.cluster_engine)
        return "campaign '" + campaign + "': client '" + client + "' runs on engine '" +
               it->second + "' (" + c.cluster_clients_file + "), not on this one ('" +
               c.cluster_engine +
               "'): a client's campaigns share its do-not-call list and "
               "caps, which live in one engine's store";
    return "";
}

EngineConfigLoad load_engine_config_text(const std::string& text, const std::string& display_name,
                                         const std::string& base_dir) {
    EngineConfigLoad out;
    YamlReader r(display_name, base_dir, keys(), enums(), "the engine config");
    const auto document = load_yaml_document(text, display_name, out.errors);
    if (!document) return out;
    const YAML::Node& root = *document;
    EngineConfig c;
    c.source_path = (fs::path(base_dir) / fs::path(display_name).filename()).string();
    auto resolve = [&](const std::string& p) {
        return p.empty() || fs::path(p).is_absolute()
                   ? p
                   : (fs::path(base_dir) / p).lexically_normal().string();
    };
    try {
        read_config(r, root, c, resolve);
    } catch (const YAML::Exception& e) {
        // A shape the reader did not foresee: an error at its place, never a crash.
        r.error_at(e.mark.line, e.mark.column, e.msg);
    }
    out.errors = r.errors;
    sort_by_position(out.errors);
    if (out.errors.empty()) out.config = std::move(c);
    return out;
}

EngineConfigLoad load_engine_config(const std::string& path) {
    return load_yaml_file<EngineConfigLoad>(path, load_engine_config_text);
}

}  // namespace outpace
