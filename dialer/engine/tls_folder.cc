#include "dialer/engine/tls_folder.h"

#include <stdlib.h>

#include <filesystem>

namespace outpace {

TlsFolder::TlsFolder(const std::string& certificate, const std::string& ca_file,
                     std::string* error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto tmp = fs::temp_directory_path(ec);  // $TMPDIR, else /tmp
    std::string pattern = ((ec ? fs::path("/tmp") : tmp) / "outpace-tls-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
        *error = "cannot make a private folder for the TLS files in " +
                 fs::path(pattern).parent_path().string();
        return;
    }
    path_ = pattern;
    ec.clear();
    const auto cert = fs::absolute(certificate, ec);
    if (!ec) fs::create_symlink(cert, path_ + "/agent.pem", ec);
    const auto cas = ec ? fs::path() : fs::absolute(ca_file, ec);
    if (!ec) fs::create_symlink(cas, path_ + "/cafile.pem", ec);
    if (ec) *error = "cannot link the TLS files into " + path_ + ": " + ec.message();
}

TlsFolder::~TlsFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace outpace
