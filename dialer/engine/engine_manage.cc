// The engine's manager operations, asked for over the control socket while it dials: do-not-call
// and list changes, contacts imported into a running campaign, campaigns and the agents file
// reloaded, a campaign paused, resumed or stopped. Each is applied on the loop, between ticks.
// (The engine's other parts: engine.cc decides what to dial and follows the calls,
// engine_store.cc hands their outcomes to the store, engine_media.cc its media.)
#include <algorithm>

#include "campaigns/campaign_loader.h"
#include "dialer/engine/engine.h"  // the class whose members these are
#include "dialer/engine/engine_util.h"

namespace outpace {

std::string Engine::change_dnc(bool remove, const std::string& scope,
                               const std::vector<std::string>& phones, const std::string& source,
                               std::int64_t at) {
    // A bulk load must not push the store into a write stall that the ledger's synced writes,
    // on this loop, would then wait behind: the sender is asked to come back.
    if (phones.size() > 100 && store_.busy_flushing()) return "busy";
    const auto st = store_.change_dnc(remove, scope, phones, source, at, true);
    if (!st.ok()) return st.error;
    engine_log("do-not-call (" + dnc_scope_label(scope) + "): " + std::to_string(phones.size()) +
               (remove ? " numbers removed" : " numbers added, source: " + printable(source, 100)));
    return "";
}

std::string Engine::change_list(const std::string& campaign, const std::vector<std::string>& phones,
                                const ListChange& change, ListChangeCounts& counts) {
    if (phones.size() > 100 && store_.busy_flushing()) return "busy";
    const auto st =
        apply_list_change(store_, campaign, phones, change, env_.clock().wall_s(), counts, true);
    if (!st.ok()) return st.error;
    engine_log("lists " + std::string(change.action == ListAction::reset ? "reset" : "remove") +
               " " + printable(campaign, 100) + " " + printable(change.source, 200) + ": " +
               std::to_string(counts.changed) + " contacts changed, " +
               std::to_string(counts.in_flight) + " on a call left alone");
    return "";
}

std::vector<Engine::ReloadResult> Engine::reload_campaigns(const std::string& name) {
    std::vector<ReloadResult> out;
    // The ledger's writes queued so far apply the rules they were made under; none runs while
    // the campaigns change.
    env_.write_ledger_now([] {});
    for (auto& run : runs_) {
        if (!name.empty() && run->name() != name) continue;
        ReloadResult r;
        r.campaign = run->name();
        if (const auto peek = load_campaign_file(run->entry().file); peek.campaign) {
            const auto why = cluster_refusal(config_, peek.campaign->name, peek.campaign->client);
            if (!why.empty()) {
                r.errors.push_back(why);
                engine_log(r.campaign + ": reload refused, the campaign runs as before: " + why);
                out.push_back(std::move(r));
                continue;
            }
        }
        r.applied = run->reload(store_, &r.changed, &r.errors);
        if (r.applied)
            engine_log(r.campaign + ": reloaded from " + run->entry().file +
                       (r.changed.empty() ? " (no change)" : ""));
        else
            engine_log(r.campaign + ": reload refused, the campaign runs as before: " +
                       (r.errors.empty() ? std::string("?") : r.errors.front()));
        out.push_back(std::move(r));
    }
    if (!name.empty() && !out.empty()) {
        fit_calls_to_files(nullptr);  // a campaign that records now takes two files a call
        return out;
    }
    // Campaigns added to the config file since the start (its trunks stay as they were).
    auto cfg = load_engine_config(config_.source_path);
    if (!cfg.config) {
        ReloadResult r;
        r.campaign = "(engine config)";
        for (const auto& e : cfg.errors) r.errors.push_back(e.to_string());
        out.push_back(std::move(r));
        return out;
    }
    for (const auto& entry : cfg.config->campaigns) {
        if (std::any_of(runs_.begin(), runs_.end(),
                        [&](const auto& run) { return run->entry().file == entry.file; }))
            continue;
        ReloadResult r;
        r.campaign = entry.file;
        // Its name first: loading a run recovers the campaign's attempts in flight, which must
        // never happen to a campaign this engine is dialling (nor may two runs claim one list).
        const auto peek = load_campaign_file(entry.file);
        if (peek.campaign) {
            if (!name.empty() && peek.campaign->name != name) continue;
            if (const auto why =
                    cluster_refusal(config_, peek.campaign->name, peek.campaign->client);
                !why.empty()) {
                r.campaign = peek.campaign->name;
                r.errors.push_back(entry.file + ": " + why);
                out.push_back(std::move(r));
                continue;
            }
            if (find_run(peek.campaign->name)) {
                r.campaign = peek.campaign->name;
                r.errors.push_back(entry.file + ": campaign '" + peek.campaign->name +
                                   "' already runs in this engine (from " +
                                   find_run(peek.campaign->name)->entry().file + ")");
                out.push_back(std::move(r));
                continue;
            }
        }
        auto run =
            CampaignRun::load(entry, config_, trunks_, store_, metrics_, env_.clock(), &r.errors);
        if (run && r.errors.empty()) {
            r.campaign = run->name();
            r.applied = r.added = true;
            if (stopping_) run->set_state(CampaignState::stopping);
            run->set_caller_id_usage(&caller_id_usage_);
            engine_log(r.campaign + ": added from " + entry.file + " and started");
            runs_.push_back(std::move(run));
        }
        out.push_back(std::move(r));
    }
    fit_calls_to_files(nullptr);  // a campaign that records now takes two files a call
    return out;
}

std::string Engine::import_contacts(const std::string& campaign, const std::string& client,
                                    const std::vector<Contact>& contacts,
                                    std::vector<ImportSink::Verdict>& verdicts) {
    if (contacts.size() > 100 && store_.busy_flushing()) return "busy";
    std::vector<std::string> phones;
    phones.reserve(contacts.size());
    for (const auto& c : contacts) phones.push_back(c.phone);
    const auto known = store_.contacts_exist(campaign, phones);
    std::string dnc_client = client;
    for (const auto& r : runs_)
        if (r->name() == campaign) dnc_client = r->campaign().client;
    // A contact is refused when every number of it is on a do-not-call list now.
    std::vector<std::string> numbers;
    for (const auto& c : contacts)
        for (auto& n : c.all_numbers()) numbers.push_back(std::move(n));
    const auto number_dnc = store_.dnc_many(campaign, dnc_client, numbers);
    auto batch = store_.batch();
    verdicts.assign(contacts.size(), ImportSink::Verdict::stored);
    for (std::size_t i = 0, k = 0; i < contacts.size(); ++i) {
        const std::size_t n = std::max<std::size_t>(1, contacts[i].numbers.size());
        bool all_dnc = true;
        for (std::size_t m = 0; m < n; ++m) all_dnc = all_dnc && number_dnc[k + m];
        k += n;
        if (known[i]) {
            verdicts[i] = ImportSink::Verdict::present;
            continue;
        }
        if (all_dnc) {
            verdicts[i] = ImportSink::Verdict::dnc;
            continue;
        }
        batch.add_contact(campaign, contacts[i]);
    }
    return store_.write(batch, false).error;
}

std::string Engine::save_imported_definition(const std::string& campaign, const StoredCampaign& c,
                                             bool* kept) {
    *kept = std::any_of(runs_.begin(), runs_.end(),
                        [&](const auto& r) { return r->name() == campaign; });
    if (*kept) return "";
    engine_log("contacts import: campaign " + printable(campaign, 100) +
               " (not run by this engine) stored from " + printable(c.path, 200));
    return store_.save_campaign(campaign, c).error;
}

bool Engine::reload_agents(std::vector<std::string>* errors) {
    if (config_.agents.accounts.empty()) {
        errors->push_back("this engine has no agents file (agents.accounts in its config)");
        return false;
    }
    if (!load_agents(errors)) return false;
    agents_.accounts_changed();
    refresh_sip_peers();
    return true;
}

bool Engine::pause(const std::string& name) {
    CampaignRun* run = find_run(name);
    if (run && run->running()) run->set_state(CampaignState::paused);
    return run != nullptr;
}

bool Engine::resume(const std::string& name) {
    CampaignRun* run = find_run(name);
    if (run && run->state() == CampaignState::paused && !stopping_)
        run->set_state(CampaignState::running);
    return run != nullptr;
}

bool Engine::stop_campaign(const std::string& name) {
    CampaignRun* run = find_run(name);
    if (run) run->set_state(CampaignState::stopped);
    return run != nullptr;
}

}  // namespace outpace
