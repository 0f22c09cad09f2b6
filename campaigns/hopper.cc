#include "campaigns/hopper.h"

#include <algorithm>

#include "campaigns/rules.h"

namespace outpace {

std::vector<Contact> Hopper::next(Timestamp now, std::size_t k) {
    std::vector<Contact> out;
    if (k == 0) return out;
    const std::int64_t t = now.time_since_epoch().count();

    // One cursor per zone group that is inside calling hours now; closed zones are never read.
    std::vector<std::unique_ptr<Store::DueCursor>> cursors;
    for (const auto& zones : store_.zone_groups(campaign_.name)) {
        if (!within_calling_hours(campaign_.hours, zones, now, zones_)) continue;
        auto c = store_.due_cursor(campaign_.name, zones, t);
        if (c->valid()) cursors.push_back(std::move(c));
    }
    // Merge them by due time (longest-waiting first), checking candidates a batch at a time.
    auto later = [](const Store::DueCursor* a, const Store::DueCursor* b) {
        return std::tie(a->entry().next_eligible, a->entry().phone) >
               std::tie(b->entry().next_eligible, b->entry().phone);
    };
    std::vector<Store::DueCursor*> heap;
    for (auto& c : cursors) heap.push_back(c.get());
    std::make_heap(heap.begin(), heap.end(), later);

    while (out.size() < k && !heap.empty()) {
        std::vector<std::string> phones;
        while (phones.size() < k - out.size() && !heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            Store::DueCursor* c = heap.back();
            phones.push_back(c->entry().phone);
            c->next();
            if (c->valid())
                std::push_heap(heap.begin(), heap.end(), later);
            else
                heap.pop_back();
        }
        auto contacts = store_.contacts(campaign_.name, phones);
        // Every number that may be dialled: the contact's key, and the others of contacts with
        // several (a do-not-call entry is for a number).
        std::vector<std::string> numbers;
        for (std::size_t i = 0; i < contacts.size(); ++i) {
            if (!contacts[i] || contacts[i]->numbers.empty())
                numbers.push_back(phones[i]);
            else
                for (const auto& n : contacts[i]->numbers) numbers.push_back(n.e164);
        }
        const auto dnc = store_.dnc_many(campaign_.name, campaign_.client, numbers);
        std::size_t at = 0;  // the first of contacts[i]'s numbers in `numbers`
        for (std::size_t i = 0; i < contacts.size(); ++i) {
            // The index can be stale for a moment (an entry whose contact moved on) and rules can
            // change under a running campaign: the contact itself has the last word. (Calling
            // hours were checked for its zone group above.)
            auto& c = contacts[i];
            const std::size_t first = at;
            at += (!c || c->numbers.empty()) ? 1 : c->numbers.size();
            if (!c || c->state != ContactState::pending || c->next_eligible > t ||
                cap_blocks(campaign_, *c, now))
                continue;
            if (c->numbers.empty()) {
                if (dnc[first]) continue;
            } else {
                // The number due next, or the first one after it that works and may be called.
                const std::size_t n = c->numbers.size();
                std::optional<std::uint32_t> pick;
                for (std::size_t k = 0; k < n && !pick; ++k) {
                    const std::size_t j = (c->current + k) % n;
                    if (!c->numbers[j].dead && !dnc[first + j])
                        pick = static_cast<std::uint32_t>(j);
                }
                if (!pick) continue;
                c->current = *pick;
            }
            // A personal callback is its agent's alone until the grace has passed.
            if (!c->callback_agent.empty() &&
                t < c->next_eligible +
                        std::chrono::duration_cast<Seconds>(campaign_.callback_grace).count())
                continue;
            out.push_back(std::move(*c));
        }
    }
    return out;
}

std::optional<std::string> Hopper::rules_block(const Contact& c, Timestamp now) {
    if (store_.dnc_many(campaign_.name, campaign_.client, {c.dial_number()}).front())
        return "on a do-not-call list";
    if (c.zones.empty()) return "the callee's time zone is unknown";
    if (!within_calling_hours(campaign_.hours, c.zones, now, zones_))
        return "outside calling hours in the callee's time zone (" + c.zones + ")";
    return cap_blocks(campaign_, c, now);
}

}  // namespace outpace
