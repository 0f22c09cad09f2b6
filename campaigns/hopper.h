// The hopper: which contacts may be dialled now.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/records.h"
#include "campaigns/store.h"

namespace outpace {

class Hopper {
  public:
    Hopper(const Store& store, const Campaign& campaign) : store_(store), campaign_(campaign) {}

    // Up to k contacts that may be dialled at `now`, longest-waiting first: pending, past their
    // next eligible time, inside calling hours in every zone the callee may be in, under every
    // cap, not on a do-not-call list. A contact with several numbers comes with `current` on the
    // number to dial: the one due, or the next that works and is not on a do-not-call list.
    // Reads only; Ledger::begin claims them.
    std::vector<Contact> next(Timestamp now, std::size_t k);

    // Why `c` may not be called at `now` under the rules every call obeys, or nullopt when it
    // may: a do-not-call list (the campaign's or the global one), calling hours in every zone the
    // callee may be in, the attempt caps and quiet periods (rules.h). next() hands out only
    // contacts that pass; an agent's manual dial is held to the same.
    std::optional<std::string> rules_block(const Contact& c, Timestamp now);

  private:
    const Store& store_;
    const Campaign& campaign_;
    ZoneCache zones_;
};

}  // namespace outpace
