// Who may log in as whom, and which phones the engine will call for an agent: the fraud and
// takeover paths found by trying the engine as an outsider (issue 17, items 2-4).
#include <doctest/doctest.h>

#include "dialer/engine/agent_phone.h"
#include "tests/agent_rig.h"

using namespace outpace;
using namespace outpace::test;

TEST_CASE("agent phones: networks, SIP URIs, and never a trunk's address") {
    auto lan = IpNetwork::parse("192.0.2.0/24");
    REQUIRE(lan);
    CHECK(lan->contains("192.0.2.77"));
    CHECK_FALSE(lan->contains("192.0.3.1"));
    CHECK(lan->contains("::ffff:192.0.2.9"));
    CHECK_FALSE(IpNetwork::parse("192.0.2.0/33"));
    CHECK_FALSE(IpNetwork::parse("example.com/8"));
    CHECK(IpNetwork::parse("fd00::/8")->contains("fd12::1"));
    CHECK(sip_uri_host("sip:a1@10.0.0.5:5060;transport=udp") == "10.0.0.5");
    CHECK(sip_uri_host("sip:a1@[::1]:5060") == "::1");
    CHECK_FALSE(sip_uri_host("sip:10.0.0.5"));
    CHECK_FALSE(sip_uri_host("tel:+19005550199"));
    CHECK(sip_uri_address("sip:a1@[::1]:5062")->port == 5062);
    CHECK(sip_uri_address("sip:a1@10.0.0.5;transport=tcp")->port == 5060);
    CHECK_FALSE(sip_uri_address("sip:a1@10.0.0.5:"));

    const std::vector<IpNetwork> nets = {*lan, *IpNetwork::parse("127.0.0.0/8")};
    const std::vector<TrunkAddress> carrier = {{"198.51.100.1", 5060}};
    CHECK(check_agent_phone("sip:a1@192.0.2.50:5060", nets, carrier).empty());
    // A remote carrier's IP at any port, even inside the phone networks.
    const std::vector<TrunkAddress> lan_carrier = {{"192.0.2.1", 5060}};
    for (const char* p : {"sip:+19005550199@192.0.2.1:5060", "sip:+19005550199@192.0.2.1:5080",
                          "sip:+19005550199@192.0.2.1"})
        CHECK_MESSAGE(check_agent_phone(p, nets, lan_carrier).find("is a trunk's address") !=
                          std::string::npos,
                      p);
    // A trunk on loopback (an SBC beside the engine) by its port; other ports are softphones.
    const std::vector<TrunkAddress> local = {{"127.0.0.1", 5062}};
    CHECK(check_agent_phone("sip:+19005550199@127.0.0.1:5062", nets, local)
              .find("is a trunk's address") != std::string::npos);
    CHECK(check_agent_phone("sip:a1@127.0.0.1:5090", nets, local).empty());
    CHECK(check_agent_phone("sip:a1@203.0.113.9", nets, carrier)
              .find("outside the agents' phone networks") != std::string::npos);
    CHECK(check_agent_phone("sip:a1@pbx.example.com", nets, carrier).find("by IP address") !=
          std::string::npos);
    // The default always holds loopback.
    auto defaults = default_phone_networks("127.0.0.1");
    CHECK(std::any_of(defaults.begin(), defaults.end(),
                      [](const IpNetwork& n) { return n.contains("127.0.0.1"); }));
    CHECK_FALSE(std::any_of(defaults.begin(), defaults.end(),
                            [](const IpNetwork& n) { return n.contains("203.0.113.9"); }));
}

TEST_CASE("agent login: no toll fraud, no session takeover, no port starvation") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    rig.campaign("floor", "uas_busy.xml", 1, "", 0);
    const int agents_port = free_port();
    // The trunk is on 127.0.0.1 like the phones: the trunk check, not the network check, must
    // refuse it. Two agents at most.
    auto engine = rig.start("agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents_port) +
                            "\", heartbeat: 1s, missed_heartbeats: 3, max_logged_in: 2}\n");
    REQUIRE(wait_tcp_listening(agents_port));
    const std::string phone = "sip:a1@127.0.0.1:" + std::to_string(phones.port);
    auto login = [](const std::string& agent, const std::string& phone) {
        return json{{"type", "login"}, {"agent", agent}, {"phone", phone}};
    };
    auto error_for = [](Desk& d, const json& request) {
        d.send(request);
        auto e = d.expect("error");
        REQUIRE_MESSAGE(!e.is_null(), request.dump());
        return e["reason"].get<std::string>();
    };

    // Toll fraud: a premium number at the trunk's address, and anything outside the networks.
    Desk fraud(agents_port, "desk-fraud");
    const std::string trunk_port = [&] {
        const auto cfg = rig.log("engine.yaml");
        const auto at = cfg.find("address: \"127.0.0.1:");
        return cfg.substr(at + 20, cfg.find('"', at + 20) - at - 20);
    }();
    CHECK(error_for(fraud, login("x", "sip:+19005550199@127.0.0.1:" + trunk_port))
              .find("is a trunk's address") != std::string::npos);
    CHECK(error_for(fraud, login("x", "sip:+19005550199@192.0.2.1:5060"))
              .find("outside the agents' phone networks") != std::string::npos);

    // The real a1 logs in from its desktop.
    Desk a1(agents_port, "desk-a1");
    a1.log_in_ready("a1", phones.port);

    // Another desktop claiming a1: with another phone, learns nothing of a1's; with the same
    // phone, is refused while a1's desktop is alive; and cannot act for a1.
    Desk thief(agents_port, "desk-thief");
    const auto other_phone =
        error_for(thief, login("a1", "sip:a1@127.0.0.1:" + std::to_string(free_port())));
    CHECK(other_phone.find(std::to_string(phones.port)) == std::string::npos);
    CHECK(other_phone.find("logged in at another desktop") != std::string::npos);
    CHECK(error_for(thief, login("a1", phone)).find("logged in at another desktop") !=
          std::string::npos);
    CHECK(error_for(thief, json{{"type", "pause"}}) == "log in first");
    // a1's own desktop still holds the session.
    a1.send(json{{"type", "heartbeat"}});
    auto hb = a1.expect("heartbeat");
    REQUIRE(!hb.is_null());
    CHECK(hb["state"] == "ready");
    // The same desktop (same routing id) may log in again: a desktop that reconnects.
    a1.send(login("a1", phone));
    CHECK(!a1.expect("logged_in").is_null());

    // Port starvation: the second agent fits, the third is refused with a reason.
    Desk a2(agents_port, "desk-a2");
    a2.send(login("a2", "sip:a2@127.0.0.1:" + std::to_string(phones.port)));
    CHECK(!a2.expect("logged_in").is_null());
    Desk a3(agents_port, "desk-a3");
    CHECK(error_for(a3, login("a3", "sip:a3@127.0.0.1:" + std::to_string(phones.port))) ==
          "no room for another agent: 2 are logged in (agents.max_logged_in)");

    // Once a1's desktop has gone silent past its heartbeats, a desktop allowed to be a1 may
    // take the session over (a desktop restarted under a new routing id).
    a2.send(json{{"type", "logout"}});
    REQUIRE(!a2.expect("logged_out").is_null());
    std::this_thread::sleep_for(4500ms);  // a1 sends nothing for 3 heartbeats and more
    Desk restarted(agents_port, "desk-a1-restarted");
    restarted.send(login("a1", phone));
    CHECK(!restarted.expect("logged_in", 5s).is_null());
}
