#include "answering-detect/sit.h"

#include <cmath>

#include "answering-detect/tone.h"

namespace outpace::amd {
namespace {

constexpr int kSitRate = 8000;
constexpr std::size_t kSitBlock = 160;  // 20 ms
constexpr int kSitBlockMs = 20;
// A tone's frequency may be off by 1.5 % (the standard's 0.2 %, then codecs and measurement);
// 913.8 and 985.2 Hz are 7.5 % apart.
constexpr double kSitTolerance = 0.015;
// Short tones last 274 ms, long ones 380 ms: the cut is halfway.
constexpr int kSitLongBlocks = 330 / kSitBlockMs;
// A tone shorter than this is no SIT segment (nor part of one).
constexpr int kSitMinToneBlocks = 180 / kSitBlockMs;
constexpr int kSitThirdBlocks = 200 / kSitBlockMs;

bool near_sit_tone(double hz, double want) {
    return std::abs(hz - want) <= want * kSitTolerance;
}

}  // namespace

const char* to_string(SitCode c) {
    switch (c) {
        case SitCode::intercept:
            return "IC";
        case SitCode::vacant_code:
            return "VC";
        case SitCode::reorder:
            return "RO";
        case SitCode::no_circuit:
            return "NC";
        case SitCode::ineffective_other:
            return "IO";
        case SitCode::unknown:
            return "unknown";
    }
    return "unknown";
}

bool sit_number_dead(SitCode c) {
    return c == SitCode::intercept || c == SitCode::vacant_code;
}

int SitDetector::classify(const std::int16_t* x) const {
    double energy = 0;
    for (std::size_t i = 0; i < kSitBlock; ++i) energy += double(x[i]) * x[i];
    // Quieter than about -50 dBm0 is no tone worth classifying.
    if (energy / kSitBlock < 30.0 * 30.0) return 0;
    const BlockTone t = analyse_tone(x, kSitBlock, kSitRate);
    if (t.purity < 0.8) return 0;
    if (near_sit_tone(t.hz, 913.8)) return 1;
    if (near_sit_tone(t.hz, 1370.6)) return 2;
    if (near_sit_tone(t.hz, 985.2)) return 3;
    if (near_sit_tone(t.hz, 1428.5)) return 4;
    if (near_sit_tone(t.hz, 1776.7)) return 5;
    return 0;
}

std::optional<Sit> SitDetector::feed(std::span<const std::int16_t> pcm) {
    if (done_) return std::nullopt;
    std::size_t i = 0;
    if (!pending_.empty()) {
        const std::size_t take = std::min(kSitBlock - pending_.size(), pcm.size());
        pending_.insert(pending_.end(), pcm.begin(), pcm.begin() + take);
        i = take;
        if (pending_.size() < kSitBlock) return std::nullopt;
        block(classify(pending_.data()));
        pending_.clear();
    }
    for (; i + kSitBlock <= pcm.size() && !found_; i += kSitBlock) block(classify(pcm.data() + i));
    if (!found_) pending_.assign(pcm.begin() + i, pcm.end());
    if (found_) done_ = true;
    return found_;
}

void SitDetector::block(int tone) {
    ++blocks_;
    if (found_) return;
    if (tone == 0) {
        // Blocks between two tones may hold parts of both and the silence between (up to 30 ms
        // by ITU-T E.180), or a click: up to 3 are bridged.
        if (!runs_.empty() && ++gap_ > 3) runs_.clear(), gap_ = 0;
        return;
    }
    gap_ = 0;
    if (!runs_.empty() && runs_.back().tone == tone)
        ++runs_.back().blocks;
    else
        runs_.push_back({tone, 1});
    found_ = decide();
}

std::optional<Sit> SitDetector::decide() {
    // The stretch's tones of some length, in order: the last three must be first, second, third.
    std::vector<Run> tones;
    for (const auto& r : runs_)
        if (r.blocks >= kSitMinToneBlocks || (&r == &runs_.back() && r.tone == 5))
            tones.push_back(r);
    if (tones.size() < 3) return std::nullopt;
    const Run& a = tones[tones.size() - 3];
    const Run& b = tones[tones.size() - 2];
    const Run& c = tones.back();
    const bool first = a.tone == 1 || a.tone == 3, second = b.tone == 2 || b.tone == 4;
    if (!first || !second || c.tone != 5 || c.blocks < kSitThirdBlocks) return std::nullopt;
    const bool f1_high = a.tone == 3, f2_high = b.tone == 4;
    const bool d1_long = a.blocks >= kSitLongBlocks, d2_long = b.blocks >= kSitLongBlocks;
    SitCode code = SitCode::unknown;
    if (!f1_high && !d1_long && !f2_high && !d2_long)
        code = SitCode::intercept;
    else if (f1_high && d1_long && !f2_high && !d2_long)
        code = SitCode::vacant_code;
    else if ((!f1_high && !d1_long && f2_high && d2_long) ||
             (f1_high && !d1_long && !f2_high && d2_long))
        code = SitCode::reorder;
    else if ((f1_high && d1_long && f2_high && d2_long) ||
             (!f1_high && d1_long && !f2_high && d2_long))
        code = SitCode::no_circuit;
    else if (!f1_high && d1_long && f2_high && !d2_long)
        code = SitCode::ineffective_other;
    Sit sit;
    sit.code = code;
    sit.at = std::chrono::milliseconds(blocks_ * kSitBlockMs);
    return sit;
}

}  // namespace outpace::amd
