// Statistics a pacing policy learns online from completed attempts: outcome shares (with
// forgetting, so a change in the list is followed), answer delays per outcome, handle and wrap-up
// times. Everything here comes from what the engine observes.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace outpace::pacing {

enum class DialResult { live, machine, fail, no_answer };

// A histogram of durations with fixed-width bins, answering survival questions in O(1).
class DurationHistogram {
  public:
    DurationHistogram(double bin_s, double max_s);
    void add(double s);
    double count() const { return total_; }
    double mean() const { return total_ ? sum_ / total_ : 0; }
    // Scales every observation's weight down so that the histogram holds at most `max_weight`:
    // its shape stays, and what is observed from now on weighs as much as that history.
    void cap_weight(double max_weight);
    // The histogram as bytes (appended to `out`), and back: false, and nothing changed, when the
    // bytes are not a histogram of this one's bins.
    void save(std::string& out) const;
    bool restore(std::string_view& in);
    // P(duration > t)
    double survival(double t) const;
    // P(duration <= t + h | duration > t): the chance something that has lasted t ends within h.
    double ends_within(double t, double h) const;

  private:
    void refresh() const;
    double bin_s_;
    std::vector<double> bins_;
    mutable std::vector<double> above_;  // above_[i] = weight in bins >= i
    mutable bool dirty_ = true;
    double total_ = 0, sum_ = 0;
};

class Estimator {
  public:
    // `memory_dials`: outcome shares forget with this time constant, in dials.
    explicit Estimator(double memory_dials = 600);

    void dial_resolved(DialResult r, double delay_s);  // delay: dial to answer/failure/timeout
    void amd_decided(double after_answer_s);
    void handled(double talk_s, double wrap_s);

    // What was learned, as bytes a later run restores (the store keeps them between runs).
    // restore() replaces this estimator's state and caps each duration histogram at
    // `max_weight` observations (see DurationHistogram::cap_weight), so a run that starts from
    // history still follows a list or a team that has changed; false, and nothing changed, when
    // the bytes do not decode.
    std::string save() const;
    bool restore(std::string_view bytes, double max_weight = 2000);

    double dials_seen() const { return dials_; }
    double share(DialResult r) const;  // current estimate of the outcome's share of dials
    double live_rate() const { return share(DialResult::live); }
    // Chance that a call still ringing at `age_s` ends as a live answer (or a machine).
    double live_given_ringing(double age_s, double ring_timeout_s) const;
    double machine_given_ringing(double age_s, double ring_timeout_s) const;
    // Expected seconds from dialling to a human verdict for a live answer.
    double live_verdict_delay_s() const;
    const DurationHistogram& handle() const { return handle_; }
    const DurationHistogram& talk() const { return talk_; }
    const DurationHistogram& wrap() const { return wrap_; }

  private:
    double given_ringing(DialResult r, double age_s, double ring_timeout_s) const;
    double decay_;
    double dials_ = 0;
    std::array<double, 4> weight_{};
    std::array<DurationHistogram, 3> delay_;  // live, machine, fail
    DurationHistogram amd_, handle_, talk_, wrap_;
};

}  // namespace outpace::pacing
