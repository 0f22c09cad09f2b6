// Everything the engine needs from outside that a test may want to replace, passed in (the way
// LevelDB passes an Env): the clock and timers, the SIP stack, call audio, the agents' channel,
// and the loop's end. LoopEnv is the real one: libevent, Sofia-SIP, RTP sockets, ZeroMQ.
#pragma once

#include <memory>
#include <string>

#include "dialer/engine/agent_channel.h"
#include "dialer/engine/clock.h"
#include "dialer/media/rtp.h"
#include "dialer/sip/sip_stack.h"

struct event_base;

namespace outpace {

class EngineEnv {
  public:
    virtual ~EngineEnv() = default;
    virtual Clock& clock() = 0;
    virtual std::unique_ptr<sip::SipStack> open_sip(const sip::StackConfig& config,
                                                    sip::CallObserver& observer,
                                                    std::string* error) = 0;
    // A call's audio on `address`: on exactly `port` when given (taken from `ports` earlier; the
    // channel owns it from here, even when this fails), else on a port from `ports`.
    virtual std::unique_ptr<media::AudioChannel> open_audio(const std::string& address,
                                                            media::RtpPortPool& ports,
                                                            std::string* error, int port = 0) = 0;
    // Whether `port` could be bound now (another program may hold it).
    virtual bool port_bindable(const std::string& address, int port) = 0;
    virtual std::unique_ptr<AgentChannel> open_agent_channel(const std::string& endpoint,
                                                             const std::string& events,
                                                             const CurveConfig& curve,
                                                             AgentChannel::Handler handler,
                                                             std::string* error) = 0;
    // The engine has stopped: the loop may end.
    virtual void finished() = 0;
};

class LoopEnv final : public EngineEnv {
  public:
    explicit LoopEnv(event_base* loop) : loop_(loop), clock_(loop) {}
    Clock& clock() override { return clock_; }
    std::unique_ptr<sip::SipStack> open_sip(const sip::StackConfig& config,
                                            sip::CallObserver& observer,
                                            std::string* error) override;
    std::unique_ptr<media::AudioChannel> open_audio(const std::string& address,
                                                    media::RtpPortPool& ports, std::string* error,
                                                    int port) override;
    bool port_bindable(const std::string& address, int port) override;
    std::unique_ptr<AgentChannel> open_agent_channel(const std::string& endpoint,
                                                     const std::string& events,
                                                     const CurveConfig& curve,
                                                     AgentChannel::Handler handler,
                                                     std::string* error) override;
    void finished() override;

  private:
    event_base* loop_;
    LoopClock clock_;
};

}  // namespace outpace
