// SDES-SRTP (RFC 4568, RFC 3711) for one call's audio, with libsrtp2: the keys as SDP carries
// them (a=crypto) and the per-packet protection. The keys travel inside SIP, so they are only
// ever put in an SDP sent over TLS (sip::SipStack refuses otherwise).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace outpace::media {

// The two suites every SDES implementation has (RFC 4568 section 6.2): AES counter mode with a
// 128-bit key, HMAC-SHA1 tags of 80 or 32 bits. The master key and salt are 30 bytes for both.
enum class SrtpSuite { aes_cm_128_hmac_sha1_80, aes_cm_128_hmac_sha1_32 };
constexpr std::size_t kSrtpKeyBytes = 30;

struct SrtpKey {
    SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
    std::array<std::uint8_t, kSrtpKeyBytes> key{};  // master key (16) then master salt (14)
    int tag = 1;                                    // the a=crypto tag it was offered under
};

// A fresh key from the system's random source (libsodium).
SrtpKey new_srtp_key(SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80);

// The attribute's value as an offer carries it: "1 AES_CM_128_HMAC_SHA1_80 inline:<base64>".
std::string crypto_attribute(const SrtpKey& key);
// Reads one a=crypto value (what follows "a=crypto:"). Refuses, with a reason, what we cannot
// use: an unknown suite, a key that is not 30 bytes of base64, several keys, an MKI, session
// parameters (we support none). `lifetime` is accepted and ignored (one call never reaches it).
std::optional<SrtpKey> parse_crypto_attribute(std::string_view value, std::string* error);

// One call's two SRTP contexts: ours to protect what we send (our key), theirs to check and
// decrypt what arrives (the key they sent us). Replays and forged packets fail authentication.
class SrtpSession {
  public:
    static std::unique_ptr<SrtpSession> create(const SrtpKey& ours, const SrtpKey& theirs,
                                               std::string* error);
    ~SrtpSession();
    SrtpSession(const SrtpSession&) = delete;
    SrtpSession& operator=(const SrtpSession&) = delete;

    // Room a protected packet needs beyond the RTP packet (the authentication tag).
    static constexpr std::size_t kTrailer = 16;
    // Protects the RTP packet of `len` bytes at `buf` in place; `buf` has `len + kTrailer` bytes.
    // Returns the protected length, 0 on failure.
    std::size_t protect(std::uint8_t* buf, std::size_t len);
    // Checks and decrypts an SRTP packet in place; returns the RTP length, 0 when it does not
    // authenticate (forged, replayed, or another key).
    std::size_t unprotect(std::uint8_t* buf, std::size_t len);

  private:
    SrtpSession() = default;
    struct Contexts;
    std::unique_ptr<Contexts> c_;
};

}  // namespace outpace::media
