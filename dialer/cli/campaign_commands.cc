#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "campaigns/campaign_loader.h"
#include "campaigns/report.h"
#include "dialer/cli/commands.h"

namespace outpace::cli {

std::unique_ptr<Store> open_store(const std::string& dir) {
    std::string error;
    auto store = Store::open(dir, &error);
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
    auto load = load_campaign_text(stored->yaml, stored->path, dir.empty() ? "." : dir);
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
    check->add_option("files", files, "campaign YAML files")->required();
    check->callback([&exit_code] {
        for (const auto& f : files) {
            auto load = load_campaign_file(f);
            for (const auto& e : load.errors) std::cout << e.to_string() << "\n";
            if (!load.campaign) {
                exit_code = 1;
                continue;
            }
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
    static bool json = false;
    report->add_option("--data", data, "store directory")->required();
    report->add_option("--campaign", campaign_name,
                       "campaign name or file (default: every campaign)");
    report->add_option("--at", at, "report as of this time (default now)");
    report->add_flag("--json", json, "one JSON object per campaign, one per line");
    report->callback([&exit_code] {
        auto store = open_store(data);
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
            auto r = build_report(*store, *c, *now, true);
            if (json) {
                std::cout << report_json(r) << "\n";
            } else {
                std::cout << (first ? "" : "\n") << report_text(r);
            }
            first = false;
        }
    });
}

}  // namespace outpace::cli
