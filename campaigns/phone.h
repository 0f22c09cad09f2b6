// Phone numbers: normalisation to E.164 (libphonenumber) and the callee's time zone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

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

// The same, remembering what it learnt about North American exchanges. NANP validity is decided
// by the first six digits (area code and exchange, as in the LERG): libphonenumber's US and
// Caribbean patterns never look further, which a test checks on random numbers. A list holds
// many numbers per exchange, so most rows skip libphonenumber's regular expressions, which
// also serialise threads on the library's shared regex cache. Not thread-safe: one per thread.
class PhoneNormalizer {
  public:
    explicit PhoneNormalizer(std::string default_region);
    NormalizedPhone normalize(std::string_view raw);

  private:
    struct Exchange {
        bool valid = false;
        std::string region;
    };
    std::string region_;
    bool nanp_default_ = false;
    std::unordered_map<std::uint32_t, Exchange> exchanges_;  // NPA*1000+NXX
};

bool is_known_region(const std::string& region);

// The time zone(s) a number's callee may be in, as IANA names joined by '|', or "" when the number
// cannot tell (toll-free, mobile-portable countries with several zones). An area code that spans
// zones yields all of them; calling hours must then hold in every one (the strict reading).
// NANP numbers are mapped by area code; other countries by region when they have a single zone.
std::string zones_for_number(const std::string& e164, const std::string& region);

}  // namespace outpace
