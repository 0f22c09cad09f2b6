// Calls an agent asks for, and what the agent sees before dialling: preview (next, dial, skip),
// a manual dial held to the campaign's rules, personal callbacks offered at their time, and the
// contact's history on the screen pop.
#include <set>

#include "campaigns/phone.h"
#include "dialer/engine/agent_pool.h"
#include "dialer/engine/engine_util.h"

namespace outpace {

using Type = AgentRequest::Type;

std::vector<Attempt> AgentPool::history(const CampaignRun& run, const Contact& contact,
                                        std::uint64_t except) const {
    std::vector<Attempt> out;
    const auto want = static_cast<std::size_t>(run.campaign().screen_pop_history);
    for (auto it = contact.recent_ids.rbegin(); it != contact.recent_ids.rend(); ++it) {
        if (out.size() >= want) break;
        if (*it == except) continue;
        if (auto a = store_.attempt(run.name(), *it)) out.push_back(std::move(*a));
    }
    return out;
}

// Logging in. With an agents file, the desktop proves it is the agent (its password, checked
// off the loop: Argon2id costs ~60 ms) before anything else happens; an unknown agent costs the
// same check and gets the same answer as a wrong password. Without one (lab mode) any desktop
// may be any agent, as the docs warn.

void AgentPool::next(Agent& a) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, Type::next); };
    if (a.state != AgentState::ready) return refuse("ask for the next contact when ready");
    CampaignRun* run = nullptr;
    for (CampaignRun* r : host_.runs())
        if (r->campaign().mode == DialingMode::preview && r->running() && serves(a, *r)) run = r;
    if (!run) return refuse("no running preview campaign for this agent");
    std::set<std::string> taken = run->skipped();
    for (const auto& [id, other] : agents_)
        if (other->preview && other->preview_run == run) taken.insert(other->preview->phone);
    for (const auto& contact : run->hopper().next(env_.clock().wall_s(), taken.size() + 1)) {
        if (taken.count(contact.phone)) continue;
        a.preview = contact;
        a.preview_run = run;
        set_state(a, AgentState::reserved);
        protocol_.preview(a, run->campaign(), contact, history(*run, contact));
        return;
    }
    refuse("nobody to call now in " + run->name());
}

void AgentPool::dial(Agent& a) {
    if (a.state != AgentState::reserved || !a.preview)
        return protocol_.error(a, "ask for a contact ('next') first", Type::dial);
    CampaignRun& run = *a.preview_run;
    Contact contact = std::move(*a.preview);
    a.preview.reset();
    const auto& clock = env_.clock();
    // In line with the ledger's other writes (on its writer), answered before the reply.
    Result<std::vector<Attempt>> begun;
    env_.write_ledger_now(
        [&] { begun = run.ledger().begin({contact}, clock.wall_s(), "", clock.wall_ms()); });
    if (begun.value.empty()) {
        protocol_.error(a,
                        begun.ok() ? "the contact was taken meanwhile"
                                   : "cannot record the attempt: " + begun.status.error,
                        Type::dial);
        set_state(a, AgentState::ready);
        return;
    }
    Attempt attempt = std::move(begun.value.front());
    attempt.origin = a.preview_callback ? "callback" : "preview";
    a.preview_callback = false;
    place_for(a, run, std::move(attempt), Type::dial);
}

void AgentPool::place_for(Agent& a, CampaignRun& run, Attempt attempt, Type request) {
    const auto id = attempt.id;
    const std::string phone = attempt.number();
    Call* c = host_.place_call(run, std::move(attempt));
    if (!c) {
        // It could not be placed (and was completed as a carrier error).
        protocol_.error(a, "the call could not be placed", request);
        after_wrapup(a);
        return;
    }
    c->set_preview(a);
    a.customer = c->id();
    protocol_.dialing(a, id, phone);
}

void AgentPool::manual_dial(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, Type::manual_dial); };
    if (a.state == AgentState::talking || a.customer)
        return refuse("finish the current call first");
    if (a.state == AgentState::wrapup) return refuse("send the disposition first");
    if (a.state == AgentState::reserved) return refuse("dial or skip the contact shown first");
    if (a.state == AgentState::connecting || !a.rtp)
        return refuse("your softphone is not connected");
    // Which campaign: the one named, else the only running one this agent serves.
    CampaignRun* run = nullptr;
    if (!r.campaign.empty()) {
        run = host_.find_run(r.campaign);
        if (!run || !serves(a, *run))
            return refuse("you do not work campaign '" + r.campaign + "'");
    } else {
        std::string names;
        for (CampaignRun* x : host_.runs())
            if (x->running() && serves(a, *x)) {
                names += (run ? ", " : "") + x->name();
                if (run) return refuse("say which campaign ('campaign': one of " + names + ")");
                run = x;
            }
        if (!run) return refuse("no running campaign for this agent");
    }
    if (!run->running()) return refuse("campaign " + run->name() + " is not running");
    const Campaign& campaign = run->campaign();
    const auto number = normalize_phone(r.phone, campaign.default_region);
    if (!number.ok()) return refuse("not a number that can be called: " + number.error);
    // The contact on the list (the person, when it is one of their numbers: their caps and
    // Reg F count every call to them), or a new one for this number.
    const auto stored = store_.contact_by_number(run->name(), number.e164);
    Contact contact;
    if (stored) {
        contact = *stored;
        for (std::size_t i = 0; i < contact.numbers.size(); ++i)
            if (contact.numbers[i].e164 == number.e164)
                contact.current = static_cast<std::uint32_t>(i);
        if (contact.state == ContactState::in_flight)
            return refuse("that number is being called now");
        if (contact.state != ContactState::pending)
            return refuse("the contact is " + std::string(to_string(contact.state)) +
                          (contact.final_reason.empty() ? "" : ": " + contact.final_reason));
    } else {
        contact.phone = number.e164;
        contact.source = kManualSource;
        if (campaign.timezone_policy != TimezonePolicy::campaign)
            contact.zones = zones_for_number(number.e164, number.region);
        // The campaign's default zone stands in only for numbers of its own region: a foreign
        // number whose zone the number cannot tell is not called on a guess.
        if (contact.zones.empty() && (number.region == campaign.default_region ||
                                      campaign.timezone_policy == TimezonePolicy::campaign))
            contact.zones = campaign.default_timezone;
        if (contact.zones.empty())
            return refuse("cannot tell the callee's time zone from " + number.e164);
        contact.fields = {{"dialled_by", a.id}};
    }
    // The rules the hopper applies to every call: DNC, calling hours, caps, quiet periods.
    const auto& clock = env_.clock();
    if (auto why = run->hopper().rules_block(contact, clock.wall_s())) return refuse(*why);
    Result<Attempt> begun;
    env_.write_ledger_now([&] {
        begun = run->ledger().begin_one(contact, !stored, clock.wall_s(), "", clock.wall_ms(),
                                        "manual", a.id);
    });
    if (!begun.ok()) return refuse("cannot record the attempt: " + begun.status.error);
    if (!begun.value.id) return refuse("the contact was taken meanwhile");
    engine_log("agent " + a.id + " dials " + number.e164 + " by hand (" + run->name() + ")");
    if (a.state == AgentState::paused) {
        // Back to the pause after this call, not to taking calls.
        a.want_pause = true;
        a.want_pause_reason = a.pause_reason;
    }
    set_state(a, AgentState::reserved);
    place_for(a, *run, std::move(begun.value), Type::manual_dial);
}

void AgentPool::skip(Agent& a) {
    if (a.state != AgentState::reserved || !a.preview)
        return protocol_.error(a, "nothing to skip", Type::skip);
    a.preview_run->skipped().insert(a.preview->phone);
    a.preview.reset();
    a.preview_callback = false;
    set_state(a, AgentState::ready);
}

// Heartbeats, wrap-up limits and expired waits (every media tick).
void AgentPool::offer_personal_callbacks() {
    const auto wall = env_.clock().wall_s();
    const std::int64_t t = wall.time_since_epoch().count();
    for (auto& [id, a] : agents_) {
        if (a->state != AgentState::ready || !a->rtp || a->preview || a->customer) continue;
        for (CampaignRun* run : host_.runs()) {
            if (!run->running() || !serves(*a, *run)) continue;
            bool offered = false;
            for (const auto& due : store_.personal_callbacks(run->name(), a->id)) {
                if (due.at > t || run->skipped().count(due.phone)) continue;
                auto contact = store_.contact(run->name(), due.phone);
                // Stale entries (dialled meanwhile) and callbacks the rules hold back now (calling
                // hours in the callee's zone, DNC since) wait.
                if (!contact || contact->state != ContactState::pending ||
                    contact->callback_agent != a->id || contact->next_eligible > t ||
                    run->hopper().rules_block(*contact, wall))
                    continue;
                a->preview = *contact;
                a->preview_run = run;
                a->preview_callback = true;
                set_state(*a, AgentState::reserved, "personal callback");
                protocol_.preview(*a, run->campaign(), *contact, history(*run, *contact),
                                  contact->next_eligible);
                offered = true;
                break;
            }
            if (offered) break;
        }
    }
}

}  // namespace outpace
