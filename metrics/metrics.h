// Every metric Outpace exports, named in this one place (docs/metrics.md lists them), and the
// HTTP endpoint Prometheus scrapes. Labels are bounded: campaign, trunk, result, code, state,
// window, direction; never a phone number or an attempt id.
//
// The engine updates metrics from its loop; the exposer reads them from its own threads
// (prometheus-cpp's metrics are thread-safe).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace outpace::metrics {

// Indexes for labelled metrics the engine knows in advance.
// The ledger's outcomes, in campaigns/records.h's order (metrics does not depend on campaigns).
constexpr std::array<const char*, 12> kOutcomes = {
    "none",      "connected", "abandoned", "machine",       "fax",  "busy",
    "no_answer", "failed",    "invalid",   "carrier_error", "lost", "declined"};
constexpr std::array<const char*, 4> kVerdicts = {"human", "machine", "fax", "unknown"};
constexpr std::array<const char*, 6> kAgentStates = {"connecting", "paused",  "ready",
                                                     "reserved",   "talking", "wrapup"};

struct CampaignMetrics {
    prometheus::Counter* dials = nullptr;
    std::array<prometheus::Counter*, kOutcomes.size()> outcomes{};
    std::array<prometheus::Counter*, kVerdicts.size()> verdicts{};
    prometheus::Counter* live_answers = nullptr;
    prometheus::Counter* abandoned = nullptr;
    // Ofcom: machine releases counted as abandoned live answers at the campaign's estimate.
    prometheus::Counter* estimated_false_positives = nullptr;
    std::array<prometheus::Counter*, 2> surveys{};  // IVR surveys ended: complete, incomplete
    prometheus::Gauge* survey_sessions = nullptr;
    prometheus::Gauge* in_progress = nullptr;
    prometheus::Gauge* waiting = nullptr;       // live answers waiting for an agent
    prometheus::Gauge* abandon_rate = nullptr;  // over the campaign's regulatory window
    prometheus::Gauge* abandon_cap = nullptr;
    prometheus::Gauge* pacing_target = nullptr;  // calls the policy asked for at the last tick
    prometheus::Gauge* pacing_lines_per_agent = nullptr;
    prometheus::Gauge* pacing_live_rate = nullptr;
    prometheus::Gauge* pacing_expected_free_agents = nullptr;
    prometheus::Gauge* pacing_abandon_target = nullptr;  // rate the budget allows now
    prometheus::Gauge* pacing_calibration = nullptr;     // realised per predicted abandon
    std::array<prometheus::Gauge*, kAgentStates.size()> agents{};
    prometheus::Gauge* contacts_pending = nullptr;  // not final yet
    prometheus::Gauge* hopper_dialable = nullptr;   // dialable now (counted up to 1,000)
    prometheus::Histogram* agent_wait = nullptr;    // ready until the next call
    prometheus::Histogram* talk = nullptr;
    prometheus::Histogram* wrapup = nullptr;
    prometheus::Histogram* amd_decision = nullptr;  // answer to verdict
    prometheus::Histogram* connect = nullptr;       // human verdict to the agent hearing them
};

struct TrunkMetrics {
    prometheus::Gauge* up = nullptr;  // 0 while backing off after carrier errors
    prometheus::Gauge* calls = nullptr;
    prometheus::Counter* carrier_errors = nullptr;
    prometheus::Counter* failovers = nullptr;     // calls that left it for the next trunk
    prometheus::Gauge* targets = nullptr;         // addresses in use (not skipped) now
    prometheus::Counter* target_moves = nullptr;  // calls moved to another of its addresses
    prometheus::Counter* dns_failures = nullptr;  // lookups of its host name that failed
    prometheus::Gauge* registered = nullptr;      // 1 while registered (trunks that register)
    std::string name;
};

class Metrics {
  public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // Serves /metrics on ADDRESS:PORT (e.g. 127.0.0.1:9464). False with `error` set.
    bool serve(const std::string& address, std::string* error);

    CampaignMetrics& campaign(const std::string& name, const std::string& window);
    TrunkMetrics& trunk(const std::string& name);
    // Final SIP responses by code, per trunk.
    void sip_response(const std::string& trunk, int code);
    // Calls ended by special information tones after the answer, by code (IC, VC, RO, NC, IO,
    // unknown).
    void sit(const std::string& code);

    prometheus::Counter& rtp_packets_received() { return *rtp_in_; }
    prometheus::Counter& rtp_packets_lost() { return *rtp_lost_; }
    // SRTP packets that did not authenticate (forged, replayed, another key): dropped.
    prometheus::Counter& rtp_packets_unauthenticated() { return *rtp_unauthenticated_; }
    // RTCP that reached a call's RTP port (muxed, or meant for a neighbour's port + 1): dropped.
    prometheus::Counter& rtp_packets_rtcp() { return *rtp_rtcp_; }
    prometheus::Histogram& rtp_jitter() { return *rtp_jitter_; }
    prometheus::Histogram& relay_latency() { return *relay_; }
    prometheus::Histogram& store_write(bool begin) { return begin ? *store_begin_ : *store_end_; }
    // 20 ms recording frames the disk fell too far behind to take (the writer's queue was full).
    prometheus::Counter& recording_frames_dropped() { return *recording_dropped_; }
    // The store's memory by part: memtables, block cache, table readers.
    std::array<prometheus::Gauge*, 3>& store_memory() { return store_memory_; }
    prometheus::Gauge& agents_logged_in() { return *agents_logged_in_; }
    // Softphones registering (docs/agents.md): REGISTERs answered, by result (ok, challenged,
    // wrong_credentials, stale_nonce, replayed, rate_limited, locked_out, forbidden, malformed,
    // interval_too_brief), the accounts with a live binding, the sources locked out.
    prometheus::Counter& sip_register(const std::string& result);
    prometheus::Gauge& agents_registered() { return *agents_registered_; }
    prometheus::Gauge& register_lockouts() { return *register_lockouts_; }
    // 1 while the store cannot write (a full disk): no call is placed, outcomes wait in memory.
    prometheus::Gauge& store_stalled() { return *store_stalled_; }
    prometheus::Gauge& store_free_bytes() { return *store_free_bytes_; }

    std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  private:
    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<prometheus::Exposer> exposer_;
    std::map<std::string, CampaignMetrics> campaigns_;
    std::map<std::string, TrunkMetrics> trunks_;
    std::map<std::pair<std::string, int>, prometheus::Counter*> sip_;
    std::map<std::string, prometheus::Counter*> sit_;
    prometheus::Counter *rtp_in_, *rtp_lost_, *rtp_unauthenticated_, *rtp_rtcp_,
        *recording_dropped_;
    prometheus::Histogram *rtp_jitter_, *relay_, *store_begin_, *store_end_;
    std::array<prometheus::Gauge*, 3> store_memory_{};
    prometheus::Gauge* agents_logged_in_;
    prometheus::Family<prometheus::Counter>* register_family_;
    std::map<std::string, prometheus::Counter*> register_;
    prometheus::Gauge *agents_registered_, *register_lockouts_;
    prometheus::Gauge *store_stalled_, *store_free_bytes_;
};

}  // namespace outpace::metrics
