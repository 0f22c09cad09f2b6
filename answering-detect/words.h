// Word segmentation: voiced 20 ms blocks in, words out. A word is a voiced run at least
// `min_word_length` long; gaps shorter than `between_words_silence` do not split it.
#pragma once

#include <chrono>
#include <optional>

namespace outpace::amd {

class WordSegmenter {
  public:
    using ms = std::chrono::milliseconds;
    WordSegmenter(ms min_word_length, ms between_words_silence)
        : min_word_(min_word_length), between_(between_words_silence) {}

    void add(bool voiced, ms block_start, ms block_length);

    int words() const { return words_; }
    bool voiced_now() const { return voiced_; }
    // Start of the first word, once there is one.
    std::optional<ms> greeting_start() const { return greeting_start_; }
    // End of the last voiced block of a counted word (-1 ms before the first word).
    ms last_word_end() const { return last_word_end_; }
    // Length of the voiced run in progress (0 when none).
    ms current_run() const { return run_active_ ? run_end_ - run_start_ : ms{0}; }
    // A voiced run in progress that may still become a word.
    bool run_in_progress() const { return run_active_; }

  private:
    ms min_word_, between_;
    bool voiced_ = false, run_active_ = false, run_counted_ = false;
    ms run_start_{0}, run_end_{0}, silence_{0};
    int words_ = 0;
    std::optional<ms> greeting_start_;
    ms last_word_end_{-1};
};

}  // namespace outpace::amd
