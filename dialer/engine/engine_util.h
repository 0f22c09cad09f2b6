// Small helpers the engine's files share: durations between steady times, SIP host:port, the log.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "dialer/engine/clock.h"

namespace outpace {

using std::chrono::milliseconds;

inline long ms_between(SteadyTime a, SteadyTime b) {
    return static_cast<long>(std::chrono::duration_cast<milliseconds>(b - a).count());
}

inline double seconds_between(SteadyTime a, SteadyTime b) {
    return std::chrono::duration<double>(b - a).count();
}

// HOST:PORT for a SIP URI, IPv6 literals in brackets.
inline std::string host_port(const std::string& host, int port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

// Text from the network for a log line: at most `max` bytes, anything but printable ASCII as
// '?' (a SIP header cannot forge log lines or send terminal escapes).
inline std::string printable(const std::string& s, std::size_t max) {
    std::string out = s.substr(0, max);
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    return out;
}

inline void engine_log(const std::string& line) {
    std::fprintf(stderr, "outpace: %s\n", line.c_str());
}

}  // namespace outpace
