// Special information tones on a call: heard in early media (a 183 with SDP: the call is
// cancelled) or after the answer while AMD listens; the outcome the tones give. Part of Call
// (call.h), like call_survey.cc.
#include "answering-detect/sit.h"
#include "dialer/engine/call.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/media/sdp.h"

namespace outpace {

Outcome Call::sit_outcome(const amd::Sit& sit, bool early) {
    const bool dead = amd::sit_number_dead(sit.code);
    attempt_.notes = std::string("SIT ") + amd::to_string(sit.code) +
                     (early ? " in early media (" : " after the answer (") +
                     (dead ? "the number is not in service" : "the network could not complete it") +
                     ")";
    ctx_.metrics.sit(amd::to_string(sit.code));
    return dead ? Outcome::invalid : Outcome::carrier_error;
}

void Call::on_sit(const amd::Sit& sit) {
    attempt_.amd_ms = sit.at.count();
    run_.estimator().dial_resolved(pacing::DialResult::fail, attempt_.ring_ms / 1000.0);
    outcome_ = sit_outcome(sit, false);
    hang_up();
}

void Call::early_media(const std::string& sdp) {
    if (state_ != State::ringing || cancelled_) return;
    const auto remote = media::parse_answer(sdp);
    if (!remote.ok()) return;  // nothing to listen to: the 200 (if any) says more
    // Early media whose security does not match the offer is not listened to (the port stays
    // reserved for the answer).
    if (srtp_offered_ ? !remote.srtp : remote.secure) return;
    if (rtp_) {
        // An earlier leg's (on another trunk) opened it: this leg's media comes from here.
        if (secure_media(remote).empty()) rtp_->set_remote(remote);
        return;
    }
    if (rtp_port_ == 0) return;
    std::string error;
    rtp_ = ctx_.env.open_audio(ctx_.config.rtp_address, ctx_.ports, &error, rtp_port_);
    rtp_port_ = 0;      // the session owns it now
    if (!rtp_) return;  // answered() opens another port if the call is answered
    if (!secure_media(remote).empty() || !rtp_->set_remote(remote)) {
        rtp_.reset();
        return;
    }
    sit_ = std::make_unique<amd::SitDetector>();
    rtp_->on_audio([this](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
        if (state_ != State::ringing || cancelled_ || !sit_) return;
        // Networks play their tones at the start of the announcement: listening longer would
        // only cost the loop time on every call that rings with ringback as early media.
        early_samples_ += pcm.size();
        if (early_samples_ > kEarlySitListen) {
            sit_.reset();
            return;
        }
        if (const auto sit = sit_->feed(pcm)) {
            early_sit_ = sit;
            cancelled_ = true;
            ctx_.sip.cancel(sip_);  // ends in failed(): 487, or the answer that crossed it
        }
    });
}

}  // namespace outpace
