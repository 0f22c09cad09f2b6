// An agent's controls over the call in progress (docs/agent-protocol.md, "Call controls"): hold,
// mute, the recording's pause, keys to the customer, and the customer's keys to the agent.
#include "dialer/engine/agent_pool.h"

namespace outpace {

using Type = AgentRequest::Type;

void AgentPool::control(Agent& a, const AgentRequest& r) {
    auto refuse = [&](const std::string& why) { protocol_.error(a, why, r.type); };
    Call* c = a.customer ? host_.find_call(a.customer) : nullptr;
    if (!c || c->agent() != &a) return refuse("no call in progress");
    if (c->state() != Call::State::connected) return refuse("the call is not connected");
    const Campaign& campaign = c->run().campaign();
    switch (r.type) {
        case Type::hold:
            if (c->held()) return refuse("the customer is on hold already");
            c->hold(true);
            break;
        case Type::unhold:
            if (!c->held()) return refuse("the customer is not on hold");
            c->hold(false);
            break;
        case Type::mute:
            if (c->muted()) return refuse("muted already");
            c->mute(true);
            break;
        case Type::unmute:
            if (!c->muted()) return refuse("not muted");
            c->mute(false);
            break;
        case Type::record_pause:
            if (!campaign.agent_can_pause_recording)
                return refuse(campaign.name +
                              " does not let agents pause the recording "
                              "(recording.agent_can_pause)");
            if (!c->recording()) return refuse("this call is not being recorded");
            if (c->recording_paused()) return refuse("the recording is paused already");
            c->pause_recording(true);
            break;
        case Type::record_resume:
            if (!c->recording_paused()) return refuse("the recording is not paused");
            c->pause_recording(false);
            break;
        case Type::dtmf:
            if (!c->send_keys(r.digits)) return refuse("too many keys waiting to be sent");
            protocol_.keys_sent(a, c->attempt().id, r.digits);
            return;
        default:
            return;
    }
    const ControlsView v{.attempt = c->attempt().id,
                         .on_hold = c->held(),
                         .muted = c->muted(),
                         .recording = !c->recording()         ? "off"
                                      : c->recording_paused() ? "paused"
                                                              : "on"};
    protocol_.controls(a, v);
    protocol_.call_controls(c->run().name(), a.id, v);
}

void AgentPool::customer_key(Call& c, char key) {
    Agent* a = c.agent();
    if (!a) return;
    protocol_.customer_key(*a, c.attempt().id, key);
    if (!a->rtp) return;
    if (!a->keys) a->keys = std::make_unique<media::KeyPresses>();
    a->keys->add(std::string(1, key));  // a full queue drops the key for the phone, not the desk
}

}  // namespace outpace
