// Call recording: a stereo 8 kHz WAV, the callee on the left, what the engine sent on the right,
// written 20 ms at a time on the engine's media clock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace outpace::media {

class Recorder {
  public:
    // Creates the file (and its folder). Null with `error` set when it cannot.
    static std::unique_ptr<Recorder> create(const std::string& path, std::string* error);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Audio heard from the callee, as it arrives.
    void heard(std::span<const std::int16_t> pcm);
    // One 20 ms tick: what was sent (empty: silence) beside what was heard since the last tick.
    void tick(std::span<const std::int16_t> sent);
    // Paused (the agent's record_pause), both channels are written as silence: what is said then
    // never reaches the file, and the recording keeps its timeline.
    void pause(bool on) { paused_ = on; }
    bool paused() const { return paused_; }
    // Where the recording is: milliseconds written so far.
    std::int64_t position_ms() const { return frames_ * 20; }

  private:
    Recorder() = default;
    void* file_ = nullptr;  // SNDFILE*
    std::vector<std::int16_t> heard_;
    std::vector<std::int16_t> frame_;
    bool paused_ = false;
    std::int64_t frames_ = 0;
};

}  // namespace outpace::media
