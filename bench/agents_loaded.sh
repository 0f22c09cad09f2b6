#!/usr/bin/env bash
# The agents bench twice, quiet and loaded, each RUNS times; prints the relay's added latency and
# the verdict-to-hearing time of each run and their medians side by side. Loaded is the issue's
# case: a competing load on every core (stress-ng --cpu N, N the machine's cores) and the store on
# a slow disk, every sync waiting SLOW_SYNC_MS (default 200 ms) first (bench/slow_sync.c,
# preloaded into the engine: a container has neither dm-delay nor cgroup v2's io controller).
# Usage: [SLOW_SYNC_MS=200] bench/agents_loaded.sh [AGENTS=500] [SECONDS=60] [RUNS=3]
# Needs what bench/agents.sh needs, stress-ng and gcc. Not run by CI.
set -euo pipefail
agents=${1:-500}
secs=${2:-60}
runs=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
for case in quiet loaded; do
  for i in $(seq "$runs"); do
    if [ "$case" = loaded ]; then
      LOAD=$(nproc) SLOW_SYNC_MS=${SLOW_SYNC_MS:-200} bash "$root/bench/agents.sh" "$agents" "$secs" > "$out/$case-$i.txt" 2>&1
    else
      bash "$root/bench/agents.sh" "$agents" "$secs" > "$out/$case-$i.txt" 2>&1
    fi
    grep -E "^relay adds|^human verdict|^dial rate|^slow_sync" "$out/$case-$i.txt" | sed "s/^/$case $i: /"
  done
done
python3 - "$out" "$runs" <<'PY'
import re, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def figures(case):
    rows = []
    for i in range(1, runs + 1):
        t = open(f"{out}/{case}-{i}.txt").read()
        r = re.search(r"relay adds .*median (\d+) us, p99 (\d+) us, max (\d+) us", t)
        h = re.search(r"human verdict .*median ([\d.]+) ms, p99 ([\d.]+) ms", t)
        lost = re.search(r"RTP lost (\d+) of", t)
        rate = re.search(r"dial rate: ([\d.]+) calls/s", t)
        if r and h:
            rows.append((int(r[1]) / 1000, int(r[2]) / 1000, int(r[3]) / 1000,
                         float(h[1]), float(h[2]), int(lost[1]) if lost else -1,
                         float(rate[1]) if rate else -1))
    return rows
q, l = figures("quiet"), figures("loaded")
names = ["relay median ms", "relay p99 ms", "relay max ms", "verdict->heard median ms",
         "verdict->heard p99 ms", "RTP lost", "dial rate calls/s"]
print(f"\nmedians of {len(q)} quiet and {len(l)} loaded runs (stress-ng on every core, every "
      f"sync of the store delayed):")
print(f"{'':28} {'quiet':>10} {'loaded':>10}")
for k, n in enumerate(names):
    mq = statistics.median(r[k] for r in q) if q else float('nan')
    ml = statistics.median(r[k] for r in l) if l else float('nan')
    print(f"{n:28} {mq:10.1f} {ml:10.1f}")
PY
echo "(each run's full output: $out)"
