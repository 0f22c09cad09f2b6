// Reads telephone audio files (WAV and anything else libsndfile reads: 16-bit PCM, µ-law, A-law)
// as 8 kHz linear PCM for the detector. Not part of the pure detector library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpace::amd {

struct AudioFile {
    std::vector<std::int16_t> pcm;  // 8 kHz mono; the first channel of a multi-channel file
    std::string error;              // empty when read
};

AudioFile read_audio(const std::string& path);

}  // namespace outpace::amd
