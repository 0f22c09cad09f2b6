#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/json_text.h"
#include "campaigns/report.h"
#include "campaigns/survey_results.h"
#include "dialer/cli/commands.h"

namespace outpace::cli {

std::unique_ptr<Store> open_store(const std::string& dir) {
    std::string error;
    auto store = Store::open(dir, &error);
    if (!store) std::cerr << "outpace: " << error << "\n";
    return store;
}

std::unique_ptr<Store> read_store(const std::string& dir) {
    std::string error;
    auto store = Store::open_reader(dir, &error);
    if (!store) std::cerr << "outpace: " << error << "\n";
    return store;
}

std::optional<Campaign> campaign_arg(const Store& store, const std::string& name_or_file) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(name_or_file, ec)) {
        auto load = load_campaign_file(name_or_file);
        for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
        return load.campaign;
    }
    auto stored = store.load_campaign(name_or_file);
    if (!stored) {
        std::cerr << "outpace: no campaign '" << name_or_file
                  << "' in the store (import a list for it first)";
        auto names = store.campaigns();
        if (!names.empty()) {
            std::cerr << "; known:";
            for (const auto& n : names) std::cerr << " " << n;
        }
        std::cerr << "\n";
        return std::nullopt;
    }
    auto dir = std::filesystem::path(stored->path).parent_path().string();
    auto load = load_campaign_text(stored->yaml, stored->path, dir.empty() ? "." : dir, false);
    for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
    if (load.campaign) load.campaign->source_path = stored->path;
    return load.campaign;
}

std::optional<Timestamp> time_arg(const std::string& text) {
    if (text == "now") return std::chrono::floor<Seconds>(std::chrono::system_clock::now());
    auto t = parse_timestamp(text);
    if (!t)
        std::cerr << "outpace: cannot read the time '" << text
                  << "' (use now or 2026-11-23T15:00:00Z)\n";
    return t;
}

void add_campaign_commands(CLI::App& app, int& exit_code) {
    auto* campaign = app.add_subcommand("campaign", "Work with campaign files");
    campaign->require_subcommand(1);
    auto* check = campaign->add_subcommand(
        "check", "Validate campaign files: every error as FILE:LINE:COL: message, exit 1 if any");
    static std::vector<std::string> files;
    static bool json = false;
    check->add_option("files", files, "campaign YAML files")->required();
    check->add_flag("--json", json,
                    "one JSON object per file: {file, ok, errors: [{line, column, message}], "
                    "campaign: {name, kind, mode, caller_id, abandon_cap, ...}}");
    check->callback([&exit_code] {
        for (const auto& f : files) {
            auto load = load_campaign_file(f);
            if (!load.campaign) exit_code = 1;
            if (json) {
                nlohmann::json errors = nlohmann::json::array();
                for (const auto& e : load.errors)
                    errors.push_back(
                        {{"line", e.line}, {"column", e.column}, {"message", e.message}});
                nlohmann::json j = {
                    {"file", f}, {"ok", load.campaign.has_value()}, {"errors", errors}};
                if (load.campaign) {
                    const Campaign& c = *load.campaign;
                    j["campaign"] = {
                        {"name", c.name},
                        {"kind", to_string(c.kind)},
                        {"mode", to_string(c.mode)},
                        {"caller_id", c.caller_id},
                        {"abandon_cap", c.max_abandon_rate},
                        {"abandon_window_s",
                         std::chrono::duration_cast<std::chrono::seconds>(c.abandon_window)
                             .count()},
                        {"ring_timeout_s",
                         std::chrono::duration_cast<std::chrono::seconds>(c.ring_timeout).count()},
                        {"calling_windows", c.hours.windows.size()}};
                }
                std::cout << json_text(j) << "\n";
                continue;
            }
            for (const auto& e : load.errors) std::cout << e.to_string() << "\n";
            if (!load.campaign) continue;
            const Campaign& c = *load.campaign;
            std::cout << f << ": ok: campaign '" << c.name << "' (" << to_string(c.kind) << ", "
                      << to_string(c.mode) << ", abandon cap " << c.max_abandon_rate * 100
                      << "% over " << format_duration(c.abandon_window) << ", ring "
                      << format_duration(c.ring_timeout) << ", " << c.hours.windows.size()
                      << " calling window(s))\n";
        }
    });
}

void add_report_command(CLI::App& app, int& exit_code) {
    auto* report =
        app.add_subcommand("report", "Counts per contact state and outcome, abandon rates");
    static std::string data, campaign_name, at = "now";
    static bool json = false, answers = false;
    report->add_option("--data", data, "store directory")->required();
    report->add_flag("--answers", answers,
                     "survey campaigns: per-question answer tallies instead of the report");
    report->add_option("--campaign", campaign_name,
                       "campaign name or file (default: every campaign)");
    report->add_option("--at", at, "report as of this time (default now)");
    report->add_flag("--json", json, "one JSON object per campaign, one per line");
    report->callback([&exit_code] {
        auto store = read_store(data);
        auto now = time_arg(at);
        if (!store || !now) return void(exit_code = 1);
        std::vector<std::string> names =
            campaign_name.empty() ? store->campaigns() : std::vector{campaign_name};
        if (names.empty()) std::cerr << "outpace: the store holds no campaign yet\n";
        bool first = true;
        for (const auto& n : names) {
            auto c = campaign_arg(*store, n);
            if (!c) {
                exit_code = 1;
                continue;
            }
            if (answers) {
                if (c->kind != CampaignKind::survey) {
                    if (!campaign_name.empty()) {
                        std::cerr << "outpace: " << c->name << " is not a survey campaign\n";
                        exit_code = 1;
                    }
                    continue;
                }
                const auto t = tally_answers(*store, *c);
                std::cout << (json ? answers_json(t) + "\n"
                                   : (first ? "" : "\n") + answers_text(t));
                first = false;
                continue;
            }
            auto r = build_report(*store, *c, *now, true);
            // Which rules the figures are judged by: the file given, or the definition the
            // engine last ran (or the import stored), which may differ from the file today.
            const auto stored = store->load_campaign(c->name);
            const bool from_file = n != c->name || !stored;
            nlohmann::json def = {{"path", from_file ? n : stored->path},
                                  {"loaded_by", from_file ? "file" : stored->saved_by}};
            if (!from_file && stored->saved_at > 0)
                def["at"] = format_timestamp(Timestamp(Seconds(stored->saved_at)));
            if (json) {
                auto j = nlohmann::json::parse(report_json(r));
                j["definition"] = def;
                std::cout << json_text(j) << "\n";
            } else {
                std::cout << (first ? "" : "\n") << report_text(r);
                std::cout << "judged by " << def["path"].get<std::string>();
                if (from_file)
                    std::cout << " (the file given)\n";
                else if (stored->saved_by.empty())
                    std::cout << " (as stored at import)\n";
                else
                    std::cout << " as "
                              << (stored->saved_by == "engine" ? "the engine loaded it"
                                                               : "imported")
                              << " at " << def.value("at", std::string("?")) << "\n";
            }
            first = false;
        }
    });
}

void add_export_command(CLI::App& app, int& exit_code) {
    auto* exp = app.add_subcommand("export",
                                   "Survey answers, one row per respondent, as CSV or JSON lines");
    static std::string data, campaign_name, format = "csv", output, fields;
    exp->add_option("--data", data, "store directory")->required();
    exp->add_option("--campaign", campaign_name, "survey campaign name or file")->required();
    exp->add_option("--format", format, "csv | jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
    exp->add_option("--fields", fields,
                    "list columns to add to each row, comma-separated (e.g. customer_id)");
    exp->add_option("--output,-o", output, "file to write (default: standard output)");
    exp->callback([&exit_code] {
        auto store = read_store(data);
        if (!store) return void(exit_code = 1);
        auto c = campaign_arg(*store, campaign_name);
        if (!c) return void(exit_code = 1);
        if (c->kind != CampaignKind::survey) {
            std::cerr << "outpace: " << c->name << " is not a survey campaign\n";
            return void(exit_code = 1);
        }
        std::vector<std::string> columns;
        std::stringstream ss(fields);
        for (std::string f; std::getline(ss, f, ',');)
            if (!f.empty()) columns.push_back(f);
        const auto fmt = format == "jsonl" ? ExportFormat::jsonl : ExportFormat::csv;
        std::size_t rows = 0;
        if (output.empty()) {
            rows = export_answers(*store, *c, columns, fmt, std::cout);
        } else {
            // Written beside, then renamed: a reader never sees half a file.
            const std::string tmp = output + ".part";
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (out) rows = export_answers(*store, *c, columns, fmt, out);
            out.close();
            std::error_code ec;
            if (!out || (std::filesystem::rename(tmp, output, ec), ec)) {
                std::cerr << "outpace: cannot write " << output << "\n";
                std::filesystem::remove(tmp, ec);
                return void(exit_code = 1);
            }
        }
        std::cerr << "outpace: exported " << rows << " respondents of " << c->name << "\n";
    });
}

}  // namespace outpace::cli
