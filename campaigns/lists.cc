#include "campaigns/lists.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace outpace {
namespace {

bool fits(const Contact& c, const ListChange& change) {
    if (c.source != change.source || c.state == ContactState::in_flight) return false;
    if (change.action == ListAction::remove) return true;
    return std::find(change.states.begin(), change.states.end(), c.state) != change.states.end();
}

// The list starts over for this contact: counters and final reason cleared, and its first
// number due again (a reset of `invalid` contacts gives each of their numbers another try);
// what the rules look back on (recent attempts, last conversation and abandon, history) kept.
void reset(Contact& c, std::int64_t now) {
    if (c.state != ContactState::pending) c.next_eligible = now;
    if (c.state == ContactState::invalid)
        for (auto& n : c.numbers) n.dead = false;
    c.state = ContactState::pending;
    c.attempts = 0;
    c.outcome_counts = {};
    c.final_reason.clear();
    c.current = 0;
}

}  // namespace

std::vector<ListSummary> list_summaries(const Store& store, const std::string& campaign) {
    std::map<std::string, ListSummary> by_source;
    store.for_each_contact(campaign, [&](const Contact& c) {
        auto& l = by_source[c.source];
        ++l.contacts;
        ++l.by_state[static_cast<std::size_t>(c.state)];
        l.attempts += c.attempts;
        l.attempted += c.attempts > 0 || !c.recent_attempts.empty();
    });
    std::vector<ListSummary> out;
    for (auto& [source, l] : by_source) {
        l.source = source;
        out.push_back(std::move(l));
    }
    return out;
}

std::string resolve_list(const std::vector<ListSummary>& lists, const std::string& name,
                         std::string* error) {
    std::vector<std::string> matches;
    for (const auto& l : lists) {
        if (l.source == name) return l.source;
        if (std::filesystem::path(l.source).filename() == name) matches.push_back(l.source);
    }
    if (matches.size() == 1) return matches.front();
    std::string known;
    for (const auto& l : lists) known += "\n  " + l.source;
    if (lists.empty()) known = " (the campaign has no contacts)";
    *error = matches.empty() ? "no list '" + name + "' in this campaign; its lists:" + known
                             : "'" + name + "' names several lists; give the whole path:" + known;
    return {};
}

bool parse_reset_states(const std::string& text, std::vector<ContactState>* out,
                        std::string* error) {
    out->clear();
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const auto name = text.substr(start, end - start);
        start = end + 1;
        if (name.empty()) continue;
        if (name == "dnc" || name == "in_flight") {
            *error = "contacts in state '" + name +
                     "' are never reset (take a number off do-not-call with 'outpace dnc remove')";
            return false;
        }
        bool found = false;
        for (std::size_t s = 0; s < kContactStates; ++s)
            if (name == to_string(static_cast<ContactState>(s))) {
                out->push_back(static_cast<ContactState>(s));
                found = true;
            }
        if (!found) {
            *error = "unknown state '" + name + "' (pending, exhausted, done, invalid)";
            return false;
        }
    }
    if (out->empty()) {
        *error = "no state to reset";
        return false;
    }
    return true;
}

std::vector<std::string> list_phones(const Store& store, const std::string& campaign,
                                     const ListChange& change) {
    std::vector<std::string> phones;
    store.for_each_contact(campaign, [&](const Contact& c) {
        // Those on a call are listed too, to be counted (and left alone) by apply_list_change.
        if (fits(c, change) || (c.source == change.source && c.state == ContactState::in_flight))
            phones.push_back(c.phone);
    });
    return phones;
}

Status apply_list_change(Store& store, const std::string& campaign,
                         const std::vector<std::string>& phones, const ListChange& change,
                         Timestamp now, ListChangeCounts& counts, bool sync) {
    const std::int64_t t = now.time_since_epoch().count();
    auto contacts = store.contacts(campaign, phones);
    auto batch = store.batch();
    for (auto& c : contacts) {
        if (c && c->source == change.source && c->state == ContactState::in_flight) {
            ++counts.in_flight;
            continue;
        }
        if (!c || !fits(*c, change)) {
            ++counts.skipped;
            continue;
        }
        ++counts.changed;
        if (change.action == ListAction::remove) {
            batch.remove_contact(campaign, *c);
            continue;
        }
        const Contact before = *c;
        reset(*c, t);
        batch.put_contact(campaign, &before, *c);
    }
    return store.write(batch, sync);
}

}  // namespace outpace
