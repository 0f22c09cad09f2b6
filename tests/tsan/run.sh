#!/usr/bin/env bash
# ThreadSanitizer over the media tests: the media workers share RTP sessions, recordings and the
# relay's figures with the engine's loop (lent and brought home under libevent's locks), which
# AddressSanitizer cannot judge. Builds tests/media_test.cc and tests/media_worker_test.cc with the
# media library's sources and -fsanitize=thread (about 30 s), then runs the tests that cross
# threads; any race report fails.
# Usage: bash tests/tsan/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUTPACE_TSAN_BUILD:-build-tsan}
mkdir -p "$out"
echo "== $out: media tests under ThreadSanitizer"
printf '#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n' > "$out/main.cc"
# shellcheck disable=SC2046
g++ -std=c++20 -O1 -g -fsanitize=thread -I. -DOUTPACE_SOURCE_DIR="\"$PWD\"" "$out/main.cc" \
  tests/media_test.cc tests/media_worker_test.cc dialer/media/{rtp,media_worker,recorder,sdp,srtp,dtmf,mixer}.cc \
  -o "$out/media_tsan" $(pkg-config --cflags --libs libevent libevent_pthreads spandsp sndfile \
  libsrtp2 libsodium) -lpthread
# io_sync=0: sockets are not taken as synchronisation. The tests and the workers talk through
# loopback sockets, which ThreadSanitizer otherwise treats as ordering everything around them,
# hiding a real race (checked: a lent session's counters read from the loop without coming home
# are reported with io_sync=0 and missed without it).
# setarch -R: without address randomisation, as some kernels' wide mmap randomness breaks
# ThreadSanitizer's fixed memory layout ("unexpected memory mapping").
TSAN_OPTIONS="halt_on_error=1 exitcode=66 io_sync=0" setarch "$(uname -m)" -R "$out/media_tsan" \
  -tc="media workers*,recordings*,rtp:*,srtp:*"
