#include "campaigns/hopper.h"

#include <algorithm>
#include <unordered_set>

#include "campaigns/rules.h"

namespace outpace {

bool Hopper::dialable(const Contact& c, Timestamp now) const {
    return c.state == ContactState::pending && c.next_eligible <= now.time_since_epoch().count() &&
           !cap_blocks(campaign_, c, now) && !store_.is_dnc(campaign_.name, c.phone);
}

std::vector<Contact> Hopper::next(Timestamp now, std::size_t k) {
    std::vector<Contact> out;
    if (k == 0) return out;
    const std::int64_t t = now.time_since_epoch().count();

    std::vector<std::string> open;
    for (const auto& zones : store_.zone_groups(campaign_.name))
        if (within_calling_hours(campaign_.hours, zones, now, zones_)) open.push_back(zones);

    // Take the first `want` due entries of each open zone group, merge them by due time and
    // check them in that order. The global first k lie among each group's first k; only when
    // some were not dialable (stale, DNC, capped) is a wider pass needed.
    std::unordered_set<std::string> seen;
    for (std::size_t want = k; out.size() < k; want *= 4) {
        std::vector<DueEntry> due;
        bool more = false;
        for (const auto& zones : open) {
            std::size_t taken = 0;
            store_.scan_due(campaign_.name, zones, t, [&](const DueEntry& e) {
                if (taken == want) return more = true, false;
                ++taken;
                if (!seen.count(e.phone)) due.push_back(e);
                return true;
            });
        }
        std::sort(due.begin(), due.end(), [](const DueEntry& a, const DueEntry& b) {
            return std::tie(a.next_eligible, a.phone) < std::tie(b.next_eligible, b.phone);
        });
        for (std::size_t i = 0; i < due.size() && out.size() < k; i += k) {
            std::vector<std::string> phones;
            for (std::size_t j = i; j < std::min(due.size(), i + k); ++j) phones.push_back(due[j].phone);
            auto contacts = store_.contacts(campaign_.name, phones);
            for (std::size_t j = 0; j < contacts.size() && out.size() < k; ++j) {
                seen.insert(phones[j]);
                if (contacts[j] && dialable(*contacts[j], now)) out.push_back(std::move(*contacts[j]));
            }
        }
        if (!more) break;
    }
    return out;
}

}  // namespace outpace
