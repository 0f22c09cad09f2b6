// One call's RTP: a UDP socket from the configured port range on the loop, G.711 in and out,
// packet loss and jitter counted (RFC 3550), anything malformed dropped and counted.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dialer/loop_event.h"
#include "dialer/media/sdp.h"

struct event_base;
struct event;

namespace outpace::media {

// Every port of a range, handed out and taken back. Odd ports too: the engine sends no RTCP and
// offers RTCP multiplexed on the RTP port (RFC 5761), so no call needs port + 1 for RTCP, and the
// range holds one answered call per port instead of per two. A peer that still sends RTCP to
// port + 1 reaches another call's socket, where it is recognised and dropped (RtpStats::rtcp).
class RtpPortPool {
  public:
    RtpPortPool(int first, int last);
    std::optional<int> take();
    void give(int port);
    // Ports that may still be taken: free ones, within the limit on ports in use.
    std::size_t free() const { return std::min(free_.size(), limit_ - std::min(limit_, in_use_)); }
    std::size_t size() const { return free_.size() + in_use_; }
    std::size_t in_use() const { return in_use_; }
    // At most `n` ports in use at once: each may become a socket, and the process's open-file
    // limit must keep room for everything else (the engine sets it at start).
    void limit(std::size_t n) { limit_ = n; }

  private:
    std::vector<int> free_;
    std::size_t in_use_ = 0;
    std::size_t limit_ = SIZE_MAX;
};

// The process's open-file limit, its soft limit raised to the hard one first; 0: unlimited.
std::size_t raise_open_file_limit();
// How many files the process has open now (its /proc/self/fd; the directory it reads them from
// counts too, so one more than before the call and after).
std::size_t open_files();

// Whether `port` on `address` can be bound now (bound and closed at once): a port another program
// holds is skipped when an offer is made, instead of failing when the call is answered.
bool port_bindable(const std::string& address, int port);

struct RtpStats {
    std::uint64_t packets_in = 0, packets_out = 0, lost = 0, malformed = 0, foreign = 0;
    // SRTP packets that did not authenticate (forged, replayed, another key): dropped.
    std::uint64_t unauthenticated = 0;
    // RTCP (RFC 5761's test: a second byte of 192-223), muxed or sent to port + 1: not read.
    std::uint64_t rtcp = 0;
    double jitter_ms = 0;
};

// Parses an RTP packet; false for anything that is not a well-formed RTP version 2 packet.
struct RtpPacket {
    int payload_type = 0;
    std::uint16_t seq = 0;
    std::uint32_t timestamp = 0, ssrc = 0;
    bool marker = false;
    std::span<const std::uint8_t> payload;
};
bool parse_rtp(std::span<const std::uint8_t> packet, RtpPacket& out);

// One call's audio as the engine uses it: what the engine hears (PCM, keys) and sends. RtpSession
// is the real one; in-process engine tests play a carrier's audio through their own.
class AudioChannel {
  public:
    // Audio heard from the callee: linear PCM and its time since the first packet (from the RTP
    // timestamps, so the detector sees gaps where packets were lost).
    using AudioHandler =
        std::function<void(std::span<const std::int16_t>, std::chrono::milliseconds)>;
    // RFC 4733 telephone-event: the digit ('0'-'9', '*', '#', 'A'-'D'), once per key press.
    using DigitHandler = std::function<void(char)>;

    virtual ~AudioChannel() = default;
    virtual int port() const = 0;
    // Where to send, what codec; from the answer's SDP. Packets from other addresses are dropped.
    virtual bool set_remote(const RemoteMedia& remote) = 0;
    // SRTP from here on (before set_remote): `ours` protects what is sent (the key our SDP
    // offered), `theirs` checks and decrypts what arrives (the key of their answer). Plain RTP
    // is dropped after this. False when the keys cannot be used.
    virtual bool use_srtp(const SrtpKey& ours, const SrtpKey& theirs) = 0;
    // Plain RTP again (a call moved from a trunk with SRTP to one without).
    virtual void use_plain_rtp() = 0;
    // Whether use_srtp is in force.
    virtual bool encrypted() const = 0;
    virtual void on_audio(AudioHandler h) = 0;
    virtual void on_digit(DigitHandler h) = 0;
    // Sends 20 ms (160 samples) of audio.
    virtual void send(std::span<const std::int16_t> pcm) = 0;
    // Whether the far end takes RFC 4733 telephone-events (its SDP named one).
    virtual bool sends_events() const = 0;
    // One packet of a key press as an RFC 4733 event: `digit` ('0'-'9', '*', '#', 'A'-'D'),
    // `duration` in samples so far (one packet per 20 ms). With `end`, the event's last packet,
    // sent three times as RFC 4733 asks; the next call starts a new event.
    virtual void send_event(char digit, std::uint16_t duration, bool end) = 0;
    virtual const RtpStats& stats() const = 0;
    // When the packet being handled reached us (the kernel's receive timestamp), for measuring
    // what the engine adds to relayed audio. Valid inside the audio handler.
    virtual std::chrono::steady_clock::time_point arrived() const = 0;
};

class RtpSession final : public AudioChannel {
  public:
    // Binds a port from the pool, or exactly `port` when given (a port the caller took from the
    // pool earlier, e.g. for an offer sent before the call was answered; the session owns it
    // from here on, even when binding fails).
    static std::unique_ptr<RtpSession> open(event_base* loop, const std::string& address,
                                            RtpPortPool& ports, std::string* error, int port = 0);
    ~RtpSession() override;
    RtpSession(const RtpSession&) = delete;
    RtpSession& operator=(const RtpSession&) = delete;

    // Every AudioChannel method below is called on the owner's loop; a session lent to a media
    // worker (media_worker.h) is brought home first, so the owner never races its worker.
    int port() const override { return port_; }
    bool set_remote(const RemoteMedia& remote) override;
    bool use_srtp(const SrtpKey& ours, const SrtpKey& theirs) override;
    void use_plain_rtp() override {
        come_home();
        srtp_.reset();
    }
    bool encrypted() const override { return srtp_ != nullptr; }  // never changed by a worker
    void on_audio(AudioHandler h) override {
        come_home();
        audio_ = std::move(h);
    }
    void on_digit(DigitHandler h) override {
        come_home();
        digit_ = std::move(h);
    }
    void send(std::span<const std::int16_t> pcm) override {
        come_home();
        send_pcm(pcm);
    }
    bool sends_events() const override { return have_remote_ && telephone_event_ >= 0; }
    void send_event(char digit, std::uint16_t duration, bool end) override;
    // (A lent session's counters are the worker's: it comes home to be read.)
    const RtpStats& stats() const override {
        come_home();
        return stats_;
    }
    std::chrono::steady_clock::time_point arrived() const override { return arrived_; }

    // Lending to a media worker. The one a session is lent to (a Bridge) brings it home.
    class Lender {
      public:
        virtual ~Lender() = default;
        // Everything lent with it back on the owner's loop; on the owner's thread.
        virtual void home() = 0;
    };
    // From now on the socket is watched by `worker`'s loop and its packets go to `audio` and
    // `digit` there. False (still home, nothing changed) when that loop refused it.
    bool lend(event_base* worker, Lender& lender, AudioHandler audio, DigitHandler digit);
    bool lent() const { return lender_ != nullptr; }
    // Off the worker's loop (a callback of its running there is waited for), then rejoin():
    // back on the owner's loop with the handlers it had. For the lender only.
    void leave_worker();
    void rejoin();
    // On the worker, inside a lent session's callbacks: sends 20 ms without coming home.
    void relay(std::span<const std::int16_t> pcm) { send_pcm(pcm); }

  private:
    RtpSession(RtpPortPool& ports) : ports_(ports) {}
    void come_home() const {
        if (lender_) lender_->home();
    }
    void send_pcm(std::span<const std::int16_t> pcm);
    // The socket's read event on `base` (the owner's loop or a worker's), not yet added.
    LoopEvent watcher(event_base* base);
    void send_packet(int payload_type, bool marker, std::uint32_t timestamp,
                     std::span<const std::uint8_t> payload);
    static void readable(int fd, short, void* self);
    void receive(std::span<std::uint8_t> data, const void* from, unsigned from_len);

    RtpPortPool& ports_;
    int fd_ = -1, port_ = 0;
    event_base* loop_ = nullptr;  // the owner's
    LoopEvent ev_;
    AudioHandler audio_;
    DigitHandler digit_;
    // While lent: who to ask to bring it home, and the owner's handlers kept meanwhile.
    Lender* lender_ = nullptr;
    AudioHandler home_audio_;
    DigitHandler home_digit_;
    int payload_ = kPcmu, telephone_event_ = -1;
    unsigned char remote_[28] = {};  // sockaddr_in or sockaddr_in6
    unsigned remote_len_ = 0;
    bool have_remote_ = false, latch_ = false;
    // Receive state.
    bool first_ = true;
    std::uint32_t ssrc_ = 0, ts0_ = 0;
    std::uint16_t max_seq_ = 0;
    double transit_ = 0;
    std::chrono::steady_clock::time_point t0_;
    std::uint32_t last_event_ts_ = 0;
    bool event_seen_ = false;
    // Send state.
    std::uint16_t out_seq_;
    std::uint32_t out_ts_, out_ssrc_;
    bool event_on_ = false;       // an event is being sent: its packets carry
    std::uint32_t event_ts_ = 0;  // the timestamp of its start
    std::vector<std::int16_t> pcm_;
    std::chrono::steady_clock::time_point arrived_;
    RtpStats stats_;
    std::unique_ptr<SrtpSession> srtp_;
};

}  // namespace outpace::media
