// How a live answer reaches an agent: which agents serve a campaign, the softphone leg kept up for
// each agent's shift, connecting a customer to the longest-ready agent within the 2-second rule
// (or the safe-harbor message), and the media relay and its figures.
#include <algorithm>

#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"
#include "dialer/media/sdp.h"

namespace outpace {

bool AgentPool::serves(const Agent& a, const CampaignRun& run) const {
    if (!a.campaigns.empty() &&
        std::find(a.campaigns.begin(), a.campaigns.end(), run.name()) == a.campaigns.end())
        return false;
    const auto& skills = run.campaign().skills;
    if (skills.empty()) return true;
    for (const auto& s : skills)
        if (std::find(a.skills.begin(), a.skills.end(), s) != a.skills.end()) return true;
    return false;
}

// The agents the campaign's pacer counted first (it dialled for them), then any who serve it: a
// person who answered is better connected by another campaign's agent than abandoned.
Agent* AgentPool::longest_ready(const CampaignRun& run) {
    Agent* best = nullptr;
    bool best_ours = false;
    for (auto& [id, a] : agents_) {
        if (a->state != AgentState::ready || !a->rtp || !serves(*a, run)) continue;
        const bool ours = a->pacing_run == &run;
        if (!best || (ours && !best_ours) || (ours == best_ours && a->since < best->since))
            best = a.get(), best_ours = ours;
    }
    return best;
}

bool AgentPool::paced_by(const Agent& a, const CampaignRun& run) const {
    return run.running() && !run.ivr_survey() && run.unattended() == 0 && !run.preview() &&
           serves(a, run);
}

void AgentPool::assign(Agent& a) {
    std::vector<CampaignRun*> candidates;
    bool any_busy = false;
    for (CampaignRun* r : host_.runs())
        if (paced_by(a, *r)) {
            candidates.push_back(r);
            any_busy = any_busy || !r->status().idle;
        }
    // A campaign with nobody left to dial now gives its share to those that have some.
    if (any_busy) std::erase_if(candidates, [](const CampaignRun* r) { return r->status().idle; });
    a.pacing_run = nullptr;
    if (candidates.size() <= 1) {
        if (!candidates.empty()) a.pacing_run = candidates.front();
        return;
    }
    std::map<const CampaignRun*, long> counted;
    for (const auto& [id, other] : agents_)
        if (other.get() != &a && other->pacing_run) ++counted[other->pacing_run];
    CampaignRun* best = nullptr;
    double best_load = 0;
    for (CampaignRun* r : candidates) {
        const double load =
            static_cast<double>(counted[r] + 1) / std::max(0.01, r->campaign().agent_share);
        if (!best || load < best_load) best = r, best_load = load;
    }
    a.pacing_run = best;
}

void AgentPool::apportion() {
    for (auto& [id, a] : agents_) {
        CampaignRun* r = a->pacing_run;
        bool keep = r && paced_by(*a, *r);
        // Counted by a campaign with nobody to dial while another that has some could use it.
        if (keep && r->status().idle)
            for (CampaignRun* other : host_.runs())
                if (other != r && !other->status().idle && paced_by(*a, *other)) keep = false;
        if (!keep) assign(*a);
    }
}

void AgentPool::fill_view(const CampaignRun& run, pacing::Snapshot& s) const {
    const auto t = now();
    for (const auto& [id, a] : agents_) {
        if (a->pacing_run != &run) continue;
        pacing::AgentView v;
        v.in_state_s = seconds_between(a->since, t);
        switch (a->state) {
            case AgentState::ready:
                v.state = pacing::AgentState::ready;
                break;
            case AgentState::reserved:
                v.state = pacing::AgentState::reserved;
                break;
            case AgentState::talking:
                v.state = pacing::AgentState::talking;
                break;
            case AgentState::wrapup:
                v.state = pacing::AgentState::wrapup;
                break;
            default:
                v.state = pacing::AgentState::paused;
                break;
        }
        s.agents.push_back(v);
    }
}

static_assert(static_cast<std::size_t>(AgentState::wrapup) + 1 == metrics::kAgentStates.size());

std::array<long, metrics::kAgentStates.size()> AgentPool::counts(const CampaignRun& run) const {
    std::array<long, metrics::kAgentStates.size()> n{};
    for (const auto& [id, a] : agents_)
        if (serves(*a, run)) ++n[static_cast<std::size_t>(a->state)];
    return n;
}

// ---- The softphone leg -------------------------------------------------------------------------

void AgentPool::dial_leg(Agent& a) {
    sip::Dial d;
    if (a.registered) {
        const Registrar::Binding* b = host_.registered(a.id);
        if (b && a.srtp == AgentSrtp::required && b->transport != "tls") {
            // Its calls must be encrypted, and SRTP keys travel only over TLS.
            const std::string why =
                "your account requires SRTP: register your softphone over "
                "TLS (sip:...;transport=tls, port " +
                std::to_string(config_.sip_tls.port) + ")";
            engine_log("agent " + a.id + ": softphone registered over " + b->transport +
                       ", but the account requires SRTP (TLS): not calling it");
            protocol_.error(a, why);
            set_state(a, AgentState::paused, "softphone not over TLS");
            return;
        }
        if (!b) {
            // Called as soon as it registers (registration_changed).
            protocol_.error(a,
                            "your softphone is not registered: it is called as soon as it "
                            "registers");
            if (a.state != AgentState::connecting) set_state(a, AgentState::connecting);
            return;
        }
        // Through a proxy: to the address the softphone's REGISTER reached the proxy from (the
        // proxy relays by the request URI), whose in-dialog requests come from the proxy.
        d.to = b->proxy.empty() ? b->uri : b->target;
        d.next_hop = b->next_hop();
        d.peer = b->proxy.empty() ? b->source_ip : b->proxy_ip;
        a.leg_source = b->source_ip;
    } else {
        d.to = a.phone;
    }
    const auto port = env_.take_offer_port(config_.rtp_address, ports_);
    if (!port) {
        protocol_.error(a, "no free RTP port for the softphone leg");
        set_state(a, AgentState::paused, "no RTP port");
        return;
    }
    a.leg_port = *port;
    d.from = "sip:outpace@" + host_port(config_.sip_address, config_.sip_port);
    // SRTP when the leg travels over TLS (the keys must not travel in clear), unless the
    // agents file turns it off for this phone.
    a.leg_key.reset();
    if (a.srtp != AgentSrtp::off && sip::over_tls(d.next_hop.empty() ? d.to : d.next_hop))
        a.leg_key = media::new_srtp_key();
    d.sdp = media::make_offer(config_.rtp_address, *port, 1, a.leg_key ? &*a.leg_key : nullptr);
    a.leg = sip_ ? sip_->invite(d) : 0;
    if (!a.leg) {
        ports_.give(a.leg_port);
        a.leg_port = 0;
        set_state(a, AgentState::paused, "the SIP stack refused to call " + phone_label(a));
        return;
    }
    legs_[a.leg] = &a;
}

bool AgentPool::leg_answered(sip::CallId id, const std::string& sdp) {
    if (auto x = externals_.find(id); x != externals_.end()) {
        external_answered(x->second, sdp);
        return true;
    }
    auto it = legs_.find(id);
    if (it == legs_.end()) return false;
    Agent& a = *it->second;
    std::string error;
    auto remote = media::parse_answer(sdp);
    // An encrypted offer takes an encrypted answer; a plain one a plain answer.
    if (remote.ok() && a.leg_key && !remote.srtp)
        remote.error =
            "its answer is plain RTP, and SRTP was offered (a softphone over TLS "
            "must take SRTP; set 'srtp: off' for this agent in the agents file if "
            "it cannot)";
    else if (remote.ok() && !a.leg_key && remote.secure)
        remote.error = "its answer is RTP/SAVP, and plain RTP was offered";
    if (a.registered && remote.ok()) {
        // Behind NAT the SDP names a private address: media goes back where the softphone's
        // SIP came from, to the port its RTP comes from (symmetric RTP, as softphones do).
        remote.address = a.leg_source;
        remote.latch = true;
    }
    a.rtp = env_.open_audio(config_.rtp_address, ports_, &error, a.leg_port);
    a.leg_port = 0;
    if (a.rtp && !remote.ok())
        error = "the softphone's answer has no usable audio: " + remote.error;
    if (a.rtp && remote.ok() && a.leg_key && !a.rtp->use_srtp(*a.leg_key, *remote.srtp))
        error = "the softphone's SRTP key cannot be used";
    if (!a.rtp || !remote.ok() || !error.empty() || !a.rtp->set_remote(remote)) {
        if (error.empty()) error = "the softphone's audio address cannot be used";
        engine_log("agent " + a.id + ": softphone answered, but " + error);
        a.rtp.reset();
        if (sip_) sip_->hangup(a.leg);
        protocol_.error(a, error);
        set_state(a, AgentState::paused, "softphone: " + error);
        return true;
    }
    Agent* raw = &a;
    a.rtp->on_audio([this, raw](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
        // A supervisor's voice goes to the call it monitors (heard as its mode says).
        if (raw->guest_of) {
            room_input(raw->guest_of, raw, pcm);
            return;
        }
        // The agent's voice to the customer, as it arrives: the relay adds no buffering.
        Call* c = raw->customer ? host_.find_call(raw->customer) : nullptr;
        if (!c || c->state() != Call::State::connected) return;
        if (room_input(c->id(), raw, pcm)) return;  // a monitored call: through its room
        c->send_to_customer(pcm);
        relayed(raw->rtp->arrived());
    });
    a.rtp->on_digit([this, raw](char key) {
        // The agent's keys to the customer (an IVR the agent reached).
        Call* c = raw->customer ? host_.find_call(raw->customer) : nullptr;
        if (c && c->state() == Call::State::connected && c->agent() == raw)
            c->send_keys(std::string(1, key));
    });
    engine_log("agent " + a.id + ": softphone answered" +
               (a.rtp->encrypted() ? " (SRTP over TLS)" : ""));
    if (a.want_ready) {
        a.want_ready = false;
        set_state(a, AgentState::ready);
    } else {
        set_state(a, AgentState::paused, "logged in");
    }
    return true;
}

bool AgentPool::leg_failed(sip::CallId id, int status, const std::string& phrase) {
    if (auto x = externals_.find(id); x != externals_.end()) {
        // A number outside that never answered (busy, no such number, cancelled): the agent
        // who asked is back with the customer.
        const std::string number = x->second.number, agent = x->second.agent;
        if (x->second.port) ports_.give(x->second.port);
        externals_.erase(x);
        if (Agent* a = find_agent(agent); a && a->transfer && a->transfer->leg == id) {
            a->transfer->leg = 0;
            drop_transfer(*a, "failed", number + ": " + std::to_string(status) + " " + phrase);
        }
        return true;
    }
    auto it = legs_.find(id);
    if (it == legs_.end()) return false;
    Agent& a = *it->second;
    legs_.erase(it);
    a.leg = 0;
    if (a.leg_port) ports_.give(a.leg_port);
    a.leg_port = 0;
    a.want_ready = false;
    const std::string why =
        "cannot reach " + phone_label(a) + ": " + std::to_string(status) + " " + phrase;
    engine_log("agent " + a.id + ": " + why);
    protocol_.error(a, why);
    set_state(a, AgentState::paused, "softphone unreachable");
    return true;
}

// The softphone hung up (or its leg failed mid-shift). A customer talking to this agent is never
// left in silence: another ready agent takes the call, or the safe-harbor message ends it.
bool AgentPool::leg_ended(sip::CallId id) {
    if (auto x = externals_.find(id); x != externals_.end()) {
        // The number outside hung up. With the customer alone (no agent left), the call ends:
        // nobody is left in silence; in a consult or conference, the agent has the customer.
        x->second.over = true;  // its leg is over: nothing to hang up
        const std::string number = x->second.number, agent = x->second.agent;
        const bool alone = x->second.mode == "talk";
        Call* c = host_.find_call(x->second.call);
        Agent* a = find_agent(agent);
        if (a && a->transfer && a->transfer->leg == id) {
            a->transfer->leg = 0;
            end_external(id, c, number + " hung up");
            drop_transfer(*a, "cancelled", number + " hung up");
        } else {
            end_external(id, c, number + " hung up");
        }
        if (alone && c && c->state() == Call::State::connected && !c->agent()) c->end("engine");
        return true;
    }
    auto it = legs_.find(id);
    if (it == legs_.end()) return false;
    Agent& a = *it->second;
    legs_.erase(it);
    a.leg = 0;
    a.rtp.reset();
    engine_log("agent " + a.id + ": softphone leg ended");
    stop_monitor(a, "your softphone hung up");
    if (Call* g = a.guest_of ? host_.find_call(a.guest_of) : nullptr)
        end_consult(a, *g, a.id + "'s softphone hung up");
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    if (c && a.transfer && !a.transfer->found.empty() && c->state() == Call::State::connected) {
        // The customer goes on with the agent being consulted.
        complete_transfer(a);
        return true;
    }
    a.transfer.reset();
    if (c && c->state() == Call::State::connected) {
        if (Agent* other = longest_ready(c->run())) {
            a.customer = 0;
            c->attempt().notes += "agent " + a.id + " softphone dropped; ";
            protocol_.hangup(a, {.attempt = c->attempt().id,
                                 .by = "softphone",
                                 .talk_s = std::nullopt,
                                 .outcome = std::nullopt,
                                 .sip_code = std::nullopt});
            c->forget_agent();
            connect(*c, *other);
            set_state(a, AgentState::paused, "softphone disconnected");
        } else {
            // The agent wraps the conversation up; the customer hears the message and goes.
            end_monitors(*c, "the agent's softphone dropped");
            c->release_after_agent_lost();
            start_wrapup(a, *c);
        }
        return true;
    }
    if (a.state == AgentState::ready || a.state == AgentState::connecting)
        set_state(a, AgentState::paused, "softphone disconnected");
    return true;
}

// ---- Routing -----------------------------------------------------------------------------------

void AgentPool::route(Call& c) {
    if (c.preview()) {
        connect(c, *c.agent());  // the agent who dialled it is listening already
        return;
    }
    if (Agent* a = longest_ready(c.run())) {
        connect(c, *a);
        return;
    }
    c.wait_for_agent();
    waiting_.push_back(c.id());
}

bool AgentPool::take_machine(Call& c) {
    Agent* a = longest_ready(c.run());
    if (a) connect(c, *a);
    return a != nullptr;
}

void AgentPool::connect(Call& c, Agent& a) {
    const auto t = now();
    CampaignRun& run = c.run();
    if (a.state == AgentState::ready)
        run.metrics().agent_wait->Observe(seconds_between(a.since, t));
    c.connect(a);
    a.customer = c.id();
    a.talk_since_ms = env_.clock().wall_ms();
    const double ms = std::chrono::duration<double, std::milli>(t - c.verdict_at()).count();
    protocol_.offer(a, offer_for(c));
    set_state(a, AgentState::talking);
    assign(a);  // the campaign its next work goes to
    protocol_.connected(a, c.attempt().id, ms);
    protocol_.call_connected(run.name(), c.attempt().id, a.id, ms);
}

// The screen pop: the contact's fields (the campaign's screen_pop_fields, or all of them).
OfferView AgentPool::offer_for(Call& c) {
    CampaignRun& run = c.run();
    OfferView offer;
    offer.attempt = c.attempt().id;
    offer.campaign = &run.campaign();
    offer.phone = c.attempt().number();
    offer.amd = c.attempt().amd_verdict;
    offer.verdict_at = c.verdict_at();
    const auto& only = run.campaign().screen_pop_fields;
    if (auto contact = store_.contact(run.name(), c.attempt().phone)) {
        for (const auto& [k, v] : contact->fields)
            if (only.empty() || std::find(only.begin(), only.end(), k) != only.end())
                offer.fields.emplace_back(k, v);
        offer.history = history(run, *contact, c.attempt().id);
        offer.zones = c.attempt().zones.empty() ? contact->zones : c.attempt().zones;
        offer.phone_label = c.attempt().number_label.empty()
                                ? outpace::phone_label(run.campaign(), *contact)
                                : c.attempt().number_label;
    }
    return offer;
}

// Live answers waiting for an agent, oldest first, go to agents who are ready now.
void AgentPool::route_waiting() {
    if (waiting_.empty()) return;
    std::vector<sip::CallId> still;
    for (auto id : waiting_) {
        Call* c = host_.find_call(id);
        if (!c || c->state() != Call::State::waiting_for_agent) continue;
        if (Agent* a = longest_ready(c->run()))
            connect(*c, *a);
        else
            still.push_back(id);
    }
    waiting_ = std::move(still);
}

// Live answers whose 2-second deadline passed with no agent: the safe-harbor message, abandoned.
void AgentPool::expire_waiting() {
    if (waiting_.empty()) return;
    const auto t = now();
    std::vector<sip::CallId> still;
    for (auto id : waiting_) {
        Call* c = host_.find_call(id);
        if (!c || c->state() != Call::State::waiting_for_agent) continue;
        if (t >= c->connect_deadline())
            c->abandon("no agent within the connect grace; ");
        else
            still.push_back(id);
    }
    waiting_ = std::move(still);
}

bool AgentPool::relay_to_agent(Call& c, std::span<const std::int16_t> pcm, SteadyTime arrived) {
    if (room_input(c.id(), nullptr, pcm)) return true;  // a room: monitored, or more parties
    Agent* a = c.agent();
    if (!a || !a->rtp) return false;
    if (a->keys && a->keys->busy()) return true;  // a key of the customer's is being played
    a->rtp->send(pcm);
    relayed(arrived);
    return true;
}

void AgentPool::relayed(SteadyTime arrived) {
    // Measured on the real clock: the packet's kernel timestamp is real time.
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - arrived)
            .count();
    for (double seen = relay_max_us_.load(std::memory_order_relaxed);
         us > seen && !relay_max_us_.compare_exchange_weak(seen, us, std::memory_order_relaxed);) {
    }
    metrics_.relay_latency().Observe(us / 1e6);
    // 10 µs bins up to 10 ms, then 1 ms bins up to a second.
    const double v = std::max(0.0, us);
    const auto bin = v < 10'000 ? static_cast<std::size_t>(v / 10)
                                : 1000 + static_cast<std::size_t>((v - 10'000) / 1000);
    relay_bins_[std::min(bin, relay_bins_.size() - 1)].fetch_add(1, std::memory_order_relaxed);
}

void AgentPool::lend_conversations() {
    if (!media_ || media_->size() == 0) return;
    for (auto& [id, a] : agents_) {
        if (!a->rtp || !a->customer || a->guest_of || (a->keys && a->keys->busy())) continue;
        Call* c = host_.find_call(a->customer);
        if (!c || c->agent() != a.get() || c->media_lent() || rooms_.count(c->id())) continue;
        const bool outside = std::any_of(externals_.begin(), externals_.end(),
                                         [&](const auto& x) { return x.second.call == c->id(); });
        if (outside) continue;
        if (media::MediaWorker* w = media_->least_busy())
            c->lend_media(*media_, *w, *a->rtp, [this](SteadyTime at) { relayed(at); });
    }
}

RelayFigures AgentPool::relay_figures() const {
    RelayFigures f;
    if (media_) {
        f.workers = media_->size();
        f.lent = media_->lent;
        f.on_workers = static_cast<std::size_t>(media_->lent - media_->homed);
        f.listened = media_->listens;
        f.listening = static_cast<std::size_t>(media_->listens - media_->listens_homed);
    }
    std::array<std::uint64_t, 1991> bins;
    for (std::size_t i = 0; i < bins.size(); ++i)
        f.packets += bins[i] = relay_bins_[i].load(std::memory_order_relaxed);
    if (!f.packets) return f;
    auto at = [&](double q) {
        const auto want = static_cast<std::uint64_t>(q * static_cast<double>(f.packets - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bins.size(); ++i)
            if ((seen += bins[i]) >= want)
                return i < 1000 ? (static_cast<double>(i) + 0.5) * 10
                                : 10'000 + (static_cast<double>(i - 1000) + 0.5) * 1000;
        return relay_max_us_.load(std::memory_order_relaxed);
    };
    f.p50_us = at(0.5);
    f.p99_us = at(0.99);
    f.max_us = relay_max_us_.load(std::memory_order_relaxed);
    return f;
}

}  // namespace outpace
