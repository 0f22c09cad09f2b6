#include "dialer/engine/trunk.h"

#include <algorithm>

namespace outpace {

int Trunk::dials_last_second(SteadyTime now) {
    while (!recent_dials_.empty() && now - recent_dials_.front() >= std::chrono::seconds(1))
        recent_dials_.pop_front();
    return static_cast<int>(recent_dials_.size());
}

int Trunk::allowance(SteadyTime now, std::chrono::milliseconds tick) {
    const double cps = config_.max_calls_per_second;
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    refilled_ = now;
    const double burst = std::max(1.0, cps * std::chrono::duration<double>(tick).count() * 2);
    tokens_ = std::min(burst, tokens_ + cps * elapsed);
    return std::max(0, std::min(static_cast<int>(tokens_),
                                config_.max_calls_per_second - dials_last_second(now)));
}

void Trunk::dialled(SteadyTime now) {
    ++in_progress_;
    recent_dials_.push_back(now);
    tokens_ -= 1;
}

void Trunk::failed(SteadyTime now) {
    m_.carrier_errors->Increment();
    if (++consecutive_errors_ >= 3) {
        const int doubling = std::min(6, consecutive_errors_ - 3);
        backoff_until_ = now + std::chrono::milliseconds(1000LL << doubling);
    }
}

void Trunk::update_gauges(SteadyTime now) {
    m_.up->Set(resting(now) ? 0 : 1);
    m_.calls->Set(in_progress_);
}

}  // namespace outpace
