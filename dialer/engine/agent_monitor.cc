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
            for (const auto& [guest, party] : r->second.guests)
                if (const Agent* m = find_agent(guest); m && monitor_mode(m->guest_mode))
                    v.monitors.emplace_back(guest, m->guest_mode);
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
    if (s.guest_of && s.guest_of != c->id()) stop_monitor(s, "moved to another call");
    if (s.guest_of == c->id() && s.guest_mode == r.mode)
        return refuse(r.mode == "listen"    ? "already listening"
                      : r.mode == "whisper" ? "already whispering"
                                            : "already barging");
    if (s.state == AgentState::ready) set_state(s, AgentState::paused, "monitoring");
    Room& room = room_for(*c);
    if (s.guest_of == c->id())
        close_monitoring(s, *c);  // a switch: the attempt keeps each mode's stretch
    else
        add_guest(room, s);
    s.guest_of = c->id();
    s.guest_mode = r.mode;
    s.guest_since_ms = env_.clock().wall_ms();
    hear_by_modes(room);
    const std::string agent = c->agent() ? c->agent()->id : "";
    engine_log("supervisor " + s.id + " " + r.mode + (r.mode == "barge" ? "s in on" : "s to") +
               " attempt " + std::to_string(c->attempt().id) + " (agent " + agent + ")");
    protocol_.monitoring(s, c->attempt().id, agent, r.mode);
    protocol_.call_monitor(c->run().name(), c->attempt().id, agent, s.id, r.mode);
}

AgentPool::Room& AgentPool::room_for(Call& c) {
    c.media_home();  // the room's mix is made on the loop
    Room& room = rooms_[c.id()];
    if (!room.mixer.has(kCustomer)) {
        const sip::CallId id = c.id();
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
    return room;
}

void AgentPool::add_guest(Room& room, Agent& g) {
    const std::string gid = g.id;
    const int party = room.next_party++;
    room.guests[gid] = party;
    room.mixer.add(party, [this, gid](std::span<const std::int16_t> pcm) {
        if (Agent* guest = find_agent(gid); guest && guest->rtp) guest->rtp->send(pcm);
    });
}

// Who hears whom: the customer and the agent each other; a guest both of them; a whisper (and
// a consult: the customer is on hold meanwhile) reaches the agent, a barge (and a conference)
// everyone, other guests too.
void AgentPool::hear_by_modes(Room& room) {
    auto& m = room.mixer;
    m.hear(kCustomer, kAgent, true);
    m.hear(kAgent, kCustomer, true);
    for (const auto& [gid, party] : room.guests) {
        const std::string mode = mode_of(gid);
        const bool to_agent = mode == "whisper" || mode == "consult";
        const bool to_all = mode == "barge" || mode == "conference" || mode == "talk";
        m.hear(party, kCustomer, true);
        m.hear(party, kAgent, true);
        m.hear(kAgent, party, to_agent || to_all);
        m.hear(kCustomer, party, to_all);
        for (const auto& [other, other_party] : room.guests)
            if (other != gid) m.hear(other_party, party, to_all);
    }
}

void AgentPool::close_monitoring(Agent& s, Call& c) {
    c.attempt().monitors.push_back({s.id, s.guest_mode, s.guest_since_ms, env_.clock().wall_ms()});
}

bool AgentPool::monitor_mode(const std::string& mode) {
    return mode == "listen" || mode == "whisper" || mode == "barge";
}

void AgentPool::leave_room(Agent& g) {
    const sip::CallId id = g.guest_of;
    g.guest_of = 0;
    g.guest_mode.clear();
    auto r = rooms_.find(id);
    if (r == rooms_.end()) return;
    if (auto p = r->second.guests.find(g.id); p != r->second.guests.end()) {
        r->second.mixer.remove(p->second);
        r->second.guests.erase(p);
    }
    if (r->second.guests.empty())
        rooms_.erase(r);  // the customer and the agent: straight to each other again
    else
        hear_by_modes(r->second);
}

void AgentPool::stop_monitor(Agent& s, const std::string& reason) {
    if (!s.guest_of || !monitor_mode(s.guest_mode)) return;
    const sip::CallId id = s.guest_of;
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
    leave_room(s);
}

std::string AgentPool::mode_of(const std::string& guest) {
    if (const External* x = external_of(guest)) return x->mode;
    const Agent* g = find_agent(guest);
    return g ? g->guest_mode : "";
}

void AgentPool::end_monitors(Call& c, const std::string& reason) {
    // A number outside ringing for this call (not in the room yet) goes too.
    std::vector<sip::CallId> numbers;
    for (const auto& [leg, x] : externals_)
        if (x.call == c.id()) numbers.push_back(leg);
    for (auto leg : numbers) end_external(leg, &c, reason);
    auto r = rooms_.find(c.id());
    if (r == rooms_.end()) return;
    std::vector<std::string> ids;
    for (const auto& [sid, party] : r->second.guests) ids.push_back(sid);
    for (const auto& sid : ids)
        if (Agent* g = find_agent(sid); g && g->guest_of == c.id()) {
            if (monitor_mode(g->guest_mode))
                stop_monitor(*g, reason);
            else
                end_consult(*g, c, reason);
        }
    rooms_.erase(c.id());
}

void AgentPool::mix_rooms() {
    std::vector<sip::CallId> gone;
    for (auto& [id, room] : rooms_) {
        Call* c = host_.find_call(id);
        bool talking_outside = false;  // the customer with a number outside, no agent
        for (const auto& [gid, party] : room.guests) talking_outside |= mode_of(gid) == "talk";
        if (!c || c->state() != Call::State::connected || (!c->agent() && !talking_outside))
            gone.push_back(id);
        else
            room.mixer.tick();
    }
    for (auto id : gone) {
        if (Call* c = host_.find_call(id)) {
            end_monitors(*c, "the call ended");
            continue;
        }
        // The call is gone already (its attempt closed without us): the guests just leave.
        auto r = rooms_.find(id);
        if (r == rooms_.end()) continue;
        std::vector<std::string> ids;
        for (const auto& [sid, party] : r->second.guests) ids.push_back(sid);
        for (const auto& sid : ids) {
            if (const External* x = external_of(sid)) {
                end_external(x->leg, nullptr, "the call ended");
                continue;
            }
            if (Agent* g = find_agent(sid)) {
                if (monitor_mode(g->guest_mode)) protocol_.monitor_ended(*g, 0, "the call ended");
                g->guest_of = 0;
                g->guest_mode.clear();
                if (g->state == AgentState::talking && !g->customer) after_wrapup(*g);
            }
        }
        rooms_.erase(id);
    }
}

bool AgentPool::room_input(sip::CallId call, const Agent* from, std::span<const std::int16_t> pcm) {
    auto r = rooms_.find(call);
    if (r == rooms_.end()) return false;
    media::Mixer::Party party = kCustomer;
    if (from) {
        auto p = r->second.guests.find(from->id);
        party = p != r->second.guests.end() && from->guest_of == call ? p->second : kAgent;
    }
    r->second.mixer.input(party, pcm);
    return true;
}

}  // namespace outpace
