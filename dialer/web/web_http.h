// The browser side of the web gateway, as civetweb serves it (dialer/web/gateway.cc): JSON
// replies, the session cookies (one per role), the same-origin rule, session tokens, rate
// buckets, and loading OpenSSL the way Debian 12's civetweb needs for TLS.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

struct mg_connection;

namespace outpace::web {

// A token bucket: `rate` per second, up to `burst`.
struct Bucket {
    double tokens = -1;
    std::chrono::steady_clock::time_point at{};
    // Takes one token at `now` if there is one.
    bool take(double rate, double burst,
              std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    // Seconds until the next token.
    double wait_s(double rate) const { return tokens >= 1 ? 0 : (1 - tokens) / rate; }
};

// 256 random bits as 64 hex digits (libsodium).
std::string random_token();
// A JSON response with `status`, no caching, and `headers` (whole lines with their CRLF).
void reply(mg_connection* c, int status, const nlohmann::json& body,
           const std::string& headers = "");
// One cookie per role: an agent who is also a supervisor keeps both pages open in one browser.
const char* cookie_name(bool supervisor);
// The page's role, from its request's query (?role=supervisor); an agent's otherwise.
bool console_request(const mg_connection* c);
// The session token in the request's cookie for its role, or "".
std::string cookie_token(const mg_connection* c);
// Browsers send Origin with every WebSocket and every POST by fetch(): it must be this site
// (a page of another site may not use the agent's cookie).
bool same_origin(const mg_connection* c);
// civetweb loads OpenSSL by the bare names libssl.so and libcrypto.so, and Debian 12's looks up a
// symbol OpenSSL 3 no longer has (tls_shim/ssl_shim.cc): our two small libraries carry those
// sonames, so civetweb's dlopen finds them loaded. Next to the binary (a build folder) or in
// ../lib/outpace (the package). False with `error` set.
bool load_tls_shims(std::string* error);

}  // namespace outpace::web
