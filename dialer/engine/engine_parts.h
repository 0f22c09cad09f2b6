// The engine's private parts, shared by its two halves: engine.cc (campaigns: start, the pacing
// tick, launching, control) and call_flow.cc (a call's way through: INVITE, answer, AMD, prompts,
// outcome). Nothing outside dialer/engine includes this.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dialer/engine/engine.h"
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

inline void engine_log(const std::string& line) {
    std::fprintf(stderr, "outpace: %s\n", line.c_str());
}

struct Engine::Trunk {
    const TrunkConfig* config = nullptr;
    int in_progress = 0;
    std::deque<SteadyClock::time_point> recent_dials;  // the last second's
    int consecutive_errors = 0;
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
    std::vector<Attempt> completed;  // recorded in the ledger at the next tick, in one batch
    CampaignStatus status;
    bool store_error_logged = false;
};

struct Engine::Call {
    enum class State { ringing, analysing, waiting_for_beep, playing, hanging_up };
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
    const std::vector<std::int16_t>* prompt = nullptr;
    std::size_t prompt_pos = 0;
    std::array<std::int16_t, 160> frame{};  // the prompt's next 20 ms
    Outcome outcome = Outcome::none;        // decided; recorded when the call ends
};

}  // namespace outpace
