// Single-tone analysis for voicemail beeps and fax tones. Each 20 ms block gets a frequency from
// its interpolated zero crossings and a purity from a Goertzel filter tuned to that frequency (the
// share of the block's power in that one tone): a beep is ~1, speech well below. A tracker then
// asks for the same frequency over consecutive blocks, so a vowel does not pass for a beep.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace outpace::amd {

struct BlockTone {
    double hz = 0;      // 0: no periodic signal found
    double purity = 0;  // share of the block's power at `hz`, 0..1
};

BlockTone analyse_tone(const std::int16_t* pcm, std::size_t n, int rate_hz);

struct BeepLimits {
    double min_hz = 300, max_hz = 2500;
    std::chrono::milliseconds min_length{140}, max_length{1600};
    double min_purity = 0.8;
    double max_drift = 0.02;  // frequency change allowed within a tone, as a share
};

struct Beep {
    std::chrono::milliseconds start{0}, end{0};
    double hz = 0;
};

class ToneTracker {
  public:
    using ms = std::chrono::milliseconds;
    explicit ToneTracker(const BeepLimits& limits) : lim_(limits) {}

    // One block; `present`: loud enough to analyse at all.
    void add(const BlockTone& tone, bool present, ms block_start, ms block_length);
    // The block just added belongs to a steady tone.
    bool tonal() const { return run_blocks_ > 0; }
    double hz() const { return run_blocks_ ? hz_sum_ / run_blocks_ : 0; }
    // A tone that just ended and had a beep's frequency and length.
    std::optional<Beep> take_beep() {
        auto b = beep_;
        beep_.reset();
        return b;
    }

  private:
    void end_run();
    BeepLimits lim_;
    int run_blocks_ = 0;
    double hz_sum_ = 0;
    ms run_start_{0}, run_end_{0};
    std::optional<Beep> beep_;
};

}  // namespace outpace::amd
