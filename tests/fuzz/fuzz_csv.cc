// Contact lists: the CSV reader over any bytes, and each record's phone number normalised as the
// importer does. A malformed record must come back with an error, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "campaigns/csv.h"
#include "campaigns/phone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The reader reads files; /dev/shm keeps the round trip in memory.
    static const std::string path = "/dev/shm/outpace-fuzz-csv-" + std::to_string(::getpid());
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    outpace::CsvReader reader(path);
    outpace::CsvRecord rec;
    std::size_t fields = 0;
    while (reader.next(rec)) {
        fields += rec.fields.size();
        if (!rec.fields.empty() && rec.error.empty())
            (void)outpace::normalize_phone(rec.fields[0], "US");
    }
    return fields > 1u << 30;  // keeps the loop from being optimised away; never true
}
