#include "answering-detect/detector.h"

#include <algorithm>
#include <cmath>

extern "C" {
#include <spandsp.h>
}

namespace outpace::amd {

const char* to_string(Verdict v) {
    switch (v) {
        case Verdict::human:
            return "human";
        case Verdict::machine:
            return "machine";
        case Verdict::fax:
            return "fax";
        case Verdict::unknown:
            return "unknown";
    }
    return "unknown";
}

// spandsp's fax tone detectors (CNG 1,100 Hz cadence; CED 2,100 Hz or the V.21 preamble). They
// run per sample, so they are started only once a steady tone near a fax frequency shows up.
class Detector::FaxTones {
  public:
    FaxTones() {
        cng_ = modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CNG, report, this);
        ced_ = modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, report,
                                           this);
    }
    ~FaxTones() {
        if (cng_) modem_connect_tones_rx_free(cng_);
        if (ced_) modem_connect_tones_rx_free(ced_);
    }
    FaxTones(const FaxTones&) = delete;
    FaxTones& operator=(const FaxTones&) = delete;

    // Returns the cause once a fax tone was recognised.
    const char* feed(const std::int16_t* pcm, std::size_t n) {
        if (cng_) modem_connect_tones_rx(cng_, pcm, static_cast<int>(n));
        if (ced_) modem_connect_tones_rx(ced_, pcm, static_cast<int>(n));
        return cause_;
    }

  private:
    static void report(void* self, int code, int, int) {
        auto* f = static_cast<FaxTones*>(self);
        if (f->cause_) return;
        if (code == MODEM_CONNECT_TONES_FAX_CNG)
            f->cause_ = "fax-cng";
        else if (code == MODEM_CONNECT_TONES_FAX_CED || code == MODEM_CONNECT_TONES_FAX_PREAMBLE)
            f->cause_ = "fax-ced";
    }
    modem_connect_tones_rx_state_t* cng_ = nullptr;
    modem_connect_tones_rx_state_t* ced_ = nullptr;
    const char* cause_ = nullptr;
};

namespace {

bool near_fax_frequency(double hz) {
    return (hz > 1000 && hz < 1200) || (hz > 1550 && hz < 1950) || (hz > 1950 && hz < 2250);
}

}  // namespace

Detector::Detector(const Config& c)
    : cfg_(c), words_(c.min_word_length, c.between_words_silence), tones_(c.beep) {
    pending_.reserve(kBlock);
}
Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

std::span<const Event> Detector::feed(std::span<const std::int16_t> pcm, milliseconds at) {
    events_.clear();
    if (finished_) return events_;
    // A gap (lost or late packets) is heard as silence, block by block, up to the longest the
    // analysis can last (it is finished by then anyway); a larger jump (a far end's timestamps
    // leaping hours ahead) just moves the clock, whatever the thresholds are set to.
    if (at > next_ + milliseconds(kBlockMs) && pending_.empty()) {
        static const std::int16_t kSilence[kBlock] = {};
        const milliseconds longest = std::max(cfg_.beep_timeout, cfg_.total_analysis_time);
        const milliseconds until = std::min(at, next_ + longest + milliseconds(kBlockMs));
        while (next_ + milliseconds(kBlockMs) <= until && !finished_) {
            block(kSilence, next_);
            next_ += milliseconds(kBlockMs);
        }
        if (at > next_) next_ = at;
    }
    for (std::int16_t s : pcm) {
        pending_.push_back(s);
        if (pending_.size() == kBlock) {
            if (!finished_) block(pending_.data(), next_);
            next_ += milliseconds(kBlockMs);
            pending_.clear();
        }
    }
    return events_;
}

void Detector::decide(Verdict v, const char* cause, milliseconds at) {
    verdict_ = v;
    Event e;
    e.kind = Event::Kind::verdict;
    e.verdict = v;
    e.cause = cause;
    e.at = at;
    events_.push_back(e);
    if (v != Verdict::machine) finished_ = true;
}

void Detector::block(const std::int16_t* pcm, milliseconds start) {
    const milliseconds len{kBlockMs};
    const milliseconds now = start + len;
    const double db = block_dbfs(pcm, kBlock);
    floor_.add(db);
    const double fl = floor_.dbfs();
    const auto& lv = cfg_.levels;
    const bool loud = db > std::max(fl + lv.speech_above_floor_db, lv.min_speech_dbfs);
    const bool stays = db > std::max(fl + lv.stay_above_floor_db, lv.min_speech_dbfs - 3);

    // Tones: beeps, and the gate for the fax detectors.
    const bool present = db > fl + lv.stay_above_floor_db && db > lv.min_speech_dbfs;
    const BlockTone tone = present ? analyse_tone(pcm, kBlock, kRate) : BlockTone{};
    tones_.add(tone, present, start, len);
    if (!fax_ && tones_.tonal() && near_fax_frequency(tone.hz)) fax_ = std::make_unique<FaxTones>();
    const char* fax = fax_ ? fax_->feed(pcm, kBlock) : nullptr;

    // A steady tone is not speech: a fax tone or a beep must not count as a word.
    const bool voiced = (words_.voiced_now() ? stays : loud) && !tones_.tonal();
    words_.add(voiced, start, len);
    if (words_.words() > 0) last_speech_end_ = words_.last_word_end();

    if (auto beep = tones_.take_beep()) {
        Event e;
        e.kind = Event::Kind::beep;
        e.at = now;
        e.beep_start = beep->start;
        e.beep_end = beep->end;
        e.beep_hz = beep->hz;
        if (!verdict_ && !fax) decide(Verdict::machine, "beep", now);
        if (verdict_ == Verdict::machine) {
            events_.push_back(e);
            finished_ = true;
            return;
        }
    }
    if (fax && !verdict_) return decide(Verdict::fax, fax, now);

    if (!verdict_) {
        if (words_.words() == 0) {
            if (!words_.run_in_progress() && !tones_.tonal() && now >= cfg_.initial_silence)
                return decide(Verdict::unknown, "initial-silence", now);
        } else {
            const milliseconds greeting =
                (voiced ? now : words_.last_word_end()) - *words_.greeting_start();
            if (words_.current_run() >= cfg_.maximum_word_length)
                return decide(Verdict::machine, "max-word-length", now);
            if (words_.words() > cfg_.maximum_number_of_words)
                return decide(Verdict::machine, "max-words", now);
            if (greeting > cfg_.greeting) return decide(Verdict::machine, "long-greeting", now);
            if (!voiced && !tones_.tonal() &&
                now - words_.last_word_end() >= cfg_.after_greeting_silence)
                return decide(Verdict::human, "after-greeting-silence", now);
        }
        if (now >= cfg_.total_analysis_time) return decide(Verdict::unknown, "too-long", now);
        return;
    }

    // A machine: wait for its beep, or for its greeting to end in silence.
    const bool quiet_after_greeting = !voiced && !tones_.tonal() && !words_.run_in_progress() &&
                                      now - last_speech_end_ >= cfg_.machine_greeting_end_silence;
    if (quiet_after_greeting || now >= cfg_.beep_timeout) {
        Event e;
        e.kind = Event::Kind::greeting_ended;
        e.cause = quiet_after_greeting ? "silence" : "beep-timeout";
        e.at = now;
        events_.push_back(e);
        finished_ = true;
    }
}

RecordingVerdict analyse_recording(std::span<const std::int16_t> pcm, const Config& config) {
    Detector d(config);
    RecordingVerdict r;
    for (std::size_t i = 0; i < pcm.size() && !d.finished(); i += kBlock) {
        const auto n = std::min(kBlock, pcm.size() - i);
        for (const auto& e : d.feed(pcm.subspan(i, n), milliseconds(i / 8))) {
            if (e.kind == Event::Kind::verdict) r.verdict = e;
            if (e.kind == Event::Kind::beep) r.beep = e;
            if (e.kind == Event::Kind::greeting_ended) r.greeting_ended = e;
        }
    }
    r.audio = milliseconds(pcm.size() / 8);
    return r;
}

}  // namespace outpace::amd
