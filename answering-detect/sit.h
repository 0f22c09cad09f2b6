// Special information tones (SIT): the three rising tones a network plays before "the number you
// have dialled is not in service" and its kin, sometimes after answering the call with 200 OK.
// Telcordia's codes (GR-1162; ITU-T E.180 allows the ranges) tell why the call failed by each of
// the first two tones being low or high in frequency and short (274 ms) or long (380 ms):
//
//   code  tone 1          tone 2           meaning
//   IC    913.8 Hz short  1370.6 Hz short  intercept: a vacant or changed number
//   VC    985.2 Hz long   1370.6 Hz short  vacant code: no such area or exchange
//   RO    913.8 Hz short  1428.5 Hz long   reorder: the network's own blockage
//   RO    985.2 Hz short  1370.6 Hz long   reorder, another carrier's network
//   NC    985.2 Hz long   1428.5 Hz long   no circuit: the network is congested
//   NC    913.8 Hz long   1370.6 Hz long   no circuit, another carrier's network
//   IO    913.8 Hz long   1428.5 Hz short  ineffective other
//
// and a third tone of 1776.7 Hz. The detector follows each 20 ms block's frequency and purity
// (tone.h) and reports a code once the third tone has lasted 200 ms.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace outpace::amd {

enum class SitCode { intercept, vacant_code, reorder, no_circuit, ineffective_other, unknown };
const char* to_string(SitCode c);  // "IC", "VC", "RO", "NC", "IO", "unknown"
// Whether the number itself is at fault (intercept, vacant code: do not call it again), rather
// than the network (reorder, no circuit, other: try again later, charging the contact nothing).
bool sit_number_dead(SitCode c);

struct Sit {
    SitCode code = SitCode::unknown;
    std::chrono::milliseconds at{0};  // from the first sample fed to the decision
};

class SitDetector {
  public:
    // 8 kHz linear PCM, in any chunking. The SIT once it is heard (then nothing more).
    std::optional<Sit> feed(std::span<const std::int16_t> pcm);
    // Whether what was just heard could still become a SIT: a stretch of its tones is going on
    // (it ends 80 ms after the last of them). AMD takes a SIT's first tone for a machine's beep;
    // that verdict waits while this holds.
    bool possible() const { return !done_ && !runs_.empty(); }

  private:
    // 0: no SIT tone; 1, 2: the first and second tone, low; 3, 4: high; 5: the third.
    int classify(const std::int16_t* block) const;
    void block(int tone);
    std::optional<Sit> decide();

    std::vector<std::int16_t> pending_;
    struct Run {
        int tone = 0;
        int blocks = 0;
    };
    std::vector<Run> runs_;  // this stretch of tones, separated by at most 3 blocks of other
    int gap_ = 0;
    std::int64_t blocks_ = 0;
    bool done_ = false;
    std::optional<Sit> found_;
};

}  // namespace outpace::amd
