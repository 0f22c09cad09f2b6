#include "dialer/engine/engine_env.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "dialer/loop_event.h"
#include "dialer/thread_priority.h"

namespace outpace {

// One thread for work off the loop (slow work, or the ledger's writes), in order, and an eventfd
// that wakes the loop when results are ready.
struct LoopEnv::Worker {
    struct Job {
        std::function<bool()> work;
        std::function<void(bool)> done;
        bool result = false;
    };
    std::mutex mu;
    std::condition_variable cv, idle;
    std::deque<Job> queue, results;
    bool stop = false, busy = false, slow = true;
    int wake = -1;
    LoopEvent ev;
    std::thread thread;

    Worker(event_base* loop, bool slow_work) : slow(slow_work) {
        wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        ev = LoopEvent(loop, wake, EV_READ | EV_PERSIST, &Worker::ready, this);
        ev.add();
        thread = std::thread([this] { run(); });
    }
    // Queues a job for the thread.
    void post(Job job) {
        std::lock_guard lock(mu);
        queue.push_back(std::move(job));
        cv.notify_one();
    }
    // Until every job given so far has run (their results may still wait for the loop).
    void wait_idle() {
        std::unique_lock lock(mu);
        idle.wait(lock, [&] { return queue.empty() && !busy; });
    }
    ~Worker() {
        {
            std::lock_guard lock(mu);
            stop = true;
        }
        cv.notify_all();
        thread.join();
        ev.reset();
        if (wake >= 0) ::close(wake);
    }
    void run() {
        // Slow work yields to the loop; the ledger's writes keep the loop's priority.
        if (slow)
            lower_thread(0, 10, "outpace-slow");
        else
            lower_thread(0, 0, "outpace-ledger");
        std::unique_lock lock(mu);
        while (true) {
            cv.wait(lock, [&] { return stop || !queue.empty(); });
            if (stop) return;
            Job job = std::move(queue.front());
            queue.pop_front();
            busy = true;
            lock.unlock();
            job.result = job.work();
            lock.lock();
            busy = false;
            results.push_back(std::move(job));
            const std::uint64_t one = 1;
            (void)!::write(wake, &one, sizeof one);
            if (queue.empty()) idle.notify_all();
        }
    }
    static void ready(evutil_socket_t fd, short, void* self) {
        auto* w = static_cast<Worker*>(self);
        std::uint64_t n = 0;
        (void)!::read(fd, &n, sizeof n);
        std::deque<Job> done;
        {
            std::lock_guard lock(w->mu);
            done.swap(w->results);
        }
        for (auto& job : done) job.done(job.result);
    }
};

namespace {

// An eventfd the loop watches: wake() adds to its count from any thread, the loop reads it back
// to zero and runs `on_wake` once.
class LoopWakeup final : public Wakeup {
  public:
    LoopWakeup(event_base* loop, std::function<void()> on_wake) : on_wake_(std::move(on_wake)) {
        fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd_ < 0) return;
        ev_ = LoopEvent(loop, fd_, EV_READ | EV_PERSIST, &LoopWakeup::ready, this);
        if (!ev_.add()) ev_.reset();
    }
    ~LoopWakeup() override {
        ev_.reset();
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return static_cast<bool>(ev_); }
    void wake() override {
        const std::uint64_t one = 1;
        (void)!::write(fd_, &one, sizeof one);
    }

  private:
    static void ready(evutil_socket_t fd, short, void* self) {
        std::uint64_t n = 0;
        (void)!::read(fd, &n, sizeof n);
        static_cast<LoopWakeup*>(self)->on_wake_();
    }
    int fd_ = -1;
    LoopEvent ev_;
    std::function<void()> on_wake_;
};

}  // namespace

std::unique_ptr<Wakeup> LoopEnv::open_wakeup(std::function<void()> on_wake) {
    auto w = std::make_unique<LoopWakeup>(loop_, std::move(on_wake));
    if (!w->ok()) return nullptr;
    return w;
}

LoopEnv::LoopEnv(event_base* loop) : loop_(loop), clock_(loop) {}
LoopEnv::~LoopEnv() = default;

void LoopEnv::write_ledger(std::function<void()> work, std::function<void()> done) {
    if (!ledger_) ledger_ = std::make_unique<Worker>(loop_, false);
    ledger_->post({[work = std::move(work)] {
                       work();
                       return true;
                   },
                   [done = std::move(done)](bool) { done(); }});
}

void LoopEnv::write_ledger_now(const std::function<void()>& work) {
    if (!ledger_) {
        work();  // nothing was ever queued: in order already, and no thread for it
        return;
    }
    ledger_->post({[&work] {
                       work();
                       return true;
                   },
                   [](bool) {}});
    ledger_->wait_idle();
}

bool LoopEnv::off_loop(std::function<bool()> work, std::function<void(bool)> done) {
    if (!worker_) worker_ = std::make_unique<Worker>(loop_, true);
    {
        std::lock_guard lock(worker_->mu);
        if (worker_->queue.size() >= kOffLoopQueue) return false;
    }
    worker_->post({std::move(work), std::move(done)});
    return true;
}

std::unique_ptr<sip::SipStack> LoopEnv::open_sip(const sip::StackConfig& config,
                                                 sip::CallObserver& observer, std::string* error) {
    return sip::SipStack::create(loop_, config, observer, error);
}

std::unique_ptr<sip::Dns> LoopEnv::open_dns(const sip::DnsConfig& config, std::string* error) {
    return sip::open_dns(loop_, config, error);
}

std::unique_ptr<media::AudioChannel> LoopEnv::open_audio(const std::string& address,
                                                         media::RtpPortPool& ports,
                                                         std::string* error, int port) {
    return media::RtpSession::open(loop_, address, ports, error, port);
}

std::optional<int> EngineEnv::take_offer_port(const std::string& address,
                                              media::RtpPortPool& ports) {
    auto port = ports.take();
    for (std::size_t tries = ports.free(); port && tries > 0 && !port_bindable(address, *port);
         --tries) {
        ports.give(*port);
        port = ports.take();
    }
    return port;
}

bool LoopEnv::port_bindable(const std::string& address, int port) {
    return media::port_bindable(address, port);
}

std::unique_ptr<AgentChannel> LoopEnv::open_agent_channel(const std::string& endpoint,
                                                          const std::string& events,
                                                          const CurveConfig& curve,
                                                          AgentChannel::Handler handler,
                                                          std::string* error) {
    return AgentChannel::start(loop_, endpoint, events, curve, std::move(handler), error);
}

void LoopEnv::finished() {
    event_base_loopexit(loop_, nullptr);
}

}  // namespace outpace
