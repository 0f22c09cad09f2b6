// Phone numbers: normalisation to E.164 (libphonenumber) and the callee's time zone.
#pragma once

#include <string>
#include <string_view>

namespace outpace {

struct NormalizedPhone {
    std::string e164;    // "+14155550123"
    std::string region;  // ISO region the number belongs to ("US", "CA", "GB")
    std::string error;   // why it was refused; empty when valid

    bool ok() const { return error.empty(); }
};

// Normalises a number as written in a list ("(415) 555-0123", "+44 20 7946 0958", "0044...")
// using `default_region` for numbers written without a country code. Only numbers libphonenumber
// considers valid are accepted.
NormalizedPhone normalize_phone(std::string_view raw, const std::string& default_region);

bool is_known_region(const std::string& region);

// The time zone(s) a number's callee may be in, as IANA names joined by '|', or "" when the number
// cannot tell (toll-free, mobile-portable countries with several zones). An area code that spans
// zones yields all of them; calling hours must then hold in every one (the strict reading).
// NANP numbers are mapped by area code; other countries by region when they have a single zone.
std::string zones_for_number(const std::string& e164, const std::string& region);

}  // namespace outpace
