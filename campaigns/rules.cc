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
    switch (a.outcome) {
        case Outcome::invalid:
            return finish(c, ContactState::invalid,
                          "number does not exist (SIP " + std::to_string(a.sip_code) + ")");
        case Outcome::fax:
            return finish(c, ContactState::invalid, "fax or modem line");
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
