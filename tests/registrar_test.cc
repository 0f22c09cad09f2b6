// Softphones that register: digest checks (Sofia's auth_module behind DigestServer) and the
// registrar's rules (bindings, expiry, rate limits, lockouts) on a fake clock.
#include <doctest/doctest.h>

#include "dialer/engine/registrar.h"
#include "dialer/sip/digest.h"

using outpace::sip::digest_ha1;
using outpace::sip::DigestServer;

TEST_CASE("digest: HA1 is MD5(user:realm:password) in lowercase hex") {
    // RFC 2617 §3.5's example user and realm, checked against `printf ... | md5sum`.
    CHECK(digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life") ==
          "939e7578ed9e3c518a452acee763bce9");
    CHECK(outpace::sip::is_ha1(digest_ha1("a", "b", "c")));
    CHECK_FALSE(outpace::sip::is_ha1("secret"));
}

TEST_CASE("digest: a challenge, the right answer, a wrong one, an unknown user, another method") {
    DigestServer server({.realm = "outpace", .nonce_lifetime = std::chrono::seconds(300)});
    server.set_users({{"alice", digest_ha1("alice", "outpace", "s3cret")}});
    auto first = server.check("REGISTER", "");
    REQUIRE(first.kind == DigestServer::Verdict::Kind::challenge);
    CHECK(first.challenge.find("realm=\"outpace\"") != std::string::npos);
    CHECK(first.challenge.find("qop=\"auth\"") != std::string::npos);

    const auto good =
        DigestServer::answer(first.challenge, "alice", digest_ha1("alice", "outpace", "s3cret"),
                             "REGISTER", "sip:127.0.0.1:5070");
    auto ok = server.check("REGISTER", good);
    CHECK(ok.kind == DigestServer::Verdict::Kind::ok);
    CHECK(ok.user == "alice");

    const auto bad =
        DigestServer::answer(first.challenge, "alice", digest_ha1("alice", "outpace", "guess"),
                             "REGISTER", "sip:127.0.0.1:5070");
    auto wrong = server.check("REGISTER", bad);
    CHECK(wrong.kind == DigestServer::Verdict::Kind::wrong);
    CHECK(wrong.user == "alice");
    CHECK_FALSE(wrong.challenge.empty());

    // An unknown user is told exactly what a wrong password is told.
    const auto stranger =
        DigestServer::answer(first.challenge, "mallory", digest_ha1("mallory", "outpace", "x"),
                             "REGISTER", "sip:127.0.0.1:5070");
    CHECK(server.check("REGISTER", stranger).kind == DigestServer::Verdict::Kind::wrong);

    // The answer covers the method: replayed on an INVITE it fails.
    CHECK(server.check("INVITE", good).kind == DigestServer::Verdict::Kind::wrong);

    // A password changed by reloading the accounts: the old answer no longer works, the nonce
    // handed out before still does (with the next count: 1 was used).
    server.set_users({{"alice", digest_ha1("alice", "outpace", "n3w")}});
    CHECK(server.check("REGISTER", good).kind == DigestServer::Verdict::Kind::wrong);
    CHECK(server
              .check("REGISTER",
                     DigestServer::answer(first.challenge, "alice",
                                          digest_ha1("alice", "outpace", "n3w"), "REGISTER",
                                          "sip:127.0.0.1:5070", "0a4f113b", 2))
              .kind == DigestServer::Verdict::Kind::ok);
}

TEST_CASE("digest: one nonce answers many requests counting up, and no count is accepted twice") {
    using Kind = DigestServer::Verdict::Kind;
    const auto ha1 = digest_ha1("alice", "outpace", "s3cret");
    DigestServer server({.realm = "outpace", .nonce_lifetime = std::chrono::seconds(300)});
    server.set_users({{"alice", ha1}, {"bob", digest_ha1("bob", "outpace", "b0b")}});
    const auto challenge = server.check("REGISTER", "").challenge;
    auto with = [&](unsigned nc, const std::string& user = "alice") {
        return DigestServer::answer(challenge, user,
                                    user == "alice" ? ha1 : digest_ha1("bob", "outpace", "b0b"),
                                    "REGISTER", "sip:127.0.0.1:5070", "c0ffee", nc);
    };
    // A softphone refreshing without a new challenge: nc 1, 2, 3 (and it may skip).
    CHECK(server.check("REGISTER", with(1)).kind == Kind::ok);
    CHECK(server.check("REGISTER", with(2)).kind == Kind::ok);
    CHECK(server.check("REGISTER", with(5)).kind == Kind::ok);
    // A copy of an answer already accepted (an eavesdropper's, with its own Contact): refused
    // with a new nonce marked stale, so an honest client that lost count re-asks by itself.
    auto replay = server.check("REGISTER", with(2));
    CHECK(replay.kind == Kind::replayed);
    CHECK(replay.user == "alice");
    CHECK(replay.challenge.find("stale=true") != std::string::npos);
    CHECK(server.check("REGISTER", with(5)).kind == Kind::replayed);
    // The new nonce is a new nonce, and answering it works from 1.
    const auto again = DigestServer::answer(replay.challenge, "alice", ha1, "REGISTER",
                                            "sip:127.0.0.1:5070", "c0ffee", 1);
    CHECK(replay.challenge.find(challenge.substr(challenge.find("nonce="), 30)) ==
          std::string::npos);
    CHECK(server.check("REGISTER", again).kind == Kind::ok);
    CHECK(server.check("REGISTER", again).kind == Kind::replayed);
    // Counts are each user's own: bob's first use of the same nonce is his nc=1.
    CHECK(server.check("REGISTER", with(1, "bob")).kind == Kind::ok);
    // A count above 1 on a nonce never answered before cannot be told from a replay.
    const auto unseen = server.check("REGISTER", "").challenge;
    CHECK(server
              .check("REGISTER", DigestServer::answer(unseen, "alice", ha1, "REGISTER",
                                                      "sip:127.0.0.1:5070", "c0ffee", 7))
              .kind == Kind::replayed);
    // A wrong password is still wrong, whatever its count.
    CHECK(server
              .check("REGISTER", DigestServer::answer(
                                     challenge, "alice", digest_ha1("alice", "outpace", "guess"),
                                     "REGISTER", "sip:127.0.0.1:5070", "c0ffee", 9))
              .kind == Kind::wrong);
}

TEST_CASE("digest: a forged nonce and garbage credentials are refused, never crash") {
    DigestServer server({});
    server.set_users({{"alice", digest_ha1("alice", "outpace", "pw")}});
    const std::string forged =
        "Digest username=\"alice\", realm=\"outpace\", nonce=\"AAAAAAAAAAAAAAAAAAAAAA\", "
        "uri=\"sip:x\", response=\"00000000000000000000000000000000\", algorithm=MD5";
    CHECK(server.check("REGISTER", forged).kind != DigestServer::Verdict::Kind::ok);
    for (const char* junk : {"Digest", "Basic YWxpY2U6cHc=", "Digest username=", ",,,,", "\x01\xff",
                             "Digest realm=\"outpace\", response=\"x\""})
        CHECK(server.check("REGISTER", junk).kind != DigestServer::Verdict::Kind::ok);
}

// ---- The registrar's rules, on a fake clock
// ------------------------------------------------------

namespace {

using namespace std::chrono_literals;
using outpace::FakeClock;
using outpace::Registrar;
using outpace::RegistrationConfig;
using outpace::sip::RegisterReply;
using outpace::sip::RegisterRequest;

const std::string kAliceHa1 = digest_ha1("alice", "outpace", "s3cret-alice");
const std::string kBobHa1 = digest_ha1("bob", "outpace", "s3cret-bob");

struct RegistrarRig {
    FakeClock clock{outpace::WallTime{} + std::chrono::hours(24 * 20000)};
    outpace::metrics::Metrics metrics;
    RegistrationConfig config;
    std::unique_ptr<Registrar> reg;
    std::vector<std::string> changes;
    std::vector<std::pair<std::string, std::function<void(int)>>> pings;

    explicit RegistrarRig(RegistrationConfig c = {}) : config(c) {
        reg = std::make_unique<Registrar>(config, "outpace", clock, metrics);
        reg->set_accounts({{"alice", kAliceHa1}, {"bob", kBobHa1}});
        reg->on_change = [this](const std::string& a) { changes.push_back(a); };
    }
    static RegisterRequest request(const std::string& user, const std::string& contact,
                                   int port = 5062, int expires = 600) {
        RegisterRequest r;
        r.source_ip = "192.0.2.10";
        r.source_port = port;
        r.transport = "udp";
        r.user = user;
        r.call_id = "call-" + contact;
        r.cseq = ++cseq();
        r.expires = expires;
        r.contacts.push_back({contact, "sip:" + user + "@192.0.2.10:" + std::to_string(port), -1});
        return r;
    }
    static std::uint32_t& cseq() {
        static std::uint32_t n = 0;
        return n;
    }
    // Challenged, then answered with `ha1` (as a softphone does).
    RegisterReply send(RegisterRequest r, const std::string& ha1) {
        auto challenge = reg->handle(r);
        if (challenge.status != 401) return challenge;
        r.authorization = DigestServer::answer(challenge.www_authenticate, r.user, ha1, "REGISTER",
                                               "sip:127.0.0.1:5070");
        r.cseq = ++cseq();
        return reg->handle(r);
    }
    void tick() {
        reg->tick(
            [this](const std::string& uri, const std::string&, std::function<void(int)> done) {
                pings.emplace_back(uri, std::move(done));
            });
    }
    double counted(const std::string& result) { return metrics.sip_register(result).Value(); }
};

}  // namespace

TEST_CASE("registrar: challenge, register, refresh, a second device, unregister, expiry") {
    RegistrarRig rig;
    auto first = rig.reg->handle(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060"));
    CHECK(first.status == 401);
    CHECK(first.www_authenticate.find("Digest") == 0);
    CHECK(rig.reg->contact("alice") == nullptr);

    auto ok = rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060"), kAliceHa1);
    REQUIRE(ok.status == 200);
    REQUIRE(ok.bindings.size() == 1);
    CHECK(ok.bindings[0].uri == "sip:alice@10.0.0.5:5060");
    CHECK(ok.bindings[0].expires == 600);
    const auto* b = rig.reg->contact("alice");
    REQUIRE(b);
    // Reached where the REGISTER came from, not the private address it wrote.
    CHECK(b->next_hop() == "sip:192.0.2.10:5062;transport=udp");
    CHECK(rig.changes == std::vector<std::string>{"alice"});
    CHECK(rig.counted("ok") == 1);
    CHECK(rig.counted("challenged") == 2);  // the first bare request, and the send()'s

    // A second device registers later: it is the one called; its removal falls back.
    rig.clock.advance(10s);
    REQUIRE(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.6:5060", 5064), kAliceHa1)
                .status == 200);
    CHECK(rig.reg->contact("alice")->uri == "sip:alice@10.0.0.6:5060");
    // A refresh of the first device does not make it the newest.
    rig.clock.advance(10s);
    auto refreshed = rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060"), kAliceHa1);
    CHECK(refreshed.bindings.size() == 2);
    CHECK(rig.reg->contact("alice")->uri == "sip:alice@10.0.0.6:5060");
    REQUIRE(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.6:5060", 5064, 0), kAliceHa1)
                .status == 200);
    CHECK(rig.reg->contact("alice")->uri == "sip:alice@10.0.0.5:5060");

    // Not refreshed: gone when it expires (not before), and the engine is told.
    rig.changes.clear();
    rig.clock.advance(599s);
    rig.tick();
    for (auto& [uri, done] : rig.pings) done(200);  // keep-alives answered meanwhile
    rig.pings.clear();
    CHECK(rig.reg->contact("alice") != nullptr);
    rig.clock.advance(2s);
    rig.tick();
    CHECK(rig.reg->contact("alice") == nullptr);
    CHECK(rig.changes == std::vector<std::string>{"alice"});
    CHECK(rig.metrics.agents_registered().Value() == 0);
}

TEST_CASE("registrar: expiry bounds, Contact *, out-of-order CSeq, too many devices") {
    RegistrationConfig c;
    c.max_contacts = 2;
    RegistrarRig rig(c);
    auto brief =
        rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5", 5062, 30), kAliceHa1);
    CHECK(brief.status == 423);
    CHECK(brief.min_expires == 60);
    CHECK(rig.reg->contact("alice") == nullptr);

    auto longer =
        rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5", 5062, 999999), kAliceHa1);
    REQUIRE(longer.status == 200);
    CHECK(longer.bindings.at(0).expires == 3600);

    // The same Call-ID with an older CSeq: refused, nothing changes.
    auto stale = RegistrarRig::request("alice", "sip:alice@10.0.0.5", 5099);
    auto ch = rig.reg->handle(stale);
    stale.authorization = DigestServer::answer(ch.www_authenticate, "alice", kAliceHa1, "REGISTER",
                                               "sip:127.0.0.1:5070");
    stale.cseq = 1;
    CHECK(rig.reg->handle(stale).status == 500);
    CHECK(rig.reg->contact("alice")->source_port == 5062);

    // A third device: the oldest makes room.
    rig.clock.advance(1s);
    rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.6", 5063), kAliceHa1);
    rig.clock.advance(1s);
    rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.7", 5064), kAliceHa1);
    const auto list = rig.reg->bindings("alice");
    REQUIRE(list.size() == 2);
    CHECK(list[0].uri == "sip:alice@10.0.0.6");
    CHECK(list[1].uri == "sip:alice@10.0.0.7");

    // Contact: * removes all only with Expires: 0.
    auto star = RegistrarRig::request("alice", "x");
    star.contacts.clear();
    star.remove_all = true;
    CHECK(rig.send(star, kAliceHa1).status == 400);
    CHECK(rig.reg->bindings("alice").size() == 2);
    star.expires = 0;
    CHECK(rig.send(star, kAliceHa1).status == 200);
    CHECK(rig.reg->contact("alice") == nullptr);
}

TEST_CASE("registrar: NAT rebinding moves the binding, and another agent's account is refused") {
    RegistrarRig rig;
    REQUIRE(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060", 40001), kAliceHa1)
                .status == 200);
    rig.changes.clear();
    // The router gave the softphone another port: the same contact now comes from 40002.
    REQUIRE(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060", 40002), kAliceHa1)
                .status == 200);
    CHECK(rig.reg->bindings("alice").size() == 1);
    CHECK(rig.reg->contact("alice")->next_hop() == "sip:192.0.2.10:40002;transport=udp");
    CHECK(rig.changes == std::vector<std::string>{"alice"});

    // Bob's credentials, Alice's account: refused, Alice's binding untouched.
    auto r = RegistrarRig::request("alice", "sip:bob@10.0.0.9:5060", 40003);
    auto ch = rig.reg->handle(r);
    r.authorization =
        DigestServer::answer(ch.www_authenticate, "bob", kBobHa1, "REGISTER", "sip:127.0.0.1:5070");
    CHECK(rig.reg->handle(r).status == 403);
    CHECK(rig.counted("forbidden") == 1);
    CHECK(rig.reg->bindings("alice").size() == 1);
    CHECK(rig.reg->contact("bob") == nullptr);
}

TEST_CASE(
    "registrar: a refresh counting up on its nonce is accepted, a copied answer moves nothing") {
    RegistrarRig rig;
    auto r = RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060", 40001);
    const auto challenge = rig.reg->handle(r).www_authenticate;
    auto answered = [&](unsigned nc) {
        r.authorization = DigestServer::answer(challenge, "alice", kAliceHa1, "REGISTER",
                                               "sip:127.0.0.1:5070", "c0ffee", nc);
        r.cseq = ++RegistrarRig::cseq();
        return rig.reg->handle(r);
    };
    REQUIRE(answered(1).status == 200);
    rig.clock.advance(60s);
    CHECK(answered(2).status == 200);  // baresip's and Linphone's refresh: no new challenge
    CHECK(rig.counted("challenged") == 1);
    // Somebody who saw that REGISTER sends it again with its own Contact and address.
    auto copy = r;
    copy.source_ip = "198.51.100.66";
    copy.contacts = {{"sip:alice@198.51.100.66:5060", "sip:alice@198.51.100.66:5060", -1}};
    copy.cseq = ++RegistrarRig::cseq();
    auto refused = rig.reg->handle(copy);
    CHECK(refused.status == 401);
    CHECK(refused.www_authenticate.find("stale=true") != std::string::npos);
    CHECK(rig.counted("replayed") == 1);
    REQUIRE(rig.reg->bindings("alice").size() == 1);
    CHECK(rig.reg->contact("alice")->next_hop() == "sip:192.0.2.10:40001;transport=udp");
}

TEST_CASE(
    "registrar: wrong passwords lock the source out for a while, and a flood is rate-limited") {
    RegistrationConfig c;
    c.failures_before_lockout = 3;
    c.lockout = 60s;
    c.source_rate = 2;
    c.source_burst = 10;
    RegistrarRig rig(c);
    const auto wrong = digest_ha1("alice", "outpace", "guess");
    for (int i = 0; i < 3; ++i) {
        rig.clock.advance(1s);
        CHECK(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5"), wrong).status == 403);
    }
    CHECK(rig.counted("wrong_credentials") == 3);
    CHECK(rig.reg->locked_out() == std::vector<std::string>{"192.0.2.10"});
    CHECK(rig.changes == std::vector<std::string>{""});  // the SIP filter drops it now
    // Even the right password is refused until the lockout ends.
    rig.clock.advance(30s);
    CHECK(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5"), kAliceHa1).status == 403);
    CHECK(rig.counted("locked_out") == 1);
    rig.clock.advance(31s);
    rig.tick();
    CHECK(rig.reg->locked_out().empty());
    CHECK(rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5"), kAliceHa1).status == 200);

    // A burst beyond source_burst gets 503 with Retry-After; the rate refills with time.
    int refused = 0;
    for (int i = 0; i < 50; ++i) {
        auto reply = rig.reg->handle(RegistrarRig::request("mallory", "sip:m@10.0.0.66"));
        if (reply.status == 503) {
            ++refused;
            CHECK(reply.retry_after == 1);
        }
    }
    CHECK(refused >= 40);
    rig.clock.advance(1s);
    CHECK(rig.reg->handle(RegistrarRig::request("mallory", "sip:m@10.0.0.66")).status == 401);
    CHECK(rig.reg->locked_out().empty());  // 40 over the limit: not yet a flood

    // flood_lockout_after (100) refused in a row: the address is locked out like a guesser,
    // so the kernel drops the rest and Sofia keeps no transactions for them.
    rig.changes.clear();
    for (int i = 0; i < 130; ++i)
        rig.reg->handle(RegistrarRig::request("mallory", "sip:m@10.0.0.66"));
    CHECK(rig.reg->locked_out() == std::vector<std::string>{"192.0.2.10"});
    CHECK(rig.changes == std::vector<std::string>{""});
}

TEST_CASE("registrar: flood_lockout_after is the number of refusals in a row that locks out") {
    RegistrationConfig c;
    c.source_rate = 1;
    c.source_burst = 1;
    c.flood_lockout_after = 5;
    RegistrarRig rig(c);
    CHECK(rig.reg->handle(RegistrarRig::request("m", "sip:m@10.0.0.66")).status == 401);
    for (int i = 0; i < 4; ++i)
        CHECK(rig.reg->handle(RegistrarRig::request("m", "sip:m@10.0.0.66")).status == 503);
    CHECK(rig.reg->locked_out().empty());
    // One admitted in between starts the count again.
    rig.clock.advance(1s);
    CHECK(rig.reg->handle(RegistrarRig::request("m", "sip:m@10.0.0.66")).status == 401);
    for (int i = 0; i < 4; ++i) rig.reg->handle(RegistrarRig::request("m", "sip:m@10.0.0.66"));
    CHECK(rig.reg->locked_out().empty());
    rig.reg->handle(RegistrarRig::request("m", "sip:m@10.0.0.66"));
    CHECK(rig.reg->locked_out().size() == 1);
}

TEST_CASE(
    "registrar: an office of 300 agents behind one NAT address re-registering every minute "
    "is never rate-limited, while a guesser there is") {
    RegistrationConfig c;  // the defaults: 2 REGISTERs a second from one address, bursts of 20
    RegistrarRig rig(c);
    std::vector<std::pair<std::string, std::string>> accounts;
    for (int i = 0; i < 300; ++i) {
        const std::string id = "agent" + std::to_string(i);
        accounts.emplace_back(id, digest_ha1(id, "outpace", "pw-" + id));
    }
    rig.reg->set_accounts(std::map<std::string, std::string>(accounts.begin(), accounts.end()));
    int refused = 0, registered = 0;
    // Three minutes; each agent refreshes once a minute, spread evenly (one every 200 ms).
    for (int tick = 0; tick < 3 * 300; ++tick) {
        rig.clock.advance(200ms);
        const auto& [id, ha1] = accounts[static_cast<std::size_t>(tick % 300)];
        auto r = RegistrarRig::request(id, "sip:" + id + "@10.0.0.5", 5062, 120);
        const auto reply = rig.send(r, ha1);
        if (reply.status == 200) ++registered;
        if (reply.status == 503) ++refused;
    }
    CHECK(refused == 0);
    CHECK(registered == 900);
    // 4 REGISTERs a second (each refresh is two), twice the per-address rate: only possible
    // because proven softphones give their tokens back. A guesser at the same address is not.
    int guesses_refused = 0;
    for (int i = 0; i < 40; ++i)
        guesses_refused +=
            rig.reg->handle(RegistrarRig::request("mallory", "sip:m@10.0.0.66")).status == 503;
    CHECK(guesses_refused >= 15);
}

TEST_CASE("registrar: keep-alives every interval, and a softphone that answers none is dropped") {
    RegistrationConfig c;
    c.keepalive = 25s;
    c.missed_keepalives = 3;
    RegistrarRig rig(c);
    REQUIRE(
        rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060", 40001, 3600), kAliceHa1)
            .status == 200);
    rig.clock.advance(24s);
    rig.tick();
    CHECK(rig.pings.empty());
    rig.clock.advance(1s);
    rig.tick();
    REQUIRE(rig.pings.size() == 1);
    CHECK(rig.pings[0].first == "sip:alice@192.0.2.10:40001");
    rig.pings[0].second(200);
    rig.pings.clear();
    for (int i = 0; i < 3; ++i) {
        rig.clock.advance(25s);
        rig.tick();
        REQUIRE(rig.pings.size() == 1);
        rig.pings[0].second(408);  // nothing came back
        rig.pings.clear();
        CHECK(rig.reg->contact("alice") != nullptr);
    }
    rig.clock.advance(1s);
    rig.tick();
    CHECK(rig.reg->contact("alice") == nullptr);

    // An answer that arrives after its registrar is gone (a reload that changed the realm makes
    // a new one) is ignored, not delivered to freed memory (ASan would see it).
    REQUIRE(
        rig.send(RegistrarRig::request("alice", "sip:alice@10.0.0.5:5060", 40001, 3600), kAliceHa1)
            .status == 200);
    rig.clock.advance(25s);
    rig.tick();
    REQUIRE(rig.pings.size() == 1);
    rig.reg.reset();
    rig.pings[0].second(200);
}
