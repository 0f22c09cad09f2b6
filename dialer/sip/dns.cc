#include "dialer/sip/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <event2/event.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <mutex>

namespace outpace::sip {

bool is_ip_literal(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

namespace {

// ---- c-ares on libevent ------------------------------------------------------------------------

struct EventFree {
    void operator()(event* e) const { event_free(e); }
};
using EventPtr = std::unique_ptr<event, EventFree>;

int dns_type_code(RrType t) {
    switch (t) {
        case RrType::naptr:
            return 35;
        case RrType::srv:
            return 33;
        case RrType::a:
            return 1;
        case RrType::aaaa:
            return 28;
    }
    return 1;
}

// The smallest TTL among an answer's records (RFC 1035 §4.1: header, questions, answers). The
// SRV and NAPTR parsers of c-ares 1.18 drop TTLs, so they are read here; 0 when unreadable.
std::chrono::seconds smallest_answer_ttl(const unsigned char* abuf, int alen) {
    if (alen < 12) return std::chrono::seconds(0);
    const int questions = abuf[4] << 8 | abuf[5];
    const int answers = abuf[6] << 8 | abuf[7];
    const unsigned char* p = abuf + 12;
    const unsigned char* end = abuf + alen;
    const auto skip_name = [&]() {
        char* name = nullptr;
        long length = 0;
        if (p >= end || ares_expand_name(p, abuf, alen, &name, &length) != ARES_SUCCESS)
            return false;
        ares_free_string(name);
        p += length;
        return p <= end;
    };
    for (int i = 0; i < questions; ++i) {
        if (!skip_name() || end - p < 4) return std::chrono::seconds(0);
        p += 4;
    }
    std::uint32_t best = std::numeric_limits<std::uint32_t>::max();
    for (int i = 0; i < answers; ++i) {
        if (!skip_name() || end - p < 10) break;
        const std::uint32_t ttl = std::uint32_t(p[4]) << 24 | std::uint32_t(p[5]) << 16 |
                                  std::uint32_t(p[6]) << 8 | std::uint32_t(p[7]);
        const int rdlength = p[8] << 8 | p[9];
        p += 10;
        if (end - p < rdlength) break;
        p += rdlength;
        best = std::min(best, ttl);
    }
    if (best == std::numeric_limits<std::uint32_t>::max()) return std::chrono::seconds(0);
    // RFC 2181 §8: a TTL with the top bit set is taken as zero.
    return std::chrono::seconds(best > 0x7fffffffu ? 0 : best);
}

// An A or AAAA answer's addresses, as text.
template <typename AddrTtl, int kFamily, std::size_t kTextSize, typename Parse, typename Address>
int parse_addresses(const unsigned char* abuf, int alen, Parse parse, Address address,
                    std::vector<DnsRecord>& out) {
    AddrTtl ttls[16];
    int n = 16;
    hostent* host = nullptr;
    const int rc = parse(abuf, alen, &host, ttls, &n);
    if (host) ares_free_hostent(host);
    if (rc != ARES_SUCCESS) return rc;
    for (int i = 0; i < n; ++i) {
        char text[kTextSize];
        if (inet_ntop(kFamily, address(ttls[i]), text, sizeof text))
            out.push_back({.target = text});
    }
    return out.empty() ? ARES_ENODATA : ARES_SUCCESS;
}

// The records of a successful answer; false when it does not parse (c-ares says why).
int parse_dns_records(RrType type, const unsigned char* abuf, int alen,
                      std::vector<DnsRecord>& out) {
    constexpr std::size_t kMaxRecords = 64;
    switch (type) {
        case RrType::naptr: {
            ares_naptr_reply* list = nullptr;
            const int rc = ares_parse_naptr_reply(abuf, alen, &list);
            if (rc != ARES_SUCCESS) return rc;
            for (auto* r = list; r && out.size() < kMaxRecords; r = r->next) {
                DnsRecord d;
                d.order = r->order;
                d.preference = r->preference;
                d.flags = reinterpret_cast<const char*>(r->flags);
                d.service = reinterpret_cast<const char*>(r->service);
                d.target = r->replacement ? r->replacement : "";
                out.push_back(std::move(d));
            }
            ares_free_data(list);
            return ARES_SUCCESS;
        }
        case RrType::srv: {
            ares_srv_reply* list = nullptr;
            const int rc = ares_parse_srv_reply(abuf, alen, &list);
            if (rc != ARES_SUCCESS) return rc;
            for (auto* r = list; r && out.size() < kMaxRecords; r = r->next) {
                DnsRecord d;
                d.target = r->host ? r->host : "";
                d.priority = r->priority;
                d.weight = r->weight;
                d.port = r->port;
                out.push_back(std::move(d));
            }
            ares_free_data(list);
            return ARES_SUCCESS;
        }
        case RrType::a:
            return parse_addresses<ares_addrttl, AF_INET, INET_ADDRSTRLEN>(
                abuf, alen, ares_parse_a_reply, [](const ares_addrttl& t) { return &t.ipaddr; },
                out);
        case RrType::aaaa:
            return parse_addresses<ares_addr6ttl, AF_INET6, INET6_ADDRSTRLEN>(
                abuf, alen, ares_parse_aaaa_reply,
                [](const ares_addr6ttl& t) { return &t.ip6addr; }, out);
    }
    return ARES_EBADRESP;
}

class CaresDns final : public Dns {
  public:
    explicit CaresDns(event_base* loop) : loop_(loop) {}
    ~CaresDns() override {
        destroying_ = true;
        // Pending queries end with ARES_EDESTRUCTION: their callbacks drop them unanswered.
        if (channel_) ares_destroy(channel_);
        fd_events_.clear();
    }

    bool init(const DnsConfig& config, std::string* error) {
        static std::once_flag once;
        std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
        ares_options o{};
        o.sock_state_cb = &CaresDns::socket_state;
        o.sock_state_cb_data = this;
        o.timeout = static_cast<int>(config.timeout.count());
        o.tries = config.tries;
        const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
        if (const int rc = ares_init_options(&channel_, &o, mask); rc != ARES_SUCCESS) {
            channel_ = nullptr;
            *error = std::string("cannot start the DNS resolver: ") + ares_strerror(rc);
            return false;
        }
        if (!config.servers.empty()) {
            std::string csv;
            for (const auto& s : config.servers) csv += (csv.empty() ? "" : ",") + s;
            if (const int rc = ares_set_servers_ports_csv(channel_, csv.c_str());
                rc != ARES_SUCCESS) {
                *error = "dns.servers '" + csv + "': " + ares_strerror(rc);
                return false;
            }
        }
        timer_.reset(evtimer_new(loop_, &CaresDns::on_timer, this));
        deferred_event_.reset(evtimer_new(loop_, &CaresDns::on_deferred, this));
        return timer_ && deferred_event_;
    }

    void query(const std::string& name, RrType type, Done done) override {
        auto* q = new Query{this, type, std::move(done)};
        in_query_ = true;
        ares_query(channel_, name.c_str(), 1 /* IN */, dns_type_code(type), &CaresDns::answered, q);
        in_query_ = false;
        arm_timer();
    }

  private:
    struct Query {
        CaresDns* self;
        RrType type;
        Done done;
    };

    static void answered(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        std::unique_ptr<Query> q(static_cast<Query*>(arg));
        CaresDns* self = q->self;
        if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || self->destroying_) return;
        DnsAnswer a;
        if (status == ARES_SUCCESS) {
            a = read_dns_answer(q->type, abuf, alen);
        } else if (status == ARES_ENODATA || status == ARES_ENOTFOUND) {
            a.status = DnsAnswer::Status::none;
        } else {
            a.status = DnsAnswer::Status::failed;
            a.error = ares_strerror(status);
        }
        if (self->in_query_) {
            // Answered inside ares_query (a malformed name): delivered from the loop instead,
            // as promised, so that no caller is re-entered.
            self->deferred_.push_back({std::move(q->done), std::move(a)});
            const timeval zero{0, 0};
            evtimer_add(self->deferred_event_.get(), &zero);
            return;
        }
        q->done(std::move(a));
    }

    static void on_deferred(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<CaresDns*>(arg);
        auto ready = std::move(self->deferred_);
        self->deferred_.clear();
        for (auto& [done, answer] : ready) done(std::move(answer));
    }

    static void socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<CaresDns*>(data);
        self->fd_events_.erase(fd);
        if (!readable && !writable) return;
        const short what =
            static_cast<short>((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) | EV_PERSIST);
        EventPtr e(event_new(self->loop_, fd, what, &CaresDns::on_socket, self));
        if (!e) return;
        event_add(e.get(), nullptr);
        self->fd_events_[fd] = std::move(e);
    }

    static void on_socket(evutil_socket_t fd, short what, void* arg) {
        auto* self = static_cast<CaresDns*>(arg);
        ares_process_fd(self->channel_, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                        (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
        self->arm_timer();
    }

    static void on_timer(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<CaresDns*>(arg);
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->arm_timer();
    }

    void arm_timer() {
        if (!channel_ || !timer_) return;
        timeval tv{};
        if (ares_timeout(channel_, nullptr, &tv))
            evtimer_add(timer_.get(), &tv);
        else
            evtimer_del(timer_.get());
    }

    event_base* loop_;
    ares_channel channel_ = nullptr;
    std::map<ares_socket_t, EventPtr> fd_events_;
    EventPtr timer_, deferred_event_;
    std::deque<std::pair<Done, DnsAnswer>> deferred_;
    bool in_query_ = false, destroying_ = false;
};

// ---- RFC 3263 ----------------------------------------------------------------------------------

std::string lower_ascii(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

int default_port(const std::string& transport) {
    return transport == "tls" ? 5061 : 5060;
}

class LocateJob : public std::enable_shared_from_this<LocateJob> {
  public:
    LocateJob(Dns& dns, ServerName server, bool ipv6, std::function<void(Located)> done)
        : dns_(dns), server_(std::move(server)), ipv6_(ipv6), done_(std::move(done)) {}

    void start() {
        const std::string transport = server_.transport.empty() ? "udp" : server_.transport;
        if (is_ip_literal(server_.host)) {
            ServerTarget t{server_.host, server_.port ? server_.port : default_port(transport),
                           transport, 0, 0};
            Located l;
            l.ok = true;
            l.targets.push_back(t);
            done_(std::move(l));
            return;
        }
        if (server_.port) {
            addresses_of(server_.host, server_.port, transport);
            return;
        }
        if (!server_.transport.empty()) {
            srv_in_turn({server_.transport}, 0);
            return;
        }
        auto self = shared_from_this();
        dns_.query(server_.host, RrType::naptr, [self](DnsAnswer a) { self->naptr(std::move(a)); });
    }

  private:
    void fail(const std::string& why) {
        Located l;
        l.error = why;
        done_(std::move(l));
    }
    void note_ttl(std::chrono::seconds t) { ttl_ = std::min(ttl_, t); }

    // NAPTR (RFC 3263 §4.1): the records for transports this engine speaks, by order then
    // preference; the first whose SRV name has servers wins.
    void naptr(DnsAnswer a) {
        if (a.status == DnsAnswer::Status::failed)
            return fail("NAPTR lookup of " + server_.host + " failed: " + a.error);
        if (a.status == DnsAnswer::Status::ok) {
            for (const auto& r : a.records) {
                const std::string service = lower_ascii(r.service);
                const std::string transport = service == "sip+d2u"   ? "udp"
                                              : service == "sip+d2t" ? "tcp"
                                                                     : "";
                if (transport.empty() || lower_ascii(r.flags) != "s" || r.target.empty()) continue;
                naptr_records_.push_back({r.order, r.preference, r.target, transport});
            }
            std::stable_sort(
                naptr_records_.begin(), naptr_records_.end(), [](const auto& x, const auto& y) {
                    return std::tie(x.order, x.preference) < std::tie(y.order, y.preference);
                });
            if (!naptr_records_.empty()) {
                note_ttl(a.ttl);
                return naptr_srv(0);
            }
        }
        // No NAPTR for SIP: SRV for each transport (RFC 3263 §4.1, last paragraph).
        srv_in_turn({"udp", "tcp"}, 0);
    }

    void naptr_srv(std::size_t i) {
        if (i >= naptr_records_.size())
            return fail("the NAPTR records of " + server_.host + " lead to no SIP server");
        auto self = shared_from_this();
        const auto& r = naptr_records_[i];
        dns_.query(r.target, RrType::srv, [self, i](DnsAnswer a) {
            if (a.status == DnsAnswer::Status::failed)
                return self->fail("SRV lookup of " + self->naptr_records_[i].target +
                                  " failed: " + a.error);
            if (a.status == DnsAnswer::Status::none) return self->naptr_srv(i + 1);
            self->servers(std::move(a), self->naptr_records_[i].transport);
        });
    }

    // SRV without NAPTR (RFC 3263 §4.2): _sip._udp, _sip._tcp in turn; then the A record.
    void srv_in_turn(std::vector<std::string> transports, std::size_t i) {
        if (i >= transports.size()) {
            const std::string t = server_.transport.empty() ? "udp" : server_.transport;
            return addresses_of(server_.host, default_port(t), t);
        }
        auto self = shared_from_this();
        // SIP over TLS is the "sips" service over TCP (RFC 3263 §4.2, RFC 5630).
        const std::string name =
            (transports[i] == "tls" ? "_sips._tcp." : "_sip._" + transports[i] + ".") +
            server_.host;
        dns_.query(name, RrType::srv,
                   [self, transports = std::move(transports), i, name](DnsAnswer a) mutable {
                       if (a.status == DnsAnswer::Status::failed)
                           return self->fail("SRV lookup of " + name + " failed: " + a.error);
                       if (a.status == DnsAnswer::Status::none)
                           return self->srv_in_turn(std::move(transports), i + 1);
                       const std::string t = transports[i];
                       self->servers(std::move(a), t);
                   });
    }

    // An SRV answer: each server's addresses, looked up together.
    void servers(DnsAnswer a, const std::string& transport) {
        note_ttl(a.ttl);
        auto& records = a.records;
        if (records.size() == 1 && (records[0].target.empty() || records[0].target == "."))
            return fail(server_.host + " says it offers no SIP service over " + transport +
                        " (SRV target '.')");
        std::stable_sort(records.begin(), records.end(),
                         [](const auto& x, const auto& y) { return x.priority < y.priority; });
        if (records.size() > 16) records.resize(16);
        srv_ = std::move(records);
        srv_transport_ = transport;
        found_.assign(srv_.size(), {});
        pending_ = srv_.size();
        auto self = shared_from_this();
        for (std::size_t i = 0; i < srv_.size(); ++i) {
            const auto& r = srv_[i];
            if (r.target.empty() || r.target == ".") {
                server_done(i, {});
                continue;
            }
            if (is_ip_literal(r.target)) {
                DnsAnswer literal;
                literal.status = DnsAnswer::Status::ok;
                literal.ttl = std::chrono::seconds::max();
                literal.records.push_back({.target = r.target});
                server_done(i, std::move(literal));
                continue;
            }
            dns_.query(r.target, ipv6_ ? RrType::aaaa : RrType::a,
                       [self, i](DnsAnswer x) { self->server_done(i, std::move(x)); });
        }
    }

    void server_done(std::size_t i, DnsAnswer a) {
        if (a.status == DnsAnswer::Status::ok) {
            note_ttl(a.ttl);
            for (const auto& addr : a.records)
                found_[i].push_back(
                    {addr.target, srv_[i].port, srv_transport_, srv_[i].priority, srv_[i].weight});
        } else if (a.status == DnsAnswer::Status::failed && first_error_.empty()) {
            first_error_ = "lookup of " + srv_[i].target + " failed: " + a.error;
        }
        if (--pending_ > 0) return;
        Located l;
        for (auto& list : found_)
            for (auto& t : list)
                if (l.targets.size() < kMaxServerTargets &&
                    std::find(l.targets.begin(), l.targets.end(), t) == l.targets.end())
                    l.targets.push_back(std::move(t));
        if (l.targets.empty())
            return fail(first_error_.empty()
                            ? "the SIP servers " + server_.host + "'s SRV records name have no " +
                                  (ipv6_ ? "AAAA" : "A") + " records"
                            : first_error_);
        l.ok = true;
        l.ttl = ttl_;
        done_(std::move(l));
    }

    void addresses_of(const std::string& host, int port, const std::string& transport) {
        auto self = shared_from_this();
        dns_.query(host, ipv6_ ? RrType::aaaa : RrType::a,
                   [self, host, port, transport](DnsAnswer a) {
                       if (a.status == DnsAnswer::Status::failed)
                           return self->fail("lookup of " + host + " failed: " + a.error);
                       if (a.status == DnsAnswer::Status::none)
                           return self->fail(host + " has no " +
                                             std::string(self->ipv6_ ? "AAAA" : "A") + " record" +
                                             (self->server_.port ? "" : " (nor NAPTR or SRV)"));
                       self->note_ttl(a.ttl);
                       Located l;
                       l.ok = true;
                       for (const auto& r : a.records)
                           if (l.targets.size() < kMaxServerTargets)
                               l.targets.push_back({r.target, port, transport, 0, 0});
                       l.ttl = self->ttl_;
                       self->done_(std::move(l));
                   });
    }

    struct NaptrChoice {
        int order, preference;
        std::string target, transport;
    };
    Dns& dns_;
    ServerName server_;
    bool ipv6_;
    std::function<void(Located)> done_;
    std::chrono::seconds ttl_ = std::chrono::seconds::max();
    std::vector<NaptrChoice> naptr_records_;
    std::vector<DnsRecord> srv_;
    std::string srv_transport_, first_error_;
    std::vector<std::vector<ServerTarget>> found_;
    std::size_t pending_ = 0;
};

}  // namespace

DnsAnswer read_dns_answer(RrType type, const unsigned char* abuf, int alen) {
    DnsAnswer a;
    if (!abuf || alen <= 0) {
        a.error = "empty DNS answer";
        return a;
    }
    const int rc = parse_dns_records(type, abuf, alen, a.records);
    if (rc == ARES_SUCCESS && !a.records.empty()) {
        a.status = DnsAnswer::Status::ok;
        a.ttl = smallest_answer_ttl(abuf, alen);
    } else if (rc == ARES_SUCCESS || rc == ARES_ENODATA) {
        a.status = DnsAnswer::Status::none;
        a.records.clear();
    } else {
        a.status = DnsAnswer::Status::failed;
        a.error = std::string("unreadable DNS answer: ") + ares_strerror(rc);
        a.records.clear();
    }
    return a;
}

std::unique_ptr<Dns> open_dns(event_base* loop, const DnsConfig& config, std::string* error) {
    auto dns = std::make_unique<CaresDns>(loop);
    if (!dns->init(config, error)) return nullptr;
    return dns;
}

void locate(Dns& dns, const ServerName& server, bool ipv6, std::function<void(Located)> done) {
    std::make_shared<LocateJob>(dns, server, ipv6, std::move(done))->start();
}

}  // namespace outpace::sip
