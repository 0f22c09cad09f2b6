#include "dialer/web/web_http.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>

#include "campaigns/json_text.h"

namespace outpace::web {
namespace {

using json = nlohmann::json;

const char* status_text(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 429:
            return "Too Many Requests";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Error";
    }
}

}  // namespace

bool Bucket::take(double rate, double burst, std::chrono::steady_clock::time_point now) {
    if (tokens < 0) tokens = burst, at = now;
    tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - at).count());
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
}

const char* cookie_name(bool supervisor) {
    return supervisor ? "outpace_supervisor" : "outpace_agent";
}

std::string random_token() {
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : raw) out += hex[b >> 4], out += hex[b & 15];
    return out;
}

void reply(mg_connection* c, int status, const json& body, const std::string& headers) {
    const std::string text = json_text(body);
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s\r\n",
              status, status_text(status), text.size(), headers.c_str());
    mg_write(c, text.data(), text.size());
}

bool console_request(const mg_connection* c) {
    const char* q = mg_get_request_info(c)->query_string;
    return q && std::string(q) == "role=supervisor";
}

std::string cookie_token(const mg_connection* c) {
    const char* header = mg_get_header(c, "Cookie");
    if (!header) return "";
    char value[128];
    if (mg_get_cookie(header, cookie_name(console_request(c)), value, sizeof value) != 64)
        return "";
    return value;
}

bool same_origin(const mg_connection* c) {
    const char* origin = mg_get_header(c, "Origin");
    const char* host = mg_get_header(c, "Host");
    if (!origin || !host) return false;
    const bool tls = mg_get_request_info(c)->is_ssl;
    return std::string(origin) == std::string(tls ? "https://" : "http://") + host;
}

bool load_tls_shims(std::string* error) {
    char exe[4096];
    const auto n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        *error = "cannot tell where the outpace binary is (/proc/self/exe)";
        return false;
    }
    exe[n] = 0;
    std::string dir(exe);
    dir.resize(dir.rfind('/'));
    for (const std::string& at : {dir, dir + "/../lib/outpace"}) {
        const std::string crypto = at + "/liboutpace-crypto.so", ssl = at + "/liboutpace-ssl.so";
        if (::access(crypto.c_str(), R_OK) != 0 || ::access(ssl.c_str(), R_OK) != 0) continue;
        if (!::dlopen(crypto.c_str(), RTLD_NOW | RTLD_GLOBAL) ||
            !::dlopen(ssl.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            *error = std::string("cannot load OpenSSL for TLS: ") + ::dlerror();
            return false;
        }
        return true;
    }
    *error =
        "TLS needs liboutpace-ssl.so and liboutpace-crypto.so next to the outpace binary or in " +
        dir + "/../lib/outpace";
    return false;
}

}  // namespace outpace::web
