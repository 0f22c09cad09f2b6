// What surveys collected, read back from the ledger: per-question tallies for `outpace report
// --answers`, and one row per respondent for `outpace export` (CSV or JSON lines), for analysis
// tools. A respondent is an attempt that took the survey (IVR or agent-led), complete or not.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "campaigns/campaign.h"
#include "campaigns/store.h"

namespace outpace {

struct QuestionTally {
    std::string id, text;
    std::size_t asked = 0;                       // respondents who reached the question
    std::map<std::string, std::size_t> answers;  // answer -> respondents
    std::size_t no_answer = 0;                   // asked, no valid answer within its retries
};

struct SurveyTallies {
    std::string campaign;
    std::size_t respondents = 0, complete = 0, incomplete = 0;
    std::vector<QuestionTally> questions;  // in the campaign's order
};

SurveyTallies tally_answers(const Store& store, const Campaign& campaign);
std::string answers_text(const SurveyTallies& t);
std::string answers_json(const SurveyTallies& t);

enum class ExportFormat { csv, jsonl };

// One row per respondent, oldest first: attempt, phone, the contact's `fields` (list columns),
// started/ended (RFC 3339 UTC), outcome, survey (complete | incomplete), agent, disposition, then
// one column per question. In CSV an answer is empty when the question was not asked or got no
// valid answer; in JSON lines a question not asked is absent and one asked without an answer is
// null. Returns the rows written.
std::size_t export_answers(const Store& store, const Campaign& campaign,
                           const std::vector<std::string>& fields, ExportFormat format,
                           std::ostream& out);

}  // namespace outpace
