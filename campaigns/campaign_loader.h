// Loading and validating campaign files.
#pragma once

#include <optional>
#include <string>

#include "campaigns/campaign.h"
#include "campaigns/diagnostics.h"

namespace outpace {

struct CampaignLoad {
    std::optional<Campaign> campaign;  // set only when there are no errors
    Diagnostics errors;                // every problem found, in file order
};

// Reads and validates a campaign file. Relative paths in it (prompts, DNC lists) are resolved
// against the file's folder and must exist.
CampaignLoad load_campaign_file(const std::string& path);

// The rule for a campaign's and a client's name: 1-64 letters, digits, '.', '_' or '-' (so it
// never holds the ':' of a "client:NAME" do-not-call scope, nor a path separator).
bool valid_campaign_name(const std::string& name);

// Same, from text; `display_name` is what error messages call the file and `base_dir` is where
// relative paths are resolved. Without `check_files`, the files it names need not exist (a
// stored campaign read by a report, anywhere).
CampaignLoad load_campaign_text(const std::string& text, const std::string& display_name,
                                const std::string& base_dir = ".", bool check_files = true);

}  // namespace outpace
