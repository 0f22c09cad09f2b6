// In-band DTMF: keypad tones in the callee's audio, for phones and gateways that send no RFC 4733
// telephone-events. spandsp's detector does the signal work; this gives it an owner.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

struct dtmf_rx_state_s;

namespace outpace::media {

class DtmfDetector {
  public:
    using DigitHandler = std::function<void(char)>;
    explicit DtmfDetector(DigitHandler on_digit);
    ~DtmfDetector();
    DtmfDetector(const DtmfDetector&) = delete;
    DtmfDetector& operator=(const DtmfDetector&) = delete;

    // Linear PCM at 8 kHz; calls the handler once per key press, when the tone is recognised.
    void feed(std::span<const std::int16_t> pcm);

  private:
    static void digits(void* self, const char* digits, int len);
    DigitHandler on_digit_;
    dtmf_rx_state_s* rx_ = nullptr;
};

}  // namespace outpace::media
