#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs the whole suite twice, once
# optimised (as shipped) and once with AddressSanitizer + UndefinedBehaviorSanitizer, then runs
# each libFuzzer target for a bounded time (tests/fuzz/run.sh; OUTPACE_FUZZ_SECONDS, default 20),
# then the media tests under ThreadSanitizer (tests/tsan/run.sh, about 30 s).
# Usage: bash tests/run.sh [--fast]   (--fast: the optimised build only)
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh

# Unity builds: each library's and the tests' sources compiled a batch at a time, which takes a
# third of the time of one file at a time on two cores (the headers are parsed once a batch).
# A name defined twice at file scope in two sources of one target fails to compile here: give
# helpers distinct names or share them (tests/test_util.h, tests/engine_sim.h).
run_suite() {
  local dir=$1; shift
  echo "== $dir: configure and build"
  cmake -S . -B "$dir" -DCMAKE_UNITY_BUILD=ON "$@" >/dev/null
  cmake --build "$dir" -j2
  echo "== $dir: tests"
  (cd "$dir" && ctest -j2 --output-on-failure --timeout 600)
}

run_suite build -DCMAKE_BUILD_TYPE=Release
if [ "${1:-}" != "--fast" ]; then
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DOUTPACE_SANITIZE=ON -DOUTPACE_BENCH=OFF
  bash tests/fuzz/run.sh "${OUTPACE_FUZZ_SECONDS:-20}"
  bash tests/tsan/run.sh
fi
echo "== all tests passed"
