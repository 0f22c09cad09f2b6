// An agent's session: the desktop's requests, its states, wrap-up and dispositions,
// heartbeats. Logins, supervisors' sign-in and the floor they see are in agent_login.cc. How a live
// answer reaches an agent (softphone legs, routing, the relay) is in agent_routing.cc; calls the
// agent asks for in agent_dialing.cc; call controls in agent_controls.cc.
#include <algorithm>
#include <set>

#include "campaigns/json_text.h"
#include "campaigns/phone.h"
#include "campaigns/survey.h"
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"

namespace outpace {
namespace {

using Type = AgentRequest::Type;

}  // namespace

AgentPool::AgentPool(const EngineConfig& config, Host& host, EngineEnv& env, Store& store,
                     media::RtpPortPool& ports, metrics::Metrics& metrics)
    : config_(config), host_(host), env_(env), store_(store), ports_(ports), metrics_(metrics) {
    phone_networks_ = config.agents.phone_networks.empty()
                          ? default_phone_networks(config.sip_address)
                          : config.agents.phone_networks;
    for (const auto& t : config.trunks) trunk_addresses_.push_back({t.host, t.port});
    max_agents_ =
        config.agents.max_logged_in > 0
            ? static_cast<std::size_t>(config.agents.max_logged_in)
            : static_cast<std::size_t>(config.rtp_last_port - config.rtp_first_port + 1) / 2;
}

AgentPool::~AgentPool() = default;

void AgentPool::attach(sip::SipStack* sip, AgentChannel* channel) {
    sip_ = sip;
    protocol_.attach(channel);
}

std::vector<std::string> AgentPool::phone_hosts() const {
    std::vector<std::string> out;
    for (const auto& [id, a] : agents_)
        if (auto host = sip_uri_host(a->phone)) out.push_back(*host);
    return out;  // registered softphones are the registrar's
}

std::string AgentPool::phone_label(const Agent& a) const {
    if (!a.registered) return a.phone;
    const Registrar::Binding* b = host_.registered(a.id);
    return b ? "the softphone registered at " + b->source_ip + ":" + std::to_string(b->source_port)
             : "a registered softphone (none registered now)";
}

void AgentPool::registration_changed(const std::string& id) {
    Agent* a = find_agent(id);
    if (!a || !a->registered || a->leg || a->rtp || !host_.registered(id)) return;
    engine_log("agent " + id + ": softphone registered; calling it");
    dial_leg(*a);
}

void AgentPool::accounts_changed() {
    const AgentDirectory* dir = host_.directory();
    std::vector<Agent*> gone;
    for (auto& [id, a] : agents_) {
        const AgentAccount* account = dir ? dir->find(id) : nullptr;
        if (dir && !account) gone.push_back(a.get());
        // A supervisor no longer: monitoring ends now, not at the next login.
        if (account && a->supervisor && account->role != AgentRole::supervisor) {
            a->supervisor = false;
            stop_monitor(*a, "no longer a supervisor (the agents file)");
        }
    }
    for (Agent* a : gone) {
        engine_log("agent " + a->id + ": no longer in the agents file");
        if (a->state == AgentState::talking || a->state == AgentState::reserved ||
            a->state == AgentState::wrapup) {
            a->want_logout = true;
            protocol_.logout_pending(*a);
        } else {
            logout(*a, "removed from the agents file");
        }
    }
}

Agent* AgentPool::find_agent(const std::string& id) {
    auto it = agents_.find(id);
    return it == agents_.end() ? nullptr : it->second.get();
}

void AgentPool::set_state(Agent& a, AgentState state, const std::string& reason) {
    count_time(a);
    const std::int64_t spent = ms_between(a.since, now());
    if (a.state == AgentState::ready) a.ready_ms += spent;
    if (a.state == AgentState::talking || a.state == AgentState::wrapup ||
        a.state == AgentState::reserved)
        a.busy_ms += spent;
    a.state = state;
    a.since = now();
    a.pause_reason = state == AgentState::paused ? reason : "";
    protocol_.state(a, reason);
    protocol_.agent_event(a);
    if (state == AgentState::ready) route_waiting();
}

// ---- The desktop's requests --------------------------------------------------------------------

void AgentPool::request(const std::string& peer, const std::string& key, const AgentRequest& r) {
    if (r.type == Type::login) {
        login(peer, key, r);
        return;
    }
    if (r.type == Type::supervise) {
        supervise(peer, key, r);
        return;
    }
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end() || it->second->key != key) {
        protocol_.error(peer, "log in first", r.type);
        return;
    }
    Agent& a = *it->second;
    a.last_heard = now();
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, r.type); };
    switch (r.type) {
        case Type::heartbeat:
            protocol_.heartbeat(a);
            return;
        case Type::ready:
            if (a.state == AgentState::wrapup)
                return refuse("wrap-up ends with a disposition for attempt " +
                              std::to_string(a.wrap->id));
            if (a.state == AgentState::talking || a.state == AgentState::reserved)
                return refuse("in a call");
            if (a.guest_of) return refuse("monitoring a call: leave it first (unmonitor)");
            ready(a);
            return;
        case Type::pause:
            pause(a, r.reason.empty() ? "break" : r.reason);
            return;
        case Type::hangup:
            hangup(a);
            return;
        case Type::disposition:
            disposition(a, r);
            return;
        case Type::logout:
            if (a.state == AgentState::talking || a.state == AgentState::reserved ||
                a.state == AgentState::wrapup) {
                a.want_logout = true;
                protocol_.logout_pending(a);
                return;
            }
            logout(a, "logout");
            return;
        case Type::next:
            next(a);
            return;
        case Type::dial:
            dial(a);
            return;
        case Type::skip:
            skip(a);
            return;
        case Type::hold:
        case Type::unhold:
        case Type::mute:
        case Type::unmute:
        case Type::record_pause:
        case Type::record_resume:
        case Type::dtmf:
            control(a, r);
            return;
        case Type::manual_dial:
            manual_dial(a, r);
            return;
        case Type::calls:
            live_calls(a);
            return;
        case Type::monitor:
            monitor(a, r);
            return;
        case Type::unmonitor:
            if (!a.guest_of || !monitor_mode(a.guest_mode)) return refuse("not monitoring a call");
            stop_monitor(a, "left");
            return;
        case Type::message:
            desk_message(a, r);
            return;
        case Type::transfer:
        case Type::consult:
        case Type::complete:
        case Type::cancel:
        case Type::conference:
            transfer(a, r);
            return;
        case Type::login:
        case Type::supervise:
            return;
    }
}

void AgentPool::ready(Agent& a) {
    a.want_pause = false;
    if (a.state == AgentState::ready) {
        protocol_.state(a, "");
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

void AgentPool::pause(Agent& a, const std::string& reason) {
    switch (a.state) {
        case AgentState::ready:
        case AgentState::paused:
            set_state(a, AgentState::paused, reason);
            return;
        case AgentState::connecting:
            a.want_ready = false;
            protocol_.state(a, "");
            return;
        default:
            // In a call or wrap-up: paused once the disposition is in.
            a.want_pause = true;
            a.want_pause_reason = reason;
            protocol_.pause_pending(a, reason);
            return;
    }
}

void AgentPool::hangup(Agent& a) {
    if (Call* g = a.guest_of ? host_.find_call(a.guest_of) : nullptr;
        g && (a.guest_mode == "consult" || a.guest_mode == "conference"))
        return end_consult(a, *g, a.id + " hung up");  // a consult's target leaves it
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    if (!c) return protocol_.error(a, "no call to hang up", Type::hangup);
    if (a.transfer && !a.transfer->found.empty())
        return complete_transfer(a);  // hanging up on a consult or conference completes it
    a.transfer.reset();
    c->end("agent");
}

void AgentPool::logout(Agent& a, const std::string& reason) {
    engine_log("agent " + a.id + " logged out (" + reason + ")" +
               (a.rtp ? "; softphone RTP in " + std::to_string(a.rtp->stats().packets_in) +
                            ", out " + std::to_string(a.rtp->stats().packets_out) + ", foreign " +
                            std::to_string(a.rtp->stats().foreign) + ", malformed " +
                            std::to_string(a.rtp->stats().malformed) +
                            (a.rtp->encrypted() ? ", SRTP unauthenticated " +
                                                      std::to_string(a.rtp->stats().unauthenticated)
                                                : "")
                      : ""));
    count_time(a);
    stop_monitor(a, "logged out");
    if (Call* g = a.guest_of ? host_.find_call(a.guest_of) : nullptr)
        end_consult(a, *g, a.id + " logged out");
    protocol_.logged_out(a, reason);
    protocol_.agent_gone(a.id);
    if (a.leg) {
        legs_.erase(a.leg);
        if (sip_ && a.rtp)
            sip_->hangup(a.leg);
        else if (sip_)
            sip_->cancel(a.leg);
    }
    if (a.leg_port) ports_.give(a.leg_port);
    if (Call* c = a.customer ? host_.find_call(a.customer) : nullptr; c && c->agent() == &a)
        c->forget_agent();
    by_peer_.erase(a.peer);
    agents_.erase(a.id);  // `a` is gone from here on
    host_.phones_changed();
}

void AgentPool::disposition(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, Type::disposition); };
    if (a.state != AgentState::wrapup || !a.wrap)
        return refuse(a.state == AgentState::talking ? "the call is still up: hang up first"
                                                     : "no call waiting for a disposition");
    if (r.attempt != a.wrap->id)
        return refuse("the call in wrap-up is attempt " + std::to_string(a.wrap->id));
    const Campaign& c = a.wrap_run->campaign();
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
        r.callback_at <= std::chrono::system_clock::to_time_t(env_.clock().wall()))
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
    if (r.callback_for_me && !d->callback)
        return refuse("'for: me' goes with a callback disposition");
    complete_wrapup(a, r.code, notes, d->callback ? r.callback_at : 0, r.callback_for_me);
}

void AgentPool::start_wrapup(Agent& a, Call& c) {
    ++a.calls_handled;
    a.customer = 0;
    a.wrap = c.attempt();
    a.wrap_run = &c.run();
    a.wrap_start = now();
    protocol_.hangup(a, {.attempt = c.attempt().id,
                         .by = c.ended_by(),
                         .talk_s = c.attempt().talk_ms / 1000.0,
                         .outcome = std::nullopt,
                         .sip_code = std::nullopt});
    set_state(a, AgentState::wrapup);
    protocol_.wrapup(a, c.attempt().id,
                     std::chrono::duration<double>(c.run().campaign().wrapup_max).count());
    if (a.desktop_lost) complete_wrapup(a, "", "agent desktop lost", 0);
}

// The attempt in wrap-up goes to the ledger with its disposition; the agent moves on.
void AgentPool::complete_wrapup(Agent& a, const std::string& code, const std::string& notes,
                                std::int64_t callback_at, bool callback_for_me) {
    CampaignRun& run = *a.wrap_run;
    if (a.wrap_part) {
        // A part of a call that went on with another agent: its code goes to that part; the
        // attempt is completed by the agent who ends the call.
        dispose_part(a, code);
        const auto id = a.wrap->id;
        a.wrap.reset();
        a.wrap_part = false;
        a.wrap_run = nullptr;
        run.metrics().wrapup->Observe(seconds_between(a.wrap_start, now()));
        protocol_.disposed(a, id, code);
        protocol_.call_disposed(run.name(), id, a.id, code, true);
        after_wrapup(a);
        return;
    }
    Attempt attempt = std::move(*a.wrap);
    a.wrap.reset();
    attempt.disposition = code;
    if (!notes.empty()) attempt.notes += (attempt.notes.empty() ? "" : "; ") + notes;
    attempt.callback_at = callback_at;
    if (callback_at > 0 && callback_for_me) attempt.callback_for = a.id;
    attempt.wrap_ms = ms_between(a.wrap_start, now());
    run.estimator().handled(attempt.talk_ms / 1000.0, attempt.wrap_ms / 1000.0);
    run.metrics().talk->Observe(attempt.talk_ms / 1000.0);
    run.metrics().wrapup->Observe(attempt.wrap_ms / 1000.0);
    protocol_.disposed(a, attempt.id, code);
    protocol_.call_disposed(run.name(), attempt.id, a.id, code);
    run.completed(std::move(attempt));
    a.wrap_run = nullptr;
    after_wrapup(a);
}

// Where an agent goes when a call is over: logged out or paused if asked during it, else ready.
void AgentPool::after_wrapup(Agent& a) {
    if (a.want_logout || a.desktop_lost) {
        logout(a, a.desktop_lost     ? "desktop stopped sending heartbeats"
                  : host_.stopping() ? "engine stopped"
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

bool AgentPool::call_ended(Call& c, Outcome o, int sip_code) {
    end_monitors(c, "the call ended");  // before the attempt goes to wrap-up: it keeps them
    Agent* a = c.agent();
    if (a && a->transfer) a->transfer.reset();  // nothing left to transfer
    // A call that moved between agents: the last one's stretch too.
    if (a && o == Outcome::connected && !c.attempt().legs.empty())
        c.attempt().legs.push_back(
            {a->id, "talk", "", "", a->talk_since_ms, env_.clock().wall_ms()});
    if (!a || c.wrapped()) return c.wrapped();
    if (o == Outcome::connected) {
        start_wrapup(*a, c);  // the disposition completes the attempt
        return true;
    }
    if (c.preview()) {
        // A preview call that never reached anyone: the agent moves on.
        a->customer = 0;
        protocol_.hangup(*a, {.attempt = c.attempt().id,
                              .by = c.ended_by(),
                              .talk_s = std::nullopt,
                              .outcome = o,
                              .sip_code = sip_code});
        c.forget_agent();
        after_wrapup(*a);
    }
    return false;
}

bool AgentPool::wrapping() const {
    return std::any_of(agents_.begin(), agents_.end(),
                       [](const auto& a) { return a.second->wrap.has_value(); });
}

void AgentPool::log_everyone_out() {
    std::vector<std::string> ids;
    for (const auto& [id, a] : agents_) ids.push_back(id);
    for (const auto& id : ids) {
        Agent* a = find_agent(id);
        if (!a) continue;
        if (a->wrap) {
            a->want_logout = true;
            complete_wrapup(*a, "", "engine stopped during wrap-up", 0);
        } else {
            logout(*a, "engine stopped");
        }
    }
    write_agent_time();
}

void AgentPool::count_time(Agent& a) {
    const SteadyTime t = now();
    if (t <= a.counted) return;
    const std::int64_t span =
        std::chrono::duration_cast<std::chrono::milliseconds>(t - a.counted).count();
    a.counted = t;
    const bool paused = a.state == AgentState::paused;
    if (a.state == AgentState::connecting || span <= 0) return;  // not yet able to take a call
    std::vector<std::string> campaigns;
    if (a.state == AgentState::wrapup && a.wrap_run) {
        campaigns.push_back(a.wrap_run->name());
    } else if (Call* c = a.customer ? host_.find_call(a.customer) : nullptr) {
        campaigns.push_back(c->run().name());
    } else {
        for (CampaignRun* run : host_.runs())
            if (serves(a, *run)) campaigns.push_back(run->name());
    }
    if (campaigns.empty()) return;
    constexpr std::int64_t kHourMs = 3'600'000;
    const std::int64_t end = env_.clock().wall_ms();
    for (std::int64_t from = end - span; from < end;) {
        const std::int64_t hour = from - ((from % kHourMs) + kHourMs) % kHourMs;
        const std::int64_t to = std::min(end, hour + kHourMs);
        const std::int64_t share = (to - from) / static_cast<std::int64_t>(campaigns.size());
        for (const auto& name : campaigns) {
            auto& sum = agent_time_[{name, a.id, hour}];
            (paused ? sum.second : sum.first) += share;
        }
        from = to;
    }
}

void AgentPool::write_agent_time() {
    for (auto& [id, a] : agents_) count_time(*a);
    if (agent_time_.empty()) return;
    std::vector<Store::AgentTime> deltas;
    deltas.reserve(agent_time_.size());
    for (const auto& [key, sum] : agent_time_) {
        const auto& [campaign, agent, hour] = key;
        deltas.push_back({campaign, agent, hour, sum.first, sum.second});
    }
    // Kept for the next try when the store refuses (a full disk): a few entries per agent.
    if (store_.add_agent_time(deltas, false).ok()) agent_time_.clear();
}

void AgentPool::tick() {
    mix_rooms();
    transfers_tick();
    expire_waiting();
    const auto t = now();
    if (t >= next_callback_check_) {
        next_callback_check_ = t + std::chrono::seconds(1);
        offer_personal_callbacks();
    }
    if (t >= next_time_write_) {
        next_time_write_ = t + std::chrono::seconds(10);
        write_agent_time();
    }
    const auto silent_limit = config_.agents.heartbeat * config_.agents.missed_heartbeats;
    // By id: completing a wrap-up may log an agent out (and free it).
    std::vector<std::string> lost, overdue;
    for (auto& [id, a] : agents_) {
        if (a->keys && a->rtp && a->keys->busy()) a->keys->frame(*a->rtp);  // customer's keys
        if (!a->desktop_lost && t - a->last_heard > silent_limit) lost.push_back(id);
        if (a->state == AgentState::wrapup && a->wrap &&
            t - a->wrap_start > a->wrap_run->campaign().wrapup_max)
            overdue.push_back(id);
    }
    lend_conversations();
    for (const auto& id : overdue) {
        Agent* a = find_agent(id);
        if (!a || !a->wrap) continue;
        protocol_.wrapup_timeout(*a, a->wrap->id);
        complete_wrapup(*a, "", "wrap-up timed out", 0);
    }
    for (const auto& id : lost) {
        Agent* a = find_agent(id);
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
                logout(*a, "desktop stopped sending heartbeats");
                break;
        }
    }
}

}  // namespace outpace
