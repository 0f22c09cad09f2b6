// A far end for RTP tests: a plain UDP socket on 127.0.0.x writing packets by hand, and reading
// what a session sends (tests/media_test.cc, tests/media_worker_test.cc).
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "dialer/media/rtp.h"

namespace outpace::test {

// A plain UDP socket on 127.0.0.x: the far end, writing RTP by hand.
struct Peer {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    int port = 0;
    explicit Peer(const char* ip) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, ip, &a.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Peer() { ::close(fd); }
    void send_to(int to_port, std::vector<std::uint8_t> bytes) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(to_port));
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
};

inline std::vector<std::uint8_t> packet(int pt, std::uint16_t seq, std::uint32_t ts, std::size_t n,
                                        std::uint8_t fill) {
    std::vector<std::uint8_t> p(12 + n, fill);
    p[0] = 0x80;
    p[1] = static_cast<std::uint8_t>(pt);
    p[2] = static_cast<std::uint8_t>(seq >> 8), p[3] = static_cast<std::uint8_t>(seq);
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    p[8] = 0xab, p[9] = 0xcd, p[10] = 0xef, p[11] = 0x01;
    return p;
}
// The next packet `peer` receives within `ms`, parsed; false when none came.
inline bool receive_within(const Peer& peer, int ms, std::vector<std::uint8_t>& bytes,
                           media::RtpPacket& p) {
    pollfd pfd{peer.fd, POLLIN, 0};
    if (::poll(&pfd, 1, ms) != 1) return false;
    bytes.resize(2048);
    const auto n = ::recv(peer.fd, bytes.data(), bytes.size(), MSG_DONTWAIT);
    if (n <= 0) return false;
    bytes.resize(static_cast<std::size_t>(n));
    return media::parse_rtp(bytes, p);
}

}  // namespace outpace::test
