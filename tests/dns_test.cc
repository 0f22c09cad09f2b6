// Trunks named by host name: RFC 3263's lookup (NAPTR, SRV, A) against a scripted DNS and, with
// c-ares, against dnsmasq; the engine on the fake clock using what it found (an address that
// answers 503 or nothing is skipped for a while and the same call moves to another address of
// the trunk; a DNS outage is a trunk fault, not a crash or a burnt contact; TTLs are honoured);
// and SIPp carriers found through dnsmasq on the wire.
#include <doctest/doctest.h>
#include <event2/event.h>

#include "dialer/engine/control.h"
#include "dialer/engine/engine_config.h"
#include "dialer/sip/dns.h"
#include "tests/engine_rig.h"
#include "tests/engine_sim.h"
#include "tests/process_util.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;
using sip::DnsAnswer;
using sip::RrType;

namespace {

sip::DnsAnswer srv_answer(std::vector<sip::DnsRecord> records, int ttl = 300) {
    DnsAnswer a;
    a.status = DnsAnswer::Status::ok;
    a.records = std::move(records);
    a.ttl = std::chrono::seconds(ttl);
    return a;
}
sip::DnsRecord srv_record(const std::string& target, int port, int priority, int weight) {
    sip::DnsRecord r;
    r.target = target;
    r.port = port;
    r.priority = priority;
    r.weight = weight;
    return r;
}
sip::DnsAnswer address_answer(std::vector<std::string> ips, int ttl = 300) {
    DnsAnswer a;
    a.status = DnsAnswer::Status::ok;
    for (auto& ip : ips) a.records.push_back({.target = ip});
    a.ttl = std::chrono::seconds(ttl);
    return a;
}
sip::DnsAnswer naptr_answer(std::vector<std::tuple<int, int, std::string, std::string>> records,
                            int ttl = 300) {
    DnsAnswer a;
    a.status = DnsAnswer::Status::ok;
    for (auto& [order, pref, service, replacement] : records) {
        sip::DnsRecord r;
        r.order = order;
        r.preference = pref;
        r.flags = "s";
        r.service = service;
        r.target = replacement;
        a.records.push_back(r);
    }
    a.ttl = std::chrono::seconds(ttl);
    return a;
}

// RFC 3263's lookup of `server` against `zone`, run to its end.
sip::Located locate_in(const std::shared_ptr<FakeDns::Zone>& zone, const sip::ServerName& server,
                       bool ipv6 = false) {
    FakeDns dns(zone);
    std::optional<sip::Located> got;
    sip::locate(dns, server, ipv6, [&](sip::Located l) { got = std::move(l); });
    deliver_dns(*zone);
    REQUIRE(got);
    return *got;
}

std::string target_text(const sip::ServerTarget& t) {
    return t.ip + ":" + std::to_string(t.port) + "/" + t.transport;
}
std::vector<std::string> targets_text(const sip::Located& l) {
    std::vector<std::string> out;
    for (const auto& t : l.targets) out.push_back(target_text(t));
    return out;
}

// A campaign's trunk "carrier" named sip.carrier.test (SRV decides), on the fake clock.
Sim::Options named_trunk(int contacts) {
    Sim::Options o;
    o.unattended_lines = 2;
    o.contacts = contacts;
    return o;
}
void name_the_carrier(Sim& sim, const std::string& transport = "udp") {
    auto& t = sim.config().trunks[0];
    t.host = "sip.carrier.test";
    t.port = 0;
    t.transport = transport;
    t.transport_given = true;
}
// Two servers behind _sip._udp.sip.carrier.test: a (127.0.0.2:5060, priority 10) first, b
// (127.0.0.3:5080, priority 20) second.
void two_servers(FakeDns::Zone& zone, int ttl = 300) {
    zone.records[{"_sip._udp.sip.carrier.test", RrType::srv}] = srv_answer(
        {srv_record("a.carrier.test", 5060, 10, 0), srv_record("b.carrier.test", 5080, 20, 0)},
        ttl);
    zone.records[{"a.carrier.test", RrType::a}] = address_answer({"127.0.0.2"}, ttl);
    zone.records[{"b.carrier.test", RrType::a}] = address_answer({"127.0.0.3"}, ttl);
}
std::string next_hop_ip(const ScriptedSip::Invite& i) {
    const auto& h = i.dial.request_uri;  // sip:NUMBER@IP:PORT;transport=udp (none: an IP trunk)
    const auto at = h.find('@');
    return at == std::string::npos ? "" : h.substr(at + 1, h.find(':', at) - at - 1);
}

// Runs `loop` until `done` or `limit`.
template <typename Done>
bool run_loop_until(event_base* loop, Done done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        event_base_loop(loop, EVLOOP_NONBLOCK);
        std::this_thread::sleep_for(1ms);
    }
    return done();
}

struct LoopFree {
    void operator()(event_base* b) const { event_base_free(b); }
};

}  // namespace

TEST_CASE("RFC 3263: an IP literal is its own target, a name with a port is looked up as A") {
    auto zone = std::make_shared<FakeDns::Zone>();
    auto l = locate_in(zone, {"192.0.2.10", 5070, ""});
    CHECK(l.ok);
    CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.10:5070/udp"});
    CHECK(zone->asked.empty());

    zone->records[{"sip.carrier.test", RrType::a}] = address_answer({"192.0.2.1", "192.0.2.2"}, 42);
    l = locate_in(zone, {"sip.carrier.test", 5070, "tcp"});
    CHECK(l.ok);
    CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.1:5070/tcp", "192.0.2.2:5070/tcp"});
    CHECK(l.ttl == 42s);
    CHECK(zone->asked == std::vector<std::string>{"sip.carrier.test"});  // no SRV: the port says
}

TEST_CASE("RFC 3263: SRV by priority, each server's A records, the smallest TTL") {
    auto zone = std::make_shared<FakeDns::Zone>();
    zone->records[{"_sip._udp.sip.carrier.test", RrType::srv}] = srv_answer(
        {srv_record("b.carrier.test", 5080, 20, 5), srv_record("a.carrier.test", 5060, 10, 1)},
        300);
    zone->records[{"a.carrier.test", RrType::a}] = address_answer({"192.0.2.1"}, 120);
    zone->records[{"b.carrier.test", RrType::a}] = address_answer({"192.0.2.2", "192.0.2.3"}, 600);
    const auto l = locate_in(zone, {"sip.carrier.test", 0, "udp"});
    REQUIRE(l.ok);
    CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.1:5060/udp", "192.0.2.2:5080/udp",
                                                      "192.0.2.3:5080/udp"});
    CHECK(l.targets[0].priority == 10);
    CHECK(l.targets[1].weight == 5);
    CHECK(l.ttl == 120s);
    // AAAA instead of A when the engine's SIP socket is IPv6.
    zone->records[{"a.carrier.test", RrType::aaaa}] = address_answer({"2001:db8::1"}, 100);
    const auto v6 = locate_in(zone, {"sip.carrier.test", 0, "udp"}, true);
    REQUIRE(v6.ok);
    CHECK(targets_text(v6) == std::vector<std::string>{"2001:db8::1:5060/udp"});
}

TEST_CASE("RFC 3263: NAPTR chooses the transport, then SRV, then A as the last resort") {
    SUBCASE("NAPTR by order: TCP's record comes first") {
        auto zone = std::make_shared<FakeDns::Zone>();
        zone->records[{"sip.carrier.test", RrType::naptr}] =
            naptr_answer({{20, 10, "SIP+D2U", "_sip._udp.sip.carrier.test"},
                          {10, 10, "SIP+D2T", "_sip._tcp.sip.carrier.test"},
                          {5, 10, "SIPS+D2T", "_sips._tcp.sip.carrier.test"}},  // no TLS yet
                         30);
        zone->records[{"_sip._tcp.sip.carrier.test", RrType::srv}] =
            srv_answer({srv_record("t.carrier.test", 5090, 1, 1)});
        zone->records[{"t.carrier.test", RrType::a}] = address_answer({"192.0.2.9"});
        const auto l = locate_in(zone, {"sip.carrier.test", 0, ""});
        REQUIRE(l.ok);
        CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.9:5090/tcp"});
        CHECK(l.ttl == 30s);
    }
    SUBCASE("NAPTR whose SRV name is empty: the next record") {
        auto zone = std::make_shared<FakeDns::Zone>();
        zone->records[{"sip.carrier.test", RrType::naptr}] =
            naptr_answer({{10, 10, "SIP+D2T", "_sip._tcp.sip.carrier.test"},
                          {20, 10, "SIP+D2U", "_sip._udp.sip.carrier.test"}});
        two_servers(*zone);
        const auto l = locate_in(zone, {"sip.carrier.test", 0, ""});
        REQUIRE(l.ok);
        CHECK(targets_text(l) ==
              std::vector<std::string>{"127.0.0.2:5060/udp", "127.0.0.3:5080/udp"});
    }
    SUBCASE("no NAPTR: SRV for UDP, then TCP") {
        auto zone = std::make_shared<FakeDns::Zone>();
        zone->records[{"_sip._tcp.sip.carrier.test", RrType::srv}] =
            srv_answer({srv_record("t.carrier.test", 5090, 1, 1)});
        zone->records[{"t.carrier.test", RrType::a}] = address_answer({"192.0.2.9"});
        const auto l = locate_in(zone, {"sip.carrier.test", 0, ""});
        REQUIRE(l.ok);
        CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.9:5090/tcp"});
        CHECK(zone->asked ==
              std::vector<std::string>{"sip.carrier.test", "_sip._udp.sip.carrier.test",
                                       "_sip._tcp.sip.carrier.test", "t.carrier.test"});
    }
    SUBCASE("no NAPTR, no SRV: the name's A record on 5060") {
        auto zone = std::make_shared<FakeDns::Zone>();
        zone->records[{"sip.carrier.test", RrType::a}] = address_answer({"192.0.2.7"}, 77);
        const auto l = locate_in(zone, {"sip.carrier.test", 0, ""});
        REQUIRE(l.ok);
        CHECK(targets_text(l) == std::vector<std::string>{"192.0.2.7:5060/udp"});
        CHECK(l.ttl == 77s);
    }
}

TEST_CASE("RFC 3263: what goes wrong is said, and a failing DNS never leads elsewhere") {
    auto zone = std::make_shared<FakeDns::Zone>();
    SUBCASE("no such name") {
        const auto l = locate_in(zone, {"nowhere.carrier.test", 0, "udp"});
        CHECK_FALSE(l.ok);
        CHECK(l.error.find("nowhere.carrier.test has no A record") != std::string::npos);
    }
    SUBCASE("SRV target '.': the domain offers no SIP") {
        zone->records[{"_sip._udp.sip.carrier.test", RrType::srv}] =
            srv_answer({srv_record(".", 0, 0, 0)});
        const auto l = locate_in(zone, {"sip.carrier.test", 0, "udp"});
        CHECK_FALSE(l.ok);
        CHECK(l.error.find("offers no SIP service") != std::string::npos);
    }
    SUBCASE("the DNS server fails: no fallback to the A record") {
        zone->records[{"sip.carrier.test", RrType::a}] = address_answer({"192.0.2.7"});
        zone->down = true;
        const auto l = locate_in(zone, {"sip.carrier.test", 0, ""});
        CHECK_FALSE(l.ok);
        CHECK(l.error.find("NAPTR lookup of sip.carrier.test failed: timeout") !=
              std::string::npos);
        CHECK(zone->asked.size() == 1);
    }
    SUBCASE("one SRV server's address lookup fails: the others are used") {
        two_servers(*zone);
        zone->records.erase({"a.carrier.test", RrType::a});
        const auto l = locate_in(zone, {"sip.carrier.test", 0, "udp"});
        REQUIRE(l.ok);
        CHECK(targets_text(l) == std::vector<std::string>{"127.0.0.3:5080/udp"});
    }
}

TEST_CASE("engine config: a trunk's address may be a host name, with or without a port") {
    const auto load = [](const std::string& trunk_entry, const std::string& extra = "") {
        return load_engine_config_text(
            "trunks:\n  - " + trunk_entry + "\n" + extra + "campaigns: []\n", "engine.yaml");
    };
    auto c = load("{name: c, address: sip.carrier.test}");
    const auto text = [](const EngineConfigLoad& l) {
        std::string all;
        for (const auto& e : l.errors) all += e.to_string() + "\n";
        return all;
    };
    // The only complaint: no campaigns.
    CHECK(text(c).find("address") == std::string::npos);
    c = load("{name: c, address: \"sip.carrier.test:5070\", transport: tcp}",
             "dns: {servers: [\"127.0.0.1:5353\", 192.0.2.53], timeout: 500ms, tries: 3}\n");
    CHECK(text(c).find("address") == std::string::npos);
    CHECK(text(c).find("dns") == std::string::npos);
    for (const auto* bad : {"sip..carrier.test", "-sip.carrier.test", "sip.carrier.test:0",
                            "sip_carrier.test", "1.2.3", "sip.carrier.test:50x"}) {
        const auto l = load(std::string("{name: c, address: \"") + bad + "\"}");
        INFO(bad);
        CHECK(text(l).find("engine.yaml:2:") != std::string::npos);
        CHECK(text(l).find("'trunks[].address' must be") != std::string::npos);
    }
    const auto d = load("{name: c, address: sip.carrier.test}", "dns: {servers: [ns.example]}\n");
    CHECK(text(d).find("'dns.servers': 'ns.example' is not IP or IP:PORT") != std::string::npos);
}

// The real config, with a real file, reaches the trunk and the DNS settings.
TEST_CASE("engine config: host-name trunks and dns settings are read into the config") {
    TempDir dir;
    dir.write("c.yaml", "name: c\ndialing: {mode: progressive, trunk: c}\n");
    const auto path = dir.write(
        "engine.yaml",
        "data: data\ntrunks:\n  - {name: c, address: \"sip.carrier.test\"}\n  - {name: d, address: "
        "\"sip.carrier.test:5070\", transport: tcp}\n"
        "dns: {servers: [\"127.0.0.1:5353\"], timeout: 500ms, tries: 3}\ncampaigns: [c.yaml]\n");
    const auto load = load_engine_config(path);
    std::string errors;
    for (const auto& e : load.errors) errors += e.to_string() + "\n";
    REQUIRE_MESSAGE(load.config, errors);
    const auto& t = load.config->trunks;
    CHECK(t[0].host == "sip.carrier.test");
    CHECK(t[0].port == 0);
    CHECK_FALSE(t[0].transport_given);
    CHECK(t[1].port == 5070);
    CHECK(t[1].transport == "tcp");
    CHECK(t[1].transport_given);
    CHECK(load.config->dns.servers == std::vector<std::string>{"127.0.0.1:5353"});
    CHECK(load.config->dns.timeout == 500ms);
    CHECK(load.config->dns.tries == 3);
}

TEST_CASE(
    "engine: a trunk named by host name sends to the address SRV ranks first, with the "
    "carrier's domain in the To header, and its addresses become the SIP peers") {
    Sim sim(named_trunk(3));
    name_the_carrier(sim);
    two_servers(*sim.env().dns);
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{300ms, 486, true, {}, -1ms}; });
    sim.start();
    sim.run_for(5s, 10ms);
    const auto calls = sim.calls();
    REQUIRE(calls.size() == 3);
    for (auto* i : calls) {
        CHECK(i->dial.to.find("@sip.carrier.test") != std::string::npos);
        CHECK(i->dial.request_uri.find("@127.0.0.2:5060;transport=udp") != std::string::npos);
        CHECK(i->dial.next_hop.empty());
        CHECK(i->dial.peer == "127.0.0.2");
    }
    for (const auto& a : sim.attempts()) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.target == "127.0.0.2:5060");
    }
    const auto& peers = sim.sip().peers();
    CHECK(std::count(peers.begin(), peers.end(), "127.0.0.2") == 1);
    CHECK(std::count(peers.begin(), peers.end(), "127.0.0.3") == 1);
    CHECK(sim.engine().metrics().trunk("carrier").targets->Value() == 2);
}

TEST_CASE(
    "engine: an address that answers 503 or nothing is skipped for 30 s and the same call "
    "moves to the trunk's next address, costing the contact nothing") {
    for (const bool dark : {false, true}) {
        CAPTURE(dark);
        Sim sim(named_trunk(6));
        name_the_carrier(sim);
        sim.config().sip_response_timeout = 2s;
        two_servers(*sim.env().dns);
        sim.carrier([dark](const ScriptedSip::Invite& i) {
            CarrierPlan p{300ms, 486, true, {}, -1ms};
            if (next_hop_ip(i) == "127.0.0.2") {
                if (dark)
                    p.silent = true;
                else
                    p.final_code = 503, p.ringing = false;
            }
            return p;
        });
        sim.start();
        sim.run_for(20s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 6);
        std::size_t moved = 0;
        for (const auto& a : attempts) {
            CHECK(a.outcome == Outcome::busy);
            CHECK(a.trunk == "carrier");
            CHECK(a.target == "127.0.0.3:5080");
            if (!a.hops.empty()) {
                ++moved;
                CHECK(a.hops ==
                      std::vector<TrunkHop>{{"carrier", dark ? 408 : 503, "127.0.0.2:5060"}});
            }
            const auto c = sim.store().contact("sim", a.phone);
            REQUIRE(c);
            CHECK(c->attempts == 1u);
        }
        // Two lines: the calls in flight when the address failed moved; later calls go straight to
        // the second address while the first rests.
        CHECK(moved >= 1);
        CHECK(moved <= 2);
        CHECK(sim.engine().metrics().trunk("carrier").target_moves->Value() ==
              static_cast<double>(moved));
        CHECK(sim.engine().metrics().trunk("carrier").failovers->Value() == 0);
        CHECK(sim.status().carrier_errors == 0);
        // The trunk as a whole never rested, and one address is skipped now (ctl status too).
        CHECK(sim.engine().metrics().trunk("carrier").up->Value() == 1);
        CHECK(sim.engine().metrics().trunk("carrier").targets->Value() == 1);
        const auto t = nlohmann::json::parse(status_report_json(sim.engine()))["trunks"].at(0);
        CHECK(t["host"] == "sip.carrier.test");
        CHECK(t["up"] == true);
        REQUIRE(t["addresses"].size() == 2);
        CHECK(t["addresses"][0]["address"] == "127.0.0.2:5060");
        CHECK(t["addresses"][0]["resting_s"] > 0);
        CHECK(t["addresses"][1]["resting_s"] == 0);
    }
}

TEST_CASE("engine: a skipped address is used again once its 30 s are over") {
    Sim sim(named_trunk(150));
    name_the_carrier(sim);
    two_servers(*sim.env().dns);
    const auto start = sim.clock().now();
    sim.carrier([&](const ScriptedSip::Invite& i) {
        CarrierPlan p{1000ms, 486, true, {}, -1ms};
        // The first address refuses during the first 5 s only.
        if (next_hop_ip(i) == "127.0.0.2" && i.at < start + 5s)
            p.final_code = 503, p.ringing = false;
        return p;
    });
    sim.start();
    sim.run_for(45s, 10ms);
    std::size_t first_early = 0, first_resting = 0, first_late = 0;
    for (auto* i : sim.calls()) {
        if (next_hop_ip(*i) != "127.0.0.2") continue;
        if (i->at < start + 5s)
            ++first_early;
        else if (i->at < start + 30s)
            ++first_resting;
        else
            ++first_late;
    }
    CHECK(first_early >= 1);
    CHECK(first_resting == 0);
    CHECK(first_late >= 1);
}

TEST_CASE(
    "engine: a trunk whose name does not resolve takes no calls, the campaign's other trunk "
    "does, and nobody is charged, and once DNS answers the trunk is used") {
    Sim::Options o = named_trunk(200);
    o.more_trunks = {loopback_trunk("backup", 5997)};
    o.dialing_trunks = "trunks: [{name: carrier, priority: 1}, {name: backup, priority: 2}]";
    Sim sim(o);
    name_the_carrier(sim);
    sim.env().dns->down = true;
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{500ms, 486, true, {}, -1ms}; });
    sim.start();
    sim.run_for(10s, 10ms);
    std::size_t on_backup = 0, elsewhere = 0;
    for (auto* i : sim.calls())
        (i->dial.to.find(":5997") != std::string::npos ? on_backup : elsewhere)++;
    CHECK(on_backup > 0);
    CHECK(elsewhere == 0);
    CHECK(sim.status().carrier_errors == 0);
    auto& m = sim.engine().metrics().trunk("carrier");
    // Looked up again at 1, 2, 4 s ... after each failure, not on every tick.
    CHECK(m.dns_failures->Value() >= 3);
    CHECK(m.dns_failures->Value() <= 5);
    CHECK(m.up->Value() == 0);

    sim.env().dns->down = false;
    two_servers(*sim.env().dns);
    sim.run_for(20s, 10ms);
    std::size_t named = 0;
    for (auto* i : sim.calls()) named += next_hop_ip(*i) == "127.0.0.2";
    CHECK(named > 0);
    for (const auto& a : sim.attempts()) CHECK(a.outcome != Outcome::carrier_error);
}

TEST_CASE(
    "engine: a name is looked up again when its TTL runs out, and a failed lookup keeps the last "
    "answer in use") {
    auto o = named_trunk(400);
    o.unattended_lines = 1;
    Sim sim(o);
    name_the_carrier(sim);
    auto& zone = *sim.env().dns;
    two_servers(zone, 60);
    sim.carrier([](const ScriptedSip::Invite&) { return CarrierPlan{800ms, 486, true, {}, -1ms}; });
    sim.start();
    sim.run_for(30s, 10ms);
    const auto srv_asked = [&] {
        return std::count(zone.asked.begin(), zone.asked.end(), "_sip._udp.sip.carrier.test");
    };
    CHECK(srv_asked() == 1);  // within the TTL: no new query
    // The carrier moves its first server; the new address is used once the 60 s are over.
    zone.records[{"a.carrier.test", RrType::a}] = address_answer({"127.0.0.4"}, 60);
    sim.run_for(25s, 10ms);
    CHECK(srv_asked() == 1);
    sim.run_for(10s, 10ms);
    CHECK(srv_asked() == 2);
    const auto moved_at = sim.clock().now();
    sim.run_for(5s, 10ms);
    std::size_t to_new = 0, to_old = 0;
    for (auto* i : sim.calls())
        if (i->at > moved_at)
            to_new += next_hop_ip(*i) == "127.0.0.4", to_old += next_hop_ip(*i) == "127.0.0.2";
    CHECK(to_new > 0);
    CHECK(to_old == 0);
    const auto& peers = sim.sip().peers();
    CHECK(std::count(peers.begin(), peers.end(), "127.0.0.4") == 1);
    CHECK(std::count(peers.begin(), peers.end(), "127.0.0.2") == 0);

    // DNS goes down: the last answer stays in use, calls go on.
    zone.down = true;
    sim.run_for(70s, 10ms);
    const auto down_at = sim.clock().now();
    sim.run_for(5s, 10ms);
    std::size_t after = 0;
    for (auto* i : sim.calls()) after += i->at > down_at && next_hop_ip(*i) == "127.0.0.4";
    CHECK(after > 0);
    CHECK(sim.engine().metrics().trunk("carrier").dns_failures->Value() >= 1);
    for (const auto& a : sim.attempts()) CHECK(a.outcome != Outcome::carrier_error);
}

// ---- c-ares against a real DNS server
// ------------------------------------------------------------

TEST_CASE("c-ares: NAPTR, SRV and A from dnsmasq with its TTL, no such name, a silent server") {
    TempDir dir;
    auto ns = start_dnsmasq(
        {"--naptr-record=carrier.outpace.test,10,10,s,SIP+D2U,,_sip._udp.carrier.outpace.test",
         "--srv-host=_sip._udp.carrier.outpace.test,a.outpace.test,5071,10,60",
         "--srv-host=_sip._udp.carrier.outpace.test,b.outpace.test,5072,20,40",
         "--host-record=a.outpace.test,127.0.0.2", "--host-record=b.outpace.test,127.0.0.3"},
        dir.file("dnsmasq.log"), 45);
    REQUIRE_MESSAGE(ns.child, read_file(dir.file("dnsmasq.log")));
    std::unique_ptr<event_base, LoopFree> loop(event_base_new());
    sip::DnsConfig config;
    config.servers = {"127.0.0.1:" + std::to_string(ns.port)};
    std::string error;
    auto dns = sip::open_dns(loop.get(), config, &error);
    REQUIRE_MESSAGE(dns, error);

    std::optional<sip::Located> got;
    sip::locate(*dns, {"carrier.outpace.test", 0, ""}, false, [&](sip::Located l) { got = l; });
    REQUIRE(run_loop_until(
        loop.get(), [&] { return got.has_value(); }, 5s));
    INFO(got->error);
    REQUIRE(got->ok);
    CHECK(targets_text(*got) ==
          std::vector<std::string>{"127.0.0.2:5071/udp", "127.0.0.3:5072/udp"});
    CHECK(got->targets[0].weight == 60);
    CHECK(got->ttl > 0s);
    CHECK(got->ttl <= 45s);
    INFO(read_file(dir.file("dnsmasq.log")));
    CHECK(read_file(dir.file("dnsmasq.log")).find("query[NAPTR] carrier.outpace.test") !=
          std::string::npos);

    got.reset();
    sip::locate(*dns, {"nowhere.outpace.test", 0, "udp"}, false, [&](sip::Located l) { got = l; });
    REQUIRE(run_loop_until(
        loop.get(), [&] { return got.has_value(); }, 5s));
    CHECK_FALSE(got->ok);
    CHECK(got->error.find("nowhere.outpace.test") != std::string::npos);

    // A server that never answers: a failure after timeout x tries, not a hang.
    const int silent_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(silent_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(silent_fd, reinterpret_cast<sockaddr*>(&a), &len);
    for (const int tries : {1, 2}) {
        sip::DnsConfig silent;
        silent.servers = {"127.0.0.1:" + std::to_string(ntohs(a.sin_port))};
        silent.timeout = 300ms;
        silent.tries = tries;
        auto quiet = sip::open_dns(loop.get(), silent, &error);
        REQUIRE_MESSAGE(quiet, error);
        got.reset();
        const auto t0 = std::chrono::steady_clock::now();
        sip::locate(*quiet, {"carrier.outpace.test", 5060, "udp"}, false,
                    [&](sip::Located l) { got = l; });
        REQUIRE(run_loop_until(
            loop.get(), [&] { return got.has_value(); }, 10s));
        const auto took = std::chrono::steady_clock::now() - t0;
        CAPTURE(tries);
        CHECK_FALSE(got->ok);
        CHECK(got->error.find("failed") != std::string::npos);
        CHECK(took >= 250ms * tries);
        CHECK(took < 3s * tries);
    }
    ::close(silent_fd);
}

// ---- On the wire: SIPp carriers found through dnsmasq
// ----------------------------------------------

TEST_CASE(
    "engine: over SIP, a trunk named by host name reaches its SRV servers through dnsmasq, and "
    "the server answering 503 is skipped for the next") {
    Rig rig;
    auto refusing = start_sipp_uas("uas_503.xml", rig.file("refusing.sipp.log"));
    REQUIRE(refusing.child);
    auto busy = start_sipp_uas("uas_busy.xml", rig.file("busy.sipp.log"));
    REQUIRE(busy.child);
    auto ns = start_dnsmasq(
        {"--srv-host=_sip._udp.carrier.outpace.test,a.outpace.test," +
             std::to_string(refusing.port) + ",10,0",
         "--srv-host=_sip._udp.carrier.outpace.test,b.outpace.test," + std::to_string(busy.port) +
             ",20,0",
         "--host-record=a.outpace.test,127.0.0.1", "--host-record=b.outpace.test,127.0.0.1"},
        rig.file("dnsmasq.log"));
    REQUIRE_MESSAGE(ns.child, read_file(rig.file("dnsmasq.log")));
    rig.trunk_entry(
        "{name: named, address: carrier.outpace.test, transport: udp, "
        "max_calls_per_second: 50, max_calls: 50}");
    rig.trunks_for_next("trunk: named");
    rig.campaign("named_dial", "uas_busy.xml", 4);
    const auto r = rig.run("dns: {servers: [\"127.0.0.1:" + std::to_string(ns.port) + "\"]}\n");
    INFO(r.out);
    REQUIRE(r.status == 0);
    const auto all = rig.attempts();
    REQUIRE(all.at("named_dial").size() == 4);
    std::size_t moved = 0;
    const std::string first = "127.0.0.1:" + std::to_string(refusing.port);
    const std::string second = "127.0.0.1:" + std::to_string(busy.port);
    for (const auto& a : all.at("named_dial")) {
        INFO(a.sip_code << " " << a.notes);
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.trunk == "named");
        CHECK(a.target == second);
        if (!a.hops.empty()) {
            ++moved;
            CHECK(a.hops == std::vector<TrunkHop>{{"named", 503, first}});
        }
        const auto c = rig.contact("named_dial", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == 1u);
    }
    // The two calls that went out before the first 503 moved; then the address rests.
    CHECK(moved >= 1);
    CHECK(moved <= 2);
    CHECK(r.out.find("trunk named: carrier.outpace.test is " + first) != std::string::npos);
}

TEST_CASE(
    "engine: one of a host-name trunk's two addresses goes dark at 100 calls/s: no contact is "
    "charged and the traffic moves to the other address") {
    auto o = named_trunk(3000);
    o.unattended_lines = 150;
    o.max_calls_per_second = 100;
    Sim sim(o);
    name_the_carrier(sim);
    sim.config().trunks[0].max_calls = 200;
    sim.config().sip_response_timeout = 2s;
    // One priority, equal weights: the load is shared until one goes dark.
    auto& zone = *sim.env().dns;
    zone.records[{"_sip._udp.sip.carrier.test", RrType::srv}] = srv_answer(
        {srv_record("a.carrier.test", 5060, 10, 50), srv_record("b.carrier.test", 5080, 10, 50)});
    zone.records[{"a.carrier.test", RrType::a}] = address_answer({"127.0.0.2"});
    zone.records[{"b.carrier.test", RrType::a}] = address_answer({"127.0.0.3"});
    const auto dark_at = sim.clock().now() + 10s;
    sim.carrier([&](const ScriptedSip::Invite& i) {
        CarrierPlan p{1000ms, 486, true, {}, -1ms};
        p.silent = next_hop_ip(i) == "127.0.0.2" && i.at >= dark_at;
        return p;
    });
    sim.start();
    sim.run_for(30s, 10ms);
    const auto attempts = sim.attempts();
    REQUIRE(attempts.size() > 1500);
    std::size_t moved = 0, charged_wrongly = 0, ended = 0, before = 0, before_dark = 0;
    for (const auto& a : attempts) {
        if (a.in_flight()) continue;
        ++ended;
        CHECK(a.outcome == Outcome::busy);
        moved += !a.hops.empty();
        const auto c = sim.store().contact("sim", a.phone);
        charged_wrongly += !c || c->attempts != 1u;
    }
    CHECK(charged_wrongly == 0);
    CHECK(moved > 0);
    std::size_t after = 0, on_dark = 0;
    for (auto* i : sim.calls()) {
        if (i->at < dark_at) ++before, before_dark += next_hop_ip(*i) == "127.0.0.2";
        if (i->at >= dark_at + 3s) ++after, on_dark += next_hop_ip(*i) == "127.0.0.2";
    }
    // Shared by weight before (50:50), and from 3 s after the address went dark (its 2 s
    // timeout, then it rests) only its probes each 30 s.
    CHECK(before_dark * 10 >= before * 4);
    CHECK(before_dark * 10 <= before * 6);
    REQUIRE(after > 1000);
    MESSAGE("calls ended " << ended << ", moved off the dark address " << moved
                           << ", INVITEs to it from 3 s after it went dark: " << on_dark << " of "
                           << after);
    CHECK(on_dark * 20 < after);
    CHECK(sim.status().carrier_errors == 0);
}

TEST_CASE(
    "DNS answers as they came from dnsmasq: records and the smallest TTL, and garbage refused") {
    const auto bytes = [](const std::string& name) {
        return read_file(std::string(OUTPACE_SOURCE_DIR) + "/tests/fuzz/corpus/dns/" + name);
    };
    const auto read = [](RrType t, const std::string& b) {
        return sip::read_dns_answer(t, reinterpret_cast<const unsigned char*>(b.data()),
                                    static_cast<int>(b.size()));
    };
    auto a = read(RrType::srv, bytes("srv.bin"));
    REQUIRE(a.status == DnsAnswer::Status::ok);
    REQUIRE(a.records.size() == 2);
    std::sort(a.records.begin(), a.records.end(),
              [](const auto& x, const auto& y) { return x.priority < y.priority; });
    CHECK(a.records[0].target == "a.outpace.test");
    CHECK(a.records[0].port == 5071);
    CHECK(a.records[0].weight == 60);
    CHECK(a.ttl == 60s);
    a = read(RrType::naptr, bytes("naptr.bin"));
    REQUIRE(a.status == DnsAnswer::Status::ok);
    CHECK(a.records.at(0).service == "SIP+D2U");
    CHECK(a.records.at(0).target == "_sip._udp.carrier.outpace.test");
    a = read(RrType::aaaa, bytes("aaaa.bin"));
    REQUIRE(a.status == DnsAnswer::Status::ok);
    CHECK(a.records.at(0).target == "2001:db8::2");
    CHECK(read(RrType::a, bytes("nxdomain.bin")).status == DnsAnswer::Status::none);
    // Cut short within its answers: unreadable, not a crash and not an empty success.
    const auto srv = bytes("srv.bin");
    CHECK(read(RrType::srv, srv.substr(0, srv.size() / 2)).status == DnsAnswer::Status::failed);
    CHECK(read(RrType::srv, "").status == DnsAnswer::Status::failed);
}
