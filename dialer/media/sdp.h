// The engine's SDP: one audio stream, G.711 µ-law and A-law, RFC 4733 telephone-events. Written
// and read here (nua's own SDP handling is off), small enough to check line by line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dialer/media/srtp.h"

namespace outpace::media {

constexpr int kPcmu = 0, kPcma = 8, kTelephoneEvent = 101;

// An offer for an RTP port on `address` (IPv4 or IPv6 literal). With `srtp`, the stream is
// RTP/SAVP with that key in an a=crypto line (SDES, RFC 4568): the answer must take it.
std::string make_offer(const std::string& address, int port, std::uint64_t session_id,
                       const SrtpKey* srtp = nullptr);

struct RemoteMedia {
    std::string address;  // where to send RTP
    int port = 0;
    int payload = -1;          // kPcmu or kPcma
    int telephone_event = -1;  // payload type of telephone-events, -1 when not offered
    std::string error;         // set when the SDP cannot be used
    // The stream's profile is RTP/SAVP (secure), and the key the answer chose for what it sends
    // (the first a=crypto line we can use; others are ignored, as RFC 4568 lets an answer
    // carry only one). An SAVP answer without a usable key is an error.
    bool secure = false;
    std::optional<SrtpKey> srtp = std::nullopt;
    // Symmetric RTP (a softphone behind NAT): send to the port this address's packets come
    // from, whatever the SDP said. Set by the engine, never by parsing.
    bool latch = false;
    bool ok() const { return error.empty(); }
};

// Reads the callee's answer. Refuses (with a reason) what we cannot talk to: no audio stream, port
// 0, no G.711, an address that is not an IP literal, an RTP/SAVP stream with no key we can use.
RemoteMedia parse_answer(std::string_view sdp);

}  // namespace outpace::media
