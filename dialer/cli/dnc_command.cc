// `outpace dnc add|remove|check|import|export`: do-not-call lists, with the source and time of
// every entry. Writes go to the store itself, or, while an engine runs on it (and so holds it),
// through that engine's control socket, which writes them between calls.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/csv.h"
#include "campaigns/importer.h"
#include "campaigns/json_text.h"
#include "campaigns/phone.h"
#include "dialer/cli/commands.h"
#include "dialer/cli/engine_link.h"

namespace outpace::cli {
namespace {

struct DncArgs {
    std::string data, scope = "global", source, region = "US", output, file, server_key, key;
    std::vector<std::string> numbers;
    bool json = false;
    int timeout_ms = 30'000;
};

// "global" (kept as "*"), "client:NAME" (kept as it is) or "campaign:NAME" (kept as NAME), as
// the store names scopes. Names are those campaign files allow.
std::optional<std::string> stored_scope(const std::string& arg) {
    if (arg == "global") return std::string("*");
    const auto colon = arg.find(':');
    const auto name = colon == std::string::npos ? std::string() : arg.substr(colon + 1);
    const bool name_ok = valid_campaign_name(name);
    if (name_ok && arg.starts_with("campaign:")) return name;
    if (name_ok && arg.starts_with("client:")) return client_dnc_scope(name);
    std::cerr << "outpace dnc: --scope must be 'global', 'client:NAME' or 'campaign:NAME', not '"
              << arg << "'\n";
    return std::nullopt;
}

std::string user_name() {
    const char* u = std::getenv("SUDO_USER");
    if (!u || !*u) u = std::getenv("USER");
    return u && *u ? u : "uid " + std::to_string(::getuid());
}

std::string when(std::int64_t unix_s) {
    return unix_s > 0 ? format_timestamp(Timestamp(Seconds(unix_s))) : "(not recorded)";
}

// Where writes go: the store, or the engine holding it.
class Writer {
  public:
    virtual ~Writer() = default;
    // Adds (or, with `remove`, removes) `phones` in `scope`. False with the reason printed.
    virtual bool apply(bool remove, const std::string& scope,
                       const std::vector<std::string>& phones, const std::string& source,
                       std::int64_t at) = 0;
    virtual bool finish() { return true; }
    virtual std::string via() const = 0;
};

class StoreWriter final : public Writer {
  public:
    explicit StoreWriter(std::unique_ptr<Store> s) : store_(std::move(s)) {}
    bool apply(bool remove, const std::string& scope, const std::vector<std::string>& phones,
               const std::string& source, std::int64_t at) override {
        // Bulk chunks go without waiting for the disk; finish() makes them durable at once.
        auto st = store_->change_dnc(remove, scope, phones, source, at, phones.size() < 1000);
        if (!st.ok()) std::cerr << "outpace dnc: " << st.error << "\n";
        return st.ok();
    }
    bool finish() override {
        auto b = store_->batch();
        auto st = store_->write(b, true);
        // Into table files: a reader opening the store later need not replay a big log.
        if (st.ok()) st = store_->flush();
        if (!st.ok()) std::cerr << "outpace dnc: " << st.error << "\n";
        return st.ok();
    }
    std::string via() const override { return "the store"; }

  private:
    std::unique_ptr<Store> store_;
};

class EngineWriter final : public Writer {
  public:
    explicit EngineWriter(std::unique_ptr<EngineLink> link) : link_(std::move(link)) {}
    bool apply(bool remove, const std::string& scope, const std::vector<std::string>& phones,
               const std::string& source, std::int64_t at) override {
        return link_
            ->request({{"command", "dnc"},
                       {"action", remove ? "remove" : "add"},
                       {"scope", scope},
                       {"phones", phones},
                       {"source", source},
                       {"at", at}})
            .has_value();
    }
    std::string via() const override { return link_->description(); }

  private:
    std::unique_ptr<EngineLink> link_;
};

// The store when no engine holds it; else the engine that does.
std::unique_ptr<Writer> writer(const DncArgs& a) {
    std::string error;
    if (auto s = Store::open(a.data, &error)) return std::make_unique<StoreWriter>(std::move(s));
    auto link = EngineLink::find(a.data, error, {a.server_key, a.key, a.timeout_ms}, "outpace dnc");
    if (!link) return nullptr;
    return std::make_unique<EngineWriter>(std::move(link));
}

int run_change(const DncArgs& a, bool remove) {
    const auto scope = stored_scope(a.scope);
    if (!scope) return 2;
    std::vector<std::string> phones;
    for (const auto& n : a.numbers) {
        const auto p = normalize_phone(n, a.region);
        if (!p.ok()) {
            std::cerr << "outpace dnc: '" << n << "' is not a valid number in region " << a.region
                      << " (" << p.error << "); nothing changed\n";
            return 1;
        }
        phones.push_back(p.e164);
    }
    auto w = writer(a);
    if (!w) return 1;
    const std::string source = a.source.empty() ? "by " + user_name() : a.source;
    if (!w->apply(remove, *scope, phones, source, std::time(nullptr)) || !w->finish()) return 1;
    for (const auto& p : phones)
        std::printf("%s %s %s do-not-call list (%s)\n", remove ? "removed" : "added", p.c_str(),
                    remove ? "from the" : "to the", a.scope.c_str());
    return 0;
}

int run_import(const DncArgs& a) {
    const auto scope = stored_scope(a.scope);
    if (!scope) return 2;
    std::ifstream in(a.file, std::ios::binary);
    if (!in) {
        std::cerr << "outpace dnc: cannot read " << a.file << "\n";
        return 1;
    }
    auto w = writer(a);
    if (!w) return 1;
    const std::string source =
        a.source.empty() ? std::filesystem::path(a.file).filename().string() : a.source;
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t at = std::time(nullptr);
    // The engine takes small chunks (each is parsed and written on its loop, between calls).
    const std::size_t chunk = dynamic_cast<EngineWriter*>(w.get()) ? 5'000 : 200'000;
    PhoneNormalizer normalizer(a.region);
    std::vector<std::string> phones;
    std::size_t loaded = 0, bad = 0, line_no = 0;
    std::string first_bad;
    std::string line;
    while (std::getline(in, line)) {
        ++line_no;
        // The US registry's files: one number a line (10 digits); also CSV, quotes, comments.
        if (!dnc_line_number(line)) continue;
        const auto p = normalizer.normalize(line);
        if (!p.ok()) {
            if (bad++ == 0) first_bad = "line " + std::to_string(line_no) + ": " + line;
            continue;
        }
        phones.push_back(p.e164);
        if (phones.size() >= chunk) {
            if (!w->apply(false, *scope, phones, source, at)) return 1;
            loaded += phones.size();
            phones.clear();
        }
    }
    if (!phones.empty() && !w->apply(false, *scope, phones, source, at)) return 1;
    loaded += phones.size();
    if (!w->finish()) return 1;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf(
        "%s: %zu numbers added to the do-not-call list (%s) through %s in %.1fs "
        "(%.0f numbers/s)\n",
        a.file.c_str(), loaded, a.scope.c_str(), w->via().c_str(), s, s > 0 ? loaded / s : 0.0);
    if (bad) std::printf("  %zu lines were not numbers (first: %s)\n", bad, first_bad.c_str());
    return 0;
}

int run_check(const DncArgs& a) {
    auto store = read_store(a.data);
    if (!store) return 1;
    int status = 0;
    for (const auto& n : a.numbers) {
        const auto p = normalize_phone(n, a.region);
        if (!p.ok()) {
            std::cerr << "outpace dnc: '" << n << "' is not a valid number in region " << a.region
                      << "\n";
            status = 1;
            continue;
        }
        const auto entries = store->dnc_lookup(p.e164);
        if (a.json) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& e : entries)
                list.push_back({{"scope", dnc_scope_label(e.scope)},
                                {"source", e.source},
                                {"added", e.added_at > 0 ? when(e.added_at) : ""}});
            std::cout << json_text(nlohmann::json{{"phone", p.e164}, {"lists", list}}) << "\n";
            continue;
        }
        if (entries.empty()) std::printf("%s: on no do-not-call list\n", p.e164.c_str());
        for (const auto& e : entries)
            std::printf("%s: on the %s do-not-call list since %s, source: %s\n", p.e164.c_str(),
                        dnc_scope_label(e.scope).c_str(), when(e.added_at).c_str(),
                        terminal_text(e.source).c_str());
    }
    return status;
}

int run_export(const DncArgs& a) {
    const auto scope = stored_scope(a.scope);
    if (!scope) return 2;
    auto store = read_store(a.data);
    if (!store) return 1;
    std::size_t n = 0;
    if (!write_output(a.output, "outpace dnc", [&](std::ostream& out) {
            out << "phone,scope,added,source\n";
            store->for_each_dnc(*scope, [&](const DncEntry& e) {
                out << e.phone << ',' << a.scope << ',' << (e.added_at > 0 ? when(e.added_at) : "")
                    << ',' << csv_field(e.source) << '\n';
                ++n;
            });
        }))
        return 1;
    std::cerr << "outpace dnc: exported " << n << " numbers of the " << a.scope << " list\n";
    return 0;
}

}  // namespace

void add_dnc_command(CLI::App& app, int& exit_code) {
    auto* dnc = app.add_subcommand(
        "dnc",
        "Do-not-call lists: add, remove, check, import and export numbers, with the source "
        "and time of each entry (through the running engine when one holds the store)");
    dnc->require_subcommand(1);
    auto a = std::make_shared<DncArgs>();
    auto common = [&](CLI::App* c, bool writes) {
        c->add_option("--data", a->data, "store directory")->required();
        c->add_option("--region", a->region,
                      "region of numbers written without a country code (default US)");
        if (!writes) return;
        c->add_option(
            "--scope", a->scope,
            "global (default), client:NAME (every campaign with that client) or campaign:NAME");
        c->add_option("--source", a->source,
                      "why or from where, kept with each entry (default: who ran it, or the "
                      "file's name)");
        auto* sk = c->add_option("--server-key", a->server_key,
                                 "CurveZMQ: the running engine's public key file");
        c->add_option("--key", a->key, "CurveZMQ: this client's secret key file")->needs(sk);
    };
    auto* add = dnc->add_subcommand("add", "Put numbers on a do-not-call list");
    common(add, true);
    add->add_option("numbers", a->numbers, "phone numbers")->required();
    add->callback([a, &exit_code] { exit_code = run_change(*a, false); });

    auto* remove = dnc->add_subcommand("remove", "Take numbers off a do-not-call list");
    common(remove, true);
    remove->add_option("numbers", a->numbers, "phone numbers")->required();
    remove->callback([a, &exit_code] { exit_code = run_change(*a, true); });

    auto* check =
        dnc->add_subcommand("check", "Which do-not-call lists hold a number, since when, and why");
    common(check, false);
    check->add_flag("--json", a->json, "one JSON object per number");
    check->add_option("numbers", a->numbers, "phone numbers")->required();
    check->callback([a, &exit_code] { exit_code = run_check(*a); });

    auto* import_cmd = dnc->add_subcommand(
        "import", "Load a registry file (one number a line, or CSV with the number first)");
    common(import_cmd, true);
    import_cmd->add_option("file", a->file, "the file")->required()->check(CLI::ExistingFile);
    import_cmd->callback([a, &exit_code] { exit_code = run_import(*a); });

    auto* exp = dnc->add_subcommand("export", "Write a do-not-call list as CSV");
    common(exp, false);
    exp->add_option(
        "--scope", a->scope,
        "global (default), client:NAME (every campaign with that client) or campaign:NAME");
    exp->add_option("--output,-o", a->output, "file to write (default: standard output)");
    exp->callback([a, &exit_code] { exit_code = run_export(*a); });
}

}  // namespace outpace::cli
