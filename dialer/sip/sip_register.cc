// A REGISTER described for the registrar (split from sip_stack.cc, which answers it).
#include "dialer/sip/sip_register.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>

#include "dialer/sip/sofia_home.h"

namespace outpace::sip {

bool describe_register(sip_t const* sip, msg_t* msg, bool via_proxy, RegisterRequest& r) {
    Home home;
    // The transport it came over: UDP by the socket, whatever its Via says; over a stream,
    // its Via says TCP or TLS (a TLS word over plain TCP only makes the engine call back
    // over a TLS connection of its own, which such a phone cannot take).
    r.transport = "udp";
    su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
    if (ai && ai->ai_protocol != IPPROTO_UDP && sip->sip_via && sip->sip_via->v_protocol)
        r.transport = su_casematch(sip->sip_via->v_protocol, "SIP/2.0/TLS")   ? "tls"
                      : su_casematch(sip->sip_via->v_protocol, "SIP/2.0/TCP") ? "tcp"
                                                                              : "udp";
    if (via_proxy) {
        // Relayed by our proxy: the softphone is whom the proxy's Via (the second; the
        // first is the proxy's own) says it got the request from, RFC 3261's received and
        // RFC 3581's rport, else the Via's own address, which must be an IP literal.
        const std::string host =
            r.source_ip.find(':') != std::string::npos ? "[" + r.source_ip + "]" : r.source_ip;
        r.proxy = "sip:" + host + ":" + std::to_string(r.source_port) + ";transport=" + r.transport;
        r.proxy_ip = r.source_ip;
        const sip_via_t* v = sip->sip_via ? sip->sip_via->v_next : nullptr;
        const char* ip = v ? (v->v_received ? v->v_received : v->v_host) : nullptr;
        const char* port = v ? (v->v_rport && *v->v_rport ? v->v_rport : v->v_port) : nullptr;
        std::string bare = ip ? ip : "";
        if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
            bare = bare.substr(1, bare.size() - 2);
        unsigned char buf[16];
        const int n = port ? std::atoi(port) : 5060;
        if ((::inet_pton(AF_INET, bare.c_str(), buf) != 1 &&
             ::inet_pton(AF_INET6, bare.c_str(), buf) != 1) ||
            n <= 0 || n >= 65536)
            return false;
        r.source_ip = bare;
        r.source_port = n;
    }
    if (sip->sip_to->a_url->url_user) r.user = sip->sip_to->a_url->url_user;
    for (const sip_authorization_t* au = sip->sip_authorization; au; au = au->au_next)
        if (au->au_scheme && su_casematch(au->au_scheme, "Digest")) {
            // From its parsed parameters, as they came (re-encoding the header with
            // sip_header_as_string lost baresip's last one, nc).
            r.authorization = "Digest";
            for (const msg_param_t* p = au->au_params; p && *p; ++p)
                r.authorization += std::string(p == au->au_params ? " " : ", ") + *p;
            break;
        }
    const std::string port = std::to_string(r.source_port);
    const std::string host =
        r.source_ip.find(':') != std::string::npos ? "[" + r.source_ip + "]" : r.source_ip;
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
        if (m->m_url->url_type == url_any) {
            r.remove_all = true;
            continue;
        }
        RegisterRequest::Contact c;
        if (const char* u = url_as_string(home.home, m->m_url)) c.uri = u;
        if (m->m_expires) c.expires = std::atoi(m->m_expires);
        if (url_t* at = url_hdup(home.home, m->m_url)) {
            at->url_host = host.c_str();
            at->url_port = port.c_str();
            if (const char* u = url_as_string(home.home, at)) c.at_source = u;
        }
        if (!c.uri.empty() && !c.at_source.empty()) r.contacts.push_back(std::move(c));
    }
    if (sip->sip_expires) r.expires = static_cast<int>(sip->sip_expires->ex_delta);
    if (sip->sip_call_id->i_id) r.call_id = sip->sip_call_id->i_id;
    r.cseq = sip->sip_cseq->cs_seq;
    if (sip->sip_user_agent && sip->sip_user_agent->g_string)
        r.user_agent = sip->sip_user_agent->g_string;
    return true;
}

}  // namespace outpace::sip
