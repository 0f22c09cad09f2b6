// The shape of a campaign file: every key the loader accepts, section by section. The loader uses
// it to refuse unknown keys (a typo must never silently disable a rule) and a test compares it
// with deploy/schema/campaign.schema.json so the editor schema and the parser stay in step.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace outpace {

// Section path ("" for the top level, "dialing", "retry.busy", "dispositions[]",
// "survey.questions[]") -> keys allowed there.
const std::map<std::string, std::vector<std::string>>& campaign_key_tree();

// Key path ("kind", "dialing.mode", ...) -> the values an enumerated key accepts.
const std::map<std::string, std::vector<std::string>>& campaign_enums();

}  // namespace outpace
