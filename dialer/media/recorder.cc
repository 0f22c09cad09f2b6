#include "dialer/media/recorder.h"

#include <sndfile.h>

#include <algorithm>
#include <filesystem>

namespace outpace::media {

std::unique_ptr<Recorder> Recorder::create(const std::string& path, std::string* error) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) {
        if (error) *error = path + ": " + sf_strerror(nullptr);
        return nullptr;
    }
    std::unique_ptr<Recorder> r(new Recorder());
    r->file_ = f;
    return r;
}

Recorder::~Recorder() {
    if (file_) sf_close(static_cast<SNDFILE*>(file_));
}

void Recorder::heard(std::span<const std::int16_t> pcm) {
    // Keep at most a second: a far end sending faster than real time cannot grow this.
    if (paused_ || heard_.size() + pcm.size() > 8000) return;
    heard_.insert(heard_.end(), pcm.begin(), pcm.end());
}

void Recorder::tick(std::span<const std::int16_t> sent) {
    constexpr std::size_t kFrame = 160;
    frame_.assign(2 * kFrame, 0);
    const std::size_t n = std::min(kFrame, heard_.size());
    for (std::size_t i = 0; i < n; ++i) frame_[2 * i] = heard_[i];
    heard_.erase(heard_.begin(), heard_.begin() + static_cast<std::ptrdiff_t>(n));
    // Jitter can leave a little extra; more than a frame behind means the clocks drifted: drop.
    if (heard_.size() > 2 * kFrame) heard_.clear();
    if (paused_) {
        heard_.clear();
        std::fill(frame_.begin(), frame_.end(), 0);
    } else {
        for (std::size_t i = 0; i < std::min(kFrame, sent.size()); ++i) frame_[2 * i + 1] = sent[i];
    }
    ++frames_;
    sf_writef_short(static_cast<SNDFILE*>(file_), frame_.data(), kFrame);
}

}  // namespace outpace::media
