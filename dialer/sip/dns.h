// Finding a SIP server by name: DNS queries (c-ares on the engine's loop, never Sofia's resolver,
// which crashes on some failure paths) and RFC 3263's choice of where to send a request for a
// domain (NAPTR, then SRV, then A/AAAA).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct event_base;

namespace outpace::sip {

enum class RrType { naptr, srv, a, aaaa };

// One record of an answer; which fields mean something depends on the type.
struct DnsRecord {
    std::string target = {};  // SRV: the server's name; NAPTR: the replacement; A/AAAA: address
    int priority = 0, weight = 0, port = 0;  // SRV
    int order = 0, preference = 0;           // NAPTR
    std::string flags = {}, service = {};    // NAPTR ("s", "SIP+D2U")
};

struct DnsAnswer {
    enum class Status {
        ok,
        none,    // no such name, or no records of this type (NXDOMAIN, NODATA)
        failed,  // no answer that can be trusted: timeout, SERVFAIL, refused, unreadable
    };
    Status status = Status::failed;
    std::vector<DnsRecord> records;
    std::chrono::seconds ttl{0};  // the smallest TTL among the answer's records
    std::string error;            // for `failed`: what went wrong, for a log line
};

struct DnsConfig {
    // "IP" or "IP:PORT" ("[v6]:PORT"); empty: the system's (/etc/resolv.conf).
    std::vector<std::string> servers;
    std::chrono::milliseconds timeout{2000};  // per try
    int tries = 2;
};

class Dns {
  public:
    using Done = std::function<void(DnsAnswer)>;
    virtual ~Dns() = default;
    // Asks for `name`'s records of `type`. `done` runs later on the loop, exactly once, unless the
    // Dns is destroyed first (then never).
    virtual void query(const std::string& name, RrType type, Done done) = 0;
};

// A DNS message as it came from the server (bytes nobody vouches for): its records of `type`
// and smallest TTL; `failed` when it does not parse, `none` when it holds no such records.
DnsAnswer read_dns_answer(RrType type, const unsigned char* message, int length);

// c-ares on `loop`. Null with `error` set when the servers are unusable.
std::unique_ptr<Dns> open_dns(event_base* loop, const DnsConfig& config, std::string* error);

// ---- RFC 3263: where requests for a SIP domain go --------------------------------------------

struct ServerName {
    std::string host;       // a name or an IP literal
    int port = 0;           // 0: not given (SRV decides, else 5060)
    std::string transport;  // "udp", "tcp" or "tls" (SRV _sips._tcp, port 5061); empty: not given
                            // (NAPTR decides, else udp)
};

struct ServerTarget {
    std::string ip;
    int port = 5060;
    std::string transport = "udp";
    int priority = 0, weight = 0;  // SRV's; 0 for a plain address
    bool operator==(const ServerTarget&) const = default;
};

struct Located {
    bool ok = false;
    std::string error;  // why not: a name that does not exist, a DNS server that does not answer
    // Where to send, in order of SRV priority (the weight chooses within a priority).
    std::vector<ServerTarget> targets;
    // How long this holds: the smallest TTL of the records it came from.
    std::chrono::seconds ttl{0};
};

// At most this many targets come out of one lookup (a hostile or broken zone cannot fill memory).
inline constexpr std::size_t kMaxServerTargets = 32;

// RFC 3263 §4 for `server`: an IP literal is its own target; a name with a port is looked up as
// A (or AAAA, when `ipv6`: the family of the engine's SIP socket); a name with a transport but no
// port as SRV _sip._udp / _sip._tcp, then A; a name with neither as NAPTR (SIP+D2U, SIP+D2T), then
// SRV for each transport, then A. A DNS failure at any step ends the lookup (never another
// server than the domain's own); "none" answers move to the next step. `done` runs once (never if
// `dns` is destroyed first).
void locate(Dns& dns, const ServerName& server, bool ipv6, std::function<void(Located)> done);

// Whether `s` is an IPv4 or IPv6 literal.
bool is_ip_literal(const std::string& s);

}  // namespace outpace::sip
