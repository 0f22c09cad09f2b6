#include "dialer/media/rtp.h"

#include "dialer/loop_event.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <utility>

extern "C" {
#include <spandsp.h>
}

namespace outpace::media {

RtpPortPool::RtpPortPool(int first, int last) {
    for (int p = last; p >= first; --p) free_.push_back(p);
}

std::optional<int> RtpPortPool::take() {
    if (free() == 0) return std::nullopt;
    const int p = free_.back();
    free_.pop_back();
    ++in_use_;
    return p;
}

void RtpPortPool::give(int port) {
    free_.insert(free_.begin(), port);  // reused last: late packets of a call go nowhere
    if (in_use_ > 0) --in_use_;
}

std::size_t raise_open_file_limit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
    if (files.rlim_cur < files.rlim_max) {
        rlimit raised = files;
        raised.rlim_cur = files.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
    }
    return files.rlim_cur == RLIM_INFINITY ? 0 : static_cast<std::size_t>(files.rlim_cur);
}

std::size_t open_files() {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return n;
}

namespace {

// `address`:`port` as a socket address; its length.
socklen_t local_address(const std::string& address, int port, sockaddr_storage& local) {
    local = {};
    if (address.find(':') != std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&local);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
        return sizeof *a;
    }
    auto* a = reinterpret_cast<sockaddr_in*>(&local);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    return sizeof *a;
}

}  // namespace

bool port_bindable(const std::string& address, int port) {
    sockaddr_storage local;
    const socklen_t len = local_address(address, port, local);
    const int fd = ::socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&local), len) == 0;
    ::close(fd);
    return ok;
}

bool parse_rtp(std::span<const std::uint8_t> p, RtpPacket& out) {
    if (p.size() < 12 || (p[0] >> 6) != 2) return false;
    const bool padding = p[0] & 0x20, extension = p[0] & 0x10;
    std::size_t header = 12 + 4 * std::size_t(p[0] & 0x0f);
    if (p.size() < header) return false;
    if (extension) {
        if (p.size() < header + 4) return false;
        header += 4 + 4 * ((std::size_t(p[header + 2]) << 8) | p[header + 3]);
        if (p.size() < header) return false;
    }
    std::size_t end = p.size();
    if (padding) {
        const std::size_t pad = p[end - 1];
        if (pad == 0 || pad > end - header) return false;
        end -= pad;
    }
    out.marker = p[1] & 0x80;
    out.payload_type = p[1] & 0x7f;
    out.seq = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
    out.timestamp = (std::uint32_t(p[4]) << 24) | (std::uint32_t(p[5]) << 16) |
                    (std::uint32_t(p[6]) << 8) | p[7];
    out.ssrc = (std::uint32_t(p[8]) << 24) | (std::uint32_t(p[9]) << 16) |
               (std::uint32_t(p[10]) << 8) | p[11];
    out.payload = p.subspan(header, end - header);
    return true;
}

std::unique_ptr<RtpSession> RtpSession::open(event_base* loop, const std::string& address,
                                             RtpPortPool& ports, std::string* error,
                                             int fixed_port) {
    std::unique_ptr<RtpSession> s(new RtpSession(ports));
    sockaddr_storage local{};
    socklen_t len = 0;
    const bool v6 = address.find(':') != std::string::npos;
    for (int tries = 0; tries < (fixed_port ? 1 : 8); ++tries) {
        auto port = fixed_port ? std::optional<int>(fixed_port) : ports.take();
        if (!port) {
            if (error) *error = "no free RTP port in the configured range";
            return nullptr;
        }
        const int fd =
            ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        len = local_address(address, *port, local);
        if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&local), len) == 0) {
            const int on = 1;  // arrival stamps (relay latency); harmless when unsupported
            ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
            s->fd_ = fd;
            s->port_ = *port;
            break;
        }
        if (fd >= 0) ::close(fd);
        ports.give(*port);  // in use by someone else: try another
    }
    if (s->fd_ < 0) {
        if (error) *error = "cannot bind an RTP port on " + address + ": " + std::strerror(errno);
        return nullptr;
    }
    s->loop_ = loop;
    s->ev_ = s->watcher(loop);
    if (!s->ev_.add()) {
        if (error) *error = "cannot watch the RTP socket on the event loop";
        return nullptr;  // the session closes its socket and gives the port back
    }
    static thread_local std::mt19937 rng{std::random_device{}()};
    s->out_seq_ = static_cast<std::uint16_t>(rng());
    s->out_ts_ = static_cast<std::uint32_t>(rng());
    s->out_ssrc_ = static_cast<std::uint32_t>(rng());
    return s;
}

RtpSession::~RtpSession() {
    come_home();
    ev_.reset();  // before its socket closes
    if (fd_ >= 0) {
        ::close(fd_);
        ports_.give(port_);
    }
}

bool RtpSession::lend(event_base* worker, Lender& lender, AudioHandler audio, DigitHandler digit) {
    if (lender_) return false;
    LoopEvent there = watcher(worker);
    if (!there) return false;
    ev_.reset();  // off the owner's loop (its callbacks run on this thread: none is running)
    home_audio_ = std::exchange(audio_, std::move(audio));
    home_digit_ = std::exchange(digit_, std::move(digit));
    lender_ = &lender;
    ev_ = std::move(there);
    if (ev_.add()) return true;  // the worker's loop watches it from here
    leave_worker();
    rejoin();
    return false;
}

LoopEvent RtpSession::watcher(event_base* base) {
    return LoopEvent(base, fd_, EV_READ | EV_PERSIST, &RtpSession::readable, this);
}

void RtpSession::leave_worker() {
    // libevent (with threads) waits here for this event's callback if the worker is running it.
    ev_.reset();
}

void RtpSession::rejoin() {
    if (!lender_) return;
    lender_ = nullptr;
    audio_ = std::move(home_audio_);
    digit_ = std::move(home_digit_);
    home_audio_ = nullptr;
    home_digit_ = nullptr;
    ev_ = watcher(loop_);
    ev_.add();
}

bool RtpSession::set_remote(const RemoteMedia& r) {
    come_home();
    std::memset(remote_, 0, sizeof remote_);
    if (r.address.find(':') != std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in6*>(remote_);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(r.port));
        if (inet_pton(AF_INET6, r.address.c_str(), &a->sin6_addr) != 1) return false;
        remote_len_ = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(remote_);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(r.port));
        if (inet_pton(AF_INET, r.address.c_str(), &a->sin_addr) != 1) return false;
        remote_len_ = sizeof *a;
    }
    payload_ = r.payload;
    telephone_event_ = r.telephone_event;
    latch_ = r.latch;
    have_remote_ = true;
    return true;
}

bool RtpSession::use_srtp(const SrtpKey& ours, const SrtpKey& theirs) {
    come_home();
    srtp_ = SrtpSession::create(ours, theirs, nullptr);
    return srtp_ != nullptr;
}

void RtpSession::readable(int fd, short, void* self) {
    auto* s = static_cast<RtpSession*>(self);
    std::uint8_t buf[2048];  // writable: SRTP is decrypted in place
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    // The kernel stamps arrivals on the real-time clock; the engine measures on the steady one.
    const auto steady = std::chrono::steady_clock::now();
    timespec real{};
    ::clock_gettime(CLOCK_REALTIME, &real);
    // One packet per wake-up: a call's socket has one packet every 20 ms, so reading on until
    // EAGAIN cost a second system call for nearly every packet. A socket with more waiting stays
    // readable (level-triggered) and is read again on the loop's next pass, after the others.
    sockaddr_storage from{};
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n < 0) return;  // EAGAIN, or an ICMP error for our last send: nothing to read
    s->arrived_ = steady;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec at{};
        std::memcpy(&at, CMSG_DATA(c), sizeof at);
        const auto waited = std::chrono::nanoseconds((real.tv_sec - at.tv_sec) * 1'000'000'000LL +
                                                     (real.tv_nsec - at.tv_nsec));
        if (waited.count() >= 0) s->arrived_ = steady - waited;
    }
    s->receive({buf, static_cast<std::size_t>(n)}, &from, msg.msg_namelen);
}

void RtpSession::receive(std::span<std::uint8_t> data, const void* from, unsigned) {
    // Symmetric media: only the address the callee's SDP named may talk to us.
    if (have_remote_) {
        const auto* f = static_cast<const sockaddr*>(from);
        const auto* r = reinterpret_cast<const sockaddr*>(remote_);
        bool same = f->sa_family == r->sa_family;
        if (same && f->sa_family == AF_INET)
            same = reinterpret_cast<const sockaddr_in*>(f)->sin_addr.s_addr ==
                   reinterpret_cast<const sockaddr_in*>(r)->sin_addr.s_addr;
        else if (same)
            same = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(f)->sin6_addr,
                               &reinterpret_cast<const sockaddr_in6*>(r)->sin6_addr, 16) == 0;
        if (!same) {
            ++stats_.foreign;
            return;
        }
    }
    // RTCP, ours multiplexed or another call's peer's sent to its port + 1 (ours, when our ports
    // are adjacent): never audio, and never a reason to latch onto its source port. Tested before
    // SRTP: SRTCP fails RTP's check and would count as forged.
    if (data.size() >= 2 && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223) {
        ++stats_.rtcp;
        return;
    }
    if (srtp_) {
        // Checked before anything is read from it, and before a NAT's port is latched: a forged
        // packet from the right address moves nothing.
        if (data.size() < 12 || (data[0] >> 6) != 2) {
            ++stats_.malformed;
            return;
        }
        const auto n = srtp_->unprotect(data.data(), data.size());
        if (n == 0) {
            ++stats_.unauthenticated;
            return;
        }
        data = data.first(n);
    }
    RtpPacket p;
    if (!parse_rtp(data, p)) {
        ++stats_.malformed;
        return;
    }
    if (latch_) {
        // Same address (checked above), maybe another port: a NAT's mapping. Answer there.
        const auto* f = static_cast<const sockaddr*>(from);
        auto* r = reinterpret_cast<sockaddr*>(remote_);
        if (f->sa_family == AF_INET)
            reinterpret_cast<sockaddr_in*>(r)->sin_port =
                reinterpret_cast<const sockaddr_in*>(f)->sin_port;
        else
            reinterpret_cast<sockaddr_in6*>(r)->sin6_port =
                reinterpret_cast<const sockaddr_in6*>(f)->sin6_port;
    }
    const auto now = std::chrono::steady_clock::now();
    if (first_ || p.ssrc != ssrc_) {
        // The first packet, or the far end restarted its stream: time continues from arrival.
        const double since = first_ ? 0 : std::chrono::duration<double>(now - t0_).count();
        if (first_) t0_ = now;
        first_ = false;
        ssrc_ = p.ssrc;
        ts0_ = p.timestamp - static_cast<std::uint32_t>(since * 8000);
        max_seq_ = static_cast<std::uint16_t>(p.seq - 1);
        transit_ = 0;
    }
    ++stats_.packets_in;
    const auto delta = static_cast<std::int16_t>(p.seq - max_seq_);
    if (delta > 1) stats_.lost += static_cast<std::uint64_t>(delta - 1);
    if (delta > 0) max_seq_ = p.seq;
    // RFC 3550 interarrival jitter, in timestamp units (1/8 ms).
    const double arrival = std::chrono::duration<double>(now - t0_).count() * 8000;
    const double transit = arrival - double(p.timestamp - ts0_);
    if (stats_.packets_in > 1) {
        const double d = std::abs(transit - transit_);
        stats_.jitter_ms += (d / 8 - stats_.jitter_ms) / 16;
    }
    transit_ = transit;

    if (p.payload_type == telephone_event_ && telephone_event_ >= 0) {
        // RFC 4733: report a key once, on its first packet (the timestamp names the event).
        if (p.payload.size() >= 4 && digit_ && (!event_seen_ || p.timestamp != last_event_ts_)) {
            event_seen_ = true;
            last_event_ts_ = p.timestamp;
            static const char kDigits[] = "0123456789*#ABCD";
            if (p.payload[0] < 16) digit_(kDigits[p.payload[0]]);
        }
        return;
    }
    if (p.payload_type != kPcmu && p.payload_type != kPcma) return;  // comfort noise etc.
    if (delta <= 0 && stats_.packets_in > 1) return;  // late or duplicate: already past it
    pcm_.resize(p.payload.size());
    for (std::size_t i = 0; i < p.payload.size(); ++i)
        pcm_[i] =
            p.payload_type == kPcmu ? ulaw_to_linear(p.payload[i]) : alaw_to_linear(p.payload[i]);
    if (audio_) audio_(pcm_, std::chrono::milliseconds((p.timestamp - ts0_) / 8));
}

void RtpSession::send_packet(int payload_type, bool marker, std::uint32_t timestamp,
                             std::span<const std::uint8_t> payload) {
    std::uint8_t buf[12 + 480 + SrtpSession::kTrailer];
    if (payload.size() > 480) return;
    buf[0] = 0x80;
    buf[1] = static_cast<std::uint8_t>(payload_type | (marker ? 0x80 : 0));
    buf[2] = static_cast<std::uint8_t>(out_seq_ >> 8);
    buf[3] = static_cast<std::uint8_t>(out_seq_);
    for (int i = 0; i < 4; ++i) buf[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) buf[8 + i] = static_cast<std::uint8_t>(out_ssrc_ >> (24 - 8 * i));
    std::copy(payload.begin(), payload.end(), buf + 12);
    std::size_t len = 12 + payload.size();
    if (srtp_ && (len = srtp_->protect(buf, len)) == 0) return;  // never sent in clear
    ::sendto(fd_, buf, len, 0, reinterpret_cast<const sockaddr*>(remote_), remote_len_);
    ++out_seq_;
    ++stats_.packets_out;
}

void RtpSession::send_pcm(std::span<const std::int16_t> pcm) {
    if (!have_remote_ || pcm.size() > 480) return;
    std::uint8_t payload[480];
    for (std::size_t i = 0; i < pcm.size(); ++i)
        payload[i] = payload_ == kPcmu ? linear_to_ulaw(pcm[i]) : linear_to_alaw(pcm[i]);
    send_packet(payload_, false, out_ts_, {payload, pcm.size()});
    out_ts_ += static_cast<std::uint32_t>(pcm.size());
}

void RtpSession::send_event(char digit, std::uint16_t duration, bool end) {
    come_home();
    static constexpr std::string_view kDigits = "0123456789*#ABCD";
    const auto code = kDigits.find(digit);
    if (!sends_events() || code == std::string_view::npos) return;
    const bool first = !event_on_;
    if (first) {
        event_on_ = true;
        event_ts_ = out_ts_;
    }
    // RFC 4733 2.3: event, E bit and volume (-10 dBm0), duration.
    const std::uint8_t payload[4] = {
        static_cast<std::uint8_t>(code), static_cast<std::uint8_t>((end ? 0x80 : 0) | 10),
        static_cast<std::uint8_t>(duration >> 8), static_cast<std::uint8_t>(duration)};
    for (int i = 0; i < (end ? 3 : 1); ++i)
        send_packet(telephone_event_, first && i == 0, event_ts_, payload);
    if (end) {
        event_on_ = false;
        out_ts_ = event_ts_ + duration;  // audio resumes after the event's span
    }
}

}  // namespace outpace::media
