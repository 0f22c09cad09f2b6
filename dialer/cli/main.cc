// outpace: the predictive dialer's single binary, with git-style subcommands.
#include <iostream>

#include "dialer/cli/commands.h"

int main(int argc, char** argv) {
    CLI::App app{
        "Outpace, a predictive outbound dialer engine.\n"
        "Run 'outpace <command> --help' for the options of a command."};
    app.name("outpace");
    app.require_subcommand(1);
    app.set_version_flag("--version", "outpace 0.1.0");
    int exit_code = 0;

    auto* help =
        app.add_subcommand("help", "Show this help, or a command's: outpace help [COMMAND]");
    std::vector<std::string> topic;
    bool man = false, completion = false;
    help->add_option("command", topic, "command to explain");
    help->add_flag("--man", man, "print the manual page (troff), as installed as outpace(1)");
    help->add_flag("--bash-completion", completion, "print the bash completion script");
    help->callback([&] {
        if (man || completion) {
            std::cout << (man ? outpace::cli::man_page(app) : outpace::cli::bash_completion(app));
            return;
        }
        CLI::App* target = &app;
        for (const auto& t : topic) {
            try {
                target = target->get_subcommand(t);
            } catch (const CLI::OptionNotFound&) {
                std::cerr << "outpace: no command '" << t << "'\n";
                exit_code = 2;
                return;
            }
        }
        std::cout << app.get_formatter()->make_help(target, target->get_name(),
                                                    CLI::AppFormatMode::Normal);
    });

    outpace::cli::add_campaign_commands(app, exit_code);
    outpace::cli::add_contacts_commands(app, exit_code);
    outpace::cli::add_report_command(app, exit_code);
    outpace::cli::add_export_command(app, exit_code);
    outpace::cli::add_recording_command(app, exit_code);
    outpace::cli::add_simulate_command(app, exit_code);
    outpace::cli::add_plan_command(app, exit_code);
    outpace::cli::add_amd_command(app, exit_code);
    outpace::cli::add_run_command(app, exit_code);
    outpace::cli::add_ctl_command(app, exit_code);
    outpace::cli::add_agent_command(app, exit_code);
    outpace::cli::add_keygen_command(app, exit_code);
    outpace::cli::add_agent_passwd_command(app, exit_code);
    outpace::cli::add_web_command(app, exit_code);
    outpace::cli::add_dnc_command(app, exit_code);
    outpace::cli::add_lists_command(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (argc == 1) {
            std::cout << app.help();
            return 0;
        }
        // --help and --version end well; every usage error exits 2 (not CLI11's own codes),
        // naming the word it did not know and the nearest one it does.
        if (e.get_exit_code() == 0) return app.exit(e);
        std::cerr << "outpace: " << e.what() << outpace::cli::did_you_mean(app, argc, argv)
                  << "\nRun 'outpace help' or 'outpace COMMAND --help'.\n";
        return 2;
    }
    return exit_code;
}
