// The campaign report, computed from the contacts and the ledger.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/store.h"

namespace outpace {

struct AbandonWindow {
    std::string window;            // "24h" or "30d"
    std::size_t live_answers = 0;  // connected + abandoned
    std::size_t abandoned = 0;
    std::size_t machines = 0;  // calls AMD released as machines
    // Ofcom: the campaign's estimate of the share of machine releases that were people; those
    // count as live answers and as abandoned. 0 unless the campaign counts them.
    double false_positive_rate = 0;
    double false_positives() const { return false_positive_rate * static_cast<double>(machines); }
    double live_counted() const { return static_cast<double>(live_answers) + false_positives(); }
    double abandoned_counted() const { return static_cast<double>(abandoned) + false_positives(); }
    double rate() const { return live_counted() > 0 ? abandoned_counted() / live_counted() : 0.0; }
};

struct CampaignReport {
    std::string campaign;
    std::size_t contacts = 0;
    std::map<std::string, std::size_t> by_state;         // contact state -> contacts
    std::map<std::string, std::size_t> by_last_outcome;  // last outcome -> contacts
    std::size_t attempts = 0;
    std::size_t in_flight = 0;
    std::map<std::string, std::size_t> attempts_by_outcome;
    std::map<std::string, std::size_t> amd_verdicts;  // human | machine | fax | unknown
    AbandonWindow last_24h{"24h"}, last_30d{"30d"};
    double max_abandon_rate = 0;
    // Compliance checks and agents (only when asked: they hold every contact's zones in memory).
    bool checked = false;
    std::size_t outside_hours = 0;     // attempts started outside calling hours, callee's time
    std::size_t over_attempt_cap = 0;  // contacts with more attempts than max_attempts
    int max_attempts = 0;
    struct AgentTotals {
        std::size_t calls = 0;
        std::int64_t talk_ms = 0, wrap_ms = 0;
    };
    std::map<std::string, AgentTotals> agents;  // by agent id, connected calls
};

CampaignReport build_report(const Store& store, const Campaign& campaign, Timestamp now,
                            bool checks = false);

// The report built from one pass over the contacts and one over the attempts, the latter cut
// into `parts` read on threads of their own (Store::for_each_attempt_split): contact() on one
// thread (before the attempts, or alongside them: the attempts need nothing from the contacts),
// attempt(part, a) from each part's thread, then finish(). The calling-hours
// check judges each attempt by the zones it was dialled under; attempts recorded before the
// ledger kept them cost finish() one more pass over the contacts.
class SummaryBuilder {
  public:
    SummaryBuilder(const Campaign& campaign, Timestamp now, bool checks, std::size_t parts);
    ~SummaryBuilder();
    SummaryBuilder(const SummaryBuilder&) = delete;
    SummaryBuilder& operator=(const SummaryBuilder&) = delete;
    void contact(const Contact& c);
    void attempt(std::size_t part, const Attempt& a);
    CampaignReport finish(const Store& store);

  private:
    struct Part;
    // Whether calling hours were open in `zones` at `started_ms`, remembered by (zone group,
    // minute).
    struct OpenAt {
        bool operator()(const Campaign& campaign, const std::string& zones,
                        std::int64_t started_ms);
        std::unordered_map<std::string, std::uint32_t> group_index;
        std::vector<std::string> groups;
        std::unordered_map<std::uint64_t, bool> verdicts;
        ZoneCache cache;
    };
    const Campaign& campaign_;
    std::int64_t now_ms_;
    bool checks_;
    CampaignReport r_;
    std::vector<std::unique_ptr<Part>> parts_;
};
std::string report_text(const CampaignReport& r);
std::string report_json(const CampaignReport& r);

}  // namespace outpace
