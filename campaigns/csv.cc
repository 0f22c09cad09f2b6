#include "campaigns/csv.h"

namespace outpace {

CsvReader::CsvReader(const std::string& path, char delimiter) : delim_(delimiter), buf_(1 << 20) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_) {
        std::fseek(file_, 0, SEEK_END);
        size_ = static_cast<std::size_t>(std::ftell(file_));
        std::fseek(file_, 0, SEEK_SET);
        // Skip a UTF-8 byte-order mark, which spreadsheet exports like to add.
        if (fill() && len_ >= 3 && buf_[0] == '\xEF' && buf_[1] == '\xBB' && buf_[2] == '\xBF')
            pos_ = 3, consumed_ = 3;
    }
}

CsvReader::~CsvReader() {
    if (file_) std::fclose(file_);
}

bool CsvReader::fill() {
    if (pos_ < len_) return true;
    len_ = std::fread(buf_.data(), 1, buf_.size(), file_);
    pos_ = 0;
    return len_ > 0;
}

int CsvReader::peek() {
    return fill() ? static_cast<unsigned char>(buf_[pos_]) : -1;
}
int CsvReader::get() {
    if (!fill()) return -1;
    ++consumed_;
    return static_cast<unsigned char>(buf_[pos_++]);
}

bool CsvReader::next(CsvRecord& rec) {
    rec.fields.clear();
    rec.error.clear();
    if (!file_) return false;
    // Skip blank lines.
    for (;;) {
        int c = peek();
        if (c == -1) return false;
        if (c == '\n') {
            get(), ++line_;
        } else if (c == '\r') {
            get();
        } else {
            break;
        }
    }
    rec.line = line_;
    std::string field;
    bool quoted = false, was_quoted = false;
    for (;;) {
        int c = get();
        if (quoted) {
            if (c == -1) {
                rec.error =
                    "a quote opened on line " + std::to_string(rec.line) + " is never closed";
                rec.fields.push_back(std::move(field));
                return true;
            }
            if (c == '"') {
                if (peek() == '"') {
                    get();
                    field += '"';
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line_;
                field += static_cast<char>(c);
            }
            continue;
        }
        if (c == delim_) {
            rec.fields.push_back(std::move(field));
            field.clear();
            was_quoted = false;
        } else if (c == '\n' || c == -1) {
            if (c == '\n') ++line_;
            rec.fields.push_back(std::move(field));
            return true;
        } else if (c == '\r') {
            if (peek() != '\n') field += '\r';
        } else if (c == '"' && field.empty() && !was_quoted) {
            quoted = was_quoted = true;
        } else {
            if (c == '"' && rec.error.empty())
                rec.error = "stray quote inside an unquoted field (column " +
                            std::to_string(rec.fields.size() + 1) + ")";
            field += static_cast<char>(c);
        }
    }
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"') out += '"';
        out += ch;
    }
    return out + "\"";
}

}  // namespace outpace
