// An agent's session: the desktop's requests (docs/agent-protocol.md), its states, wrap-up and
// dispositions, preview dialling, heartbeats. How a live answer reaches an agent (softphone legs,
// routing, relay) is in routing.cc.
#include <algorithm>

#include "campaigns/json_text.h"
#include "campaigns/survey.h"
#include "dialer/engine/engine.h"
#include "dialer/engine/engine_parts.h"

namespace outpace {
namespace {

using nlohmann::json;
using Type = AgentRequest::Type;

json error_message(const std::string& reason, Type request) {
    return {{"type", "error"}, {"reason", reason}, {"request", to_string(request)}};
}

}  // namespace

const char* to_string(AgentState s) {
    switch (s) {
        case AgentState::connecting:
            return "connecting";
        case AgentState::paused:
            return "paused";
        case AgentState::ready:
            return "ready";
        case AgentState::reserved:
            return "reserved";
        case AgentState::talking:
            return "talking";
        case AgentState::wrapup:
            return "wrapup";
    }
    return "?";
}

void Engine::send_agent(const Agent& a, const json& message) {
    if (agent_channel_ && !a.desktop_lost) agent_channel_->send(a.peer, message);
}

void Engine::publish_agent(const Agent& a) {
    if (!agent_channel_) return;
    json e = {{"event", "agent"}, {"agent", a.id}, {"state", to_string(a.state)}};
    if (a.state == AgentState::paused) e["reason"] = a.pause_reason;
    agent_channel_->publish("agent." + a.id, e);
}

void Engine::set_state(Agent& a, AgentState state, const std::string& reason) {
    a.state = state;
    a.since = SteadyClock::now();
    a.pause_reason = state == AgentState::paused ? reason : "";
    json m = {{"type", "state"}, {"state", to_string(state)}};
    if (!reason.empty()) m["reason"] = reason;
    send_agent(a, m);
    publish_agent(a);
    if (state == AgentState::ready) route_waiting();
}

// ---- The desktop's requests --------------------------------------------------------------------

void Engine::on_agent_request(const std::string& peer, const std::string& key,
                              const AgentRequest& r) {
    if (r.type == Type::login) {
        agent_login(peer, key, r);
        return;
    }
    auto it = agents_by_peer_.find(peer);
    if (it == agents_by_peer_.end() || it->second->key != key) {
        agent_channel_->send(peer, error_message("log in first", r.type));
        return;
    }
    Agent& a = *it->second;
    a.last_heard = SteadyClock::now();
    auto refuse = [&](const std::string& why) { send_agent(a, error_message(why, r.type)); };
    switch (r.type) {
        case Type::heartbeat:
            send_agent(a, {{"type", "heartbeat"}, {"state", to_string(a.state)}});
            return;
        case Type::ready:
            if (a.state == AgentState::wrapup)
                return refuse("wrap-up ends with a disposition for attempt " +
                              std::to_string(a.wrap->id));
            if (a.state == AgentState::talking || a.state == AgentState::reserved)
                return refuse("in a call");
            agent_ready(a);
            return;
        case Type::pause:
            agent_pause(a, r.reason.empty() ? "break" : r.reason);
            return;
        case Type::hangup: {
            auto c = calls_.find(a.customer);
            if (a.customer == 0 || c == calls_.end()) return refuse("no call to hang up");
            c->second->ended_by = "agent";
            if (c->second->state == Call::State::ringing) {
                c->second->cancelled = true;
                sip_->cancel(c->second->sip);
            } else {
                hang_up(*c->second);
            }
            return;
        }
        case Type::disposition:
            agent_disposition(a, r);
            return;
        case Type::logout:
            if (a.state == AgentState::talking || a.state == AgentState::reserved ||
                a.state == AgentState::wrapup) {
                a.want_logout = true;
                send_agent(
                    a, {{"type", "logout_pending"}, {"reason", "after this call's disposition"}});
                return;
            }
            agent_logout(a, "logout");
            return;
        case Type::next:
            agent_next(a);
            return;
        case Type::dial:
            agent_dial(a);
            return;
        case Type::skip:
            if (a.state != AgentState::reserved || !a.preview) return refuse("nothing to skip");
            a.preview_run->skipped.insert(a.preview->phone);
            a.preview.reset();
            set_state(a, AgentState::ready);
            return;
        case Type::login:
            return;
    }
}

void Engine::agent_login(const std::string& peer, const std::string& key, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) {
        agent_channel_->send(peer, error_message(why, Type::login));
    };
    if (config_.curve.enabled()) {
        // With CurveZMQ, a key logs in only as the agents its authorized_keys line names.
        auto k = config_.curve.authorized.find(key);
        if (k == config_.curve.authorized.end() || !k->second.may_be(r.agent))
            return refuse("this desktop's key may not log in as agent " + r.agent);
    }
    for (const auto& name : r.campaigns)
        if (!find_run(name)) return refuse("no campaign '" + name + "' in this engine");
    if (const auto why = check_agent_phone(r.phone, phone_networks_, trunk_addresses_);
        !why.empty())
        return refuse(why);
    auto it = agents_.find(r.agent);
    if (it != agents_.end()) {
        // The same agent again. Only the desktop that holds the session (the same routing id
        // and key: a desktop that reconnects with its ZMQ_ROUTING_ID) may resume it, or any
        // desktop allowed to be this agent once the session's heartbeats have lapsed. The reply
        // says nothing of the session (its phone, its desktop).
        Agent& a = *it->second;
        const bool same_desktop = a.peer == peer && a.key == key;
        if (!same_desktop && !a.desktop_lost)
            return refuse("agent " + r.agent +
                          " is logged in at another desktop; log out there first, or wait for "
                          "that session to time out");
        if (a.phone != r.phone)
            return refuse("agent " + r.agent + " is logged in with another phone; log out first");
        if (auto other = agents_by_peer_.find(peer);
            other != agents_by_peer_.end() && other->second != &a)
            return refuse("this desktop is already logged in as " + other->second->id);
        a.key = key;
        if (a.peer != peer) {
            agents_by_peer_.erase(a.peer);
            a.peer = peer;
            agents_by_peer_[peer] = &a;
        }
        a.desktop_lost = false;
        a.last_heard = SteadyClock::now();
        a.campaigns = r.campaigns;
        a.skills = r.skills;
        json m = {{"type", "logged_in"},
                  {"agent", a.id},
                  {"state", to_string(a.state)},
                  {"heartbeat_s", std::chrono::duration<double>(config_.agents.heartbeat).count()}};
        if (a.wrap) m["wrapup_attempt"] = a.wrap->id;
        send_agent(a, m);
        return;
    }
    if (agents_by_peer_.count(peer))
        return refuse("this desktop is already logged in as " + agents_by_peer_[peer]->id);
    if (agents_.size() >= max_agents_)
        return refuse("no room for another agent: " + std::to_string(max_agents_) +
                      " are logged in (agents.max_logged_in)");
    auto a = std::make_unique<Agent>();
    a->id = r.agent;
    a->key = key;
    a->peer = peer;
    a->phone = r.phone;
    a->campaigns = r.campaigns;
    a->skills = r.skills;
    Agent& agent = *a;
    agents_[r.agent] = std::move(a);
    agents_by_peer_[peer] = &agent;
    engine_log("agent " + agent.id + " logged in from " + agent.phone);
    send_agent(agent,
               {{"type", "logged_in"},
                {"agent", agent.id},
                {"state", "connecting"},
                {"heartbeat_s", std::chrono::duration<double>(config_.agents.heartbeat).count()}});
    publish_agent(agent);
    refresh_sip_peers();
    dial_leg(agent);
}

void Engine::agent_ready(Agent& a) {
    a.want_pause = false;
    if (a.state == AgentState::ready) {
        send_agent(a, {{"type", "state"}, {"state", "ready"}});
        return;
    }
    if (!a.rtp) {
        // No softphone leg (it dropped, or never answered): call it again first.
        a.want_ready = true;
        if (a.leg == 0) dial_leg(a);
        if (a.state != AgentState::connecting) set_state(a, AgentState::connecting);
        return;
    }
    set_state(a, AgentState::ready);
}

void Engine::agent_pause(Agent& a, const std::string& reason) {
    switch (a.state) {
        case AgentState::ready:
        case AgentState::paused:
            set_state(a, AgentState::paused, reason);
            return;
        case AgentState::connecting:
            a.want_ready = false;
            send_agent(a, {{"type", "state"}, {"state", "connecting"}});
            return;
        default:
            // In a call or wrap-up: paused once the disposition is in.
            a.want_pause = true;
            a.want_pause_reason = reason;
            send_agent(a, {{"type", "pause_pending"}, {"reason", reason}});
            return;
    }
}

void Engine::agent_logout(Agent& a, const std::string& reason) {
    engine_log("agent " + a.id + " logged out (" + reason + ")" +
               (a.rtp ? "; softphone RTP in " + std::to_string(a.rtp->stats().packets_in) +
                            ", out " + std::to_string(a.rtp->stats().packets_out) + ", foreign " +
                            std::to_string(a.rtp->stats().foreign) + ", malformed " +
                            std::to_string(a.rtp->stats().malformed)
                      : ""));
    send_agent(a, {{"type", "logged_out"}, {"reason", reason}});
    if (agent_channel_)
        agent_channel_->publish("agent." + a.id,
                                {{"event", "agent"}, {"agent", a.id}, {"state", "logged_out"}});
    if (a.leg) {
        legs_.erase(a.leg);
        if (a.rtp)
            sip_->hangup(a.leg);
        else
            sip_->cancel(a.leg);
    }
    if (a.leg_port) ports_.give(a.leg_port);
    for (auto& [id, c] : calls_)
        if (c->agent == &a) c->agent = nullptr;
    agents_by_peer_.erase(a.peer);
    agents_.erase(a.id);  // `a` is gone from here on
    refresh_sip_peers();
}

void Engine::agent_disposition(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) {
        send_agent(a, error_message(why, Type::disposition));
    };
    if (a.state != AgentState::wrapup || !a.wrap)
        return refuse(a.state == AgentState::talking ? "the call is still up: hang up first"
                                                     : "no call waiting for a disposition");
    if (r.attempt != a.wrap->id)
        return refuse("the call in wrap-up is attempt " + std::to_string(a.wrap->id));
    const Campaign& c = a.wrap_run->campaign;
    const Disposition* d = nullptr;
    for (const auto& x : c.dispositions)
        if (x.code == r.code) d = &x;
    if (!d) {
        std::string codes;
        for (const auto& x : c.dispositions) codes += (codes.empty() ? "" : ", ") + x.code;
        return refuse("'" + r.code + "' is not a disposition of " + c.name + " (" + codes + ")");
    }
    if (d->callback && r.callback_at <= 0) return refuse("'" + r.code + "' needs 'callback_at'");
    if (r.callback_at > 0 &&
        r.callback_at <= std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()))
        return refuse("'callback_at' is in the past");
    std::string notes = r.notes;
    if (c.kind == CampaignKind::survey) {
        // An agent-led survey: the answers go to the attempt, in the questionnaire's order.
        survey::Answers answers;
        if (r.answers.is_object()) {
            for (const auto& item : r.answers.items()) {
                const std::string id = item.key();
                const auto& value = item.value();
                const bool known = std::any_of(c.survey_questions.begin(), c.survey_questions.end(),
                                               [&](const SurveyQuestion& q) { return q.id == id; });
                if (!known) return refuse("'" + id + "' is not a question of " + c.name);
                if (!value.is_string() && !value.is_number())
                    return refuse("the answer to '" + id + "' must be a string or a number");
            }
            for (const auto& q : c.survey_questions)
                if (r.answers.contains(q.id)) {
                    const auto& v = r.answers[q.id];
                    answers.emplace_back(q.id, v.is_string() ? v.get<std::string>() : json_text(v));
                }
        }
        a.wrap->survey = survey::complete(c.survey_questions, answers) ? "complete" : "incomplete";
        a.wrap->answers = std::move(answers);
    } else if (!r.answers.is_null()) {
        notes += (notes.empty() ? "" : " ") + ("answers=" + json_text(r.answers));
    }
    complete_wrapup(a, r.code, notes, d->callback ? r.callback_at : 0);
}

// The attempt in wrap-up goes to the ledger with its disposition; the agent moves on.
void Engine::complete_wrapup(Agent& a, const std::string& code, const std::string& notes,
                             std::int64_t callback_at) {
    Run& run = *a.wrap_run;
    Attempt attempt = std::move(*a.wrap);
    a.wrap.reset();
    attempt.disposition = code;
    if (!notes.empty()) attempt.notes += (attempt.notes.empty() ? "" : "; ") + notes;
    attempt.callback_at = callback_at;
    attempt.wrap_ms = ms_between(a.wrap_start, SteadyClock::now());
    run.estimator.handled(attempt.talk_ms / 1000.0, attempt.wrap_ms / 1000.0);
    run.m->talk->Observe(attempt.talk_ms / 1000.0);
    run.m->wrapup->Observe(attempt.wrap_ms / 1000.0);
    send_agent(a, {{"type", "disposed"}, {"attempt", attempt.id}, {"code", code}});
    if (agent_channel_)
        agent_channel_->publish("call." + run.campaign.name, {{"event", "disposition"},
                                                              {"campaign", run.campaign.name},
                                                              {"attempt", attempt.id},
                                                              {"agent", a.id},
                                                              {"code", code}});
    run.completed.push_back(std::move(attempt));
    a.wrap_run = nullptr;
    after_wrapup(a);
}

// Where an agent goes when a call is over: logged out or paused if asked during it, else ready.
void Engine::after_wrapup(Agent& a) {
    if (a.want_logout || a.desktop_lost) {
        agent_logout(a, a.desktop_lost ? "desktop stopped sending heartbeats"
                        : stopping_    ? "engine stopped"
                                       : "logout");
        return;
    }
    if (a.want_pause) {
        a.want_pause = false;
        set_state(a, AgentState::paused, a.want_pause_reason);
        return;
    }
    if (!a.rtp) {
        set_state(a, AgentState::paused, "softphone disconnected");
        return;
    }
    set_state(a, AgentState::ready);
}

void Engine::start_wrapup(Agent& a, Call& c) {
    a.customer = 0;
    a.wrap = c.attempt;
    a.wrap_run = c.run;
    a.wrap_start = SteadyClock::now();
    send_agent(a, {{"type", "hangup"},
                   {"attempt", c.attempt.id},
                   {"talk_s", c.attempt.talk_ms / 1000.0},
                   {"by", c.ended_by.empty() ? "customer" : c.ended_by}});
    set_state(a, AgentState::wrapup);
    send_agent(a, {{"type", "wrapup"},
                   {"attempt", c.attempt.id},
                   {"max_s", std::chrono::duration<double>(c.run->campaign.wrapup_max).count()}});
    if (a.desktop_lost) complete_wrapup(a, "", "agent desktop lost", 0);
}

// ---- Preview -----------------------------------------------------------------------------------

void Engine::agent_next(Agent& a) {
    auto refuse = [&](const std::string& why) { send_agent(a, error_message(why, Type::next)); };
    if (a.state != AgentState::ready) return refuse("ask for the next contact when ready");
    Run* run = nullptr;
    for (auto& r : runs_)
        if (r->campaign.mode == DialingMode::preview && r->status.state == "running" &&
            serves(a, *r))
            run = r.get();
    if (!run) return refuse("no running preview campaign for this agent");
    std::set<std::string> taken = run->skipped;
    for (const auto& [id, other] : agents_)
        if (other->preview && other->preview_run == run) taken.insert(other->preview->phone);
    const auto contacts = run->hopper->next(wall_now(), taken.size() + 1);
    for (const auto& contact : contacts) {
        if (taken.count(contact.phone)) continue;
        a.preview = contact;
        a.preview_run = run;
        json fields = json::object();
        for (const auto& [k, v] : contact.fields) fields[k] = v;
        set_state(a, AgentState::reserved);
        send_agent(a, {{"type", "preview"},
                       {"campaign", run->campaign.name},
                       {"phone", contact.phone},
                       {"fields", fields},
                       {"attempts", contact.attempts},
                       {"script", run->campaign.script}});
        return;
    }
    refuse("nobody to call now in " + run->campaign.name);
}

void Engine::agent_dial(Agent& a) {
    if (a.state != AgentState::reserved || !a.preview) {
        send_agent(a, error_message("ask for a contact ('next') first", Type::dial));
        return;
    }
    Run& run = *a.preview_run;
    Contact contact = std::move(*a.preview);
    a.preview.reset();
    std::string error;
    auto attempts = run.ledger->begin({contact}, wall_now(), run.trunk->config->name, &error,
                                      unix_ms(std::chrono::system_clock::now()));
    if (attempts.empty()) {
        send_agent(a, error_message(error.empty() ? "the contact was taken meanwhile"
                                                  : "cannot record the attempt: " + error,
                                    Type::dial));
        set_state(a, AgentState::ready);
        return;
    }
    const auto id = attempts.front().id;
    originate(run, std::move(attempts.front()));
    for (auto& [sid, c] : calls_) {
        if (c->attempt.id != id) continue;
        c->preview = true;
        c->agent = &a;
        a.customer = sid;
        send_agent(a, {{"type", "dialing"}, {"attempt", id}, {"phone", contact.phone}});
        return;
    }
    // originate() could not place it (and completed it as a carrier error).
    send_agent(a, error_message("the call could not be placed", Type::dial));
    set_state(a, AgentState::ready);
}

// Heartbeats and wrap-up limits (every media tick).
void Engine::agents_tick() {
    const auto now = SteadyClock::now();
    const auto silent_limit = config_.agents.heartbeat * config_.agents.missed_heartbeats;
    // By id: completing a wrap-up may log an agent out (and free it).
    std::vector<std::string> lost, overdue;
    for (auto& [id, a] : agents_) {
        if (!a->desktop_lost && now - a->last_heard > silent_limit) lost.push_back(id);
        if (a->state == AgentState::wrapup && a->wrap &&
            now - a->wrap_start > a->wrap_run->campaign.wrapup_max)
            overdue.push_back(id);
    }
    auto find = [&](const std::string& id) -> Agent* {
        auto it = agents_.find(id);
        return it == agents_.end() ? nullptr : it->second.get();
    };
    for (const auto& id : overdue) {
        Agent* a = find(id);
        if (!a || !a->wrap) continue;
        send_agent(*a, {{"type", "wrapup_timeout"}, {"attempt", a->wrap->id}});
        complete_wrapup(*a, "", "wrap-up timed out", 0);
    }
    for (const auto& id : lost) {
        Agent* a = find(id);
        if (!a) continue;
        engine_log(
            "agent " + id + ": no heartbeat for " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent_limit).count()) +
            " s");
        a->desktop_lost = true;
        switch (a->state) {
            case AgentState::talking:
                break;  // the conversation goes on; logged out after it
            case AgentState::wrapup:
                complete_wrapup(*a, "", "agent desktop lost", 0);
                break;
            default:
                if (a->preview) a->preview.reset();
                agent_logout(*a, "desktop stopped sending heartbeats");
                break;
        }
    }
}

}  // namespace outpace
