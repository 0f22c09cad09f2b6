#include "campaigns/duration.h"

#include <cctype>
#include <cstdint>

namespace outpace {

std::optional<Millis> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t total_ms = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
        double value = 0;
        std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            value = value * 10 + (text[i] - '0');
            ++i;
        }
        if (i < text.size() && text[i] == '.') {
            ++i;
            double scale = 0.1;
            while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
                value += (text[i] - '0') * scale;
                scale /= 10;
                ++i;
            }
        }
        if (i - start > 12) return std::nullopt;
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string_view unit = text.substr(unit_start, i - unit_start);
        double ms_per_unit = 0;
        if (unit == "ms")
            ms_per_unit = 1;
        else if (unit == "s")
            ms_per_unit = 1000;
        else if (unit == "m" || unit == "min")
            ms_per_unit = 60'000;
        else if (unit == "h")
            ms_per_unit = 3'600'000;
        else if (unit == "d")
            ms_per_unit = 86'400'000;
        else if (unit == "w")
            ms_per_unit = 7 * 86'400'000.0;
        else
            return std::nullopt;
        total_ms += static_cast<std::int64_t>(value * ms_per_unit + 0.5);
    }
    return Millis{total_ms};
}

std::string format_duration(Millis d) {
    const std::int64_t ms = d.count();
    if (ms == 0) return "0s";
    struct Unit {
        std::int64_t ms;
        const char* name;
    };
    for (Unit u :
         {Unit{86'400'000, "d"}, Unit{3'600'000, "h"}, Unit{60'000, "m"}, Unit{1000, "s"}}) {
        if (ms % u.ms == 0) return std::to_string(ms / u.ms) + u.name;
    }
    return std::to_string(ms) + "ms";
}

}  // namespace outpace
