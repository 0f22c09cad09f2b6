// A call once placed: its answer and media, what AMD decides, the agent it reaches or the
// message it hears, the agent's controls (hold, mute, keys), the 20 ms media frame, timeouts and
// its end. (Its trunk half, placing it and its failures, is call_trunk.cc.)
#include "dialer/engine/call.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "dialer/engine/agent.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/engine/engine_util.h"
#include "dialer/media/sdp.h"

namespace outpace {
namespace {

const std::int16_t kSilence[160] = {};

}  // namespace

Call::Call(CallContext& ctx, CampaignRun& run, Attempt attempt)
    : ctx_(ctx), run_(run), attempt_(std::move(attempt)), invited_(ctx.env.clock().now()) {}

Call::~Call() {
    if (rtp_port_) ctx_.ports.give(rtp_port_);
}

void Call::to(State s) {
    // Whatever the call does next, it does on the loop (what the worker heard and the call has
    // not acted on is moot: the call moved on without it, to its end).
    if (s != State::analysing) listen_.reset();
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
    listen_on_worker();
}

void Call::listen_on_worker() {
    if (!ctx_.media || state_ != State::analysing || listen_) return;
    auto* session = dynamic_cast<media::RtpSession*>(rtp_.get());
    if (!session) return;  // a test's channel: the loop listens
    media::MediaWorker* worker = ctx_.media->least_busy();
    if (!worker) return;
    // The detector's time runs from the answer, as on the loop: the first packet's arrival.
    const auto since_answer = now() - answered_at_;
    const auto lent_at = std::chrono::steady_clock::now();
    listen_ = media::Listen::lend(
        *ctx_.media, *worker, *session, recorder_.get(), id(),
        [this, since_answer, lent_at](std::span<const std::int16_t> pcm,
                                      std::chrono::milliseconds at) {
            if (!audio_offset_)
                audio_offset_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    since_answer + (std::chrono::steady_clock::now() - lent_at));
            return hear(pcm, at);
        });
}

void Call::heard_on_worker() {
    if (!listen_) return;
    listen_.reset();  // home: from here the worker touches none of it
    act_on_heard();
}

void Call::on_audio(std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
    // Home from a worker without its news read yet (the loop used the session meanwhile): what
    // it heard comes first.
    if (listen_) heard_on_worker();
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
    if (hear(pcm, at)) act_on_heard();
}

// On the loop, or on the worker the call is lent to (then the loop touches none of what this
// does until the call is home): the detectors and heard_ only, never the call's state.
bool Call::hear(std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
    // A network's announcement answered with 200 OK begins with its special information tones:
    // heard before AMD would take the recording for a machine (or a person).
    const auto t = at + *audio_offset_;
    if (sit_ && !verdict_heard_)
        if (const auto sit = sit_->feed(pcm)) {
            verdict_heard_ = true;
            held_verdict_.clear();  // the beep was the tones' first
            heard_.push_back({sit, {}});
            return true;
        }
    if (!heard_.empty() && heard_.back().sit) return true;  // the call ends on the tones
    bool any = false;
    if (!held_verdict_.empty()) {
        if (sit_->possible() && t < held_until_) return false;
        // No SIT after all: a machine's beep (a voicemail that only beeps), a little late.
        for (const auto& e : std::exchange(held_verdict_, {})) heard_.push_back({std::nullopt, e});
        verdict_heard_ = true;
        any = true;
    }
    const auto events = amd_->feed(pcm, t);
    const bool beep_verdict = std::any_of(events.begin(), events.end(), [](const amd::Event& e) {
        return e.kind == amd::Event::Kind::verdict && std::string_view(e.cause) == "beep";
    });
    if (beep_verdict && !verdict_heard_ && sit_ && sit_->possible()) {
        // An intercept answered with 200 OK must end as a dead number, not as a machine that
        // gets a message and is dialled again.
        held_verdict_.assign(events.begin(), events.end());
        held_until_ = t + kSitHold;
        return any;
    }
    for (const auto& e : events) {
        if (e.kind == amd::Event::Kind::verdict) verdict_heard_ = true;
        // Before a verdict only a verdict matters (as on the loop); after it, the beep's or the
        // greeting's end does (a machine's message waits for it).
        if (e.kind == amd::Event::Kind::verdict || verdict_heard_) {
            heard_.push_back({std::nullopt, e});
            any = true;
        }
    }
    return any;
}

void Call::act_on_heard() {
    const auto heard = std::exchange(heard_, {});
    for (const auto& h : heard) {
        if (h.sit) return on_sit(*h.sit);
        if (h.event.kind == amd::Event::Kind::verdict)
            on_verdict(h.event);
        else if (state_ == State::waiting_for_beep)
            play(&run_.prompts().machine_message);  // the beep (or greeting) ended: speak now
    }
}

void Call::on_verdict(const amd::Event& e) {
    if (state_ != State::analysing) return;
    verdict_heard_ = true;  // (the analysis timeout's verdict too: no SIT listening after it)
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
            if (listening_on_worker()) return true;  // the worker sends its silence
            [[fallthrough]];
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
        if (listen_) {
            heard_on_worker();  // what the worker heard first (its word to the loop was lost)
            if (state_ != State::analysing) return;
        }
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
