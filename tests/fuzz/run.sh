#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time, starting
# from the seed corpus in tests/fuzz/corpus (copied: the repository's corpus is not modified).
# A crash fails the script (after the targets running with it end) with the target's report and the
# crashing input under $OUT/crashes. Targets run one per core.
# Usage: bash tests/fuzz/run.sh [SECONDS_EACH] [TARGET...]   (default 20 s, every target)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv encoding campaign engine_config sdp rtp agent control agents_file digest dns)
build=${OUTPACE_FUZZ_BUILD:-build-fuzz}
out=${OUTPACE_FUZZ_OUT:-$build/fuzz-runs}

echo "== $build: configure and build the fuzz targets (clang)"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTPACE_FUZZ=ON -DCMAKE_UNITY_BUILD=ON \
  >/dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$out/crashes"
# One target on each core at a time (OUTPACE_FUZZ_JOBS, default the cores): the machine's cores
# were half idle with one target after another.
fuzz_one() {
  local t=$1 corpus="$out/corpus-$1" log="$out/$1.log"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/$t/* "$corpus/" 2>/dev/null || true
  # Leaks in a parser would show as a slow growth in the soak; here only crashes count.
  if ! ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/crashes/$t-" \
      -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    tail -50 "$log"
    echo "== fuzz_$t: FAILED (input under $out/crashes)"
    return 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  echo "== fuzz_$t: $execs executions in ${seconds}s, no crash (coverage $cov edges)"
}
jobs_max=${OUTPACE_FUZZ_JOBS:-$(nproc)}
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" = 0 ] || { echo "== fuzzing found a crash (above)"; exit 1; }
