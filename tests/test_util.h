// Small helpers shared by the tests: temporary folders, files, running the CLI.
#pragma once

#include <sodium.h>
#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "campaigns/calling_hours.h"

namespace outpace::test {

// A desktop password's Argon2id hash at libsodium's lowest cost (the engine reads the cost from
// the hash; tests need not spend 60 ms and 64 MiB per check). Empty if libsodium fails.
inline std::string quick_hash(const std::string& password) {
    char out[crypto_pwhash_STRBYTES] = {};
    if (sodium_init() < 0 ||
        crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                              crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return "";
    return out;
}

// A file's whole text; "" when it cannot be read.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fresh folder under /tmp, removed with everything in it when the test ends.
class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "outpace-test-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        if (std::getenv("OUTPACE_KEEP_TEST_FILES")) return;  // for looking at a failure
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
        return file(name);
    }

  private:
    std::string path_;
};

struct RunResult {
    int status = -1;
    std::string out;  // stdout and stderr together
};

inline RunResult run(const std::string& command) {
    RunResult r;
    std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

#ifdef OUTPACE_BINARY  // the test program's: the engine it drives
inline const std::string kOutpace = OUTPACE_BINARY;
// The engine's command line with these arguments.
inline RunResult outpace_cmd(const std::string& args) {
    return run(kOutpace + " " + args);
}
#endif

// Unix seconds of a timestamp (what contacts keep).
inline std::int64_t secs(Timestamp t) {
    return t.time_since_epoch().count();
}

inline Timestamp at(const char* rfc3339) {
    return *parse_timestamp(rfc3339);
}

inline std::string example(const std::string& name) {
    std::string path = OUTPACE_SOURCE_DIR;  // appended, not "+": GCC 12 warns falsely on that
    path += "/deploy/examples/";
    return path += name;
}

}  // namespace outpace::test
