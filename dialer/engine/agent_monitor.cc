// Supervisors listening in: the live calls, and listen / whisper / barge on one of them. A
// monitored call's audio goes through its room (media::Mixer): the customer and the agent hear
// each other as before (at once, unbuffered, while nobody else speaks to them), a supervisor hears
// both mixed on the 20 ms tick, the agent hears a whispering supervisor over the customer, and
// everybody hears a barging one. Every stretch of monitoring is logged, published and kept with
// the attempt (who listened, how, from when to when).
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"

namespace outpace {

using Type = AgentRequest::Type;

namespace {
constexpr media::Mixer::Party kCustomer = 0, kAgent = 1;
}  // namespace

void AgentPool::live_calls(Agent& s) {
    if (!s.supervisor)
        return protocol_.error(s, "listing calls is for supervisors (role: supervisor)",
                               Type::calls);
    std::vector<LiveCallView> list;
    for (const auto& [id, a] : agents_) {
        Call* c = a->customer ? host_.find_call(a->customer) : nullptr;
        if (!c || c->state() != Call::State::connected || c->agent() != a.get()) continue;
        LiveCallView v;
        v.attempt = c->attempt().id;
        v.agent = id;
        v.campaign = c->run().name();
        v.phone = c->attempt().number();
        v.state = c->held() ? "on_hold" : "talking";
        v.duration_s = seconds_between(c->connected_at(), now());
        if (auto r = rooms_.find(c->id()); r != rooms_.end())
            for (const auto& [supervisor, party] : r->second.supervisors)
                if (const Agent* m = find_agent(supervisor))
                    v.monitors.emplace_back(supervisor, m->monitor_mode);
        list.push_back(std::move(v));
    }
    protocol_.calls(s, list);
}

void AgentPool::monitor(Agent& s, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(s, why, Type::monitor); };
    if (!s.supervisor) {
        engine_log("agent " + s.id + " asked to monitor attempt " + std::to_string(r.attempt) +
                   ": refused, not a supervisor");
        return refuse("monitoring is for supervisors (role: supervisor in the agents file)");
    }
    if (s.customer || s.state == AgentState::talking || s.state == AgentState::reserved ||
        s.state == AgentState::wrapup || s.preview)
        return refuse("finish your own call first");
    if (!s.rtp) return refuse("your softphone is not connected");
    Call* c = nullptr;
    for (const auto& [id, a] : agents_)
        if (Call* x = a->customer ? host_.find_call(a->customer) : nullptr;
            x && x->attempt().id == r.attempt && x->agent() == a.get() &&
            x->state() == Call::State::connected)
            c = x;
    if (!c) return refuse("no call with attempt " + std::to_string(r.attempt) + " is live");
    if (s.monitoring && s.monitoring != c->id()) stop_monitor(s, "moved to another call");
    if (s.monitoring == c->id() && s.monitor_mode == r.mode)
        return refuse(r.mode == "listen"    ? "already listening"
                      : r.mode == "whisper" ? "already whispering"
                                            : "already barging");
    if (s.state == AgentState::ready) set_state(s, AgentState::paused, "monitoring");
    Room& room = rooms_[c->id()];
    if (!room.mixer.has(kCustomer)) {
        const sip::CallId id = c->id();
        room.mixer.add(kCustomer, [this, id](std::span<const std::int16_t> pcm) {
            if (Call* call = host_.find_call(id)) call->send_to_customer(pcm);
        });
        room.mixer.add(kAgent, [this, id](std::span<const std::int16_t> pcm) {
            Call* call = host_.find_call(id);
            Agent* a = call ? call->agent() : nullptr;
            if (!a || !a->rtp || (a->keys && a->keys->busy())) return;
            a->rtp->send(pcm);
        });
    }
    if (s.monitoring == c->id()) {
        close_monitoring(s, *c);  // a switch: the attempt keeps each mode's stretch
    } else {
        const std::string sid = s.id;
        const int party = room.next_party++;
        room.supervisors[sid] = party;
        room.mixer.add(party, [this, sid](std::span<const std::int16_t> pcm) {
            if (Agent* sup = find_agent(sid); sup && sup->rtp) sup->rtp->send(pcm);
        });
    }
    s.monitoring = c->id();
    s.monitor_mode = r.mode;
    s.monitor_since_ms = env_.clock().wall_ms();
    hear_by_modes(room);
    const std::string agent = c->agent() ? c->agent()->id : "";
    engine_log("supervisor " + s.id + " " + r.mode + (r.mode == "barge" ? "s in on" : "s to") +
               " attempt " + std::to_string(c->attempt().id) + " (agent " + agent + ")");
    protocol_.monitoring(s, c->attempt().id, agent, r.mode);
    protocol_.call_monitor(c->run().name(), c->attempt().id, agent, s.id, r.mode);
}

// Who hears whom: the customer and the agent each other; a supervisor both of them; a whisper
// reaches the agent, a barge everyone (other supervisors too).
void AgentPool::hear_by_modes(Room& room) {
    auto& m = room.mixer;
    m.hear(kCustomer, kAgent, true);
    m.hear(kAgent, kCustomer, true);
    for (const auto& [sid, party] : room.supervisors) {
        const Agent* s = find_agent(sid);
        const std::string mode = s ? s->monitor_mode : "";
        m.hear(party, kCustomer, true);
        m.hear(party, kAgent, true);
        m.hear(kAgent, party, mode == "whisper" || mode == "barge");
        m.hear(kCustomer, party, mode == "barge");
        for (const auto& [other, other_party] : room.supervisors)
            if (other != sid) m.hear(other_party, party, mode == "barge");
    }
}

void AgentPool::close_monitoring(Agent& s, Call& c) {
    c.attempt().monitors.push_back(
        {s.id, s.monitor_mode, s.monitor_since_ms, env_.clock().wall_ms()});
}

void AgentPool::stop_monitor(Agent& s, const std::string& reason) {
    if (!s.monitoring) return;
    const sip::CallId id = s.monitoring;
    Call* c = host_.find_call(id);
    std::uint64_t attempt = 0;
    if (c) {
        attempt = c->attempt().id;
        close_monitoring(s, *c);
        protocol_.call_monitor(c->run().name(), attempt, c->agent() ? c->agent()->id : "", s.id,
                               "");
    }
    engine_log("supervisor " + s.id + " left attempt " + std::to_string(attempt) + " (" + reason +
               ")");
    protocol_.monitor_ended(s, attempt, reason);
    s.monitoring = 0;
    s.monitor_mode.clear();
    if (auto r = rooms_.find(id); r != rooms_.end()) {
        if (auto p = r->second.supervisors.find(s.id); p != r->second.supervisors.end()) {
            r->second.mixer.remove(p->second);
            r->second.supervisors.erase(p);
        }
        if (r->second.supervisors.empty())
            rooms_.erase(r);  // the customer and the agent: straight to each other again
        else
            hear_by_modes(r->second);
    }
}

void AgentPool::end_monitors(Call& c, const std::string& reason) {
    auto r = rooms_.find(c.id());
    if (r == rooms_.end()) return;
    std::vector<std::string> ids;
    for (const auto& [sid, party] : r->second.supervisors) ids.push_back(sid);
    for (const auto& sid : ids)
        if (Agent* s = find_agent(sid)) stop_monitor(*s, reason);
    rooms_.erase(c.id());
}

void AgentPool::mix_rooms() {
    std::vector<sip::CallId> gone;
    for (auto& [id, room] : rooms_) {
        Call* c = host_.find_call(id);
        if (!c || c->state() != Call::State::connected || !c->agent())
            gone.push_back(id);
        else
            room.mixer.tick();
    }
    for (auto id : gone) {
        if (Call* c = host_.find_call(id)) {
            end_monitors(*c, "the call ended");
            continue;
        }
        // The call is gone already (its attempt closed without us): the supervisors just leave.
        auto r = rooms_.find(id);
        if (r == rooms_.end()) continue;
        std::vector<std::string> ids;
        for (const auto& [sid, party] : r->second.supervisors) ids.push_back(sid);
        for (const auto& sid : ids)
            if (Agent* s = find_agent(sid)) {
                protocol_.monitor_ended(*s, 0, "the call ended");
                s->monitoring = 0;
                s->monitor_mode.clear();
            }
        rooms_.erase(r);
    }
}

bool AgentPool::room_input(sip::CallId call, const Agent* from, std::span<const std::int16_t> pcm) {
    auto r = rooms_.find(call);
    if (r == rooms_.end()) return false;
    media::Mixer::Party party = kCustomer;
    if (from) {
        auto p = r->second.supervisors.find(from->id);
        party = p != r->second.supervisors.end() && from->monitoring == call ? p->second : kAgent;
    }
    r->second.mixer.input(party, pcm);
    return true;
}

}  // namespace outpace
