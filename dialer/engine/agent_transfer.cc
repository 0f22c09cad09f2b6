// Calls that move between agents: a blind transfer (the customer to another agent, or to the
// longest-ready agent of a queue: a skill or a campaign), a consult (the customer on hold while
// the agent talks to the target first) that ends in complete, cancel or a three-way conference.
// The customer hears the hold prompt while a target is found; one not found within the campaign's
// transfer.timeout brings the customer back to the agent who asked. The consult and the
// conference run in the call's room (agent_monitor.cc), as a guest of the call. The attempt
// keeps every agent's stretch (Attempt::legs), and an agent who handed the call on wraps its own
// part up with its own disposition.
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"

#include <cstdlib>

#include "campaigns/phone.h"
#include "dialer/media/sdp.h"

namespace outpace {

using Type = AgentRequest::Type;

void AgentPool::transfer(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, r.type); };
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    const bool talking = c && c->state() == Call::State::connected && c->agent() == &a;
    if (r.type == Type::transfer || r.type == Type::consult) {
        if (!talking)
            return refuse(a.guest_of ? "only the agent who has the customer can transfer"
                                     : "no call to transfer");
        if (a.transfer) return refuse("a transfer is under way: complete or cancel it first");
        if (r.agent == a.id) return refuse("that is you");
        if (!r.agent.empty() && !find_agent(r.agent))
            return refuse("agent " + r.agent + " is not logged in");
        if (!r.queue.empty()) {
            bool known = host_.find_run(r.queue) != nullptr;
            for (const auto& [id, x] : agents_)
                known |= std::find(x->skills.begin(), x->skills.end(), r.queue) != x->skills.end();
            if (const AgentDirectory* dir = host_.directory())
                for (const auto& [id, account] : dir->accounts)
                    known |= std::find(account.skills.begin(), account.skills.end(), r.queue) !=
                             account.skills.end();
            if (!known) return refuse("no queue '" + r.queue + "': name a skill or a campaign");
        }
        // A number outside: only those the campaign lists (an agent never makes the engine call
        // anything else).
        std::string number;
        if (!r.phone.empty()) {
            const Campaign& campaign = c->run().campaign();
            const auto n = normalize_phone(r.phone, campaign.default_region);
            if (!n.ok() || !campaign.transfer_allowed(n.e164))
                return refuse("campaign " + campaign.name + " does not allow transfers to " +
                              r.phone + " (transfer.external_allowed)");
            if (c->trunk().config().srtp)
                return refuse("transfers to numbers outside are not offered on SRTP trunks yet");
            number = n.e164;
        }
        a.transfer = Agent::Transfer{r.type == Type::consult,
                                     r.agent,
                                     r.queue,
                                     "",
                                     now() + c->run().campaign().transfer_timeout,
                                     number,
                                     0};
        c->hold(true);  // the hold prompt while the target is found
        const std::string target = !number.empty()   ? number
                                   : r.agent.empty() ? "queue " + r.queue
                                                     : r.agent;
        engine_log("agent " + a.id + (r.type == Type::consult ? " consults " : " transfers to ") +
                   target + " (attempt " + std::to_string(c->attempt().id) + ")");
        protocol_.transfer(a, c->attempt().id, "waiting", number.empty() ? r.agent : number, "");
        protocol_.call_transfer(c->run().name(), c->attempt().id, a.id, target, "waiting");
        if (!number.empty()) {
            if (!dial_external(a, *c)) drop_transfer(a, "failed", "cannot place the call");
            return;
        }
        if (Agent* b = transfer_target(a)) transfer_found(a, *b, *c);
        return;
    }
    if (!a.transfer) {
        if (r.type == Type::cancel) return refuse("no transfer to cancel");
        return refuse(r.type == Type::complete ? "nothing to complete: consult first"
                                               : "nobody to bring in: consult first");
    }
    if (a.transfer->found.empty())
        return r.type == Type::cancel ? drop_transfer(a, "cancelled", "cancelled")
                                      : refuse("the target has not answered yet: wait, or cancel");
    if (r.type == Type::cancel) return drop_transfer(a, "cancelled", "cancelled");
    if (r.type == Type::complete) return complete_transfer(a);
    if (mode_of(a.transfer->found) == "conference") return refuse("already in a conference");
    start_conference(a);
}

Agent* AgentPool::transfer_target(const Agent& a) {
    const Agent::Transfer& t = *a.transfer;
    if (!t.number.empty()) return nullptr;  // a number is found when it answers
    auto free = [&](const Agent& x) {
        return &x != &a && x.state == AgentState::ready && x.rtp && !x.guest_of && !x.customer;
    };
    if (!t.agent.empty()) {
        Agent* b = find_agent(t.agent);
        return b && free(*b) ? b : nullptr;
    }
    CampaignRun* run = host_.find_run(t.queue);
    Agent* best = nullptr;
    for (auto& [id, x] : agents_) {
        if (!free(*x)) continue;
        const bool in = std::find(x->skills.begin(), x->skills.end(), t.queue) != x->skills.end() ||
                        (run && serves(*x, *run));
        if (in && (!best || x->since < best->since)) best = x.get();
    }
    return best;
}

void AgentPool::transfers_tick() {
    std::vector<std::string> waiting;
    for (const auto& [id, a] : agents_)
        if (a->transfer && a->transfer->found.empty()) waiting.push_back(id);
    for (const auto& id : waiting) {
        Agent* a = find_agent(id);
        if (!a || !a->transfer) continue;
        Call* c = a->customer ? host_.find_call(a->customer) : nullptr;
        if (!c || c->state() != Call::State::connected) {
            a->transfer.reset();
            continue;
        }
        if (Agent* b = transfer_target(*a)) {
            transfer_found(*a, *b, *c);
        } else if (now() >= a->transfer->deadline) {
            const auto& t = *a->transfer;
            drop_transfer(*a, "failed",
                          (!t.number.empty() ? t.number + " did not answer"
                           : t.agent.empty() ? "nobody in queue " + t.queue + " was free"
                                             : t.agent + " was not free") +
                              " within " +
                              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                 c->run().campaign().transfer_timeout)
                                                 .count()) +
                              " s");
        } else if (!a->transfer->agent.empty() && !find_agent(a->transfer->agent)) {
            drop_transfer(*a, "failed", "agent " + a->transfer->agent + " logged out");
        }
    }
}

void AgentPool::transfer_found(Agent& a, Agent& b, Call& c) {
    if (!a.transfer->consult) return hand_over(a, b, c, "transfer");
    a.transfer->found = b.id;
    Room& room = room_for(c);
    add_guest(room, b);
    b.guest_of = c.id();
    b.guest_mode = "consult";
    b.guest_since_ms = env_.clock().wall_ms();
    hear_by_modes(room);
    set_state(b, AgentState::talking);
    OfferView v = offer_for(c);
    v.transferred_by = a.id;
    v.transfer_kind = "consult";
    protocol_.offer(b, v);
    const auto attempt = c.attempt().id;
    engine_log("agent " + a.id + " talks to " + b.id + " about attempt " + std::to_string(attempt) +
               " (the customer on hold)");
    protocol_.transfer(a, attempt, "consulting", b.id, "");
    protocol_.transfer(b, attempt, "consulting", a.id, "");
    protocol_.call_transfer(c.run().name(), attempt, a.id, b.id, "consulting");
}

void AgentPool::hand_over(Agent& a, Agent& b, Call& c, const std::string& how) {
    const std::int64_t t = env_.clock().wall_ms();
    const auto attempt = c.attempt().id;
    c.attempt().legs.push_back({a.id, "talk", b.id, "", a.talk_since_ms, t});
    if (b.guest_of == c.id()) {
        close_guest_leg(b, c);
        leave_room(b);
    }
    a.transfer.reset();
    c.connect(b);  // a handover: the controls end, so the customer comes off hold
    b.customer = c.id();
    b.talk_since_ms = t;
    // The first agent's part is over: its own wrap-up and disposition.
    start_part_wrapup(a, c, static_cast<double>(t - c.attempt().legs.back().from_ms) / 1000);
    if (how == "transfer") {
        OfferView v = offer_for(c);
        v.transferred_by = a.id;
        v.transfer_kind = "transfer";
        protocol_.offer(b, v);
    }
    set_state(b, AgentState::talking);
    protocol_.connected(b, attempt,
                        std::chrono::duration<double, std::milli>(now() - c.verdict_at()).count());
    engine_log("attempt " + std::to_string(attempt) + ": agent " + a.id +
               " handed the customer to " + b.id + " (" + how + ")");
    protocol_.transfer(a, attempt, "completed", b.id, "");
    protocol_.transfer(b, attempt, "completed", a.id, "");
    protocol_.call_transfer(c.run().name(), attempt, a.id, b.id, "completed");
    protocol_.call_connected(
        c.run().name(), attempt, b.id,
        std::chrono::duration<double, std::milli>(now() - c.verdict_at()).count());
    if (a.desktop_lost) complete_wrapup(a, "", "agent desktop lost", 0);
}

void AgentPool::start_part_wrapup(Agent& a, Call& c, double talk_s) {
    ++a.calls_handled;
    a.customer = 0;
    a.wrap = c.attempt();
    a.wrap_part = true;
    a.wrap_run = &c.run();
    a.wrap_start = now();
    protocol_.hangup(a, {.attempt = c.attempt().id,
                         .by = "transfer",
                         .talk_s = talk_s,
                         .outcome = std::nullopt,
                         .sip_code = std::nullopt});
    set_state(a, AgentState::wrapup);
    protocol_.wrapup(a, c.attempt().id,
                     std::chrono::duration<double>(c.run().campaign().wrapup_max).count());
}

void AgentPool::drop_transfer(Agent& a, const std::string& state, const std::string& reason) {
    Agent::Transfer t = *a.transfer;
    a.transfer.reset();
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    const auto attempt = c ? c->attempt().id : 0;
    if (Agent* b = t.found.empty() ? nullptr : find_agent(t.found);
        b && c && b->guest_of == c->id())
        end_consult(*b, *c, reason);
    if (t.leg && externals_.count(t.leg)) end_external(t.leg, c, reason);
    if (c) c->hold(false);  // back with the agent who asked
    engine_log("agent " + a.id + ": transfer " + state + " (" + reason + ")");
    const std::string other = !t.number.empty() ? t.number : t.found.empty() ? t.agent : t.found;
    protocol_.transfer(a, attempt, state, other, reason);
    if (c) protocol_.call_transfer(c->run().name(), attempt, a.id, other, state);
}

void AgentPool::complete_transfer(Agent& a) {
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    if (External* x = external_of(a.transfer->found); x && c) return hand_over_external(a, *x, *c);
    Agent* b = find_agent(a.transfer->found);
    if (!c || !b) return drop_transfer(a, "failed", "the target is gone");
    hand_over(a, *b, *c, a.transfer->consult ? "consult" : "transfer");
}

void AgentPool::start_conference(Agent& a) {
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    if (External* x = external_of(a.transfer->found); x && c) {
        c->attempt().legs.push_back(
            {x->number, x->mode, "", "", x->since_ms, env_.clock().wall_ms()});
        x->mode = "conference";
        x->since_ms = env_.clock().wall_ms();
        c->hold(false);
        hear_by_modes(room_for(*c));
        engine_log("attempt " + std::to_string(c->attempt().id) + ": conference of the customer, " +
                   a.id + " and " + x->number);
        protocol_.transfer(a, c->attempt().id, "conference", x->number, "");
        protocol_.call_transfer(c->run().name(), c->attempt().id, a.id, x->number, "conference");
        return;
    }
    Agent* b = find_agent(a.transfer->found);
    if (!c || !b || b->guest_of != c->id()) return drop_transfer(a, "failed", "the target is gone");
    close_guest_leg(*b, *c);  // the consult's stretch; the conference's starts now
    b->guest_mode = "conference";
    b->guest_since_ms = env_.clock().wall_ms();
    c->hold(false);
    hear_by_modes(rooms_.at(c->id()));
    const auto attempt = c->attempt().id;
    engine_log("attempt " + std::to_string(attempt) + ": conference of the customer, " + a.id +
               " and " + b->id);
    protocol_.transfer(a, attempt, "conference", b->id, "");
    protocol_.transfer(*b, attempt, "conference", a.id, "");
    protocol_.call_transfer(c->run().name(), attempt, a.id, b->id, "conference");
}

void AgentPool::close_guest_leg(Agent& g, Call& c) {
    c.attempt().legs.push_back(
        {g.id, g.guest_mode, "", "", g.guest_since_ms, env_.clock().wall_ms()});
}

void AgentPool::end_consult(Agent& b, Call& c, const std::string& reason) {
    close_guest_leg(b, c);
    leave_room(b);
    const auto attempt = c.attempt().id;
    Agent* a = c.agent();
    protocol_.transfer(b, attempt, "ended", a ? a->id : "", reason);
    // The agent who brought `b` in learns of it when `b` left by itself.
    if (a && a->transfer && a->transfer->found == b.id) {
        a->transfer.reset();
        if (c.state() == Call::State::connected) c.hold(false);
        protocol_.transfer(*a, attempt, "cancelled", b.id, reason);
        protocol_.call_transfer(c.run().name(), attempt, a->id, b.id, "cancelled");
    }
    if (b.state == AgentState::talking && !b.customer) after_wrapup(b);
}

void AgentPool::dispose_part(Agent& a, const std::string& code) {
    const std::uint64_t id = a.wrap->id;
    auto mark = [&](Attempt& attempt) {
        for (auto it = attempt.legs.rbegin(); it != attempt.legs.rend(); ++it)
            if (it->agent == a.id && it->kind == "talk" && it->disposition.empty()) {
                it->disposition = code.empty() ? "-" : code;
                // A call that went on to a number outside has no other agent: this part's
                // code is the call's.
                if (attempt.agent == a.id && attempt.disposition.empty())
                    attempt.disposition = code;
                return true;
            }
        return false;
    };
    // The call is still up with another agent, or in that agent's wrap-up.
    for (auto& [aid, x] : agents_) {
        Call* c = x->customer ? host_.find_call(x->customer) : nullptr;
        if (c && c->attempt().id == id && mark(c->attempt())) return;
        if (x.get() != &a && x->wrap && x->wrap->id == id && mark(*x->wrap)) return;
    }
    // The customer with a number outside, no agent: the call is in a room.
    for (const auto& [call, room] : rooms_)
        if (Call* c = host_.find_call(call); c && c->attempt().id == id && mark(c->attempt()))
            return;
    // In the ledger already (the others finished first): read and written in line with the
    // ledger's other writes, after the batch that completed it.
    bool written = false;
    env_.write_ledger_now([&] {
        if (auto stored = store_.attempt(a.wrap_run->name(), id); stored && mark(*stored)) {
            Store::Batch b;
            b.put_attempt(*stored);
            written = store_.write(b, true).ok();
        }
    });
    if (written) return;
    engine_log("attempt " + std::to_string(id) + ": agent " + a.id + "'s part disposition " + code +
               " could not be recorded (the attempt is not written yet)");
}

AgentPool::External* AgentPool::external_of(const std::string& guest) {
    if (guest.rfind("ext:", 0) != 0) return nullptr;
    auto it = externals_.find(std::strtoull(guest.c_str() + 4, nullptr, 10));
    return it == externals_.end() ? nullptr : &it->second;
}

bool AgentPool::dial_external(Agent& a, Call& c) {
    if (!sip_) return false;
    auto port = ports_.take();
    if (!port) return false;
    auto d = c.third_party_dial(a.transfer->number,
                                media::make_offer(config_.rtp_address, *port, c.attempt().id));
    const sip::CallId leg = d ? sip_->invite(*d) : 0;
    if (!leg) {
        ports_.give(*port);
        return false;
    }
    External& x = externals_[leg];
    x.leg = leg;
    x.call = c.id();
    x.number = a.transfer->number;
    x.agent = a.id;
    x.port = *port;
    a.transfer->leg = leg;
    return true;
}

void AgentPool::external_answered(External& x, const std::string& sdp) {
    const sip::CallId leg = x.leg;
    x.answered = true;
    Agent* a = find_agent(x.agent);
    Call* c = host_.find_call(x.call);
    if (!a || !c || !a->transfer || a->transfer->leg != leg ||
        c->state() != Call::State::connected) {
        end_external(leg, c, "nobody waits for it");  // answered too late
        return;
    }
    auto remote = media::parse_answer(sdp);
    std::string error;
    x.rtp = env_.open_audio(config_.rtp_address, ports_, &error, x.port);
    x.port = 0;  // the session owns it now
    if (!x.rtp || !remote.ok() || remote.secure || !x.rtp->set_remote(remote)) {
        const std::string number = x.number;
        engine_log("attempt " + std::to_string(c->attempt().id) + ": " + number +
                   " answered without usable audio" + (remote.ok() ? "" : ": " + remote.error));
        a->transfer->leg = 0;
        end_external(leg, c, "no usable audio");
        drop_transfer(*a, "failed", number + " answered without usable audio");
        return;
    }
    x.rtp->on_audio([this, leg](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
        auto it = externals_.find(leg);
        if (it == externals_.end()) return;
        auto r = rooms_.find(it->second.call);
        if (r == rooms_.end()) return;
        if (auto p = r->second.guests.find(external_key(leg)); p != r->second.guests.end())
            r->second.mixer.input(p->second, pcm);
    });
    a->transfer->found = external_key(leg);
    x.since_ms = env_.clock().wall_ms();
    if (!a->transfer->consult) return hand_over_external(*a, x, *c);
    x.mode = "consult";
    Room& room = room_for(*c);
    add_external(room, x);
    hear_by_modes(room);
    engine_log("agent " + a->id + " talks to " + x.number + " about attempt " +
               std::to_string(c->attempt().id) + " (the customer on hold)");
    protocol_.transfer(*a, c->attempt().id, "consulting", x.number, "");
    protocol_.call_transfer(c->run().name(), c->attempt().id, a->id, x.number, "consulting");
}

void AgentPool::add_external(Room& room, External& x) {
    const std::string key = external_key(x.leg);
    if (room.guests.count(key)) return;
    const int party = room.next_party++;
    room.guests[key] = party;
    const sip::CallId leg = x.leg;
    room.mixer.add(party, [this, leg](std::span<const std::int16_t> pcm) {
        if (auto it = externals_.find(leg); it != externals_.end() && it->second.rtp)
            it->second.rtp->send(pcm);
    });
}

void AgentPool::hand_over_external(Agent& a, External& x, Call& c) {
    const std::int64_t t = env_.clock().wall_ms();
    const auto attempt = c.attempt().id;
    const std::int64_t talked_from = a.talk_since_ms;
    c.attempt().legs.push_back({a.id, "talk", x.number, "", talked_from, t});
    if (!x.mode.empty()) c.attempt().legs.push_back({x.number, x.mode, "", "", x.since_ms, t});
    x.mode = "talk";
    x.since_ms = t;
    Room& room = room_for(c);
    add_external(room, x);
    a.transfer.reset();
    c.hold(false);
    c.forget_agent();  // the customer and the number, through the engine; no agent
    start_part_wrapup(a, c, static_cast<double>(t - talked_from) / 1000);
    hear_by_modes(room);
    engine_log("attempt " + std::to_string(attempt) + ": agent " + a.id +
               " handed the customer to " + x.number);
    protocol_.transfer(a, attempt, "completed", x.number, "");
    protocol_.call_transfer(c.run().name(), attempt, a.id, x.number, "completed");
    if (a.desktop_lost) complete_wrapup(a, "", "agent desktop lost", 0);
}

void AgentPool::end_external(sip::CallId leg, Call* c, const std::string& reason) {
    auto it = externals_.find(leg);
    if (it == externals_.end()) return;
    External& x = it->second;
    if (!c) c = host_.find_call(x.call);
    if (c && !x.mode.empty())
        c->attempt().legs.push_back({x.number, x.mode == "talk" ? "outside" : x.mode, "", "",
                                     x.since_ms, env_.clock().wall_ms()});
    if (sip_ && !x.over) {
        if (x.answered)
            sip_->hangup(leg);
        else
            sip_->cancel(leg);
    }
    if (x.port) ports_.give(x.port);
    engine_log("attempt " + std::to_string(c ? c->attempt().id : 0) + ": " + x.number +
               " left the call (" + reason + ")");
    const std::string key = external_key(leg);
    const sip::CallId call = x.call;
    externals_.erase(it);
    if (auto r = rooms_.find(call); r != rooms_.end()) {
        if (auto p = r->second.guests.find(key); p != r->second.guests.end()) {
            r->second.mixer.remove(p->second);
            r->second.guests.erase(p);
        }
        if (r->second.guests.empty())
            rooms_.erase(r);
        else
            hear_by_modes(r->second);
    }
}

}  // namespace outpace
