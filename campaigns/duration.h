// Durations written by people in campaign files: "20s", "1500ms", "2h", "30d", "1h30m".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace outpace {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

// Parses a duration with explicit units (ms, s, m, h, d, w), several parts allowed ("1h30m").
// A bare number is refused: a missing unit is the commonest campaign-file mistake.
std::optional<Millis> parse_duration(std::string_view text);

// Formats a duration back the way a person writes it ("2h", "90s", "1500ms").
std::string format_duration(Millis d);

}  // namespace outpace
