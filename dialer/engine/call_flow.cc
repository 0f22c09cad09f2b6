// A call's way through the engine: the INVITE with our offer, ringing, the answer and its RTP,
// answering-machine detection and what its verdict asks for (prompts, hang-up), and the outcome
// recorded when the call ends.
#include <algorithm>

#include "dialer/engine/engine.h"
#include "dialer/engine/engine_parts.h"
#include "dialer/media/sdp.h"

namespace outpace {
namespace {

// Final SIP responses as attempt outcomes. A trunk's own trouble (503, no response, refused
// credentials) is a carrier error: it must not burn the contact's retries.
Outcome outcome_for(int status, bool local, bool cancelled_by_us) {
    if (cancelled_by_us && status == 487) return Outcome::no_answer;
    if (local) return Outcome::carrier_error;
    switch (status) {
        case 486:
        case 600:
            return Outcome::busy;
        case 404:
        case 484:
        case 604:
            return Outcome::invalid;
        case 480:
        case 408:
        case 487:
            return Outcome::no_answer;
        case 401:
        case 407:
        case 503:
            return Outcome::carrier_error;
        default:
            return Outcome::failed;
    }
}

}  // namespace

void Engine::originate(Run& run, Attempt attempt) {
    const auto now = SteadyClock::now();
    Trunk& trunk = *run.trunk;
    auto call = std::make_unique<Call>();
    call->run = &run;
    call->attempt = std::move(attempt);
    call->invited = now;
    std::string error;
    // The port is only reserved now and bound when the call is answered: a ringing call holds
    // no socket, so tens of thousands can ring at once within the process's file limit. A port
    // another program holds now is skipped (it goes back to the far end of the pool, so one
    // pass over the pool visits each port once).
    auto port = ports_.take();
    for (std::size_t tries = ports_.free();
         port && tries > 0 && !media::port_bindable(config_.rtp_address, *port); --tries) {
        ports_.give(*port);
        port = ports_.take();
    }
    sip::CallId id = 0;
    if (!port) {
        error = "no free RTP port in the configured range";
    } else {
        call->rtp_port = *port;
        sip::Dial d;
        d.to = "sip:" + call->attempt.phone + "@" +
               host_port(trunk.config->host, trunk.config->port) +
               (trunk.config->transport == "tcp" ? ";transport=tcp" : "");
        d.from = "sip:" + run.caller_id + "@" + host_port(config_.sip_address, config_.sip_port);
        d.sdp = media::make_offer(config_.rtp_address, *port, call->attempt.id);
        d.user = trunk.config->username;
        d.password = trunk.config->password;
        id = sip_->invite(d);
        if (!id) error = "the SIP stack refused the call";
    }
    if (!id) {
        // Our own trouble, not the contact's: completed as a carrier error, retried later.
        engine_log(run.campaign.name + ": cannot place a call: " + error);
        call->attempt.outcome = Outcome::carrier_error;
        call->attempt.notes = error;
        call->attempt.ended_ms = unix_ms(std::chrono::system_clock::now());
        run.completed.push_back(call->attempt);
        ++run.status.carrier_errors;
        if (call->rtp_port) ports_.give(call->rtp_port);
        return;
    }
    call->sip = id;
    run.m->dials->Increment();
    ++trunk.in_progress;
    trunk.recent_dials.push_back(now);
    ++run.status.dialled;
    ++run.status.in_progress;
    calls_.emplace(id, std::move(call));
}

void Engine::on_progress(sip::CallId id, int) {
    if (auto it = calls_.find(id); it != calls_.end()) it->second->rang = true;
}

// The SIP stack's events are for customers' calls or agents' softphone legs.

void Engine::on_answered(sip::CallId id, const std::string& sdp) {
    if (auto leg = legs_.find(id); leg != legs_.end()) {
        leg_answered(*leg->second, sdp);
        return;
    }
    auto it = calls_.find(id);
    if (it == calls_.end()) {
        sip_->hangup(id);  // an agent logged out while its softphone was still ringing
        return;
    }
    Call& c = *it->second;
    c.answered_at = SteadyClock::now();
    c.attempt.ring_ms = ms_between(c.invited, c.answered_at);
    ++c.run->status.answered;
    metrics_.sip_response(c.run->trunk->config->name, 200);
    const auto remote = media::parse_answer(sdp);
    std::string error;
    c.rtp = media::RtpSession::open(loop_, config_.rtp_address, ports_, &error, c.rtp_port);
    c.rtp_port = 0;  // the session owns it now
    if (!c.rtp) {
        // Another program took the offered port between the INVITE and the answer. The callee
        // may be a person: never a silent hang-up. Speak from any free port (carriers take
        // media from where it comes), and count an abandoned live answer: nothing of the callee
        // can be heard, so nobody can be connected.
        c.attempt.notes = "the offered RTP port could not be bound (" + error +
                          "): the callee could not be heard; ";
        engine_log(c.run->campaign.name + ": " + c.attempt.notes);
        c.rtp = media::RtpSession::open(loop_, config_.rtp_address, ports_, &error);
        if (c.rtp && remote.ok()) c.rtp->set_remote(remote);
        count_live(*c.run);
        c.outcome = Outcome::abandoned;
        count_abandoned(*c.run);
        decided(c, Outcome::abandoned);
        if (c.rtp && !c.run->safe_harbor.empty())
            play(c, &c.run->safe_harbor);
        else
            hang_up(c);
        return;
    }
    Call* raw = &c;
    c.rtp->on_audio([this, raw](std::span<const std::int16_t> pcm, milliseconds at) {
        on_audio(*raw, pcm, at);
    });
    if (!remote.ok() || !c.rtp->set_remote(remote)) {
        c.outcome = Outcome::failed;
        c.attempt.notes = "unusable SDP answer: " + remote.error;
        hang_up(c);
        return;
    }
    if (c.run->campaign.record_calls) {
        const auto path = c.run->campaign.resolve_path(c.run->campaign.recording_folder) + "/" +
                          c.run->campaign.name + "/" + std::to_string(c.attempt.id) + ".wav";
        c.recorder = media::Recorder::create(path, &error);
        if (!c.recorder) engine_log(c.run->campaign.name + ": not recording: " + error);
    }
    if (c.preview) {
        // The agent dialled this one and is listening already: no detection, no wait.
        c.verdict_at = SteadyClock::now();
        c.attempt.amd_verdict = "";
        count_live(*c.run);
        if (c.agent)
            connect(c, *c.agent);
        else
            abandon(c);
    } else if (c.run->campaign.amd_enabled) {
        c.amd = std::make_unique<amd::Detector>(c.run->amd);
        c.state = Call::State::analysing;
    } else {
        c.attempt.amd_verdict = "";
        connect_or_abandon(c, "human");
    }
}

void Engine::on_audio(Call& c, std::span<const std::int16_t> pcm, milliseconds at) {
    if (c.recorder && c.state != Call::State::hanging_up) c.recorder->heard(pcm);
    if (c.state == Call::State::surveying) {
        if (c.dtmf) c.dtmf->feed(pcm);  // keys as tones, when the phone sends no events
        return;
    }
    if (c.state == Call::State::connected) {
        // The customer's voice to the agent, as it arrives: the relay adds no buffering.
        if (c.agent && c.agent->rtp) {
            c.agent->rtp->send(pcm);
            relayed(c.rtp->arrived());
            if (!c.heard_by_agent) {
                // The agent hears the customer from now: the connect time the 2-second rule cares
                // about, measured from the human verdict.
                c.heard_by_agent = true;
                const double ms =
                    std::chrono::duration<double, std::milli>(SteadyClock::now() - c.verdict_at)
                        .count();
                c.run->connect_ms.push_back(ms);
                c.run->m->connect->Observe(ms / 1000);
                if (c.run->connect_ms.size() > 100'000)
                    c.run->connect_ms.erase(c.run->connect_ms.begin(),
                                            c.run->connect_ms.begin() + 50'000);
            }
        }
        return;
    }
    if (!c.amd || (c.state != Call::State::analysing && c.state != Call::State::waiting_for_beep))
        return;
    if (!c.audio_offset)
        c.audio_offset = milliseconds(ms_between(c.answered_at, SteadyClock::now()));
    const auto events = c.amd->feed(pcm, at + *c.audio_offset);
    for (const auto& e : events) {
        if (e.kind == amd::Event::Kind::verdict) {
            on_verdict(c, e);
        } else if (c.state == Call::State::waiting_for_beep) {
            // The beep ended (or the greeting did, without one): the message starts now.
            play(c, &c.run->machine_message);
        }
    }
}

void Engine::on_verdict(Call& c, const amd::Event& e) {
    if (c.state != Call::State::analysing) return;
    Run& run = *c.run;
    c.verdict_at = SteadyClock::now();
    c.attempt.amd_verdict = amd::to_string(e.verdict);
    c.attempt.amd_ms = e.at.count();
    c.attempt.notes = e.cause;
    const double ring_s = c.attempt.ring_ms / 1000.0;
    run.estimator.amd_decided(std::chrono::duration<double>(e.at).count());
    run.m->amd_decision->Observe(std::chrono::duration<double>(e.at).count());
    run.m->verdicts[static_cast<std::size_t>(e.verdict)]->Increment();
    switch (e.verdict) {
        case amd::Verdict::human:
            ++run.status.humans;
            run.estimator.dial_resolved(pacing::DialResult::live, ring_s);
            connect_or_abandon(c, "human");
            return;
        case amd::Verdict::machine:
            ++run.status.machines;
            run.estimator.dial_resolved(pacing::DialResult::machine, ring_s);
            c.outcome = Outcome::machine;
            if (run.campaign.on_machine == MachineAction::agent) {
                // An agent leaves the message in person, if one is ready now. A machine does not
                // wait for one (it is no abandon): without a ready agent it is released.
                if (Agent* a = longest_ready(run)) return connect(c, *a);
                count_machine_release(run);
                return hang_up(c);
            }
            count_machine_release(run);
            if (run.campaign.on_machine == MachineAction::leave_message &&
                !run.machine_message.empty()) {
                c.state = Call::State::waiting_for_beep;
                if (c.amd->finished()) play(c, &run.machine_message);
            } else {
                hang_up(c);
            }
            return;
        case amd::Verdict::fax:
            ++run.status.fax;
            run.estimator.dial_resolved(pacing::DialResult::fail, ring_s);
            c.outcome = Outcome::fax;
            hang_up(c);
            return;
        case amd::Verdict::unknown:
            ++run.status.unknown;
            run.estimator.dial_resolved(pacing::DialResult::live, ring_s);
            if (run.campaign.on_unknown == AmdAction::agent) {
                connect_or_abandon(c, "unknown");
            } else {
                c.outcome = Outcome::machine;
                count_machine_release(run);
                hang_up(c);
            }
            return;
    }
}

// A live answer: to the longest-ready agent now, or it waits for one until 2 s after the
// greeting's end (the verdict comes `after_greeting_silence` after it), then hears the
// safe-harbor message and counts as abandoned. Unattended lines have no agents to wait for.
void Engine::connect_or_abandon(Call& c, const char*) {
    Run& run = *c.run;
    count_live(run);
    if (run.ivr_survey) {
        start_survey(c);  // nobody to wait for: the IVR asks the questions
        return;
    }
    if (run.unattended > 0) {
        abandon(c);
        return;
    }
    if (Agent* a = longest_ready(run)) {
        connect(c, *a);
        return;
    }
    // The greeting ended `after_greeting_silence` before the verdict; the message must start
    // within the grace from there, with room for its first packet to reach the person.
    const auto left = std::chrono::duration_cast<milliseconds>(run.campaign.connect_grace) -
                      run.amd.after_greeting_silence - milliseconds(200);
    c.connect_deadline = SteadyClock::now() + std::max(milliseconds(0), left);
    c.state = Call::State::waiting_for_agent;
    ++run.status.waiting;
    waiting_.push_back(c.sip);
}

// The person hears the safe-harbor message (or, without one, the call ends) and the call counts
// as abandoned in the regulatory window.
void Engine::abandon(Call& c) {
    Run& run = *c.run;
    c.outcome = Outcome::abandoned;
    count_abandoned(run);
    decided(c, Outcome::abandoned);
    if (run.safe_harbor.empty())
        hang_up(c);
    else
        play(c, &run.safe_harbor);
}

// An outcome known while the call is still up goes to the ledger at the next tick, so that a
// crash before the call ends cannot turn an abandoned or connected person into a `lost` attempt
// (the abandon rate counts both).
void Engine::decided(Call& c, Outcome o) {
    c.attempt.decided = o;
    c.run->progress.push_back(c.attempt);
}

void Engine::play(Call& c, const std::vector<std::int16_t>* prompt) {
    c.prompt = prompt;
    c.prompt_pos = 0;
    c.state = Call::State::playing;
}

void Engine::on_media_tick(int, short, void* self) {
    auto* e = static_cast<Engine*>(self);
    static const std::int16_t kSilence[160] = {};
    std::vector<Call*> done;
    for (auto& [id, cp] : e->calls_) {
        Call& c = *cp;
        std::span<const std::int16_t> sent;
        if (c.state == Call::State::analysing || c.state == Call::State::waiting_for_beep ||
            c.state == Call::State::waiting_for_agent) {
            sent = kSilence;  // keeps NAT bindings open while we listen
        } else if (c.state == Call::State::surveying) {
            if (!e->survey_frame(c, sent)) {
                done.push_back(&c);
                continue;
            }
            if (c.state == Call::State::hanging_up) continue;
        } else if (c.state == Call::State::playing) {
            const auto& p = *c.prompt;
            if (c.prompt_pos >= p.size()) {
                done.push_back(&c);
                continue;
            }
            const std::size_t n = std::min<std::size_t>(160, p.size() - c.prompt_pos);
            std::copy_n(p.data() + c.prompt_pos, n, c.frame.begin());
            std::fill(c.frame.begin() + static_cast<std::ptrdiff_t>(n), c.frame.end(), 0);
            c.prompt_pos += n;
            sent = c.frame;
        } else {
            continue;
        }
        c.rtp->send(sent);
        if (c.recorder) c.recorder->tick(sent);
    }
    for (Call* c : done) e->hang_up(*c);
    e->expire_waiting();
    e->agents_tick();
}

void Engine::hang_up(Call& c) {
    if (c.state == Call::State::hanging_up) return;
    if (c.state == Call::State::connected)
        c.attempt.talk_ms = ms_between(c.connected_at, SteadyClock::now());
    if (c.state == Call::State::waiting_for_agent) {
        // Ended (the engine stopping) while the person waited: no agent came, so abandoned.
        --c.run->status.waiting;
        c.outcome = Outcome::abandoned;
        count_abandoned(*c.run);
        c.attempt.notes += "ended waiting for an agent; ";
    }
    c.state = Call::State::hanging_up;
    sip_->hangup(c.sip);
}

void Engine::on_failed(sip::CallId id, int status, const std::string& phrase, bool local) {
    if (auto leg = legs_.find(id); leg != legs_.end()) {
        leg_failed(*leg->second, status, phrase);
        return;
    }
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    Run& run = *c.run;
    Trunk& trunk = *run.trunk;
    // nua answers an INVITE nobody responded to with a 408 of its own: without even a ringing
    // response before it, that is the trunk's silence, not the callee's.
    if (!c.rang && status == 408) local = true;
    const Outcome o = outcome_for(status, local, c.cancelled);
    if (!local) metrics_.sip_response(trunk.config->name, status);
    if (o == Outcome::carrier_error)
        carrier_failed(trunk);
    else
        trunk.consecutive_errors = 0;
    const double ring_s = ms_between(c.invited, SteadyClock::now()) / 1000.0;
    if (o == Outcome::no_answer)
        run.estimator.dial_resolved(pacing::DialResult::no_answer, ring_s);
    else if (o != Outcome::carrier_error)
        run.estimator.dial_resolved(pacing::DialResult::fail, ring_s);
    c.attempt.ring_ms = ms_between(c.invited, SteadyClock::now());
    c.attempt.notes = c.rang ? phrase : phrase + " (no ringing response before it)";
    finish(c, o, status);
}

// The trunk failed a call (503, no response, no media): after three in a row it rests, doubling
// up to a minute, instead of burning the list against it; the first call that gets through
// (any other outcome) ends the backoff.
void Engine::carrier_failed(Trunk& trunk) {
    trunk.m->carrier_errors->Increment();
    if (++trunk.consecutive_errors >= 3) {
        const int doubling = std::min(6, trunk.consecutive_errors - 3);
        trunk.backoff_until = SteadyClock::now() + milliseconds(1000LL << doubling);
    }
}

void Engine::on_ended(sip::CallId id, bool by_remote) {
    if (auto leg = legs_.find(id); leg != legs_.end()) {
        leg_ended(*leg->second);
        return;
    }
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    if (by_remote)
        c.ended_by = "customer";
    else if (c.ended_by.empty())
        c.ended_by = "engine";
    if (c.state == Call::State::waiting_for_agent) {
        // Gone before an agent came: abandoned all the same (it was a live answer).
        --c.run->status.waiting;
        c.outcome = Outcome::abandoned;
        count_abandoned(*c.run);
        c.attempt.notes += "hung up waiting for an agent; ";
    }
    if (c.state == Call::State::connected)
        c.attempt.talk_ms = ms_between(c.connected_at, SteadyClock::now());
    Outcome o = c.outcome;
    if (o == Outcome::none) {
        // Hung up before a verdict: if someone spoke, they were not connected (count it).
        const bool spoke = c.amd && c.amd->heard_speech();
        o = spoke ? Outcome::abandoned : Outcome::failed;
        if (spoke) {
            count_live(*c.run);
            count_abandoned(*c.run);
        }
        c.attempt.notes = by_remote ? "callee hung up during analysis" : "ended during analysis";
    }
    finish(c, o, 200);
}

void Engine::finish(Call& c, Outcome o, int sip_code) {
    Run& run = *c.run;
    c.attempt.outcome = o;
    c.attempt.sip_code = sip_code;
    c.attempt.ended_ms = unix_ms(std::chrono::system_clock::now());
    run.m->outcomes[static_cast<std::size_t>(o)]->Increment();
    if (c.in_survey) {
        // The survey's length: the person's time on the line, closing prompt included.
        c.attempt.talk_ms = ms_between(c.connected_at, SteadyClock::now());
        --run.status.surveys;
        const bool complete = c.attempt.survey == "complete";
        ++(complete ? run.status.surveys_complete : run.status.surveys_incomplete);
        run.m->surveys[complete ? 0 : 1]->Increment();
    }
    if (c.rtp) {
        metrics_.rtp_packets_received().Increment(static_cast<double>(c.rtp->stats().packets_in));
        metrics_.rtp_packets_lost().Increment(static_cast<double>(c.rtp->stats().lost));
        metrics_.rtp_jitter().Observe(c.rtp->stats().jitter_ms / 1000);
    }
    if (c.agent && o == Outcome::connected && !c.wrapped) {
        start_wrapup(*c.agent, c);  // the disposition completes the attempt
    } else if (!c.wrapped) {
        run.completed.push_back(c.attempt);
        if (c.agent && c.preview) {
            // A preview call that never reached anyone: the agent moves on.
            Agent& a = *c.agent;
            a.customer = 0;
            send_agent(a, {{"type", "hangup"},
                           {"attempt", c.attempt.id},
                           {"outcome", to_string(o)},
                           {"sip_code", sip_code},
                           {"by", c.ended_by.empty() ? "customer" : c.ended_by}});
            after_wrapup(a);
        }
    }
    switch (o) {
        case Outcome::abandoned:
            ++run.status.abandoned;
            break;
        case Outcome::busy:
            ++run.status.busy;
            break;
        case Outcome::no_answer:
            ++run.status.no_answer;
            break;
        case Outcome::carrier_error:
            ++run.status.carrier_errors;
            break;
        case Outcome::failed:
            ++run.status.failed;
            break;
        case Outcome::invalid:
            ++run.status.invalid;  // as the ledger says: 404/484/604, final for the contact
            break;
        default:
            break;
    }
    if (c.rtp_port) ports_.give(c.rtp_port);
    if (c.rtp) {
        run.status.rtp_packets += static_cast<long>(c.rtp->stats().packets_in);
        run.status.rtp_lost += static_cast<long>(c.rtp->stats().lost);
    }
    --run.status.in_progress;
    --run.trunk->in_progress;
    calls_.erase(c.sip);
}

}  // namespace outpace
