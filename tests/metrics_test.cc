// Metrics and deployment: the engine dials a small campaign against SIPp while a real Prometheus
// (Debian's) scrapes it on loopback with the shipped scrape config; every expression of the
// shipped dashboards and recording rules must return data, and every metric the alert rules name
// must exist. promtool checks the shipped config and rules; the .deb builds with its files.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>

#include "dialer/engine/engine_config.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kDeploy = std::string(OUTPACE_SOURCE_DIR) + "/deploy";

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

json query(int port, const std::string& expr) {
    auto j = json::parse(http_get(port, "/api/v1/query?query=" + url_encode(expr)), nullptr, false);
    return j.is_discarded() ? json() : j;
}

}  // namespace

TEST_CASE("deploy: promtool accepts the shipped scrape config and rules") {
    auto r = test::run("promtool check config " + kDeploy + "/prometheus/prometheus.yml");
    CHECK_MESSAGE(r.status == 0, r.out);
    r = test::run("promtool check rules " + kDeploy + "/prometheus/outpace-rules.yml");
    CHECK_MESSAGE(r.status == 0, r.out);
}

TEST_CASE(
    "metrics: Prometheus scrapes the engine, and every dashboard and rule expression has data") {
    Rig rig;
    const auto human = rig.streaming("human-short-000.wav", 200);
    rig.campaign("people", human, 3, "", 1);
    rig.campaign("busy", "uas_busy.xml", 3, "", 1);
    const int metrics_port = free_port(), prom_port = free_port();
    auto engine =
        rig.start("metrics: \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n" +
                  "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(free_port()) + "\"}\n");
    REQUIRE(wait_tcp_listening(metrics_port));

    // The shipped config, pointed at this engine and scraping every second.
    std::string config = read_file(kDeploy + "/prometheus/prometheus.yml");
    auto replace = [&](const std::string& from, const std::string& to) {
        const auto at = config.find(from);
        REQUIRE_MESSAGE(at != std::string::npos, from);
        config.replace(at, from.size(), to);
    };
    replace("127.0.0.1:9464", "127.0.0.1:" + std::to_string(metrics_port));
    replace("scrape_interval: 15s", "scrape_interval: 1s");
    replace("evaluation_interval: 15s", "evaluation_interval: 1s");
    rig.write("prometheus.yml", config);
    test::run("cp " + kDeploy + "/prometheus/outpace-rules.yml " + rig.file("outpace-rules.yml"));
    Child prometheus({"prometheus", "--config.file=" + rig.file("prometheus.yml"),
                      "--storage.tsdb.path=" + rig.file("tsdb"),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                     rig.file("prometheus.log"));
    REQUIRE(wait_tcp_listening(prom_port, 30s));
    // Until the engine has been scraped for a while and the calls are over (rates need two
    // samples; outcomes need the calls to end).
    const auto end = std::chrono::steady_clock::now() + 60s;
    bool ready = false;
    while (!ready && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(1s);
        auto r =
            query(prom_port,
                  "sum(outpace_call_outcomes_total{result=~\"abandoned|busy\"}) >= 6 and on () "
                  "count_over_time(up{job=\"outpace\"}[1m]) >= 5");
        ready = r.value("status", "") == "success" && !r["data"]["result"].empty();
    }
    INFO(rig.log("prometheus.log"));
    INFO(rig.log("engine.log"));
    REQUIRE(ready);
    std::this_thread::sleep_for(2s);

    // Dashboards: every panel's expression returns data.
    std::vector<std::string> exprs;
    for (const char* d : {"campaigns", "agents", "compliance", "carrier", "amd"}) {
        auto j = json::parse(
            read_file(kDeploy + "/grafana/dashboards/outpace-" + std::string(d) + ".json"));
        REQUIRE(j["panels"].size() >= 4);
        for (const auto& p : j["panels"])
            for (const auto& t : p["targets"]) exprs.push_back(t["expr"]);
    }
    // Recording rules too; alert rules are conditions (empty while all is well): their
    // expression must evaluate and every metric they name must exist.
    std::vector<std::string> alert_exprs;
    const auto rules = YAML::LoadFile(kDeploy + "/prometheus/outpace-rules.yml");
    for (const auto& g : rules["groups"])
        for (const auto& r : g["rules"])
            (r["record"] ? exprs : alert_exprs).push_back(r["expr"].as<std::string>());
    REQUIRE(alert_exprs.size() >= 5);
    for (const auto& e : exprs) {
        auto r = query(prom_port, e);
        CHECK_MESSAGE(r.value("status", "") == "success", e);
        CHECK_MESSAGE(!r["data"]["result"].empty(), "no data: " << e);
    }
    std::set<std::string> names;
    const std::regex metric(R"(\b(outpace_[a-z_]+|up)\b)");
    for (const auto& e : alert_exprs) {
        auto r = query(prom_port, e);
        CHECK_MESSAGE(r.value("status", "") == "success", e);
        for (std::sregex_iterator i(e.begin(), e.end(), metric), stop; i != stop; ++i)
            names.insert((*i)[1]);
    }
    for (const auto& e : exprs)
        for (std::sregex_iterator i(e.begin(), e.end(), metric), stop; i != stop; ++i)
            names.insert((*i)[1]);
    for (const auto& n : names) {
        if (n.size() > 7 && n.compare(n.size() - 7, 7, "_bucket") == 0) continue;  // in exprs
        auto r = query(prom_port, n);
        CHECK_MESSAGE(!r["data"]["result"].empty(), "no series: " << n);
    }
    // The figures behind them are the run's: 3 busy, 3 people (safe harbor on unattended lines).
    auto busy = query(prom_port, "outpace_call_outcomes_total{campaign=\"busy\",result=\"busy\"}");
    REQUIRE(!busy["data"]["result"].empty());
    CHECK(busy["data"]["result"][0]["value"][1] == "3");
    auto code = query(prom_port, "sum(outpace_sip_responses_total{code=\"486\"})");
    REQUIRE(!code["data"]["result"].empty());
    CHECK(code["data"]["result"][0]["value"][1] == "3");
    auto humans =
        query(prom_port, "outpace_amd_verdicts_total{campaign=\"people\",result=\"human\"}");
    REQUIRE(!humans["data"]["result"].empty());
    CHECK(humans["data"]["result"][0]["value"][1] == "3");
}

TEST_CASE("deploy: the .deb builds with the binary, unit, config, examples, schema, dashboards") {
    test::TempDir tmp;
    auto r = test::run("cpack -G DEB -B " + tmp.path() + " --config " +
                       std::string(OUTPACE_BUILD_DIR) + "/CPackConfig.cmake 2>&1");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto deb = test::run("ls " + tmp.path() + "/*.deb").out;
    REQUIRE(!deb.empty());
    const auto file = deb.substr(0, deb.find('\n'));
    const auto list = test::run("dpkg-deb -c " + file).out;
    for (const char* path :
         {"./usr/bin/outpace", "./usr/lib/systemd/system/outpace.service",
          "./usr/lib/systemd/system/outpace-web.service", "./etc/outpace/web.yaml",
          "./usr/share/outpace/web/index.html", "./usr/share/outpace/web/supervisor.html",
          "./usr/share/outpace/web/strings.js", "./usr/lib/outpace/liboutpace-ssl.so",
          "./usr/lib/outpace/liboutpace-crypto.so", "./etc/outpace/engine.yaml",
          "./usr/share/outpace/examples/telemarketing.yaml",
          "./usr/share/outpace/schema/campaign.schema.json",
          "./usr/share/outpace/grafana/dashboards/outpace-compliance.json",
          "./usr/share/outpace/grafana/provisioning/datasource.yaml",
          "./usr/share/outpace/prometheus/outpace-rules.yml",
          "./usr/share/doc/outpace/operations.md", "./usr/share/man/man1/outpace.1",
          "./usr/share/bash-completion/completions/outpace"})
        CHECK_MESSAGE(list.find(std::string(path) + "\n") != std::string::npos, path);
    const auto info = test::run("dpkg-deb -I " + file).out;
    CHECK(info.find("conffiles") != std::string::npos);
    CHECK(info.find("postinst") != std::string::npos);
    CHECK(test::run("dpkg-deb --ctrl-tarfile " + file + " | tar -xO ./conffiles").out ==
          "/etc/outpace/engine.yaml\n/etc/outpace/web.yaml\n");
}

TEST_CASE("deploy: the packaged engine config loads (examples where the package puts them)") {
    std::string text = read_file(kDeploy + "/etc/engine.yaml");
    const std::string installed = "/usr/share/outpace/examples";
    const auto at = text.find(installed);
    REQUIRE(at != std::string::npos);
    text.replace(at, installed.size(), kDeploy + "/examples");
    auto load = load_engine_config_text(text, "engine.yaml", kDeploy + "/etc");
    std::string errors;
    for (const auto& e : load.errors) errors += e.to_string() + "\n";
    REQUIRE_MESSAGE(load.config, errors);
    CHECK(load.config->metrics == "127.0.0.1:9464");
    CHECK(!load.config->agents.endpoint.empty());
    CHECK(load.config->trunks.size() == 1);
}
