#include "dialer/media/srtp.h"

#include <sodium.h>
#include <srtp2/srtp.h>

#include <mutex>
#include <vector>

namespace outpace::media {

namespace {

constexpr std::string_view kSuite80 = "AES_CM_128_HMAC_SHA1_80";
constexpr std::string_view kSuite32 = "AES_CM_128_HMAC_SHA1_32";

bool srtp_library_ready() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = srtp_init() == srtp_err_status_ok && sodium_init() >= 0; });
    return ok;
}

}  // namespace

SrtpKey new_srtp_key(SrtpSuite suite) {
    srtp_library_ready();
    SrtpKey k;
    k.suite = suite;
    randombytes_buf(k.key.data(), k.key.size());
    return k;
}

std::string crypto_attribute(const SrtpKey& key) {
    char b64[sodium_base64_ENCODED_LEN(kSrtpKeyBytes, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, key.key.data(), key.key.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    return std::to_string(key.tag) + " " +
           std::string(key.suite == SrtpSuite::aes_cm_128_hmac_sha1_80 ? kSuite80 : kSuite32) +
           " inline:" + b64;
}

std::optional<SrtpKey> parse_crypto_attribute(std::string_view value, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<SrtpKey> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    // tag SP suite SP key-params [SP session-params]
    std::vector<std::string_view> f;
    while (!value.empty()) {
        const auto sp = value.find_first_of(" \t");
        if (sp != 0) f.push_back(value.substr(0, sp));
        if (sp == std::string_view::npos) break;
        value.remove_prefix(sp + 1);
    }
    if (f.size() < 3) return fail("a=crypto needs a tag, a suite and a key");
    if (f.size() > 3) return fail("a=crypto session parameters are not supported");
    SrtpKey k;
    if (f[0].empty() || f[0].size() > 9 ||
        f[0].find_first_not_of("0123456789") != std::string_view::npos)
        return fail("a=crypto tag is not a number");
    k.tag = std::stoi(std::string(f[0]));
    if (f[1] == kSuite80)
        k.suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
    else if (f[1] == kSuite32)
        k.suite = SrtpSuite::aes_cm_128_hmac_sha1_32;
    else
        return fail("a=crypto suite not supported: " + std::string(f[1].substr(0, 64)));
    auto params = f[2];
    if (params.find(';') != std::string_view::npos)
        return fail("a=crypto with several keys is not supported");
    if (params.substr(0, 7) != "inline:") return fail("a=crypto key method is not inline");
    params.remove_prefix(7);
    const auto bar = params.find('|');
    const auto b64 = params.substr(0, bar);
    if (bar != std::string_view::npos) {
        // |lifetime and/or |MKI:length. A lifetime is fine; an MKI is not.
        const auto rest = params.substr(bar + 1);
        if (rest.find(':') != std::string_view::npos)
            return fail("a=crypto with a master key identifier (MKI) is not supported");
        if (rest.find('|') != std::string_view::npos)
            return fail("a=crypto key has bad parameters");
    }
    std::size_t len = 0;
    if (b64.size() != 40 ||
        sodium_base642bin(k.key.data(), k.key.size(), b64.data(), b64.size(), nullptr, &len,
                          nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != kSrtpKeyBytes)
        return fail("a=crypto key is not 30 bytes of base64");
    return k;
}

struct SrtpSession::Contexts {
    srtp_t out = nullptr, in = nullptr;
    ~Contexts() {
        if (out) srtp_dealloc(out);
        if (in) srtp_dealloc(in);
    }
};

namespace {

bool make_context(srtp_t* ctx, const SrtpKey& k, srtp_ssrc_type_t direction) {
    srtp_policy_t p{};
    if (k.suite == SrtpSuite::aes_cm_128_hmac_sha1_80)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    p.ssrc.type = direction;
    std::array<std::uint8_t, kSrtpKeyBytes> key = k.key;  // libsrtp takes a non-const pointer
    p.key = key.data();
    p.window_size = 128;
    p.allow_repeat_tx = 0;
    const bool ok = srtp_create(ctx, &p) == srtp_err_status_ok;
    sodium_memzero(key.data(), key.size());
    return ok;
}

}  // namespace

std::unique_ptr<SrtpSession> SrtpSession::create(const SrtpKey& ours, const SrtpKey& theirs,
                                                 std::string* error) {
    if (!srtp_library_ready()) {
        if (error) *error = "libsrtp2 could not be initialised";
        return nullptr;
    }
    std::unique_ptr<SrtpSession> s(new SrtpSession);
    s->c_ = std::make_unique<Contexts>();
    if (!make_context(&s->c_->out, ours, ssrc_any_outbound) ||
        !make_context(&s->c_->in, theirs, ssrc_any_inbound)) {
        if (error) *error = "libsrtp2 refused the keys";
        return nullptr;
    }
    return s;
}

SrtpSession::~SrtpSession() = default;

std::size_t SrtpSession::protect(std::uint8_t* buf, std::size_t len) {
    int n = static_cast<int>(len);
    static_assert(kTrailer >= SRTP_MAX_TAG_LEN, "no MKI: the tag is the whole trailer");
    if (srtp_protect(c_->out, buf, &n) != srtp_err_status_ok) return 0;
    return static_cast<std::size_t>(n);
}

std::size_t SrtpSession::unprotect(std::uint8_t* buf, std::size_t len) {
    if (len < 12 + 4) return 0;
    int n = static_cast<int>(len);
    if (srtp_unprotect(c_->in, buf, &n) != srtp_err_status_ok) return 0;
    return static_cast<std::size_t>(n);
}

}  // namespace outpace::media
