#include "answering-detect/words.h"

namespace outpace::amd {

void WordSegmenter::add(bool voiced, ms start, ms length) {
    voiced_ = voiced;
    if (!voiced) {
        silence_ += length;
        if (silence_ >= between_) run_active_ = false;
        return;
    }
    if (!run_active_) {
        run_active_ = true;
        run_counted_ = false;
        run_start_ = start;
    }
    silence_ = ms{0};
    run_end_ = start + length;
    if (!run_counted_ && run_end_ - run_start_ >= min_word_) {
        run_counted_ = true;
        ++words_;
        if (!greeting_start_) greeting_start_ = run_start_;
    }
    if (run_counted_) last_word_end_ = run_end_;
}

}  // namespace outpace::amd
