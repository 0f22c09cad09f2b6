// Call recording: a stereo 8 kHz WAV, the callee on the left, what the engine sent on the right,
// framed 20 ms at a time on the engine's media clock and written by a thread of its own, so that
// a slow or stalled disk never holds up the loop that carries the calls' audio.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace outpace::media {

// The one thread that touches recordings on disk: it creates their folders and files, writes
// their frames and closes them, in the order the loop asked. The loop hands it work through a
// bounded queue under a mutex the thread holds only to take the whole queue at once (never while
// writing). When the disk falls behind by more than the queue holds, frames are dropped, not
// waited for: `on_drop` is called on the loop's thread for each dropped frame.
class RecordingWriter {
  public:
    static constexpr std::size_t kFrameSamples = 2 * 160;  // 20 ms, stereo, interleaved
    // 32 MiB of frames: a second's stall of 2,600 recorded calls, or ten of 260.
    static constexpr std::size_t kDefaultMaxFrames = (32u << 20) / (kFrameSamples * 2);

    explicit RecordingWriter(std::size_t max_frames = kDefaultMaxFrames,
                             std::function<void()> on_drop = {});
    // Writes what is queued, closes every file, and ends the thread.
    ~RecordingWriter();
    RecordingWriter(const RecordingWriter&) = delete;
    RecordingWriter& operator=(const RecordingWriter&) = delete;

    // A new recording at `path` (its folder created as needed): its id for write and close. A
    // file that cannot be created is logged by the writer, and that recording's frames dropped.
    std::uint64_t open(std::string path);
    // One 20 ms stereo frame (kFrameSamples). False when it was dropped (the queue is full).
    bool write(std::uint64_t id, std::span<const std::int16_t> frame);
    void close(std::uint64_t id);
    // Waits until everything asked so far is on disk (files closed included): for tests and a
    // clean stop.
    void flush();
    std::uint64_t dropped() const;
    // Work the thread has not taken yet (opens, frames, closes).
    std::size_t waiting() const;

  private:
    struct Op {
        enum class Kind : std::uint8_t { open, frame, close } kind;
        std::uint64_t id;
        std::string path;
        std::array<std::int16_t, kFrameSamples> pcm;
    };
    bool push(Op&& op, bool is_frame);
    void run();

    const std::size_t max_frames_;
    std::function<void()> on_drop_;
    mutable std::mutex mu_;
    std::condition_variable wake_, done_;
    std::deque<Op> queue_;  // chunks: a long queue never moves as it grows
    std::size_t queued_frames_ = 0;
    std::uint64_t pushed_ = 0, finished_ = 0, dropped_ = 0, next_id_ = 1;
    bool stopping_ = false;
    std::thread thread_;
};

class Recorder {
  public:
    Recorder(RecordingWriter& writer, std::string path);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Audio heard from the callee, as it arrives.
    void heard(std::span<const std::int16_t> pcm);
    // One 20 ms tick: what was sent (empty: silence) beside what was heard since the last tick.
    // False when the frame was dropped because the disk is behind.
    bool tick(std::span<const std::int16_t> sent);
    // Paused (the agent's record_pause), both channels are written as silence: what is said then
    // never reaches the file, and the recording keeps its timeline.
    void pause(bool on) { paused_ = on; }
    bool paused() const { return paused_; }
    // Where the recording is: milliseconds framed so far (dropped frames included, so that the
    // positions kept with the attempt stay on the call's timeline).
    std::int64_t position_ms() const { return frames_ * 20; }

  private:
    RecordingWriter& writer_;
    std::uint64_t id_;
    std::vector<std::int16_t> heard_;
    std::vector<std::int16_t> frame_;
    bool paused_ = false;
    std::int64_t frames_ = 0;
};

}  // namespace outpace::media
