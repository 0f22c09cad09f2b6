// How a live answer reaches an agent: which agents serve a campaign, the softphone leg kept up for
// each agent's shift, connecting a customer to the longest-ready agent within the 2-second rule
// (or the safe-harbor message), the media relay and its figures, and the campaigns' status.
#include <algorithm>

#include "dialer/engine/engine.h"
#include "dialer/engine/engine_parts.h"
#include "dialer/media/sdp.h"

namespace outpace {
namespace {

using nlohmann::json;

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

bool Engine::serves(const Agent& a, const Run& run) const {
    if (!a.campaigns.empty() &&
        std::find(a.campaigns.begin(), a.campaigns.end(), run.campaign.name) == a.campaigns.end())
        return false;
    if (run.campaign.skills.empty()) return true;
    for (const auto& s : run.campaign.skills)
        if (std::find(a.skills.begin(), a.skills.end(), s) != a.skills.end()) return true;
    return false;
}

Engine::Agent* Engine::longest_ready(const Run& run) {
    Agent* best = nullptr;
    for (auto& [id, a] : agents_)
        if (a->state == AgentState::ready && a->rtp && serves(*a, run) &&
            (!best || a->since < best->since))
            best = a.get();
    return best;
}

void Engine::fill_agent_view(const Run& run, pacing::Snapshot& s) const {
    const auto now = SteadyClock::now();
    for (const auto& [id, a] : agents_) {
        if (!serves(*a, run)) continue;
        pacing::AgentView v;
        v.in_state_s = std::chrono::duration<double>(now - a->since).count();
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

// ---- The softphone leg -------------------------------------------------------------------------

void Engine::dial_leg(Agent& a) {
    const auto port = ports_.take();
    if (!port) {
        send_agent(a, {{"type", "error"}, {"reason", "no free RTP port for the softphone leg"}});
        set_state(a, AgentState::paused, "no RTP port");
        return;
    }
    a.leg_port = *port;
    sip::Dial d;
    d.to = a.phone;
    d.from = "sip:outpace@" + host_port(config_.sip_address, config_.sip_port);
    d.sdp = media::make_offer(config_.rtp_address, *port, 1);
    a.leg = sip_->invite(d);
    if (!a.leg) {
        ports_.give(a.leg_port);
        a.leg_port = 0;
        set_state(a, AgentState::paused, "the SIP stack refused to call " + a.phone);
        return;
    }
    legs_[a.leg] = &a;
}

void Engine::leg_answered(Agent& a, const std::string& sdp) {
    std::string error;
    const auto remote = media::parse_answer(sdp);
    a.rtp = media::RtpSession::open(loop_, config_.rtp_address, ports_, &error, a.leg_port);
    a.leg_port = 0;
    if (a.rtp && !remote.ok())
        error = "the softphone's answer has no usable audio: " + remote.error;
    if (!a.rtp || !remote.ok() || !a.rtp->set_remote(remote)) {
        a.rtp.reset();
        sip_->hangup(a.leg);
        send_agent(a, {{"type", "error"}, {"reason", error}});
        set_state(a, AgentState::paused, "softphone: " + error);
        return;
    }
    Agent* raw = &a;
    a.rtp->on_audio([this, raw](std::span<const std::int16_t> pcm, milliseconds) {
        // The agent's voice to the customer, as it arrives: the relay adds no buffering.
        auto it = calls_.find(raw->customer);
        if (it == calls_.end() || it->second->state != Call::State::connected) return;
        Call& c = *it->second;
        c.rtp->send(pcm);
        relayed(raw->rtp->arrived());
        if (c.recorder) c.recorder->tick(pcm);
    });
    engine_log("agent " + a.id + ": softphone answered");
    if (a.want_ready) {
        a.want_ready = false;
        set_state(a, AgentState::ready);
    } else {
        set_state(a, AgentState::paused, "logged in");
    }
}

void Engine::leg_failed(Agent& a, int status, const std::string& phrase) {
    legs_.erase(a.leg);
    a.leg = 0;
    if (a.leg_port) ports_.give(a.leg_port);
    a.leg_port = 0;
    a.want_ready = false;
    const std::string why =
        "cannot reach the softphone " + a.phone + ": " + std::to_string(status) + " " + phrase;
    engine_log("agent " + a.id + ": " + why);
    send_agent(a, {{"type", "error"}, {"reason", why}});
    set_state(a, AgentState::paused, "softphone unreachable");
}

// The softphone hung up (or its leg failed mid-shift). A customer talking to this agent is never
// left in silence: another ready agent takes the call, or the safe-harbor message ends it.
void Engine::leg_ended(Agent& a) {
    legs_.erase(a.leg);
    a.leg = 0;
    a.rtp.reset();
    engine_log("agent " + a.id + ": softphone leg ended");
    auto it = calls_.find(a.customer);
    if (it != calls_.end() && it->second->state == Call::State::connected) {
        Call& c = *it->second;
        Agent* other = longest_ready(*c.run);
        if (other) {
            a.customer = 0;
            c.attempt.notes += "agent " + a.id + " softphone dropped; ";
            send_agent(a, {{"type", "hangup"}, {"attempt", c.attempt.id}, {"by", "softphone"}});
            c.agent = nullptr;
            connect(c, *other);
            set_state(a, AgentState::paused, "softphone disconnected");
        } else {
            // The agent wraps the conversation up; the customer hears the message and is released.
            c.attempt.notes += "agent softphone dropped; ";
            c.attempt.talk_ms = ms_between(c.connected_at, SteadyClock::now());
            c.attempt.outcome = Outcome::connected;
            c.attempt.sip_code = 200;
            c.attempt.ended_ms = unix_ms(std::chrono::system_clock::now());
            c.agent = nullptr;
            c.wrapped = true;
            start_wrapup(a, c);
            if (c.run->safe_harbor.empty())
                hang_up(c);
            else
                play(c, &c.run->safe_harbor);
        }
        return;
    }
    if (a.state == AgentState::ready || a.state == AgentState::connecting)
        set_state(a, AgentState::paused, "softphone disconnected");
}

// ---- Routing -----------------------------------------------------------------------------------

void Engine::connect(Call& c, Agent& a) {
    const auto now = SteadyClock::now();
    Run& run = *c.run;
    const bool handed_over =
        c.state == Call::State::connected;  // from an agent whose phone dropped
    if (a.state == AgentState::ready)
        run.m->agent_wait->Observe(std::chrono::duration<double>(now - a.since).count());
    c.agent = &a;
    c.state = Call::State::connected;
    c.outcome = Outcome::connected;
    c.attempt.agent = a.id;
    a.customer = c.sip;
    const double ms = std::chrono::duration<double, std::milli>(now - c.verdict_at).count();
    if (!handed_over) {
        c.connected_at = now;
        ++run.status.connected;
        decided(c, Outcome::connected);
    }
    // The screen pop: the contact's fields (the campaign's screen_pop_fields, or all of them).
    json fields = json::object();
    if (auto contact = store_.contact(run.campaign.name, c.attempt.phone)) {
        for (const auto& [k, v] : contact->fields)
            if (run.campaign.screen_pop_fields.empty() ||
                std::find(run.campaign.screen_pop_fields.begin(),
                          run.campaign.screen_pop_fields.end(),
                          k) != run.campaign.screen_pop_fields.end())
                fields[k] = v;
    }
    json dispositions = json::array();
    for (const auto& d : run.campaign.dispositions)
        dispositions.push_back(
            {{"code", d.code}, {"label", d.label}, {"callback", d.callback}, {"dnc", d.dnc}});
    json offer = {{"type", "offer"},
                  {"attempt", c.attempt.id},
                  {"campaign", run.campaign.name},
                  {"phone", c.attempt.phone},
                  {"fields", fields},
                  {"script", run.campaign.script},
                  {"amd", c.attempt.amd_verdict},
                  {"dispositions", dispositions},
                  // CLOCK_MONOTONIC at the verdict: a desktop on the same host can time its
                  // screen pop from it.
                  {"verdict_clock_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                           c.verdict_at.time_since_epoch())
                                           .count()}};
    if (run.campaign.kind == CampaignKind::survey) {
        // An agent-led survey: the questions to read, their answers and where each leads.
        json questions = json::array();
        for (const auto& q : run.campaign.survey_questions)
            questions.push_back(
                {{"id", q.id}, {"text", q.text}, {"answers", q.digits}, {"next", q.next}});
        offer["survey"] = questions;
    }
    send_agent(a, offer);
    set_state(a, AgentState::talking);
    send_agent(a, {{"type", "connected"}, {"attempt", c.attempt.id}, {"connect_ms", ms}});
    if (agent_channel_)
        agent_channel_->publish("call." + run.campaign.name, {{"event", "connected"},
                                                              {"campaign", run.campaign.name},
                                                              {"attempt", c.attempt.id},
                                                              {"agent", a.id},
                                                              {"connect_ms", ms}});
}

// Live answers waiting for an agent, oldest first, go to agents who are ready now.
void Engine::route_waiting() {
    if (waiting_.empty()) return;
    std::vector<sip::CallId> still;
    for (auto id : waiting_) {
        auto it = calls_.find(id);
        if (it == calls_.end() || it->second->state != Call::State::waiting_for_agent) continue;
        Call& c = *it->second;
        if (Agent* a = longest_ready(*c.run)) {
            --c.run->status.waiting;
            connect(c, *a);
        } else {
            still.push_back(id);
        }
    }
    waiting_ = std::move(still);
}

// Live answers whose 2-second deadline passed with no agent: the safe-harbor message, abandoned
// (every media tick).
void Engine::expire_waiting() {
    if (waiting_.empty()) return;
    const auto now = SteadyClock::now();
    std::vector<sip::CallId> still;
    for (auto id : waiting_) {
        auto it = calls_.find(id);
        if (it == calls_.end() || it->second->state != Call::State::waiting_for_agent) continue;
        if (now >= it->second->connect_deadline) {
            --it->second->run->status.waiting;
            it->second->attempt.notes += "no agent within the connect grace; ";
            abandon(*it->second);
        } else {
            still.push_back(id);
        }
    }
    waiting_ = std::move(still);
}

void Engine::relayed(SteadyClock::time_point arrived) {
    const double us =
        std::chrono::duration<double, std::micro>(SteadyClock::now() - arrived).count();
    relay_max_us_ = std::max(relay_max_us_, us);
    metrics_.relay_latency().Observe(us / 1e6);
    // 10 µs bins up to 10 ms, then 1 ms bins up to a second.
    const double v = std::max(0.0, us);
    const auto bin = v < 10'000 ? static_cast<std::size_t>(v / 10)
                                : 1000 + static_cast<std::size_t>((v - 10'000) / 1000);
    ++relay_bins_[std::min(bin, relay_bins_.size() - 1)];
}

RelayFigures Engine::relay_figures() const {
    RelayFigures f;
    for (auto n : relay_bins_) f.packets += n;
    if (!f.packets) return f;
    auto at = [&](double q) {
        const auto want = static_cast<std::uint64_t>(q * static_cast<double>(f.packets - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < relay_bins_.size(); ++i)
            if ((seen += relay_bins_[i]) >= want)
                return i < 1000 ? (static_cast<double>(i) + 0.5) * 10
                                : 10'000 + (static_cast<double>(i - 1000) + 0.5) * 1000;
        return relay_max_us_;
    };
    f.p50_us = at(0.5);
    f.p99_us = at(0.99);
    f.max_us = relay_max_us_;
    return f;
}

static_assert(static_cast<std::size_t>(AgentState::wrapup) + 1 == metrics::kAgentStates.size());

std::array<long, metrics::kAgentStates.size()> Engine::agent_counts(const Run& run) const {
    std::array<long, metrics::kAgentStates.size()> n{};
    for (const auto& [id, a] : agents_)
        if (serves(*a, run)) ++n[static_cast<std::size_t>(a->state)];
    return n;
}

std::vector<CampaignStatus> Engine::status() const {
    std::vector<CampaignStatus> out;
    for (const auto& run : runs_) {
        CampaignStatus s = run->status;
        if (!store_stall_.ok() && s.state == "running")
            s.state = store_stall_.no_space ? "stalled: disk full" : "stalled: store error";
        const auto n = agent_counts(*run);
        auto count = [&](AgentState st) { return n[static_cast<std::size_t>(st)]; };
        s.agents_ready = count(AgentState::ready);
        s.agents_talking = count(AgentState::talking) + count(AgentState::reserved);
        s.agents_wrapup = count(AgentState::wrapup);
        s.agents_paused = count(AgentState::paused) + count(AgentState::connecting);
        s.heard_ms_median = percentile(run->connect_ms, 0.5);
        s.heard_ms_p99 = percentile(run->connect_ms, 0.99);
        out.push_back(s);
    }
    return out;
}

}  // namespace outpace
