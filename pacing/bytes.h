// Fixed-width little-endian numbers in a byte string: what the pacer saves for a later run (the
// store keeps them across versions of the program; the byte order is fixed either way).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace outpace::pacing::bytes {

template <typename U>
void put(std::string& out, U v) {
    for (std::size_t i = 0; i < sizeof(U); ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
// Reads one from the front of `in`; false (nothing consumed) when `in` is too short.
template <typename U>
bool get(std::string_view& in, U& v) {
    if (in.size() < sizeof(U)) return false;
    v = 0;
    for (std::size_t i = sizeof(U); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(sizeof(U));
    return true;
}
inline void put_f64(std::string& out, double d) {
    std::uint64_t v;
    std::memcpy(&v, &d, 8);
    put(out, v);
}
// A count, weight or time: false when it is not a finite number >= 0.
inline bool get_f64(std::string_view& in, double& d) {
    std::uint64_t v = 0;
    if (!get(in, v)) return false;
    std::memcpy(&d, &v, 8);
    return std::isfinite(d) && d >= 0;
}

}  // namespace outpace::pacing::bytes
