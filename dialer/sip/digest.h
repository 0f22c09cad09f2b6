// SIP digest authentication (RFC 3261 §22, RFC 2617) on the server side, for softphones that
// register to the engine: challenges with nonces the engine can verify without keeping state
// (HMAC of the issue time under a random key made at start), and checks of a client's
// Authorization against the account's HA1. The checking is Sofia-SIP's own auth_module; this
// wrapper keeps Sofia's types out of the rest of the engine.
//
// A client may answer many requests with one nonce, counting up (nc=1, 2, …): baresip, Linphone
// and Zoiper refresh their registrations that way, without a new challenge each time. Each count
// is accepted once: the request's other headers (its Contact) are not covered by the answer, so a
// replayed answer must not let an eavesdropper move a registration.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace outpace::sip {

// HA1 = MD5(user:realm:password), lowercase hex: what an accounts file stores instead of the
// password.
std::string digest_ha1(const std::string& user, const std::string& realm,
                       const std::string& password);

// Whether `s` looks like an HA1 (32 lowercase hex digits).
bool is_ha1(const std::string& s);

class DigestServer {
  public:
    struct Settings {
        std::string realm = "outpace";
        std::chrono::seconds nonce_lifetime{300};  // then the client is told `stale=true`
    };
    explicit DigestServer(Settings settings);
    ~DigestServer();
    DigestServer(const DigestServer&) = delete;
    DigestServer& operator=(const DigestServer&) = delete;

    // The accounts: user → HA1 (for this realm). Replaces the previous set; nonces already
    // handed out stay valid.
    void set_users(const std::map<std::string, std::string>& ha1_by_user);

    struct Verdict {
        enum class Kind {
            ok,         // `user` proved it knows the password
            challenge,  // no credentials for this realm: answer 401 with `challenge`
            stale,      // a nonce that expired: answer 401 with a fresh `challenge` (stale=true)
            wrong,      // wrong response, or unknown user: answer 401 with `challenge`
            replayed,   // right, but a nonce count already used with this nonce: answer 401
                        // with a fresh `challenge` (stale=true), so an honest client re-asks
            malformed,  // credentials missing a part: answer 400
        };
        Kind kind = Kind::malformed;
        std::string user;       // the user that authenticated (ok) or claimed to be (wrong)
        std::string challenge;  // the WWW-Authenticate value to send
    };
    // `authorization`: the request's Authorization header value ("Digest username=...") or ""
    // when it has none; `method`: the request's method.
    Verdict check(const std::string& method, const std::string& authorization);

    const std::string& realm() const { return settings_.realm; }

    // A client's Authorization value answering `challenge` (for tests and benchmarks).
    static std::string answer(const std::string& challenge, const std::string& user,
                              const std::string& ha1, const std::string& method,
                              const std::string& uri, const std::string& cnonce = "0a4f113b",
                              unsigned nc = 1);

  private:
    struct Impl;
    Verdict fresh_count(const std::string& user, const std::string& nonce, const std::string& nc);
    Settings settings_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace outpace::sip
