// Softphones that register to the engine (docs/agents.md): who is reachable where and until when
// (bindings), and who may try (a rate per source address, lockout after repeated wrong
// credentials). The SIP stack hands it each REGISTER and sends back its reply; the digest check
// is Sofia's (DigestServer). Plain logic on the engine's clock, so its rules are tested on a
// fake one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dialer/engine/clock.h"
#include "dialer/engine/engine_config.h"
#include "dialer/sip/digest.h"
#include "dialer/sip/sip_stack.h"
#include "metrics/metrics.h"

namespace outpace {

struct AgentDirectory;

class Registrar {
  public:
    struct Binding {
        std::string uri;        // the Contact as the softphone wrote it
        std::string target;     // the same at the address the REGISTER came from (NAT)
        std::string source_ip;  // where it registered from: the leg goes there
        int source_port = 0;
        std::string transport, call_id, user_agent;
        std::uint32_t cseq = 0;
        SteadyTime since, expires;  // first registered (the newest device wins), ends
        SteadyTime next_ping;
        int missed_pings = 0;
        bool ping_in_flight = false;
        // Registered through a proxy (RegisterRequest::proxy): the proxy, and its address (the
        // source of the leg's in-dialog requests); source_ip is then the softphone's.
        std::string proxy, proxy_ip;
        // sip:IP:PORT;transport=...: where requests for this binding are sent.
        std::string next_hop() const;
    };

    Registrar(const RegistrationConfig& config, const std::string& realm, Clock& clock,
              metrics::Metrics& metrics);

    // The accounts that may register (id → HA1 for the realm). Bindings of accounts no longer
    // there are dropped.
    void set_accounts(const std::map<std::string, std::string>& ha1_by_agent);

    sip::RegisterReply handle(const sip::RegisterRequest& request);

    // The binding an agent's leg goes to: the newest device registered. Null when none.
    const Binding* contact(const std::string& agent) const;
    std::vector<Binding> bindings(const std::string& agent) const;
    std::size_t agents_registered() const { return bindings_.size(); }
    std::vector<std::string> agents() const;  // with at least one binding

    // Expired bindings and lockouts; keep-alive OPTIONS for the bindings due one, through
    // `ping(target, next_hop, done)`. Every 20 ms is fine: it does nothing most of the time.
    using Ping = std::function<void(const std::string& uri, const std::string& next_hop,
                                    std::function<void(int)> done)>;
    void tick(const Ping& ping);

    // Addresses with a live binding (their requests reach SIP), addresses locked out (dropped).
    std::vector<std::string> sources() const;
    std::vector<std::string> locked_out() const;

    // Called when an agent's contact() changed (appeared, moved, gone) and when the set of
    // sources or lockouts changed (agent empty then).
    std::function<void(const std::string& agent)> on_change;

  private:
    struct Source {
        double tokens = 0;
        SteadyTime at;
        int failures = 0;  // wrong credentials in a row
        int limited = 0;   // refused by the rate limit in a row
    };
    sip::RegisterReply refuse(int status, const char* result);
    sip::RegisterReply challenge(const sip::DigestServer::Verdict& v, const char* result);
    sip::RegisterReply update(const sip::RegisterRequest& r);
    void lock_out(const std::string& ip, SteadyTime now, const std::string& why);
    sip::RegisterReply current(const std::string& agent, SteadyTime now) const;
    bool admit(Source& s, SteadyTime now);
    void remove(const std::string& agent, const std::string& uri);
    void changed(const std::string& agent, const std::string& before);
    std::string contact_key(const std::string& agent) const;
    void count(const char* result) { metrics_.sip_register(result).Increment(); }

    RegistrationConfig config_;
    Clock& clock_;
    metrics::Metrics& metrics_;
    sip::DigestServer digest_;
    std::map<std::string, std::string> accounts_;           // id → HA1
    std::map<std::string, std::vector<Binding>> bindings_;  // by agent, oldest first
    std::unordered_map<std::string, Source> sources_;       // by IP
    std::map<std::string, SteadyTime> locks_;               // locked-out IPs, until
    SteadyTime next_sweep_{};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for answers arriving late
};

}  // namespace outpace
