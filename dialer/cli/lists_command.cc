// `outpace lists show|reset|remove`: the contact lists of a campaign, how far each has got, and
// starting one over or taking it out. Changes go to the store itself, or, while an engine runs
// on it, through that engine's control socket (the numbers are found beside it, the engine
// re-checks each one and never touches a contact on a call).
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "campaigns/json_text.h"
#include "campaigns/lists.h"
#include "dialer/cli/commands.h"
#include "dialer/cli/engine_link.h"

namespace outpace::cli {
namespace {

struct ListsArgs {
    std::string data, campaign, list, states = "exhausted", server_key, key;
    bool json = false, yes = false;
    int timeout_ms = 30'000;
};

constexpr std::size_t kChunk = 10'000;  // numbers a request (the engine's cap)

int run_show(const ListsArgs& a) {
    auto store = read_store(a.data);
    if (!store) return 1;
    const auto lists = list_summaries(*store, a.campaign);
    if (lists.empty()) {
        std::cerr << "outpace lists: campaign '" << a.campaign << "' has no contacts in " << a.data
                  << "\n";
        return 1;
    }
    if (a.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& l : lists) {
            nlohmann::json states;
            for (std::size_t s = 0; s < kContactStates; ++s)
                states[to_string(static_cast<ContactState>(s))] = l.by_state[s];
            out.push_back({{"list", l.source},
                           {"contacts", l.contacts},
                           {"attempted", l.attempted},
                           {"attempts", l.attempts},
                           {"states", states}});
        }
        std::cout << json_text(nlohmann::json{{"campaign", a.campaign}, {"lists", out}}) << "\n";
        return 0;
    }
    std::printf("%-40s %9s %9s %9s %9s %9s %9s %9s %11s\n", "list", "contacts", "pending",
                "calling", "done", "dnc", "invalid", "exhausted", "penetration");
    for (const auto& l : lists) {
        auto name = std::filesystem::path(l.source).filename().string();
        if (name.empty()) name = l.source.empty() ? "(none)" : l.source;
        name = terminal_text(name);
        std::printf("%-40s %9zu %9zu %9zu %9zu %9zu %9zu %9zu %10.1f%%\n", name.c_str(), l.contacts,
                    l.by_state[0], l.by_state[1], l.by_state[2], l.by_state[3], l.by_state[4],
                    l.by_state[5],
                    l.contacts ? 100.0 * static_cast<double>(l.attempted) / l.contacts : 0.0);
    }
    return 0;
}

int run_change(const ListsArgs& a, ListAction action) {
    const char* verb = action == ListAction::reset ? "reset" : "remove";
    ListChange change;
    change.action = action;
    std::string error;
    if (action == ListAction::reset && !parse_reset_states(a.states, &change.states, &error)) {
        std::cerr << "outpace lists: --states: " << error << "\n";
        return 2;
    }
    if (action == ListAction::remove && !a.yes) {
        std::cerr << "outpace lists: removing a list deletes its contacts (their attempts stay in "
                     "the ledger); run again with --yes to do it\n";
        return 2;
    }
    // A store that is not there is refused, not created.
    auto reader = read_store(a.data);
    if (!reader) return 1;
    change.source = resolve_list(list_summaries(*reader, a.campaign), a.list, &error);
    if (change.source.empty()) {
        std::cerr << "outpace lists: " << error << "\n";
        return 1;
    }
    const auto phones = list_phones(*reader, a.campaign, change);
    reader.reset();

    ListChangeCounts counts;
    std::string via = "the store";
    auto store = Store::open(a.data, &error);
    if (store) {
        const auto now = Timestamp(Seconds(std::time(nullptr)));
        for (std::size_t i = 0; i < phones.size(); i += kChunk) {
            const std::vector<std::string> chunk(
                phones.begin() + i, phones.begin() + std::min(phones.size(), i + kChunk));
            const auto st = apply_list_change(*store, a.campaign, chunk, change, now, counts,
                                              i + kChunk >= phones.size());
            if (!st.ok()) {
                std::cerr << "outpace lists: " << st.error << "\n";
                return 1;
            }
        }
    } else {
        auto link =
            EngineLink::find(a.data, error, {a.server_key, a.key, a.timeout_ms}, "outpace lists");
        if (!link) return 1;
        nlohmann::json states = nlohmann::json::array();
        for (auto s : change.states) states.push_back(to_string(s));
        for (std::size_t i = 0; i < phones.size(); i += kChunk) {
            const std::vector<std::string> chunk(
                phones.begin() + i, phones.begin() + std::min(phones.size(), i + kChunk));
            const auto reply = link->request({{"command", "lists"},
                                              {"action", verb},
                                              {"campaign", a.campaign},
                                              {"list", change.source},
                                              {"states", states},
                                              {"phones", chunk}});
            if (!reply) return 1;
            counts.changed += reply->value("changed", std::size_t{0});
            counts.in_flight += reply->value("in_flight", std::size_t{0});
            counts.skipped += reply->value("skipped", std::size_t{0});
        }
        via = link->description();
    }
    std::printf("%s: %zu contacts %s through %s", change.source.c_str(), counts.changed,
                action == ListAction::reset ? "back to pending" : "removed", via.c_str());
    if (counts.in_flight) std::printf("; %zu on a call now were left alone", counts.in_flight);
    std::printf("\n");
    return 0;
}

}  // namespace

void add_lists_command(CLI::App& app, int& exit_code) {
    auto* lists = app.add_subcommand(
        "lists",
        "A campaign's contact lists: how far each has got, starting one over, taking one out "
        "(through the running engine when one holds the store)");
    lists->require_subcommand(1);
    auto a = std::make_shared<ListsArgs>();
    auto common = [&](CLI::App* c, bool writes) {
        c->add_option("--data", a->data, "store directory")->required();
        c->add_option("--campaign", a->campaign, "campaign name")->required();
        if (!writes) return;
        c->add_option("--list", a->list,
                      "the list: its file name, or the whole path when two lists share a name")
            ->required();
        auto* sk = c->add_option("--server-key", a->server_key,
                                 "CurveZMQ: the running engine's public key file");
        c->add_option("--key", a->key, "CurveZMQ: this client's secret key file")->needs(sk);
    };
    auto* show = lists->add_subcommand(
        "show", "Each list's contacts by state, and its penetration (contacts dialled)");
    common(show, false);
    show->add_flag("--json", a->json, "one JSON object");
    show->callback([a, &exit_code] { exit_code = run_show(*a); });

    auto* reset = lists->add_subcommand(
        "reset",
        "Start a list over: its contacts in --states go back to pending with their attempt "
        "counts cleared (the 7-in-7 window and quiet periods still hold)");
    common(reset, true);
    reset->add_option(
        "--states", a->states,
        "which contacts: exhausted (default), done, invalid, pending, comma-separated");
    reset->callback([a, &exit_code] { exit_code = run_change(*a, ListAction::reset); });

    auto* remove = lists->add_subcommand(
        "remove", "Delete a list's contacts (not those on a call); their attempts stay");
    common(remove, true);
    remove->add_flag("--yes", a->yes, "yes, delete them");
    remove->callback([a, &exit_code] { exit_code = run_change(*a, ListAction::remove); });
}

}  // namespace outpace::cli
