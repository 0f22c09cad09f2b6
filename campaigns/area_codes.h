// Hand-kept tables from area codes and regions to time zones. Debian's libphonenumber is built
// without its time-zone mapper, so this is the one place that knows where a number rings.
#pragma once

#include <string>

namespace outpace {

// IANA zone(s) of a North American area code, joined by '|' when the area spans zones;
// nullptr for non-geographic codes (toll-free, 500/600/700/900) and unknown codes.
const char* nanp_area_code_zones(int area_code);

// The zone of a region (ISO code) that lies in a single time zone; nullptr otherwise.
const char* single_zone_region(const char* region);
inline const char* single_zone_region(const std::string& region) {
    return single_zone_region(region.c_str());
}

}  // namespace outpace
