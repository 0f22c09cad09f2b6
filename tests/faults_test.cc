// Faults the engine must ride out: a trunk that refuses everything and then recovers, a trunk
// that answers and sends no media, every agent pausing while calls are in flight. Real SIPp
// carriers on loopback, the real store, the engine's own metrics endpoint.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/agent_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// A sample's value from the engine's /metrics text (the first series matching `series`, e.g.
// `outpace_trunk_up{trunk="flaky"}`); -1 when absent.
double faults_metric(int port, const std::string& series) {
    const auto text = http_get(port, "/metrics");
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series, 0) == 0 && line.size() > series.size() && line[series.size()] == ' ')
            return std::stod(line.substr(series.size() + 1));
    return -1;
}

// The SIP port of the engine the rig started (from the config it wrote), once it is bound.
std::string sip_port(Rig& rig) {
    std::smatch m;
    const std::string t = read_file(rig.file("engine.yaml"));
    REQUIRE(std::regex_search(t, m, std::regex("sip: \\{address: 127.0.0.1, port: (\\d+)\\}")));
    REQUIRE(wait_udp_bound(std::stoi(m[1].str())));
    return m[1].str();
}

// Polls until `ok` holds or `limit` passes.
template <typename F>
bool eventually(F ok, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (ok()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return ok();
}

}  // namespace

TEST_CASE(
    "faults: a trunk refusing everything is backed off, the contacts keep their "
    "attempts, and dialling resumes when the trunk recovers") {
    Rig rig;
    rig.campaign("flaky", "uas_503.xml", 30, "", 2);
    const int metrics_port = free_port();
    auto engine = rig.start("metrics: \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n");
    REQUIRE(wait_tcp_listening(metrics_port));
    const std::string dials = "outpace_dials_total{campaign=\"flaky\"}";
    const std::string up = "outpace_trunk_up{trunk=\"flaky\"}";

    // Three refusals in a row rest the trunk for 1 s, then 2, 4, 8...: over 6 s a handful of
    // calls, not the 30 contacts (nor hundreds, as a retry loop at 50 calls/s would).
    CHECK(eventually([&] { return faults_metric(metrics_port, up) == 0; }, 5s));
    std::this_thread::sleep_for(6s);
    const double refused = faults_metric(metrics_port, dials);
    CHECK(refused >= 3);
    CHECK(refused <= 9);
    CHECK(faults_metric(metrics_port, "outpace_trunk_carrier_errors_total{trunk=\"flaky\"}") ==
          refused);

    // The trunk recovers (the same address now answers busy): dialling resumes by itself.
    rig.swap_carrier("flaky", "uas_busy.xml");
    CHECK(eventually(
        [&] {
            return faults_metric(
                       metrics_port,
                       "outpace_call_outcomes_total{campaign=\"flaky\",result=\"busy\"}") >= 5;
        },
        30s));
    CHECK(faults_metric(metrics_port, up) == 1);
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);

    auto all = rig.attempts();
    int carrier = 0, busy = 0;
    for (const auto& a : all["flaky"]) {
        auto c = rig.contact("flaky", a.phone);
        REQUIRE(c);
        if (a.outcome == Outcome::carrier_error) {
            ++carrier;
            CHECK(a.sip_code == 503);
        } else if (a.outcome == Outcome::busy) {
            ++busy;
        }
    }
    CHECK(carrier == refused);
    CHECK(busy >= 5);
    // Not the contacts' fault: an attempt counts only where the callee was busy.
    for (const auto& a : all["flaky"]) {
        auto c = rig.contact("flaky", a.phone);
        int busy_here = 0;
        for (const auto& b : all["flaky"])
            busy_here += b.phone == a.phone && b.outcome == Outcome::busy;
        CHECK_MESSAGE(c->attempts == static_cast<std::uint32_t>(busy_here), a.phone);
    }
}

TEST_CASE("faults: a trunk that answers and sends no RTP is a carrier error, not an abandon") {
    Rig rig;
    rig.campaign("mute", "uas", 3, "", 3);  // SIPp's built-in UAS: answers, sends no media
    auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["mute"].size() == 3);
    for (const auto& a : all["mute"]) {
        CHECK(a.outcome == Outcome::carrier_error);
        CHECK(a.notes == "answered, but no RTP came");
        auto c = rig.contact("mute", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == 0);  // retried later, not burned
        CHECK(c->state == ContactState::pending);
    }
    // Nobody was abandoned: the window holds no live answer at all.
    auto rep = test::run(std::string(OUTPACE_BINARY) + " report --json --data " + rig.data() +
                         " --campaign mute");
    REQUIRE(rep.status == 0);
    const auto j = nlohmann::json::parse(rep.out);
    CHECK(j["abandon"]["24h"]["live_answers"] == 0);
}

TEST_CASE(
    "faults: malformed, oversized and unsolicited SIP from a stranger never stops the "
    "engine, and never reaches it") {
    Rig rig;
    rig.campaign("steady", rig.streaming("human-short-000.wav", 200), 6, "", 2);
    auto engine = rig.start("stop_when_done: true\ndrain_timeout: 10s\n");
    const std::string engine_port = sip_port(rig);

    std::string xml = read_file(std::string(OUTPACE_SOURCE_DIR) + "/tests/sipp/hostile.xml.in");
    xml.replace(xml.find("@BIG@"), 5, std::string(30'000, 'A'));
    const auto scenario = rig.write("hostile.xml", xml);
    // Twenty strangers, one after another, while the campaign dials: from 127.0.0.2, an
    // address on loopback that is neither the trunk's nor a softphone's.
    const auto stranger =
        run("timeout 60 sipp -nostdin -sf " + scenario + " -m 20 -r 10 -i 127.0.0.2 -p " +
            std::to_string(free_port()) + " -trace_msg -message_file " + rig.file("hostile.log") +
            " 127.0.0.1:" + engine_port + " >/dev/null 2>&1");
    CHECK(stranger.status == 0);             // SIPp sent its twenty rounds
    REQUIRE(::kill(engine->pid(), 0) == 0);  // still running

    REQUIRE(engine->wait(90s) == 0);  // finished its campaign and stopped by itself
    auto all = rig.attempts();
    REQUIRE(all["steady"].size() == 6);
    for (const auto& a : all["steady"]) CHECK(a.outcome == Outcome::abandoned);

    // What the stranger got back: nothing. Its requests are dropped by the kernel's filter on
    // the SIP socket before Sofia sees them: no answer to reflect, no transaction to hold.
    const auto log = rig.log("hostile.log");
    CHECK(log.find("OPTIONS") != std::string::npos);     // the probe went out
    CHECK(log.find("\nSIP/2.0 ") == std::string::npos);  // and no response of any kind came
    CHECK(log.find("message received") == std::string::npos);
}

TEST_CASE("faults: the trunk's OPTIONS keep-alive is answered") {
    Rig rig;
    rig.campaign("pinged", "uas_busy.xml", 1, "", 1);
    auto engine = rig.start("");
    const std::string engine_port = sip_port(rig);
    // SIPp's OPTIONS from 127.0.0.1, the trunk's address.
    const auto ping = rig.write("ping.xml", R"(<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options ping">
  <send><![CDATA[
OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:carrier@[local_ip]>;tag=1
To: <sip:[remote_ip]>
Call-ID: ping-[call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" timeout="5000" />
</scenario>
)");
    const auto r = run("timeout 30 sipp -nostdin -sf " + ping + " -m 1 -i 127.0.0.1 -p " +
                       std::to_string(free_port()) + " 127.0.0.1:" + engine_port +
                       " -trace_msg -message_file " + rig.file("ping.log") + " >/dev/null 2>&1");
    INFO(r.out << rig.log("ping.log"));
    CHECK(rig.log("ping.log").find("SIP/2.0 200 OK") != std::string::npos);
    engine->signal(SIGTERM);
    CHECK(engine->wait(30s) == 0);
}

namespace {

// The engine's own sockets (by inode, from /proc/PID/fd), as "PROTO ADDRESS:PORT STATE" for each
// one the kernel's tables list (IPv4 and IPv6, TCP and UDP).
std::vector<std::string> sockets_of(int pid) {
    std::set<std::string> inodes;
    for (const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(e.path(), ec).string();
        if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    std::vector<std::string> out;
    for (const char* proto : {"tcp", "udp", "tcp6", "udp6"}) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + proto);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
            f >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
                inode;
            if (inodes.count(inode)) out.push_back(std::string(proto) + " " + local + " " + state);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("security: the engine listens only on the addresses its config names") {
    Rig rig;
    rig.campaign("quiet", "uas_busy.xml", 1, "", 1);
    const int agents = free_port(), events = free_port(), metrics_port = free_port(),
              control = free_port();
    auto engine = rig.start("agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents) +
                            "\", events: \"tcp://127.0.0.1:" + std::to_string(events) +
                            "\"}\nmetrics: \"127.0.0.1:" + std::to_string(metrics_port) +
                            "\"\ncontrol: \"tcp://127.0.0.1:" + std::to_string(control) + "\"\n");
    REQUIRE(wait_tcp_listening(agents));
    REQUIRE(wait_tcp_listening(metrics_port));
    REQUIRE(wait_tcp_listening(control));
    const auto sockets = sockets_of(engine->pid());
    INFO("engine sockets:\n"
         << [&] {
                std::string s;
                for (const auto& x : sockets) s += x + "\n";
                return s;
            }());
    int listening = 0;
    for (const auto& s : sockets) {
        std::istringstream f(s);
        std::string proto, local, state;
        f >> proto >> local >> state;
        const bool udp = proto.rfind("udp", 0) == 0;
        if (!udp && state != "0A") continue;  // connected TCP sockets: not listening
        ++listening;
        // 0100007F: 127.0.0.1 in the kernel's byte order; nothing on 0.0.0.0, :: or elsewhere.
        CHECK_MESSAGE(local.rfind("0100007F:", 0) == 0, s);
    }
    CHECK(listening >= 5);  // SIP, agents, events, metrics, control
    engine->signal(SIGTERM);
    CHECK(engine->wait(30s) == 0);
}

TEST_CASE("faults: a trunk that stops answering times out as a carrier error and is backed off") {
    Rig rig;
    rig.campaign("silent", "uas_silent.xml", 4, "", 4);
    // SIP's transaction timeout (32 s by default, RFC 3261's 64*T1), shortened: the engine gives
    // up on each INVITE after 4 s; the four calls then count against the trunk.
    rig.sip_extra(", response_timeout: 4s");
    const int metrics_port = free_port();
    auto engine = rig.start("metrics: \"127.0.0.1:" + std::to_string(metrics_port) + "\"\n");
    REQUIRE(wait_tcp_listening(metrics_port));
    CHECK(eventually(
        [&] { return faults_metric(metrics_port, "outpace_trunk_up{trunk=\"silent\"}") == 0; },
        20s));
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);
    auto all = rig.attempts();
    REQUIRE(all["silent"].size() == 4);
    for (const auto& a : all["silent"]) {
        CHECK(a.outcome == Outcome::carrier_error);
        CHECK(a.ring_ms >= 3'500);
        CHECK(a.ring_ms < 30'000);  // the configured timeout, not SIP's default
        CHECK(a.notes.find("no ringing response") != std::string::npos);
        CHECK(rig.contact("silent", a.phone)->attempts == 0);
    }
}

TEST_CASE(
    "faults: every agent pauses while calls are in flight — the people who answer hear the "
    "safe harbor, are counted as abandoned, and dialling stops") {
    Rig rig;
    RtpCapture customer;
    Softphones phones(rig.file("softphones.log"));
    // Calls ring for 1.5 s: the agent pauses while they ring.
    const auto callee = rig.streaming("human-short-000.wav", 1500, customer.port());
    const long greeting_end = label("human-short-000.wav")["greeting_end_ms"].get<long>();
    rig.mode("power, ratio: 3");
    rig.campaign("deserted", callee, 6, "", 0);
    const int agents_port = free_port();
    auto engine = rig.start(agents_section(agents_port, 0, "5s"));
    REQUIRE(wait_tcp_listening(agents_port));
    Desk desk(agents_port, "desk-d");
    desk.log_in_ready("d1", phones.port);
    std::this_thread::sleep_for(500ms);  // the pacer dials three for its one ready agent
    desk.send(json{{"type", "pause"}, {"reason", "meeting"}});
    REQUIRE(desk.expect("state")["state"] == "paused");
    std::this_thread::sleep_for(10s);  // answers, verdicts, 2 s each, messages
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);

    auto all = rig.attempts();
    REQUIRE(all["deserted"].size() == 3);  // nothing dialled once nobody was ready
    for (const auto& a : all["deserted"]) {
        CHECK(a.amd_verdict == "human");
        CHECK(a.outcome == Outcome::abandoned);
    }
    // Each of the three heard the message within 2 s of the end of their greeting.
    const auto streams = by_stream(customer.packets());
    REQUIRE(streams.size() == 3);
    for (const auto& [ssrc, packets] : streams) {
        const auto heard = first_loud_ms(packets);
        REQUIRE_MESSAGE(heard, "stream " << ssrc << " heard only silence");
        CHECK_MESSAGE(*heard <= greeting_end + 2000, "message after " << *heard << " ms");
    }
    auto rep = run(std::string(OUTPACE_BINARY) + " report --json --data " + rig.data() +
                   " --campaign deserted");
    REQUIRE(rep.status == 0);
    const auto j = json::parse(rep.out);
    CHECK(j["abandon"]["24h"]["abandoned"] == 3);
    CHECK(j["abandon"]["24h"]["live_answers"] == 3);
}

namespace {
// Another program holding the rig's RTP ports: all of its 100 but the highest ten (the engine
// takes the lowest first). Released when it goes.
struct HeldPorts {
    explicit HeldPorts(const Rig& rig) {
        for (int port = rig.rtp_first(); port < rig.rtp_first() + 90; ++port) {
            const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<std::uint16_t>(port));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
            fds.push_back(fd);
        }
    }
    ~HeldPorts() {
        for (int fd : fds) ::close(fd);
    }
    std::vector<int> fds;
};
}  // namespace

TEST_CASE("faults: RTP ports another program holds are never offered, so no answer is dropped") {
    Rig rig;
    rig.campaign("crowded", rig.streaming("human-short-000.wav", 200), 4, "", 2);
    std::optional<HeldPorts> held(rig);
    const auto r = rig.run();
    held.reset();
    REQUIRE_MESSAGE(r.status == 0, r.out);
    // Every person who answered was a live answer heard out (abandoned: nobody to take them on
    // unattended lines), not a silent hang-up recorded `failed`.
    auto all = rig.attempts();
    REQUIRE(all["crowded"].size() == 4);
    for (const auto& a : all["crowded"]) {
        CHECK_MESSAGE(a.outcome == Outcome::abandoned, a.notes);
        CHECK(a.amd_verdict == "human");
    }
}

TEST_CASE("faults: an agent's softphone is offered a port another program does not hold") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    rig.campaign("crowded-floor", rig.streaming("human-short-000.wav", 200), 1, "", 0);
    HeldPorts held(rig);
    // Offered a held port, the softphone's answer could not be bound: the agent was paused and
    // nobody was dialled until the run's limit.
    const int status = run_with_agent(rig, phones.uri(), "fixed:1s");
    INFO(rig.log("engine.log"));
    REQUIRE(status == 0);
    CHECK(rig.log("engine.log").find("agent agent1: softphone answered") != std::string::npos);
    auto all = rig.attempts();
    REQUIRE(all["crowded-floor"].size() == 1);
    CHECK(all["crowded-floor"][0].outcome == Outcome::connected);
}

TEST_CASE(
    "faults: the open-file limit caps the calls in flight: dialling waits for a socket, no "
    "attempt is spent on the shortage, and the engine keeps answering its control socket") {
    Rig rig;
    // SIPp's built-in UAS answers at once and sends no RTP: each answered call holds its RTP
    // socket until the analysis gives up (total_analysis_time + 1 s), so sockets pile up.
    // The trunk may take all 400 at once: the files are the cap.
    rig.trunk_calls(400);
    rig.campaign("files", "uas", 400, "amd: {total_analysis_time: 8s}\n", 400);
    const std::string endpoint = "ipc://" + rig.file("control");
    const auto cfg = rig.config("control: " + endpoint + "\ndrain_timeout: 2s\n");
    REQUIRE(read_file(cfg).find("max_calls: 400}") != std::string::npos);
    // 170 files, soft and hard: the engine keeps what it has open at start (29 here) and a
    // margin of 64 for connections, and dials no more calls at once than the rest allows
    // (fewer than the rig's 100 ports). Uncapped, at a limit under the range, it bound a socket
    // per answer until none was left, and libzmq aborted the process on the next control
    // connection (bench/originate.sh, 19,756 answered calls at a 20,000 limit).
    test::Child engine(
        {"prlimit", "--nofile=170:170", OUTPACE_BINARY, "run", "--quiet", "--config", cfg},
        rig.file("engine.log"));
    // The engine says how many it allows.
    int cap = 0;
    for (int i = 0; i < 50 && !cap; ++i) {
        std::this_thread::sleep_for(100ms);
        std::smatch m;
        const auto log = rig.log("engine.log");
        if (std::regex_search(log, m,
                              std::regex("warning: the open-file limit \\(170, \\d+ open at "
                                         "start\\) allows (\\d+) calls at once")))
            cap = std::stoi(m[1].str());
    }
    INFO(rig.log("engine.log"));
    REQUIRE(cap > 20);
    REQUIRE(cap < 100);
    int most = 0, answered = 0, asked = 0;
    auto ask = [&] {
        std::this_thread::sleep_for(100ms);
        const auto s = first_campaign_status(endpoint);
        ++asked;
        if (s.empty()) return;
        ++answered;
        most = std::max(most, s.value("in_progress", 0));
    };
    for (int i = 0; i < 120 && most < cap; ++i) ask();
    // At the cap, the control socket still answers, and no more calls are placed.
    for (int i = 0; i < 10; ++i) ask();
    CHECK(most == cap);
    CHECK(answered >= asked - 2);  // the first ones may come before the socket is bound
    engine.signal(SIGTERM);
    CHECK(engine.wait(30s) == 0);
    const auto log = rig.log("engine.log");
    CHECK(log.find("Too many open files") == std::string::npos);
    CHECK(log.find("cannot place a call") == std::string::npos);
    // Why dialling stopped is said, once (a minute has not passed).
    const auto waits =
        log.find("files: dialling waits: " + std::to_string(cap) + " RTP ports in use");
    CHECK(waits != std::string::npos);
    CHECK(log.find("files: dialling waits", waits + 1) == std::string::npos);
    auto all = rig.attempts();
    CHECK(all["files"].size() >= static_cast<std::size_t>(cap));
    for (const auto& a : all["files"])
        CHECK_MESSAGE(a.notes.find("RTP port") == std::string::npos, a.notes);
}
