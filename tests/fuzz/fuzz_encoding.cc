// A list's bytes to what a desktop sees: any bytes in any column, read with the encoding the
// importer would pick (or one the first byte names), decoded to UTF-8 field by field, then built
// into the screen pop's JSON. Decoded text must be valid UTF-8, and no JSON encoding may throw,
// whether or not a field decoded (a store written before imports transcoded holds raw bytes).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "campaigns/csv.h"
#include "campaigns/json_text.h"
#include "campaigns/text_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const std::string path = "/dev/shm/outpace-fuzz-encoding-" + std::to_string(::getpid());
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data + 1, 1, size - 1, f);
        std::fclose(f);
    }
    static const char* const names[] = {"auto", "utf-8", "windows-1252", "iso-8859-15", "cp850"};
    std::string encoding = names[data[0] % 5];
    if (encoding == "auto") {
        const auto detected = outpace::detect_list_encoding(path, nullptr);
        if (!detected) return 0;  // UTF-16: refused
        encoding = detected->encoding;
    }
    auto decoder = outpace::TextDecoder::open(encoding, nullptr);
    if (!decoder) std::abort();
    outpace::CsvReader reader(path);
    outpace::CsvRecord rec;
    std::string out;
    while (reader.next(rec)) {
        nlohmann::json raw = nlohmann::json::object(), decoded = nlohmann::json::object();
        for (std::size_t i = 0; i < rec.fields.size(); ++i) {
            raw[std::to_string(i)] = rec.fields[i];
            if (!decoder->to_utf8(rec.fields[i], out)) continue;
            if (!outpace::valid_utf8(out)) std::abort();
            decoded[std::to_string(i)] = out;
        }
        const nlohmann::json offer = {{"type", "offer"}, {"fields", decoded}, {"raw", raw}};
        (void)outpace::json_text(offer);  // throws (and the fuzzer reports it) if it can
        if (!nlohmann::json::parse(outpace::json_text(decoded), nullptr, false).is_object())
            std::abort();
    }
    return 0;
}
