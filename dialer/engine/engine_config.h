// The engine's own config file (`outpace run --config FILE`): where the data lives, the SIP and
// RTP addresses, the trunks, the campaigns to run. Errors carry FILE:LINE:COL like campaign files.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "campaigns/diagnostics.h"
#include "campaigns/duration.h"
#include "dialer/engine/agent_phone.h"
#include "dialer/sip/dns.h"

namespace outpace {

struct TrunkConfig {
    std::string name;
    // An IP literal, or a host name the engine looks up itself (RFC 3263 with c-ares: NAPTR,
    // SRV, A) and hands Sofia-SIP only addresses: this Sofia version crashes on DNS failures.
    std::string host;
    int port = 5060;                // 0 for a host name given without one: its SRV records decide
    std::string transport = "udp";  // udp | tcp | tls (needs sip.tls)
    bool transport_given = false;   // else a host name's NAPTR records choose udp or tcp
    // Over TLS: the name the carrier's certificate must show. Default: the host name of
    // `address`; needed for an IP address (Sofia does not match certificates by IP).
    std::string tls_name;
    // SDES-SRTP on every call of this trunk (RTP/SAVP offered; an answer without a key is
    // refused). Only with `transport: tls`: the keys travel in the SIP message.
    bool srtp = false;
    std::string username, password;  // digest credentials, if the trunk challenges
    // Carriers that require registration: REGISTER (digest with username/password) and keep it
    // refreshed; the trunk takes calls only while registered. The registrar is the trunk's own
    // address (its first by SRV priority) unless `registrar` (IP:PORT) says otherwise.
    bool register_trunk = false;
    std::chrono::milliseconds register_expires{600'000};
    std::string registrar_host;
    int registrar_port = 0;
    std::string caller_id;  // used when the campaign names none
    int max_calls_per_second = 10;
    int max_calls = 100;  // calls in progress at once (ringing or answered)
};

struct CampaignEntry {
    std::string file;
    // Without agents (carrier tests, IVR work): keep this many calls in progress;
    // live answers get the safe-harbor message and count as abandoned. 0 = dial for agents only.
    int unattended_lines = 0;
};

// Agent desktops (docs/agent-protocol.md). Without an endpoint, no agent can log in.
// Softphones that register to the engine (docs/agents.md).
struct RegistrationConfig {
    Millis min_expires{60'000};     // shorter asks get 423 Interval Too Brief
    Millis max_expires{3'600'000};  // longer asks are granted this
    Millis keepalive{25'000};       // OPTIONS to each binding this often (NAT mappings stay open)
    int missed_keepalives = 3;      // unanswered in a row: the binding is dropped
    double source_rate = 2;         // REGISTERs per second per source address, sustained
    int source_burst = 20;          // ... and in a burst; beyond: 503 with Retry-After
    // REGISTERs refused by that limit in a row from one address: it is a flood, and the address
    // is locked out like a guesser (the kernel drops its packets; Sofia keeps no transactions).
    int flood_lockout_after = 100;
    int failures_before_lockout = 5;  // wrong credentials from one address in a row...
    Millis lockout{300'000};          // ... lock it out for this long (its packets are dropped)
    int max_contacts = 5;             // bindings per account; a new one replaces the oldest
};

struct AgentsConfig {
    std::string endpoint;       // ZeroMQ ROUTER, e.g. tcp://127.0.0.1:5570
    std::string events;         // ZeroMQ PUB for supervisors and CRMs; empty = none
    Millis heartbeat{5000};     // desktops send one at least this often
    int missed_heartbeats = 3;  // then the agent is logged out
    // Where agents' softphones may be (a login's phone is called by the engine). Empty = the
    // default: loopback and the subnet of the engine's SIP address.
    std::vector<IpNetwork> phone_networks;
    // Agents logged in at once; each holds an RTP port for its softphone leg. 0 = half the RTP
    // port range, so that logins can never take the ports calls need.
    int max_logged_in = 0;
    // The agents file (docs/agents.md): accounts, credentials, registration. Empty = lab mode:
    // any desktop may log in as any agent with a fixed phone URI (a warning at start).
    std::string accounts;
    RegistrationConfig registration;
};

// CurveZMQ on the engine's ZeroMQ sockets (docs/security.md). Off when no secret key is given.
struct AuthorizedKey {
    std::set<std::string> agents;  // the agent ids it may log in as; "*" = any
    bool may_be(const std::string& agent) const { return agents.count("*") || agents.count(agent); }
};

struct CurveConfig {
    std::string secret_key;                           // the engine's, Z85 (40 characters)
    std::map<std::string, AuthorizedKey> authorized;  // client public keys, Z85
    bool enabled() const { return !secret_key.empty(); }
};

// A client's side of CurveZMQ (`outpace agent`, `outpace ctl`): the engine's public key and the
// client's own secret key, Z85.
struct ClientKeys {
    std::string server_public, secret;
    bool enabled() const { return !server_public.empty(); }
};

struct EngineConfig {
    std::string source_path;
    std::string data_dir;
    std::string sip_address = "127.0.0.1";
    int sip_port = 5070;
    std::string sip_transport = "udp";
    // SIP over TLS on its own port, for trunks with `transport: tls` and softphones that
    // register over TLS (docs/engine.md). 0: none.
    struct Tls {
        int port = 0;
        std::string certificate;  // PEM: the private key and the certificate chain
        std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";  // whom servers chain to
        bool verify = true;  // check trunks' certificates (chain and name); off only in a lab
    } sip_tls;
    // SIP proxies in front of the engine (IP and port): softphones' REGISTERs relayed by one are
    // the softphone's (its Via below the proxy's says where from) and are called back through
    // it (docs/scaling.md).
    struct Proxy {
        std::string ip;
        int port = 5060;
    };
    std::vector<Proxy> sip_proxies;
    // One of several engines (docs/scaling.md): its name, and which engine runs each client's
    // campaigns (read from `cluster.clients`, a file every engine shares). Empty: alone.
    std::string cluster_engine, cluster_clients_file;
    std::map<std::string, std::string> cluster_clients;
    // No response at all (not even 100 Trying) to a request this long: SIP's transaction
    // timeout (RFC 3261's 64*T1, Timers B and F). A call whose trunk stays silent ends as a
    // carrier error and moves to the campaign's next trunk, if it has one.
    Millis sip_response_timeout{32'000};
    std::string rtp_address = "127.0.0.1";
    int rtp_first_port = 10000, rtp_last_port = 32767;
    // Media workers (docs/engine.md, "Media workers"): threads with loops of their own that
    // relay the conversations between customers and agents. -1: the cores this process may use
    // minus one (none on one core); 0: every call's audio on the engine's loop. Their priority:
    // SCHED_FIFO at `worker_realtime` (1-99; 0: off), for these threads only, when the process
    // may (else they run as the loop does, and the log says why), or `worker_nice` added to the
    // loop's nice.
    int rtp_workers = -1, rtp_worker_nice = 0, rtp_worker_realtime = 10;
    std::vector<TrunkConfig> trunks;
    // How trunks named by host name are looked up (servers, timeout per try, tries).
    sip::DnsConfig dns;
    std::vector<CampaignEntry> campaigns;
    AgentsConfig agents;
    CurveConfig curve;
    std::string metrics;   // Prometheus endpoint ADDRESS:PORT, e.g. 127.0.0.1:9464; empty = none
    std::string control;   // ZeroMQ endpoint for `outpace ctl`, e.g. ipc:///run/outpace/control
    Millis stop_after{0};  // stop launching after this long (demos, tests); 0 = run until told
    Millis drain_timeout{30'000};  // on stop: how long calls in progress may finish
    bool stop_when_done = false;   // stop once no campaign has anyone to dial now (demos, tests)
    Millis tick{100};              // pacing tick

    const TrunkConfig* trunk(const std::string& name) const;
    // Whether a trunk is named by host name (looked up while the engine runs).
    static bool by_name(const TrunkConfig& t) { return !sip::is_ip_literal(t.host); }
};

// Whether the PEM file at `path` holds a private key and a certificate (its first MiB is read).
bool pem_has_key_and_certificate(const std::string& path);

struct EngineConfigLoad {
    std::optional<EngineConfig> config;
    Diagnostics errors;
};

EngineConfigLoad load_engine_config(const std::string& path);
// In a cluster, why this engine may not run `campaign` of `client` (its client runs on another
// engine, or is not assigned); empty when it may (a campaign of no client shares nothing).
std::string cluster_refusal(const EngineConfig& c, const std::string& campaign,
                            const std::string& client);
EngineConfigLoad load_engine_config_text(const std::string& text, const std::string& display_name,
                                         const std::string& base_dir = ".");

}  // namespace outpace
