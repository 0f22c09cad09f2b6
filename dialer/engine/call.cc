#include "dialer/engine/call.h"

#include <algorithm>

#include "dialer/engine/agent.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/engine/engine_util.h"
#include "dialer/media/sdp.h"

namespace outpace {
namespace {

// Final SIP responses as attempt outcomes (the table in docs/engine.md). A trunk's own trouble
// (its refusals and server errors, no response, refused credentials) is a carrier error: it must
// not burn the contact's retries. The telephone network's cause, when the carrier passes it on
// in a Reason header, says more than the SIP code the carrier chose for it.
Outcome outcome_for(const sip::Failure& f, bool cancelled_by_us) {
    if (cancelled_by_us && f.status == 487) return Outcome::no_answer;
    if (f.local) return Outcome::carrier_error;
    switch (f.q850_cause) {
        case 1:   // unallocated (unassigned) number
        case 28:  // invalid number format (incomplete number)
            return Outcome::invalid;
        case 17:  // user busy
            return Outcome::busy;
        case 18:  // no user responding
        case 19:  // no answer from user (user alerted)
            return Outcome::no_answer;
        case 21:  // call rejected
            return Outcome::declined;
        case 34:  // no circuit/channel available
        case 38:  // network out of order
        case 41:  // temporary failure
        case 42:  // switching equipment congestion
            return Outcome::carrier_error;
        default:
            break;
    }
    switch (f.status) {
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
        case 603:
        case 607:
            return Outcome::declined;
        case 401:
        case 403:
        case 407:
        case 500:
        case 502:
        case 503:
        case 504:
            return Outcome::carrier_error;
        default:
            return Outcome::failed;
    }
}

const std::int16_t kSilence[160] = {};

}  // namespace

Call::Call(CallContext& ctx, CampaignRun& run, Attempt attempt)
    : ctx_(ctx), run_(run), attempt_(std::move(attempt)), invited_(ctx.env.clock().now()) {}

Call::~Call() {
    if (rtp_port_) ctx_.ports.give(rtp_port_);
}

std::unique_ptr<Call> Call::place(CallContext& ctx, CampaignRun& run, Attempt attempt,
                                  std::string* error) {
    std::unique_ptr<Call> call(new Call(ctx, run, std::move(attempt)));
    // The port is only reserved now and bound when the call is answered: a ringing call holds
    // no socket, so tens of thousands can ring at once within the process's file limit.
    const auto port = ctx.env.take_offer_port(ctx.config.rtp_address, ctx.ports);
    if (!port) {
        *error = "no free RTP port in the configured range";
        return nullptr;
    }
    call->rtp_port_ = *port;
    Trunk* trunk = run.routes().pick(call->attempt_.number(), call->now(), {});
    if (!trunk) {
        *error = run.routes().serves(call->attempt_.number())
                     ? "no trunk of the campaign can take a call now"
                     : "no trunk of the campaign serves this number (dialing.trunks prefixes)";
        return nullptr;
    }
    if (run.caller_ids_left(ctx.env.clock().wall_ms()) <= 0) {
        *error = "every caller ID of the campaign's pool has reached its daily limit";
        return nullptr;
    }
    if (!call->invite_on(*trunk)) {
        *error = "the SIP stack refused the call";
        return nullptr;
    }
    return call;
}

void Call::address(sip::Dial& d, const Trunk& trunk, const sip::ServerTarget& at,
                   const std::string& number) {
    const TrunkConfig& tc = trunk.config();
    if (trunk.by_name()) {
        // The To header names the carrier's domain; the request goes to the address the lookup
        // chose, which is all Sofia is handed: it never resolves a name.
        d.to = "sip:" + number + "@" + tc.host + (tc.port ? ":" + std::to_string(tc.port) : "");
        d.request_uri =
            "sip:" + number + "@" + host_port(at.ip, at.port) + ";transport=" + at.transport;
        d.peer = at.ip;
        // Over TLS the carrier's certificate must name its domain, not the address.
        if (at.transport == "tls") d.tls_name = tc.tls_name.empty() ? tc.host : tc.tls_name;
    } else {
        d.to = "sip:" + number + "@" + host_port(tc.host, tc.port) +
               (tc.transport != "udp" ? ";transport=" + tc.transport : "");
        // The transport must be in the request URI: nua drops a To header's URI parameters
        // when it makes the request URI from it (a TCP or TLS trunk went out over UDP).
        if (tc.transport != "udp") {
            d.request_uri = d.to;
            d.peer = tc.host;
        }
        if (tc.transport == "tls") d.tls_name = tc.tls_name;
    }
}

std::optional<sip::Dial> Call::third_party_dial(const std::string& number,
                                                const std::string& sdp) const {
    if (!trunk_ || trunk_->config().srtp) return std::nullopt;
    sip::Dial d;
    address(d, *trunk_, target_, number);
    d.from = "sip:" + attempt_.caller_id + "@" +
             host_port(ctx_.config.sip_address, ctx_.config.sip_port);
    d.sdp = sdp;
    d.user = trunk_->config().username;
    d.password = trunk_->config().password;
    return d;
}

bool Call::invite_on(Trunk& trunk, const sip::ServerTarget* target) {
    const TrunkConfig& tc = trunk.config();
    if (!target)
        target = trunk.pick_target(
            now(), &trunk == trunk_ ? tried_targets_ : std::vector<sip::ServerTarget>{});
    if (!target) return false;
    const sip::ServerTarget at = *target;
    sip::Dial d;
    address(d, trunk, at, attempt_.number());
    // The caller ID: a pool's number is chosen once per call (it stays on every trunk the call
    // moves to, and counts once against its daily limit); else the campaign's or the trunk's.
    if (run_.has_caller_id_pool()) {
        if (attempt_.caller_id.empty()) {
            auto n = run_.take_caller_id(attempt_.number(), ctx_.env.clock().wall_ms());
            if (!n) return false;
            attempt_.caller_id = *n;
        }
    } else {
        attempt_.caller_id = run_.caller_id(trunk);
    }
    d.from = "sip:" + attempt_.caller_id + "@" +
             host_port(ctx_.config.sip_address, ctx_.config.sip_port);
    // The offer's port: reserved, or bound already by an earlier leg's early media.
    // SRTP when the trunk asks for it: one key for the call, whichever trunk carries it.
    if (tc.srtp && !srtp_key_) srtp_key_ = media::new_srtp_key();
    const media::SrtpKey* key = tc.srtp ? &*srtp_key_ : nullptr;
    d.sdp = media::make_offer(ctx_.config.rtp_address, rtp_ ? rtp_->port() : rtp_port_, attempt_.id,
                              key);
    d.user = tc.username;
    d.password = tc.password;
    const sip::CallId id = ctx_.sip.invite(d);
    if (!id) return false;
    sip_ = id;
    if (trunk_ != &trunk) tried_targets_.clear();
    trunk_ = &trunk;
    target_ = at;
    srtp_offered_ = key != nullptr;
    attempt_.trunk = tc.name;
    attempt_.target = trunk.by_name() ? host_port(at.ip, at.port) : "";
    // The callee's ringing starts over on this leg: the ring timeout and ring time count from it.
    invited_ = now();
    rang_ = false;
    trunk.dialled(invited_);
    return true;
}

std::string Call::secure_media(const media::RemoteMedia& remote) {
    if (srtp_offered_) {
        if (!remote.srtp)
            return "trunk " + trunk_->config().name +
                   " requires SRTP ('srtp: true'), and the answer is plain RTP";
        if (!rtp_->use_srtp(*srtp_key_, *remote.srtp)) return "its SRTP key cannot be used";
        return "";
    }
    if (remote.secure) return "the answer is RTP/SAVP, and plain RTP was offered";
    rtp_->use_plain_rtp();
    return "";
}

bool Call::move_on(int code) {
    Trunk& left = *trunk_;
    const TrunkHop hop{left.config().name, code, attempt_.target};
    Trunk* next = run_.routes().pick(attempt_.number(), now(), tried_);
    if (!next) return false;
    if (!invite_on(*next)) return false;
    attempt_.hops.push_back(hop);
    (next == &left ? left.metrics().target_moves : left.metrics().failovers)->Increment();
    left.call_ended();  // its leg has had its final response already
    waiting_for_trunk_ = false;
    return true;
}

void Call::to(State s) {
    if (state_ == State::connected && s != State::connected) end_controls();
    if (state_ == State::waiting_for_agent && s != State::waiting_for_agent)
        --run_.status().waiting;
    if (s == State::waiting_for_agent && state_ != s) ++run_.status().waiting;
    state_ = s;
}

void Call::set_preview(Agent& agent) {
    preview_ = true;
    agent_ = &agent;
}

void Call::answered(const std::string& sdp) {
    answered_at_ = now();
    attempt_.ring_ms = ms_between(invited_, answered_at_);
    ++run_.status().answered;
    ctx_.metrics.sip_response(trunk_->config().name, 200);
    const auto remote = media::parse_answer(sdp);
    std::string error;
    // Early media opened the call's audio already (on the same port).
    if (!rtp_) rtp_ = ctx_.env.open_audio(ctx_.config.rtp_address, ctx_.ports, &error, rtp_port_);
    rtp_port_ = 0;  // the session owns it now
    if (!rtp_) {
        // Another program took the offered port between the INVITE and the answer. The callee
        // may be a person: never a silent hang-up. Speak from any free port (carriers take
        // media from where it comes), and count an abandoned live answer: nothing of the callee
        // can be heard, so nobody can be connected.
        attempt_.notes = "the offered RTP port could not be bound (" + error +
                         "): the callee could not be heard; ";
        engine_log(run_.name() + ": " + attempt_.notes);
        rtp_ = ctx_.env.open_audio(ctx_.config.rtp_address, ctx_.ports, &error);
        // (Encrypted as the offer said: a plain answer to an SRTP offer gets nothing.)
        if (rtp_ && remote.ok() && secure_media(remote).empty()) rtp_->set_remote(remote);
        run_.count_live(wall_ms());
        abandon();  // from the fallback port; with none open, the call just ends
        return;
    }
    rtp_->on_audio([this](std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
        on_audio(pcm, at);
    });
    // The customer's keys while talking to an agent (an IVR survey takes them over).
    rtp_->on_digit([this](char key) {
        if (state_ == State::connected) ctx_.events.call_key(*this, key);
    });
    std::string insecure = remote.ok() ? secure_media(remote) : "";
    if (!remote.ok() || !insecure.empty() || !rtp_->set_remote(remote)) {
        outcome_ = Outcome::failed;
        attempt_.notes = "unusable SDP answer: " + (insecure.empty() ? remote.error : insecure);
        hang_up();
        return;
    }
    const Campaign& c = run_.campaign();
    if (c.record_calls) {
        const auto path = c.resolve_path(c.recording_folder) + "/" + c.name + "/" +
                          std::to_string(attempt_.id) + ".wav";
        recorder_ = std::make_unique<media::Recorder>(ctx_.recordings, path);
    }
    if (preview_ || !c.amd_enabled) {
        // A preview call: the agent dialled it and is listening already. Without AMD: every
        // answer is taken for a person. No detection, no wait.
        verdict_at_ = now();
        attempt_.amd_verdict = "";
        live_answer();
        return;
    }
    amd_ = std::make_unique<amd::Detector>(run_.amd());
    sit_ = std::make_unique<amd::SitDetector>();
    to(State::analysing);
}

void Call::on_audio(std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
    if (recorder_ && state_ != State::hanging_up) recorder_->heard(pcm);
    if (state_ == State::surveying) {
        if (dtmf_) dtmf_->feed(pcm);  // keys as tones, when the phone sends no events
        return;
    }
    if (state_ == State::connected) {
        if (held_) return;  // on hold: the agent hears nothing
        // The customer's voice to the agent, as it arrives: the relay adds no buffering.
        if (ctx_.events.call_audio(*this, pcm, rtp_->arrived()) && !heard_by_agent_) {
            // The agent hears the customer from now: the connect time the 2-second rule cares
            // about, measured from the human verdict.
            heard_by_agent_ = true;
            run_.heard(std::chrono::duration<double, std::milli>(now() - verdict_at_).count());
        }
        return;
    }
    if (!amd_ || (state_ != State::analysing && state_ != State::waiting_for_beep)) return;
    if (!audio_offset_) audio_offset_ = std::chrono::milliseconds(ms_between(answered_at_, now()));
    // A network's announcement answered with 200 OK begins with its special information tones:
    // heard before AMD would take the recording for a machine (or a person).
    if (sit_ && state_ == State::analysing)
        if (const auto sit = sit_->feed(pcm)) return on_sit(*sit);
    for (const auto& e : amd_->feed(pcm, at + *audio_offset_)) {
        if (e.kind == amd::Event::Kind::verdict)
            on_verdict(e);
        else if (state_ == State::waiting_for_beep)
            play(&run_.prompts().machine_message);  // the beep (or greeting) ended: speak now
    }
}

void Call::on_verdict(const amd::Event& e) {
    if (state_ != State::analysing) return;
    verdict_at_ = now();
    attempt_.amd_verdict = amd::to_string(e.verdict);
    attempt_.amd_ms = e.at.count();
    attempt_.notes = e.cause;
    const double ring_s = attempt_.ring_ms / 1000.0;
    const double amd_s = std::chrono::duration<double>(e.at).count();
    auto& estimator = run_.estimator();
    estimator.amd_decided(amd_s);
    run_.metrics().amd_decision->Observe(amd_s);
    run_.metrics().verdicts[static_cast<std::size_t>(e.verdict)]->Increment();
    const Campaign& c = run_.campaign();
    CampaignStatus& status = run_.status();
    switch (e.verdict) {
        case amd::Verdict::human:
            ++status.humans;
            estimator.dial_resolved(pacing::DialResult::live, ring_s);
            live_answer();
            return;
        case amd::Verdict::machine:
            ++status.machines;
            estimator.dial_resolved(pacing::DialResult::machine, ring_s);
            outcome_ = Outcome::machine;
            // An agent leaves the message in person, if one is ready now. A machine does not
            // wait for one (it is no abandon): without a ready agent it is released.
            if (c.on_machine == MachineAction::agent && ctx_.events.call_machine_to_agent(*this))
                return;
            run_.count_machine_release(wall_ms());
            if (c.on_machine == MachineAction::leave_message &&
                !run_.prompts().machine_message.empty()) {
                to(State::waiting_for_beep);
                if (amd_->finished()) play(&run_.prompts().machine_message);
            } else {
                hang_up();
            }
            return;
        case amd::Verdict::fax:
            ++status.fax;
            estimator.dial_resolved(pacing::DialResult::fail, ring_s);
            outcome_ = Outcome::fax;
            hang_up();
            return;
        case amd::Verdict::unknown:
            ++status.unknown;
            estimator.dial_resolved(pacing::DialResult::live, ring_s);
            if (c.on_unknown == AmdAction::agent) {
                live_answer();
            } else {
                outcome_ = Outcome::machine;
                run_.count_machine_release(wall_ms());
                hang_up();
            }
            return;
    }
}

// A live answer: an IVR survey asks its questions; unattended lines (and a preview call whose
// agent has gone) have nobody to wait for; otherwise the owner finds an agent.
void Call::live_answer() {
    run_.count_live(wall_ms());
    if (run_.ivr_survey()) return start_survey();
    if (run_.unattended() > 0 || (preview_ && !agent_)) return abandon();
    ctx_.events.call_is_live(*this);
}

bool Call::connect(Agent& agent) {
    const bool handed_over = state_ == State::connected;  // from an agent whose phone dropped
    if (handed_over) end_controls();  // the new agent starts with the call off hold, unmuted
    agent_ = &agent;
    to(State::connected);
    outcome_ = Outcome::connected;
    attempt_.agent = agent.id;
    if (!handed_over) {
        connected_at_ = now();
        ++run_.status().connected;
        decided(Outcome::connected);
    }
    return !handed_over;
}

// The greeting ended `after_greeting_silence` before the verdict; the message must start within
// the grace from there, with room for its first packet to reach the person.
void Call::wait_for_agent() {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(run_.campaign().connect_grace) -
        run_.amd().after_greeting_silence - std::chrono::milliseconds(200);
    connect_deadline_ = now() + std::max(std::chrono::milliseconds(0), left);
    to(State::waiting_for_agent);
}

// The person hears the safe-harbor message (or, without one, the call ends) and the call counts
// as abandoned in the regulatory window.
void Call::abandon(const std::string& note) {
    outcome_ = Outcome::abandoned;
    attempt_.notes += note;
    run_.count_abandoned(wall_ms());
    decided(Outcome::abandoned);
    safe_harbor_or_hang_up();
}

void Call::safe_harbor_or_hang_up() {
    if (rtp_ && !run_.prompts().safe_harbor.empty())
        play(&run_.prompts().safe_harbor);
    else
        hang_up();
}

void Call::release_after_agent_lost() {
    attempt_.notes += "agent softphone dropped; ";
    attempt_.talk_ms = ms_between(connected_at_, now());
    attempt_.outcome = Outcome::connected;
    attempt_.sip_code = 200;
    attempt_.ended_ms = wall_ms();
    agent_ = nullptr;
    wrapped_ = true;
    safe_harbor_or_hang_up();
}

void Call::send_to_customer(std::span<const std::int16_t> pcm) {
    // On hold the customer hears the hold prompt, and keys being sent take the line: both are
    // sent on the media tick.
    if (state_ != State::connected || !rtp_ || held_ || (keys_ && keys_->busy())) return;
    if (muted_) pcm = std::span<const std::int16_t>(kSilence);
    rtp_->send(pcm);
    if (recorder_) recorder_->tick(pcm);
}

bool Call::hold(bool on) {
    if (state_ != State::connected || held_ == on) return false;
    media_home();  // the hold prompt and the silenced customer are the loop's
    held_ = on;
    if (on) {
        held_since_ = now();
        hold_pos_ = 0;
        ++attempt_.holds;
    } else {
        attempt_.hold_ms += ms_between(held_since_, now());
    }
    return true;
}

bool Call::mute(bool on) {
    if (state_ != State::connected || muted_ == on) return false;
    media_home();
    muted_ = on;
    if (on)
        muted_since_ = now();
    else
        attempt_.mute_ms += ms_between(muted_since_, now());
    return true;
}

bool Call::pause_recording(bool on) {
    if (state_ != State::connected || !recorder_ || recorder_->paused() == on) return false;
    media_home();  // the recorder is the worker's while lent
    if (on)
        paused_from_ms_ = recorder_->position_ms();
    else
        attempt_.recording_paused.emplace_back(paused_from_ms_, recorder_->position_ms());
    recorder_->pause(on);
    return true;
}

bool Call::send_keys(const std::string& keys) {
    if (state_ != State::connected || !rtp_) return false;
    media_home();  // keys take the line from the agent's voice, on the media tick
    if (!keys_) keys_ = std::make_unique<media::KeyPresses>();
    return keys_->add(keys);
}

void Call::end_controls() {
    media_home();
    hold(false);
    mute(false);
    pause_recording(false);
}

bool Call::lend_media(media::MediaWorkers& workers, media::MediaWorker& worker,
                      media::AudioChannel& agent_leg, media::Bridge::Relayed relayed) {
    if (media_lent()) return true;
    if (state_ != State::connected || !heard_by_agent_ || held_ || muted_ || !rtp_ ||
        (keys_ && keys_->busy()) || (recorder_ && recorder_->paused()))
        return false;
    auto* customer = dynamic_cast<media::RtpSession*>(rtp_.get());
    auto* agent = dynamic_cast<media::RtpSession*>(&agent_leg);
    if (!customer || !agent) return false;  // a test's channels: media stays on the loop
    bridge_ = media::Bridge::lend(workers, worker, *customer, *agent, recorder_.get(), id(),
                                  std::move(relayed));
    return media_lent();
}

// Connected: keys being sent, or the hold prompt; else nothing (the agent's voice is relayed as
// it arrives). False: nothing to send this tick.
bool Call::connected_frame(std::span<const std::int16_t>& sent) {
    if (keys_ && keys_->busy() && keys_->frame(*rtp_)) {
        if (recorder_) recorder_->tick({});
        return false;
    }
    if (!held_) return false;
    const auto& music = run_.prompts().hold;
    for (std::size_t i = 0; i < frame_.size(); ++i) {
        frame_[i] = music.empty() ? 0 : music[hold_pos_];
        if (!music.empty()) hold_pos_ = (hold_pos_ + 1) % music.size();
    }
    sent = frame_;
    return true;
}

// An outcome known while the call is still up goes to the ledger at the next tick, so that a
// crash before the call ends cannot turn an abandoned or connected person into a `lost` attempt
// (the abandon rate counts both).
void Call::decided(Outcome o) {
    attempt_.decided = o;
    run_.decided(attempt_);
}

void Call::play(const std::vector<std::int16_t>* prompt) {
    prompt_ = prompt;
    prompt_pos_ = 0;
    to(State::playing);
}

bool Call::prompt_frame(std::span<const std::int16_t>& sent) {
    const auto& p = *prompt_;
    if (prompt_pos_ >= p.size()) return false;
    const std::size_t n = std::min<std::size_t>(160, p.size() - prompt_pos_);
    std::copy_n(p.data() + prompt_pos_, n, frame_.begin());
    std::fill(frame_.begin() + static_cast<std::ptrdiff_t>(n), frame_.end(), 0);
    prompt_pos_ += n;
    sent = frame_;
    return true;
}

bool Call::media_frame() {
    std::span<const std::int16_t> sent;
    switch (state_) {
        case State::analysing:
        case State::waiting_for_beep:
        case State::waiting_for_agent:
            sent = kSilence;  // keeps NAT bindings open while we listen
            break;
        case State::surveying:
            if (!survey_frame(sent)) return false;
            if (state_ == State::hanging_up) return true;
            break;
        case State::playing:
            if (!prompt_frame(sent)) return false;
            break;
        case State::connected:
            if (!connected_frame(sent)) return true;
            break;
        default:
            return true;
    }
    rtp_->send(sent);
    if (recorder_) recorder_->tick(sent);
    return true;
}

void Call::check_timeouts() {
    const auto t = now();
    if (state_ == State::ringing && !cancelled_ && t - invited_ >= run_.campaign().ring_timeout) {
        // Never under 15 s: the campaign loader refuses less.
        cancelled_ = true;
        ended_by_ = "engine";
        ctx_.sip.cancel(sip_);
    } else if (state_ == State::waiting_for_beep &&
               t - answered_at_ >= run_.amd().beep_timeout + std::chrono::milliseconds(1000)) {
        hang_up();
    } else if (state_ == State::analysing &&
               t - answered_at_ >=
                   run_.amd().total_analysis_time + std::chrono::milliseconds(1000)) {
        if (rtp_ && rtp_->stats().packets_in == 0) {
            // Answered and not one RTP packet since: the media path is broken (the trunk's or
            // ours), not the callee's doing. Nobody can be heard or connected; the contact keeps
            // its attempt and the trunk's error count moves toward a backoff.
            outcome_ = Outcome::carrier_error;
            attempt_.notes = "answered, but no RTP came";
            trunk_->failed(t);
            hang_up();
            return;
        }
        amd::Event e;
        e.verdict = amd::Verdict::unknown;
        e.cause = "no-audio";
        e.at = std::chrono::milliseconds(ms_between(answered_at_, t));
        on_verdict(e);
    }
}

void Call::end(const std::string& by) {
    if (!by.empty()) ended_by_ = by;
    if (waiting_for_trunk_) {
        cancelled_ = true;  // ends at the next tick (retry_trunk), on no trunk
    } else if (state_ == State::ringing) {
        if (!cancelled_) {
            cancelled_ = true;
            ctx_.sip.cancel(sip_);
        }
    } else {
        hang_up();
    }
}

void Call::hang_up() {
    if (state_ == State::hanging_up) return;
    if (state_ == State::connected) attempt_.talk_ms = ms_between(connected_at_, now());
    if (state_ == State::waiting_for_agent && outcome_ != Outcome::abandoned) {
        // Ended (the engine stopping) while the person waited: no agent came, so abandoned.
        outcome_ = Outcome::abandoned;
        run_.count_abandoned(wall_ms());
        attempt_.notes += "ended waiting for an agent; ";
    }
    to(State::hanging_up);
    ctx_.sip.hangup(sip_);
}

Outcome Call::failed(const sip::Failure& response) {
    Trunk& trunk = *trunk_;
    if (early_sit_) {
        // Cancelled on the network's own tones: the trunk did its part.
        trunk.succeeded();
        settle(response, Outcome::failed);  // its ring time, and a failed dial for the estimator
        return sit_outcome(*early_sit_, true);
    }
    sip::Failure f = response;
    // nua answers an INVITE nobody responded to with a 408 of its own: without even a ringing
    // response before it, that is the trunk's silence, not the callee's.
    if (!rang_ && f.status == 408) f.local = true;
    const Outcome o = outcome_for(f, cancelled_);
    if (!f.local) ctx_.metrics.sip_response(trunk.config().name, f.status);
    const auto t = now();
    // RFC 3263 §4.3: a 503, silence or a transport error is the fault of the address it came
    // from; another address of a trunk named by host name may still work.
    const bool address_fault =
        o == Outcome::carrier_error && trunk.by_name() && (f.status == 503 || f.local);
    if (o == Outcome::carrier_error) {
        if (address_fault && trunk.address_failed(target_, t))
            trunk.metrics().carrier_errors->Increment();  // the trunk itself still works
        else
            trunk.failed(t);
    } else {
        trunk.succeeded();
    }
    // The trunk's trouble, not the callee's: the same call on another address of the trunk or on
    // the next trunk, if there is one; when the next trunks are only full for now, the call waits
    // for room (retry_trunk).
    if (o == Outcome::carrier_error && !cancelled_) {
        if (address_fault) tried_targets_.push_back(target_);
        if (!address_fault || !trunk.has_untried_target(t, tried_targets_))
            if (std::find(tried_.begin(), tried_.end(), &trunk) == tried_.end())
                tried_.push_back(&trunk);
        if (move_on(f.status)) return Outcome::none;
        if (run_.routes().could_take(attempt_.number(), t, tried_)) {
            waiting_for_trunk_ = true;
            trunk_wait_since_ = t;
            trunk_failure_ = f;
            return Outcome::none;
        }
    }
    return settle(f, o);
}

Outcome Call::retry_trunk() {
    if (!cancelled_ && move_on(trunk_failure_.status)) return Outcome::none;
    if (!cancelled_ && now() - trunk_wait_since_ < kTrunkWait &&
        run_.routes().could_take(attempt_.number(), now(), tried_))
        return Outcome::none;
    waiting_for_trunk_ = false;
    const Outcome o = settle(trunk_failure_, Outcome::carrier_error);
    if (!cancelled_) attempt_.notes += " (no other trunk had room for it)";
    return o;
}

Outcome Call::settle(const sip::Failure& f, Outcome o) {
    const auto t = now();
    const double ring_s = ms_between(invited_, t) / 1000.0;
    if (o == Outcome::no_answer)
        run_.estimator().dial_resolved(pacing::DialResult::no_answer, ring_s);
    else if (o != Outcome::carrier_error)
        run_.estimator().dial_resolved(pacing::DialResult::fail, ring_s);
    attempt_.ring_ms = ms_between(invited_, t);
    attempt_.notes = f.phrase;
    if (f.q850_cause) attempt_.notes += " (Q.850 cause " + std::to_string(f.q850_cause) + ")";
    if (!rang_) attempt_.notes += " (no ringing response before it)";
    return o;
}

Outcome Call::ended(bool by_remote) {
    if (by_remote)
        ended_by_ = "customer";
    else if (ended_by_.empty())
        ended_by_ = "engine";
    if (state_ == State::waiting_for_agent) {
        // Gone before an agent came: abandoned all the same (it was a live answer).
        to(State::hanging_up);
        outcome_ = Outcome::abandoned;
        run_.count_abandoned(wall_ms());
        attempt_.notes += "hung up waiting for an agent; ";
    }
    if (state_ == State::connected) attempt_.talk_ms = ms_between(connected_at_, now());
    if (outcome_ != Outcome::none) return outcome_;
    // Hung up before a verdict: if someone spoke, they were not connected (count it).
    const bool spoke = amd_ && amd_->heard_speech();
    if (spoke) {
        run_.count_live(wall_ms());
        run_.count_abandoned(wall_ms());
    }
    attempt_.notes = by_remote ? "callee hung up during analysis" : "ended during analysis";
    return spoke ? Outcome::abandoned : Outcome::failed;
}

void Call::finish(Outcome o, int sip_code) {
    CampaignStatus& status = run_.status();
    attempt_.outcome = o;
    attempt_.sip_code = sip_code;
    attempt_.ended_ms = wall_ms();
    if (in_survey_) {
        // The survey's length: the person's time on the line, closing prompt included.
        attempt_.talk_ms = ms_between(connected_at_, now());
        --status.surveys;
        const bool complete = attempt_.survey == "complete";
        ++(complete ? status.surveys_complete : status.surveys_incomplete);
        run_.metrics().surveys[complete ? 0 : 1]->Increment();
    }
    if (rtp_) {
        const auto& st = rtp_->stats();
        ctx_.metrics.rtp_packets_received().Increment(static_cast<double>(st.packets_in));
        ctx_.metrics.rtp_packets_lost().Increment(static_cast<double>(st.lost));
        ctx_.metrics.rtp_packets_unauthenticated().Increment(
            static_cast<double>(st.unauthenticated));
        ctx_.metrics.rtp_packets_rtcp().Increment(static_cast<double>(st.rtcp));
        ctx_.metrics.rtp_jitter().Observe(st.jitter_ms / 1000);
        status.rtp_packets += static_cast<long>(st.packets_in);
        status.rtp_lost += static_cast<long>(st.lost);
    }
    run_.ended(o);
    --status.in_progress;
    trunk_->call_ended();
}

}  // namespace outpace
