// The attempt ledger: an attempt is written durably before its call leaves and completed when
// the call ends; completing applies the campaign's retry rules to the contact.
#pragma once

#include <string>
#include <vector>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/records.h"
#include "campaigns/store.h"

namespace outpace {

class Ledger {
  public:
    Ledger(Store& store, const Campaign& campaign) : store_(store), campaign_(campaign) {}

    // Claims the contacts (they leave the hopper) and records one in-flight attempt for each, in
    // one synced batch: after it returns, a crash cannot forget that these calls may have gone
    // out. Contacts no longer pending are skipped. When the store failed, nothing was claimed
    // and no call may be placed (the status says why). `started_ms` is the attempts' start to
    // the millisecond (unix ms); 0 = `now`, whose resolution is a second.
    Result<std::vector<Attempt>> begin(const std::vector<Contact>& contacts, Timestamp now,
                                       const std::string& trunk, std::int64_t started_ms = 0);

    // One attempt an agent asked for (`origin` "preview" or "manual", `agent` its id) on
    // `contact`, in one synced batch like begin(). With `create`, a contact the campaign does not
    // have yet is added first (a number dialled by hand); else it must exist and be pending.
    // The attempt, or an empty id when the contact is not there or not pending.
    Result<Attempt> begin_one(const Contact& contact, bool create, Timestamp now,
                              const std::string& trunk, std::int64_t started_ms,
                              const std::string& origin, const std::string& agent);

    // Completes attempts (outcome and timings filled in by the caller) in one synced batch and
    // applies the retry rules. An attempt already completed is refused, so a duplicate event can
    // never count twice.
    Status complete(const std::vector<Attempt>& finished, Timestamp now);

    // Records what is known so far of attempts still in flight (a survey's answers), in one
    // synced batch, so that a crash keeps it: recovery completes them as `lost` with it. Their
    // outcome stays none; attempts completed already are left alone.
    Status progress(const std::vector<Attempt>& in_flight);

    // Completes every attempt of this campaign left in flight by a crash as `lost`: it counts as
    // an attempt (the call may have rung) and the contact is rescheduled by the failed rule.
    // An attempt whose outcome was decided in flight (Attempt::decided) gets that outcome.
    // Returns how many were recovered.
    Result<std::size_t> recover(Timestamp now);

  private:
    Store& store_;
    const Campaign& campaign_;
};

}  // namespace outpace
