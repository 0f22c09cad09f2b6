// Registrar figures for the agents-on-a-real-floor issue, the registrar's own work (Sofia's SIP
// parsing and sending are not in them; bench/agents.sh measures the engine whole):
//   digest check per REGISTER (µs), right and wrong answers, next to one MD5 (an HA1) in the
//     same run for reference;
//   1,000 agents re-registering every 60 s (challenge + answer) with keep-alives every 25 s:
//     CPU per simulated minute, as a share of one core;
//   10,000 bad REGISTERs from one source within one second: how many the rate limiter and the
//     lockout refused before any digest check.
// Medians of --runs runs (default 5). Usage: bench_registrar [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "dialer/engine/registrar.h"
#include "dialer/sip/digest.h"

using namespace outpace;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double us_since(Steady::time_point t0, double n) {
    return std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / n;
}

sip::RegisterRequest request(const std::string& user, int port, std::uint32_t cseq) {
    sip::RegisterRequest r;
    r.source_ip = "10.1." + std::to_string(port / 250 % 250) + "." + std::to_string(port % 250);
    r.source_port = port;
    r.transport = "udp";
    r.user = user;
    r.call_id = "c-" + user;
    r.cseq = cseq;
    r.expires = 60;
    r.contacts.push_back({"sip:" + user + "@192.168.1.2:5060",
                          "sip:" + user + "@" + r.source_ip + ":" + std::to_string(port), -1});
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 5;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[++i]);
    std::vector<double> md5_us, ok_us, wrong_us, minute_ms, refused_share;
    for (int run = 0; run < runs; ++run) {
        // One MD5 (an HA1), the reference.
        auto t0 = Steady::now();
        volatile std::size_t sink = 0;
        for (int i = 0; i < 20000; ++i)
            sink = sink + sip::digest_ha1("agent" + std::to_string(i), "outpace", "pw").size();
        md5_us.push_back(us_since(t0, 20000));

        sip::DigestServer server({});
        const auto ha1 = sip::digest_ha1("alice", "outpace", "pw");
        server.set_users({{"alice", ha1}});
        const auto challenge = server.check("REGISTER", "").challenge;
        std::vector<std::string> good, bad;
        for (unsigned i = 1; i <= 20000; ++i) {
            good.push_back(sip::DigestServer::answer(challenge, "alice", ha1, "REGISTER",
                                                     "sip:127.0.0.1", "c" + std::to_string(i), i));
            bad.push_back(sip::DigestServer::answer(
                challenge, "alice", sip::digest_ha1("alice", "outpace", "x"), "REGISTER",
                "sip:127.0.0.1", "c" + std::to_string(i), i));
        }
        t0 = Steady::now();
        int ok = 0;
        for (const auto& a : good)
            ok += server.check("REGISTER", a).kind == sip::DigestServer::Verdict::Kind::ok;
        ok_us.push_back(us_since(t0, 20000));
        t0 = Steady::now();
        for (const auto& a : bad)
            ok += server.check("REGISTER", a).kind == sip::DigestServer::Verdict::Kind::ok;
        wrong_us.push_back(us_since(t0, 20000));
        if (ok != 20000) std::fprintf(stderr, "unexpected verdicts: %d ok of 20000\n", ok);

        // 1,000 agents for one simulated minute.
        FakeClock clock(WallTime{} + 24h * 20000);
        metrics::Metrics metrics;
        RegistrationConfig config;
        Registrar reg(config, "outpace", clock, metrics);
        std::map<std::string, std::string> accounts;
        for (int i = 0; i < 1000; ++i)
            accounts["agent" + std::to_string(i)] =
                sip::digest_ha1("agent" + std::to_string(i), "outpace", "pw");
        reg.set_accounts(accounts);
        std::vector<std::string> nonces(1000);
        std::uint32_t cseq = 1;
        std::size_t pings = 0;
        const auto cpu0 = std::clock();
        for (int ms = 0; ms < 60'000; ms += 20) {
            // Each agent re-registers once in the minute, spread over it.
            for (int i = ms / 60; i < (ms + 20) / 60 && i < 1000; ++i) {
                const std::string user = "agent" + std::to_string(i);
                auto r = request(user, 20000 + i, ++cseq);
                auto ch = reg.handle(r);
                r.authorization =
                    sip::DigestServer::answer(ch.www_authenticate, user, accounts[user], "REGISTER",
                                              "sip:127.0.0.1", "cn", cseq);
                r.cseq = ++cseq;
                reg.handle(r);
            }
            reg.tick([&](const std::string&, const std::string&, std::function<void(int)> done) {
                ++pings;
                done(200);
            });
            clock.advance(20ms);
        }
        minute_ms.push_back(1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC);

        // A flood: 10,000 bad REGISTERs from one address within a second.
        RegistrationConfig flood_config;
        metrics::Metrics flood_metrics;
        Registrar flooded(flood_config, "outpace", clock, flood_metrics);
        flooded.set_accounts(accounts);
        // The attacker answers a real challenge of this engine, with wrong passwords.
        auto first = request("agent1", 30000, ++cseq);
        first.source_ip = "198.51.100.7";
        const auto real = flooded.handle(first).www_authenticate;
        for (int i = 0; i < 10000; ++i) {
            auto r = request("agent1", 30000, ++cseq);
            r.source_ip = "198.51.100.7";
            r.authorization = sip::DigestServer::answer(
                real, "agent1", sip::digest_ha1("agent1", "outpace", "guess" + std::to_string(i)),
                "REGISTER", "sip:127.0.0.1", "c", static_cast<unsigned>(i + 1));
            flooded.handle(r);
            clock.advance(100us);
        }
        const double refused = flood_metrics.sip_register("rate_limited").Value() +
                               flood_metrics.sip_register("locked_out").Value();
        const double checked = flood_metrics.sip_register("wrong_credentials").Value() +
                               flood_metrics.sip_register("challenged").Value() +
                               flood_metrics.sip_register("stale_nonce").Value();
        refused_share.push_back(100.0 * refused / 10000);
        if (run == 0)
            std::printf(
                "(run 1: %zu keep-alives in the minute; flood: %.0f reached the digest "
                "check)\n",
                pings, checked);
    }
    std::printf("digest check, right answer   %8.2f us   (reference: one MD5/HA1 %.2f us)\n",
                median(ok_us), median(md5_us));
    std::printf("digest check, wrong answer   %8.2f us\n", median(wrong_us));
    std::printf("1,000 agents, 1 simulated minute: %.1f ms CPU = %.3f %% of one core\n",
                median(minute_ms), median(minute_ms) / 600.0);
    std::printf(
        "flood of 10,000 bad REGISTERs from one source in 1 s: %.2f %% refused before any "
        "digest check\n",
        median(refused_share));
    return 0;
}
