// Every message the engine sends to desktops and publishes to supervisors, built in one typed
// place (docs/agent-protocol.md's tables; tests/protocol_doc_test.cc holds the two together).
// Nothing else in the engine writes the protocol's JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/campaign.h"
#include "dialer/engine/agent.h"
#include "dialer/engine/agent_channel.h"

namespace outpace {

// What a screen pop shows: the contact, the script, the campaign's dispositions (and an
// agent-led survey's questions), and the contact's previous attempts, newest first.
struct OfferView {
    std::uint64_t attempt = 0;
    const Campaign* campaign = nullptr;
    std::string phone, amd;
    std::string phone_label;  // the list column of the number dialled
    std::string zones;        // the callee's IANA zone(s), '|'-joined (Contact::zones)
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<Attempt> history;
    SteadyTime verdict_at;  // CLOCK_MONOTONIC: a desktop on the same host can time its pop
    // To the target of a transfer or consult: the agent who sent the call, and how.
    std::string transferred_by, transfer_kind;  // kind: transfer | consult
};

// The list column of the number a call to `contact` goes to ("mobile", "home"; the campaign's
// phone column for a contact with one number).
std::string phone_label(const Campaign& c, const Contact& contact);

// How a call ended, for the desktop's `hangup`.
struct HangupView {
    std::uint64_t attempt = 0;
    std::string by;                  // customer | agent | engine | softphone
    std::optional<double> talk_s;    // a conversation that happened
    std::optional<Outcome> outcome;  // a preview call that reached nobody
    std::optional<int> sip_code;
};

// The call controls' state after a change (hold, mute, recording pause).
struct ControlsView {
    std::uint64_t attempt = 0;
    bool on_hold = false, muted = false;
    std::string recording;  // on | paused | off
};

// A live call as a supervisor's `calls` lists it.
struct LiveCallView {
    std::uint64_t attempt = 0;
    std::string agent, campaign, phone;
    std::string state;  // talking | on_hold
    double duration_s = 0;
    std::vector<std::pair<std::string, std::string>> monitors;  // supervisor, mode
};

class AgentProtocol {
  public:
    void attach(AgentChannel* channel) { channel_ = channel; }

    // To one desktop. Nothing is sent to a desktop that stopped sending heartbeats.
    void error(const std::string& peer, const std::string& reason,
               AgentRequest::Type request) const;
    void error(const Agent& a, const std::string& reason) const;
    void error(const Agent& a, const std::string& reason, AgentRequest::Type request) const;
    void logged_in(const Agent& a, double heartbeat_s) const;
    void state(const Agent& a, const std::string& reason) const;
    void heartbeat(const Agent& a) const;
    void pause_pending(const Agent& a, const std::string& reason) const;
    void logout_pending(const Agent& a) const;
    void logged_out(const Agent& a, const std::string& reason) const;
    void offer(const Agent& a, const OfferView& v) const;
    // The campaign's script as this agent reads it to this contact: {agent} (the agent's name),
    // {agent_id}, {campaign}, {phone} and {COLUMN} (list columns) filled in; a placeholder that
    // names nothing is left as written.
    static std::string script_for(const Agent& a, const Campaign& c, const std::string& phone,
                                  const std::vector<std::pair<std::string, std::string>>& fields);
    void connected(const Agent& a, std::uint64_t attempt, double connect_ms) const;
    void hangup(const Agent& a, const HangupView& v) const;
    void wrapup(const Agent& a, std::uint64_t attempt, double max_s) const;
    void wrapup_timeout(const Agent& a, std::uint64_t attempt) const;
    void disposed(const Agent& a, std::uint64_t attempt, const std::string& code) const;
    // `callback_at`: a personal callback's time (unix seconds), when it is one.
    void preview(const Agent& a, const Campaign& c, const Contact& contact,
                 const std::vector<Attempt>& history,
                 std::optional<std::int64_t> callback_at = std::nullopt) const;
    void controls(const Agent& a, const ControlsView& v) const;
    // The customer pressed `digit`; the agent's `digits` were queued for the customer.
    void customer_key(const Agent& a, std::uint64_t attempt, char digit) const;
    void keys_sent(const Agent& a, std::uint64_t attempt, const std::string& digits) const;
    void dialing(const Agent& a, std::uint64_t attempt, const std::string& phone) const;
    // A desktop's message was delivered to `desktops` desktops.
    void message_sent(const Agent& a, std::size_t desktops) const;
    // A supervisor's message (`from`: the supervisor's id).
    void message(const Agent& a, const std::string& from, const std::string& text) const;
    // Supervisors' monitoring: the live calls; the call being monitored and how (after
    // `monitor`, and again after each switch); the monitoring over and why.
    void calls(const Agent& a, const std::vector<LiveCallView>& calls) const;
    void monitoring(const Agent& a, std::uint64_t attempt, const std::string& agent,
                    const std::string& mode) const;
    void monitor_ended(const Agent& a, std::uint64_t attempt, const std::string& reason) const;
    // To a console whose supervisor proved who they are (`supervise`).
    void supervisor(const std::string& peer, const std::string& agent,
                    const std::string& name) const;

    // Events for supervisors and CRMs (PUB).
    void agent_event(const Agent& a) const;
    void agent_gone(const std::string& agent) const;
    void call_connected(const std::string& campaign, std::uint64_t attempt,
                        const std::string& agent, double connect_ms) const;
    // `part`: the disposition of one agent's part of a call that went on with another agent.
    void call_disposed(const std::string& campaign, std::uint64_t attempt, const std::string& agent,
                       const std::string& code, bool part = false) const;
    void call_controls(const std::string& campaign, const std::string& agent,
                       const ControlsView& v) const;
    // A transfer's or consult's progress, to an agent in it (`agent`: the other agent).
    void transfer(const Agent& a, std::uint64_t attempt, const std::string& state,
                  const std::string& agent, const std::string& reason) const;
    void call_transfer(const std::string& campaign, std::uint64_t attempt, const std::string& agent,
                       const std::string& target, const std::string& state) const;
    // A supervisor began (or switched) monitoring a call (`mode`), or left it (mode empty).
    void call_monitor(const std::string& campaign, std::uint64_t attempt, const std::string& agent,
                      const std::string& supervisor, const std::string& mode) const;

  private:
    void send(const Agent& a, const nlohmann::json& m) const;
    AgentChannel* channel_ = nullptr;
};

}  // namespace outpace
