// A campaign's `amd` section as the detector's thresholds.
#pragma once

#include "answering-detect/detector.h"
#include "campaigns/campaign.h"

namespace outpace {

inline amd::Config amd_config(const AmdThresholds& t) {
    amd::Config c;
    c.initial_silence = t.initial_silence;
    c.greeting = t.greeting;
    c.after_greeting_silence = t.after_greeting_silence;
    c.total_analysis_time = t.total_analysis_time;
    c.min_word_length = t.min_word_length;
    c.between_words_silence = t.between_words_silence;
    c.maximum_number_of_words = t.maximum_number_of_words;
    c.maximum_word_length = t.maximum_word_length;
    return c;
}

}  // namespace outpace
