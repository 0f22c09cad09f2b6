// `outpace agent-passwd AGENT`: an agent's credentials for the agents file (docs/agents.md). Reads
// the softphone's SIP password and the desktop password (from the terminal without echo, or one
// per line from a pipe) and prints the two lines to put under that agent: the SIP digest HA1 and
// the desktop password's Argon2id hash. Neither password is written anywhere.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "dialer/cli/commands.h"
#include "dialer/engine/agent_accounts.h"
#include "dialer/sip/digest.h"

namespace outpace::cli {
namespace {

std::optional<std::string> read_secret(const std::string& prompt) {
    const bool tty = ::isatty(STDIN_FILENO);
    termios old{};
    if (tty) {
        std::cerr << prompt << std::flush;
        ::tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    if (!got) return std::nullopt;
    return line;
}

}  // namespace

void add_agent_passwd_command(CLI::App& app, int& exit_code) {
    struct Args {
        std::string agent, realm = "outpace";
        bool no_sip = false, no_desktop = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "agent-passwd",
        "Print an agent's sip_ha1 and desktop_password for the agents file (passwords are read "
        "from the terminal, or one per line from stdin: SIP first, then desktop)");
    cmd->add_option("agent", a->agent, "The agent's id (its SIP user name)")->required();
    cmd->add_option("--realm", a->realm, "The agents file's realm (default: outpace)");
    cmd->add_flag("--no-sip", a->no_sip, "Only the desktop password (a fixed auto-answer phone)");
    cmd->add_flag("--no-desktop", a->no_desktop, "Only the SIP password");
    cmd->callback([a, &exit_code] {
        if (!valid_agent_id(a->agent)) {
            std::cerr << "outpace agent-passwd: an agent id is 1-64 letters, digits, '.', '_' "
                         "or '-'\n";
            exit_code = 2;
            return;
        }
        std::string lines;
        if (!a->no_sip) {
            const auto pw = read_secret("SIP password for " + a->agent + ": ");
            if (!pw || pw->size() < 8) {
                std::cerr << "outpace agent-passwd: the SIP password must be at least 8 "
                             "characters\n";
                exit_code = 2;
                return;
            }
            lines += "    sip_ha1: " + sip::digest_ha1(a->agent, a->realm, *pw) + "\n";
        }
        if (!a->no_desktop) {
            const auto pw = read_secret("Desktop password for " + a->agent + ": ");
            if (!pw || pw->size() < 8) {
                std::cerr << "outpace agent-passwd: the desktop password must be at least 8 "
                             "characters\n";
                exit_code = 2;
                return;
            }
            const auto hash = hash_desktop_password(*pw);
            if (hash.empty()) {
                std::cerr << "outpace agent-passwd: cannot hash (out of memory?)\n";
                exit_code = 1;
                return;
            }
            lines += "    desktop_password: \"" + hash + "\"\n";
        }
        std::cout << lines;
    });
}

}  // namespace outpace::cli
