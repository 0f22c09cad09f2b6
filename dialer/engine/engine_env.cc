#include "dialer/engine/engine_env.h"

#include <event2/event.h>

namespace outpace {

std::unique_ptr<sip::SipStack> LoopEnv::open_sip(const sip::StackConfig& config,
                                                 sip::CallObserver& observer, std::string* error) {
    return sip::SipStack::create(loop_, config, observer, error);
}

std::unique_ptr<media::AudioChannel> LoopEnv::open_audio(const std::string& address,
                                                         media::RtpPortPool& ports,
                                                         std::string* error, int port) {
    return media::RtpSession::open(loop_, address, ports, error, port);
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
