#include "answering-detect/level.h"

#include <algorithm>
#include <cmath>

namespace outpace::amd {

double block_dbfs(const std::int16_t* pcm, std::size_t n) {
    if (n == 0) return -100;
    std::int64_t sum = 0, sq = 0;
    for (std::size_t i = 0; i < n; ++i) sum += pcm[i], sq += std::int64_t(pcm[i]) * pcm[i];
    // Power around the mean: a DC offset (some A-law/µ-law paths have one) is not speech.
    const double mean = double(sum) / double(n);
    const double power = double(sq) / double(n) - mean * mean;
    constexpr double kFullScaleSine = 32768.0 * 32768.0 / 2;
    return power <= 1e-3 ? -100 : std::max(-100.0, 10 * std::log10(power / kFullScaleSine));
}

void NoiseFloor::add(double dbfs) {
    ring_[n_ % kWindow] = dbfs;
    ++n_;
    const std::size_t filled = std::min(n_, kWindow);
    floor_ = *std::min_element(ring_.begin(), ring_.begin() + filled);
}

}  // namespace outpace::amd
