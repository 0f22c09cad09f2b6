// Signal level of 20 ms blocks and an adaptive noise floor, so that "speech" means "clearly above
// this line's own background", never a fixed threshold that turns noisy lines into machines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace outpace::amd {

constexpr int kRate = 8000;
constexpr std::size_t kBlock = 160;  // 20 ms at 8 kHz
constexpr int kBlockMs = 20;

struct Levels {
    double speech_above_floor_db = 9;  // a block this far above the floor starts speech
    double stay_above_floor_db = 6;    // and speech lasts while blocks stay this far above it
    double min_speech_dbfs = -58;      // nothing quieter is speech, however quiet the line
};

// Mean power of a block in dBFS (a full-scale sine is 0 dBFS); digital silence is -100.
double block_dbfs(const std::int16_t* pcm, std::size_t n);

// The line's background level: the quietest block of the last 1.5 s (minimum statistics). Speech
// has gaps between syllables and words, so the minimum over a window longer than a syllable is
// the background; stationary noise keeps the floor at its own level from the first block on.
class NoiseFloor {
  public:
    void add(double dbfs);
    double dbfs() const { return floor_; }

  private:
    static constexpr std::size_t kWindow = 75;  // 1.5 s of blocks
    std::array<double, kWindow> ring_{};
    std::size_t n_ = 0;
    double floor_ = -100;
};

}  // namespace outpace::amd
