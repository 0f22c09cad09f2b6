// The engine: campaigns dialled over SIP trunks on one libevent loop. Each pacing tick asks the
// campaign's policy how many calls to launch, takes that many contacts from the hopper, records
// the attempts durably (one synced batch), then sends the INVITEs. Answered calls feed their RTP
// to answering-machine detection; the verdict decides what happens next: a person goes to the
// longest-ready agent (agents.cc) or, with none in time, hears the safe-harbor message. Every call
// ends with its attempt completed in the ledger (a connected one at its disposition).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "answering-detect/detector.h"
#include "campaigns/campaign.h"
#include "campaigns/hopper.h"
#include "campaigns/ledger.h"
#include "campaigns/store.h"
#include "dialer/engine/agent_channel.h"
#include "dialer/engine/engine_config.h"
#include "dialer/media/rtp.h"
#include "dialer/sip/sip_stack.h"
#include "metrics/metrics.h"
#include "pacing/policy.h"

struct event_base;
struct event;

namespace outpace {

// An agent's state as the desktop and supervisors see it (docs/agent-protocol.md).
enum class AgentState { connecting, paused, ready, reserved, talking, wrapup };
const char* to_string(AgentState s);

// What `outpace run` shows while it runs and `outpace ctl status` returns.
struct CampaignStatus {
    std::string name;
    std::string state;  // running | paused | stopped | finished
    long dialled = 0, in_progress = 0, answered = 0, humans = 0, machines = 0, fax = 0, unknown = 0,
         connected = 0, abandoned = 0, failed = 0, invalid = 0, no_answer = 0, busy = 0,
         carrier_errors = 0;
    long waiting = 0;  // live answers waiting for an agent now
    // IVR surveys: sessions under way, and surveys ended complete / incomplete.
    long survey_lines = 0;  // 0: not an IVR survey
    long surveys = 0, surveys_complete = 0, surveys_incomplete = 0;
    // Agents serving the campaign, by state.
    long agents_ready = 0, agents_talking = 0, agents_wrapup = 0, agents_paused = 0;
    // Human verdict to the customer's first packet relayed to the agent (ms), connected calls.
    double heard_ms_median = 0, heard_ms_p99 = 0;

    double window_abandon_rate() const {
        return window_live ? double(window_abandoned) / double(window_live) : 0;
    }
    long window_live = 0, window_abandoned = 0;
    long rtp_packets = 0, rtp_lost = 0;  // over the calls that ended
    double max_abandon_rate = 0;
    bool idle = false;  // nothing to dial now and no call in progress
};

// What relaying adds to the audio between customer and agent: from a packet's arrival at the
// engine's socket (kernel timestamp) to the relayed packet's send, over every relayed packet.
struct RelayFigures {
    std::uint64_t packets = 0;
    double p50_us = 0, p99_us = 0, max_us = 0;
};

class Engine final : public sip::CallObserver {
  public:
    Engine(const EngineConfig& config, Store& store, event_base* loop);
    ~Engine() override;

    // Loads the campaigns and prompts, recovers attempts a crash left in flight, binds SIP and
    // starts the pacing tick. Returns false with every problem in `errors`.
    bool start(std::vector<std::string>* errors);
    // Stops launching; calls in progress may finish within the drain timeout, then are ended.
    // The loop exits when the last call is completed and the ledger flushed.
    void stop();
    bool stopping() const { return stopping_; }

    // Control: by campaign name. False when there is no such campaign.
    bool pause(const std::string& campaign);
    bool resume(const std::string& campaign);
    bool stop_campaign(const std::string& campaign);
    std::vector<CampaignStatus> status() const;
    std::size_t agents_logged_in() const { return agents_.size(); }
    RelayFigures relay_figures() const;
    metrics::Metrics& metrics() { return metrics_; }
    std::size_t calls_in_progress() const { return calls_.size(); }

    // sip::CallObserver
    void on_progress(sip::CallId call, int status) override;
    void on_answered(sip::CallId call, const std::string& sdp) override;
    void on_failed(sip::CallId call, int status, const std::string& phrase, bool local) override;
    void on_ended(sip::CallId call, bool by_remote) override;

  private:
    struct Run;
    struct Call;
    struct Trunk;
    struct Agent;

    static void on_tick(int, short, void* self);
    static void on_media_tick(int, short, void* self);
    void tick();
    void launch(Run& run, Timestamp now);
    void originate(Run& run, Attempt attempt);
    void on_audio(Call& call, std::span<const std::int16_t> pcm, std::chrono::milliseconds at);
    void on_verdict(Call& call, const amd::Event& verdict);
    void connect_or_abandon(Call& call, const char* verdict);
    void play(Call& call, const std::vector<std::int16_t>* prompt);
    void hang_up(Call& call);
    void finish(Call& call, Outcome outcome, int sip_code);
    void abandon(Call& call);
    void carrier_failed(Trunk& trunk);
    void decided(Call& call, Outcome outcome);
    bool trusted_source(const std::string& ip) const;
    // The trunks' and logged-in agents' addresses: SIP requests from anyone else are dropped.
    std::vector<std::string> sip_peers() const;
    void refresh_sip_peers();
    // IVR surveys (survey.cc).
    void start_survey(Call& call);
    void survey_ask(Call& call, std::size_t question);
    void survey_key(Call& call, char key, bool inband);
    void survey_retry(Call& call, bool invalid);
    void survey_answered(Call& call, const std::string& answer);
    bool survey_frame(Call& call, std::span<const std::int16_t>& sent);

    // Agents (agents.cc): desktops, their softphone legs, routing and wrap-up.
    void on_agent_request(const std::string& peer, const std::string& key,
                          const AgentRequest& request);
    void agent_login(const std::string& peer, const std::string& key, const AgentRequest& request);
    void agent_ready(Agent& agent);
    void agent_pause(Agent& agent, const std::string& reason);
    void agent_disposition(Agent& agent, const AgentRequest& request);
    void agent_logout(Agent& agent, const std::string& reason);
    void agent_next(Agent& agent);
    void agent_dial(Agent& agent);
    void dial_leg(Agent& agent);
    void leg_answered(Agent& agent, const std::string& sdp);
    void leg_failed(Agent& agent, int status, const std::string& phrase);
    void leg_ended(Agent& agent);
    void set_state(Agent& agent, AgentState state, const std::string& reason = "");
    void after_wrapup(Agent& agent);
    void start_wrapup(Agent& agent, Call& call);
    void complete_wrapup(Agent& agent, const std::string& code, const std::string& notes,
                         std::int64_t callback_at);
    Agent* longest_ready(const Run& run);
    bool serves(const Agent& agent, const Run& run) const;
    void connect(Call& call, Agent& agent);
    void route_waiting();
    void expire_waiting();
    void agents_tick();
    // Agents serving `run`, by AgentState (metrics::kAgentStates names them in that order).
    std::array<long, metrics::kAgentStates.size()> agent_counts(const Run& run) const;
    void send_agent(const Agent& agent, const nlohmann::json& message);
    void publish_agent(const Agent& agent);
    void fill_agent_view(const Run& run, pacing::Snapshot& s) const;
    void relayed(std::chrono::steady_clock::time_point arrived);
    void count_live(Run& run);
    void count_abandoned(Run& run);
    // A call AMD released as a machine: under Ofcom counting, the campaign's estimated share of
    // them were people, and count as live answers and abandons.
    void count_machine_release(Run& run);
    // Rolls the campaign's abandon window to now and reads its figures into the status.
    void refresh_window(Run& run);
    void update_gauges();
    // Writes the outcomes and progress held for the ledger. When the store cannot write (a full
    // disk), they stay in memory, dialling stalls, and each call (at most once a second, or at
    // once with `retry_now`) asks the store to recover first.
    void flush_completed(bool retry_now = false);
    void store_failed(const Status& status);
    Run* find_run(const std::string& name);

    EngineConfig config_;
    Store& store_;
    event_base* loop_;
    ::event* tick_ev_ = nullptr;
    ::event* media_ev_ = nullptr;
    std::unique_ptr<sip::SipStack> sip_;
    media::RtpPortPool ports_;
    std::vector<std::unique_ptr<Run>> runs_;
    std::map<std::string, std::unique_ptr<Trunk>> trunks_;
    std::unordered_map<sip::CallId, std::unique_ptr<Call>> calls_;
    std::unique_ptr<AgentChannel> agent_channel_;
    std::map<std::string, std::unique_ptr<Agent>> agents_;  // by agent id
    std::unordered_map<std::string, Agent*> agents_by_peer_;
    std::unordered_map<sip::CallId, Agent*> legs_;
    std::vector<IpNetwork> phone_networks_;      // where a login's softphone may be
    std::vector<TrunkAddress> trunk_addresses_;  // never an agent's phone
    std::size_t max_agents_ = 0;                 // logged in at once (each holds an RTP port)
    bool sip_filter_warned_ = false;
    // The store's last write error while it cannot write (empty when it can), since when, and
    // when to try again.
    Status store_stall_;
    std::chrono::steady_clock::time_point store_stalled_at_{}, store_retry_at_{};
    std::vector<sip::CallId> waiting_;  // live answers waiting for an agent, oldest first
    std::array<std::uint64_t, 1991> relay_bins_{};  // 10 µs bins to 10 ms, 1 ms bins to 1 s
    double relay_max_us_ = 0;
    metrics::Metrics metrics_;
    std::chrono::steady_clock::time_point started_, stop_at_, gauges_at_{}, contacts_at_{};
    bool stopping_ = false;
};

}  // namespace outpace
