// Who is at the desktops: an agent's login (the password checked off the loop, lockouts, the
// session started or resumed), a supervisor's sign-in, and what supervisors see of the floor
// (ctl status's agents) and send to it (messages). The rest of a session is in agent_pool.cc.
#include <algorithm>

#include "campaigns/json_text.h"
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"

namespace outpace {
namespace {

using Type = AgentRequest::Type;

constexpr int kLoginFailures = 5;
constexpr auto kLoginPause = std::chrono::seconds(60);
// docs/agent-protocol.md: a login refused with a reason starting "busy" may be sent again.
constexpr const char* kLoginBusy = "busy checking other logins: send it again in a second";

}  // namespace

void AgentPool::login(const std::string& peer, const std::string& key, const AgentRequest& r) {
    if (!host_.directory()) {
        if (r.phone.empty())
            return protocol_.error(peer, "'login' needs 'phone' (the softphone's SIP URI)",
                                   Type::login);
        return start_session(peer, key, r);
    }
    check_password(peer, r, Type::login, [this, peer, key, r] { start_session(peer, key, r); });
}

void AgentPool::supervise(const std::string& peer, const std::string& key, const AgentRequest& r) {
    if (!host_.directory())
        return protocol_.error(peer,
                               "supervisors sign in with a password from the agents file "
                               "(agents.accounts), and this engine has none",
                               Type::supervise);
    check_password(peer, r, Type::supervise, [this, peer, key, r] {
        auto refuse = [&](const std::string& why) { protocol_.error(peer, why, Type::supervise); };
        const AgentDirectory* dir = host_.directory();
        const AgentAccount* account = dir ? dir->find(r.agent) : nullptr;
        if (!account) return refuse("unknown agent or wrong password");  // removed by a reload
        if (account->role != AgentRole::supervisor)
            return refuse("agent " + r.agent +
                          " is not a supervisor (its role in the agents file)");
        if (config_.curve.enabled()) {
            auto k = config_.curve.authorized.find(key);
            if (k == config_.curve.authorized.end() || !k->second.may_be(r.agent))
                return refuse("this desktop's key may not sign in as " + r.agent);
        }
        engine_log("supervisor " + r.agent + " signed in to a console");
        protocol_.supervisor(peer, r.agent, account->name.empty() ? r.agent : account->name);
    });
}

void AgentPool::check_password(const std::string& peer, const AgentRequest& r, Type request,
                               std::function<void()> on_ok) {
    auto refuse = [&](const std::string& why) { protocol_.error(peer, why, request); };
    const AgentDirectory* dir = host_.directory();
    const auto t = now();
    if (auto f = login_failures_.find(r.agent); f != login_failures_.end() && f->second.until > t)
        return refuse("too many failed logins for this agent; try again in " +
                      std::to_string(ms_between(t, f->second.until) / 1000 + 1) + " s");
    if (checking_.count(peer)) return refuse("a login from this desktop is being checked");
    // A known hash for unknown agents: they cost the same and learn the same.
    static const std::string kNobody =
        "$argon2id$v=19$m=65536,t=2,p=1$9GZfQW9cZkY9UQx4hDewiA$"
        "rduVNIHmVJTDDbCGhJdc3UDARU/drMTbeEUask+SBPY";
    const AgentAccount* account = dir->find(r.agent);
    const std::string hash = account ? account->desktop_password : kNobody;
    checking_.insert(peer);
    const bool queued = env_.off_loop(
        [hash, password = r.password] { return check_desktop_password(hash, password); },
        [this, peer, agent = r.agent, request, on_ok = std::move(on_ok),
         known = account != nullptr](bool ok) {
            checking_.erase(peer);
            if (ok && known) {
                login_failures_.erase(agent);
                return on_ok();
            }
            if (login_failures_.size() > 10'000) {
                const auto t = now();
                std::erase_if(login_failures_,
                              [&](const auto& kv) { return kv.second.until <= t; });
            }
            auto& f = login_failures_[agent];
            if (++f.count >= kLoginFailures) {
                f.count = 0;
                f.until = now() + kLoginPause;
            }
            engine_log(std::string(request == Type::supervise ? "supervisor sign-in" : "login") +
                       " as '" + printable(agent, 64) +
                       "' refused: unknown agent or wrong password");
            protocol_.error(peer, "unknown agent or wrong password", request);
        });
    if (!queued) {
        // Many logins at once (a shift starting): not a failure, and not counted as one.
        checking_.erase(peer);
        refuse(kLoginBusy);
    }
}

std::string AgentPool::apply_account(const AgentAccount& account, AgentRequest& r) const {
    if (!account.campaigns.empty()) {
        for (const auto& name : r.campaigns)
            if (std::find(account.campaigns.begin(), account.campaigns.end(), name) ==
                account.campaigns.end())
                return "agent " + r.agent + " does not work campaign '" + name +
                       "' (the agents file)";
        if (r.campaigns.empty()) r.campaigns = account.campaigns;
    }
    for (const auto& skill : r.skills)
        if (std::find(account.skills.begin(), account.skills.end(), skill) == account.skills.end())
            return "agent " + r.agent + " has no skill '" + skill + "' (the agents file)";
    if (r.skills.empty()) r.skills = account.skills;
    if (!account.phone.empty()) {
        if (!r.phone.empty() && r.phone != account.phone)
            return "agent " + r.agent +
                   "'s phone is set in the agents file; log in without 'phone'";
        r.phone = account.phone;
    } else if (!r.phone.empty()) {
        return "agent " + r.agent + "'s softphone registers; log in without 'phone'";
    }
    return "";
}

void AgentPool::start_session(const std::string& peer, const std::string& key, AgentRequest r) {
    auto refuse = [&](const std::string& why) { protocol_.error(peer, why, Type::login); };
    const AgentDirectory* dir = host_.directory();
    const AgentAccount* account = dir ? dir->find(r.agent) : nullptr;
    if (dir && !account)  // removed by a reload while its password was being checked
        return refuse("unknown agent or wrong password");
    if (account)
        if (const auto why = apply_account(*account, r); !why.empty()) return refuse(why);
    const bool registers = account && r.phone.empty();
    if (config_.curve.enabled()) {
        // With CurveZMQ, a key logs in only as the agents its authorized_keys line names.
        auto k = config_.curve.authorized.find(key);
        if (k == config_.curve.authorized.end() || !k->second.may_be(r.agent))
            return refuse("this desktop's key may not log in as agent " + r.agent);
    }
    for (const auto& name : r.campaigns)
        if (!host_.find_run(name)) return refuse("no campaign '" + name + "' in this engine");
    if (!registers)
        if (const auto why = check_agent_phone(r.phone, phone_networks_, trunk_addresses_);
            !why.empty())
            return refuse(why);
    const double heartbeat_s = std::chrono::duration<double>(config_.agents.heartbeat).count();
    if (Agent* existing = find_agent(r.agent)) {
        // The same agent again. Only the desktop that holds the session (the same routing id
        // and key: a desktop that reconnects with its ZMQ_ROUTING_ID) may resume it, or any
        // desktop allowed to be this agent once the session's heartbeats have lapsed. The reply
        // says nothing of the session (its phone, its desktop).
        Agent& a = *existing;
        const bool same_desktop = a.peer == peer && a.key == key;
        if (!same_desktop && !a.desktop_lost)
            return refuse("agent " + r.agent +
                          " is logged in at another desktop; log out there first, or wait for "
                          "that session to time out");
        if (a.phone != r.phone || a.registered != registers)
            return refuse("agent " + r.agent + " is logged in with another phone; log out first");
        if (auto other = by_peer_.find(peer); other != by_peer_.end() && other->second != &a)
            return refuse("this desktop is already logged in as " + other->second->id);
        a.key = key;
        if (a.peer != peer) {
            by_peer_.erase(a.peer);
            a.peer = peer;
            by_peer_[peer] = &a;
        }
        a.desktop_lost = false;
        a.last_heard = now();
        a.campaigns = r.campaigns;
        a.skills = r.skills;
        protocol_.logged_in(a, heartbeat_s);
        return;
    }
    if (auto other = by_peer_.find(peer); other != by_peer_.end())
        return refuse("this desktop is already logged in as " + other->second->id);
    if (agents_.size() >= max_agents_)
        return refuse("no room for another agent: " + std::to_string(max_agents_) +
                      " are logged in (agents.max_logged_in)");
    auto owned = std::make_unique<Agent>();
    Agent& a = *owned;
    a.id = r.agent;
    a.name = r.agent;
    if (const AgentDirectory* dir = host_.directory())
        if (auto it = dir->accounts.find(r.agent); it != dir->accounts.end()) {
            if (!it->second.name.empty()) a.name = it->second.name;
            a.srtp = it->second.srtp;
            a.supervisor = it->second.role == AgentRole::supervisor;
        }
    a.key = key;
    a.peer = peer;
    a.phone = r.phone;
    a.registered = registers;
    a.campaigns = r.campaigns;
    a.skills = r.skills;
    a.since = a.last_heard = a.counted = now();
    agents_[r.agent] = std::move(owned);
    by_peer_[peer] = &a;
    engine_log("agent " + a.id + " logged in with " + phone_label(a));
    protocol_.logged_in(a, heartbeat_s);
    protocol_.agent_event(a);
    host_.phones_changed();
    dial_leg(a);
}

std::vector<AgentFloorView> AgentPool::floor() const {
    std::vector<AgentFloorView> out;
    const auto t = now();
    for (const auto& [id, owned] : agents_) {
        const Agent& a = *owned;
        AgentFloorView v;
        v.agent = a.id;
        v.name = a.name;
        v.state = to_string(a.state);
        if (a.state == AgentState::paused) v.reason = a.pause_reason;
        v.state_s = static_cast<double>(ms_between(a.since, t)) / 1000;
        if (Call* c = a.customer ? host_.find_call(a.customer) : nullptr) {
            v.campaign = c->run().name();
            v.attempt = c->attempt().id;
        } else if (a.state == AgentState::wrapup && a.wrap && a.wrap_run) {
            v.campaign = a.wrap_run->name();
            v.attempt = a.wrap->id;
        } else if (a.preview_run) {
            v.campaign = a.preview_run->name();
        }
        v.calls = a.calls_handled;
        std::int64_t busy = a.busy_ms, ready = a.ready_ms;
        const std::int64_t now_ms = ms_between(a.since, t);
        if (a.state == AgentState::ready) ready += now_ms;
        if (a.state == AgentState::talking || a.state == AgentState::wrapup ||
            a.state == AgentState::reserved)
            busy += now_ms;
        v.occupancy = busy + ready > 0 ? double(busy) / double(busy + ready) : 0;
        out.push_back(std::move(v));
    }
    return out;
}

std::size_t AgentPool::message(const std::string& agent, const std::string& campaign,
                               const std::string& from, const std::string& text) {
    std::size_t sent = 0;
    for (const auto& [id, owned] : agents_) {
        const Agent& a = *owned;
        if (!agent.empty() && a.id != agent) continue;
        if (!campaign.empty()) {
            const CampaignRun* run = host_.find_run(campaign);
            if (!run || !serves(a, *run)) continue;
        }
        protocol_.message(a, from, text);
        ++sent;
    }
    return sent;
}

void AgentPool::desk_message(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, Type::message); };
    const auto t = now();
    a.message_tokens = std::min(5.0, a.message_tokens + seconds_between(a.message_refill, t));
    a.message_refill = t;
    if (a.message_tokens < 1) return refuse("too many messages: one a second");
    std::size_t sent = 0;
    if (a.supervisor) {
        if (!r.agent.empty() && !find_agent(r.agent))
            return refuse("agent " + r.agent + " is not logged in");
        if (!r.campaign.empty() && !host_.find_run(r.campaign))
            return refuse("no campaign '" + r.campaign + "' in this engine");
        sent = message(r.agent, r.campaign, a.id, r.text);
    } else {
        // An agent writes to supervisors: one by id, or every one logged in.
        if (!r.campaign.empty()) return refuse("agents message supervisors, not campaigns");
        const Agent* to = r.agent.empty() ? nullptr : find_agent(r.agent);
        if (!r.agent.empty() && (!to || !to->supervisor))
            return refuse("agent " + r.agent + " is not a supervisor logged in");
        for (const auto& [id, x] : agents_)
            if (x->supervisor && (!to || x.get() == to) && x.get() != &a) {
                protocol_.message(*x, a.id, r.text);
                ++sent;
            }
    }
    a.message_tokens -= 1;
    engine_log("message from " + a.id + " to " + std::to_string(sent) + " desktop(s)");
    protocol_.message_sent(a, sent);
}

}  // namespace outpace
