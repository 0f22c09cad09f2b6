// The call log a CRM takes (`outpace export --calls`) and where a call's recording is
// (`outpace recording`).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "campaigns/campaign.h"
#include "campaigns/store.h"
#include "campaigns/survey_results.h"

namespace outpace {

// Where the engine writes an attempt's recording (recording.folder/CAMPAIGN/ATTEMPT.wav).
std::string recording_path(const Campaign& campaign, std::uint64_t attempt);

// The call log for a CRM: one row per attempt started in [from_ms, to_ms), oldest first:
// attempt, started, ended (RFC 3339 UTC), phone (the contact), dialled (the number called),
// phone_label (its list column), list, origin (dialler | preview | manual),
// outcome, sip_code, ring_s, amd_verdict, amd_s, agent, talk_s, wrap_s, hold_s, disposition,
// callback_at, notes, trunk, recording (the file, when it exists), then the list columns asked
// for in `fields`. Returns the rows written.
std::size_t export_calls(const Store& store, const Campaign& campaign, std::int64_t from_ms,
                         std::int64_t to_ms, const std::vector<std::string>& fields,
                         ExportFormat format, std::ostream& out);

}  // namespace outpace
