// Answering-machine detection on a live call: 8 kHz linear PCM in, verdicts and beeps out.
// Pure: the caller gives each frame's time since answer; nothing here reads a clock or a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "answering-detect/level.h"
#include "answering-detect/tone.h"
#include "answering-detect/words.h"

namespace outpace::amd {

using std::chrono::milliseconds;

// Thresholds. Asterisk AMD() names where they mean the same thing; defaults tuned on the corpus
// (docs/amd.md says how).
struct Config {
    milliseconds initial_silence{2500};  // no speech by then: unknown (dead air, not a machine)
    milliseconds greeting{4000};         // a greeting running longer than this is a machine
    milliseconds after_greeting_silence{650};  // silence that ends a human greeting
    milliseconds total_analysis_time{6500};    // undecided by then: unknown
    milliseconds min_word_length{100};
    milliseconds between_words_silence{50};
    int maximum_number_of_words = 8;
    milliseconds maximum_word_length{5000};
    // After a machine verdict: listen this long for the beep, and call the greeting over (no beep)
    // after this much silence following machine speech.
    milliseconds beep_timeout{30000};
    milliseconds machine_greeting_end_silence{1500};
    Levels levels;
    BeepLimits beep;
};

enum class Verdict { human, machine, fax, unknown };
const char* to_string(Verdict v);

struct Event {
    enum class Kind {
        verdict,         // verdict and cause are set; at = when it was decided
        beep,            // a voicemail beep ended: beep_start/beep_end, beep_hz
        greeting_ended,  // a machine's greeting ended in silence without a beep
    };
    Kind kind = Kind::verdict;
    Verdict verdict = Verdict::unknown;
    const char* cause = "";
    milliseconds at{0};
    milliseconds beep_start{0}, beep_end{0};
    double beep_hz = 0;
};

class Detector {
  public:
    explicit Detector(const Config& config = {});
    ~Detector();
    Detector(Detector&&) noexcept;
    Detector& operator=(Detector&&) noexcept;

    // Feeds audio whose first sample was heard `at` after answer. Any length; analysed in 20 ms
    // blocks. A gap in time (lost packets) counts as silence. Returns the events this audio
    // produced; the span is valid until the next call.
    std::span<const Event> feed(std::span<const std::int16_t> pcm, milliseconds at);
    // Nothing more to learn from this call: a verdict was given and, for a machine, the beep or
    // the end of its greeting was found (or the beep timeout passed).
    bool finished() const { return finished_; }
    std::optional<Verdict> verdict() const { return verdict_; }
    // At least one word was heard (someone or something spoke).
    bool heard_speech() const { return words_.words() > 0; }

  private:
    void block(const std::int16_t* pcm, milliseconds start);
    void decide(Verdict v, const char* cause, milliseconds at);

    Config cfg_;
    NoiseFloor floor_;
    WordSegmenter words_;
    ToneTracker tones_;
    class FaxTones;
    std::unique_ptr<FaxTones> fax_;  // created when a tone near a fax frequency shows up
    std::vector<std::int16_t> pending_;
    milliseconds next_{0};  // time of the next sample expected
    std::optional<Verdict> verdict_;
    bool finished_ = false;
    milliseconds last_speech_end_{-1};
    std::vector<Event> events_;
};

// What the detector made of a whole recording fed to it as if it arrived live, 20 ms at a time
// (what one RTP packet brings), until it finished or the audio ended.
struct RecordingVerdict {
    std::optional<Event> verdict, beep, greeting_ended;
    milliseconds audio{0};  // the recording's length
};
RecordingVerdict analyse_recording(std::span<const std::int16_t> pcm, const Config& config = {});

}  // namespace outpace::amd
