#include "dialer/media/sdp.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

namespace outpace::media {

std::string make_offer(const std::string& address, int port, std::uint64_t session_id,
                       const SrtpKey* srtp) {
    const bool v6 = address.find(':') != std::string::npos;
    const std::string ip = v6 ? "IP6 " : "IP4 ";
    const std::string id = std::to_string(session_id);
    return "v=0\r\n"
           "o=outpace " +
           id + " " + id + " IN " + ip + address +
           "\r\n"
           "s=outpace\r\n"
           "c=IN " +
           ip + address +
           "\r\n"
           "t=0 0\r\n"
           "m=audio " +
           std::to_string(port) + (srtp ? " RTP/SAVP" : " RTP/AVP") + " 0 8 101\r\n" +
           (srtp ? "a=crypto:" + crypto_attribute(*srtp) + "\r\n" : "") +
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=rtpmap:8 PCMA/8000\r\n"
           "a=rtpmap:101 telephone-event/8000\r\n"
           "a=fmtp:101 0-16\r\n"
           "a=ptime:20\r\n"
           "a=rtcp-mux\r\n"
           "a=sendrecv\r\n";
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        const auto i = s.find(sep);
        const auto part = s.substr(0, i);
        if (!part.empty()) out.push_back(part);
        if (i == std::string_view::npos) break;
        s.remove_prefix(i + 1);
    }
    return out;
}

bool to_int(std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool ip_literal(const std::string& a) {
    unsigned char buf[16];
    return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

}  // namespace

RemoteMedia parse_answer(std::string_view sdp) {
    RemoteMedia r;
    if (sdp.size() > 64 * 1024) {
        r.error = "SDP larger than 64 KiB";
        return r;
    }
    std::string session_addr, media_addr;
    bool in_audio = false, seen_audio = false;
    std::string crypto_error;
    std::vector<int> payloads;
    for (auto line : split(sdp, '\n')) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() < 2 || line[1] != '=') continue;
        const char type = line[0];
        const auto value = line.substr(2);
        if (type == 'm') {
            in_audio = false;
            const auto f = split(value, ' ');
            if (f.size() >= 4 && f[0] == "audio" && !seen_audio) {
                seen_audio = in_audio = true;
                r.secure = f[2] == "RTP/SAVP";
                auto port_text = f[1].substr(0, f[1].find('/'));
                if (!to_int(port_text, r.port) || r.port < 0 || r.port > 65535) {
                    r.error = "bad audio port";
                    return r;
                }
                for (std::size_t i = 3; i < f.size(); ++i) {
                    int pt;
                    if (to_int(f[i], pt)) payloads.push_back(pt);
                }
            }
        } else if (type == 'c') {
            const auto f = split(value, ' ');
            if (f.size() >= 3 && f[0] == "IN") {
                std::string a(f[2].substr(0, f[2].find('/')));
                if (in_audio)
                    media_addr = a;
                else if (!seen_audio)
                    session_addr = a;  // c= of other media sections is not ours
            }
        } else if (type == 'a' && in_audio && value.substr(0, 7) == "crypto:") {
            if (!r.srtp) {
                std::string why;
                r.srtp = parse_crypto_attribute(value.substr(7), &why);
                if (!r.srtp) crypto_error = why;
            }
        } else if (type == 'a' && in_audio && value.substr(0, 7) == "rtpmap:") {
            const auto f = split(value.substr(7), ' ');
            int pt;
            if (f.size() == 2 && to_int(f[0], pt) && f[1].substr(0, 15) == "telephone-event")
                r.telephone_event = pt;
        }
    }
    if (!seen_audio) {
        r.error = "no audio stream";
        return r;
    }
    if (r.port == 0) {
        r.error = "audio stream refused (port 0)";
        return r;
    }
    for (int pt : payloads)
        if (pt == kPcmu || pt == kPcma) {
            r.payload = pt;
            break;
        }
    if (r.payload < 0) {
        r.error = "no G.711 codec in the answer";
        return r;
    }
    if (r.secure && !r.srtp) {
        r.error = crypto_error.empty() ? "RTP/SAVP answer without an a=crypto key"
                                       : "unusable SRTP key: " + crypto_error;
        return r;
    }
    if (!r.secure) r.srtp.reset();  // a key on plain RTP (best-effort SRTP) is not taken
    r.address = media_addr.empty() ? session_addr : media_addr;
    if (!ip_literal(r.address)) {
        r.error = "connection address is not an IP literal: '" + r.address + "'";
        return r;
    }
    return r;
}

}  // namespace outpace::media
