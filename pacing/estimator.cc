#include "pacing/estimator.h"

#include <algorithm>
#include <cmath>

#include "pacing/snapshot.h"

namespace outpace::pacing {

int Snapshot::count(AgentState s) const {
    int n = 0;
    for (const auto& a : agents) n += (a.state == s);
    return n;
}

DurationHistogram::DurationHistogram(double bin_s, double max_s)
    : bin_s_(bin_s), bins_(static_cast<std::size_t>(max_s / bin_s) + 1), above_(bins_.size() + 1) {}

void DurationHistogram::add(double s) {
    const auto i = std::min(bins_.size() - 1, static_cast<std::size_t>(std::max(0.0, s) / bin_s_));
    bins_[i] += 1;
    total_ += 1;
    sum_ += s;
    dirty_ = true;
}

void DurationHistogram::refresh() const {
    if (!dirty_) return;
    above_[bins_.size()] = 0;
    for (std::size_t i = bins_.size(); i-- > 0;) above_[i] = above_[i + 1] + bins_[i];
    dirty_ = false;
}

double DurationHistogram::survival(double t) const {
    if (total_ == 0) return t <= 0 ? 1 : 0;
    refresh();
    // Linear within the bin that holds t.
    const double x = std::max(0.0, t) / bin_s_;
    const auto i = static_cast<std::size_t>(x);
    if (i >= bins_.size()) return 0;
    const double frac = x - static_cast<double>(i);
    return (above_[i + 1] + bins_[i] * (1 - frac)) / total_;
}

double DurationHistogram::ends_within(double t, double h) const {
    const double s = survival(t);
    if (s <= 1e-9) return 1;  // longer than anything seen: expect it to end soon
    return std::clamp((s - survival(t + h)) / s, 0.0, 1.0);
}

Estimator::Estimator(double memory_dials)
    : decay_(1 - 1 / memory_dials),
      delay_{DurationHistogram(0.5, 180), DurationHistogram(0.5, 180), DurationHistogram(0.5, 180)},
      amd_(0.1, 30),
      handle_(1, 7200),
      talk_(1, 7200),
      wrap_(1, 3600) {}

void Estimator::dial_resolved(DialResult r, double delay_s) {
    for (auto& w : weight_) w *= decay_;
    weight_[static_cast<std::size_t>(r)] += 1;
    dials_ += 1;
    if (r != DialResult::no_answer) delay_[static_cast<std::size_t>(r)].add(delay_s);
}

void Estimator::amd_decided(double s) {
    amd_.add(s);
}

void Estimator::handled(double talk_s, double wrap_s) {
    handle_.add(talk_s + wrap_s);
    talk_.add(talk_s);
    wrap_.add(wrap_s);
}

double Estimator::share(DialResult r) const {
    double total = 0;
    for (double w : weight_) total += w;
    return total > 0 ? weight_[static_cast<std::size_t>(r)] / total : 0;
}

double Estimator::live_given_ringing(double age, double ring_timeout) const {
    const double live = share(DialResult::live) * delay_[0].survival(age);
    const double machine = share(DialResult::machine) * delay_[1].survival(age);
    const double fail = share(DialResult::fail) * delay_[2].survival(age);
    const double none = age < ring_timeout ? share(DialResult::no_answer) : 0;
    const double all = live + machine + fail + none;
    return all > 0 ? live / all : 0;
}

double Estimator::live_verdict_delay_s() const {
    return delay_[0].mean() + amd_.mean();
}

}  // namespace outpace::pacing
