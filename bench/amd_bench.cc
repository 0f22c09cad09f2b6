// Answering-machine detection figures for the AMD issue, in one run:
//   accuracy, people taken for machines, human verdict latency after the greeting and beep
//   location on a generated corpus; then throughput: thousands of concurrent calls fed 20 ms at a
//   time on one core (a finished call is replaced by a new one), beside a reference pass that only
//   measures each frame's level.
// Usage: bench_amd [--corpus DIR] [--seed N] [--scale K] [--streams N] [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "answering-detect/audio_file.h"
#include "answering-detect/corpus_score.h"

using namespace outpace::amd;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    std::string dir;
    int seed = 21, scale = 2, streams = 5000;
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--corpus")) dir = argv[i + 1];
        if (!std::strcmp(argv[i], "--seed")) seed = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--scale")) scale = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--streams")) streams = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    }
    if (dir.empty()) {
        dir = "/tmp/outpace-amd-corpus-seed" + std::to_string(seed) + "x" + std::to_string(scale);
        const auto error = ensure_corpus(
            std::string(OUTPACE_SOURCE_DIR) + "/answering-detect/corpus/make_corpus.py", dir, seed,
            scale);
        if (!error.empty()) {
            std::fprintf(stderr, "bench_amd: %s\n", error.c_str());
            return 1;
        }
    }
    const auto s = score_corpus(dir);
    if (!s.error.empty()) {
        std::fprintf(stderr, "bench_amd: %s\n", s.error.c_str());
        return 1;
    }
    std::printf("corpus %s: %zu files\n", dir.c_str(), s.files.size());
    std::map<std::string, std::map<std::string, int>> confusion;
    for (const auto& f : s.files) ++confusion[f.category][f.verdict];
    std::printf("%-16s %6s %8s %6s %8s\n", "category", "human", "machine", "fax", "unknown");
    for (const auto& [cat, row] : confusion) {
        auto get = [&](const char* v) { return row.count(v) ? row.at(v) : 0; };
        std::printf("%-16s %6d %8d %6d %8d\n", cat.c_str(), get("human"), get("machine"),
                    get("fax"), get("unknown"));
    }
    std::printf(
        "accuracy %.1f%% (target >= 97%%); people taken for machines %d of %d = %.1f%% "
        "(target <= 1%%)\n",
        100 * s.accuracy(), s.humans_as_machine, s.humans,
        100.0 * s.humans_as_machine / std::max(1, s.humans));
    std::printf(
        "human verdict after the greeting ends: median %ld ms (target <= 800), p95 %ld ms "
        "(target <= 1200)\n",
        s.latency_percentile(0.5), s.latency_percentile(0.95));
    std::printf("beep end within 100 ms: %d of %d; beeps reported in human audio: %d\n",
                s.beeps_within_100ms, s.beeps, s.beeps_in_human_audio);

    // Throughput: the corpus's audio as the calls of `streams` concurrent lines.
    std::vector<std::vector<std::int16_t>> audio;
    for (const auto& f : s.files) audio.push_back(read_audio(dir + "/" + f.file).pcm);
    struct Line {
        Detector detector;
        std::size_t file = 0, pos = 0;
    };
    std::vector<Line> lines;
    lines.reserve(static_cast<std::size_t>(streams));
    for (int i = 0; i < streams; ++i)
        lines.push_back({Detector{}, static_cast<std::size_t>(i) % audio.size(), 0});
    const int rounds = static_cast<int>(seconds * 50);
    std::size_t next_file = static_cast<std::size_t>(streams);
    long frames = 0, calls = 0;
    const auto t0 = Clock::now();
    for (int r = 0; r < rounds; ++r) {
        for (auto& l : lines) {
            const auto& pcm = audio[l.file];
            if (l.detector.finished() || l.pos + kBlock > pcm.size()) {
                l.detector = Detector{};
                l.file = next_file++ % audio.size();
                l.pos = 0;
                ++calls;
            }
            l.detector.feed({audio[l.file].data() + l.pos, kBlock},
                            std::chrono::milliseconds(l.pos / 8));
            l.pos += kBlock;
            ++frames;
        }
    }
    const double detect_s = std::chrono::duration<double>(Clock::now() - t0).count();
    // Reference: the same number of frames, only their level.
    double sink = 0;
    const auto t1 = Clock::now();
    long ref_frames = 0;
    for (std::size_t f = 0; ref_frames < frames; f = (f + 1) % audio.size())
        for (std::size_t p = 0; p + kBlock <= audio[f].size() && ref_frames < frames;
             p += kBlock, ++ref_frames)
            sink += block_dbfs(audio[f].data() + p, kBlock);
    const double ref_s = std::chrono::duration<double>(Clock::now() - t1).count();
    const double fps = frames / detect_s;
    std::printf(
        "throughput, one core, %d concurrent lines x %.0f s (%ld new calls): %.0f frames/s "
        "(target >= 250,000) = %.0f real-time streams (target >= 5,000); real-time factor %.5f\n",
        streams, seconds, calls, fps, fps / 50, detect_s / (frames * 0.020));
    std::printf("reference (frame level only): %.0f frames/s; detection costs %.1fx that%s\n",
                ref_frames / ref_s, (ref_frames / ref_s) / fps, sink == 1 ? " " : "");
    return 0;
}
