#include "answering-detect/audio_file.h"

#include <sndfile.h>

#include <memory>

namespace outpace::amd {

AudioFile read_audio(const std::string& path) {
    AudioFile f;
    SF_INFO info{};
    std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> sf(sf_open(path.c_str(), SFM_READ, &info),
                                                   sf_close);
    if (!sf) {
        f.error = sf_strerror(nullptr);
        return f;
    }
    if (info.samplerate != 8000) {
        f.error = "sample rate is " + std::to_string(info.samplerate) +
                  " Hz; telephone audio is 8000 Hz (convert with: sox IN -r 8000 OUT)";
        return f;
    }
    const int ch = std::max(1, info.channels);
    std::vector<std::int16_t> frames(static_cast<std::size_t>(info.frames) * ch);
    const sf_count_t got = sf_readf_short(sf.get(), frames.data(), info.frames);
    f.pcm.reserve(static_cast<std::size_t>(got));
    for (sf_count_t i = 0; i < got; ++i) f.pcm.push_back(frames[static_cast<std::size_t>(i) * ch]);
    return f;
}

}  // namespace outpace::amd
