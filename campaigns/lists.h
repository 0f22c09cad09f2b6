// Contact lists as a manager sees them: which lists a campaign holds and how far each has got,
// and starting a list over (reset) or taking it out (remove). A list is the file its contacts
// were imported from (Contact::source).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "campaigns/calling_hours.h"
#include "campaigns/records.h"
#include "campaigns/status.h"
#include "campaigns/store.h"

namespace outpace {

inline constexpr std::size_t kContactStates = 6;

struct ListSummary {
    std::string source;
    std::size_t contacts = 0;
    std::array<std::size_t, kContactStates> by_state{};  // by ContactState
    std::uint64_t attempts = 0;                          // summed over its contacts
    std::size_t attempted = 0;                           // contacts dialled at least once
};
// Every list of the campaign, in source order (one pass over its contacts).
std::vector<ListSummary> list_summaries(const Store& store, const std::string& campaign);

// Which stored list `name` means: a source as stored, or a file name only one list has. Empty
// with `error` set (naming the lists there are) otherwise.
std::string resolve_list(const std::vector<ListSummary>& lists, const std::string& name,
                         std::string* error);

enum class ListAction { reset, remove };
struct ListChange {
    ListAction action = ListAction::reset;
    std::string source;
    // reset: the states that go back to pending (default: exhausted). A contact on DNC or on a
    // call is never reset; its history (the 7-in-7 window, the last conversation) is kept so
    // every rule still holds.
    std::vector<ContactState> states{ContactState::exhausted};
};
// "exhausted,done" -> states; refuses dnc and in_flight (and unknown names) with `error`.
bool parse_reset_states(const std::string& text, std::vector<ContactState>* out,
                        std::string* error);

struct ListChangeCounts {
    std::size_t changed = 0;
    std::size_t in_flight = 0;  // on a call now: left alone
    std::size_t skipped = 0;    // another list's, gone, or no longer in a state the change takes
};

// The numbers of the list's contacts the change would touch now (a reader may run this
// beside the engine; apply_list_change re-checks every one).
std::vector<std::string> list_phones(const Store& store, const std::string& campaign,
                                     const ListChange& change);

// Applies the change to those of `phones` it still fits, re-reading each, in one batch.
Status apply_list_change(Store& store, const std::string& campaign,
                         const std::vector<std::string>& phones, const ListChange& change,
                         Timestamp now, ListChangeCounts& counts, bool sync);

}  // namespace outpace
