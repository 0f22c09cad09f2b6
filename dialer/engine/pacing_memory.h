// What a campaign's pacer carries from one run of the engine to the next: its estimator (answer
// rates, answer delays, AMD, talk and wrap-up times) and predictive pacing's calibration, saved
// in the store as the engine runs. Without a saved state, the estimator learns from the ledger's
// recent attempts of the campaign (or of the campaign named by `pacing.prior`), so a restart or
// a campaign's second day starts where the last one left off instead of cold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "campaigns/store.h"
#include "pacing/estimator.h"
#include "pacing/policy.h"

namespace outpace {

struct PacingMemory {
    std::int64_t saved_ms = 0;  // unix ms
    std::optional<pacing::Calibration> calibration;
    std::string estimator;  // pacing::Estimator::save()

    std::string encode() const;
    static std::optional<PacingMemory> decode(std::string_view bytes);
};

// How far back a warm start looks: saved states older than this are ignored, and the ledger is
// read back this far for at most kWarmStartDials resolved dials.
inline constexpr std::int64_t kWarmStartLookBackMs = 7LL * 86'400'000;
inline constexpr std::size_t kWarmStartDials = 2000;

// Feeds `est` the campaign's recent attempts, oldest first (the estimator's forgetting weighs
// the most recent most): at most `max_dials` dials resolved since `since_ms`. Attempts that say
// nothing about the callee (carrier errors, attempts lost to a stop, answers that ended before a
// verdict) are skipped. Returns the dials fed.
long learn_from_ledger(const Store& store, const std::string& campaign, std::int64_t since_ms,
                       pacing::Estimator& est, std::size_t max_dials = kWarmStartDials);

}  // namespace outpace
