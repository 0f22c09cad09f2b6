#include "dialer/engine/registrar.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "dialer/engine/engine_util.h"

namespace outpace {
namespace {

constexpr std::size_t kMaxSources = 100'000;  // addresses remembered for rates and lockouts

long long seconds_left(SteadyTime until, SteadyTime now) {
    return std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::seconds>(until - now).count());
}

}  // namespace

std::string Registrar::Binding::next_hop() const {
    if (!proxy.empty()) return proxy;
    const std::string host =
        source_ip.find(':') != std::string::npos ? "[" + source_ip + "]" : source_ip;
    return "sip:" + host + ":" + std::to_string(source_port) + ";transport=" + transport;
}

Registrar::Registrar(const RegistrationConfig& config, const std::string& realm, Clock& clock,
                     metrics::Metrics& metrics)
    : config_(config),
      clock_(clock),
      metrics_(metrics),
      digest_({.realm = realm, .nonce_lifetime = std::chrono::seconds(300)}) {}

void Registrar::set_accounts(const std::map<std::string, std::string>& ha1_by_agent) {
    accounts_ = ha1_by_agent;
    digest_.set_users(accounts_);
    std::vector<std::string> gone;
    for (const auto& [agent, list] : bindings_)
        if (!accounts_.count(agent)) gone.push_back(agent);
    for (const auto& agent : gone) {
        bindings_.erase(agent);
        engine_log("agent " + agent + ": no longer in the agents file, registration dropped");
        if (on_change) on_change(agent);
    }
}

sip::RegisterReply Registrar::refuse(int status, const char* result) {
    count(result);
    sip::RegisterReply reply;
    reply.status = status;
    return reply;
}

sip::RegisterReply Registrar::challenge(const sip::DigestServer::Verdict& v, const char* result) {
    auto reply = refuse(401, result);
    reply.www_authenticate = v.challenge;
    return reply;
}

bool Registrar::admit(Source& s, SteadyTime now) {
    const double elapsed = std::chrono::duration<double>(now - s.at).count();
    s.tokens = std::min<double>(
        config_.source_burst,
        s.at == SteadyTime{} ? config_.source_burst : s.tokens + elapsed * config_.source_rate);
    s.at = now;
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
}

sip::RegisterReply Registrar::handle(const sip::RegisterRequest& r) {
    const auto now = clock_.now();
    if (sources_.size() >= kMaxSources && !sources_.count(r.source_ip)) {
        // A spread of addresses (spoofed UDP): forget those that are neither limited nor locked.
        std::erase_if(sources_, [&](const auto& kv) {
            return kv.second.failures == 0 && !locks_.count(kv.first);
        });
        if (sources_.size() >= kMaxSources) return refuse(503, "rate_limited");
    }
    Source& s = sources_[r.source_ip];
    if (auto lock = locks_.find(r.source_ip); lock != locks_.end() && lock->second > now)
        return refuse(403, "locked_out");
    if (!admit(s, now)) {
        if (++s.limited >= config_.flood_lockout_after) {
            s.limited = 0;
            lock_out(r.source_ip, now,
                     std::to_string(config_.flood_lockout_after) +
                         " REGISTERs over the rate limit in a row (a flood)");
        }
        auto reply = refuse(503, "rate_limited");
        reply.retry_after = static_cast<int>(std::ceil(1.0 / config_.source_rate));
        return reply;
    }
    s.limited = 0;
    const auto v = digest_.check("REGISTER", r.authorization);
    using Kind = sip::DigestServer::Verdict::Kind;
    switch (v.kind) {
        case Kind::challenge:
            return challenge(v, "challenged");
        case Kind::stale:
            return challenge(v, "stale_nonce");
        case Kind::replayed:
            // A count already used with its nonce: a copy of an earlier answer, or a client that
            // lost count. Not a failure (the password was right); a new nonce puts it right.
            return challenge(v, "replayed");
        case Kind::malformed:
            return refuse(400, "malformed");
        case Kind::wrong: {
            ++s.failures;
            engine_log("registration from " + r.source_ip + ": wrong credentials for '" +
                       printable(v.user.empty() ? r.user : v.user, 64) + "' (" +
                       std::to_string(s.failures) + " in a row)");
            if (s.failures >= config_.failures_before_lockout) {
                s.failures = 0;
                lock_out(r.source_ip, now, "repeated wrong credentials");
            }
            return refuse(403, "wrong_credentials");
        }
        case Kind::ok:
            break;
    }
    s.failures = 0;
    // The credentials are this user's: it may register only its own account.
    if (v.user != r.user) return refuse(403, "forbidden");
    // A softphone that proved itself gives back what it and its challenge cost: the limit is
    // for strangers and guessers, and an office of agents behind one NAT address refreshing
    // their registrations never runs into it.
    s.tokens = std::min<double>(config_.source_burst, s.tokens + 2);
    return update(r);
}

void Registrar::lock_out(const std::string& ip, SteadyTime now, const std::string& why) {
    locks_[ip] = now + config_.lockout;
    metrics_.register_lockouts().Set(static_cast<double>(locks_.size()));
    engine_log("registration from " + ip + ": locked out for " +
               std::to_string(seconds_left(locks_[ip], now)) + " s after " + why);
    if (on_change) on_change("");  // the SIP socket's filter drops it from now on
}

sip::RegisterReply Registrar::update(const sip::RegisterRequest& r) {
    const auto now = clock_.now();
    auto& list = bindings_[r.user];
    const std::string before = contact_key(r.user);
    auto finish = [&] {
        if (list.empty()) bindings_.erase(r.user);
        changed(r.user, before);
        count("ok");
        return current(r.user, now);
    };
    if (r.remove_all) {
        // Contact: * is only for removing every binding (RFC 3261 §10.3 step 6).
        if (r.expires != 0 || !r.contacts.empty()) {
            if (list.empty()) bindings_.erase(r.user);
            return refuse(400, "malformed");
        }
        list.clear();
        return finish();
    }
    const auto min_s = std::chrono::duration_cast<std::chrono::seconds>(config_.min_expires);
    const auto max_s = std::chrono::duration_cast<std::chrono::seconds>(config_.max_expires);
    // Checked first: a request that fails changes nothing.
    std::vector<long long> expires;
    for (const auto& c : r.contacts) {
        long long e = c.expires >= 0 ? c.expires : r.expires >= 0 ? r.expires : max_s.count();
        if (e > 0 && e < min_s.count()) {
            if (list.empty()) bindings_.erase(r.user);
            auto reply = refuse(423, "interval_too_brief");
            reply.min_expires = static_cast<int>(min_s.count());
            return reply;
        }
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const Binding& b) { return b.uri == c.uri; });
        if (it != list.end() && it->call_id == r.call_id && r.cseq <= it->cseq) {
            if (list.empty()) bindings_.erase(r.user);
            return refuse(500, "malformed");  // out of order
        }
        expires.push_back(std::min<long long>(e, max_s.count()));
    }
    for (std::size_t i = 0; i < r.contacts.size(); ++i) {
        const auto& c = r.contacts[i];
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const Binding& b) { return b.uri == c.uri; });
        if (expires[i] == 0) {
            if (it != list.end()) list.erase(it);
            continue;
        }
        if (it == list.end()) {
            if (list.size() >= static_cast<std::size_t>(config_.max_contacts))
                list.erase(list.begin());  // the oldest device makes room
            list.push_back({});
            it = list.end() - 1;
            it->since = now;
            it->uri = c.uri;
        }
        Binding& b = *it;
        b.target = c.at_source;
        b.source_ip = r.source_ip;
        b.source_port = r.source_port;
        b.proxy = r.proxy;
        b.proxy_ip = r.proxy_ip;
        b.transport = r.transport;
        b.call_id = r.call_id;
        b.cseq = r.cseq;
        b.user_agent = printable(r.user_agent, 100);
        b.expires = now + std::chrono::seconds(expires[i]);
        b.next_ping = now + config_.keepalive;
        b.missed_pings = 0;
    }
    return finish();
}

sip::RegisterReply Registrar::current(const std::string& agent, SteadyTime now) const {
    sip::RegisterReply reply;
    reply.status = 200;
    if (auto it = bindings_.find(agent); it != bindings_.end())
        for (const auto& b : it->second)
            reply.bindings.push_back({b.uri, static_cast<int>(seconds_left(b.expires, now))});
    return reply;
}

const Registrar::Binding* Registrar::contact(const std::string& agent) const {
    auto it = bindings_.find(agent);
    if (it == bindings_.end() || it->second.empty()) return nullptr;
    // Kept in the order they first registered: the newest device is last.
    return &it->second.back();
}

std::vector<Registrar::Binding> Registrar::bindings(const std::string& agent) const {
    auto it = bindings_.find(agent);
    return it == bindings_.end() ? std::vector<Binding>{} : it->second;
}

std::vector<std::string> Registrar::agents() const {
    std::vector<std::string> out;
    for (const auto& [agent, list] : bindings_) out.push_back(agent);
    return out;
}

std::string Registrar::contact_key(const std::string& agent) const {
    const Binding* b = contact(agent);
    return b ? b->uri + " " + b->next_hop() : "";
}

void Registrar::changed(const std::string& agent, const std::string& before) {
    metrics_.agents_registered().Set(static_cast<double>(bindings_.size()));
    if (contact_key(agent) != before && on_change) on_change(agent);
}

void Registrar::remove(const std::string& agent, const std::string& uri) {
    auto it = bindings_.find(agent);
    if (it == bindings_.end()) return;
    const std::string before = contact_key(agent);
    std::erase_if(it->second, [&](const Binding& b) { return b.uri == uri; });
    if (it->second.empty()) bindings_.erase(it);
    changed(agent, before);
}

void Registrar::tick(const Ping& ping) {
    const auto now = clock_.now();
    if (now < next_sweep_) return;
    next_sweep_ = now + std::chrono::milliseconds(250);
    std::vector<std::pair<std::string, std::string>> gone;  // (agent, uri)
    for (auto& [agent, list] : bindings_)
        for (auto& b : list) {
            if (b.expires <= now) {
                engine_log("agent " + agent + ": registration of " + printable(b.uri, 200) +
                           " expired");
                gone.emplace_back(agent, b.uri);
            } else if (b.missed_pings >= config_.missed_keepalives) {
                engine_log("agent " + agent + ": " + printable(b.uri, 200) + " answered none of " +
                           std::to_string(b.missed_pings) + " keep-alives; binding dropped");
                gone.emplace_back(agent, b.uri);
            } else if (ping && !b.ping_in_flight && b.next_ping <= now) {
                b.ping_in_flight = true;
                b.next_ping = now + config_.keepalive;
                const std::string who = agent, uri = b.uri;
                // The answer may come after this registrar is gone (a reload that changed the
                // realm makes a new one): it then finds nobody to tell.
                std::weak_ptr<bool> alive = alive_;
                ping(b.target, b.proxy, [this, alive, who, uri](int status) {
                    if (alive.expired()) return;
                    auto it = bindings_.find(who);
                    if (it == bindings_.end()) return;
                    for (auto& x : it->second)
                        if (x.uri == uri) {
                            x.ping_in_flight = false;
                            // Any answer, even 404 or 405, says the path is open.
                            x.missed_pings = status == 408 ? x.missed_pings + 1 : 0;
                        }
                });
            }
        }
    for (const auto& [agent, uri] : gone) remove(agent, uri);
    const auto unlocked = std::erase_if(locks_, [&](const auto& kv) {
        if (kv.second > now) return false;
        engine_log("registration from " + kv.first + ": lockout over");
        return true;
    });
    if (unlocked) {
        metrics_.register_lockouts().Set(static_cast<double>(locks_.size()));
        if (on_change) on_change("");
    }
}

std::vector<std::string> Registrar::sources() const {
    std::set<std::string> out;
    for (const auto& [agent, list] : bindings_)
        for (const auto& b : list) out.insert(b.source_ip);
    return {out.begin(), out.end()};
}

std::vector<std::string> Registrar::locked_out() const {
    std::vector<std::string> out;
    for (const auto& [ip, until] : locks_) out.push_back(ip);
    return out;
}

}  // namespace outpace
