#include "campaigns/ledger.h"

#include "campaigns/rules.h"

namespace outpace {
namespace {

// The number the attempt goes to: the one the hopper (or the agent) chose of the contact's
// several, when it still is one of the stored contact's numbers.
void choose_number(const Contact& chosen, Contact& after, Attempt& a) {
    if (after.numbers.empty()) return;
    if (chosen.current < after.numbers.size() &&
        chosen.dial_number() == after.numbers[chosen.current].e164)
        after.current = chosen.current;
    a.dialled = after.dial_number();
    a.number_label = after.numbers[after.current].label;
}

}  // namespace

Result<std::vector<Attempt>> Ledger::begin(const std::vector<Contact>& contacts, Timestamp now,
                                           const std::string& trunk, std::int64_t started_ms) {
    std::vector<Attempt> out;
    auto batch = store_.batch();
    std::vector<std::string> phones;
    for (const auto& c : contacts) phones.push_back(c.phone);
    auto current = store_.contacts(campaign_.name, phones);
    std::size_t claimable = 0;
    for (const auto& c : current) claimable += (c && c->state == ContactState::pending);
    std::uint64_t id = store_.reserve_attempt_ids(batch, claimable);
    const std::int64_t now_ms = started_ms ? started_ms : now.time_since_epoch().count() * 1000;
    for (std::size_t i = 0; i < current.size(); ++i) {
        const auto& c = current[i];
        if (!c || c->state != ContactState::pending) continue;
        Contact after = *c;
        after.state = ContactState::in_flight;
        Attempt a;
        choose_number(contacts[i], after, a);
        batch.put_contact(campaign_.name, &*c, after);
        a.id = id++;
        a.campaign = campaign_.name;
        a.phone = c->phone;
        a.zones = c->zones;
        a.started_ms = now_ms;
        a.trunk = trunk;
        batch.put_attempt(a);
        out.push_back(std::move(a));
    }
    if (auto st = store_.write(batch, true); !st.ok())
        return Result<std::vector<Attempt>>::failed(st);
    return {std::move(out), {}};
}

Result<Attempt> Ledger::begin_one(const Contact& contact, bool create, Timestamp now,
                                  const std::string& trunk, std::int64_t started_ms,
                                  const std::string& origin, const std::string& agent) {
    auto batch = store_.batch();
    auto current = store_.contact(campaign_.name, contact.phone);
    const bool existed = current.has_value();
    if (!existed) {
        if (!create) return {Attempt{}, {}};
        current = contact;
        current->state = ContactState::pending;
        batch.put_zone_group(campaign_.name, contact.zones);
    } else if (current->state != ContactState::pending) {
        return {Attempt{}, {}};
    }
    Contact after = *current;
    after.state = ContactState::in_flight;
    Attempt a;
    choose_number(contact, after, a);
    batch.put_contact(campaign_.name, existed ? &*current : nullptr, after);
    a.id = store_.reserve_attempt_ids(batch, 1);
    a.campaign = campaign_.name;
    a.phone = contact.phone;
    a.zones = after.zones;
    a.started_ms = started_ms ? started_ms : now.time_since_epoch().count() * 1000;
    a.trunk = trunk;
    a.origin = origin;
    a.agent = agent;
    batch.put_attempt(a);
    if (auto st = store_.write(batch, true); !st.ok()) return Result<Attempt>::failed(st);
    return {std::move(a), {}};
}

Status Ledger::complete(const std::vector<Attempt>& finished, Timestamp now) {
    auto batch = store_.batch();
    for (const auto& done : finished) {
        auto stored = store_.attempt(campaign_.name, done.id);
        if (!stored) return {"attempt " + std::to_string(done.id) + " is not in the ledger"};
        if (!stored->in_flight())
            return {"attempt " + std::to_string(done.id) + " is already completed"};
        if (done.in_flight()) return {"attempt " + std::to_string(done.id) + " has no outcome"};
        auto before = store_.contact(campaign_.name, stored->phone);
        if (!before)
            return {"contact " + stored->phone + " of attempt " + std::to_string(done.id) +
                    " is missing"};
        Attempt a = done;
        a.campaign = stored->campaign;
        a.phone = stored->phone;
        a.dialled = stored->dialled;
        a.number_label = stored->number_label;
        a.zones = stored->zones;
        a.started_ms = stored->started_ms;
        if (a.ended_ms == 0) a.ended_ms = now.time_since_epoch().count() * 1000;
        Contact after = *before;
        apply_outcome(campaign_, after, a, now);
        batch.put_contact(campaign_.name, &*before, after);
        batch.put_attempt(a);
        // The person asked not to be called: none of their numbers is dialled again.
        if (after.state == ContactState::dnc)
            for (const auto& number : after.all_numbers())
                batch.add_dnc(campaign_.name, number,
                              "disposition " + a.disposition +
                                  (a.agent.empty() ? "" : " by agent " + a.agent) + ", attempt " +
                                  std::to_string(a.id),
                              a.ended_ms / 1000);
    }
    return store_.write(batch, true);
}

Status Ledger::progress(const std::vector<Attempt>& in_flight) {
    auto batch = store_.batch();
    bool any = false;
    for (const auto& now : in_flight) {
        auto stored = store_.attempt(campaign_.name, now.id);
        if (!stored || !stored->in_flight()) continue;
        Attempt a = now;
        a.outcome = Outcome::none;
        a.campaign = stored->campaign;
        a.phone = stored->phone;
        a.dialled = stored->dialled;
        a.number_label = stored->number_label;
        a.zones = stored->zones;
        a.started_ms = stored->started_ms;
        batch.put_attempt(a);
        any = true;
    }
    return any ? store_.write(batch, true) : Status{};
}

Result<std::size_t> Ledger::recover(Timestamp now) {
    std::vector<Attempt> lost;
    for (auto& a : store_.in_flight_attempts()) {
        if (a.campaign != campaign_.name) continue;
        // A person already abandoned or connected when the engine died stays so: the abandon
        // rate counts them. Anything else may or may not have rung: lost.
        a.outcome = a.decided != Outcome::none ? a.decided : Outcome::lost;
        a.notes +=
            (a.notes.empty() ? "" : "; ") + std::string("recovered after the engine stopped");
        lost.push_back(std::move(a));
    }
    if (lost.empty()) return {};
    if (auto st = complete(lost, now); !st.ok()) return Result<std::size_t>::failed(st);
    return {lost.size(), {}};
}

}  // namespace outpace
