// What the engine can observe at a pacing decision. The policy sees nothing else: never the
// simulator's true distributions.
#pragma once

#include <vector>

namespace outpace::pacing {

enum class AgentState { ready, reserved, talking, wrapup, paused };

struct AgentView {
    AgentState state = AgentState::ready;
    double in_state_s = 0;  // how long the agent has been in this state
};

struct Snapshot {
    std::vector<AgentView> agents;      // logged-in agents
    std::vector<double> ringing_age_s;  // calls dialled and not yet answered or ended
    int answered_pending = 0;           // answered, AMD not decided yet
    int live_waiting = 0;               // human verdicts waiting for an agent
    int preview_requests = 0;           // preview mode: agents who asked to dial their next contact
    int sessions = 0;                   // survey mode: IVR sessions under way (and their lines)
    // The regulatory window so far (campaign-wide): live answers and abandoned calls.
    long window_live = 0;
    long window_abandoned = 0;
    // Rate caps: dials placed in the last second, and calls in flight on the trunk.
    int dials_last_second = 0;
    int trunk_in_flight = 0;

    int in_flight() const {
        return static_cast<int>(ringing_age_s.size()) + answered_pending + live_waiting + sessions;
    }
    int count(AgentState s) const;
};

}  // namespace outpace::pacing
