// The agents logged in: their desktops' requests (docs/agent-protocol.md), their states, the
// softphone leg kept up for each agent's shift, routing live answers to the longest-ready agent
// within the 2-second rule, the relay between customer and agent, wrap-up and dispositions,
// preview dialling and heartbeats. Messages to desktops are built by AgentProtocol.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "dialer/engine/agent.h"
#include "dialer/engine/agent_accounts.h"
#include "dialer/engine/agent_phone.h"
#include "dialer/engine/agent_protocol.h"
#include "dialer/engine/call.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/engine/registrar.h"
#include "dialer/media/mixer.h"
#include "pacing/policy.h"

namespace outpace {

// What the relay adds to the audio between customer and agent: from a packet's arrival at the
// engine's socket (kernel timestamp) to the relayed packet's send, over every relayed packet.
struct RelayFigures {
    std::uint64_t packets = 0;
    double p50_us = 0, p99_us = 0, max_us = 0;
    // Media workers, the conversations they relay now, and those lent to them so far.
    std::size_t workers = 0, on_workers = 0;
    std::uint64_t lent = 0;
    // Answers listened to (AMD) on the workers now, and so far.
    std::size_t listening = 0;
    std::uint64_t listened = 0;
};

// One agent as the supervisors' wallboard shows it (`outpace ctl status`'s `agents`).
struct AgentFloorView {
    std::string agent, name, state, reason;
    double state_s = 0;         // time in the current state
    std::string campaign;       // the call's campaign (talking, wrap-up, preview), else empty
    std::uint64_t attempt = 0;  // the call's attempt, or 0
    long calls = 0;             // calls handled this shift
    // Busy (talking, wrap-up, a preview shown) over busy + ready, this shift; 0 before either.
    double occupancy = 0;
};

class AgentPool {
  public:
    // What the pool needs from the engine that owns the calls and campaigns.
    class Host {
      public:
        virtual ~Host() = default;
        virtual CampaignRun* find_run(const std::string& name) = 0;
        virtual std::vector<CampaignRun*> runs() = 0;
        virtual Call* find_call(sip::CallId id) = 0;
        // Records the attempt and places the call (preview); null when it could not.
        virtual Call* place_call(CampaignRun& run, Attempt attempt) = 0;
        // The agents' softphones changed: the SIP filter's peers follow.
        virtual void phones_changed() = 0;
        // The agents file (null in lab mode: any desktop may be any agent, phones are given at
        // login) and where an agent's softphone is registered (null: not registered).
        virtual const AgentDirectory* directory() const = 0;
        virtual const Registrar::Binding* registered(const std::string& agent) const = 0;
        virtual bool stopping() const = 0;
    };

    AgentPool(const EngineConfig& config, Host& host, EngineEnv& env, Store& store,
              media::RtpPortPool& ports, metrics::Metrics& metrics);
    ~AgentPool();
    // The SIP stack (for softphone legs) and the desktops' channel, once they exist.
    void attach(sip::SipStack* sip, AgentChannel* channel);

    std::size_t size() const { return agents_.size(); }
    // Hosts of the logged-in agents' softphones.
    std::vector<std::string> phone_hosts() const;

    // A desktop's request (already validated by the channel).
    void request(const std::string& peer, const std::string& key, const AgentRequest& r);

    // An agent's registered softphone appeared, moved or went: a logged-in agent waiting for it
    // is called now.
    void registration_changed(const std::string& agent);
    // The agents file was reloaded: agents no longer in it are logged out (after their call).
    void accounts_changed();

    // Softphone legs: SIP events for calls that are legs (false: not a leg).
    bool leg_answered(sip::CallId id, const std::string& sdp);
    bool leg_failed(sip::CallId id, int status, const std::string& phrase);
    bool leg_ended(sip::CallId id);

    // Routing. A live answer goes to the longest-ready agent serving its campaign now, or waits
    // (oldest first) until its deadline, then hears the safe-harbor message.
    void route(Call& call);
    // AMD heard a machine and the campaign wants an agent to leave the message.
    bool take_machine(Call& call);
    // The customer's audio to the agent; false when no agent can hear it.
    bool relay_to_agent(Call& call, std::span<const std::int16_t> pcm, SteadyTime arrived);
    // The customer pressed a key: to the agent's desktop and softphone.
    void customer_key(Call& call, char key);
    // The call ended with `outcome`: its agent goes to wrap-up (a conversation) or, for a preview
    // call that reached nobody, moves on. False when no agent takes the attempt (the owner
    // completes it).
    bool call_ended(Call& call, Outcome outcome, int sip_code);

    // Heartbeats, wrap-up limits and expired waits (every media tick); conversations that can
    // be relayed by a media worker are lent to one (both legs on the agent's worker).
    void tick();
    // The media workers conversations are lent to (null or empty: all audio on the loop).
    void set_media_workers(media::MediaWorkers* workers) { media_ = workers; }
    // Whether an agent is still in wrap-up (the engine's stop waits for dispositions).
    bool wrapping() const;
    // The engine stops: wrap-ups are completed and everyone is logged out.
    void log_everyone_out();

    // Agents shared between campaigns: each agent is counted by one campaign's pacer at a time,
    // the campaigns with contacts to dial dividing the agents by their `agents.share`. Agents
    // whose campaign stopped, paused or ran out of contacts move to another (every tick); an
    // agent's next campaign is chosen again each time it takes a call.
    void apportion();
    // For pacing: the agents `run`'s pacer counts. For status: counts() of all serving it.
    void fill_view(const CampaignRun& run, pacing::Snapshot& s) const;
    std::array<long, metrics::kAgentStates.size()> counts(const CampaignRun& run) const;
    RelayFigures relay_figures() const;
    // Every agent logged in, for supervisors.
    std::vector<AgentFloorView> floor() const;
    // A supervisor's message to one agent (`agent`) or to every agent serving `campaign` (or
    // everyone, both empty); returns how many desktops it was sent to.
    std::size_t message(const std::string& agent, const std::string& campaign,
                        const std::string& from, const std::string& text);

  private:
    SteadyTime now() const { return env_.clock().now(); }
    bool serves(const Agent& a, const CampaignRun& run) const;
    // Whether `run`'s pacer may count `a`: it serves the campaign, which is running and dials
    // for agents (not an IVR survey, unattended lines or preview).
    bool paced_by(const Agent& a, const CampaignRun& run) const;
    // Chooses `a`'s pacing_run: among the campaigns whose pacer may count it (those with
    // contacts to dial first), the one with the fewest agents for its share.
    void assign(Agent& a);
    Agent* longest_ready(const CampaignRun& run);
    Agent* find_agent(const std::string& id);
    void set_state(Agent& a, AgentState state, const std::string& reason = "");
    void login(const std::string& peer, const std::string& key, const AgentRequest& r);
    // A supervisor's console proves who it is: the password and the `supervisor` role.
    void supervise(const std::string& peer, const std::string& key, const AgentRequest& r);
    // Checks `r`'s password against the agents file off the loop (failures counted per agent id,
    // lockouts, a busy queue refused), then `on_ok` on the loop, or the error to `peer`.
    void check_password(const std::string& peer, const AgentRequest& r, AgentRequest::Type request,
                        std::function<void()> on_ok);
    // After the password (if any) was checked: the session starts or resumes.
    void start_session(const std::string& peer, const std::string& key, AgentRequest r);
    // With an agents file: the account's campaigns, skills and phone into `r`; else the refusal.
    std::string apply_account(const AgentAccount& account, AgentRequest& r) const;
    std::string phone_label(const Agent& a) const;
    void ready(Agent& a);
    void pause(Agent& a, const std::string& reason);
    void hangup(Agent& a);
    void logout(Agent& a, const std::string& reason);
    void disposition(Agent& a, const AgentRequest& r);
    void next(Agent& a);
    void dial(Agent& a);
    void skip(Agent& a);
    // A number the agent dials, held to the campaign's rules like every other call.
    void manual_dial(Agent& a, const AgentRequest& r);
    // Places `attempt` for `a`, who listens from the first ring (preview and manual calls).
    void place_for(Agent& a, CampaignRun& run, Attempt attempt, AgentRequest::Type request);
    // hold, unhold, mute, unmute, record_pause, record_resume, dtmf.
    void control(Agent& a, const AgentRequest& r);
    // The contact's earlier attempts for the screen pop, newest first (not `except`).
    std::vector<Attempt> history(const CampaignRun& run, const Contact& contact,
                                 std::uint64_t except = 0) const;
    void start_wrapup(Agent& a, Call& c);
    void complete_wrapup(Agent& a, const std::string& code, const std::string& notes,
                         std::int64_t callback_at, bool callback_for_me = false);
    // Ready agents whose personal callbacks are due are shown them (as a preview), once a
    // second.
    void offer_personal_callbacks();
    void after_wrapup(Agent& a);
    void connect(Call& c, Agent& a);
    OfferView offer_for(Call& c);
    // Supervisors' monitoring (agent_monitor.cc). A monitored call's room: its mixer (the
    // customer is party 0, the call's agent 1, each supervisor its own), by the call's id.
    struct Room {
        media::Mixer mixer;
        std::map<std::string, media::Mixer::Party> guests;  // supervisors, consult targets
        media::Mixer::Party next_party = 2;
    };
    void live_calls(Agent& s);
    // A desktop's message: an agent's to a supervisor (or all of them), a supervisor's to an
    // agent, a campaign's agents or everyone; at most 5 at once and one a second after that.
    void desk_message(Agent& a, const AgentRequest& r);
    void monitor(Agent& s, const AgentRequest& r);
    void hear_by_modes(Room& room);
    // `c`'s room, made with the customer and the agent when it has none; `g` in it as a guest.
    Room& room_for(Call& c);
    void add_guest(Room& room, Agent& g);
    // The attempt keeps the supervisor's stretch of monitoring that ends now.
    void close_monitoring(Agent& s, Call& c);
    void stop_monitor(Agent& s, const std::string& reason);
    static bool monitor_mode(const std::string& mode);
    // `g` leaves the room it is a guest in (the room goes with its last guest).
    void leave_room(Agent& g);
    // Transfers, consults and conferences between agents (agent_transfer.cc).
    void transfer(Agent& a, const AgentRequest& r);
    // A target for `a`'s waiting transfer: the agent asked for when ready, else the longest-ready
    // agent of the queue (a skill, else a campaign), never `a`.
    Agent* transfer_target(const Agent& a);
    // Waiting transfers find their targets or run out (every tick).
    void transfers_tick();
    void transfer_found(Agent& a, Agent& b, Call& c);
    // The customer goes on with `b`; `a` wraps its part up.
    void hand_over(Agent& a, Agent& b, Call& c, const std::string& how);
    // `a`'s transfer ends without moving the customer (`state` for its desktop: cancelled or
    // failed): the consult target leaves, the customer comes off hold.
    void drop_transfer(Agent& a, const std::string& state, const std::string& reason);
    void complete_transfer(Agent& a);
    void start_conference(Agent& a);
    // A consult or conference guest leaves `c`: its stretch is kept, it is free again.
    void end_consult(Agent& b, Call& c, const std::string& reason);
    // Numbers outside (transfer.external_allowed): a leg on the customer's trunk, a guest of
    // the call's room once it answers (consult, conference), or the customer's only partner
    // after a blind transfer or a complete (talk).
    struct External {
        sip::CallId leg = 0, call = 0;  // its own SIP leg; the customer's call
        std::string number, agent;      // the number; the agent who asked
        int port = 0;                   // reserved for the offer until it answers
        std::unique_ptr<media::AudioChannel> rtp;
        std::string mode;  // "" (ringing), consult, conference or talk
        std::int64_t since_ms = 0;
        bool answered = false, over = false;  // its leg answered; ended by the far end
    };
    static std::string external_key(sip::CallId leg) { return "ext:" + std::to_string(leg); }
    External* external_of(const std::string& guest);
    // The mode of a room's guest: an agent's, or a number's (talk is heard by all, as a
    // conference).
    std::string mode_of(const std::string& guest);
    bool dial_external(Agent& a, Call& c);
    void external_answered(External& x, const std::string& sdp);
    void hand_over_external(Agent& a, External& x, Call& c);
    // The number leaves the call: its stretch into the attempt, its leg hung up (or cancelled).
    void end_external(sip::CallId leg, Call* c, const std::string& reason);
    void add_external(Room& room, External& x);
    // The first agent's part is over: its own wrap-up (the call went on without it).
    void start_part_wrapup(Agent& a, Call& c, double talk_s);
    // The stretch `g` spent as a guest of `c`, into the attempt's legs.
    void close_guest_leg(Agent& g, Call& c);
    // A part's disposition, to the attempt wherever it is now (a live call, another agent's
    // wrap-up, the ledger).
    void dispose_part(Agent& a, const std::string& code);
    // Every supervisor on `c` leaves (the call ends or loses its agent).
    void end_monitors(Call& c, const std::string& reason);
    // Every 20 ms: each room's mix; rooms whose call is over are closed.
    void mix_rooms();
    // Audio of a monitored call into its room (`from`: null for the customer, else the agent or
    // a supervisor); false when the call has no room (straight relay).
    bool room_input(sip::CallId call, const Agent* from, std::span<const std::int16_t> pcm);
    void route_waiting();
    void expire_waiting();
    void dial_leg(Agent& a);
    // One relayed packet's figures; on the loop or on a media worker (atomics, and
    // prometheus-cpp's histogram is thread-safe).
    void relayed(SteadyTime arrived);
    // Plain conversations (no room, guest or number outside; keys not being played to the
    // agent) lent to the least busy media worker.
    void lend_conversations();
    // Agent time (the reports' occupancy): the agent's time since it was last counted, in its
    // current state, goes to the campaigns it was for (the call's; else the running campaigns it
    // serves, evenly) and to the UTC hours it fell in; written to the store every 10 s (and when
    // everyone is logged out).
    void count_time(Agent& a);
    void write_agent_time();

    const EngineConfig& config_;
    Host& host_;
    EngineEnv& env_;
    Store& store_;
    media::RtpPortPool& ports_;
    metrics::Metrics& metrics_;
    sip::SipStack* sip_ = nullptr;
    AgentProtocol protocol_;
    std::map<std::string, std::unique_ptr<Agent>> agents_;  // by agent id
    std::unordered_map<std::string, Agent*> by_peer_;
    std::unordered_map<sip::CallId, Agent*> legs_;
    std::vector<sip::CallId> waiting_;  // live answers waiting for an agent, oldest first
    // Desktop logins being checked (by desktop), and failed ones by agent id: after
    // kLoginFailures in a row, that id is refused for kLoginPause.
    std::set<std::string> checking_;
    struct LoginFailures {
        int count = 0;
        SteadyTime until{};
    };
    std::map<std::string, LoginFailures> login_failures_;
    std::vector<IpNetwork> phone_networks_;      // where a login's softphone may be
    std::vector<TrunkAddress> trunk_addresses_;  // never an agent's phone
    SteadyTime next_callback_check_{};
    SteadyTime next_time_write_{};
    // Agent time not yet written: (campaign, agent, hour) -> (staffed ms, paused ms).
    std::map<std::tuple<std::string, std::string, std::int64_t>,
             std::pair<std::int64_t, std::int64_t>>
        agent_time_;
    std::unordered_map<sip::CallId, Room> rooms_;  // monitored calls
    std::map<sip::CallId, External> externals_;    // numbers outside, by their SIP leg
    std::size_t max_agents_ = 0;                   // logged in at once (each holds an RTP port)
    std::array<std::atomic<std::uint64_t>, 1991> relay_bins_{};  // 10 µs to 10 ms, 1 ms to 1 s
    std::atomic<double> relay_max_us_{0};
    media::MediaWorkers* media_ = nullptr;
};

}  // namespace outpace
