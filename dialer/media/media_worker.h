// Media on threads of their own: N media workers, each a thread with its own libevent loop, carry
// the audio of the calls placed on them (answers listened to by the answering-machine detector,
// customer and agent relayed to each other, the call's recording framed), so that nothing the
// engine's loop does (SIP, pacing, the desktops' channel, a hopper refill) ever delays what a
// customer and an agent say to each other, and the loop is not what limits the answers analysed.
//
// A conversation is lent to a worker as a Bridge: both legs' RTP sessions (RtpSession::lend), on
// the same worker. An answered call's first seconds, while the engine listens for who answered,
// are lent as a Listen: its session, heard by the answering-machine detector on the worker. The
// engine's loop keeps the call's state; the worker only relays and listens. Anything that changes
// the audio path (hold, mute, keys to send, a supervisor joining, a transfer, the call's end) first
// brings the bridge home (Bridge::home, on the loop's thread: the worker's callbacks for its
// sockets are waited for, never the other way round), and any use of a lent session from the loop's
// thread does the same. What the worker must tell the loop (keys pressed, a verdict heard) goes
// through a bounded lock-free queue, and wakes the loop.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dialer/loop_event.h"
#include "dialer/media/rtp.h"

struct event_base;

namespace outpace::media {

class Recorder;

// What a worker tells the engine's loop: a key pressed on one side of a bridge, or that a
// listening call heard something the loop must act on (it brings the call home to read it).
struct MediaEvent {
    enum class Kind : std::uint8_t { customer_key, agent_key, heard };
    Kind kind = Kind::customer_key;
    std::uint64_t bridge = 0;  // the bridge's or listening call's tag (the engine's call id)
    char key = 0;
};

// One producer (a worker), one consumer (the loop), fixed size, no lock: a full queue drops the
// event and counts it, the worker never waits.
class EventRing {
  public:
    static constexpr std::size_t kSize = 1024;
    bool push(const MediaEvent& e);
    bool pop(MediaEvent& e);
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  private:
    std::array<MediaEvent, kSize> slots_{};
    std::atomic<std::size_t> head_{0}, tail_{0};  // head: next to read; tail: next to write
    std::atomic<std::uint64_t> dropped_{0};
};

class MediaWorker {
  public:
    // `index` names the thread (outpace-media-N). Its priority: `nice` added to the process's
    // (negative needs CAP_SYS_NICE or LimitNICE=), or SCHED_FIFO at `realtime` (1-99; needs
    // CAP_SYS_NICE or LimitRTPRIO=, and no RestrictRealtime=). A priority refused leaves the
    // thread running as it was, and says why in `*error`.
    MediaWorker(int index, int nice, int realtime, std::string* error);
    ~MediaWorker();
    MediaWorker(const MediaWorker&) = delete;
    MediaWorker& operator=(const MediaWorker&) = delete;

    event_base* base() const { return base_; }
    // Queues `e` for the loop and wakes it; false (dropped and counted) when the queue is full.
    // On this worker's thread.
    bool tell(const MediaEvent& e);
    EventRing& events() { return events_; }
    // The period of a listening call's silence, as libevent's common timeout on this loop (many
    // timers of one period cost O(1) each).
    const timeval* every_20ms() const { return every_20ms_; }
    // Bridges and listening calls placed here now (kept by the loop's thread only).
    std::size_t bridges = 0, listening = 0;
    // Whether the thread runs (false: the loop could not be made; nothing is lent to it).
    bool running() const { return base_ != nullptr; }
    // Its priority as the thread read it back once set: "nice +N" (relative to the process's)
    // or "SCHED_FIFO N".
    const std::string& running_at() const { return running_at_; }

  private:
    event_base* base_ = nullptr;
    // Activated by the destructor; its callback ends the loop. An event, not a bare
    // event_base_loopbreak: a break asked for before the thread enters its loop would be
    // forgotten (the loop clears it on entry), an active event is not.
    LoopEvent stop_;
    std::string running_at_;
    EventRing events_;
    const timeval* every_20ms_ = nullptr;
    friend class MediaWorkers;
    const std::function<void()>* wake_ = nullptr;  // the workers' (set before anything is lent)
    std::thread thread_;
};

class MediaWorkers {
  public:
    // `count` workers (0: none; media stays on the loop), at the priority MediaWorker takes.
    MediaWorkers(int count, int nice = 0, int realtime = 0);
    // Why a worker's priority was refused (empty: it was not).
    const std::string& priority_error() const { return priority_error_; }
    // The workers' priority as read back ("nice +0", "SCHED_FIFO 10"); empty without workers.
    const std::string& running_at() const { return running_at_; }
    std::size_t size() const { return workers_.size(); }
    // What wakes the engine's loop when a worker has told it something (thread-safe; called on
    // the workers' threads). Set before anything is lent; without it the loop reads the events
    // on its media tick only.
    void wake_with(std::function<void()> wake) { wake_ = std::move(wake); }
    // The worker with the fewest bridges and listening calls; null when there is none.
    MediaWorker* least_busy();
    // Every worker's events, in order per worker.
    void drain(const std::function<void(const MediaEvent&)>& handle);
    std::uint64_t dropped_events() const;
    // Bridges lent so far (to all workers), and brought home.
    std::uint64_t lent = 0, homed = 0;
    // Calls lent to listen (answering-machine detection), so far, and brought home.
    std::uint64_t listens = 0, listens_homed = 0;

  private:
    std::function<void()> wake_;
    std::vector<std::unique_ptr<MediaWorker>> workers_;
    std::string priority_error_, running_at_;
};

// A conversation on a worker: the customer's and the agent's sessions relay to each other as
// packets arrive (no buffering, as on the loop), the recording hears the customer and frames
// what the agent said, keys pressed become events for the loop. Destroying it brings it home.
class Bridge final : public RtpSession::Lender {
  public:
    // Called on the worker for each relayed packet, with its arrival at the engine's socket.
    using Relayed = std::function<void(std::chrono::steady_clock::time_point)>;
    // Lends both sessions to `worker`; null (nothing lent) when its loop refused them.
    static std::unique_ptr<Bridge> lend(MediaWorkers& workers, MediaWorker& worker,
                                        RtpSession& customer, RtpSession& agent, Recorder* recorder,
                                        std::uint64_t tag, Relayed relayed);
    ~Bridge() override;
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Both sessions back on the loop, with the handlers they had (idempotent).
    void home() override;
    bool lent() const { return lent_; }

  private:
    Bridge() = default;
    MediaWorkers* workers_ = nullptr;
    MediaWorker* worker_ = nullptr;
    RtpSession* customer_ = nullptr;
    RtpSession* agent_ = nullptr;
    Recorder* recorder_ = nullptr;
    bool lent_ = false;
    std::uint64_t tag_ = 0;
    Relayed relayed_;
};

// An answered call on a worker while the engine listens for who answered: its audio goes to
// `heard` there (the answering-machine and SIT detectors), the recording hears it, and the worker
// sends the call 20 ms of silence every 20 ms, as the loop would (it keeps NAT bindings open while
// we listen; the recording frames it). When `heard` returns true (a verdict, tones: something
// the loop must act on), the loop is told (MediaEvent::Kind::heard, with the tag) and brings the
// session home to act on it. Destroying it brings it home.
class Listen final : public RtpSession::Lender {
  public:
    // On the worker, for each packet's audio and its time since the first packet.
    using Heard = std::function<bool(std::span<const std::int16_t>, std::chrono::milliseconds)>;
    // Lends `session` to `worker`; null (nothing lent) when its loop refused it.
    static std::unique_ptr<Listen> lend(MediaWorkers& workers, MediaWorker& worker,
                                        RtpSession& session, Recorder* recorder, std::uint64_t tag,
                                        Heard heard);
    ~Listen() override;
    Listen(const Listen&) = delete;
    Listen& operator=(const Listen&) = delete;

    // The session back on the loop, with the handlers it had (idempotent).
    void home() override;
    bool lent() const { return lent_; }

  private:
    Listen() = default;
    static void silence(evutil_socket_t, short, void* self);
    MediaWorkers* workers_ = nullptr;
    MediaWorker* worker_ = nullptr;
    RtpSession* session_ = nullptr;
    Recorder* recorder_ = nullptr;
    bool lent_ = false;
    bool told_ = false;  // the loop was told once: that is enough, it comes for the rest
    std::uint64_t tag_ = 0;
    Heard heard_;
    LoopEvent silence_;  // on the worker's loop
};

// The default number of media workers: the cores this process may use, minus the loop's.
int default_media_workers();

}  // namespace outpace::media
