// Scores the detector on a labelled corpus (answering-detect/corpus/make_corpus.py writes one):
// accuracy, people taken for machines, how soon after a person's greeting the verdict came, and
// how close each beep's end was found. Shared by the corpus tests and the benchmark.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "answering-detect/detector.h"

namespace outpace::amd {

struct FileScore {
    std::string file, label, category;
    std::string verdict, cause;
    long decision_ms = 0;
    std::optional<long> greeting_end_ms;                         // labelled
    std::optional<long> beep_end_ms;                             // labelled
    std::optional<long> found_beep_start_ms, found_beep_end_ms;  // detected
};

struct CorpusScore {
    std::vector<FileScore> files;
    std::string error;  // the corpus could not be read
    int correct = 0, humans = 0, humans_as_machine = 0, beeps = 0, beeps_within_100ms = 0,
        beeps_in_human_audio = 0;
    std::vector<long> human_latency_ms;  // verdict time minus the labelled greeting end, sorted
    double accuracy() const { return files.empty() ? 0 : double(correct) / double(files.size()); }
    long latency_percentile(double q) const;
};

// `transcode` (optional) is applied to each file's PCM before detection (codec round trips).
CorpusScore score_corpus(
    const std::string& dir, const Config& config = {},
    std::vector<std::int16_t> (*transcode)(const std::vector<std::int16_t>&) = nullptr);

// Runs make_corpus.py into `dir` unless a complete corpus is already there. Safe when several
// processes ask for the same folder at once. Returns an error message, or empty.
std::string ensure_corpus(const std::string& script, const std::string& dir, int seed, int scale);

}  // namespace outpace::amd
