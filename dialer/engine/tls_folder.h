// The folder Sofia-SIP reads its TLS files from, made for the moment the SIP stack binds.
#pragma once

#include <string>

namespace outpace {

// A private folder (0700) holding links named as Sofia wants them to the configured TLS files:
// agent.pem (the key and certificate chain) and cafile.pem. No key is copied. Removed with it.
class TlsFolder {
  public:
    // Sets `error` when the folder or a link cannot be made.
    TlsFolder(const std::string& certificate, const std::string& ca_file, std::string* error);
    ~TlsFolder();
    TlsFolder(const TlsFolder&) = delete;
    TlsFolder& operator=(const TlsFolder&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace outpace
