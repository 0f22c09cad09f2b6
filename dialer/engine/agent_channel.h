// The agent desktops' channel (docs/agent-protocol.md): JSON objects over a ZeroMQ ROUTER socket,
// one DEALER per desktop, and a PUB socket of events for supervisors and CRMs. This file knows
// the wire: it parses and validates requests into typed values and answers the malformed ones
// itself; what a request means is the engine's business (agents.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dialer/engine/engine_config.h"

struct event_base;

namespace outpace {

struct AgentRequest {
    enum class Type {
        login,        // agent, password, phone (a fixed softphone's SIP URI), campaigns, skills
        ready,        // take calls
        pause,        // reason; after the current call when in one
        hangup,       // end the customer's call (the agent leg stays up)
        disposition,  // attempt, code, notes, callback_at: ends wrap-up
        next,         // preview: show me my next contact
        dial,         // preview: call the contact shown (attempt = its preview id)
        skip,         // preview: not this one
        logout,
        heartbeat,
        hold,  // the customer on hold (music), the agent hears nothing
        unhold,
        mute,  // the customer hears silence in place of the agent
        unmute,
        record_pause,  // silence in the recording (campaign recording.agent_can_pause)
        record_resume,
        dtmf,         // digits: keys to the customer (an IVR the agent reached)
        manual_dial,  // phone, campaign: a number the agent dials (the campaign's rules apply)
        supervise,    // agent, password: a supervisor's console proves who it is (no session)
        calls,        // a supervisor: the live calls (agent, campaign, number, state, duration)
        monitor,      // a supervisor: attempt, mode (listen | whisper | barge); again to switch
        unmonitor,    // a supervisor: leave the call being monitored
        transfer,     // agent | queue | number: the customer to another agent or a number
        consult,      // agent | queue | number: the customer on hold, the agent talks first
        complete,     // after consult or conference: the customer with the target, I leave
        cancel,       // a transfer still waiting, a consult or a conference: back to my customer
        conference,   // after consult: the three of us
        message,      // text, agent | campaign: to a supervisor (agents), to anyone (supervisors)
    };
    Type type = Type::heartbeat;
    std::string agent, password, phone, reason, code, notes, digits, campaign;
    std::string mode;   // monitor: listen | whisper | barge
    std::string queue;  // transfer, consult: a skill or campaign (`agent`: an agent id, `phone`:
                        // the request's `number`)
    std::string text;   // message
    std::vector<std::string> campaigns, skills;
    std::uint64_t attempt = 0;
    std::int64_t callback_at = 0;  // unix seconds
    bool callback_for_me = false;  // "for": "me": a personal callback
    nlohmann::json answers;        // survey answers, kept with the attempt's notes
};

const char* to_string(AgentRequest::Type t);

// One message's text as a request, or nullopt and a sentence saying what is wrong with it.
std::optional<AgentRequest> parse_agent_request(std::string_view text, std::string* error);

class AgentChannel {
  public:
    // `peer` is the desktop's ZeroMQ routing id: replies go back to it. `key` is its CURVE public
    // key (Z85) when CurveZMQ is on, else empty: with the routing id, the desktop's identity.
    using Handler =
        std::function<void(const std::string& peer, const std::string& key, const AgentRequest&)>;

    // Binds the ROUTER on `endpoint` and, when not empty, the PUB on `events_endpoint`
    // (tcp://127.0.0.1:PORT or ipc://PATH). Malformed requests are answered with an error
    // message here and never reach `handler`. Null with `error` set when a bind fails.
    // With `curve` enabled, both sockets admit only the authorized client keys.
    static std::unique_ptr<AgentChannel> start(event_base* loop, const std::string& endpoint,
                                               const std::string& events_endpoint,
                                               const CurveConfig& curve, Handler handler,
                                               std::string* error);
    virtual ~AgentChannel() = default;

    // Sends one message to a desktop; dropped (never blocks the loop) when its queue is full
    // or it is gone.
    virtual void send(const std::string& peer, const nlohmann::json& message) = 0;
    // Publishes an event: two frames, the topic ("agent.<id>" or "call.<campaign>") and the JSON.
    virtual void publish(const std::string& topic, const nlohmann::json& event) = 0;
};

}  // namespace outpace
