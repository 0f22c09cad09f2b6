// A call's trunk half: placing it (the INVITE on a trunk chosen by the campaign's routes, the
// caller ID and media it offers), and what a failure means - the outcome a final response gives,
// another address of the trunk or the next trunk for the trunk's own trouble, or waiting for room
// there. Part of Call (call.h), like call_sit.cc and call_survey.cc.
#include <algorithm>

#include "dialer/engine/call.h"
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

}  // namespace

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

}  // namespace outpace
