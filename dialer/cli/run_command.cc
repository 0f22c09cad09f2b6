// `outpace run --config FILE`: the dialer daemon. Runs until SIGTERM/SIGINT (or the config's
// stop_after), then stops launching, lets calls in progress finish within the drain timeout,
// records every outcome and exits 0.
#include <event2/event.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "campaigns/json_text.h"
#include "dialer/cli/commands.h"
#include "dialer/engine/control.h"
#include "dialer/engine/engine.h"
#include "dialer/engine/engine_config.h"
#include "dialer/loop_event.h"

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
    int lines_drawn = 0;  // of the live view, to redraw in place
    long long last_log_s = -10;
    std::map<std::string, std::pair<long, std::chrono::steady_clock::time_point>> dialled;
};

// The live view. On a terminal: a block of lines redrawn in place every second. Otherwise (logs):
// the same block every 10 s, and at the end.
void print_status(Loop& l, bool final) {
    const auto now = std::chrono::steady_clock::now();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - l.start).count();
    if (!l.tty && !final && secs - l.last_log_s < 10) return;
    l.last_log_s = secs;
    std::string block;
    char line[512];
    for (const auto& s : l.engine->status()) {
        auto& prev = l.dialled[s.name];
        const double elapsed = std::chrono::duration<double>(now - prev.second).count();
        const double rate = prev.second.time_since_epoch().count() && elapsed > 0
                                ? double(s.dialled - prev.first) / elapsed
                                : 0;
        prev = {s.dialled, now};
        const double window = s.window_abandon_rate();
        const long staffed = s.agents_ready + s.agents_talking + s.agents_wrapup;
        const double occupancy =
            staffed ? double(s.agents_talking + s.agents_wrapup) / double(staffed) : 0;
        std::snprintf(line, sizeof line,
                      "[%4llds] %s %s · dialled %ld (%.1f/s) · in progress %ld · waiting for an "
                      "agent %ld\n",
                      static_cast<long long>(secs), s.name.c_str(), s.state.c_str(), s.dialled,
                      rate, s.in_progress, s.waiting);
        block += line;
        std::snprintf(line, sizeof line,
                      "        answered %ld: people %ld, machines %ld, fax %ld, unknown %ld · "
                      "connected %ld · abandoned %ld (window %.1f%% of %ld, cap %.1f%%)%s\n",
                      s.answered, s.humans, s.machines, s.fax, s.unknown, s.connected, s.abandoned,
                      100 * window, s.window_live, 100 * s.max_abandon_rate,
                      window > s.max_abandon_rate ? "  OVER CAP" : "");
        block += line;
        if (s.survey_lines > 0)
            std::snprintf(line, sizeof line,
                          "        surveys: %ld in progress of %ld lines · complete %ld · "
                          "incomplete %ld\n",
                          s.surveys, s.survey_lines, s.surveys_complete, s.surveys_incomplete);
        else
            std::snprintf(line, sizeof line,
                          "        agents %ld ready, %ld talking, %ld wrap-up, %ld paused · "
                          "occupancy %.0f%% · agent hears the customer p99 %.0f ms\n",
                          s.agents_ready, s.agents_talking, s.agents_wrapup, s.agents_paused,
                          100 * occupancy, s.heard_ms_p99);
        block += line;
        // What the pacer does now, and what it started from (cold, or warm from history).
        std::snprintf(line, sizeof line, "        pacing: %s · started %s\n",
                      s.pacing_reason.empty() ? "-" : s.pacing_reason.c_str(),
                      s.pacing_start.c_str());
        block += line;
        std::snprintf(line, sizeof line,
                      "        busy %ld · no answer %ld · invalid %ld · failed %ld · carrier "
                      "errors %ld · RTP lost %ld of %ld\n",
                      s.busy, s.no_answer, s.invalid, s.failed, s.carrier_errors, s.rtp_lost,
                      s.rtp_lost + s.rtp_packets);
        block += line;
    }
    if (l.tty && l.lines_drawn > 0) {
        // Back to the top of the last block, clearing as we redraw.
        std::fprintf(stderr, "\033[%dA", l.lines_drawn);
    }
    int lines = 0;
    for (std::size_t i = 0, j; i < block.size(); i = j + 1) {
        j = block.find('\n', i);
        std::fprintf(stderr, "%s%s\n", l.tty ? "\033[2K" : "", block.substr(i, j - i).c_str());
        ++lines;
    }
    l.lines_drawn = final ? 0 : lines;
}

struct EngineFile {
    std::string path;
    EngineFile(const std::string& dir, const std::string& control, bool curve)
        : path(dir + "/ENGINE") {
        const std::string tmp = path + ".part";
        std::ofstream(tmp, std::ios::trunc)
            << json_text(
                   nlohmann::json{{"control", control}, {"pid", ::getpid()}, {"curve", curve}})
            << "\n";
        std::error_code ec;
        std::filesystem::rename(tmp, path, ec);
    }
    ~EngineFile() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
    EngineFile(const EngineFile&) = delete;
    EngineFile& operator=(const EngineFile&) = delete;
};

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
    // Owned before the env and the engine that use it, so that it goes after them on every
    // path out (a start that failed included).
    std::unique_ptr<event_base, decltype(&event_base_free)> loop_owner(event_base_new(),
                                                                       &event_base_free);
    event_base* loop = loop_owner.get();
    int status = 0;
    {
        LoopEnv env(loop);
        Engine engine(config, *store, env);
        std::vector<std::string> errors;
        if (!engine.start(&errors)) {
            for (const auto& e : errors) std::cerr << "outpace run: " << e << "\n";
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
        // Tells `outpace dnc` (and later writers) that this engine holds the store, and where
        // to send changes. Holds no secret. Left behind by a kill -9: a writer only reads it
        // after failing to take the store's lock, which the kernel released with the process.
        EngineFile engine_file(config.data_dir, config.control, config.curve.enabled());
        Loop l;
        l.engine = &engine;
        l.tty = ::isatty(2);
        l.quiet = a.quiet;
        auto on_signal = [](evutil_socket_t, short, void* p) {
            auto* l = static_cast<Loop*>(p);
            if (++l->signals == 1) {
                l->lines_drawn = 0;  // the message goes below the last view
                std::fprintf(stderr,
                             "\noutpace: stopping: no new calls; waiting for %zu in progress\n",
                             l->engine->calls_in_progress());
                l->engine->stop();
            }
        };
        LoopEvent term(loop, SIGTERM, EV_SIGNAL | EV_PERSIST, on_signal, &l);
        LoopEvent intr(loop, SIGINT, EV_SIGNAL | EV_PERSIST, on_signal, &l);
        LoopEvent show(
            loop, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* p) {
                auto* l = static_cast<Loop*>(p);
                if (!l->quiet) print_status(*l, false);
            },
            &l);
        if (!term.add() || !intr.add() || !show.add(std::chrono::seconds(1))) {
            std::cerr << "outpace run: cannot arm the signal handlers on the event loop\n";
            return 1;
        }
        std::signal(SIGPIPE, SIG_IGN);
        event_base_dispatch(loop);
        print_status(l, true);
        if (a.json) std::printf("%s\n", status_report_json(engine).c_str());
    }
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
