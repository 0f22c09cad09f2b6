#include "dialer/engine/agent_phone.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace outpace {
namespace {

std::optional<std::pair<int, std::array<unsigned char, 16>>> parse_ip(const std::string& s) {
    std::array<unsigned char, 16> a{};
    if (inet_pton(AF_INET, s.c_str(), a.data()) == 1) return std::make_pair(AF_INET, a);
    if (inet_pton(AF_INET6, s.c_str(), a.data()) == 1) {
        // ::ffff:a.b.c.d is the IPv4 address it carries.
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.data(), mapped, 12) == 0) {
            std::array<unsigned char, 16> v4{};
            std::memcpy(v4.data(), a.data() + 12, 4);
            return std::make_pair(AF_INET, v4);
        }
        return std::make_pair(AF_INET6, a);
    }
    return std::nullopt;
}

bool same_ip(const std::string& a, const std::string& b) {
    const auto x = parse_ip(a), y = parse_ip(b);
    return x && y && *x == *y;
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(const std::string& cidr) {
    const auto slash = cidr.find('/');
    const auto ip = parse_ip(cidr.substr(0, slash));
    if (!ip) return std::nullopt;
    IpNetwork n;
    n.family = ip->first;
    n.address = ip->second;
    const int max = n.family == AF_INET ? 32 : 128;
    n.prefix = max;
    if (slash != std::string::npos) {
        const std::string p = cidr.substr(slash + 1);
        if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        n.prefix = std::stoi(p);
        if (n.prefix > max) return std::nullopt;
    }
    n.text = cidr;
    return n;
}

bool IpNetwork::contains(const std::string& s) const {
    const auto ip = parse_ip(s);
    if (!ip || ip->first != family) return false;
    int bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
        const unsigned char mask =
            bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
        if ((ip->second[i] & mask) != (address[i] & mask)) return false;
    }
    return true;
}

std::optional<SipUriAddress> sip_uri_address(const std::string& uri) {
    if (uri.rfind("sip:", 0) != 0) return std::nullopt;
    const auto at = uri.find('@');
    if (at == std::string::npos || at == 4) return std::nullopt;
    const std::string rest = uri.substr(at + 1);
    if (rest.find('@') != std::string::npos) return std::nullopt;
    SipUriAddress out;
    std::size_t after = 0;  // where the host ends in `rest`
    if (!rest.empty() && rest[0] == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos) return std::nullopt;
        out.host = rest.substr(1, close - 1);
        after = close + 1;
    } else {
        after = std::min(rest.find_first_of(":;?>"), rest.size());
        out.host = rest.substr(0, after);
    }
    if (after < rest.size() && rest[after] == ':') {
        const auto digits = rest.substr(after + 1, 5);
        const auto n = std::min(digits.find_first_not_of("0123456789"), digits.size());
        if (n == 0) return std::nullopt;  // ':' and no port
        out.port = std::stoi(digits.substr(0, n));
    }
    return out;
}

std::vector<IpNetwork> default_phone_networks(const std::string& sip_address) {
    std::vector<IpNetwork> out = {*IpNetwork::parse("127.0.0.0/8"), *IpNetwork::parse("::1")};
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_netmask) continue;
        const int family = i->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        char buf[INET6_ADDRSTRLEN] = {};
        const void* a = family == AF_INET
                            ? static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
                            : &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr;
        if (!inet_ntop(family, a, buf, sizeof buf) || !same_ip(buf, sip_address)) continue;
        const auto* m = reinterpret_cast<const unsigned char*>(
            family == AF_INET ? static_cast<const void*>(
                                    &reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr)
                              : &reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask)->sin6_addr);
        int prefix = 0;
        for (int b = 0; b < (family == AF_INET ? 4 : 16); ++b) prefix += __builtin_popcount(m[b]);
        if (auto n = IpNetwork::parse(std::string(buf) + "/" + std::to_string(prefix)))
            out.push_back(*n);
    }
    freeifaddrs(list);
    return out;
}

std::string check_agent_phone(const std::string& phone, const std::vector<IpNetwork>& networks,
                              const std::vector<TrunkAddress>& trunks) {
    const auto address = sip_uri_address(phone);
    if (!address) return "'phone' must be the softphone's SIP URI (sip:USER@IP:PORT)";
    const std::string* host = &address->host;
    const int port = address->port;
    if (!parse_ip(*host))
        return "'phone' must name the softphone by IP address (sip:USER@IP:PORT), not '" + *host +
               "'";
    static const auto loopback4 = *IpNetwork::parse("127.0.0.0/8");
    for (const auto& t : trunks) {
        if (!same_ip(t.host, *host)) continue;
        const bool local = loopback4.contains(t.host) || same_ip(t.host, "::1");
        if (!local || t.port == port)
            return "'phone' " + *host +
                   " is a trunk's address: agents' phones are never called "
                   "through a carrier";
    }
    for (const auto& n : networks)
        if (n.contains(*host)) return "";
    return "'phone' " + *host + " is outside the agents' phone networks (agents.phone_networks)";
}

}  // namespace outpace
