#include "metrics/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

namespace outpace::metrics {
namespace {

using prometheus::Histogram;

// Seconds: telephony timings from tens of milliseconds to minutes.
const Histogram::BucketBoundaries kShort = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
const Histogram::BucketBoundaries kCall = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 3600};
const Histogram::BucketBoundaries kRelay = {0.0001, 0.0005, 0.001, 0.002, 0.005,
                                            0.01,   0.02,   0.05,  0.1,   0.5};

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    auto& r = *registry_;
    auto& rtp = prometheus::BuildCounter()
                    .Name("outpace_rtp_packets_total")
                    .Help("RTP packets from callees, counted when their call ends")
                    .Register(r);
    rtp_in_ = &rtp.Add({{"result", "received"}});
    rtp_lost_ = &rtp.Add({{"result", "lost"}});
    rtp_unauthenticated_ = &rtp.Add({{"result", "unauthenticated"}});
    rtp_rtcp_ = &rtp.Add({{"result", "rtcp"}});
    rtp_jitter_ =
        &prometheus::BuildHistogram()
             .Name("outpace_rtp_jitter_seconds")
             .Help("Interarrival jitter of each answered call's RTP (RFC 3550)")
             .Register(r)
             .Add({}, Histogram::BucketBoundaries{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1});
    relay_ = &prometheus::BuildHistogram()
                  .Name("outpace_relay_latency_seconds")
                  .Help("What relaying adds to a packet between customer and agent")
                  .Register(r)
                  .Add({}, kRelay);
    recording_dropped_ = &prometheus::BuildCounter()
                              .Name("outpace_recording_frames_dropped_total")
                              .Help("20 ms recording frames dropped: the disk was too far behind")
                              .Register(r)
                              .Add({});
    auto& store = prometheus::BuildHistogram()
                      .Name("outpace_store_write_seconds")
                      .Help("Synced ledger writes: attempts begun, outcomes recorded")
                      .Register(r);
    store_begin_ = &store.Add({{"op", "begin"}}, kShort);
    store_end_ = &store.Add({{"op", "complete"}}, kShort);
    auto& store_memory = prometheus::BuildGauge()
                             .Name("outpace_store_memory_bytes")
                             .Help(
                                 "The store's memory: memtables (written, not yet flushed), "
                                 "block cache (read data, at most 256 MiB), table readers")
                             .Register(r);
    store_memory_ = {&store_memory.Add({{"part", "memtables"}}),
                     &store_memory.Add({{"part", "block_cache"}}),
                     &store_memory.Add({{"part", "table_readers"}})};
    store_stalled_ = &prometheus::BuildGauge()
                          .Name("outpace_store_stalled")
                          .Help(
                              "1 while the store cannot write (a full disk): no call is placed, "
                              "outcomes wait in memory")
                          .Register(r)
                          .Add({});
    store_free_bytes_ = &prometheus::BuildGauge()
                             .Name("outpace_store_free_bytes")
                             .Help("Free space on the store's filesystem, every 15 s")
                             .Register(r)
                             .Add({});
    agents_logged_in_ = &prometheus::BuildGauge()
                             .Name("outpace_agents_logged_in")
                             .Help("Agents logged in, whatever their campaigns")
                             .Register(r)
                             .Add({});
    register_family_ = &prometheus::BuildCounter()
                            .Name("outpace_sip_register_total")
                            .Help("REGISTERs from softphones answered, by result")
                            .Register(r);
    agents_registered_ = &prometheus::BuildGauge()
                              .Name("outpace_agents_registered")
                              .Help("Agent accounts with at least one registered softphone")
                              .Register(r)
                              .Add({});
    register_lockouts_ =
        &prometheus::BuildGauge()
             .Name("outpace_sip_register_lockouts")
             .Help("Source addresses locked out for repeated wrong credentials now")
             .Register(r)
             .Add({});
    prometheus::BuildGauge()
        .Name("outpace_build_info")
        .Help("Always 1; the version in a label")
        .Register(r)
        .Add({{"version", "0.1"}})
        .Set(1);
}

Metrics::~Metrics() = default;

bool Metrics::serve(const std::string& address, std::string* error) {
    try {
        exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
    } catch (const std::exception& e) {
        *error = "metrics endpoint " + address + ": " + e.what();
        return false;
    }
    exposer_->RegisterCollectable(registry_);
    return true;
}

CampaignMetrics& Metrics::campaign(const std::string& name, const std::string& window) {
    auto [it, fresh] = campaigns_.try_emplace(name);
    CampaignMetrics& m = it->second;
    if (!fresh) return m;
    auto& r = *registry_;
    const prometheus::Labels c = {{"campaign", name}};
    auto with = [&](const char* key, const std::string& value) {
        auto l = c;
        l[key] = value;
        return l;
    };
    auto counter = [&](const char* metric,
                       const char* help) -> prometheus::Family<prometheus::Counter>& {
        return prometheus::BuildCounter().Name(metric).Help(help).Register(r);
    };
    auto gauge = [&](const char* metric, const char* help) -> prometheus::Gauge& {
        return prometheus::BuildGauge().Name(metric).Help(help).Register(r).Add(c);
    };
    auto histogram = [&](const char* metric, const char* help,
                         const Histogram::BucketBoundaries& b) -> Histogram& {
        return prometheus::BuildHistogram().Name(metric).Help(help).Register(r).Add(c, b);
    };
    m.dials = &counter("outpace_dials_total", "Calls placed (INVITEs sent)").Add(c);
    auto& outcomes = counter("outpace_call_outcomes_total", "Attempts completed, by outcome");
    for (std::size_t i = 0; i < kOutcomes.size(); ++i)
        m.outcomes[i] = &outcomes.Add(with("result", kOutcomes[i]));
    auto& verdicts = counter("outpace_amd_verdicts_total", "Answering-machine detection verdicts");
    for (std::size_t i = 0; i < kVerdicts.size(); ++i)
        m.verdicts[i] = &verdicts.Add(with("result", kVerdicts[i]));
    m.live_answers = &counter("outpace_live_answers_total",
                              "Live answers (people, and unknown verdicts sent to agents)")
                          .Add(c);
    m.abandoned = &counter("outpace_abandoned_total",
                           "Live answers not connected to an agent within the connect grace")
                       .Add(c);
    m.estimated_false_positives =
        &counter("outpace_amd_false_positives_estimated_total",
                 "Ofcom (pacing.count_amd_false_positives): machine releases counted as abandoned "
                 "live answers at the campaign's estimate, in whole calls; each is also a live "
                 "answer and an abandon of the abandon rate, not of the two counters above")
             .Add(c);
    auto& surveys = counter("outpace_surveys_total",
                            "IVR surveys ended, by result (complete: the last question answered "
                            "or passed; incomplete: the person hung up before)");
    m.surveys = {&surveys.Add(with("result", "complete")),
                 &surveys.Add(with("result", "incomplete"))};
    m.survey_sessions = &gauge("outpace_survey_sessions", "IVR survey sessions under way");
    m.in_progress = &gauge("outpace_calls_in_progress", "Calls ringing or answered");
    m.waiting = &gauge("outpace_calls_waiting_for_agent", "Live answers waiting for an agent");
    m.abandon_rate = &prometheus::BuildGauge()
                          .Name("outpace_abandon_rate")
                          .Help("Abandoned / live answers over the campaign's regulatory window")
                          .Register(r)
                          .Add(with("window", window));
    m.abandon_cap = &gauge("outpace_abandon_rate_cap", "The campaign's abandon-rate cap");
    m.pacing_target =
        &gauge("outpace_pacing_target_calls", "Calls the pacing policy asked for at the last tick");
    m.pacing_lines_per_agent =
        &gauge("outpace_pacing_lines_per_agent", "Calls in flight per agent not paused");
    m.pacing_live_rate =
        &gauge("outpace_pacing_live_rate", "The pacer's estimate of live answers per dial");
    m.pacing_expected_free_agents = &gauge("outpace_pacing_expected_free_agents",
                                           "The pacer's expected free agents over its horizon");
    m.pacing_abandon_target =
        &gauge("outpace_pacing_abandon_target",
               "Predictive: the abandon rate the window's remaining allowance lets pacing aim at");
    m.pacing_calibration =
        &gauge("outpace_pacing_calibration",
               "Predictive: abandons that happened per abandon the pacing model predicted");
    auto& agents = prometheus::BuildGauge()
                       .Name("outpace_agents")
                       .Help("Agents serving the campaign, by state")
                       .Register(r);
    for (std::size_t i = 0; i < kAgentStates.size(); ++i)
        m.agents[i] = &agents.Add(with("state", kAgentStates[i]));
    m.contacts_pending =
        &gauge("outpace_contacts_remaining", "Contacts not final yet (pending or in flight)");
    m.hopper_dialable =
        &gauge("outpace_hopper_dialable", "Contacts dialable right now (counted up to 1,000)");
    m.agent_wait = &histogram("outpace_agent_wait_seconds",
                              "How long an agent was ready before the next call", kCall);
    m.talk = &histogram("outpace_talk_seconds", "Talk time of connected calls", kCall);
    m.wrapup = &histogram("outpace_wrapup_seconds", "Wrap-up time, hang-up to disposition", kCall);
    m.amd_decision = &histogram("outpace_amd_decision_seconds",
                                "Answer to the answering-machine detection verdict", kShort);
    m.connect =
        &histogram("outpace_connect_seconds",
                   "Human verdict to the agent hearing the customer (2-second rule)", kShort);
    return m;
}

TrunkMetrics& Metrics::trunk(const std::string& name) {
    auto [it, fresh] = trunks_.try_emplace(name);
    TrunkMetrics& t = it->second;
    if (!fresh) return t;
    auto& r = *registry_;
    const prometheus::Labels l = {{"trunk", name}};
    t.name = name;
    t.up = &prometheus::BuildGauge()
                .Name("outpace_trunk_up")
                .Help("1 while the trunk takes calls; 0 while backing off after carrier errors")
                .Register(r)
                .Add(l);
    t.up->Set(1);
    t.calls = &prometheus::BuildGauge()
                   .Name("outpace_trunk_calls")
                   .Help("Calls in progress on the trunk")
                   .Register(r)
                   .Add(l);
    t.carrier_errors = &prometheus::BuildCounter()
                            .Name("outpace_trunk_carrier_errors_total")
                            .Help("503s, timeouts and transport errors from the trunk")
                            .Register(r)
                            .Add(l);
    t.failovers = &prometheus::BuildCounter()
                       .Name("outpace_trunk_failovers_total")
                       .Help(
                           "Calls this trunk refused or left unanswered that moved on to the "
                           "campaign's next trunk")
                       .Register(r)
                       .Add(l);
    t.targets = &prometheus::BuildGauge()
                     .Name("outpace_trunk_targets")
                     .Help(
                         "The trunk's addresses in use now (a host name's: those not skipped "
                         "after a 503 or silence)")
                     .Register(r)
                     .Add(l);
    t.target_moves = &prometheus::BuildCounter()
                          .Name("outpace_trunk_target_moves_total")
                          .Help(
                              "Calls one of the trunk's addresses refused (503) or left "
                              "unanswered that moved to another of its addresses")
                          .Register(r)
                          .Add(l);
    t.registered = &prometheus::BuildGauge()
                        .Name("outpace_trunk_registered")
                        .Help(
                            "1 while the trunk is registered to its carrier (trunks with "
                            "'register: true'; 0 before the first 200 and after a refusal)")
                        .Register(r)
                        .Add(l);
    t.dns_failures = &prometheus::BuildCounter()
                          .Name("outpace_trunk_dns_failures_total")
                          .Help(
                              "Lookups of the trunk's host name that failed (no answer, "
                              "SERVFAIL, no such name)")
                          .Register(r)
                          .Add(l);
    return t;
}

void Metrics::sip_response(const std::string& trunk, int code) {
    auto key = std::make_pair(trunk, code);
    auto it = sip_.find(key);
    if (it == sip_.end()) {
        auto& family = prometheus::BuildCounter()
                           .Name("outpace_sip_responses_total")
                           .Help("Final SIP responses to our INVITEs, by trunk and code")
                           .Register(*registry_);
        it = sip_.emplace(key, &family.Add({{"trunk", trunk}, {"code", std::to_string(code)}}))
                 .first;
    }
    it->second->Increment();
}

void Metrics::sit(const std::string& code) {
    auto& c = sit_[code];
    if (!c)
        c = &prometheus::BuildCounter()
                 .Name("outpace_sit_total")
                 .Help("Calls ended by special information tones heard after the answer, by code")
                 .Register(*registry_)
                 .Add({{"code", code}});
    c->Increment();
}

prometheus::Counter& Metrics::sip_register(const std::string& result) {
    auto& c = register_[result];
    if (!c) c = &register_family_->Add({{"result", result}});
    return *c;
}

}  // namespace outpace::metrics
