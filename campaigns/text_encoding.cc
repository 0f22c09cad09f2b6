#include "campaigns/text_encoding.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ustring.h>

#include <cstdio>
#include <vector>

namespace outpace {

std::string terminal_text(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            out += '?';
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            out += '?';
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

bool valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int n = 0;
        unsigned min = 0;
        unsigned cp = 0;
        if ((c & 0xE0) == 0xC0)
            n = 1, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            n = 2, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            n = 3, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (end - p <= n) return false;
        for (int i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += n + 1;
    }
    return true;
}

std::unique_ptr<TextDecoder> TextDecoder::open(const std::string& encoding, std::string* error) {
    std::unique_ptr<TextDecoder> d(new TextDecoder());
    UErrorCode status = U_ZERO_ERROR;
    d->conv_ = ucnv_open(encoding.c_str(), &status);
    if (U_FAILURE(status) || !d->conv_) {
        if (error)
            *error = "unknown encoding '" + encoding +
                     "' (try utf-8, windows-1252, iso-8859-1, iso-8859-15, cp850)";
        return nullptr;
    }
    // Stop at the first byte with no character: a row we cannot read is reported, not mangled.
    ucnv_setToUCallBack(d->conv_, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
    const char* canonical = ucnv_getName(d->conv_, &status);
    d->name_ = encoding;
    d->utf8_ = canonical && std::string_view(canonical) == "UTF-8";
    return d;
}

TextDecoder::~TextDecoder() {
    if (conv_) ucnv_close(conv_);
}

bool TextDecoder::to_utf8(std::string_view in, std::string& out) {
    if (utf8_) {
        if (!valid_utf8(in)) return false;
        out.assign(in);
        return true;
    }
    out.clear();
    bool ascii = true;
    for (char c : in)
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    if (ascii) {  // every encoding offered here keeps ASCII as it is
        out.assign(in);
        return true;
    }
    ucnv_reset(conv_);
    std::vector<UChar> wide(in.size() + 1);
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = ucnv_toUChars(conv_, wide.data(), static_cast<int32_t>(wide.size()),
                                    in.data(), static_cast<int32_t>(in.size()), &status);
    if (U_FAILURE(status)) return false;
    // ICU maps bytes a code page leaves undefined (0x81 in windows-1252) to C1 controls, which
    // no list's text holds: such a row is not of this encoding.
    for (int32_t i = 0; i < n; ++i)
        if (wide[static_cast<std::size_t>(i)] >= 0x80 && wide[static_cast<std::size_t>(i)] <= 0x9F)
            return false;
    out.resize(static_cast<std::size_t>(n) * 3);  // 3 bytes per UTF-16 unit at the most
    int32_t len = 0;
    u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len, wide.data(), n, &status);
    if (U_FAILURE(status)) return false;  // a lone surrogate
    out.resize(static_cast<std::size_t>(len));
    return true;
}

std::optional<DetectedEncoding> detect_list_encoding(const std::string& path, std::string* error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (error) *error = "cannot read " + path;
        return std::nullopt;
    }
    std::vector<char> buf(1 << 20);
    std::string carry;  // an incomplete UTF-8 sequence at a block's end, kept for the next
    std::size_t line = 1;
    bool first = true;
    DetectedEncoding result{"utf-8", ""};
    while (true) {
        const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
        if (n == 0) break;
        std::string_view block(buf.data(), n);
        if (first) {
            first = false;
            if (block.size() >= 2 && ((block[0] == '\xFF' && block[1] == '\xFE') ||
                                      (block[0] == '\xFE' && block[1] == '\xFF'))) {
                std::fclose(f);
                if (error)
                    *error = path +
                             " is UTF-16 (a spreadsheet's \"Unicode text\"): save it as \"CSV "
                             "UTF-8\", or as CSV and import with --encoding windows-1252";
                return std::nullopt;
            }
        }
        std::string text = carry + std::string(block);
        carry.clear();
        // Keep back a possibly incomplete last sequence (up to 3 bytes after a lead byte).
        std::size_t cut = text.size();
        for (std::size_t back = 1; back <= 3 && back <= text.size(); ++back) {
            const auto c = static_cast<unsigned char>(text[text.size() - back]);
            if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
            if (c >= 0xC0) cut = text.size() - back;
            break;
        }
        carry = text.substr(cut);
        text.resize(cut);
        // Line by line, so the note can say where.
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t nl = text.find('\n', start);
            const std::size_t stop = nl == std::string::npos ? text.size() : nl;
            if (!valid_utf8(std::string_view(text).substr(start, stop - start))) {
                std::fclose(f);
                result.encoding = "windows-1252";
                result.note = "line " + std::to_string(line) +
                              " is not UTF-8: the list is read as windows-1252 (pass --encoding "
                              "to choose another)";
                return result;
            }
            if (nl == std::string::npos) break;
            ++line;
            start = nl + 1;
        }
    }
    std::fclose(f);
    if (!carry.empty() && !valid_utf8(carry)) {
        result.encoding = "windows-1252";
        result.note = "line " + std::to_string(line) +
                      " is not UTF-8: the list is read as windows-1252 (pass --encoding to choose "
                      "another)";
    }
    return result;
}

}  // namespace outpace
