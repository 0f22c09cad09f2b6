#include "campaigns/phone.h"

#include <phonenumbers/phonenumberutil.h>

#include <cctype>

#include "campaigns/area_codes.h"

namespace outpace {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

PhoneNumberUtil& util() {
    return *PhoneNumberUtil::GetInstance();
}

// Strips the punctuation people write in numbers. Returns false when anything else is present
// (letters, extensions), so the caller can hand the text to libphonenumber's full parser.
bool plain_digits(std::string_view raw, std::string& digits, bool& plus) {
    plus = false;
    digits.clear();
    for (char ch : raw) {
        if (std::isdigit(static_cast<unsigned char>(ch))) {
            digits += ch;
        } else if (ch == '+' && digits.empty() && !plus) {
            plus = true;
        } else if (ch != ' ' && ch != '-' && ch != '(' && ch != ')' && ch != '.' && ch != '\t') {
            return false;
        }
    }
    return !digits.empty();
}

}  // namespace

NormalizedPhone normalize_phone(std::string_view raw, const std::string& default_region) {
    NormalizedPhone out;
    PhoneNumber pn;
    std::string digits;
    bool plus = false;
    bool built = false;
    // Fast path for the common list formats: skips the full parser's regular expressions, which
    // cost three times the validity check itself. Numbers with national prefixes other than
    // NANP's "1" go through the full parser, which knows every country's rules.
    if (plain_digits(raw, digits, plus) && digits.size() <= 17) {
        if (plus) {
            // Country codes are prefix-free: the first 1-3 digits that name one are it.
            int cc = 0;
            std::string national;
            for (std::size_t len = 1; len <= 3 && len < digits.size() && cc == 0; ++len) {
                int candidate = std::stoi(digits.substr(0, len));
                std::string region;
                util().GetRegionCodeForCountryCode(candidate, &region);
                if (region != "ZZ") cc = candidate, national = digits.substr(len);
            }
            if (cc != 0 && !national.empty() && national[0] != '0') {
                pn.set_country_code(cc);
                pn.set_national_number(std::stoull(national));
                built = true;
            }
        } else if (util().GetCountryCodeForRegion(default_region) == 1) {
            if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
            if (digits.size() == 10) {
                pn.set_country_code(1);
                pn.set_national_number(std::stoull(digits));
                built = true;
            }
        }
    }
    if (!built) {
        auto err = util().Parse(std::string(raw), default_region, &pn);
        if (err != PhoneNumberUtil::NO_PARSING_ERROR) {
            switch (err) {
                case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
                    out.error = "unknown country code";
                    break;
                case PhoneNumberUtil::TOO_SHORT_NSN:
                case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
                    out.error = "too short to be a phone number";
                    break;
                case PhoneNumberUtil::TOO_LONG_NSN:
                    out.error = "too long to be a phone number";
                    break;
                default:
                    out.error = "not a phone number";
            }
            return out;
        }
    }
    if (!util().IsValidNumber(pn)) {
        out.error = "not a valid number for its country";
        return out;
    }
    util().Format(pn, PhoneNumberUtil::E164, &out.e164);
    util().GetRegionCodeForNumber(pn, &out.region);
    return out;
}

PhoneNormalizer::PhoneNormalizer(std::string default_region)
    : region_(std::move(default_region)),
      nanp_default_(util().GetCountryCodeForRegion(region_) == 1) {}

NormalizedPhone PhoneNormalizer::normalize(std::string_view raw) {
    std::string digits;
    bool plus = false;
    if (!plain_digits(raw, digits, plus)) return normalize_phone(raw, region_);
    // A NANP number: "+1" and ten digits, or ten (or 1 + ten) digits in a NANP default region.
    if (plus ? (digits.size() == 11 && digits[0] == '1')
             : (nanp_default_ &&
                (digits.size() == 10 || (digits.size() == 11 && digits[0] == '1')))) {
        if (digits.size() == 11) digits.erase(0, 1);
        const auto key = static_cast<std::uint32_t>(std::stoul(digits.substr(0, 6)));
        auto it = exchanges_.find(key);
        if (it == exchanges_.end()) {
            NormalizedPhone full = normalize_phone("+1" + digits, region_);
            it = exchanges_.emplace(key, Exchange{full.ok(), full.region}).first;
        }
        NormalizedPhone out;
        if (!it->second.valid) {
            out.error = "not a valid number for its country";
        } else {
            out.e164 = "+1" + digits;
            out.region = it->second.region;
        }
        return out;
    }
    return normalize_phone(raw, region_);
}

bool is_known_region(const std::string& region) {
    return util().GetCountryCodeForRegion(region) != 0;
}

std::string zones_for_number(const std::string& e164, const std::string& region) {
    if (e164.size() == 12 && e164.compare(0, 2, "+1") == 0) {
        int npa = std::stoi(e164.substr(2, 3));
        if (const char* z = nanp_area_code_zones(npa)) return z;
        return "";
    }
    if (const char* z = single_zone_region(region)) return z;
    return "";
}

}  // namespace outpace
