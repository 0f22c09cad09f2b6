// Which softphones the engine may call for an agent. A desktop's login names a phone and the
// engine calls it, so an unchecked phone is a way to make the engine call anything: a premium
// number through the trunk (toll fraud). A login phone must be sip:USER@IP[:PORT] with its IP in
// `agents.phone_networks` (default: loopback and the subnet of the engine's SIP address), and
// never a trunk's address.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace outpace {

struct IpNetwork {
    int family = 0;  // AF_INET or AF_INET6
    std::array<unsigned char, 16> address{};
    int prefix = 0;
    std::string text;  // as written, for messages

    // "10.1.0.0/16", "fd00::/8", or a single address ("192.0.2.7" = /32).
    static std::optional<IpNetwork> parse(const std::string& cidr);
    bool contains(const std::string& ip) const;
};

// sip:USER@HOST[:PORT][;params]: the host (IPv6 without its brackets) and the port (5060 when
// none is written), or nullopt when the URI is not of that form.
struct SipUriAddress {
    std::string host;
    int port = 5060;
};
std::optional<SipUriAddress> sip_uri_address(const std::string& uri);
inline std::optional<std::string> sip_uri_host(const std::string& uri) {
    auto a = sip_uri_address(uri);
    return a ? std::optional<std::string>(a->host) : std::nullopt;
}

// Loopback (127.0.0.0/8, ::1) and the subnet of the interface that holds `sip_address`.
std::vector<IpNetwork> default_phone_networks(const std::string& sip_address);

struct TrunkAddress {
    std::string host;
    int port = 5060;
};

// Empty when `phone` may be called for an agent, else the sentence for the desktop. A remote
// trunk's IP is refused whatever the port (a carrier may listen on several); a trunk on this
// machine (loopback: an SBC or proxy beside the engine, or a test carrier) by IP and port, since
// softphones on the same host are told apart from it by their ports.
std::string check_agent_phone(const std::string& phone, const std::vector<IpNetwork>& networks,
                              const std::vector<TrunkAddress>& trunks);

}  // namespace outpace
