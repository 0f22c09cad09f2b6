#include "dialer/sip/digest.h"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <unordered_map>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/auth_module.h>
#include <sofia-sip/auth_plugin.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "dialer/sip/sofia_home.h"

namespace outpace::sip {
namespace {

struct AuthModFree {
    void operator()(auth_mod_t* am) const { auth_mod_destroy(am); }
};

std::string header_value(su_home_t* home, const msg_header_t* h) {
    if (!h) return "";
    char* s = sip_header_as_string(home, reinterpret_cast<const sip_header_t*>(h));
    return s ? s : "";
}

}  // namespace

std::string digest_ha1(const std::string& user, const std::string& realm,
                       const std::string& password) {
    auth_hexmd5_t ha1 = {};
    auth_digest_ha1(ha1, user.c_str(), realm.c_str(), password.c_str());
    return ha1;
}

bool is_ha1(const std::string& s) {
    if (s.size() != 32) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

struct DigestServer::Impl {
    std::string master_key;  // random per engine start: nonces are HMACs under it
    std::unique_ptr<auth_mod_t, AuthModFree> module;
    // Per user, the nonces it has answered with and the highest count used with each, oldest
    // first. Only users that proved themselves are here, so it grows with the accounts file.
    struct Used {
        std::string nonce;
        unsigned long nc = 0;
        std::chrono::steady_clock::time_point first;
    };
    std::unordered_map<std::string, std::deque<Used>> used;
};

namespace {
// Nonces one user may have in use at once (one per device, and a few re-challenges); beyond it
// the oldest is forgotten, and its later counts are asked to start over.
constexpr std::size_t kNoncesPerUser = 16;

std::string param(msg_param_t const* params, const char* name) {
    const char* v = params ? msg_params_find(params, name) : nullptr;
    std::string out = v ? v : "";
    if (out.size() >= 2 && out.front() == '"') out = out.substr(1, out.size() - 2);
    return out;
}
}  // namespace

DigestServer::DigestServer(Settings settings)
    : settings_(std::move(settings)), impl_(std::make_unique<Impl>()) {
    unsigned char key[32] = {};
    std::size_t got = 0;
    while (got < sizeof key) {
        const auto n = ::getrandom(key + got, sizeof key - got, 0);
        if (n > 0) got += static_cast<std::size_t>(n);
    }
    char hex[3];
    for (unsigned char b : key) {
        std::snprintf(hex, sizeof hex, "%02x", b);
        impl_->master_key += hex;
    }
    set_users({});
}

DigestServer::~DigestServer() = default;

void DigestServer::set_users(const std::map<std::string, std::string>& ha1_by_user) {
    const auto lifetime = static_cast<unsigned>(settings_.nonce_lifetime.count());
    std::unique_ptr<auth_mod_t, AuthModFree> am(auth_mod_create(
        nullptr, AUTHTAG_METHOD("Digest"), AUTHTAG_REALM(settings_.realm.c_str()),
        AUTHTAG_QOP("auth"),        // a client nonce and count in every answer
        AUTHTAG_EXPIRES(lifetime),  // a nonce's life
        AUTHTAG_NEXT_EXPIRES(0),    // no nextnonce (Authentication-Info)
        AUTHTAG_OPAQUE("*"),        // an opaque of this host and key
        AUTHTAG_MASTER_KEY(impl_->master_key.c_str()), AUTHTAG_ALLOW(""), TAG_END()));
    if (!am) return;  // keeps the previous set
    for (const auto& [user, ha1] : ha1_by_user) {
        auth_passwd_t* apw = auth_mod_addpass(am.get(), user.c_str(), settings_.realm.c_str());
        if (!apw) continue;
        // Lives as long as the module (its memory home).
        apw->apw_hash = su_strdup(reinterpret_cast<su_home_t*>(am.get()), ha1.c_str());
    }
    impl_->module = std::move(am);
}

DigestServer::Verdict DigestServer::check(const std::string& method,
                                          const std::string& authorization) {
    Verdict v;
    if (!impl_->module) return v;
    Home h;
    msg_auth_t* credentials = nullptr;
    if (!authorization.empty()) {
        credentials = reinterpret_cast<msg_auth_t*>(
            msg_header_make(h.home, sip_authorization_class, authorization.c_str()));
        if (!credentials) return v;  // malformed
    }
    auth_status_t as[1];
    auth_status_init(as, sizeof as);
    as->as_method = method.c_str();
    auth_challenger_t ach = {401, "Unauthorized", sip_www_authenticate_class,
                             sip_authentication_info_class};
    auth_mod_verify(impl_->module.get(), as, credentials, &ach);
    if (credentials && credentials->au_params) {
        if (const char* u = msg_params_find(credentials->au_params, "username=")) {
            v.user = u;
            if (v.user.size() >= 2 && v.user.front() == '"')
                v.user = v.user.substr(1, v.user.size() - 2);
        }
    }
    if (as->as_status == 0) {
        v.kind = Verdict::Kind::ok;
        v.user = as->as_user ? as->as_user : v.user;
        v = fresh_count(v.user, param(credentials->au_params, "nonce="),
                        param(credentials->au_params, "nc="));
    } else if (as->as_status == 401 && as->as_response) {
        v.challenge = header_value(as->as_home, as->as_response);
        if (as->as_stale)
            v.kind = Verdict::Kind::stale;
        else if (credentials && as->as_match)
            v.kind = Verdict::Kind::wrong;
        else
            v.kind = Verdict::Kind::challenge;
    } else {
        v.kind = Verdict::Kind::malformed;
    }
    su_home_deinit(as->as_home);
    return v;
}

DigestServer::Verdict DigestServer::fresh_count(const std::string& user, const std::string& nonce,
                                                const std::string& nc) {
    Verdict v;
    v.user = user;
    char* end = nullptr;
    const unsigned long count = std::strtoul(nc.c_str(), &end, 16);
    if (nonce.empty() || nc.empty() || *end != '\0' || count == 0) return v;  // malformed
    const auto now = std::chrono::steady_clock::now();
    auto& list = impl_->used[user];
    // A nonce first used a lifetime ago has expired: Sofia refuses it before it gets here.
    while (!list.empty() && now - list.front().first >= settings_.nonce_lifetime) list.pop_front();
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const Impl::Used& u) { return u.nonce == nonce; });
    // A count above 1 for a nonce not seen (forgotten, or never used) cannot be told from a
    // replay of a forgotten one: the client is asked to start over with a new nonce.
    if (it == list.end() ? count != 1 : count <= it->nc) {
        const auto fresh = check("REGISTER", "");
        v.kind = Verdict::Kind::replayed;
        v.challenge = fresh.challenge + ", stale=true";
        return v;
    }
    if (it == list.end()) {
        if (list.size() >= kNoncesPerUser) list.pop_front();
        list.push_back({nonce, count, now});
    } else {
        it->nc = count;
    }
    v.kind = Verdict::Kind::ok;
    return v;
}

std::string DigestServer::answer(const std::string& challenge, const std::string& user,
                                 const std::string& ha1, const std::string& method,
                                 const std::string& uri, const std::string& cnonce, unsigned nc) {
    Home h;
    auto* au = reinterpret_cast<msg_auth_t*>(
        msg_header_make(h.home, sip_www_authenticate_class, challenge.c_str()));
    if (!au) return "";
    auth_challenge_t ac[1];
    std::memset(ac, 0, sizeof ac);
    ac->ac_size = sizeof ac;
    if (auth_digest_challenge_get(h.home, ac, au->au_params) < 0) return "";
    auto unq = [&](const char* s) {
        std::string out = s ? s : "";
        if (out.size() >= 2 && out.front() == '"') out = out.substr(1, out.size() - 2);
        return out;
    };
    char ncs[9];
    std::snprintf(ncs, sizeof ncs, "%08x", nc);
    auth_response_t ar[1];
    std::memset(ar, 0, sizeof ar);
    ar->ar_size = sizeof ar;
    ar->ar_username = user.c_str();
    ar->ar_realm = ac->ac_realm;
    ar->ar_nonce = ac->ac_nonce;
    ar->ar_uri = uri.c_str();
    ar->ar_md5 = 1;
    if (ac->ac_auth) {
        ar->ar_qop = "auth";
        ar->ar_auth = 1;
        ar->ar_cnonce = cnonce.c_str();
        ar->ar_nc = ncs;
    }
    auth_hexmd5_t a1 = {}, response = {};
    std::snprintf(a1, sizeof a1, "%s", ha1.c_str());
    auth_digest_response(ar, response, a1, method.c_str(), nullptr, 0);
    std::string out = "Digest username=\"" + user + "\", realm=\"" + unq(ac->ac_realm) +
                      "\", nonce=\"" + unq(ac->ac_nonce) + "\", uri=\"" + uri + "\", response=\"" +
                      response + "\", algorithm=MD5";
    if (ac->ac_auth) out += std::string(", qop=auth, nc=") + ncs + ", cnonce=\"" + cnonce + "\"";
    if (ac->ac_opaque) out += ", opaque=\"" + unq(ac->ac_opaque) + "\"";
    return out;
}

}  // namespace outpace::sip
