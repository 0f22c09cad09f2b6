#include "dialer/sip/sip_stack.h"
#include "dialer/sip/sip_register.h"
#include "dialer/sip/sip_uri.h"

#include "dialer/loop_event.h"
#include "dialer/sip/sofia_home.h"
#include "dialer/thread_priority.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <cstdlib>

#include <memory>
#include <mutex>
#include <unordered_map>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

// Sofia's per-module logs (exported by the library, not declared in its public headers).
extern "C" {
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t nua_log[];
}

namespace outpace::sip {

namespace {

// Owners for Sofia's handles: each is destroyed exactly once, by whoever holds it last.
struct NuaHandleFree {
    void operator()(nua_handle_t* h) const { nua_handle_destroy(h); }
};
using NuaHandle = std::unique_ptr<nua_handle_t, NuaHandleFree>;
struct NuaFree {
    void operator()(nua_t* n) const { nua_destroy(n); }
};
struct RootFree {
    void operator()(su_root_t* r) const { su_root_destroy(r); }
};

// The cause of the first `Reason: Q.850;cause=N` header (RFC 3326), which carriers add to
// final responses from the telephone network: 0 when there is none or it is not a cause (1-127).
int q850_cause(const sip_t* sip) {
    for (const sip_reason_t* r = sip ? sip->sip_reason : nullptr; r; r = r->re_next) {
        if (!r->re_protocol || strcasecmp(r->re_protocol, "Q.850") != 0 || !r->re_cause) continue;
        int cause = 0;
        const char* p = r->re_cause;
        for (; *p >= '0' && *p <= '9' && cause < 1000; ++p) cause = cause * 10 + (*p - '0');
        return *p == '\0' && cause >= 1 && cause <= 127 ? cause : 0;
    }
    return 0;
}

struct Call {
    CallId id = 0;
    NuaHandle nh;  // destroyed with the call (before the nua that made it)
    std::string user, password;
    std::string peer;  // the IP in-dialog requests may come from
    int auth_tries = 0;
    bool answered = false, done = false, cancelled = false, bye_sent = false;
    bool early_media = false;  // its first 18x with SDP was reported
};

// A registration to a carrier's registrar: its handle keeps nua's refreshes going.
struct Registration {
    RegistrationId id = 0;
    NuaHandle nh;
    std::string user, password;
    RegistrationReport report;  // empty once unregistered
    std::chrono::seconds asked{0};
    int auth_tries = 0;  // challenges answered since the last success
};

class NuaStack final : public SipStack {
  public:
    NuaStack(event_base* loop, CallObserver& observer) : loop_(loop), observer_(observer) {}

    bool start(const StackConfig& c, std::string* error) {
        static std::once_flag once;
        std::call_once(once, [] {
            su_init();
            // Quiet unless asked with Sofia's own variables (NTA_DEBUG, TPORT_DEBUG, NUA_DEBUG):
            // the engine reports what matters (failed calls, bind errors) itself.
            for (su_log_t* log : {su_log_default, nta_log, tport_log, nua_log})
                su_log_soft_set_level(log, 0);
        });
        root_.reset(su_root_create(nullptr));
        if (!root_) return fail(error, "cannot create the SIP event root");
        const std::string url = "sip:" + c.host + ":" + std::to_string(c.port) +
                                (c.transport == "tcp" ? ";transport=tcp"
                                 : c.tcp_too          ? ""  // no parameter: UDP and TCP
                                                      : ";transport=udp");
        const std::string sips_url = "sips:" + c.host + ":" + std::to_string(c.tls.port);
        const auto threads_before = thread_ids();
        nua_.reset(nua_create(
            root_.get(), &NuaStack::event, this, NUTAG_URL(url.c_str()),
            TAG_IF(c.tls.port, NUTAG_SIPS_URL(sips_url.c_str())),
            TAG_IF(c.tls.port, TPTAG_CERTIFICATE(c.tls.folder.c_str())),
            // 0: any version OpenSSL allows (this Sofia's 1 would be TLS 1.0 only, which
            // OpenSSL 3 refuses); the system's policy (TLS 1.2 and up on Debian 12) applies.
            TAG_IF(c.tls.port, TPTAG_TLS_VERSION(0)),
            // Outgoing: the chain and the name. Incoming (softphones): no client certificate.
            TAG_IF(c.tls.port, TPTAG_TLS_VERIFY_POLICY(c.tls.verify ? TPTLS_VERIFY_SUBJECTS_OUT
                                                                    : TPTLS_VERIFY_NONE)),
            TAG_IF(c.tls.port, TPTAG_TLS_VERIFY_DEPTH(8)),
            NUTAG_MEDIA_ENABLE(0),   // the engine writes and reads SDP itself
            NUTAG_SESSION_TIMER(0),  // on by default in this version
            NUTAG_INVITE_TIMER(90),  // the engine CANCELs long before
            NUTAG_AUTOACK(1),        //
            // A 5xx with Retry-After is the engine's to act on (the next trunk, a backoff): nua
            // would otherwise send the same INVITE to the same trunk again after the delay.
            NUTAG_MAX_RETRY_AFTER(0),
            // Answered here, by source: a keep-alive ping from a peer, a BYE from
            // the dialog's own peer (a forged one must not end a customer's call).
            NUTAG_APPL_METHOD("OPTIONS"), NUTAG_APPL_METHOD("BYE"),
            // Nothing else: a stranger's MESSAGE got 200 and a REFER 202 plus
            // NOTIFYs to any Contact it named (an amplifier). Now 405. REGISTER
            // only when the engine is a registrar for its agents.
            TAG_IF(c.on_register, NUTAG_APPL_METHOD("REGISTER")),
            SIPTAG_ALLOW_STR(c.on_register ? "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"
                                           : "INVITE, ACK, BYE, CANCEL, OPTIONS"),
            NTATAG_UDP_MTU(65535),  // else INVITEs over 1,300 bytes go TCP
            NTATAG_SIP_T1X64(static_cast<unsigned>(c.response_timeout.count())),
            SIPTAG_USER_AGENT_STR(c.user_agent.c_str()), TAG_END()));
        // nua_create started the SIP stack's thread: it yields to the loop's audio.
        for (long tid : thread_ids())
            if (!threads_before.count(tid)) lower_thread(tid, 3, "outpace-sip");
        if (!nua_)
            return fail(
                error, "cannot listen for SIP on " + c.host + ":" + std::to_string(c.port) + " (" +
                           c.transport + ")" +
                           (c.tls.port ? " and " + std::to_string(c.tls.port) +
                                             " (tls, certificate and key from " + c.tls.folder + ")"
                                       : "") +
                           ": address in use or not local" +
                           (c.tls.port ? ", or the certificate or its key cannot be read" : ""));
        trusted_ = c.trusted;
        on_register_ = c.on_register;
        proxy_ = c.proxy;
        udp_fds_ = udp_sockets(c.port);
        for (int fd : udp_fds_) {
            // At thousands of calls per second a burst of responses outgrows the kernel's
            // default 208 KiB receive buffer while the loop is busy, and the kernel drops SIP
            // messages (seen in /proc/net/udp). Ask for 4 MiB each way (capped at rmem_max).
            const int size = 4 << 20;
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        }
        pump_ = LoopEvent(loop_, -1, EV_PERSIST, &NuaStack::pump, this);
        if (!pump_.add(std::chrono::microseconds(1000)))
            return fail(error, "cannot arm the SIP stack's timer on the event loop");
        return true;
    }

    ~NuaStack() override { shutdown(std::chrono::milliseconds(2000)); }

    CallId invite(const Dial& d) override {
        // SRTP keys go only where TLS carries them: the hop the INVITE is sent to.
        const std::string& hop = !d.next_hop.empty()      ? d.next_hop
                                 : !d.request_uri.empty() ? d.request_uri
                                                          : d.to;
        if (d.sdp.find("a=crypto:") != std::string::npos && !over_tls(hop)) {
            return 0;
        }
        // A server's certificate is checked against the name the request is addressed to
        // (Sofia's "canonical" name), while the connection goes to the address we chose:
        // maddr (RFC 3261 19.1.1) carries the address, the URI's host the name.
        std::string request_uri = d.request_uri;
        if (!d.tls_name.empty() && !request_uri.empty() && over_tls(request_uri))
            request_uri = with_tls_name(request_uri, d.tls_name);
        auto call = std::make_unique<Call>();
        call->id = next_id_++;
        call->user = d.user;
        call->password = d.password;
        call->peer =
            d.peer.empty() ? uri_host(d.request_uri.empty() ? d.to : d.request_uri) : d.peer;
        call->nh.reset(nua_handle(
            nua_.get(), reinterpret_cast<nua_hmagic_t*>(call.get()), SIPTAG_TO_STR(d.to.c_str()),
            SIPTAG_FROM_STR(d.from.c_str()),
            TAG_IF(!d.next_hop.empty(), NUTAG_PROXY(URL_STRING_MAKE(d.next_hop.c_str()))),
            TAG_END()));
        if (!call->nh) return 0;
        nua_invite(call->nh.get(),
                   TAG_IF(!request_uri.empty(), NUTAG_URL(URL_STRING_MAKE(request_uri.c_str()))),
                   TAG_IF(!d.next_hop.empty(), NUTAG_PROXY(URL_STRING_MAKE(d.next_hop.c_str()))),
                   SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(d.sdp.c_str()),
                   TAG_END());
        const CallId id = call->id;
        calls_.emplace(id, std::move(call));
        return id;
    }

    void cancel(CallId id) override {
        Call* c = find(id);
        if (!c || c->answered || c->done || c->cancelled) return;
        c->cancelled = true;
        nua_cancel(c->nh.get(), TAG_END());
    }

    void hangup(CallId id) override {
        Call* c = find(id);
        if (!c || !c->answered || c->done || c->bye_sent) return;
        c->bye_sent = true;
        nua_bye(c->nh.get(), TAG_END());
    }

    std::size_t calls() const override { return calls_.size(); }

    void ping(const std::string& uri, const std::string& next_hop,
              std::function<void(int)> done) override {
        nua_handle_t* nh = nua_handle(nua_.get(), nullptr, SIPTAG_TO_STR(uri.c_str()), TAG_END());
        if (!nh) {
            if (done) done(500);
            return;
        }
        pings_.emplace(nh, std::move(done));
        nua_options(nh, NUTAG_URL(uri.c_str()),
                    TAG_IF(!next_hop.empty(), NUTAG_PROXY(URL_STRING_MAKE(next_hop.c_str()))),
                    TAG_END());
    }
    std::uint64_t forged_requests() const override { return forged_; }

    RegistrationId register_at(const TrunkRegistration& r, RegistrationReport report) override {
        NuaHandle nh(nua_handle(nua_.get(), nullptr, SIPTAG_TO_STR(r.aor.c_str()),
                                SIPTAG_FROM_STR(r.aor.c_str()), TAG_END()));
        if (!nh) return 0;
        auto g = std::make_unique<Registration>();
        g->id = next_registration_++;
        g->user = r.user;
        g->password = r.password;
        g->report = std::move(report);
        g->asked = r.expires;
        const std::string expires = std::to_string(r.expires.count());
        const std::string registrar = !r.tls_name.empty() && over_tls(r.registrar)
                                          ? with_tls_name(r.registrar, r.tls_name)
                                          : r.registrar;
        nua_register(nh.get(), NUTAG_REGISTRAR(URL_STRING_MAKE(registrar.c_str())),
                     TAG_IF(!r.user.empty(), NUTAG_M_USERNAME(r.user.c_str())),
                     // Plain RFC 3261 registration: none of nua's outbound (RFC 5626) probing,
                     // NAT rewriting or keep-alive OPTIONS towards the carrier.
                     NUTAG_OUTBOUND("no-natify no-validate no-options-keepalive no-gruuize"),
                     SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
        const RegistrationId id = g->id;
        g->nh = std::move(nh);
        registrations_.emplace(g->nh.get(), std::move(g));
        return id;
    }

    void unregister(RegistrationId id) override {
        for (auto& [nh, g] : registrations_)
            if (g->id == id && g->report) {
                g->report = nullptr;
                nua_unregister(nh, TAG_END());  // answered in nua_r_unregister: then destroyed
                return;
            }
    }

    void shutdown(std::chrono::milliseconds limit) override {
        if (!nua_) {
            root_.reset();  // start() failed after creating the root
            return;
        }
        pump_.remove();
        // nua_shutdown ends the registrations itself (Expires: 0); nobody hears of it.
        for (auto& [nh, g] : registrations_) g->report = nullptr;
        nua_shutdown(nua_.get());
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!shut_down_ && std::chrono::steady_clock::now() < end) su_root_step(root_.get(), 10);
        // Sessions still here were ended by nua_shutdown; nua_destroy frees their handles.
        for (auto& [id, c] : calls_) (void)c->nh.release();
        calls_.clear();
        pings_.clear();  // their handles went with nua_shutdown too
        nua_.reset();
        root_.reset();
    }

  private:
    bool set_peers(const std::vector<std::string>& ips, const std::vector<std::string>& networks,
                   const std::vector<std::string>& banned) override {
        // Classic BPF over the datagram: [SKF_NET_OFF + 12] is the IPv4 source, [8] the first
        // byte of the UDP payload ('S' of "SIP/2.0": a response).
        auto v4 = [](const std::string& ip, in_addr_t& out) {
            in_addr a{};
            if (::inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
            out = ntohl(a.s_addr);
            return true;
        };
        std::vector<in_addr_t> addrs, drops;
        std::vector<std::pair<in_addr_t, in_addr_t>> nets;  // (network, mask)
        for (const auto& ip : ips)
            if (in_addr_t a; v4(ip, a)) addrs.push_back(a);
        for (const auto& ip : banned)
            if (in_addr_t a; v4(ip, a)) drops.push_back(a);
        for (const auto& cidr : networks) {
            const auto slash = cidr.find('/');
            const int prefix =
                slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
            in_addr_t a = 0;
            if (prefix < 0 || prefix > 32 || !v4(cidr.substr(0, slash), a)) continue;
            const in_addr_t mask = prefix == 0 ? 0 : ~in_addr_t{0} << (32 - prefix);
            nets.emplace_back(a & mask, mask);
        }
        // A filter has at most 4096 instructions.
        if (2 * (addrs.size() + drops.size()) + 4 * nets.size() > 4000) return false;
        const sock_filter src =
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(SKF_NET_OFF + 12));
        std::vector<sock_filter> prog;
        // ld src; each banned source: drop; each peer: accept; each network: accept; then
        // ldb [8]; jeq 'S' ? accept : drop.
        prog.push_back(src);
        for (const auto addr : drops) {
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, addr, 0, 1));
            prog.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
        }
        for (const auto addr : addrs) {
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, addr, 0, 1));
            prog.push_back(BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF));
        }
        for (const auto& [net, mask] : nets) {
            prog.push_back(src);
            prog.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
            prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, net, 0, 1));
            prog.push_back(BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF));
        }
        prog.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8));
        prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'S', 0, 1));
        prog.push_back(BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF));
        prog.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
        sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
        bool attached = false;
        for (int fd : udp_fds_) {
            sockaddr_storage a{};
            socklen_t len = sizeof a;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
                a.ss_family != AF_INET)
                continue;
            attached |= ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0;
        }
        return attached;
    }

    // Sofia's UDP sockets bound to `port` (this Sofia version exposes neither the sockets nor
    // tags for their buffers): found among the process's descriptors.
    static std::vector<int> udp_sockets(int port) {
        std::vector<int> out;
        DIR* dir = ::opendir("/proc/self/fd");
        if (!dir) return out;
        while (dirent* e = ::readdir(dir)) {
            const int fd = std::atoi(e->d_name);
            if (fd <= 2) continue;
            sockaddr_storage a{};
            socklen_t len = sizeof a;
            int type = 0;
            socklen_t tlen = sizeof type;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) continue;
            if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_DGRAM)
                continue;
            const int bound =
                a.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port)
                : a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                          : -1;
            if (bound == port) out.push_back(fd);
        }
        ::closedir(dir);
        return out;
    }

    // Two IP addresses as text, the same address (IPv4 also as ::ffff:a.b.c.d).
    static bool same_address(const std::string& a, const std::string& b) {
        auto norm = [](const std::string& s) {
            unsigned char buf[16];
            char out[INET6_ADDRSTRLEN] = {};
            if (::inet_pton(AF_INET, s.c_str(), buf) == 1)
                return std::string(::inet_ntop(AF_INET, buf, out, sizeof out));
            if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) {
                const auto* a6 = reinterpret_cast<const in6_addr*>(buf);
                if (IN6_IS_ADDR_V4MAPPED(a6))
                    return std::string(::inet_ntop(AF_INET, buf + 12, out, sizeof out));
                return std::string(::inet_ntop(AF_INET6, buf, out, sizeof out));
            }
            return s;
        };
        return !a.empty() && norm(a) == norm(b);
    }

    // The port a request came from; 0 when unknown.
    static int source_port(msg_t* msg) {
        su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
        if (!ai || !ai->ai_addr) return 0;
        if (ai->ai_family == AF_INET6)
            return ntohs(reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_port);
        return ntohs(reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_port);
    }

    // The IP address a request came from, as text; "" when unknown.
    static std::string source(msg_t* msg) {
        su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
        if (!ai || !ai->ai_addr) return "";
        char buf[INET6_ADDRSTRLEN] = {};
        if (ai->ai_family == AF_INET6) {
            const auto* a6 = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
            // An IPv4 peer reaching an IPv6 socket (::ffff:a.b.c.d): compared as IPv4.
            if (IN6_IS_ADDR_V4MAPPED(a6))
                return ::inet_ntop(AF_INET, a6->s6_addr + 12, buf, sizeof buf) ? buf : "";
            return ::inet_ntop(AF_INET6, a6, buf, sizeof buf) ? buf : "";
        }
        const auto* a4 = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
        return ::inet_ntop(AF_INET, a4, buf, sizeof buf) ? buf : "";
    }

    // The host of sip:USER@HOST[:PORT][;...] (an IPv6 literal without its brackets).
    static std::string uri_host(const std::string& uri) {
        const auto at = uri.find('@');
        std::string rest = uri.substr(at == std::string::npos ? uri.find(':') + 1 : at + 1);
        if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
        return rest.substr(0, rest.find_first_of(":;?>"));
    }

    static bool fail(std::string* error, const std::string& why) {
        if (error) *error = why;
        return false;
    }

    Call* find(CallId id) {
        auto it = calls_.find(id);
        return it == calls_.end() ? nullptr : it->second.get();
    }

    static void pump(evutil_socket_t, short, void* self) {
        auto* s = static_cast<NuaStack*>(self);
        for (int i = 0; i < 4 && s->nua_; ++i) su_root_step(s->root_.get(), 0);
    }

    static void event(nua_event_t e, int status, char const* phrase, nua_t*, nua_magic_t* magic,
                      nua_handle_t* nh, nua_hmagic_t* hmagic, sip_t const* sip, tagi_t tags[]) {
        static_cast<NuaStack*>(static_cast<void*>(magic))
            ->on_event(e, status, phrase ? phrase : "", nh, reinterpret_cast<Call*>(hmagic), sip,
                       tags);
    }

    void on_event(nua_event_t e, int status, const char* phrase, nua_handle_t* nh, Call* c,
                  sip_t const* sip, tagi_t tags[]) {
        switch (e) {
            case nua_r_shutdown:
                if (status >= 200) shut_down_ = true;
                return;
            case nua_i_invite:
                // Nobody calls the engine (yet): refuse instead of leaving the caller ringing.
                if (!c) nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
                return;
            case nua_i_options: {
                // A trunk's or softphone's keep-alive ping gets its 200; a stranger's probe
                // learns nothing.
                const std::string from = source(nua_current_request(nua_.get()));
                if (trusted_ && !from.empty() && trusted_(from))
                    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua_.get()), TAG_END());
                else
                    nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua_.get()), TAG_END());
                if (!c) {
                    NuaHandle stray(nh);  // a stray request's handle: ours to destroy
                }
                return;
            }
            case nua_i_register:
                on_register_request(nh, sip);
                return;
            case nua_r_options: {
                auto it = pings_.find(nh);
                if (it == pings_.end() || status < 200) return;
                auto done = std::move(it->second);
                pings_.erase(it);
                nua_handle_destroy(nh);
                if (done) done(status);
                return;
            }
            case nua_r_invite:
                if (c) on_invite_response(c, status, phrase, nh, sip);
                return;
            case nua_r_register:
                on_register_response(status, nh, sip);
                return;
            case nua_r_unregister:
                if (status >= 200) registrations_.erase(nh);
                return;
            case nua_i_bye: {
                // Only the dialog's peer may end it: right Call-ID and tags from another address
                // are a forgery. It stays unanswered: this Sofia (1.12.11) ends the session on
                // any final response to a BYE, 403 included. When the call ends, nua answers
                // the pending forgery 487.
                const std::string from = source(nua_current_request(nua_.get()));
                if (c && !c->peer.empty() && !same_address(from, c->peer)) {
                    ++forged_;
                    return;
                }
                nua_respond(nh, SIP_200_OK, NUTAG_WITH_CURRENT(nua_.get()), TAG_END());
                if (c && c->answered && !c->done) {
                    c->done = true;
                    observer_.on_ended(c->id, true);
                }
                return;
            }
            case nua_r_bye:
                if (c && !c->done) {
                    c->done = true;
                    observer_.on_ended(c->id, false);
                }
                return;
            case nua_i_state: {
                int state = nua_callstate_init;
                tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
                if (state != nua_callstate_terminated) return;
                if (!c) {
                    NuaHandle stray(nh);
                    return;
                }
                if (!c->done) {
                    c->done = true;
                    if (c->answered)
                        observer_.on_ended(c->id, true);
                    else
                        observer_.on_failed(c->id, {status >= 300 ? status : 500, phrase, true});
                }
                calls_.erase(c->id);  // and with it, its handle
                return;
            }
            default:
                return;
        }
    }

    // A REGISTER: described for the registrar, answered with its reply. Its handle belongs to
    // no dialog and is destroyed once answered.
    void on_register_request(nua_handle_t* nh, sip_t const* sip) {
        NuaHandle owned(nh);
        if (!on_register_ || !sip || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq) {
            nua_respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua_.get()), TAG_END());
            return;
        }
        msg_t* msg = nua_current_request(nua_.get());
        RegisterRequest r;
        r.source_ip = source(msg);
        r.source_port = source_port(msg);
        if (!describe_register(sip, msg, proxy_ && proxy_(r.source_ip, r.source_port), r)) {
            // Never taken for the proxy's own: its address must not be limited or locked out
            // for what one softphone does.
            nua_respond(nh, 400, "Proxy Via Unreadable", NUTAG_WITH_THIS(nua_.get()), TAG_END());
            return;
        }
        const RegisterReply reply = on_register_(r);
        std::string contacts;
        for (const auto& b : reply.bindings)
            contacts +=
                (contacts.empty() ? "<" : ", <") + b.uri + ">;expires=" + std::to_string(b.expires);
        const std::string min_expires = std::to_string(reply.min_expires);
        const std::string retry_after = std::to_string(reply.retry_after);
        // nua_respond is carried out later, from nua's queue: its tags are copied, the phrase is
        // not (a std::string's buffer was read after it was gone). Sofia's own static phrases.
        const char* phrase = sip_status_phrase(reply.status);
        nua_respond(nh, reply.status, phrase ? phrase : "", NUTAG_WITH_THIS(nua_.get()),
                    TAG_IF(!reply.www_authenticate.empty(),
                           SIPTAG_WWW_AUTHENTICATE_STR(reply.www_authenticate.c_str())),
                    TAG_IF(!contacts.empty(), SIPTAG_CONTACT_STR(contacts.c_str())),
                    TAG_IF(reply.min_expires > 0, SIPTAG_MIN_EXPIRES_STR(min_expires.c_str())),
                    TAG_IF(reply.retry_after > 0, SIPTAG_RETRY_AFTER_STR(retry_after.c_str())),
                    TAG_END());
    }

    void on_register_response(int status, nua_handle_t* nh, sip_t const* sip) {
        auto it = registrations_.find(nh);
        if (it == registrations_.end() || status < 200) return;
        Registration& g = *it->second;
        if ((status == 401 || status == 407) && sip && !g.user.empty() && g.auth_tries++ == 0) {
            const msg_auth_t* au =
                status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
            const char* realm = au ? msg_params_find(au->au_params, "realm=") : nullptr;
            if (au && realm) {
                const std::string cred =
                    std::string(au->au_scheme) + ":" + realm + ":" + g.user + ":" + g.password;
                nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
                return;
            }
        }
        if (status < 300) {
            g.auth_tries = 0;  // a refresh may be challenged again with a new nonce
            // What the registrar granted: the shortest expiry among the bindings it lists
            // (ours among them), else its Expires header, else what was asked.
            long granted = -1;
            for (const sip_contact_t* m = sip ? sip->sip_contact : nullptr; m; m = m->m_next)
                if (m->m_expires) {
                    const long e = std::strtol(m->m_expires, nullptr, 10);
                    if (e > 0 && (granted < 0 || e < granted)) granted = e;
                }
            if (granted < 0 && sip && sip->sip_expires)
                granted = static_cast<long>(sip->sip_expires->ex_delta);
            if (granted <= 0) granted = static_cast<long>(g.asked.count());
            if (g.report) g.report(status, std::chrono::seconds(granted));
            return;
        }
        // Refused, or nothing answered: the registration is over; the engine tries again later.
        auto report = std::move(g.report);
        registrations_.erase(it);  // and with it, its handle
        if (report) report(status, std::chrono::seconds(0));
    }

    void on_invite_response(Call* c, int status, const char* phrase, nua_handle_t* nh,
                            sip_t const* sip) {
        if (c->done) return;
        if ((status == 401 || status == 407) && sip && !c->user.empty() && c->auth_tries++ == 0) {
            const msg_auth_t* au =
                status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
            const char* realm = au ? msg_params_find(au->au_params, "realm=") : nullptr;
            if (au && realm) {
                const std::string cred =
                    std::string(au->au_scheme) + ":" + realm + ":" + c->user + ":" + c->password;
                nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
                return;
            }
        }
        if (status < 200) {
            // A 183 arriving after the 200 (seen with this version) is ignored. nua keeps
            // 100 Trying to itself.
            if (status > 100 && !c->answered) {
                observer_.on_progress(c->id, status);
                if (!c->early_media && sip && sip->sip_payload && sip->sip_payload->pl_data &&
                    sip->sip_payload->pl_len > 0) {
                    c->early_media = true;
                    observer_.on_early_media(
                        c->id, std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
                }
            }
            return;
        }
        if (status < 300) {
            if (c->answered) return;
            c->answered = true;
            if (c->cancelled) {
                // The answer crossed our CANCEL: hang up, and it still ends as not answered.
                c->done = true;
                c->bye_sent = true;
                nua_bye(nh, TAG_END());
                observer_.on_failed(c->id, {487, "Request Terminated (answer crossed CANCEL)"});
                return;
            }
            std::string sdp;
            if (sip && sip->sip_payload && sip->sip_payload->pl_data)
                sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
            observer_.on_answered(c->id, sdp);
            return;
        }
        c->done = true;
        observer_.on_failed(c->id, {status, phrase, sip == nullptr, q850_cause(sip)});
    }

    event_base* loop_;
    CallObserver& observer_;
    std::function<bool(const std::string&)> trusted_;
    std::function<bool(const std::string&, int)> proxy_;
    std::function<RegisterReply(const RegisterRequest&)> on_register_;
    std::unordered_map<nua_handle_t*, std::function<void(int)>> pings_;  // OPTIONS in flight
    std::unique_ptr<su_root_t, RootFree> root_;
    std::unique_ptr<nua_t, NuaFree> nua_;
    LoopEvent pump_;
    bool shut_down_ = false;
    std::uint64_t forged_ = 0;
    std::vector<int> udp_fds_;
    CallId next_id_ = 1;
    std::unordered_map<CallId, std::unique_ptr<Call>> calls_;
    RegistrationId next_registration_ = 1;
    std::unordered_map<nua_handle_t*, std::unique_ptr<Registration>> registrations_;
};

}  // namespace

std::unique_ptr<SipStack> SipStack::create(event_base* loop, const StackConfig& config,
                                           CallObserver& observer, std::string* error) {
    auto s = std::make_unique<NuaStack>(loop, observer);
    if (!s->start(config, error)) return nullptr;
    return s;
}

}  // namespace outpace::sip
