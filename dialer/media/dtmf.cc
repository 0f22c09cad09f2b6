#include "dialer/media/dtmf.h"

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

}  // namespace outpace::media
