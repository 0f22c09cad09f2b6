// Subcommands of the `outpace` binary. Each registers itself on the app and returns the exit
// status through the shared `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "campaigns/calling_hours.h"
#include "campaigns/campaign.h"
#include "campaigns/store.h"
#include "campaigns/text_encoding.h"  // terminal_text

namespace outpace::cli {

void add_campaign_commands(CLI::App& app, int& exit_code);
void add_contacts_commands(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_recording_command(CLI::App& app, int& exit_code);
void add_simulate_command(CLI::App& app, int& exit_code);
void add_plan_command(CLI::App& app, int& exit_code);
void add_amd_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_ctl_command(CLI::App& app, int& exit_code);
void add_agent_command(CLI::App& app, int& exit_code);
void add_keygen_command(CLI::App& app, int& exit_code);
void add_agent_passwd_command(CLI::App& app, int& exit_code);
void add_dnc_command(CLI::App& app, int& exit_code);
void add_lists_command(CLI::App& app, int& exit_code);
void add_web_command(CLI::App& app, int& exit_code);

// Helpers shared by the commands.
std::unique_ptr<Store> open_store(const std::string& dir);
// For commands that only read: beside a running engine, without creating anything.
std::unique_ptr<Store> read_store(const std::string& dir);
// A campaign given as a YAML file or as the name of a campaign already in the store.
// Prints the errors and returns nullopt when it cannot be loaded.
std::optional<Campaign> campaign_arg(const Store& store, const std::string& name_or_file);
// For a usage error: "\nDid you mean 'X'?" for the first word of argv that names no command
// or option where it stands, and the commands there; "" when nothing is near.
std::string did_you_mean(CLI::App& app, int argc, char** argv);
// The manual page (troff) and the bash completion script, from the app's commands and help.
std::string man_page(const CLI::App& app);
std::string bash_completion(const CLI::App& app);
// Runs `write` on standard output (empty `path`), or on PATH.part renamed to `path` once
// complete, so a reader never sees half a file. False with "WHO: cannot write PATH" printed.
bool write_output(const std::string& path, const std::string& who,
                  const std::function<void(std::ostream&)>& write);
// A report's --from/--to (parse_report_time, in `zone`) into [from_ms, to_ms); each left open
// when empty. False with the reason printed.
bool report_range(const std::string& from, const std::string& to, const std::string& zone,
                  std::int64_t& from_ms, std::int64_t& to_ms);
// "now" or an RFC 3339 time.
std::optional<Timestamp> time_arg(const std::string& text);

}  // namespace outpace::cli
