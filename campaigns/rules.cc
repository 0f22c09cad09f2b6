#include "campaigns/rules.h"

#include <algorithm>

namespace outpace {
namespace {

constexpr std::int64_t kWeek = 7 * 86400;
constexpr std::size_t kRecentKept = 16;
// A carrier failure is retried soon, without counting: the list should not pay for the trunk.
constexpr std::int64_t kCarrierRetryDelay = 5 * 60;

std::int64_t secs(Millis d) {
    return std::chrono::duration_cast<Seconds>(d).count();
}

void finish(Contact& c, ContactState s, std::string reason) {
    c.state = s;
    c.final_reason = std::move(reason);
}

const Disposition* find_disposition(const Campaign& campaign, const std::string& code) {
    for (const auto& d : campaign.dispositions)
        if (d.code == code) return &d;
    return nullptr;
}

// Which of the contact's several numbers the attempt dialled.
std::optional<std::size_t> dialled_index(const Contact& c, const Attempt& a) {
    for (std::size_t i = 0; i < c.numbers.size(); ++i)
        if (c.numbers[i].e164 == a.number()) return i;
    return std::nullopt;
}

// The contact's next number after `i` that is not known to be dead (wrapping round), if another.
std::optional<std::size_t> next_live(const Contact& c, std::size_t i) {
    for (std::size_t k = 1; k < c.numbers.size(); ++k) {
        const std::size_t j = (i + k) % c.numbers.size();
        if (!c.numbers[j].dead) return j;
    }
    return std::nullopt;
}

}  // namespace

std::optional<RetryOutcome> retry_class(Outcome o) {
    switch (o) {
        case Outcome::busy:
            return RetryOutcome::busy;
        case Outcome::no_answer:
            return RetryOutcome::no_answer;
        case Outcome::machine:
            return RetryOutcome::machine;
        case Outcome::failed:
        case Outcome::lost:
            return RetryOutcome::failed;
        case Outcome::abandoned:
            return RetryOutcome::abandoned;
        case Outcome::declined:
            return RetryOutcome::declined;
        default:
            return std::nullopt;
    }
}

bool counts_as_attempt(Outcome o) {
    return o != Outcome::carrier_error && o != Outcome::none;
}

std::int64_t earliest_under_caps(const Campaign& campaign, const Contact& c, std::int64_t after) {
    std::int64_t t = after;
    if (campaign.max_attempts_per_7_days > 0 &&
        static_cast<int>(c.recent_attempts.size()) >= campaign.max_attempts_per_7_days) {
        // The attempt that must leave the 7-day window before another is allowed.
        std::int64_t oldest =
            c.recent_attempts[c.recent_attempts.size() - campaign.max_attempts_per_7_days];
        t = std::max(t, oldest + kWeek);
    }
    if (c.last_conversation && campaign.quiet_after_conversation.count() > 0)
        t = std::max(t, c.last_conversation + secs(campaign.quiet_after_conversation));
    if (c.last_abandon) t = std::max(t, c.last_abandon + secs(campaign.quiet_after_abandon));
    return t;
}

std::optional<std::string> cap_blocks(const Campaign& campaign, const Contact& c, Timestamp now) {
    const std::int64_t t = now.time_since_epoch().count();
    if (static_cast<int>(c.attempts) >= campaign.max_attempts)
        return "attempt cap reached (" + std::to_string(c.attempts) + ")";
    if (campaign.max_attempts_per_7_days > 0) {
        int recent = 0;
        for (auto s : c.recent_attempts) recent += (s > t - kWeek);
        if (recent >= campaign.max_attempts_per_7_days)
            return std::to_string(recent) + " attempts in the last 7 days";
    }
    if (c.last_conversation && t < c.last_conversation + secs(campaign.quiet_after_conversation))
        return "within the quiet period after a conversation";
    if (c.last_abandon && t < c.last_abandon + secs(campaign.quiet_after_abandon))
        return "within the quiet period after an abandoned call";
    return std::nullopt;
}

void apply_outcome(const Campaign& campaign, Contact& c, const Attempt& a, Timestamp now) {
    const std::int64_t t = now.time_since_epoch().count();
    const std::int64_t started = a.started_ms / 1000;
    c.last_outcome = to_string(a.outcome);
    c.callback_agent.clear();  // a personal callback ends with the next attempt
    c.state = ContactState::pending;

    if (a.outcome == Outcome::carrier_error) {
        c.next_eligible = std::max(c.next_eligible, t + kCarrierRetryDelay);
        c.next_eligible = earliest_under_caps(campaign, c, c.next_eligible);
        return;
    }
    ++c.attempts;
    c.recent_attempts.push_back(started);
    if (c.recent_attempts.size() > kRecentKept) c.recent_attempts.erase(c.recent_attempts.begin());
    c.recent_ids.push_back(a.id);
    if (c.recent_ids.size() > kRecentKept) c.recent_ids.erase(c.recent_ids.begin());

    std::int64_t next = t;
    bool callback = false;
    const auto dialled = dialled_index(c, a);
    switch (a.outcome) {
        case Outcome::invalid:
        case Outcome::fax: {
            // A number that does not exist or is a fax line is never dialled again; the person
            // may still be reached on another of their numbers, at once unless the campaign
            // spaces them.
            const auto other = dialled ? next_live(c, *dialled) : std::nullopt;
            if (dialled) c.numbers[*dialled].dead = true;
            if (!other)
                return a.outcome == Outcome::fax
                           ? finish(c, ContactState::invalid, "fax or modem line")
                           : finish(
                                 c, ContactState::invalid,
                                 "number does not exist (SIP " + std::to_string(a.sip_code) + ")");
            c.current = static_cast<std::uint32_t>(*other);
            if (campaign.next_number_delay) next = t + secs(*campaign.next_number_delay);
            break;
        }
        case Outcome::connected: {
            const Disposition* d =
                a.disposition.empty() ? nullptr : find_disposition(campaign, a.disposition);
            if (!d || d->conversation) c.last_conversation = t;
            if (d && d->dnc)
                return finish(c, ContactState::dnc, "asked not to be called (" + d->code + ")");
            if (d && d->callback && a.callback_at > 0) {
                next = a.callback_at;
                callback = true;
                c.callback_agent = a.callback_for;
                break;
            }
            if (!d || d->final)
                return finish(c, ContactState::done, d ? "disposition " + d->code : "conversation");
            next = t + secs(campaign.retry_for(RetryOutcome::no_answer).delay);
            break;
        }
        default: {
            auto cls = retry_class(a.outcome);
            if (!cls) return finish(c, ContactState::done, "outcome " + c.last_outcome);
            if (a.outcome == Outcome::abandoned) c.last_abandon = t;
            const auto i = static_cast<std::size_t>(*cls);
            ++c.outcome_counts[i];
            const RetryRule& rule = campaign.retry[i];
            if (c.outcome_counts[i] > rule.max)
                return finish(c, ContactState::exhausted,
                              std::string("retries for ") + kRetryOutcomeNames[i] + " used up (" +
                                  std::to_string(c.outcome_counts[i]) + ")");
            next = t + secs(rule.delay);
            // Not reached on this number: the next call tries their next one.
            const auto& on = campaign.next_number_on;
            if (dialled && std::find(on.begin(), on.end(), *cls) != on.end())
                if (const auto other = next_live(c, *dialled)) {
                    c.current = static_cast<std::uint32_t>(*other);
                    if (campaign.next_number_delay) next = t + secs(*campaign.next_number_delay);
                }
        }
    }
    if (static_cast<int>(c.attempts) >= campaign.max_attempts)
        return finish(c, ContactState::exhausted,
                      "attempt cap reached (" + std::to_string(c.attempts) + ")");
    // A number an agent dialled by hand is not the campaign's to retry; a callback the customer
    // asked for is.
    if (c.source == kManualSource && !callback)
        return finish(c, ContactState::done, "dialled by hand (not on the list)");
    c.next_eligible = earliest_under_caps(campaign, c, next);
}

}  // namespace outpace
