// The engine's SDP: one audio stream, G.711 µ-law and A-law, RFC 4733 telephone-events. Written
// and read here (nua's own SDP handling is off), small enough to check line by line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace outpace::media {

constexpr int kPcmu = 0, kPcma = 8, kTelephoneEvent = 101;

// An offer for an RTP port on `address` (IPv4 or IPv6 literal).
std::string make_offer(const std::string& address, int port, std::uint64_t session_id);

struct RemoteMedia {
    std::string address;  // where to send RTP
    int port = 0;
    int payload = -1;          // kPcmu or kPcma
    int telephone_event = -1;  // payload type of telephone-events, -1 when not offered
    std::string error;         // set when the SDP cannot be used
    // Symmetric RTP (a softphone behind NAT): send to the port this address's packets come
    // from, whatever the SDP said. Set by the engine, never by parsing.
    bool latch = false;
    bool ok() const { return error.empty(); }
};

// Reads the callee's answer. Refuses (with a reason) what we cannot talk to: no audio stream, port
// 0, no G.711, an address that is not an IP literal.
RemoteMedia parse_answer(std::string_view sdp);

}  // namespace outpace::media
