#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/hopper.h"
#include "campaigns/importer.h"
#include "campaigns/json_text.h"
#include "dialer/cli/commands.h"
#include "dialer/cli/engine_link.h"

namespace outpace::cli {
namespace {

struct ImportArgs {
    std::string data, campaign_file, list, phone_column, rejects, encoding;
    bool json = false;
    EngineLinkArgs engine;
};

struct NextArgs {
    std::string data, campaign, at = "now";
    std::size_t k = 10;
    bool json = false;
};

void progress_bar(std::size_t done, std::size_t total) {
    const double f = total ? double(done) / double(total) : 1.0;
    const int width = 40, filled = static_cast<int>(f * width);
    std::fprintf(stderr, "\rimporting [%.*s%*s] %3.0f%%", filled,
                 "########################################", width - filled, "", f * 100);
    std::fflush(stderr);
}

// An import into the store a running engine holds: the rows are read and checked here (the
// store read beside the engine), and the new contacts go to the engine in chunks, which it
// writes between calls.
class EngineSink final : public ImportSink {
  public:
    explicit EngineSink(EngineLink& link) : link_(link) {}
    Status save_campaign(const std::string& name, const StoredCampaign& c) override {
        auto r = link_.request({{"command", "import"},
                                {"campaign", name},
                                {"action", "definition"},
                                {"path", c.path},
                                {"yaml", c.yaml}});
        if (!r) return refused();
        if (r->value("kept_running_definition", false))
            note_ = "the running engine dials campaign " + name +
                    " with the definition it loaded at its start; the list was added to it (to "
                    "apply a changed campaign file, restart the engine)";
        return {};
    }
    Status add_dnc(const std::string& scope, const std::vector<std::string>& phones,
                   const std::string& source) override {
        if (!link_.request({{"command", "dnc"},
                            {"action", "add"},
                            {"scope", scope},
                            {"phones", phones},
                            {"source", source},
                            {"at", std::time(nullptr)}}))
            return refused();
        return {};
    }
    Status add_contacts(const Campaign& campaign, const std::vector<Contact>& contacts,
                        std::vector<Verdict>& verdicts) override {
        verdicts.assign(contacts.size(), Verdict::stored);
        std::size_t first = 0;
        while (first < contacts.size()) {
            // At most 500 contacts and about 128 KiB a request (the engine takes 2,000 and 1 MiB):
            // each chunk holds the engine's loop, and the audio it relays, for milliseconds; the
            // engine answers at once, so small chunks cost little speed.
            nlohmann::json list = nlohmann::json::array();
            std::size_t bytes = 0, end = first;
            for (; end < contacts.size() && end - first < 500 && bytes < 128 * 1024; ++end) {
                const auto& c = contacts[end];
                nlohmann::json fields = nlohmann::json::array();
                bytes += c.phone.size() + c.zones.size() + c.source.size() + 64;
                for (const auto& [k, v] : c.fields) {
                    fields.push_back({k, v});
                    bytes += k.size() + v.size() + 8;
                }
                nlohmann::json item = {{"phone", c.phone},
                                       {"zones", c.zones},
                                       {"source", c.source},
                                       {"line", c.line},
                                       {"fields", fields}};
                for (const auto& n : c.numbers) {
                    item["numbers"].push_back({n.e164, n.label});
                    bytes += n.e164.size() + n.label.size() + 8;
                }
                list.push_back(std::move(item));
            }
            auto r = link_.request({{"command", "import"},
                                    {"campaign", campaign.name},
                                    {"client", campaign.client},
                                    {"action", "contacts"},
                                    {"contacts", list}});
            if (!r) return refused();
            for (const auto& [key, verdict] :
                 {std::pair{"present", Verdict::present}, std::pair{"dnc", Verdict::dnc}})
                for (const auto& i : r->value(key, nlohmann::json::array()))
                    if (i.is_number_unsigned() && first + i.get<std::size_t>() < end)
                        verdicts[first + i.get<std::size_t>()] = verdict;
            first = end;
        }
        return {};
    }
    // The engine writes each chunk to its log as it comes; its ledger's synced writes carry them
    // to the disk.
    Status finish() override { return {}; }
    const std::string& note() const { return note_; }

  private:
    static Status refused() { return {"the import stopped: the running engine did not take it"}; }
    EngineLink& link_;
    std::string note_;
};

int run_import(const ImportArgs& a) {
    auto load = load_campaign_file(a.campaign_file);
    for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
    if (!load.campaign) return 1;
    std::string store_error;
    auto store = Store::open(a.data, &store_error);
    // Held by a running engine: read beside it, write through it.
    std::unique_ptr<EngineLink> link;
    std::unique_ptr<EngineSink> sink;
    if (!store) {
        link = EngineLink::find(a.data, store_error, a.engine, "outpace contacts import");
        if (!link) return 1;
        store = read_store(a.data);
        if (!store) return 1;
        sink = std::make_unique<EngineSink>(*link);
    }
    std::ifstream in(a.campaign_file);
    std::stringstream yaml;
    yaml << in.rdbuf();

    ImportOptions opts;
    opts.phone_column = a.phone_column;
    opts.rejects_path = a.rejects;
    opts.encoding = a.encoding;
    const bool tty = isatty(STDERR_FILENO);
    if (tty) opts.progress = progress_bar;
    ImportSummary s;
    std::string error;
    // The campaign's file by its full path, as the engine stores it: reports find it again.
    std::error_code ec;
    load.campaign->source_path = std::filesystem::absolute(a.campaign_file, ec).string();
    if (ec) load.campaign->source_path = a.campaign_file;
    // The list by its full path too: its contacts' source names one list wherever the command
    // ran (`outpace lists`, the call log).
    std::string list = std::filesystem::absolute(a.list, ec).lexically_normal().string();
    if (ec) list = a.list;
    const bool ok =
        sink ? import_contacts(*store, *sink, *load.campaign, yaml.str(), list, opts, s, &error)
             : import_contacts(*store, *load.campaign, yaml.str(), list, opts, s, &error);
    if (tty) std::fprintf(stderr, "\n");
    if (!ok) {
        std::cerr << "outpace: " << error << "\n";
        return 1;
    }
    const std::string via = link ? link->description() : "the store";
    if (link && !link->request({{"command", "import"},
                                {"campaign", load.campaign->name},
                                {"action", "done"},
                                {"list", a.list},
                                {"rows", s.rows},
                                {"stored", s.imported}}))
        return 1;
    if (sink && !sink->note().empty()) std::cerr << "outpace: " << sink->note() << "\n";
    if (a.json) {
        nlohmann::json reasons = nlohmann::json::object();
        for (const auto& [reason, n] : s.reject_reasons) reasons[reason] = n;
        std::cout << json_text(nlohmann::json{{"list", a.list},
                                              {"campaign", load.campaign->name},
                                              {"rows", s.rows},
                                              {"imported", s.imported},
                                              {"already_present", s.already_present},
                                              {"rejected", s.rejected},
                                              {"reject_reasons", reasons},
                                              {"numbers_dropped", s.numbers_dropped},
                                              {"rejects_file", s.rejects_path},
                                              {"encoding", s.encoding},
                                              {"dnc_loaded", s.dnc_loaded},
                                              {"via", via},
                                              {"seconds", s.seconds}})
                  << "\n";
        if (!s.encoding_note.empty()) std::cerr << "outpace: " << s.encoding_note << "\n";
        if (!s.rejects_note.empty()) std::cerr << "outpace: " << s.rejects_note << "\n";
        return 0;
    }
    std::printf(
        "%s: %zu rows: %zu imported, %zu already present, %zu rejected (%.1fs, %.0f rows/s)\n",
        a.list.c_str(), s.rows, s.imported, s.already_present, s.rejected, s.seconds,
        s.seconds > 0 ? s.rows / s.seconds : 0.0);
    if (link) std::printf("  through %s\n", via.c_str());
    if (!s.encoding_note.empty()) std::printf("  %s\n", s.encoding_note.c_str());
    if (!s.rejects_note.empty()) std::printf("  %s\n", s.rejects_note.c_str());
    for (const auto& [reason, n] : s.reject_reasons)
        std::printf("  rejected, %s: %zu\n", reason.c_str(), n);
    if (s.numbers_dropped)
        std::printf("  invalid numbers left out of contacts kept with their others: %zu\n",
                    s.numbers_dropped);
    if (s.dnc_loaded) std::printf("  do-not-call numbers loaded: %zu\n", s.dnc_loaded);
    if (s.rejected || s.numbers_dropped)
        std::printf("  rejected rows with line numbers and reasons: %s\n", s.rejects_path.c_str());
    return 0;
}

int run_next(const NextArgs& a) {
    auto store = read_store(a.data);
    if (!store) return 1;
    auto campaign = campaign_arg(*store, a.campaign);
    auto now = time_arg(a.at);
    if (!campaign || !now) return 1;
    Hopper hopper(*store, *campaign);
    auto contacts = hopper.next(*now, a.k);
    ZoneCache zones;
    for (const auto& c : contacts) {
        // The callee's local time in its (first) zone, which is what the calling hours judged.
        std::string zone = c.zones.substr(0, c.zones.find('|'));
        std::string local;
        if (const auto* tz = zones.get(zone)) local = cctz::format("%a %H:%M", *now, *tz);
        if (a.json) {
            nlohmann::json j = {{"phone", c.phone},
                                {"zones", c.zones},
                                {"local_time", local},
                                {"attempts", c.attempts},
                                {"line", c.line}};
            // A contact with several numbers: the one its next call goes to.
            if (!c.numbers.empty()) {
                j["dial"] = c.dial_number();
                j["dial_label"] = c.numbers[c.current].label;
            }
            for (const auto& [k, v] : c.fields) j["fields"][k] = v;
            std::cout << json_text(j) << "\n";
        } else {
            std::printf("%-16s %-10s %-32s attempts %u", c.phone.c_str(), local.c_str(),
                        c.zones.c_str(), c.attempts);
            if (!c.numbers.empty())
                std::printf("  dial %s (%s)", c.dial_number().c_str(),
                            terminal_text(c.numbers[c.current].label).c_str());
            for (std::size_t i = 0; i < c.fields.size() && i < 3; ++i)
                std::printf("  %s=%s", terminal_text(c.fields[i].first).c_str(),
                            terminal_text(c.fields[i].second).c_str());
            std::printf("\n");
        }
    }
    if (!a.json)
        std::fprintf(stderr, "%zu dialable contact(s) at %s\n", contacts.size(),
                     format_timestamp(*now).c_str());
    return 0;
}

}  // namespace

void add_contacts_commands(CLI::App& app, int& exit_code) {
    auto* contacts = app.add_subcommand("contacts", "Import contact lists and look at the hopper");
    contacts->require_subcommand(1);

    auto ia = std::make_shared<ImportArgs>();
    auto* import_cmd = contacts->add_subcommand(
        "import",
        "Import a CSV list: E.164 numbers, time zones, duplicates and DNC; rejects reported "
        "(through the running engine when one holds the store)");
    import_cmd->add_option("--data", ia->data, "store directory (created if missing)")->required();
    import_cmd->add_option("--campaign", ia->campaign_file, "campaign YAML file")
        ->required()
        ->check(CLI::ExistingFile);
    import_cmd->add_option("--phone-column", ia->phone_column,
                           "column holding the number (default: list.phone_column)");
    import_cmd->add_option("--rejects", ia->rejects,
                           "where to write rejected rows (default: LIST.rejects.csv)");
    import_cmd->add_option("--encoding", ia->encoding,
                           "the list's encoding: auto (UTF-8, else windows-1252), utf-8, "
                           "windows-1252, iso-8859-15, ... (default auto)");
    import_cmd->add_flag(
        "--json", ia->json,
        "the summary as one JSON object (rows, imported, already_present, rejected, "
        "reject_reasons, numbers_dropped, rejects_file, encoding, dnc_loaded, via, seconds)");
    auto* sk = import_cmd->add_option("--server-key", ia->engine.server_key,
                                      "CurveZMQ: the running engine's public key file");
    import_cmd->add_option("--key", ia->engine.key, "CurveZMQ: this client's secret key file")
        ->needs(sk);
    import_cmd->add_option("list", ia->list, "CSV file whose first row names the columns")
        ->required()
        ->check(CLI::ExistingFile);
    import_cmd->callback([ia, &exit_code] { exit_code = run_import(*ia); });

    auto na = std::make_shared<NextArgs>();
    auto* next = contacts->add_subcommand("next", "Show the next contacts the hopper would dial");
    next->add_option("--data", na->data, "store directory")->required();
    next->add_option("--campaign", na->campaign, "campaign name (or its YAML file)")->required();
    next->add_option("--at", na->at, "as of this time: now or RFC 3339 like 2026-11-23T15:00:00Z");
    next->add_option("-n", na->k, "how many (default 10)");
    next->add_flag("--json", na->json, "one JSON object per contact");
    next->callback([na, &exit_code] { exit_code = run_next(*na); });
}

}  // namespace outpace::cli
