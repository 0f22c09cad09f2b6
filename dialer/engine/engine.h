// The engine: campaigns dialled over SIP trunks, wired together. It owns the campaign runs
// (CampaignRun), the trunks (Trunk), the calls in progress (Call) and the agents (AgentPool), and
// is given everything from outside through its EngineEnv: the clock and timers, the SIP stack,
// call audio, the desktops' channel. Each pacing tick asks every running campaign how many calls
// to launch, records the attempts durably (one synced batch), then places the calls. The SIP
// stack's events go to the call or softphone leg they belong to. docs/engine.md draws who owns
// whom and who tells whom.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "campaigns/importer.h"
#include "campaigns/lists.h"
#include "campaigns/store.h"
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/call.h"
#include "dialer/engine/campaign_run.h"
#include "dialer/engine/engine_config.h"
#include "dialer/engine/engine_env.h"
#include "dialer/engine/trunk.h"
#include "metrics/metrics.h"

namespace outpace {

class Engine final : public sip::CallObserver, private CallEvents, private AgentPool::Host {
  public:
    Engine(const EngineConfig& config, Store& store, EngineEnv& env);
    ~Engine() override;

    // Loads the campaigns and prompts, recovers attempts a crash left in flight, opens SIP and
    // the desktops' channel and starts the timers. False with every problem in `errors`.
    bool start(std::vector<std::string>* errors);
    // Stops launching; calls in progress may finish within the drain timeout, then are ended.
    // The env is told finished() when the last call is completed and the ledger flushed.
    void stop();
    bool stopping() const override { return stopping_; }
    // Waits until the recordings' writer has put on disk everything asked of it so far (the
    // files of ended calls closed).
    void flush_recordings() { recordings_.flush(); }

    // Control: by campaign name. False when there is no such campaign.
    bool pause(const std::string& campaign);
    bool resume(const std::string& campaign);
    bool stop_campaign(const std::string& campaign);
    std::vector<CampaignStatus> status() const;
    std::size_t agents_logged_in() const { return agents_.size(); }
    // Reads the agents file again (accounts, credentials): logged-in agents no longer in it are
    // logged out after their call; calls go on. False with the file's errors, the old accounts
    // kept.
    bool reload_agents(std::vector<std::string>* errors);
    // Do-not-call changes from `outpace dnc` while this engine holds the store: written at once
    // (synced), so the next hopper claim already skips an added number. `scope`: "*" or a
    // campaign's name; `phones` in E.164. Empty on success, else why not.
    std::string change_dnc(bool remove, const std::string& scope,
                           const std::vector<std::string>& phones, const std::string& source,
                           std::int64_t at);
    // `outpace ctl reload [NAME]`: each running campaign's file read again and applied between
    // calls (CampaignRun::reload), and, without a name, campaigns added to the engine's config
    // file since the start loaded and started. One result per campaign looked at.
    struct ReloadResult {
        std::string campaign;
        bool applied = false, added = false;
        std::vector<std::string> changed, errors;
    };
    std::vector<ReloadResult> reload_campaigns(const std::string& name);
    // A list imported by `outpace contacts import` while this engine holds the store: the CLI
    // read and checked the rows; the engine stores the contacts that are still new and not on a
    // do-not-call list by now (an agent may have dialled one by hand, a DNC entry may have come
    // in), written with the log but not synced (an import is redone whole after a crash). One
    // verdict per contact; "busy" while the store catches up with flushes; else "" or why not.
    // `client`: the list's campaign's client as the importer read it (the engine uses its own
    // definition's when it runs that campaign).
    std::string import_contacts(const std::string& campaign, const std::string& client,
                                const std::vector<Contact>& contacts,
                                std::vector<ImportSink::Verdict>& verdicts);
    // `outpace lists reset|remove` while this engine holds the store: the CLI found the list's
    // numbers beside the engine; the engine re-reads each and changes those it still fits (never
    // a contact on a call), in one synced batch. "busy" while the store catches up; else "" or
    // why not.
    std::string change_list(const std::string& campaign, const std::vector<std::string>& phones,
                            const ListChange& change, ListChangeCounts& counts);
    // The definition an import stores for its campaign, unless this engine runs that campaign:
    // then the engine keeps the one it runs (reports judge by what dials) and `kept` says so.
    std::string save_imported_definition(const std::string& campaign, const StoredCampaign& c,
                                         bool* kept);
    // Registered softphones for `ctl status`: agent → its bindings (null without an agents
    // file), and the sources locked out.
    const Registrar* registrar() const { return registrar_.get(); }
    SteadyTime now() const { return env_.clock().now(); }
    RelayFigures relay_figures() const { return agents_.relay_figures(); }
    // The agents logged in, for supervisors' wallboards (ctl status).
    std::vector<AgentFloorView> agent_floor() const { return agents_.floor(); }
    // A supervisor's message to desktops (AgentPool::message).
    std::size_t message_agents(const std::string& agent, const std::string& campaign,
                               const std::string& from, const std::string& text) {
        return agents_.message(agent, campaign, from, text);
    }
    metrics::Metrics& metrics() { return metrics_; }
    std::size_t calls_in_progress() const { return calls_.size(); }
    // The trunks by name (ctl status: up, addresses, registration).
    const std::map<std::string, std::unique_ptr<Trunk>>& trunks() const { return trunks_; }

    // sip::CallObserver: for customers' calls or agents' softphone legs.
    void on_progress(sip::CallId call, int status) override;
    void on_early_media(sip::CallId call, const std::string& sdp) override;
    void on_answered(sip::CallId call, const std::string& sdp) override;
    void on_failed(sip::CallId call, const sip::Failure& failure) override;
    void on_ended(sip::CallId call, bool by_remote) override;

  private:
    // CallEvents
    void call_is_live(Call& call) override { agents_.route(call); }
    bool call_machine_to_agent(Call& call) override { return agents_.take_machine(call); }
    void call_key(Call& call, char key) override { agents_.customer_key(call, key); }
    bool call_audio(Call& call, std::span<const std::int16_t> pcm, SteadyTime arrived) override {
        return agents_.relay_to_agent(call, pcm, arrived);
    }
    // AgentPool::Host
    CampaignRun* find_run(const std::string& name) override;
    std::vector<CampaignRun*> runs() override;
    Call* find_call(sip::CallId id) override;
    Call* place_call(CampaignRun& run, Attempt attempt) override;
    // A call that moved to another trunk is found by its new SIP leg from now on.
    void rekey(sip::CallId old);
    void phones_changed() override { refresh_sip_peers(); }
    const AgentDirectory* directory() const override { return directory_ ? &*directory_ : nullptr; }
    const Registrar::Binding* registered(const std::string& agent) const override {
        return registrar_ ? registrar_->contact(agent) : nullptr;
    }
    bool load_agents(std::vector<std::string>* errors);
    bool fit_calls_to_files(std::vector<std::string>* errors);

    void tick();
    void media_tick();
    void drain(SteadyTime now);
    // What each campaign's pacer learnt goes to the store every 10 s and at stop.
    void save_pacing(bool now);
    void launch(CampaignRun& run);
    void finish(Call& call, Outcome outcome, int sip_code);
    // The trunks' and logged-in agents' addresses: SIP requests from anyone else are dropped.
    std::vector<std::string> sip_peers() const;
    bool trusted_source(const std::string& ip) const;
    void refresh_sip_peers();
    // Trunks named by host name whose answer's TTL (or backoff) ran out are looked up again.
    void look_up_trunks();
    void looked_up(Trunk& trunk, const sip::Located& result);
    // Trunks that must register: REGISTER sent when due, answers taken, lapses noticed.
    void seed_caller_id_usage();
    void register_trunks();
    void registration_answered(Trunk& trunk, int status, std::chrono::seconds granted);
    void update_gauges();
    // Hands the outcomes and progress held to the ledger's writer (one batch at a time, off the
    // loop). When the store cannot write (a full disk), they stay in memory, dialling stalls,
    // and each call (at most once a second) asks the store to recover first.
    void flush_completed();
    void take_held();
    Status write_held();
    void held_written(const Status& st);
    // What the ledger's writer is writing for flush_completed (or drain), and how.
    std::vector<std::pair<CampaignRun*, CampaignRun::Held>> held_;
    bool held_stalled_ = false, writing_held_ = false;
    Timestamp held_wall_{};
    // Work handed to the ledger's writer comes back to the loop only while the engine lives.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    void store_failed(const Status& status);

    const EngineConfig config_;
    Store& store_;
    EngineEnv& env_;
    metrics::Metrics metrics_;
    media::RtpPortPool ports_;
    // Declared before the calls whose recorders use it: it writes what they queued, then goes.
    media::RecordingWriter recordings_;
    // A count of things dropped, said in the log when it has grown, at most every 10 s.
    struct DropReport {
        std::uint64_t reported = 0;
        SteadyTime logged{};
    };
    void report_drops(DropReport& report, std::uint64_t dropped,
                      const std::function<std::string(std::uint64_t)>& line);
    DropReport recording_drops_, worker_event_drops_;
    // RTP ports the batches being written will take once durable (not yet taken from the pool).
    std::size_t ports_promised_ = 0;
    SteadyTime ports_waited_{};  // when "dialling waits" for a port was last said
    // The open-file limit (0: none) and the files open at start, for fit_calls_to_files().
    std::size_t file_limit_ = 0, other_files_ = 0;
    void recording_dropped();
    void start_media();
    // What wakes the loop when a worker has news (before the workers: they stop first).
    std::unique_ptr<Wakeup> media_wake_;
    // Media workers; declared before the calls and agents whose audio they carry: those come
    // home before the workers stop.
    std::unique_ptr<media::MediaWorkers> media_workers_;
    void media_events();
    std::map<std::string, std::unique_ptr<Trunk>> trunks_;
    // Looks up trunks named by host name; declared after the trunks so that it goes first (a
    // lookup's answer never arrives for a trunk that is gone).
    std::unique_ptr<sip::Dns> dns_;
    CallerIdUsage caller_id_usage_;  // before the runs that point at it
    std::vector<std::unique_ptr<CampaignRun>> runs_;
    std::optional<AgentDirectory> directory_;  // the agents file; none in lab mode
    std::unique_ptr<Registrar> registrar_;     // with an agents file
    std::unique_ptr<sip::SipStack> sip_;
    std::unique_ptr<AgentChannel> channel_;
    std::unique_ptr<CallContext> call_context_;
    AgentPool agents_;
    std::unordered_map<sip::CallId, std::unique_ptr<Call>> calls_;
    std::unique_ptr<Timer> tick_timer_, media_timer_;
    bool sip_filter_warned_ = false;
    // The store's last write error while it cannot write (empty when it can), since when, and
    // when to try again.
    // Counting each campaign's contacts left (off the loop, once a minute).
    void count_contacts_left(SteadyTime t);
    SteadyTime next_contacts_count_{};
    bool counting_contacts_ = false;
    Status store_stall_;
    SteadyTime store_stalled_at_{}, store_retry_at_{};
    SteadyTime started_, stop_at_, gauges_at_{}, contacts_at_{}, pacing_saved_at_{};
    bool stopping_ = false;
};

}  // namespace outpace
