// A REGISTER's Authorization header, as any softphone (or attacker) may send it: Sofia's digest
// check behind DigestServer answers every input with a verdict and never accepts a forgery.
#include <cstdint>
#include <string>

#include "dialer/sip/digest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static outpace::sip::DigestServer server({});
    static const bool users = [] {
        server.set_users({{"alice", outpace::sip::digest_ha1("alice", "outpace", "pw")}});
        return true;
    }();
    (void)users;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto v = server.check("REGISTER", text);
    // No nonce this server made is guessable from here: nothing may pass.
    if (v.kind == outpace::sip::DigestServer::Verdict::Kind::ok) __builtin_trap();
    return 0;
}
