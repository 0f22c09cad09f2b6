#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "campaigns/call_log.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/json_text.h"
#include "campaigns/phone.h"
#include "campaigns/report.h"
#include "campaigns/results.h"
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

bool write_output(const std::string& path, const std::string& who,
                  const std::function<void(std::ostream&)>& write) {
    if (path.empty()) {
        write(std::cout);
        return true;
    }
    const std::string tmp = path + ".part";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) write(out);
    out.close();
    std::error_code ec;
    if (!out || (std::filesystem::rename(tmp, path, ec), ec)) {
        std::cerr << who << ": cannot write " << path << "\n";
        std::filesystem::remove(tmp, ec);
        return false;
    }
    return true;
}

bool report_range(const std::string& from, const std::string& to, const std::string& zone,
                  std::int64_t& from_ms, std::int64_t& to_ms) {
    for (auto [text, end, into] :
         {std::tuple{&from, false, &from_ms}, std::tuple{&to, true, &to_ms}}) {
        if (text->empty()) continue;
        const auto t = parse_report_time(*text, zone, end);
        if (!t) {
            std::cerr << "outpace: cannot read the time '" << *text << "' in " << zone
                      << " (use 2026-12-01, '2026-12-01 14:00' or 2026-12-01T14:00:00Z)\n";
            return false;
        }
        *into = *t;
    }
    return true;
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

namespace {

struct ReportArgs {
    std::string data, campaign, at = "now", from, to, zone, by = "none", format = "text", output;
    bool json = false, answers = false;
};

// Which rules the figures are judged by: the file given, or the definition the engine last ran
// (or the import stored), which may differ from the file today.
nlohmann::json definition_of(const Store& store, const Campaign& c, const std::string& asked) {
    const auto stored = store.load_campaign(c.name);
    const bool from_file = asked != c.name || !stored;
    nlohmann::json def = {{"path", from_file ? asked : stored->path},
                          {"loaded_by", from_file ? "file" : stored->saved_by}};
    if (!from_file && stored->saved_at > 0)
        def["at"] = format_timestamp(Timestamp(Seconds(stored->saved_at)));
    return def;
}

std::string definition_text(const nlohmann::json& def) {
    std::string out = "judged by " + def["path"].get<std::string>();
    const auto by = def["loaded_by"].get<std::string>();
    if (by == "file") return out + " (the file given)\n";
    if (by.empty()) return out + " (as stored at import)\n";
    return out + " as " + (by == "engine" ? "the engine loaded it" : "imported") + " at " +
           def.value("at", std::string("?")) + "\n";
}

int run_report(const ReportArgs& a) {
    auto store = read_store(a.data);
    auto now = time_arg(a.at);
    if (!store || !now) return 1;
    const std::string format = a.json ? "json" : a.format;
    std::vector<std::string> names =
        a.campaign.empty() ? store->campaigns() : std::vector{a.campaign};
    if (names.empty()) std::cerr << "outpace: the store holds no campaign yet\n";
    if (format == "html" && names.size() > 1 && !a.answers) {
        std::cerr << "outpace: the HTML report covers one campaign: name it with --campaign (";
        for (std::size_t i = 0; i < names.size(); ++i) std::cerr << (i ? ", " : "") << names[i];
        std::cerr << ")\n";
        return 2;
    }
    std::ostringstream out;
    int status = 0;
    bool first = true;
    for (const auto& n : names) {
        auto c = campaign_arg(*store, n);
        if (!c) {
            status = 1;
            continue;
        }
        if (a.answers) {
            if (c->kind != CampaignKind::survey) {
                if (!a.campaign.empty()) {
                    std::cerr << "outpace: " << c->name << " is not a survey campaign\n";
                    status = 1;
                }
                continue;
            }
            const auto t = tally_answers(*store, *c);
            out << (format == "json" ? answers_json(t) + "\n"
                                     : (first ? "" : "\n") + answers_text(t));
            first = false;
            continue;
        }
        ResultsOptions opts;
        opts.by = *results_by(a.by);
        opts.hourly = format == "html";
        opts.zone = !a.zone.empty() ? a.zone : c->default_timezone;
        if (opts.zone.empty()) opts.zone = "UTC";
        if (!report_range(a.from, a.to, opts.zone, opts.from_ms, opts.to_ms)) return 2;
        // The summary and the results from one pass over the ledger, read on every core.
        const auto [summary, results] = build_report_and_results(
            *store, *c, *now, format != "html" && format != "csv", opts,
            std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8));
        const auto def = definition_of(*store, *c, n);
        if (format == "csv") {
            out << results_csv(results, first);
        } else if (format == "html") {
            out << results_html(summary, results);
        } else if (format == "json") {
            auto j = nlohmann::json::parse(report_json(summary));
            j["definition"] = def;
            j["results"] = nlohmann::json::parse(results_json(results));
            out << json_text(j) << "\n";
        } else {
            out << (first ? "" : "\n") << report_text(summary) << "\n"
                << results_text(results) << definition_text(def);
        }
        first = false;
    }
    // A mail client picking up the HTML never sees half a file.
    if (!write_output(a.output, "outpace", [&](std::ostream& o) { o << out.str(); })) return 1;
    if (!a.output.empty()) std::cerr << "outpace: wrote " << a.output << "\n";
    return status;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
    auto* report = app.add_subcommand(
        "report",
        "What a campaign is judged on: contacts, outcomes, abandon rates and compliance, and "
        "results over a date range (contact rate, conversion, talk and wrap-up, AMD share, "
        "penetration), grouped by hour, day, list, agent, disposition, trunk or number");
    auto a = std::make_shared<ReportArgs>();
    report->add_option("--data", a->data, "store directory")->required();
    report->add_flag("--answers", a->answers,
                     "survey campaigns: per-question answer tallies instead of the report");
    report->add_option("--campaign", a->campaign,
                       "campaign name or file (default: every campaign)");
    report->add_option("--at", a->at,
                       "abandon windows and compliance as of this time (default now)");
    report->add_option("--from", a->from,
                       "results for attempts started from this time: 2026-12-01, "
                       "'2026-12-01 14:00' (in --zone) or RFC 3339 (default: the first)");
    report->add_option("--to", a->to,
                       "... until this time (a day given alone is included; default: now)");
    report->add_option("--zone", a->zone,
                       "IANA zone for --from/--to, hours and days (default: the campaign's "
                       "timezone.default, else UTC)");
    report
        ->add_option("--by", a->by,
                     "group the results: hour, day, list, agent, disposition, trunk, number (which "
                     "of a contact's numbers: its list column)")
        ->check(CLI::IsMember(
            {"none", "hour", "day", "list", "agent", "disposition", "trunk", "number"}));
    report
        ->add_option("--format", a->format,
                     "text (default), json (one object per campaign a line), csv (the results "
                     "table) or html (one self-contained file with charts, for one campaign)")
        ->check(CLI::IsMember({"text", "json", "csv", "html"}));
    report->add_flag("--json", a->json, "the same as --format json");
    report->add_option("--output,-o", a->output, "file to write (default: standard output)");
    report->callback([a, &exit_code] { exit_code = run_report(*a); });
}

void add_export_command(CLI::App& app, int& exit_code) {
    auto* exp = app.add_subcommand(
        "export",
        "The call log (--calls: one row per attempt, for a CRM) or survey answers (one row per "
        "respondent), as CSV or JSON lines");
    struct Args {
        std::string data, campaign, format = "csv", output, fields, from, to, zone;
        bool calls = false;
    };
    auto a = std::make_shared<Args>();
    exp->add_option("--data", a->data, "store directory")->required();
    exp->add_option("--campaign", a->campaign, "campaign name or file")->required();
    exp->add_flag("--calls", a->calls,
                  "the call log: times, number, list, outcome, SIP code, AMD verdict and time, "
                  "agent, talk, wrap-up, hold, disposition, callback, notes, trunk, recording");
    exp->add_option("--from", a->from, "--calls: attempts started from this time (as in report)");
    exp->add_option("--to", a->to, "--calls: ... until this time (a day alone is included)");
    exp->add_option("--zone", a->zone, "--calls: zone of --from/--to (default: the campaign's)");
    exp->add_option("--format", a->format, "csv | jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
    exp->add_option("--fields", a->fields,
                    "list columns to add to each row, comma-separated (e.g. customer_id)");
    exp->add_option("--output,-o", a->output, "file to write (default: standard output)");
    exp->callback([a, &exit_code] {
        auto store = read_store(a->data);
        if (!store) return void(exit_code = 1);
        auto c = campaign_arg(*store, a->campaign);
        if (!c) return void(exit_code = 1);
        if (!a->calls && c->kind != CampaignKind::survey) {
            std::cerr << "outpace: " << c->name
                      << " is not a survey campaign (its call log: --calls)\n";
            return void(exit_code = 1);
        }
        std::int64_t from = std::numeric_limits<std::int64_t>::min(),
                     to = std::numeric_limits<std::int64_t>::max();
        const std::string zone = !a->zone.empty()
                                     ? a->zone
                                     : (c->default_timezone.empty() ? "UTC" : c->default_timezone);
        if (!report_range(a->from, a->to, zone, from, to)) return void(exit_code = 2);
        std::vector<std::string> columns;
        std::stringstream ss(a->fields);
        for (std::string f; std::getline(ss, f, ',');)
            if (!f.empty()) columns.push_back(f);
        const auto fmt = a->format == "jsonl" ? ExportFormat::jsonl : ExportFormat::csv;
        std::size_t rows = 0;
        if (!write_output(a->output, "outpace", [&](std::ostream& out) {
                rows = a->calls ? export_calls(*store, *c, from, to, columns, fmt, out)
                                : export_answers(*store, *c, columns, fmt, out);
            }))
            return void(exit_code = 1);
        std::cerr << "outpace: exported " << rows << (a->calls ? " attempts" : " respondents")
                  << " of " << c->name << "\n";
    });
}

void add_recording_command(CLI::App& app, int& exit_code) {
    auto* rec = app.add_subcommand(
        "recording", "Find a call's recording: by attempt id, or every recorded call of a number");
    struct Args {
        std::string data, campaign, phone, region = "US";
        std::uint64_t attempt = 0;
    };
    auto a = std::make_shared<Args>();
    rec->add_option("--data", a->data, "store directory")->required();
    rec->add_option("--campaign", a->campaign, "campaign name (default: every campaign)");
    auto* id = rec->add_option("attempt", a->attempt, "attempt id (as in export --calls)");
    auto* phone = rec->add_option("--phone", a->phone, "every attempt to this number");
    rec->add_option("--region", a->region, "region of a number without a country code (US)");
    id->excludes(phone);
    rec->callback([a, id, phone, &exit_code] {
        if (id->count() == 0 && phone->count() == 0) {
            std::cerr << "outpace recording: give an attempt id or --phone NUMBER\n";
            return void(exit_code = 2);
        }
        auto store = read_store(a->data);
        if (!store) return void(exit_code = 1);
        std::string e164;
        if (phone->count()) {
            const auto p = normalize_phone(a->phone, a->region);
            if (!p.ok()) {
                std::cerr << "outpace recording: '" << a->phone << "' is not a valid number ("
                          << p.error << ")\n";
                return void(exit_code = 2);
            }
            e164 = p.e164;
        }
        std::vector<std::string> names =
            a->campaign.empty() ? store->campaigns() : std::vector{a->campaign};
        std::size_t found = 0;
        for (const auto& n : names) {
            auto c = campaign_arg(*store, n);
            if (!c) return void(exit_code = 1);
            store->for_each_attempt(c->name, [&](const Attempt& at) {
                if (e164.empty() ? at.id != a->attempt : at.phone != e164) return;
                ++found;
                const auto path = recording_path(*c, at.id);
                std::error_code ec;
                const bool there = std::filesystem::exists(path, ec);
                std::printf("%llu %s %s %s %s %s\n", static_cast<unsigned long long>(at.id),
                            c->name.c_str(),
                            format_timestamp(Timestamp(Seconds(at.started_ms / 1000))).c_str(),
                            at.phone.c_str(), at.in_flight() ? "in-flight" : to_string(at.outcome),
                            there ? path.c_str()
                                  : (!c->record_calls ? "(the campaign does not record calls)"
                                     : at.in_flight() || at.outcome == Outcome::connected ||
                                             at.outcome == Outcome::abandoned ||
                                             at.outcome == Outcome::machine
                                         ? ("(no file: " + path + ")").c_str()
                                         : "(not answered: nothing recorded)"));
            });
        }
        if (found == 0) {
            std::cerr << "outpace recording: no attempt "
                      << (e164.empty() ? std::to_string(a->attempt) : "to " + e164) << " in "
                      << (a->campaign.empty() ? "the store" : "campaign " + a->campaign) << "\n";
            exit_code = 1;
        }
    });
}

}  // namespace outpace::cli
