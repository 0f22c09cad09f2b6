// A DNS server's answer (or an attacker's forged one): read as NAPTR, SRV, A and AAAA records and
// their smallest TTL. Never a crash; records that did come out are bounded.
#include <cstdint>

#include "dialer/sip/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using outpace::sip::RrType;
    if (size > 65535) return 0;
    for (const RrType t : {RrType::naptr, RrType::srv, RrType::a, RrType::aaaa}) {
        const auto a = outpace::sip::read_dns_answer(t, data, static_cast<int>(size));
        if (a.records.size() > 64 || a.ttl.count() < 0) __builtin_trap();
    }
    return 0;
}
