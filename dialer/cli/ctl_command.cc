// `outpace ctl COMMAND [CAMPAIGN]`: talks to a running engine over its control socket.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "campaigns/json_text.h"
#include "dialer/cli/commands.h"
#include "dialer/engine/control.h"
#include "dialer/engine/curve.h"
#include "dialer/engine/engine_config.h"

namespace outpace::cli {
namespace {

struct CtlArgs {
    std::string endpoint, config, command, campaign, server_key, key;
    bool json = false;
    int timeout_ms = 3000;
};

int run_ctl(const CtlArgs& a) {
    std::string endpoint = a.endpoint;
    if (endpoint.empty() && !a.config.empty()) {
        auto load = load_engine_config(a.config);
        if (!load.config) {
            for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
            return 2;
        }
        endpoint = load.config->control;
    }
    if (endpoint.empty()) {
        std::cerr << "outpace ctl: say where the engine listens: --endpoint or --config (with a "
                     "'control' key)\n";
        return 2;
    }
    nlohmann::json req = {{"command", a.command}};
    if (!a.campaign.empty()) req["campaign"] = a.campaign;
    std::string reply, error;
    ClientKeys keys;
    if (!a.server_key.empty() && !read_client_keys(a.server_key, a.key, &keys, &error)) {
        std::cerr << "outpace ctl: " << error << "\n";
        return 2;
    }
    if (!control_request(endpoint, json_text(req), a.timeout_ms, &reply, &error, keys)) {
        std::cerr << "outpace ctl: " << error << "\n";
        return 1;
    }
    const auto r = nlohmann::json::parse(reply, nullptr, false);
    if (a.json || r.is_discarded()) {
        std::cout << reply << "\n";
        return r.is_discarded() || !r.value("ok", false) ? 1 : 0;
    }
    if (a.command == "reload" && r.contains("campaigns") && r["campaigns"].is_array()) {
        // What changed, what was added, and why a change was refused (the campaign then runs on
        // as before).
        for (const auto& c : r["campaigns"]) {
            const auto name = c.value("campaign", std::string());
            if (!c.value("applied", false)) {
                std::printf("%s: not reloaded, it runs as before:\n", name.c_str());
                for (const auto& e : c["errors"])
                    std::printf("  %s\n", e.get<std::string>().c_str());
                continue;
            }
            if (c.value("added", false)) {
                std::printf("%s: added and started\n", name.c_str());
                continue;
            }
            std::string changed;
            for (const auto& k : c["changed"])
                changed += (changed.empty() ? "" : ", ") + k.get<std::string>();
            std::printf("%s: %s\n", name.c_str(),
                        changed.empty() ? "no change" : ("applied: " + changed).c_str());
        }
        return r.value("ok", false) ? 0 : 1;
    }
    if (!r.value("ok", false)) {
        std::cerr << "outpace ctl: " << r.value("error", std::string("failed")) << "\n";
        return 1;
    }
    if (a.command != "status") {
        std::cout << "ok\n";
        return 0;
    }
    std::printf("%s; %lld calls in progress\n", r.value("stopping", false) ? "stopping" : "running",
                r.value("calls_in_progress", 0LL));
    if (r.contains("trunks") && r["trunks"].is_array())
        for (const auto& t : r["trunks"]) {
            std::string where;
            for (const auto& a : t["addresses"])
                where += (where.empty() ? "" : ", ") + a.value("address", std::string()) +
                         (a.value("resting_s", 0LL) > 0
                              ? " (skipped " + std::to_string(a.value("resting_s", 0LL)) + " s)"
                              : "");
            std::string reg;
            if (t.contains("registered_for_s"))
                reg = t.value("registered_for_s", 0LL) > 0
                          ? ", registered " + std::to_string(t.value("registered_for_s", 0LL)) +
                                " s more"
                          : ", not registered";
            std::printf("  trunk %-16s %s, %lld calls, %s%s\n",
                        t.value("trunk", std::string()).c_str(),
                        t.value("up", false) ? "up" : "down", t.value("calls", 0LL),
                        where.empty() ? "no address yet" : where.c_str(), reg.c_str());
        }
    if (r.contains("registrations") && r["registrations"].is_object())
        for (const auto& [agent, list] : r["registrations"].items())
            for (const auto& b : list)
                std::printf("  agent %-16s registered from %s (%s), %llds left, %s\n",
                            agent.c_str(), b.value("source", std::string()).c_str(),
                            b.value("transport", std::string()).c_str(),
                            b.value("expires_in_s", 0LL),
                            b.value("user_agent", std::string()).c_str());
    if (r.contains("registration_lockouts"))
        for (const auto& ip : r["registration_lockouts"])
            if (ip.is_string())
                std::printf("  locked out (wrong credentials): %s\n",
                            ip.get<std::string>().c_str());
    for (const auto& c : r["campaigns"])
        std::printf("  %-24s %-9s dialled %lld, in progress %lld, abandoned %lld of %lld live\n",
                    c.value("campaign", std::string()).c_str(),
                    c.value("state", std::string()).c_str(), c.value("dialled", 0LL),
                    c.value("in_progress", 0LL), c.value("window_abandoned", 0LL),
                    c.value("window_live", 0LL));
    return 0;
}

}  // namespace

void add_ctl_command(CLI::App& app, int& exit_code) {
    auto a = std::make_shared<CtlArgs>();
    auto* cmd = app.add_subcommand(
        "ctl",
        "Control a running engine: status | pause NAME | resume NAME | stop NAME | shutdown | "
        "reload [NAME] | reload-agents");
    cmd->add_option("command", a->command,
                    "status, pause, resume, stop, shutdown, reload (campaign files read again "
                    "and applied between calls; new campaigns in the config started) or "
                    "reload-agents")
        ->required();
    cmd->add_option("campaign", a->campaign, "campaign name (pause, resume, stop, reload)");
    cmd->add_option("--endpoint", a->endpoint,
                    "the engine's control endpoint (ipc://... or tcp://...)");
    cmd->add_option("--config", a->config, "read the endpoint from the engine's config");
    cmd->add_option("--timeout-ms", a->timeout_ms, "how long to wait for the engine");
    cmd->add_flag("--json", a->json, "print the engine's JSON reply");
    auto* server_key =
        cmd->add_option("--server-key", a->server_key, "CurveZMQ: the engine's public key file");
    cmd->add_option("--key", a->key, "CurveZMQ: this client's secret key file")->needs(server_key);
    server_key->needs("--key");
    cmd->callback([a, &exit_code] { exit_code = run_ctl(*a); });
}

}  // namespace outpace::cli
