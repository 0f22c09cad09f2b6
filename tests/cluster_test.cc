// Many engines behind Kamailio (deploy/cluster): Debian's Kamailio runs the shipped kamailio.cfg
// on 127.0.0.1 in front of two engines, each owning its campaign, with one SIPp carrier behind
// Kamailio's dispatcher; each engine's agent has a real softphone (baresip) that registers to
// Kamailio, which relays the REGISTER to the agent's engine and the engine's calls back to it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "dialer/engine/control.h"
#include "dialer/engine/engine_config.h"
#include "tests/agent_rig.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace outpace::test;

namespace {

// Kamailio with deploy/cluster's kamailio.cfg, listening on 127.0.0.1:`port`, the carrier and
// the engines in its dispatcher list and the agents' engines in its agents.cfg.
class Kamailio {
  public:
    Kamailio(const std::string& dir, int port, const std::string& dispatcher,
             const std::string& agents)
        : dir_(dir) {
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(std::string(OUTPACE_SOURCE_DIR) + "/deploy/cluster/kamailio.cfg",
                                   dir + "/kamailio.cfg",
                                   std::filesystem::copy_options::overwrite_existing);
        std::ofstream(dir + "/dispatcher.list") << dispatcher;
        std::ofstream(dir + "/agents.cfg") << agents;
        child_ = std::make_unique<Child>(
            std::vector<std::string>{"kamailio", "-f", dir + "/kamailio.cfg", "-DD", "-E", "-Y",
                                     dir, "-P", dir + "/kamailio.pid", "-w", dir, "-A",
                                     "LISTEN=udp:127.0.0.1:" + std::to_string(port), "-A",
                                     "DISPATCHER_LIST=\"" + dir + "/dispatcher.list\""},
            dir + "/kamailio.log");
    }
    std::string log() const { return read_file(dir_ + "/kamailio.log"); }

  private:
    std::string dir_;
    std::unique_ptr<Child> child_;
};

// One engine of the cluster: its campaign (one contact) dialled through Kamailio, its agent's
// desktop, and the agent's softphone registered to Kamailio with voice `hz`.
struct Site {
    Rig rig;
    std::string agent;
    int agents_port = free_port(), control_port = free_port();
    std::unique_ptr<Child> engine, desk;
    std::unique_ptr<Baresip> phone;

    Site(const std::string& campaign, const std::string& id, int kamailio_port) : agent(id) {
        const std::string kamailio = "127.0.0.1:" + std::to_string(kamailio_port);
        rig.sip_extra(", proxies: [\"" + kamailio + "\"]");
        rig.trunk_entry("{name: cluster, address: \"" + kamailio +
                        "\", max_calls_per_second: 10, max_calls: 10}");
        rig.trunks_for_next("trunk: cluster");
        // (The rig gives each campaign a SIPp of its own too; nothing calls it here.)
        rig.campaign(campaign, "uas_busy.xml", 1, "", 0);
    }
    void start() {
        // `agent` at a desktop; `carol` only registers (nobody is logged in as carol).
        engine = start_engine(rig, agents_port, write_agents(rig, {agent, "carol"}), control_port);
        desk = start_agent(rig, agents_port, agent);
        REQUIRE_MESSAGE(wait_logged_in(rig, agent), rig.log("agent.log"));
        REQUIRE(wait_udp_bound(engine_sip_port(rig)));
    }
    void register_phone(int kamailio_port, int hz, const std::string& ip) {
        phone = std::make_unique<Baresip>(
            rig, ip + ":" + std::to_string(free_port()),
            "<sip:" + agent + "@127.0.0.1:" + std::to_string(kamailio_port) +
                ">;auth_pass=" + agent + "-sip-pw;regint=120;answermode=auto;audio_codecs=PCMU",
            "", hz);
    }
};

// SIPp as a softphone at `ip` registering through Kamailio with tests/sipp's `scenario`; its
// exit status.
int sipp_through(Rig& rig, const std::string& scenario, const std::string& ip, int port,
                 int kamailio_port, const std::string& user, const std::string& password,
                 const std::string& extra) {
    return test::run("sipp -nostdin -timeout 20s -sf " + std::string(OUTPACE_SOURCE_DIR) +
                     "/tests/sipp/" + scenario + " -i " + ip + " -p " + std::to_string(port) +
                     " -s " + user + " -ap " + password + " " + extra + " 127.0.0.1:" +
                     std::to_string(kamailio_port) + " >> " + rig.file("sipp-phones.log") + " 2>&1")
        .status;
}

nlohmann::json cluster_status(const Site& site) {
    std::string reply, error;
    REQUIRE_MESSAGE(control_request("tcp://127.0.0.1:" + std::to_string(site.control_port),
                                    R"({"command":"status"})", 3000, &reply, &error),
                    error);
    return nlohmann::json::parse(reply);
}

}  // namespace

TEST_CASE(
    "cluster: two engines behind Kamailio each dial their campaign through it, and agents "
    "registered through it take calls from their own engine") {
    REQUIRE_MESSAGE(std::filesystem::exists("/usr/sbin/kamailio"), "needs Debian's kamailio");
    const int kamailio_port = free_port();
    Site east("east", "alice", kamailio_port), west("west", "bob", kamailio_port);
    // The carrier, behind Kamailio only: answers with a person's greeting, then a 1 kHz tone,
    // and records what it is sent.
    RtpCapture customer;
    const auto callee =
        east.rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    auto carrier = start_sipp_uas(callee, east.rig.file("carrier.sipp.log"));
    REQUIRE_MESSAGE(carrier.child, read_file(east.rig.file("carrier.sipp.log")));

    east.start();
    west.start();
    const int east_sip = engine_sip_port(east.rig), west_sip = engine_sip_port(west.rig);
    Kamailio kamailio(
        east.rig.file("kamailio"), kamailio_port,
        "1 sip:127.0.0.1:" + std::to_string(carrier.port) + "\n2 sip:127.0.0.1:" +
            std::to_string(east_sip) + "\n2 sip:127.0.0.1:" + std::to_string(west_sip) + "\n",
        "$sht(agents=>alice) = \"sip:127.0.0.1:" + std::to_string(east_sip) +
            "\";\n$sht(agents=>bob) = \"sip:127.0.0.1:" + std::to_string(west_sip) +
            "\";\n$sht(agents=>carol) = \"sip:127.0.0.1:" + std::to_string(west_sip) + "\";\n");
    REQUIRE_MESSAGE(wait_udp_bound(kamailio_port), kamailio.log());
    INFO(east.rig.log("sipp-phones.log"));

    // A phone behind NAT (SIPp at 127.0.0.2, its Contact a private address) registers through
    // Kamailio: the engine keeps where the phone is (Kamailio's Via), not Kamailio's address.
    const int nat_port = free_port();
    REQUIRE(sipp_through(east.rig, "register.xml", "127.0.0.2", nat_port, kamailio_port, "carol",
                         "carol-sip-pw", "-m 1 -key expires 60") == 0);
    auto status = cluster_status(west);
    REQUIRE(status["registrations"]["carol"].size() == 1);
    CHECK(status["registrations"]["carol"][0]["contact"] == "sip:carol@10.0.0.5:5060");
    CHECK(status["registrations"]["carol"][0]["source"] == "127.0.0.2:" + std::to_string(nat_port));
    // Wrong passwords from 127.0.0.3, through Kamailio, lock out 127.0.0.3 at alice's engine,
    // never Kamailio itself: alice's phone, through the same Kamailio, registers below.
    REQUIRE(sipp_through(east.rig, "register_wrong.xml", "127.0.0.3", free_port(), kamailio_port,
                         "alice", "guess", "-m 5 -key expires 60") == 0);
    CHECK(east.rig.log("engine.log").find("registration from 127.0.0.3: locked out") !=
          std::string::npos);
    CHECK(cluster_status(east)["registrations"].value("alice", nlohmann::json::array()).empty());

    east.register_phone(kamailio_port, 600, "127.0.0.1");
    west.register_phone(kamailio_port, 900, "127.0.0.1");

    for (Site* s : {&east, &west}) {
        const int status = s->engine->wait(std::chrono::seconds(90));
        INFO(s->rig.log("engine.log"));
        INFO(s->rig.log("agent.log"));
        INFO(s->phone->log());
        INFO(kamailio.log());
        REQUIRE(status == 0);
    }
    // Each engine's campaign: its one contact, connected to its own agent.
    const auto e = east.rig.attempts(), w = west.rig.attempts();
    REQUIRE(e.at("east").size() == 1);
    REQUIRE(w.at("west").size() == 1);
    CHECK(e.at("east")[0].outcome == Outcome::connected);
    CHECK(e.at("east")[0].agent == "alice");
    CHECK(w.at("west")[0].outcome == Outcome::connected);
    CHECK(w.at("west")[0].agent == "bob");
    // Both went out on the engines' one trunk, Kamailio, which relayed them to the carrier.
    CHECK(e.at("east")[0].trunk == "cluster");
    CHECK(w.at("west")[0].trunk == "cluster");
    // Each softphone registered at its agent's engine only, through Kamailio (the engine saw the
    // phone's own address from Kamailio's Via and called it back through Kamailio).
    const auto east_log = east.rig.log("engine.log"), west_log = west.rig.log("engine.log");
    CHECK(east_log.find("agent alice: softphone registered") != std::string::npos);
    CHECK(west_log.find("agent bob: softphone registered") != std::string::npos);
    CHECK(east_log.find("agent bob") == std::string::npos);
    CHECK(west_log.find("agent alice") == std::string::npos);
    // Audio both ways on both engines: each agent's voice reached the carrier, and each phone
    // heard the customer's tone.
    CHECK_MESSAGE(tone_packets(customer, 600) >= 100, "alice's voice at the carrier");
    CHECK_MESSAGE(tone_packets(customer, 900) >= 100, "bob's voice at the carrier");
    CHECK_MESSAGE(east.phone->heard_frames(1000) >= 100, "the customer's tone at alice's phone");
    CHECK_MESSAGE(west.phone->heard_frames(1000) >= 100, "the customer's tone at bob's phone");
    // Each engine's answer was listened to and its conversation relayed by its media worker,
    // which asked for SCHED_FIFO 10 by default: granted, or refused with the reason (never
    // silently).
    for (const auto* log : {&east_log, &west_log}) {
        CHECK(log->find("media: 1 conversation was relayed by media workers") != std::string::npos);
        CHECK(log->find("; 1 answer was listened to there") != std::string::npos);
        CHECK((log->find("agents relayed (SCHED_FIFO 10)") != std::string::npos ||
               log->find("SCHED_FIFO 10 refused") != std::string::npos));
    }
}

TEST_CASE("cluster: sip.proxies is a list of IP:PORT, and a wrong entry is named where it is") {
    auto load = [](const std::string& proxies) {
        return load_engine_config_text(
            "data: d\nsip: {address: 127.0.0.1, port: 5071, proxies: " + proxies +
                "}\ntrunks:\n  - {name: c, address: \"127.0.0.1:5060\"}"
                "\ncampaigns: [{file: " +
                test::example("telemarketing.yaml") + "}]\n",
            "engine.yaml");
    };
    const auto good = load("[\"127.0.0.1:5060\", \"[::1]:5080\"]");
    REQUIRE_MESSAGE(good.errors.empty(), good.errors.front().to_string());
    REQUIRE(good.config->sip_proxies.size() == 2);
    CHECK(good.config->sip_proxies[0].ip == "127.0.0.1");
    CHECK(good.config->sip_proxies[0].port == 5060);
    CHECK(good.config->sip_proxies[1].ip == "::1");
    CHECK(good.config->sip_proxies[1].port == 5080);
    // A name is not an address (a proxy is matched by where its packets come from), nor is an
    // address without its port.
    for (const std::string bad : {"[\"kamailio.example:5060\"]", "[\"127.0.0.1\"]"}) {
        const auto l = load(bad);
        REQUIRE(l.errors.size() == 1);
        CHECK(l.errors[0].to_string().find("engine.yaml:2:") == 0);
        CHECK(l.errors[0].to_string().find("'sip.proxies' entries are IP:PORT") !=
              std::string::npos);
    }
}

TEST_CASE("cluster: the shipped example's engine configs load, and name Kamailio as their proxy") {
    const std::string dir = std::string(OUTPACE_SOURCE_DIR) + "/deploy/";
    std::vector<int> ports;
    for (const char* name : {"east", "west"}) {
        CAPTURE(name);
        // As installed: the examples and the cluster's files where the package puts them.
        std::string text = read_file(dir + "cluster/" + name + ".yaml");
        for (const auto& [from, to] : {std::pair<std::string, std::string>{
                                           "/usr/share/outpace/examples/", dir + "examples/"},
                                       {"/etc/outpace/cluster/", dir + "cluster/"}})
            for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
                text.replace(at, from.size(), to);
        const auto l = load_engine_config_text(text, std::string(name) + ".yaml");
        REQUIRE_MESSAGE(l.errors.empty(), l.errors.front().to_string());
        REQUIRE(l.config->sip_proxies.size() == 1);
        CHECK(l.config->cluster_engine == name);
        CHECK(l.config->cluster_clients.size() == 2);
        CHECK(l.config->sip_proxies[0].port == 5060);
        CHECK(l.config->trunks.at(0).port == 5060);
        ports.push_back(l.config->sip_port);
    }
    // Kamailio's lists name the two engines' SIP addresses.
    const auto dispatcher = read_file(dir + "cluster/dispatcher.list");
    const auto agents = read_file(dir + "cluster/agents.cfg");
    for (int port : ports) {
        CHECK(dispatcher.find("2 sip:127.0.0.1:" + std::to_string(port)) != std::string::npos);
        CHECK(agents.find("sip:127.0.0.1:" + std::to_string(port)) != std::string::npos);
    }
}

TEST_CASE(
    "cluster: an engine refuses a campaign whose client another engine runs, or that the "
    "clients file does not assign") {
    Rig rig;
    rig.campaign("acme-renewals", "uas_busy.xml", 2, "client: acme\n", 1);
    const auto clients = rig.write("clients.yaml", "acme: west\nbigbank: east\n");
    const std::string cluster = "cluster: {engine: east, clients: " + clients + "}\n";
    // acme's campaigns run on west: east will not start with one.
    auto r = rig.run(cluster);
    CHECK(r.status != 0);
    CHECK_MESSAGE(r.out.find("client 'acme' runs on engine 'west'") != std::string::npos, r.out);
    CHECK(rig.attempts().empty());  // nothing dialled, nothing recovered
    // Unassigned: refused too (strict: a client's campaigns must have one home).
    rig.write("clients.yaml", "bigbank: east\n");
    r = rig.run(cluster);
    CHECK(r.status != 0);
    CHECK_MESSAGE(r.out.find("client 'acme' is not in " + clients) != std::string::npos, r.out);
    // Assigned to this engine: it dials.
    rig.write("clients.yaml", "acme: east\n");
    r = rig.run(cluster);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(rig.attempts()["acme-renewals"].size() == 2);

    // The clients file's own mistakes are named at their place.
    rig.write("clients.yaml", "acme: east\nbigbank: [east, west]\n");
    const auto load = load_engine_config(rig.config(cluster));
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].to_string().find(clients + ":2:1: each client maps to one engine") == 0);
    // A device that never ends is read no further than a YAML file's limit, and refused.
    const auto endless = load_engine_config_text(
        "data: d\ntrunks:\n  - {name: c, address: \"127.0.0.1:5060\"}\ncampaigns: [{file: " +
            test::example("telemarketing.yaml") +
            "}]\ncluster: {engine: east, clients: /dev/zero}\n",
        "engine.yaml");
    REQUIRE(endless.errors.size() == 1);
    CHECK(endless.errors[0].to_string().find("/dev/zero: the file has") == 0);
}
