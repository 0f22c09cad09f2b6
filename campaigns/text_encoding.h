// Lists come from spreadsheets saved in whatever the desk's locale was: UTF-8 (with or without a
// BOM), Windows-1252 from Excel in a Western locale, sometimes another legacy code page. The
// store keeps only UTF-8; this turns a list's bytes into it (ICU's converters) or says it cannot.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct UConverter;  // ICU's

namespace outpace {

bool valid_utf8(std::string_view text);

// Text from a list, a DNC source or an agent's notes, for a terminal: control characters (C0,
// DEL and UTF-8's C1) become '?', so stored bytes cannot move the cursor or retitle the window.
// Other UTF-8 stays as it is.
std::string terminal_text(const std::string& s);

// One source encoding, by any name ICU knows (utf-8, windows-1252, latin1, iso-8859-15, cp850…).
class TextDecoder {
  public:
    // Null, with `error` saying so, for a name ICU does not know.
    static std::unique_ptr<TextDecoder> open(const std::string& encoding, std::string* error);
    ~TextDecoder();
    TextDecoder(const TextDecoder&) = delete;
    TextDecoder& operator=(const TextDecoder&) = delete;

    // `in` as UTF-8 in `out`; false when a byte has no character in this encoding (nothing is
    // guessed or replaced: the row is reported instead).
    bool to_utf8(std::string_view in, std::string& out);
    const std::string& name() const { return name_; }

  private:
    TextDecoder() = default;
    ::UConverter* conv_ = nullptr;
    std::string name_;
    bool utf8_ = false;
};

// What a list file is, from its first bytes and (for "auto") a pass over the whole file:
// a UTF-8 BOM or valid UTF-8 -> "utf-8"; anything else -> "windows-1252" (Excel's Western
// default, a superset of Latin-1's printable characters), with `note` saying where the first
// byte that is not UTF-8 is. UTF-16 (a spreadsheet's "Unicode text") -> nullopt and `error`.
struct DetectedEncoding {
    std::string encoding;
    std::string note;  // empty when the file is plain UTF-8
};
std::optional<DetectedEncoding> detect_list_encoding(const std::string& path, std::string* error);

}  // namespace outpace
