#include "dialer/media/mixer.h"

#include <algorithm>
#include <vector>

namespace outpace::media {

void Mixer::add(Party p, Sink sink) {
    parties_[p].sink = std::move(sink);
}

void Mixer::remove(Party p) {
    parties_.erase(p);
    for (auto& [_, s] : parties_) s.hears.erase(p);
}

void Mixer::hear(Party listener, Party source, bool on) {
    auto it = parties_.find(listener);
    if (it == parties_.end() || listener == source || !parties_.count(source)) return;
    if (on)
        it->second.hears.insert(source);
    else
        it->second.hears.erase(source);
    // A source nobody mixes any more keeps no stale frames for the day someone does.
    for (auto& [p, s] : parties_)
        if (!mixed(p)) s.queue.clear();
}

bool Mixer::hears(Party listener, Party source) const {
    auto it = parties_.find(listener);
    return it != parties_.end() && it->second.hears.count(source) != 0;
}

bool Mixer::mixed(Party source) const {
    for (const auto& [_, s] : parties_)
        if (s.hears.size() > 1 && s.hears.count(source)) return true;
    return false;
}

void Mixer::input(Party source, std::span<const std::int16_t> pcm) {
    auto it = parties_.find(source);
    if (it == parties_.end()) return;
    Frame f{};
    std::copy_n(pcm.begin(), std::min(pcm.size(), f.size()), f.begin());
    // Listeners of this party alone: at once.
    for (auto& [p, s] : parties_)
        if (s.hears.size() == 1 && *s.hears.begin() == source && s.sink) s.sink(f);
    if (!mixed(source)) return;
    auto& q = it->second.queue;
    if (q.size() == kQueue) {
        q.pop_front();
        ++dropped_;
    }
    q.push_back(f);
}

Mixer::Frame Mixer::mix(std::span<const Frame* const> frames) {
    Frame out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        int sum = 0;
        for (const Frame* f : frames) sum += (*f)[i];
        out[i] = static_cast<std::int16_t>(std::clamp(sum, -32768, 32767));
    }
    return out;
}

void Mixer::tick() {
    // This tick's frame of each party someone mixes (taken once, heard by every listener).
    std::map<Party, Frame> now;
    for (auto& [p, s] : parties_)
        if (!s.queue.empty()) {
            now[p] = s.queue.front();
            s.queue.pop_front();
        }
    std::vector<const Frame*> frames;
    for (auto& [p, s] : parties_) {
        if (s.hears.size() < 2 || !s.sink) continue;
        frames.clear();
        for (Party source : s.hears)
            if (auto f = now.find(source); f != now.end()) frames.push_back(&f->second);
        if (frames.empty()) continue;  // nobody sent anything: nothing to play
        const Frame out = mix(frames);
        s.sink(out);
    }
}

}  // namespace outpace::media
