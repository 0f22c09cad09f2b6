// The engine's only window on SIP: outgoing calls over Sofia-SIP's nua, with typed callbacks.
// Nothing else in the project includes a Sofia header. SDP is the caller's business: nua's own
// media handling is off, offers go out as given and answers come back as text.
//
// Threading: everything runs on the libevent loop given at creation; nua's root is pumped from a
// 1 ms timer on that loop (docs/engine.md says why and what it measured).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dialer/sip/sip_uri.h"

struct event_base;

namespace outpace::sip {

using CallId = std::uint64_t;

struct StackConfig {
    std::string host = "127.0.0.1";  // address to bind and to put in Contact/Via
    int port = 5070;
    std::string transport = "udp";  // udp | tcp
    // With udp: TCP on the same port as well (a trunk with `transport: tcp`). Sofia sends a
    // request over a transport only when it has one bound.
    bool tcp_too = false;
    // SIP over TLS as well, on its own port (0: none): to trunks with `transport: tls` and from
    // softphones that register over TLS. Sofia reads its certificate and trusted CAs from a
    // folder: `agent.pem` (the private key, then the certificate chain) and `cafile.pem`.
    struct Tls {
        int port = 0;
        std::string folder;
        // Servers we connect to must show a certificate that chains to a trusted CA and names
        // the host we asked for (a trunk's name; Dial::tls_name). Off only for a lab.
        bool verify = true;
    } tls;
    std::string user_agent = "Outpace/0.1";
    // A request that gets no response at all (not even 100 Trying) for this long ends with a
    // local 408 (RFC 3261's Timers B and F, 64*T1; once anything answered, the INVITE waits on).
    std::chrono::milliseconds response_timeout{32'000};
    // Out-of-dialog requests nobody else answers (OPTIONS pings) get 200 only from the sources
    // this accepts (the trunks and the agents' softphones), 403 from anyone else. INVITEs are
    // refused from everyone: the engine only calls out. Methods other than INVITE, ACK, BYE,
    // CANCEL and OPTIONS (MESSAGE, REFER, SUBSCRIBE, REGISTER...) get 405 from Sofia itself.
    // Null: every source is a stranger.
    std::function<bool(const std::string& ip)> trusted;
    // Softphones that register (docs/agents.md): when set, REGISTER is allowed and each one is
    // answered with what this returns. Null: REGISTER gets 405 like any other unknown method.
    std::function<struct RegisterReply(const struct RegisterRequest&)> on_register;
    // SIP proxies in front of the engine (a Kamailio that agents register through): a REGISTER
    // that comes from one of these (IP and port) is described by the softphone's own Via, below
    // the proxy's, and its binding is reached through the proxy. Null or false: from a
    // softphone itself. A Via is believed only from such a proxy.
    std::function<bool(const std::string& ip, int port)> proxy;
};

// A REGISTER as the registrar needs it. Sofia has checked its syntax; nothing else is trusted.
struct RegisterRequest {
    // Where it came from (RFC 3581: the binding is reached there); through a proxy, where the
    // proxy got it from (its Via's received and rport).
    std::string source_ip;
    int source_port = 0;
    // Through a proxy (StackConfig::proxy): sip:IP:PORT;transport=... of the proxy, where the
    // binding's requests go; and its address. Empty when the softphone talks to us directly.
    std::string proxy, proxy_ip;
    std::string transport;      // "udp" | "tcp" | "tls"
    std::string user;           // the To header's user part: the account it registers
    std::string authorization;  // the Authorization header ("Digest ...") or ""
    struct Contact {
        std::string uri;        // as the softphone wrote it (often a private address)
        std::string at_source;  // the same URI with the source's address and port (NAT)
        int expires = -1;       // its ;expires parameter, -1 when absent
    };
    std::vector<Contact> contacts;
    bool remove_all = false;  // Contact: * (with Expires: 0)
    int expires = -1;         // the Expires header, -1 when absent
    std::string call_id, user_agent;
    std::uint32_t cseq = 0;
};

struct RegisterReply {
    int status = 500;              // sent with Sofia's standard phrase for it
    std::string www_authenticate;  // with 401
    struct Binding {
        std::string uri;
        int expires = 0;
    };
    std::vector<Binding> bindings;  // with 200: every current contact of the account
    int min_expires = 0;            // with 423
    int retry_after = 0;            // with 503
};

// Why a call ended without an answer: its final response, or that none came.
struct Failure {
    int status = 500;
    std::string phrase;
    bool local = false;  // no final response came from the network (timeout or transport error)
    int q850_cause = 0;  // the response's `Reason: Q.850;cause=N`, 0 when it had none
};

// A call's life, as the engine needs it. For one call: any number of progress(), then exactly one
// of failed() (never answered) or answered() followed later by exactly one ended().
class CallObserver {
  public:
    virtual ~CallObserver() = default;
    virtual void on_progress(CallId call, int status) = 0;
    // A provisional response with SDP (183 Session Progress): the network plays early media
    // (ringback, or special information tones and "the number you have dialled..."). Once per
    // call, with the SDP of the first one.
    virtual void on_early_media(CallId, const std::string& /*sdp*/) {}
    virtual void on_answered(CallId call, const std::string& sdp) = 0;
    virtual void on_failed(CallId call, const Failure& failure) = 0;
    virtual void on_ended(CallId call, bool by_remote) = 0;
};

struct Dial {
    std::string to;  // the To header, and the request URI unless `request_uri` is given
    // sip:NUMBER@IP:PORT: an address, never a name (this Sofia's resolver crashes on some
    // failures; names are looked up by the engine). Empty: `to`, which then must be an address.
    std::string request_uri;
    std::string from;            // sip:CALLER@HOST
    std::string sdp;             // the offer
    std::string user, password;  // digest credentials for the trunk, if it asks
    // The address the call's in-dialog requests (BYE) may come from; empty = the request URI's
    // host. A BYE from anywhere else is left unanswered and the call stays up (this Sofia ends
    // the session on any final response to a BYE, a 403 included).
    std::string peer;
    // Where to send the INVITE and the dialog's later requests instead of the request URI's
    // host (sip:IP:PORT;transport=...): a registered softphone behind NAT is reached at the
    // address its REGISTER came from, whatever its Contact says.
    std::string next_hop;
    // A `transport=tls` request to an address: the name the server's certificate must show
    // (the trunk's host name). Empty: the request URI's host.
    std::string tls_name;
};

// The engine registering to a carrier's registrar (a trunk that requires it).
struct TrunkRegistration {
    std::string registrar;       // where REGISTER goes: sip:IP:PORT;transport=udp (an address)
    std::string aor;             // sip:USER@DOMAIN: its To and From
    std::string user, password;  // digest credentials
    std::chrono::seconds expires{600};
    // Over TLS: the name the registrar's certificate must show (as Dial::tls_name).
    std::string tls_name;
};
using RegistrationId = std::uint64_t;
// Each final answer to the registration's REGISTERs, its refreshes included: 2xx with the time
// the registrar granted, or the failure (401/403 the credentials could not answer, 408 silence,
// 503 ...), after which the registration is over (no refresh, no more reports).
using RegistrationReport = std::function<void(int status, std::chrono::seconds granted)>;

class SipStack {
  public:
    // Binds and starts. Returns null and sets `error` when it cannot (port in use, bad address).
    static std::unique_ptr<SipStack> create(event_base* loop, const StackConfig& config,
                                            CallObserver& observer, std::string* error);
    virtual ~SipStack() = default;

    // 0 when it cannot be sent, among others an offer carrying SRTP keys (a=crypto) to anything
    // but TLS: keys are never sent in clear.
    virtual CallId invite(const Dial& dial) = 0;
    // Gives up on a call not answered yet (CANCEL); it ends in on_failed (487 or the answer
    // that crossed the CANCEL, then hung up). Unknown or finished ids are ignored.
    virtual void cancel(CallId call) = 0;
    // Hangs up an answered call (BYE); ends in on_ended(by_remote = false).
    virtual void hangup(CallId call) = 0;
    virtual std::size_t calls() const = 0;
    // An out-of-dialog OPTIONS to `uri` (a registered softphone behind NAT: keeps its router's
    // mapping open and tells whether it is still there). `done` gets the final status (408
    // when nothing answered). Sent to the URI's host and port as written.
    // `next_hop` (sip:IP:PORT;transport=...): where the OPTIONS goes instead of the URI's host
    // (a proxy that the softphone registered through); empty: the URI's host.
    virtual void ping(const std::string& uri, const std::string& next_hop,
                      std::function<void(int status)> done) = 0;
    // Registers as `r` says and keeps the registration refreshed before it expires (nua's own
    // refresh), reporting every final answer. 0 when nothing could be sent.
    virtual RegistrationId register_at(const TrunkRegistration& r, RegistrationReport report) = 0;
    // Ends a registration (REGISTER with Expires: 0 when it is in place); no more reports.
    virtual void unregister(RegistrationId id) = 0;
    // In-dialog requests refused because they came from another address than the dialog's peer.
    virtual std::uint64_t forged_requests() const = 0;
    // The addresses (IPv4 literals) whose requests reach the SIP stack at all: the trunks and the
    // logged-in agents' softphones. Requests from anyone else are dropped by the kernel (a socket
    // filter on the UDP socket) before Sofia sees them: a flood of REGISTERs from a stranger
    // used to cost a Sofia transaction (~10 KB, kept 32 s) each. Responses are let through
    // (they match no transaction unless we sent the request). Only for an IPv4 UDP socket;
    // false when no filter could be attached (then every source reaches Sofia, as before).
    // `networks`: sources whose requests are let through as well (CIDR "a.b.c.d/n"; where
    // softphones may register from). `banned`: sources dropped before anything else (locked
    // out for bad credentials).
    virtual bool set_peers(const std::vector<std::string>& ips,
                           const std::vector<std::string>& networks = {},
                           const std::vector<std::string>& banned = {}) = 0;
    // Ends every call and stops the stack; returns when nua has shut down (bounded).
    virtual void shutdown(std::chrono::milliseconds limit) = 0;
};

}  // namespace outpace::sip
