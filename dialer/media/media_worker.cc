#include "dialer/media/media_worker.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <future>
#include <mutex>
#include <string>

#include "dialer/media/recorder.h"
#include "dialer/thread_priority.h"

namespace outpace::media {

bool EventRing::push(const MediaEvent& e) {
    const auto tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) >= kSize) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    slots_[tail % kSize] = e;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
}

bool EventRing::pop(MediaEvent& e) {
    const auto head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return false;
    e = slots_[head % kSize];
    head_.store(head + 1, std::memory_order_release);
    return true;
}

namespace {

// libevent's locks, before the first loop a second thread touches: the engine's thread adds and
// removes a lent session's event on a worker's loop, which libevent then does under that loop's
// lock, waking it, and waiting for the event's callback if it is running.
void use_threads() {
    static std::once_flag once;
    std::call_once(once, [] { evthread_use_pthreads(); });
}

}  // namespace

MediaWorker::MediaWorker(int index, int nice, int realtime, std::string* error) {
    use_threads();
    base_ = event_base_new();
    if (!base_) return;
    stop_ = LoopEvent(
        base_, -1, 0,
        [](evutil_socket_t, short, void* base) {
            event_base_loopbreak(static_cast<event_base*>(base));
        },
        base_);
    if (!stop_) {
        event_base_free(base_);
        base_ = nullptr;  // not running: nothing is lent to it
        return;
    }
    const timeval period{0, 20'000};
    every_20ms_ = event_base_init_common_timeout(base_, &period);
    std::promise<std::string> started;
    auto priority = started.get_future();
    const int creator = ::getpriority(PRIO_PROCESS, 0);  // this thread's (Linux: per thread)
    thread_ = std::thread([this, index, nice, realtime, creator, &started] {
        const std::string name = "outpace-media-" + std::to_string(index);
        lower_thread(0, nice, name.c_str());
        std::string why;
        if (nice < 0 && ::getpriority(PRIO_PROCESS, 0) > creator + nice)
            why = "nice " + std::to_string(nice) + " refused (needs CAP_SYS_NICE or LimitNICE=)";
        if (realtime > 0) {
            sched_param p{};
            p.sched_priority = realtime;
            if (const int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p); e != 0)
                why = "SCHED_FIFO " + std::to_string(realtime) + " refused (" + std::strerror(e) +
                      "; needs CAP_SYS_NICE or LimitRTPRIO=, and RestrictRealtime=no)";
        }
        // What the thread now runs at, read back: its nice relative to the thread that started it
        // (the engine's loop), or its real-time policy.
        int policy = SCHED_OTHER;
        sched_param now{};
        pthread_getschedparam(pthread_self(), &policy, &now);
        const int relative = ::getpriority(PRIO_PROCESS, 0) - creator;
        running_at_ = policy == SCHED_FIFO ? "SCHED_FIFO " + std::to_string(now.sched_priority)
                                           : "nice " + std::string(relative > 0 ? "+" : "") +
                                                 std::to_string(relative);
        started.set_value(why);
        // Runs until the destructor breaks the loop, with or without sessions to watch.
        event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
    });
    const std::string why = priority.get();
    if (error && !why.empty()) *error = why;
}

bool MediaWorker::tell(const MediaEvent& e) {
    if (!events_.push(e)) return false;
    if (wake_ && *wake_) (*wake_)();
    return true;
}

MediaWorker::~MediaWorker() {
    if (!base_) return;
    stop_.activate();  // thread-safe: wakes the loop through its notify socket
    thread_.join();
    stop_.reset();
    event_base_free(base_);
}

MediaWorkers::MediaWorkers(int count, int nice, int realtime) {
    for (int i = 0; i < count; ++i) {
        auto w = std::make_unique<MediaWorker>(i, nice, realtime, &priority_error_);
        if (!w->running()) continue;
        w->wake_ = &wake_;
        running_at_ = w->running_at();
        workers_.push_back(std::move(w));
    }
}

MediaWorker* MediaWorkers::least_busy() {
    MediaWorker* best = nullptr;
    for (auto& w : workers_)
        if (!best || w->bridges + w->listening < best->bridges + best->listening) best = w.get();
    return best;
}

void MediaWorkers::drain(const std::function<void(const MediaEvent&)>& handle) {
    MediaEvent e;
    for (auto& w : workers_)
        while (w->events().pop(e)) handle(e);
}

std::uint64_t MediaWorkers::dropped_events() const {
    std::uint64_t n = 0;
    for (const auto& w : workers_) n += w->events().dropped();
    return n;
}

std::unique_ptr<Bridge> Bridge::lend(MediaWorkers& workers, MediaWorker& worker,
                                     RtpSession& customer, RtpSession& agent, Recorder* recorder,
                                     std::uint64_t tag, Relayed relayed) {
    if (customer.lent() || agent.lent()) return nullptr;
    std::unique_ptr<Bridge> b(new Bridge);
    b->workers_ = &workers;
    b->worker_ = &worker;
    b->recorder_ = recorder;
    b->tag_ = tag;
    b->relayed_ = std::move(relayed);
    // Both known before either is lent: the first side's packets may reach the worker before
    // the second side is lent (it is only sent to then, never watched).
    b->customer_ = &customer;
    b->agent_ = &agent;
    Bridge* raw = b.get();
    // Each side's audio to the other as it arrives, as AgentPool relays it on the loop; the
    // recording hears the customer and frames what the agent said (Call::send_to_customer).
    const bool agent_ok = agent.lend(
        worker.base(), *b,
        [raw](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
            raw->customer_->relay(pcm);
            if (raw->recorder_) raw->recorder_->tick(pcm);
            if (raw->relayed_) raw->relayed_(raw->agent_->arrived());
        },
        [raw, &worker](char key) {
            worker.tell({MediaEvent::Kind::agent_key, raw->tag_, key});
        });
    if (!agent_ok) return nullptr;
    const bool customer_ok = customer.lend(
        worker.base(), *b,
        [raw](std::span<const std::int16_t> pcm, std::chrono::milliseconds) {
            if (raw->recorder_) raw->recorder_->heard(pcm);
            raw->agent_->relay(pcm);
            if (raw->relayed_) raw->relayed_(raw->customer_->arrived());
        },
        [raw, &worker](char key) {
            worker.tell({MediaEvent::Kind::customer_key, raw->tag_, key});
        });
    if (!customer_ok) {
        agent.leave_worker();
        agent.rejoin();
        return nullptr;
    }
    b->lent_ = true;
    ++worker.bridges;
    ++workers.lent;
    return b;
}

Bridge::~Bridge() {
    home();
}

void Bridge::home() {
    if (!lent_) return;
    lent_ = false;
    // Both off the worker first: until both are, one side's callback may still send on the other.
    customer_->leave_worker();
    agent_->leave_worker();
    customer_->rejoin();
    agent_->rejoin();
    --worker_->bridges;
    ++workers_->homed;
}

std::unique_ptr<Listen> Listen::lend(MediaWorkers& workers, MediaWorker& worker,
                                     RtpSession& session, Recorder* recorder, std::uint64_t tag,
                                     Heard heard) {
    if (session.lent() || !worker.every_20ms()) return nullptr;
    std::unique_ptr<Listen> l(new Listen);
    l->workers_ = &workers;
    l->worker_ = &worker;
    l->session_ = &session;
    l->recorder_ = recorder;
    l->tag_ = tag;
    l->heard_ = std::move(heard);
    l->silence_ = LoopEvent(worker.base(), -1, EV_PERSIST, &Listen::silence, l.get());
    if (!l->silence_) return nullptr;
    Listen* raw = l.get();
    const bool ok = session.lend(
        worker.base(), *l,
        [raw](std::span<const std::int16_t> pcm, std::chrono::milliseconds at) {
            if (raw->recorder_) raw->recorder_->heard(pcm);
            // Told once (the loop then comes for everything heard); told again only when the
            // queue had no room the first time.
            if (raw->heard_(pcm, at) && !raw->told_)
                raw->told_ = raw->worker_->tell({MediaEvent::Kind::heard, raw->tag_, 0});
        },
        [](char) {});  // keys while we listen are nobody's (as on the loop)
    if (!ok) return nullptr;
    // The silence from now on, on the worker (timers of one period, O(1) each there).
    if (!raw->silence_.add(worker.every_20ms())) {
        session.leave_worker();
        session.rejoin();
        return nullptr;
    }
    l->lent_ = true;
    ++worker.listening;
    ++workers.listens;
    return l;
}

void Listen::silence(evutil_socket_t, short, void* self) {
    static const std::int16_t kSilence[160] = {};
    auto* l = static_cast<Listen*>(self);
    l->session_->relay(kSilence);
    if (l->recorder_) l->recorder_->tick(kSilence);
}

Listen::~Listen() {
    home();
}

void Listen::home() {
    if (!lent_) return;
    lent_ = false;
    // The silence's timer first (a callback running on the worker is waited for), then the
    // socket: after both, nothing of the worker's touches the session.
    silence_.reset();
    session_->leave_worker();
    session_->rejoin();
    --worker_->listening;
    ++workers_->listens_homed;
}

int default_media_workers() {
    cpu_set_t set;
    CPU_ZERO(&set);
    int cores = 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
    return cores > 1 ? cores - 1 : 0;
}

}  // namespace outpace::media
