// A REGISTER as the registrar sees it, from Sofia's parsed request: the part of answering one
// that reads the request (sip_stack.cc answers it).
#pragma once

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "dialer/sip/sip_stack.h"

namespace outpace::sip {

// Fills `r` (whose source_ip and source_port the caller has set: where the request came from)
// from the request `sip` and its message `msg`: the transport, the user, the Digest
// authorization as it came, each Contact (as written and as seen from the source), expiry,
// Call-ID, CSeq and User-Agent. With `via_proxy` (it came from our proxy), the softphone is whom
// the proxy's Via says it got the request from, RFC 3261's received and RFC 3581's rport, else
// the Via's own address; false when that is not an IP literal and a port (answer 400).
bool describe_register(sip_t const* sip, msg_t* msg, bool via_proxy, RegisterRequest& r);

}  // namespace outpace::sip
