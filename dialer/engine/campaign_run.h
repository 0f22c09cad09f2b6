// One campaign while the engine runs: its hopper and ledger, its pacing policy and estimator, the
// trunk it dials through, its prompts, its status counters and metrics, the outcomes waiting for
// the ledger's next batch, and the regulatory abandon window, rolling by the minute.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "answering-detect/detector.h"
#include "campaigns/abandon_window.h"
#include "campaigns/campaign.h"
#include "campaigns/hopper.h"
#include "campaigns/ledger.h"
#include "campaigns/store.h"
#include "dialer/engine/caller_ids.h"
#include "dialer/engine/clock.h"
#include "dialer/engine/engine_config.h"
#include "dialer/engine/trunk.h"
#include "metrics/metrics.h"
#include "pacing/policy.h"

namespace outpace {

// stopping: the engine is stopping (calls in progress may end). stopped: by `ctl stop`.
enum class CampaignState { running, paused, stopping, stopped };
const char* to_string(CampaignState s);

// What `outpace run` shows while it runs and `outpace ctl status` returns.
struct CampaignStatus {
    std::string name;
    std::string state;  // running | paused | stopping | stopped | stalled: disk full | ...
    long dialled = 0, in_progress = 0, answered = 0, humans = 0, machines = 0, fax = 0, unknown = 0,
         connected = 0, abandoned = 0, failed = 0, invalid = 0, no_answer = 0, busy = 0,
         carrier_errors = 0;
    long waiting = 0;  // live answers waiting for an agent now
    // Contacts still to be dialled (pending, not on a call), counted off the loop once a minute;
    // -1 before the first count.
    long contacts_left = -1;
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
    // What the pacer started from (a warm start's source, or cold), and its last decision.
    std::string pacing_start;
    std::string pacing_reason;
    double pacing_calibration = 0;  // predictive: the calibration factor (0 before a decision)
    long pacing_agents = 0;         // agents its pacer counts (shared agents: those assigned to it)
};

// The campaign's audio, read at start.
struct Prompts {
    std::vector<std::int16_t> safe_harbor, machine_message;
    std::vector<std::int16_t> hold;  // looped to a customer on hold (never empty)
    // IVR survey: the questions' prompts (in the campaign's order) and the others.
    std::vector<std::vector<std::int16_t>> survey_questions;
    std::vector<std::int16_t> survey_invalid, survey_closing;
};

// The pacing settings a campaign file gives (its dialing mode, abandon cap, ring timeout, connect
// grace, team and line limits, on_machine): what the engine paces with, before its trunk's caps,
// and what `outpace plan` simulates.
pacing::PacingConfig campaign_pacing(const Campaign& c);

// The built-in music on hold: four seconds, looped.
std::vector<std::int16_t> default_hold_music();

class CampaignRun {
  public:
    // Loads the campaign file of `entry`, its prompts and trunks, recovers attempts a crash left
    // in flight and seeds the abandon window from the ledger. Null with `errors` when it cannot.
    static std::unique_ptr<CampaignRun> load(const CampaignEntry& entry, const EngineConfig& config,
                                             std::map<std::string, std::unique_ptr<Trunk>>& trunks,
                                             Store& store, metrics::Metrics& metrics,
                                             const Clock& clock, std::vector<std::string>* errors);

    // `outpace ctl reload`: reads the campaign's file again and, when it loads and every change
    // can be applied live, applies it between calls: rules, hours, pacing, AMD, prompts,
    // dispositions, screen pop, caller ID. Calls in progress keep the prompts they are playing.
    // A change that cannot apply live (name, kind, dialing mode or trunks, an IVR survey's
    // questions, the abandon window between 24 h and 30 days) refuses the whole reload. What
    // changed goes in `changed` (top-level sections of the file); false with `errors` otherwise.
    bool reload(Store& store, std::vector<std::string>* changed, std::vector<std::string>* errors);
    const CampaignEntry& entry() const { return entry_; }
    const Campaign& campaign() const { return campaign_; }
    const std::string& name() const { return campaign_.name; }
    CampaignState state() const { return state_; }
    void set_state(CampaignState s) { state_ = s; }
    bool running() const { return state_ == CampaignState::running; }
    // Its trunks (dialing.trunks), and the caller ID its calls carry on one of them: the
    // campaign's own, else that trunk's.
    TrunkRoutes& routes() { return routes_; }
    const std::string& caller_id(const Trunk& trunk) const {
        return campaign_.caller_id.empty() ? trunk.config().caller_id : campaign_.caller_id;
    }
    // A pool of caller IDs (dialing.caller_ids): the number for a call to `callee` now, counted
    // against its daily limit (nothing when every number has reached it); how many calls the
    // pool may still show today. `usage` is the engine's, shared by every campaign.
    bool has_caller_id_pool() const { return !campaign_.caller_ids.numbers.empty(); }
    void set_caller_id_usage(CallerIdUsage* usage) { caller_id_usage_ = usage; }
    std::optional<std::string> take_caller_id(const std::string& callee, std::int64_t wall_ms);
    int caller_ids_left(std::int64_t wall_ms) const;
    int unattended() const { return unattended_; }  // lines standing in for agents
    bool ivr_survey() const { return ivr_survey_; }
    bool preview() const { return campaign_.mode == DialingMode::preview && unattended_ == 0; }
    const amd::Config& amd() const { return amd_; }
    const Prompts& prompts() const { return *prompts_; }
    pacing::Estimator& estimator() { return estimator_; }
    metrics::CampaignMetrics& metrics() { return *m_; }
    Hopper& hopper() { return *hopper_; }
    Ledger& ledger() { return *ledger_; }
    CampaignStatus& status() { return status_; }
    const CampaignStatus& status() const { return status_; }

    // The abandon window (24 h or 30 days). Live answers, abandons and AMD machine releases are
    // added with their time; refresh() rolls it and reads its figures (with Ofcom's estimated
    // false positives among machine releases) into the status.
    void count_live(std::int64_t now_ms);
    void count_abandoned(std::int64_t now_ms);
    void count_machine_release(std::int64_t now_ms);
    void refresh_window(std::int64_t now_ms);

    // Warm start: the estimator and calibration from the campaign's saved state if it is recent,
    // else learnt from its recent attempts in the ledger, else from `pacing.prior`'s campaign;
    // cold when none of them holds anything. The status says which. Called at load.
    void warm_start(const Store& store, std::int64_t now_ms);
    // Saves what the pacer has learnt (the engine calls it every few seconds and at stop).
    Status save_pacing(Store& store, std::int64_t now_ms);

    // The pacing decision for this tick: how many calls to place now, after the policy's caps
    // and the trunk's `allowance`. Sets the pacing gauges.
    int plan(pacing::Snapshot& s, int allowance);

    // Outcomes. decided(): known while the call is still up (abandoned, connected) or news worth
    // keeping (a survey answer): written at the next tick so a crash keeps it. completed(): the
    // attempt's end, written at the next tick in one batch. ended(): the status counters.
    void decided(const Attempt& a) { progress_.push_back(a); }
    void completed(Attempt a) { completed_.push_back(std::move(a)); }
    void ended(Outcome o);
    std::size_t held() const { return completed_.size(); }
    // Progress and outcomes on their way to the ledger: taken on the loop, written on the
    // ledger's writer (write_held), and what a store that could not write left given back for
    // the next try, ahead of anything held since.
    struct Held {
        std::vector<Attempt> progress, completed;
        bool empty() const { return progress.empty() && completed.empty(); }
    };
    Held take_held();
    void give_back(Held&& held);
    // Writes them (on the ledger's writer): what is written, or refused by the ledger (logged),
    // leaves `held`; the store's I/O error is returned with the rest left in it.
    Status write_held(Held& held, Timestamp now, metrics::Metrics& metrics);
    // A batch of this campaign's attempts is being written before its calls leave: the next
    // launch waits for it, so that the pacer sees its calls and the trunks' caps count them.
    bool beginning() const { return beginning_; }
    void set_beginning(bool on) { beginning_ = on; }

    // Human verdict to the agent hearing the customer.
    void heard(double ms);
    double heard_percentile(double q) const;

    // Preview: contacts an agent passed over in this run.
    std::set<std::string>& skipped() { return skipped_; }
    // Whether anyone is left to dial at all (checked at most once a second).
    void check_idle(SteadyTime now, Timestamp wall);

  private:
    CallerIdUsage* caller_id_usage_ = nullptr;
    CampaignRun() = default;
    void read_prompts(std::vector<std::string>* errors);
    static std::string read_text(const std::string& path);
    void configure_pacing();
    // Every call of `c` on each of the run's trunks needs a caller ID: the campaign's or the
    // trunk's. At load and at reload.
    void check_caller_ids(const Campaign& c, std::vector<std::string>* errors) const;

    Campaign campaign_;
    CampaignState state_ = CampaignState::running;
    std::unique_ptr<Hopper> hopper_;
    std::unique_ptr<Ledger> ledger_;
    pacing::PacingConfig pacing_;
    std::unique_ptr<pacing::Policy> policy_;
    pacing::Estimator estimator_;
    TrunkRoutes routes_;
    int unattended_ = 0;
    bool ivr_survey_ = false;
    amd::Config amd_;
    std::unique_ptr<Prompts> prompts_ = std::make_unique<Prompts>();
    // Prompts a reload replaced: calls in progress may still be playing them.
    std::vector<std::unique_ptr<Prompts>> retired_prompts_;
    CampaignEntry entry_;
    std::string yaml_;                // the file's text as loaded
    std::vector<Attempt> completed_;  // recorded in the ledger at the next tick, in one batch
    std::vector<Attempt> progress_;   // in flight, with news worth keeping
    bool beginning_ = false;
    CampaignStatus status_;
    metrics::CampaignMetrics* m_ = nullptr;
    std::vector<double> connect_ms_;
    std::set<std::string> skipped_;
    SteadyTime idle_checked_{};
    std::unique_ptr<RollingAbandonWindow> window_;
    double fp_carry_ = 0;  // Ofcom: estimated false positives not yet a whole call
};

}  // namespace outpace
