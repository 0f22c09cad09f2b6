#include "answering-detect/corpus_score.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "answering-detect/audio_file.h"

namespace outpace::amd {

long CorpusScore::latency_percentile(double q) const {
    if (human_latency_ms.empty()) return 0;
    const auto i = static_cast<std::size_t>(std::floor(q * double(human_latency_ms.size() - 1)));
    return human_latency_ms[i];
}

CorpusScore score_corpus(const std::string& dir, const Config& config,
                         std::vector<std::int16_t> (*transcode)(const std::vector<std::int16_t>&)) {
    CorpusScore s;
    std::ifstream in(dir + "/labels.jsonl");
    if (!in) {
        s.error = dir + "/labels.jsonl: cannot read";
        return s;
    }
    std::string line;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("file") || !j.contains("label")) {
            s.error = dir + "/labels.jsonl: bad line: " + line;
            return s;
        }
        FileScore f;
        f.file = j["file"];
        f.label = j["label"];
        f.category = j.value("category", "");
        if (j.contains("greeting_end_ms")) f.greeting_end_ms = j["greeting_end_ms"].get<long>();
        if (j.contains("beep_end_ms")) f.beep_end_ms = j["beep_end_ms"].get<long>();
        auto audio = read_audio(dir + "/" + f.file);
        if (!audio.error.empty()) {
            s.error = f.file + ": " + audio.error;
            return s;
        }
        if (transcode) audio.pcm = transcode(audio.pcm);
        const auto r = analyse_recording(audio.pcm, config);
        if (r.verdict) {
            f.verdict = to_string(r.verdict->verdict);
            f.cause = r.verdict->cause;
            f.decision_ms = r.verdict->at.count();
        } else {
            f.verdict = "unknown";
            f.cause = "end-of-audio";
            f.decision_ms = r.audio.count();
        }
        if (r.beep) {
            f.found_beep_start_ms = r.beep->beep_start.count();
            f.found_beep_end_ms = r.beep->beep_end.count();
        }
        s.correct += f.verdict == f.label;
        if (f.label == "human") {
            ++s.humans;
            s.humans_as_machine += f.verdict == "machine";
            s.beeps_in_human_audio += f.found_beep_end_ms.has_value();
            if (f.verdict == "human" && f.greeting_end_ms)
                s.human_latency_ms.push_back(f.decision_ms - *f.greeting_end_ms);
        }
        if (f.beep_end_ms) {
            ++s.beeps;
            s.beeps_within_100ms +=
                f.found_beep_end_ms && std::abs(*f.found_beep_end_ms - *f.beep_end_ms) <= 100;
        }
        s.files.push_back(std::move(f));
    }
    std::sort(s.human_latency_ms.begin(), s.human_latency_ms.end());
    if (s.files.empty()) s.error = dir + "/labels.jsonl: no files";
    return s;
}

std::string ensure_corpus(const std::string& script, const std::string& dir, int seed, int scale) {
    namespace fs = std::filesystem;
    if (fs::exists(dir + "/labels.jsonl")) return "";
    const std::string tmp = dir + ".tmp." + std::to_string(::getpid());
    const std::string cmd = "python3 '" + script + "' '" + tmp + "' --seed " +
                            std::to_string(seed) + " --scale " + std::to_string(scale) +
                            " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        return "corpus generator failed (needs python3, espeak-ng and sox): " + cmd;
    }
    std::error_code ec;
    fs::rename(tmp, dir, ec);  // another process may have finished first: keep its corpus
    if (ec) fs::remove_all(tmp, ec);
    return fs::exists(dir + "/labels.jsonl") ? "" : "corpus not found in " + dir;
}

}  // namespace outpace::amd
