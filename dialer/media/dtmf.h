// In-band DTMF: keypad tones in the callee's audio, for phones and gateways that send no RFC 4733
// telephone-events. spandsp's detector does the signal work; this gives it an owner.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>

struct dtmf_rx_state_s;
struct dtmf_tx_state_s;

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

class AudioChannel;

// Key presses sent to a far end, 20 ms at a time on the caller's media tick: as RFC 4733 events
// when its SDP took them (100 ms each, then 60 ms apart), else as in-band tones (spandsp's
// generator, same timing).
class KeyPresses {
  public:
    static constexpr std::size_t kMaxQueued = 64;
    KeyPresses();
    ~KeyPresses();
    KeyPresses(const KeyPresses&) = delete;
    KeyPresses& operator=(const KeyPresses&) = delete;

    // Queues keys ('0'-'9', '*', '#', 'A'-'D'; anything else is skipped). False when the queue
    // would pass kMaxQueued (nothing is queued then).
    bool add(const std::string& keys);
    bool busy() const { return !queue_.empty() || ticks_ > 0 || tones_; }
    // The next 20 ms to `out`: true when something was sent (the caller sends no audio then).
    bool frame(AudioChannel& out);

  private:
    std::deque<char> queue_;
    char key_ = 0;
    int ticks_ = 0;       // of the current key (events): 5 on, 3 off
    bool tones_ = false;  // in-band: the generator has samples left
    dtmf_tx_state_s* tx_ = nullptr;
};

}  // namespace outpace::media
