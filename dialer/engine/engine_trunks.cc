// The engine's trunks as carriers run them: host names looked up (RFC 3263, c-ares), accounts
// registered to the carrier's registrar, and the caller IDs a campaign's pool has used today.
// Part of Engine (engine.h); split from engine.cc like agent_routing.cc.
#include <algorithm>

#include "dialer/engine/engine.h"
#include "dialer/engine/engine_util.h"

namespace outpace {

// ---- Trunks named by host name -----------------------------------------------------------------

void Engine::look_up_trunks() {
    if (!dns_) return;
    const auto t = now();
    const bool ipv6 = config_.sip_address.find(':') != std::string::npos;
    for (auto& [name, trunk] : trunks_) {
        if (!trunk->lookup_due(t)) continue;
        trunk->lookup_started();
        const TrunkConfig& tc = trunk->config();
        Trunk* tr = trunk.get();
        sip::locate(*dns_, {tc.host, tc.port, tc.transport_given ? tc.transport : ""}, ipv6,
                    [this, tr](sip::Located result) { looked_up(*tr, result); });
    }
}

void Engine::looked_up(Trunk& trunk, const sip::Located& result) {
    const TrunkConfig& tc = trunk.config();
    const bool changed = trunk.looked_up(result, now());
    if (!result.ok) {
        // Said once, then at the 2nd, 4th, 8th ... failure in a row: a long outage is not a flood.
        const int n = trunk.lookup_failures();
        if ((n & (n - 1)) == 0)
            engine_log("trunk " + tc.name + ": cannot look up " + tc.host + ": " + result.error +
                       " (" + std::to_string(n) + " in a row; " +
                       (trunk.targets().empty()
                            ? std::string("no address known: it takes no calls")
                            : "still using the last answer's " +
                                  std::to_string(trunk.targets().size()) + " address(es)") +
                       ")");
        return;
    }
    if (!changed) return;
    std::string where;
    for (const auto& target : trunk.targets())
        where += (where.empty() ? "" : ", ") + host_port(target.at.ip, target.at.port) + "/" +
                 target.at.transport +
                 (target.at.priority || target.at.weight
                      ? " (priority " + std::to_string(target.at.priority) + ", weight " +
                            std::to_string(target.at.weight) + ")"
                      : "");
    engine_log("trunk " + tc.name + ": " + tc.host + " is " + where + " for " +
               std::to_string(result.ttl.count()) + " s");
    refresh_sip_peers();
}

// ---- Caller IDs
// ----------------------------------------------------------------------------------

// Today's use of each caller ID, from the ledger (a restart does not reset a daily limit): every
// campaign's attempts since the server's midnight, bounded.
void Engine::seed_caller_id_usage() {
    const auto now_ms = env_.clock().wall_ms();
    const auto day = server_day(now_ms);
    const auto since = server_day_start_ms(now_ms);
    for (auto& run : runs_) {
        run->set_caller_id_usage(&caller_id_usage_);
        store_.for_each_recent_attempt(run->name(), 5'000'000, since, [&](const Attempt& a) {
            if (!a.caller_id.empty()) caller_id_usage_.count(a.caller_id, day);
            return true;
        });
    }
}

// ---- Trunks that register ----------------------------------------------------------------------

void Engine::register_trunks() {
    if (!sip_) return;
    const auto t = now();
    for (auto& [name, trunk] : trunks_) {
        if (!trunk->registers()) continue;
        if (trunk->registration_lapsed(t)) {
            engine_log("trunk " + name +
                       ": its registration ran out without a refresh: it takes "
                       "no calls until the registrar accepts it again");
            sip_->unregister(trunk->registration());
            trunk->registration_dropped(t);
        }
        if (!trunk->registration_due(t)) continue;
        const TrunkConfig& tc = trunk->config();
        // The registrar: as configured, else the trunk's best address now.
        std::string host = tc.registrar_host, transport = tc.transport;
        int port = tc.registrar_port;
        if (host.empty()) {
            const sip::ServerTarget* first = nullptr;
            for (const auto& target : trunk->targets())
                if (!first || target.at.priority < first->priority) first = &target.at;
            if (!first) continue;  // a host name not looked up yet
            host = first->ip, port = first->port, transport = first->transport;
        }
        sip::TrunkRegistration r;
        r.registrar = "sip:" + host_port(host, port) + ";transport=" + transport;
        r.aor = "sip:" + tc.username + "@" + tc.host;
        r.user = tc.username;
        r.password = tc.password;
        r.expires = std::chrono::duration_cast<std::chrono::seconds>(tc.register_expires);
        if (transport == "tls")
            r.tls_name = !tc.tls_name.empty() ? tc.tls_name : trunk->by_name() ? tc.host : "";
        Trunk* tr = trunk.get();
        const auto id = sip_->register_at(r, [this, tr](int status, std::chrono::seconds granted) {
            registration_answered(*tr, status, granted);
        });
        if (id)
            trunk->registration_sent(id);
        else
            trunk->registration_answered(500, std::chrono::seconds(0), t);
    }
}

void Engine::registration_answered(Trunk& trunk, int status, std::chrono::seconds granted) {
    const auto t = now();
    const bool changed = trunk.registration_answered(status, granted, t);
    const std::string& name = trunk.config().name;
    if (status >= 200 && status < 300) {
        if (changed)
            engine_log("trunk " + name + ": registered for " + std::to_string(granted.count()) +
                       " s");
        return;
    }
    // Said at the first refusal and then at the 2nd, 4th, 8th ... in a row.
    const int n = trunk.registration_failures();
    if ((n & (n - 1)) == 0)
        engine_log("trunk " + name + ": registration refused (" + std::to_string(status) +
                   (status == 408 ? ": no answer" : "") + "): it takes no calls; tried again in " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                      trunk.next_registration() - t)
                                      .count()) +
                   " s (" + std::to_string(n) + " in a row)");
}

}  // namespace outpace
