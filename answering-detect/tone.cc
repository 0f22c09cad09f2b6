#include "answering-detect/tone.h"

#include <cmath>

namespace outpace::amd {

BlockTone analyse_tone(const std::int16_t* x, std::size_t n, int rate) {
    BlockTone t;
    if (n < 16) return t;
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += x[i];
    mean /= double(n);
    double energy = 0;
    for (std::size_t i = 0; i < n; ++i) energy += (x[i] - mean) * (x[i] - mean);
    if (energy <= 0) return t;
    // Rising zero crossings with a small hysteresis (noise near zero must not add crossings),
    // placed between samples by linear interpolation.
    const double h = 0.1 * std::sqrt(energy / double(n));
    bool low = false;
    int crossings = 0;
    double first = 0, last = 0;
    for (std::size_t i = 1; i < n; ++i) {
        const double b = x[i] - mean;
        if (b < -h) low = true;
        if (low && b >= 0) {
            const double a = x[i - 1] - mean;
            const double at = double(i - 1) + (a < 0 ? a / (a - b) : 0);
            if (crossings++ == 0) first = at;
            last = at;
            low = false;
        }
    }
    if (crossings < 3 || last <= first) return t;
    t.hz = (crossings - 1) * rate / (last - first);
    // Goertzel at that frequency: |X(f)|^2 relative to the block's power.
    const double w = 2 * M_PI * t.hz / rate;
    const double coeff = 2 * std::cos(w);
    double s1 = 0, s2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double s = (x[i] - mean) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    t.purity = std::min(1.0, 2 * power / (double(n) * energy));
    return t;
}

void ToneTracker::add(const BlockTone& tone, bool present, ms start, ms length) {
    const bool steady = present && tone.purity >= lim_.min_purity && tone.hz > 0;
    if (steady && run_blocks_ > 0) {
        const double mean = hz_sum_ / run_blocks_;
        if (std::abs(tone.hz - mean) <= std::max(10.0, lim_.max_drift * mean)) {
            ++run_blocks_;
            hz_sum_ += tone.hz;
            run_end_ = start + length;
            return;
        }
    }
    end_run();
    if (steady) {
        run_blocks_ = 1;
        hz_sum_ = tone.hz;
        run_start_ = start;
        run_end_ = start + length;
    }
}

void ToneTracker::end_run() {
    if (run_blocks_ == 0) return;
    const double hz = hz_sum_ / run_blocks_;
    const ms length = run_end_ - run_start_;
    if (length >= lim_.min_length && length <= lim_.max_length && hz >= lim_.min_hz &&
        hz <= lim_.max_hz)
        beep_ = Beep{run_start_, run_end_, hz};
    run_blocks_ = 0;
    hz_sum_ = 0;
}

}  // namespace outpace::amd
