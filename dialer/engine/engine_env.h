// Everything the engine needs from outside that a test may want to replace, passed in (the way
// LevelDB passes an Env): the clock and timers, the SIP stack, call audio, the agents' channel,
// and the loop's end. LoopEnv is the real one: libevent, Sofia-SIP, RTP sockets, ZeroMQ.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dialer/engine/agent_channel.h"
#include "dialer/engine/clock.h"
#include "dialer/media/rtp.h"
#include "dialer/sip/dns.h"
#include "dialer/sip/sip_stack.h"

struct event_base;

namespace outpace {

// Wakes the engine's loop from another thread (a media worker with something to tell it).
class Wakeup {
  public:
    virtual ~Wakeup() = default;
    // Thread-safe.
    virtual void wake() = 0;
};

class EngineEnv {
  public:
    virtual ~EngineEnv() = default;
    virtual Clock& clock() = 0;
    virtual std::unique_ptr<sip::SipStack> open_sip(const sip::StackConfig& config,
                                                    sip::CallObserver& observer,
                                                    std::string* error) = 0;
    // DNS lookups for trunks named by host name (c-ares on the loop).
    virtual std::unique_ptr<sip::Dns> open_dns(const sip::DnsConfig& config,
                                               std::string* error) = 0;
    // A call's audio on `address`: on exactly `port` when given (taken from `ports` earlier; the
    // channel owns it from here, even when this fails), else on a port from `ports`.
    virtual std::unique_ptr<media::AudioChannel> open_audio(const std::string& address,
                                                            media::RtpPortPool& ports,
                                                            std::string* error, int port = 0) = 0;
    // Whether `port` could be bound now (another program may hold it).
    virtual bool port_bindable(const std::string& address, int port) = 0;
    // A port for an offer, reserved from `ports` but not bound until the answer. A port another
    // program holds now is skipped (it goes back to the far end of the pool, so one pass over
    // the pool visits each port once). Nothing when every port is taken.
    std::optional<int> take_offer_port(const std::string& address, media::RtpPortPool& ports);
    virtual std::unique_ptr<AgentChannel> open_agent_channel(const std::string& endpoint,
                                                             const std::string& events,
                                                             const CurveConfig& curve,
                                                             AgentChannel::Handler handler,
                                                             std::string* error) = 0;
    // Runs `work` off the engine's loop (slow CPU work: checking a desktop password costs
    // ~60 ms of Argon2id) and then `done` with its result on the loop. At most `kOffLoopQueue`
    // jobs wait (a whole floor logging in at the start of a shift); beyond that nothing is
    // queued and false is returned, so a flood cannot queue memory and the caller says "busy".
    static constexpr std::size_t kOffLoopQueue = 512;
    virtual bool off_loop(std::function<bool()> work, std::function<void(bool)> done) = 0;
    // The ledger's synced writes, on a thread of their own (not the slow work's: a login's
    // Argon2id must not delay a tick's batch), one at a time in the order given, so that the
    // attempt ids, contact states and outcomes they write can never be written out of order:
    // `work` there, then `done` on the loop. Not bounded here: the engine keeps at most one
    // batch per campaign and one batch of outcomes waiting.
    virtual void write_ledger(std::function<void()> work, std::function<void()> done) = 0;
    // `work` in that same order, waited for on the loop (what an agent's click needs answered
    // at once: a preview dial, a number dialled by hand; a reload that changes the rules the
    // ledger applies waits for the writes queued before it).
    virtual void write_ledger_now(const std::function<void()>& work) = 0;
    // The engine has stopped: the loop may end.
    virtual void finished() = 0;
    // `on_wake` on the loop after Wakeup::wake() (once for any number of wakes since it last
    // ran). Null where no other thread runs (in-process tests: the media tick reads instead).
    virtual std::unique_ptr<Wakeup> open_wakeup(std::function<void()> on_wake) {
        (void)on_wake;
        return nullptr;
    }
};

class LoopEnv final : public EngineEnv {
  public:
    explicit LoopEnv(event_base* loop);
    ~LoopEnv() override;
    Clock& clock() override { return clock_; }
    std::unique_ptr<sip::SipStack> open_sip(const sip::StackConfig& config,
                                            sip::CallObserver& observer,
                                            std::string* error) override;
    std::unique_ptr<sip::Dns> open_dns(const sip::DnsConfig& config, std::string* error) override;
    std::unique_ptr<media::AudioChannel> open_audio(const std::string& address,
                                                    media::RtpPortPool& ports, std::string* error,
                                                    int port) override;
    bool port_bindable(const std::string& address, int port) override;
    std::unique_ptr<AgentChannel> open_agent_channel(const std::string& endpoint,
                                                     const std::string& events,
                                                     const CurveConfig& curve,
                                                     AgentChannel::Handler handler,
                                                     std::string* error) override;
    bool off_loop(std::function<bool()> work, std::function<void(bool)> done) override;
    void write_ledger(std::function<void()> work, std::function<void()> done) override;
    void write_ledger_now(const std::function<void()>& work) override;
    void finished() override;
    std::unique_ptr<Wakeup> open_wakeup(std::function<void()> on_wake) override;

  private:
    struct Worker;
    event_base* loop_;
    LoopClock clock_;
    std::unique_ptr<Worker> worker_;  // started by the first off_loop()
    std::unique_ptr<Worker> ledger_;  // started by the first write_ledger()
};

}  // namespace outpace
