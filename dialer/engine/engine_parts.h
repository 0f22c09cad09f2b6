// The engine's private parts, shared by its files: engine.cc (campaigns: start, the pacing tick,
// launching, control, gauges), call_flow.cc (a call's way through: INVITE, answer, AMD, prompts,
// outcome), agents.cc (an agent's session: desktop requests, wrap-up, preview, heartbeats) and
// routing.cc (softphone legs, connecting live answers, the relay). Nothing outside dialer/engine
// includes this.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "campaigns/abandon_window.h"
#include "dialer/engine/engine.h"
#include "dialer/media/dtmf.h"
#include "dialer/media/recorder.h"

namespace outpace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline long ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return static_cast<long>(std::chrono::duration_cast<milliseconds>(b - a).count());
}

inline std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

inline Timestamp wall_now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// HOST:PORT for a SIP URI, IPv6 literals in brackets.
inline std::string host_port(const std::string& host, int port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

inline void engine_log(const std::string& line) {
    std::fprintf(stderr, "outpace: %s\n", line.c_str());
}

struct Engine::Trunk {
    const TrunkConfig* config = nullptr;
    int in_progress = 0;
    std::deque<SteadyClock::time_point> recent_dials;  // the last second's
    int consecutive_errors = 0;
    metrics::TrunkMetrics* m = nullptr;
    SteadyClock::time_point backoff_until{};
    double tokens = 1;  // calls the rate limit allows now
    SteadyClock::time_point refilled = SteadyClock::now();
};

struct Engine::Run {
    Campaign campaign;
    std::unique_ptr<Hopper> hopper;
    std::unique_ptr<Ledger> ledger;
    pacing::PacingConfig pacing;
    std::unique_ptr<pacing::Policy> policy;
    pacing::Estimator estimator;
    Trunk* trunk = nullptr;
    std::string caller_id;
    int unattended = 0;
    amd::Config amd;
    std::vector<std::int16_t> safe_harbor, machine_message;
    // IVR survey: the questions' prompts (in the campaign's order) and the others.
    bool ivr_survey = false;
    std::vector<std::vector<std::int16_t>> survey_prompts;
    std::vector<std::int16_t> survey_invalid, survey_closing;
    std::vector<Attempt> completed;  // recorded in the ledger at the next tick, in one batch
    std::vector<Attempt> progress;   // in flight, with news worth keeping (survey answers)
    CampaignStatus status;
    metrics::CampaignMetrics* m = nullptr;
    pacing::Decision last_decision;
    std::vector<double> connect_ms;  // human verdict to bridged, per connected call
    std::set<std::string> skipped;   // preview: contacts an agent passed over in this run
    SteadyClock::time_point idle_checked{};
    // The regulatory abandon window (24 h or 30 days), rolling by the minute while the engine
    // runs; status.window_* are read from it (with Ofcom's estimates, in whole calls).
    std::unique_ptr<RollingAbandonWindow> window;
};

struct Engine::Call {
    enum class State {
        ringing,
        analysing,
        waiting_for_beep,
        waiting_for_agent,  // a live answer, no agent free yet; until connect_deadline
        connected,          // bridged to `agent`
        surveying,          // an IVR survey: asking questions, listening for keys
        playing,
        hanging_up,
    };
    sip::CallId sip = 0;
    Run* run = nullptr;
    Attempt attempt;
    int rtp_port = 0;  // reserved for the offer; bound (and owned by `rtp`) once answered
    std::unique_ptr<media::RtpSession> rtp;
    std::unique_ptr<amd::Detector> amd;
    std::unique_ptr<media::Recorder> recorder;
    State state = State::ringing;
    SteadyClock::time_point invited, answered_at;
    std::optional<milliseconds> audio_offset;  // first packet's arrival after the answer
    bool cancelled = false;
    bool rang = false;  // a provisional response (180/183) came
    // Who ended the call, for the desktop's `hangup`: customer, agent, engine (ring timeout,
    // stop, a prompt's end) or softphone.
    std::string ended_by;
    const std::vector<std::int16_t>* prompt = nullptr;
    std::size_t prompt_pos = 0;
    std::array<std::int16_t, 160> frame{};  // the prompt's next 20 ms
    Outcome outcome = Outcome::none;        // decided; recorded when the call ends
    Agent* agent = nullptr;                 // connected to (or, for a preview call, dialled by)
    SteadyClock::time_point verdict_at, connect_deadline, connected_at;
    bool preview = false;  // dialled by `agent` from a preview: no AMD, connected on answer
    bool wrapped = false;
    bool heard_by_agent = false;  // the customer's first packet was relayed to the agent
    // IVR survey: the question being asked, tries at it so far, whether the prompt is over and
    // we listen for a key (until listen_until), and the prompt to play after this one.
    bool in_survey = false;  // a survey session: holds one of the campaign's survey lines
    std::size_t question = 0;
    int tries = 0;
    bool listening = false;
    SteadyClock::time_point listen_until;
    const std::vector<std::int16_t>* then = nullptr;
    std::unique_ptr<media::DtmfDetector> dtmf;  // in-band keys, for phones without RFC 4733
    bool heard_rfc4733 = false;                 // from then on in-band detection is off
    char inband_key = 0;                        // the last in-band key and when it came: the
    SteadyClock::time_point inband_at;          // same key as an event right after is one press
};

// A logged-in agent: the desktop (ZeroMQ peer) and the softphone leg, kept up for the shift.
struct Engine::Agent {
    using State = AgentState;
    std::string id, peer, phone, pause_reason;
    std::string key;  // the desktop's CURVE key (empty without CURVE): with `peer`, its identity
    std::vector<std::string> campaigns, skills;
    State state = State::connecting;
    SteadyClock::time_point since = SteadyClock::now(), last_heard = SteadyClock::now();
    bool want_ready = false, want_pause = false, want_logout = false, desktop_lost = false;
    std::string want_pause_reason;
    // The softphone leg.
    sip::CallId leg = 0;
    int leg_port = 0;  // reserved for the offer until the leg answers
    std::unique_ptr<media::RtpSession> rtp;
    // The customer being talked to, or dialled in preview.
    sip::CallId customer = 0;
    // Wrap-up: the attempt waiting for a disposition.
    std::optional<Attempt> wrap;
    Run* wrap_run = nullptr;
    SteadyClock::time_point wrap_start;
    // Preview: the contact shown and not dialled yet.
    std::optional<Contact> preview;
    Run* preview_run = nullptr;
};

}  // namespace outpace
