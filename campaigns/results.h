// What a campaign manager is judged on, over a date range: dials, contact rate, conversion,
// talk and wrap-up, AMD share and abandons, in total and grouped (by hour, day, list, agent,
// disposition or trunk), penetration of each list, and an hourly series for the HTML report's
// charts. Read from the ledger in one pass; `outpace report --from/--to/--by/--format`.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <cctz/time_zone.h>

#include "campaigns/campaign.h"
#include "campaigns/report.h"
#include "campaigns/store.h"

namespace outpace {

struct ResultFigures {
    std::size_t dials = 0;      // attempts started (each reached the network or was meant to)
    std::size_t in_flight = 0;  // of which not finished yet
    std::size_t answered = 0;   // connected, abandoned, machine or fax
    std::size_t live = 0;       // a person answered: connected (not a machine) or abandoned
    std::size_t connected = 0, abandoned = 0, machines = 0, fax = 0;
    std::size_t no_answer = 0, busy = 0, failed = 0;  // failed: failed, invalid, carrier, lost
    std::size_t conversions = 0;  // connected with a disposition marked `success: true`
    std::int64_t talk_ms = 0, wrap_ms = 0;
    // The agents' time logged in and working (ready, talking, wrap-up) and paused, as the engine
    // recorded it by hour (Store::AgentTime); grouped by hour, day and agent only.
    std::int64_t staffed_ms = 0, paused_ms = 0;

    void add(const Attempt& a, bool success);
    void merge(const ResultFigures& other);
    double contact_rate() const { return ratio(live, dials - in_flight); }
    double conversion() const { return ratio(conversions, connected); }
    double amd_share() const { return ratio(machines + fax, answered); }
    double abandon_rate() const { return ratio(abandoned, live); }
    double avg_talk_s() const { return connected ? talk_ms / 1000.0 / connected : 0.0; }
    double avg_wrap_s() const { return connected ? wrap_ms / 1000.0 / connected : 0.0; }
    // Talk and wrap-up / staffed time: how much of the agents' working time was spent on calls.
    double occupancy() const {
        return staffed_ms > 0 ? static_cast<double>(talk_ms + wrap_ms) / staffed_ms : 0.0;
    }

  private:
    static double ratio(std::size_t a, std::size_t b) {
        return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
    }
};

enum class ResultsBy { none, hour, day, list, agent, disposition, trunk, number };
std::optional<ResultsBy> results_by(const std::string& name);
const char* to_string(ResultsBy by);

struct ResultsOptions {
    // Attempts started in [from_ms, to_ms), unix milliseconds.
    std::int64_t from_ms = std::numeric_limits<std::int64_t>::min();
    std::int64_t to_ms = std::numeric_limits<std::int64_t>::max();
    std::string zone;  // IANA zone for hours and days; empty: the campaign's default, else UTC
    ResultsBy by = ResultsBy::none;
    bool hourly = false;  // fill ResultsReport::hours (the HTML report's charts)
};

struct ListPenetration {
    std::size_t loaded = 0, attempted = 0;
    double rate() const {
        return loaded ? static_cast<double>(attempted) / static_cast<double>(loaded) : 0.0;
    }
};

struct ResultsReport {
    std::string campaign, zone;
    std::int64_t from_ms = 0, to_ms = 0;  // the range asked for (or the ledger's, when open)
    ResultsBy by = ResultsBy::none;
    ResultFigures total;
    std::vector<std::pair<std::string, ResultFigures>> groups;  // by key, in key order
    std::map<std::string, ListPenetration> lists;               // by list file, to date
    // hourly: every local hour of the range that has attempts ("2026-12-05 14:00"), in order,
    // with the abandon rate over the campaign's window (abandon_window) ending at the hour's end.
    struct Hour {
        std::string label;
        ResultFigures figures;
        double rolling_abandon_rate = 0;
    };
    std::vector<Hour> hours;
    double max_abandon_rate = 0;
    std::chrono::milliseconds abandon_window{0};
};

ResultsReport build_results(const Store& store, const Campaign& campaign,
                            const ResultsOptions& options);

// The results from one pass over the contacts and one over the attempts cut into `parts`, as
// SummaryBuilder (report.h): contact() on one thread, attempt(part, a) from each part's thread,
// then finish(). With --by list the attempts need each number's list: the contacts first;
// otherwise they may be read alongside.
class ResultsBuilder {
  public:
    ResultsBuilder(const Campaign& campaign, const ResultsOptions& options, std::size_t parts);
    ~ResultsBuilder();
    ResultsBuilder(const ResultsBuilder&) = delete;
    ResultsBuilder& operator=(const ResultsBuilder&) = delete;
    void contact(const Contact& c);
    void attempt(std::size_t part, const Attempt& a);
    // One agent-hour of the engine's agent time, after the attempts (one thread).
    void agent_time(const Store::AgentTime& t);
    ResultsReport finish();

  private:
    struct Part;
    const Campaign& campaign_;
    ResultsOptions options_;
    ResultsReport r_;
    cctz::time_zone tz_;
    std::unordered_set<std::string> success_;
    double fp_ = 0;
    // --by list: each number's list (read-only while the parts run).
    std::unordered_map<std::uint64_t, const std::string*> list_of_;
    std::vector<std::unique_ptr<Part>> parts_;
    std::map<std::string, ResultFigures> agent_groups_, agent_hours_;  // staffed time only
};

// `outpace report`: the summary (with its compliance checks when `checks`) and the results,
// from a single pass over the contacts and the attempts, the attempts read on `parts` threads.
std::pair<CampaignReport, ResultsReport> build_report_and_results(const Store& store,
                                                                  const Campaign& campaign,
                                                                  Timestamp now, bool checks,
                                                                  const ResultsOptions& options,
                                                                  std::size_t parts);

// --from/--to as a manager writes them: "2026-12-01" (that day's start in `zone`; as --to, the
// day is included), "2026-12-01 14:00" or "2026-12-01T14:00" (local in `zone`), or RFC 3339
// with Z or an offset. nullopt when unreadable or the zone is unknown.
std::optional<std::int64_t> parse_report_time(const std::string& text, const std::string& zone,
                                              bool end_of_range);

std::string results_text(const ResultsReport& r);
std::string results_json(const ResultsReport& r);  // one JSON object
// One row per group, then the total; the campaign's name first on each row, after a header line
// when `header`.
std::string results_csv(const ResultsReport& r, bool header);
// One self-contained HTML file (inline CSS and SVG charts, no scripts, no fonts): the summary,
// the results and charts of dials, answers and abandons by hour, the abandon rate against the
// cap, and outcomes by hour.
std::string results_html(const CampaignReport& summary, const ResultsReport& r);

}  // namespace outpace
