// The hopper: which contacts may be dialled now.
#pragma once

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
    // cap, not on a do-not-call list. Reads only; Ledger::begin claims them.
    std::vector<Contact> next(Timestamp now, std::size_t k);

  private:
    const Store& store_;
    const Campaign& campaign_;
    ZoneCache zones_;
};

}  // namespace outpace
