// A logged-in agent: the desktop (ZeroMQ peer) and the softphone leg kept up for the shift, the
// customer being talked to, the attempt in wrap-up and the contact shown in preview. Owned by the
// AgentPool; the state machine lives there.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/records.h"
#include "dialer/engine/agent_accounts.h"
#include "dialer/engine/clock.h"
#include "dialer/media/dtmf.h"
#include "dialer/media/rtp.h"
#include "dialer/sip/sip_stack.h"

namespace outpace {

class CampaignRun;

// An agent's state as the desktop and supervisors see it (docs/agent-protocol.md).
enum class AgentState { connecting, paused, ready, reserved, talking, wrapup };
const char* to_string(AgentState s);

struct Agent {
    using State = AgentState;
    std::string id, peer, phone, pause_reason;
    std::string name;  // shown to customers' scripts as {agent}: the agents file's, else the id
    // The softphone registers (the agents file gives no fixed phone): its leg goes where the
    // registrar last saw it, `leg_source` being that address (RTP is latched to it).
    bool registered = false;
    std::string leg_source;
    AgentSrtp srtp = AgentSrtp::automatic;  // the agents file's rule for its softphone's calls
    // The leg's SRTP key, when its offer carried one (the answer must take it).
    std::optional<media::SrtpKey> leg_key;
    std::string key;  // the desktop's CURVE key (empty without CURVE): with `peer`, its identity
    std::vector<std::string> campaigns, skills;
    // The campaign whose pacer counts this agent: its next work. An agent who serves several
    // running campaigns is counted by one of them at a time (AgentPool::apportion).
    CampaignRun* pacing_run = nullptr;
    State state = State::connecting;
    SteadyTime since, last_heard;
    SteadyTime counted;  // the agent's time up to here is in the store's agent time (occupancy)
    // This shift, for the supervisors' wallboard: calls handled (conversations that reached
    // wrap-up), and time spent on calls (talking, wrap-up, a preview shown) and ready.
    long calls_handled = 0;
    std::int64_t busy_ms = 0, ready_ms = 0;
    bool want_ready = false, want_pause = false, want_logout = false, desktop_lost = false;
    std::string want_pause_reason;
    // The softphone leg.
    sip::CallId leg = 0;
    int leg_port = 0;  // reserved for the offer until the leg answers
    std::unique_ptr<media::AudioChannel> rtp;
    std::unique_ptr<media::KeyPresses> keys;  // the customer's keys, to the softphone
    // The customer being talked to, or dialled in preview.
    sip::CallId customer = 0;
    // Wrap-up: the attempt waiting for a disposition.
    std::optional<Attempt> wrap;
    CampaignRun* wrap_run = nullptr;
    SteadyTime wrap_start;
    // A supervisor (the agents file's role) may monitor calls.
    bool supervisor = false;
    // A guest on another agent's call (its customer's call id): a supervisor monitoring it
    // (`guest_mode` listen, whisper or barge) or the target of a consult (consult, conference).
    // Since when, in this mode (the attempt keeps each stretch).
    sip::CallId guest_of = 0;
    std::string guest_mode;
    std::int64_t guest_since_ms = 0;
    // When this agent began talking with its customer (unix ms): a transfer closes the stretch.
    std::int64_t talk_since_ms = 0;
    // A transfer or consult this agent asked for: its target (an agent id, or a queue: a skill
    // or campaign), until when it waits for one, and the agent found (consult: talking now).
    struct Transfer {
        bool consult = false;
        std::string agent, queue, found;
        SteadyTime deadline;
        // A number outside (E.164) and the leg to it, once placed; `found` is that leg's guest
        // key once it answered.
        std::string number;
        sip::CallId leg = 0;
    };
    std::optional<Transfer> transfer;
    // The wrap-up is of this agent's part of a call that went on with another agent: its
    // disposition goes to that part (Attempt::legs), not to the attempt.
    bool wrap_part = false;
    // Messages this desktop may still send now (a bucket: 5, refilled one a second).
    double message_tokens = 5;
    SteadyTime message_refill{};
    // Preview: the contact shown and not dialled yet.
    std::optional<Contact> preview;
    CampaignRun* preview_run = nullptr;
    bool preview_callback = false;  // the contact shown is this agent's personal callback
};

}  // namespace outpace
