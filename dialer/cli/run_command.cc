// `outpace run --config FILE`: the dialer daemon. Runs until SIGTERM/SIGINT (or the config's
// stop_after), then stops launching, lets calls in progress finish within the drain timeout,
// records every outcome and exits 0.
#include <event2/event.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "dialer/cli/commands.h"
#include "dialer/engine/control.h"
#include "dialer/engine/engine.h"
#include "dialer/engine/engine_config.h"

namespace outpace::cli {
namespace {

struct RunArgs {
    std::string config;
    bool quiet = false;
    bool json = false;
};

struct Loop {
    Engine* engine = nullptr;
    bool tty = false;
    bool quiet = false;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    int signals = 0;
};

void print_status(const Loop& l, bool final) {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - l.start)
            .count();
    for (const auto& s : l.engine->status()) {
        const double rate = s.window_live ? double(s.window_abandoned) / double(s.window_live) : 0;
        std::fprintf(stderr,
                     "%s[%4llds] %s %s: dialled %ld, in progress %ld, answered %ld (human %ld, "
                     "machine %ld, fax %ld, unknown %ld), connected %ld, agents %ld ready / %ld "
                     "talking / %ld wrap-up / %ld paused, abandoned %ld (window %.1f%%, cap "
                     "%.1f%%), busy %ld, "
                     "no answer %ld, failed %ld, carrier errors %ld, RTP lost %ld of %ld%s",
                     l.tty && !final ? "\r" : "", static_cast<long long>(secs), s.name.c_str(),
                     s.state.c_str(), s.dialled, s.in_progress, s.answered, s.humans, s.machines,
                     s.fax, s.unknown, s.connected, s.agents_ready, s.agents_talking,
                     s.agents_wrapup, s.agents_paused, s.abandoned, 100 * rate,
                     100 * s.max_abandon_rate, s.busy, s.no_answer, s.failed, s.carrier_errors,
                     s.rtp_lost, s.rtp_lost + s.rtp_packets, l.tty && !final ? "\033[K" : "\n");
    }
    if (l.tty && final) std::fprintf(stderr, "\n");
}

int run_engine(const RunArgs& a) {
    auto load = load_engine_config(a.config);
    if (!load.config) {
        for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
        return 2;
    }
    const EngineConfig& config = *load.config;
    std::string error;
    auto store = Store::open(config.data_dir, &error);
    if (!store) {
        std::cerr << "outpace run: cannot open the store in " << config.data_dir << ": " << error
                  << "\n";
        return 1;
    }
    event_base* loop = event_base_new();
    int status = 0;
    {
        Engine engine(config, *store, loop);
        std::vector<std::string> errors;
        if (!engine.start(&errors)) {
            for (const auto& e : errors) std::cerr << "outpace run: " << e << "\n";
            event_base_free(loop);
            return 2;
        }
        std::unique_ptr<ControlServer> control;
        if (!config.control.empty()) {
            control = ControlServer::start(loop, engine, config.control, config.curve, &error);
            if (!control) {
                std::cerr << "outpace run: " << error << "\n";
                return 2;
            }
        }
        Loop l;
        l.engine = &engine;
        l.tty = ::isatty(2);
        l.quiet = a.quiet;
        auto on_signal = [](evutil_socket_t, short, void* p) {
            auto* l = static_cast<Loop*>(p);
            if (++l->signals == 1) {
                std::fprintf(stderr,
                             "\noutpace: stopping: no new calls; waiting for %zu in progress\n",
                             l->engine->calls_in_progress());
                l->engine->stop();
            }
        };
        event* term = evsignal_new(loop, SIGTERM, on_signal, &l);
        event* intr = evsignal_new(loop, SIGINT, on_signal, &l);
        event_add(term, nullptr);
        event_add(intr, nullptr);
        event* show = event_new(
            loop, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* p) {
                auto* l = static_cast<Loop*>(p);
                if (!l->quiet) print_status(*l, false);
            },
            &l);
        const timeval second{1, 0};
        event_add(show, &second);
        std::signal(SIGPIPE, SIG_IGN);
        event_base_dispatch(loop);
        print_status(l, true);
        if (a.json) std::printf("%s\n", status_report_json(engine).c_str());
        event_free(show);
        event_free(term);
        event_free(intr);
    }
    event_base_free(loop);
    return status;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
    auto a = std::make_shared<RunArgs>();
    auto* cmd =
        app.add_subcommand("run", "Run the dialer: campaigns on SIP trunks (see docs/engine.md)");
    cmd->add_option("--config", a->config, "engine config YAML")->required();
    cmd->add_flag("--quiet", a->quiet, "no progress lines, only the final status");
    cmd->add_flag("--json", a->json, "at exit, print the final status as JSON on stdout");
    cmd->callback([a, &exit_code] { exit_code = run_engine(*a); });
}

}  // namespace outpace::cli
