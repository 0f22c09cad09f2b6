// `outpace web --config web.yaml`: the web gateway (dialer/web/gateway.h, docs/web.md) until
// SIGTERM or Ctrl-C.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "dialer/cli/commands.h"
#include "dialer/web/gateway.h"

namespace outpace::cli {
namespace {

volatile std::sig_atomic_t g_web_stop = 0;
extern "C" void on_web_signal(int) {
    g_web_stop = 1;
}

}  // namespace

void add_web_command(CLI::App& app, int& exit_code) {
    auto path = std::make_shared<std::string>();
    auto check = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "web", "Serve the agent desktop and the supervisor console to browsers (docs/web.md)");
    cmd->add_option("--config", *path, "The gateway's config (web.yaml)")->required();
    cmd->add_flag("--check", *check, "Check the config and exit");
    cmd->callback([path, check, &exit_code] {
        const auto load = load_web_config(*path);
        if (!load.config) {
            for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
            exit_code = 2;
            return;
        }
        if (*check) {
            std::cout << *path << ": ok\n";
            return;
        }
        std::signal(SIGPIPE, SIG_IGN);
        std::signal(SIGTERM, on_web_signal);
        std::signal(SIGINT, on_web_signal);
        std::string error;
        auto gateway = Gateway::start(*load.config, &error);
        if (!gateway) {
            std::cerr << "outpace web: " << error << "\n";
            exit_code = 1;
            return;
        }
        std::cout << "outpace web: the agent desktop is at " << gateway->url()
                  << " and the supervisor console at " << gateway->url() << "supervisor.html"
                  << std::endl;
        while (!g_web_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::cout << "outpace web: stopping" << std::endl;
    });
}

}  // namespace outpace::cli
