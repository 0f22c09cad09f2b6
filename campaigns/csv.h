// A CSV reader for contact lists (RFC 4180: quoted fields, doubled quotes, line breaks inside
// quotes, CRLF or LF), reading a file in blocks and reporting each record's first line number.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace outpace {

struct CsvRecord {
    std::vector<std::string> fields;
    std::size_t line = 0;  // 1-based line where the record starts
    std::string error;     // set when the record is malformed (e.g. a quote never closed)
};

class CsvReader {
  public:
    explicit CsvReader(const std::string& path, char delimiter = ',');
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    bool is_open() const { return file_ != nullptr; }
    // Reads the next record; false at end of file. Blank lines are skipped.
    bool next(CsvRecord& rec);
    std::size_t bytes_read() const { return consumed_; }
    std::size_t file_size() const { return size_; }

  private:
    bool fill();
    int peek();
    int get();

    std::FILE* file_ = nullptr;
    char delim_;
    std::vector<char> buf_;
    std::size_t pos_ = 0, len_ = 0, consumed_ = 0, size_ = 0, line_ = 1;
};

// A field as written to CSV (RFC 4180): quoted when it holds a delimiter, a quote or a line
// break; quotes doubled.
std::string csv_field(const std::string& s);

}  // namespace outpace
