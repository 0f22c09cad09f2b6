#include "dialer/media/dtmf.h"

#include <array>
#include <string_view>

#include "dialer/media/rtp.h"

extern "C" {
#include <spandsp.h>
}

namespace outpace::media {

DtmfDetector::DtmfDetector(DigitHandler on_digit) : on_digit_(std::move(on_digit)) {
    rx_ = dtmf_rx_init(nullptr, &DtmfDetector::digits, this);
}

DtmfDetector::~DtmfDetector() {
    if (rx_) dtmf_rx_free(rx_);
}

void DtmfDetector::feed(std::span<const std::int16_t> pcm) {
    if (!rx_ || pcm.empty()) return;
    dtmf_rx(rx_, pcm.data(), static_cast<int>(pcm.size()));
}

void DtmfDetector::digits(void* self, const char* digits, int len) {
    auto* d = static_cast<DtmfDetector*>(self);
    for (int i = 0; i < len; ++i)
        if (d->on_digit_) d->on_digit_(digits[i]);
}

namespace {
constexpr std::string_view kKeys = "0123456789*#ABCD";
constexpr int kOnTicks = 5, kOffTicks = 3;  // 100 ms on, 60 ms off
}  // namespace

KeyPresses::KeyPresses() {
    tx_ = dtmf_tx_init(nullptr);
    if (tx_) dtmf_tx_set_timing(tx_, kOnTicks * 20, kOffTicks * 20);
}

KeyPresses::~KeyPresses() {
    if (tx_) dtmf_tx_free(tx_);
}

bool KeyPresses::add(const std::string& keys) {
    std::size_t n = 0;
    for (char k : keys) n += kKeys.find(k) != std::string_view::npos;
    if (queue_.size() + n > kMaxQueued) return false;
    for (char k : keys)
        if (kKeys.find(k) != std::string_view::npos) queue_.push_back(k);
    return true;
}

bool KeyPresses::frame(AudioChannel& out) {
    if (tones_ || (!ticks_ && !queue_.empty() && !out.sends_events())) {
        // In-band: the generator is handed every queued key and plays them with their gaps.
        if (!tones_ && tx_) {
            std::string keys(queue_.begin(), queue_.end());
            queue_.clear();
            dtmf_tx_put(tx_, keys.c_str(), static_cast<int>(keys.size()));
            tones_ = true;
        }
        std::array<std::int16_t, 160> pcm{};
        const int n = tx_ ? dtmf_tx(tx_, pcm.data(), static_cast<int>(pcm.size())) : 0;
        if (n <= 0) {
            tones_ = false;
            return false;
        }
        out.send(pcm);
        return true;
    }
    if (!ticks_) {
        if (queue_.empty()) return false;
        key_ = queue_.front();
        queue_.pop_front();
    }
    ++ticks_;
    if (ticks_ <= kOnTicks) {
        out.send_event(key_, static_cast<std::uint16_t>(160 * ticks_), ticks_ == kOnTicks);
        return true;
    }
    if (ticks_ == kOnTicks + kOffTicks) ticks_ = 0;
    return false;  // the gap between keys: audio flows again
}

}  // namespace outpace::media
