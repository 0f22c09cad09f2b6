#include "dialer/media/recorder.h"

#include <sndfile.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "dialer/thread_priority.h"

namespace outpace::media {

RecordingWriter::RecordingWriter(std::size_t max_frames, std::function<void()> on_drop)
    : max_frames_(max_frames), on_drop_(std::move(on_drop)), thread_([this] { run(); }) {}

RecordingWriter::~RecordingWriter() {
    {
        std::lock_guard l(mu_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

bool RecordingWriter::push(Op&& op, bool is_frame) {
    bool queued = true;
    {
        std::lock_guard l(mu_);
        if (is_frame && queued_frames_ >= max_frames_) {
            queued = false;  // only frames are ever dropped: opens and closes always go
            ++dropped_;
        } else {
            queued_frames_ += is_frame;
            queue_.push_back(std::move(op));
            ++pushed_;
        }
    }
    if (queued)
        wake_.notify_one();
    else if (on_drop_)
        on_drop_();
    return queued;
}

std::uint64_t RecordingWriter::open(std::string path) {
    std::uint64_t id;
    {
        std::lock_guard l(mu_);
        id = next_id_++;
    }
    push({Op::Kind::open, id, std::move(path), {}}, false);
    return id;
}

bool RecordingWriter::write(std::uint64_t id, std::span<const std::int16_t> frame) {
    Op op{Op::Kind::frame, id, {}, {}};
    std::copy_n(frame.begin(), std::min(frame.size(), kFrameSamples), op.pcm.begin());
    return push(std::move(op), true);
}

void RecordingWriter::close(std::uint64_t id) {
    push({Op::Kind::close, id, {}, {}}, false);
}

void RecordingWriter::flush() {
    std::unique_lock l(mu_);
    const auto target = pushed_;
    done_.wait(l, [&] { return finished_ >= target; });
}

std::uint64_t RecordingWriter::dropped() const {
    std::lock_guard l(mu_);
    return dropped_;
}

std::size_t RecordingWriter::waiting() const {
    std::lock_guard l(mu_);
    return queue_.size();
}

void RecordingWriter::run() {
    // Named for top and perf; a little below the loop, which carries the audio.
    lower_thread(0, 5, "outpace-record");
    std::unordered_map<std::uint64_t, SNDFILE*> files;
    std::deque<Op> batch;
    for (;;) {
        {
            std::unique_lock l(mu_);
            wake_.wait(l, [&] { return !queue_.empty() || stopping_; });
            if (queue_.empty()) break;  // stopping, and everything written
            batch.swap(queue_);
            queued_frames_ = 0;
        }
        for (auto& op : batch) {
            switch (op.kind) {
                case Op::Kind::open: {
                    std::error_code ec;
                    std::filesystem::create_directories(
                        std::filesystem::path(op.path).parent_path(), ec);
                    SF_INFO info{};
                    info.samplerate = 8000;
                    info.channels = 2;
                    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
                    if (SNDFILE* f = sf_open(op.path.c_str(), SFM_WRITE, &info))
                        files.emplace(op.id, f);
                    else
                        std::fprintf(stderr, "outpace: not recording: %s: %s\n", op.path.c_str(),
                                     sf_strerror(nullptr));
                    break;
                }
                case Op::Kind::frame:
                    if (auto it = files.find(op.id); it != files.end())
                        sf_writef_short(it->second, op.pcm.data(), kFrameSamples / 2);
                    break;
                case Op::Kind::close:
                    if (auto it = files.find(op.id); it != files.end()) {
                        sf_close(it->second);
                        files.erase(it);
                    }
                    break;
            }
        }
        {
            std::lock_guard l(mu_);
            finished_ += batch.size();
        }
        batch.clear();
        done_.notify_all();
    }
    for (auto& [id, f] : files) sf_close(f);
}

Recorder::Recorder(RecordingWriter& writer, std::string path)
    : writer_(writer), id_(writer.open(std::move(path))) {}

Recorder::~Recorder() {
    writer_.close(id_);
}

void Recorder::heard(std::span<const std::int16_t> pcm) {
    // Keep at most a second: a far end sending faster than real time cannot grow this.
    if (paused_ || heard_.size() + pcm.size() > 8000) return;
    heard_.insert(heard_.end(), pcm.begin(), pcm.end());
}

bool Recorder::tick(std::span<const std::int16_t> sent) {
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
    return writer_.write(id_, frame_);
}

}  // namespace outpace::media
