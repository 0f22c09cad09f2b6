// SIP over TLS and SDES-SRTP: the config's rules, the offer/answer rules on a fake clock, and
// over the wire with baresip (linked with OpenSSL and libsrtp2) as a carrier that takes only
// TLS and SRTP, and as an agent's softphone registering over TLS. Certificates come from a
// small CA made with openssl for each test.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "dialer/engine/engine_config.h"
#include "dialer/media/sdp.h"
#include "dialer/sip/digest.h"
#include "dialer/sip/sip_stack.h"
#include "tests/agent_rig.h"
#include "tests/engine_sim.h"
#include "tests/test_util.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

std::string config_errors(const std::string& sip, const std::string& trunk) {
    const auto l = load_engine_config_text(
        "data: d\nsip: " + sip + "\ntrunks:\n  - " + trunk + "\ncampaigns: []\n", "engine.yaml");
    std::string all;
    for (const auto& e : l.errors) all += e.to_string() + "\n";
    return all;
}

// A CA and certificates it signed, in `dir`: ca.pem; NAME.pem (the key, then the certificate)
// for each name, with the name (and 127.0.0.1) as subject alternative names.
void make_certificates(const std::string& dir, const std::vector<std::string>& names) {
    auto run_ok = [](const std::string& cmd) {
        auto r = test::run(cmd + " 2>&1");
        REQUIRE_MESSAGE(r.status == 0, cmd << "\n" << r.out);
    };
    run_ok("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=outpace-test-ca -keyout " +
           dir + "/ca.key -out " + dir + "/ca.pem");
    for (const auto& n : names) {
        const std::string base = dir + "/" + n;
        run_ok("openssl req -newkey rsa:2048 -nodes -subj /CN=" + n + " -keyout " + base +
               ".key -out " + base + ".csr");
        std::ofstream(base + ".ext") << "subjectAltName=DNS:" << n << ",IP:127.0.0.1\n";
        run_ok("openssl x509 -req -in " + base + ".csr -CA " + dir + "/ca.pem -CAkey " + dir +
               "/ca.key -CAcreateserial -days 2 -extfile " + base + ".ext -out " + base + ".crt");
        run_ok("cat " + base + ".key " + base + ".crt > " + base + ".pem");
    }
}

// An SDP answer taking SRTP with a key of its own.
std::string savp_answer() {
    auto key = media::new_srtp_key();
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 30000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
           "a=rtpmap:101 telephone-event/8000\r\na=crypto:" +
           media::crypto_attribute(key) + "\r\n";
}

}  // namespace

TEST_CASE(
    "engine config: TLS needs a certificate with its key, SRTP needs TLS, and each key is "
    "checked") {
    TempDir dir;
    make_certificates(dir.path(), {"engine.test"});
    const std::string tls = "{address: 127.0.0.1, port: 5070, tls: {port: 5071, certificate: " +
                            dir.file("engine.test.pem") + ", ca_file: " + dir.file("ca.pem") + "}}";
    const std::string plain = "{address: 127.0.0.1, port: 5070}";
    CHECK(config_errors(plain, "{name: c, address: \"192.0.2.1:5061\", transport: tls}")
              .find("the engine needs 'sip.tls'") != std::string::npos);
    CHECK(config_errors(tls, "{name: c, address: \"192.0.2.1:5060\", srtp: true}")
              .find("'srtp: true' needs 'transport: tls'") != std::string::npos);
    CHECK(config_errors(tls, "{name: c, address: \"192.0.2.1:5060\", tls_name: c.test}")
              .find("only for a trunk with 'transport: tls'") != std::string::npos);
    // Sofia matches certificates by DNS name or common name, never by IP address.
    CHECK(config_errors(tls, "{name: c, address: \"192.0.2.1:5061\", transport: tls}")
              .find("give 'tls_name'") != std::string::npos);
    CHECK(config_errors(tls, "{name: c, address: \"192.0.2.1:5060\", transport: sctp}")
              .find("must be udp, tcp or tls") != std::string::npos);
    // The certificate alone, without its key; a CA file that is not there; no port.
    CHECK(config_errors("{tls: {port: 5071, certificate: " + dir.file("engine.test.crt") + "}}",
                        "{name: c, address: \"192.0.2.1:5060\"}")
              .find("must hold both the private key and the certificate") != std::string::npos);
    // A device that never ends is read no further than 1 MiB, and refused.
    CHECK(config_errors("{tls: {port: 5071, certificate: /dev/zero}}",
                        "{name: c, address: \"192.0.2.1:5060\"}")
              .find("must hold both the private key and the certificate") != std::string::npos);
    CHECK(config_errors("{tls: {port: 5071, certificate: " + dir.file("engine.test.pem") +
                            ", ca_file: " + dir.file("nowhere.pem") + "}}",
                        "{name: c, address: \"192.0.2.1:5060\"}")
              .find("'sip.tls.ca_file': cannot read") != std::string::npos);
    CHECK(config_errors("{tls: {certificate: " + dir.file("engine.test.pem") + "}}",
                        "{name: c, address: \"192.0.2.1:5060\"}")
              .find("'sip.tls' needs a 'port'") != std::string::npos);
    CHECK(config_errors("{tls: {port: 5071, certificat: x}}", "{name: c, address: \"192.0.2.1\"}")
              .find("certificat") != std::string::npos);  // a misspelt key is named
    // A good one; an IP trunk over TLS written without a port is on 5061.
    dir.write("c.yaml", "name: c\n");
    const auto l = load_engine_config_text(
        "data: d\nsip: " + tls +
            "\ntrunks:\n  - {name: c, address: 192.0.2.1, transport: tls, srtp: true, tls_name: "
            "sip.carrier.test}\ncampaigns: [c.yaml]\n",
        "engine.yaml", dir.path());
    std::string all;
    for (const auto& e : l.errors) all += e.to_string() + "\n";
    REQUIRE_MESSAGE(l.config, all);
    CHECK(l.config->trunks[0].port == 5061);
    CHECK(l.config->trunks[0].srtp);
    CHECK(l.config->trunks[0].tls_name == "sip.carrier.test");
    CHECK(l.config->sip_tls.port == 5071);
    CHECK(l.config->sip_tls.verify);
}

TEST_CASE("sip: SRTP keys are never sent but over TLS") {
    CHECK(sip::over_tls("sip:1@192.0.2.1:5061;transport=tls"));
    CHECK(sip::over_tls("sip:1@192.0.2.1:5061;transport=TLS;lr"));
    CHECK(sip::over_tls("sips:1@192.0.2.1"));
    CHECK_FALSE(sip::over_tls("sip:1@192.0.2.1:5061;transport=tlsx"));
    CHECK_FALSE(sip::over_tls("sip:1@192.0.2.1:5060;transport=tcp"));
    CHECK_FALSE(sip::over_tls("sip:1@192.0.2.1:5060"));
    CHECK_FALSE(sip::over_tls("sip:transport=tls@192.0.2.1:5060"));
    // The carrier's name where Sofia checks it, the address where it connects.
    CHECK(sip::with_tls_name("sip:1@192.0.2.7:5061;transport=tls", "sip.carrier.test") ==
          "sip:1@sip.carrier.test:5061;transport=tls;maddr=192.0.2.7");
    CHECK(sip::with_tls_name("sip:1@[2001:db8::7]:5061;transport=tls", "sip.carrier.test") ==
          "sip:1@sip.carrier.test:5061;transport=tls;maddr=[2001:db8::7]");
    CHECK(sip::with_tls_name("sip:192.0.2.7:5061;transport=tls", "reg.carrier.test") ==
          "sip:reg.carrier.test:5061;transport=tls;maddr=192.0.2.7");
    // The real stack, on UDP: an offer with a key is refused before anything is sent.
    event_base* loop = event_base_new();
    struct Quiet : sip::CallObserver {
        void on_progress(sip::CallId, int) override {}
        void on_answered(sip::CallId, const std::string&) override {}
        void on_failed(sip::CallId, const sip::Failure&) override {}
        void on_ended(sip::CallId, bool) override {}
    } observer;
    sip::StackConfig sc;
    sc.port = free_port();
    std::string error;
    auto stack = sip::SipStack::create(loop, sc, observer, &error);
    REQUIRE_MESSAGE(stack, error);
    const auto key = media::new_srtp_key();
    sip::Dial d;
    d.to = "sip:1@127.0.0.1:9;transport=udp";
    d.from = "sip:2@127.0.0.1";
    d.sdp = media::make_offer("127.0.0.1", 40000, 1, &key);
    CHECK(stack->invite(d) == 0);
    d.to = "sip:1@127.0.0.1:9;transport=tcp";
    CHECK(stack->invite(d) == 0);
    d.sdp = media::make_offer("127.0.0.1", 40000, 1);  // no key: goes
    CHECK(stack->invite(d) != 0);
    stack->shutdown(1s);
    stack.reset();
    event_base_free(loop);
}

TEST_CASE(
    "engine: a trunk with srtp offers RTP/SAVP with a key, takes an encrypted answer, and "
    "hangs up on a plain one instead of talking in clear") {
    for (const bool plain_answer : {false, true}) {
        CAPTURE(plain_answer);
        Sim::Options o;
        o.unattended_lines = 1;
        o.contacts = 1;
        Sim sim(o);
        auto& t = sim.config().trunks[0];
        t.transport = "tls";
        t.srtp = true;
        t.tls_name = "sip.carrier.test";
        sim.config().sip_tls.port = 5061;  // the scripted SIP stack reads no certificate
        sim.config().sip_tls.certificate = "engine.pem";
        sim.carrier([&](const ScriptedSip::Invite&) {
            CarrierPlan p{400ms, 200, true, {}, 3000ms};
            if (!plain_answer) p.sdp = savp_answer();
            return p;
        });
        sim.start();
        sim.run_for(1s, 10ms);
        auto calls = sim.calls();
        REQUIRE(calls.size() == 1);
        const auto& d = calls[0]->dial;
        CHECK(sip::over_tls(d.to));
        CHECK(d.tls_name == "sip.carrier.test");
        CHECK(d.sdp.find("RTP/SAVP") != std::string::npos);
        std::smatch m;
        REQUIRE(std::regex_search(d.sdp, m, std::regex("a=crypto:([^\r]+)")));
        CHECK(media::parse_crypto_attribute(m[1].str(), nullptr));
        if (!plain_answer) {
            auto* audio = sim.audio(*calls[0]);
            REQUIRE(audio);
            CHECK(audio->encrypted());
        }
        sim.run_for(8s, 10ms);
        const auto attempts = sim.attempts();
        REQUIRE(attempts.size() == 1);
        if (plain_answer) {
            CHECK(attempts[0].outcome == Outcome::failed);
            CHECK(attempts[0].notes.find("requires SRTP") != std::string::npos);
        } else {
            CHECK(attempts[0].outcome != Outcome::failed);
            CHECK(attempts[0].notes.find("SRTP") == std::string::npos);
        }
    }
}

TEST_CASE(
    "softphones: baresip registers over TLS, its leg is SRTP, and both sides hear through "
    "the encryption") {
    Rig rig;
    make_certificates(rig.file(""), {"engine.test"});
    RtpCapture customer;
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    rig.campaign("secure", callee, 1, "", 0);
    const auto accounts = write_agents(rig, {"alice"});
    const int tls_port = free_port();
    rig.sip_extra(", tls: {port: " + std::to_string(tls_port) + ", certificate: " +
                  rig.file("engine.test.pem") + ", ca_file: " + rig.file("ca.pem") + "}");
    const int agents_port = free_port();
    auto engine = start_engine(rig, agents_port, accounts);
    REQUIRE(wait_tcp_listening(tls_port));
    auto agent = start_agent(rig, agents_port, "alice");
    // baresip over TLS, trusting our CA, refusing any call that is not SRTP.
    Baresip baresip(rig, "127.0.0.1:" + std::to_string(free_port()),
                    "<sip:alice@127.0.0.1:" + std::to_string(tls_port) +
                        ";transport=tls>;auth_pass=alice-sip-pw;regint=120;answermode=auto;"
                        "audio_codecs=PCMU;mediaenc=srtp-mand",
                    "sip_cafile " + rig.file("ca.pem") + "\nmodule srtp.so\n");
    const int status = engine->wait(std::chrono::seconds(90));
    INFO(rig.log("engine.log"));
    INFO(rig.log("agent.log"));
    INFO(baresip.log());
    REQUIRE(status == 0);
    auto all = rig.attempts();
    REQUIRE(all["secure"].size() == 1);
    CHECK(all["secure"][0].outcome == Outcome::connected);
    CHECK(rig.log("engine.log").find("agent alice: softphone answered (SRTP over TLS)") !=
          std::string::npos);
    // The agent's voice reached the customer (the engine decrypted baresip's SRTP), and the
    // customer's tone reached baresip (it decrypted ours).
    const int agent_voice = tone_packets(customer, 600);
    CHECK_MESSAGE(agent_voice >= 100, agent_voice << " packets of the agent's voice");
    const int tone_frames = baresip.heard_frames(1000);
    CHECK_MESSAGE(tone_frames >= 100, tone_frames << " frames of the customer's tone");
}

TEST_CASE(
    "engine: a trunk over TLS with SRTP (baresip as the carrier): a certificate that does "
    "not name the carrier is refused and the call moves on, the call's audio is encrypted "
    "both ways, and with verify off (a lab) the impostor is taken") {
    for (const bool verify : {true, false}) {
        CAPTURE(verify);
        Rig rig;
        make_certificates(rig.file(""), {"engine.test", "carrier.test"});
        const int carrier_port = free_port();  // baresip listens for TLS on the next port
        const std::string trunk = "address: \"127.0.0.1:" + std::to_string(carrier_port + 1) +
                                  "\", transport: tls, srtp: true, max_calls_per_second: 5, "
                                  "max_calls: 5";
        // The same carrier twice: first expecting a name its certificate does not show.
        rig.trunk_entry("{name: impostor, " + trunk + ", tls_name: other.test}");
        rig.trunk_entry("{name: carrier, " + trunk + ", tls_name: carrier.test}");
        rig.trunks_for_next("trunks: [impostor, carrier]");
        rig.campaign("secure", "uas_busy.xml", 1,
                     "amd: {enabled: false}\nrecording: {enabled: true, folder: rec}\n", 1);
        rig.sip_extra(", tls: {port: " + std::to_string(free_port()) + ", certificate: " +
                      rig.file("engine.test.pem") + ", ca_file: " + rig.file("ca.pem") +
                      (verify ? "" : ", verify: false") + "}, response_timeout: 3s");
        // A carrier that takes TLS and SRTP only, answering the campaign's number at once, its
        // voice a 600 Hz tone.
        Baresip carrier(rig, "127.0.0.1:" + std::to_string(carrier_port),
                        "<sip:+14155551000@127.0.0.1;transport=tls>;regint=0;answermode=auto;"
                        "audio_codecs=PCMU;mediaenc=srtp-mand",
                        "sip_certificate " + rig.file("carrier.test.pem") + "\nmodule srtp.so\n");
        REQUIRE(wait_tcp_listening(carrier_port + 1));
        const auto r = rig.run();
        INFO(r.out);
        INFO(carrier.log());
        REQUIRE(r.status == 0);
        auto all = rig.attempts();
        REQUIRE(all["secure"].size() == 1);
        const auto& a = all["secure"][0];
        if (!verify) {  // nothing checks the certificate's name: the first trunk takes the call
            CHECK(a.trunk == "impostor");
            CHECK(a.hops.empty());
            continue;
        }
        CHECK(a.trunk == "carrier");
        REQUIRE(a.hops.size() == 1);
        CHECK(a.hops[0].trunk == "impostor");
        // Sofia closes the connection without telling the INVITE: it times out
        // (sip.response_timeout).
        CHECK(a.hops[0].sip_code == 408);
        CHECK(a.outcome == Outcome::abandoned);  // a live answer, no agent: the safe-harbor message
        // The engine heard the carrier's tone through SRTP (its recording), and the carrier heard
        // the safe-harbor message through ours. The call lasts as long as that message, 0.5 s (25
        // frames); audio that did not decrypt would be silence (0).
        const auto recording = rig.file("rec/secure/" + std::to_string(a.id) + ".wav");
        const int tone = tone_frames(recording, 600);
        CHECK_MESSAGE(tone >= 15, tone << " frames of the carrier's tone in " << recording);
        const int heard = carrier.loud_frames();
        CHECK_MESSAGE(heard >= 12, heard << " loud frames heard by the carrier");
    }
}

TEST_CASE(
    "engine: a trunk with transport tcp sends its INVITE over TCP (SIPp listening on TCP "
    "only answers it busy)") {
    Rig rig;
    const int port = free_port();
    Child sipp(
        [&] {
            auto argv = sipp_uas("uas_busy.xml", port, free_port());
            argv.insert(argv.end(), {"-t", "t1"});
            return argv;
        }(),
        rig.file("tcp-carrier.log"));
    REQUIRE(wait_tcp_listening(port));
    rig.trunk_entry("{name: tcp, address: \"127.0.0.1:" + std::to_string(port) +
                    "\", transport: tcp, max_calls_per_second: 5, max_calls: 5}");
    rig.trunks_for_next("trunks: [tcp]");
    rig.campaign("overtcp", "uas_busy.xml", 1, "", 1);
    rig.sip_extra(", response_timeout: 3s");
    const auto r = rig.run();
    INFO(r.out);
    INFO(rig.log("tcp-carrier.log"));
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["overtcp"].size() == 1);
    // Over UDP nothing would answer: a carrier error after the response timeout.
    CHECK(all["overtcp"][0].outcome == Outcome::busy);
    CHECK(all["overtcp"][0].trunk == "tcp");
}

TEST_CASE(
    "engine: a trunk over TLS that registers sends its REGISTER over TLS, naming the "
    "certificate it expects") {
    Sim::Options o;
    o.unattended_lines = 1;
    Sim sim(o);
    auto& t = sim.config().trunks[0];
    t.transport = "tls";
    t.tls_name = "sip.carrier.test";
    t.register_trunk = true;
    t.username = "acme";
    t.password = "secret";
    sim.config().sip_tls.port = 5061;
    sim.config().sip_tls.certificate = "engine.pem";
    sim.start();
    sim.run_for(1s, 10ms);
    auto& regs = sim.sip().registrations();
    REQUIRE(regs.size() == 1);
    CHECK(regs[0].request.registrar == "sip:127.0.0.1:5999;transport=tls");
    CHECK(regs[0].request.tls_name == "sip.carrier.test");
}
