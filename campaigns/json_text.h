// JSON as text, for anything built from outside text (a list's fields, a SIP header, a desktop's
// notes). nlohmann::json::dump() throws type_error.316 on bytes that are not UTF-8; an engine
// that builds a screen pop from a Latin-1 list must never abort for it. Every JSON the project
// writes goes through here: invalid bytes become U+FFFD, nothing throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace outpace {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace outpace
