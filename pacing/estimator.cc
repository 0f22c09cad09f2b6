#include "pacing/estimator.h"

#include "pacing/bytes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

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

void DurationHistogram::cap_weight(double max_weight) {
    if (total_ <= max_weight || total_ <= 0) return;
    const double f = max_weight / total_;
    for (double& b : bins_) b *= f;
    total_ *= f;
    sum_ *= f;
    dirty_ = true;
}

namespace {

using bytes::get;
using bytes::get_f64;
using bytes::put;
using bytes::put_f64;

constexpr std::uint32_t kEstimatorVersion = 1;

}  // namespace

// Bin width, bin count, total and sum, then the bins that hold anything as (index, weight).
void DurationHistogram::save(std::string& out) const {
    put_f64(out, bin_s_);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(bins_.size()));
    put_f64(out, total_);
    put_f64(out, sum_);
    std::uint32_t used = 0;
    for (double b : bins_) used += b > 0;
    put<std::uint32_t>(out, used);
    for (std::size_t i = 0; i < bins_.size(); ++i)
        if (bins_[i] > 0)
            put<std::uint32_t>(out, static_cast<std::uint32_t>(i)), put_f64(out, bins_[i]);
}

bool DurationHistogram::restore(std::string_view& in) {
    double bin_s = 0, total = 0, sum = 0;
    std::uint32_t size = 0, used = 0;
    if (!get_f64(in, bin_s) || !get(in, size) || !get_f64(in, total) || !get_f64(in, sum) ||
        !get(in, used))
        return false;
    if (bin_s != bin_s_ || size != bins_.size() || used > size) return false;
    std::vector<double> bins(bins_.size(), 0.0);
    double check = 0;
    for (std::uint32_t k = 0; k < used; ++k) {
        std::uint32_t i = 0;
        double w = 0;
        if (!get(in, i) || !get_f64(in, w) || i >= size) return false;
        bins[i] = w;
        check += w;
    }
    // The bins must add up to the total they claim (within rounding): anything else is not ours.
    if (std::abs(check - total) > 1e-6 * std::max(1.0, total)) return false;
    bins_ = std::move(bins);
    total_ = total;
    sum_ = sum;
    dirty_ = true;
    return true;
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

std::string Estimator::save() const {
    std::string out;
    put<std::uint32_t>(out, kEstimatorVersion);
    put_f64(out, dials_);
    for (double w : weight_) put_f64(out, w);
    for (const auto& h : delay_) h.save(out);
    for (const auto* h : {&amd_, &handle_, &talk_, &wrap_}) h->save(out);
    return out;
}

bool Estimator::restore(std::string_view in, double max_weight) {
    std::uint32_t version = 0;
    if (!get(in, version) || version != kEstimatorVersion) return false;
    // Into a copy: bytes that stop half-way leave this estimator as it was.
    Estimator e = *this;
    if (!get_f64(in, e.dials_)) return false;
    for (double& w : e.weight_)
        if (!get_f64(in, w)) return false;
    for (auto& h : e.delay_)
        if (!h.restore(in)) return false;
    for (auto* h : {&e.amd_, &e.handle_, &e.talk_, &e.wrap_})
        if (!h->restore(in)) return false;
    if (!in.empty()) return false;
    for (auto& h : e.delay_) h.cap_weight(max_weight);
    for (auto* h : {&e.amd_, &e.handle_, &e.talk_, &e.wrap_}) h->cap_weight(max_weight);
    *this = std::move(e);
    return true;
}

double Estimator::share(DialResult r) const {
    double total = 0;
    for (double w : weight_) total += w;
    return total > 0 ? weight_[static_cast<std::size_t>(r)] / total : 0;
}

// Of the calls still ringing at `age`, the share that ends as `r` (live or machine): each
// outcome's share of dials times its chance of not having come yet.
double Estimator::given_ringing(DialResult r, double age, double ring_timeout) const {
    const double live = share(DialResult::live) * delay_[0].survival(age);
    const double machine = share(DialResult::machine) * delay_[1].survival(age);
    const double fail = share(DialResult::fail) * delay_[2].survival(age);
    const double none = age < ring_timeout ? share(DialResult::no_answer) : 0;
    const double all = live + machine + fail + none;
    return all > 0 ? (r == DialResult::live ? live : machine) / all : 0;
}

double Estimator::live_given_ringing(double age, double ring_timeout) const {
    return given_ringing(DialResult::live, age, ring_timeout);
}

double Estimator::machine_given_ringing(double age, double ring_timeout) const {
    return given_ringing(DialResult::machine, age, ring_timeout);
}

double Estimator::live_verdict_delay_s() const {
    return delay_[0].mean() + amd_.mean();
}

}  // namespace outpace::pacing
