#include "dialer/sip/sip_uri.h"

#include <strings.h>

#include <cctype>

namespace outpace::sip {

bool over_tls(const std::string& uri) {
    if (strncasecmp(uri.c_str(), "sips:", 5) == 0) return true;
    const auto params = uri.find(';');
    if (params == std::string::npos) return false;
    std::string p = uri.substr(params);
    for (auto& ch : p) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto at = p.find(";transport=tls");
    return at != std::string::npos &&
           (at + 14 == p.size() || p[at + 14] == ';' || p[at + 14] == '>' || p[at + 14] == '?');
}

std::string with_tls_name(const std::string& uri, const std::string& name) {
    const auto at = uri.find('@');
    const auto host_at = at == std::string::npos ? uri.find(':') + 1 : at + 1;
    std::size_t host_end;
    if (host_at < uri.size() && uri[host_at] == '[')
        host_end = uri.find(']', host_at) + 1;
    else
        host_end = uri.find_first_of(":;?>", host_at);
    if (host_end == std::string::npos || host_end == 0) host_end = uri.size();
    const std::string address = uri.substr(host_at, host_end - host_at);
    return uri.substr(0, host_at) + name + uri.substr(host_end) + ";maddr=" + address;
}

}  // namespace outpace::sip
