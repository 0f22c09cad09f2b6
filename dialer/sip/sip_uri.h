// SIP URIs as the stack sends them over TLS: which ones travel over TLS, and the form that lets
// Sofia check a server's certificate by name while connecting to an address.
#pragma once

#include <string>

namespace outpace::sip {

// Whether a request to `uri` (sip:...;transport=tls, or sips:) travels over TLS.
bool over_tls(const std::string& uri);

// sip:USER@ADDRESS:PORT;params as sip:USER@NAME:PORT;params;maddr=ADDRESS: Sofia checks the
// certificate against the URI's host (its "canonical" name) and connects to maddr (RFC 3261
// 19.1.1).
std::string with_tls_name(const std::string& uri, const std::string& name);

}  // namespace outpace::sip
