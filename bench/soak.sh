#!/usr/bin/env bash
# Soak: the engine under sustained load for MINUTES, its resident memory and open file
# descriptors sampled every 10 s; after a warm-up (the first sixth, at least 2 minutes) both must
# stay flat. Load: AGENTS simulated agents on a predictive campaign (one SIPp UAS echoes their
# softphone legs), a SIPp carrier whose callees say "hello" and talk for 20 s, every answer
# bridged and relayed, dispositions recorded.
# Printed: a line a minute, then RSS and fd counts at the end of warm-up and at the end, the RSS
# trend after warm-up (least squares, MB per hour) and the calls handled. Samples: soak.csv in
# the work directory (KEEP=1 keeps it).
# Usage: bench/soak.sh [MINUTES=30] [AGENTS=50]
# Needs the Release build, sip-tester, espeak-ng, sox. Not run by CI.
set -euo pipefail
minutes=${1:-30}
agents=${2:-50}
root=$(cd "$(dirname "$0")/.." && pwd)
name=soak
source "$root/bench/lib.sh"
# A copy of the binary: rebuilding during a soak must not touch the engine under test.
cp "$outpace" "$work/outpace"
outpace=$work/outpace

start_talking_carrier 20 1500
start_softphones

# Enough people for the whole run: an agent handles a call about every 25 s.
make_campaign soak $((agents * minutes * 60 / 20 + 1000)) "mode: predictive, min_agents_predictive: 5"
metrics_port=$(free_port)
start_engine soak 50 $((agents * 3)) "metrics: \"127.0.0.1:$metrics_port\""
"$outpace" agent --auto --count "$agents" --endpoint "tcp://127.0.0.1:$agents_port" \
  --phone "sip:%a@127.0.0.1:$phones" --talk lognormal:20s:0.3 --wrap uniform:1s:3s \
  --code NOT_INTERESTED --for $((minutes * 60 + 120)) > agents.log 2>&1 &
pids+=($!)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$engine/status"; }
fds() { ls "/proc/$engine/fd" | wc -l; }
echo "machine: $(nproc) cores; $agents agents for $minutes min; sampling every 10 s"
# The store's own memory (RocksDB memtables and block cache grow until their bounds by design).
store_kb() {
  python3 - "$metrics_port" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
print(int(sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("outpace_store_memory_bytes{")) / 1024))
PY
}
echo "t_s,rss_kb,store_kb,fds,in_progress,talking,dialled,connected,abandoned" > soak.csv
start=$(date +%s)
end=$((start + minutes * 60))
while [ "$(date +%s)" -lt "$end" ]; do
  kill -0 "$engine" 2>/dev/null || { echo "the engine died:"; tail -20 engine.log; exit 1; }
  s=$(status) || { sleep 10; continue; }  # a slow reply is not a reason to stop the soak
  row=$(echo "$s" | python3 -c "import json,sys; d=json.load(sys.stdin); c=d['campaigns'][0]; print(f\"{d['calls_in_progress']},{c['agents']['talking']},{c['dialled']},{c['connected']},{c['abandoned']}\")")
  t=$(( $(date +%s) - start ))
  store=$(store_kb || echo 0)
  echo "$t,$(rss_kb),$store,$(fds),$row" >> soak.csv
  if [ $((t % 60)) -lt 10 ]; then
    echo "[$((t / 60)) min] rss $(( $(rss_kb) / 1024 )) MB (store $((store / 1024)) MB), fds $(fds), calls/talking/dialled/connected/abandoned $row"
  fi
  sleep 10
done
python3 - soak.csv "$minutes" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
minutes = int(sys.argv[2])
warm = max(120, minutes * 60 // 6)
after = [r for r in rows if int(r["t_s"]) >= warm]
if len(after) < 3:
    print("too short to judge: run longer"); sys.exit(0)
t = [int(r["t_s"]) for r in after]
rss = [int(r["rss_kb"]) / 1024 for r in after]
store = [int(r["store_kb"]) / 1024 for r in after]
rest = [a - b for a, b in zip(rss, store)]
fds = [int(r["fds"]) for r in after]
n = len(t); mt = sum(t) / n
def trend(ys):
    my = sum(ys) / n
    return sum((a - mt) * (b - my) for a, b in zip(t, ys)) / max(1e-9, sum((a - mt) ** 2 for a in t)) * 3600
first, last = after[0], after[-1]
print(f"after warm-up ({warm} s): RSS {rss[0]:.1f} -> {rss[-1]:.1f} MB (min {min(rss):.1f}, max {max(rss):.1f}), "
      f"trend {trend(rss):+.2f} MB/hour")
print(f"  of which the store (memtables, block cache): {store[0]:.1f} -> {store[-1]:.1f} MB, trend {trend(store):+.2f} MB/hour")
print(f"  the rest: {rest[0]:.1f} -> {rest[-1]:.1f} MB (min {min(rest):.1f}, max {max(rest):.1f}), trend {trend(rest):+.2f} MB/hour")
print(f"open fds {fds[0]} -> {fds[-1]} (min {min(fds)}, max {max(fds)})")
print(f"calls: dialled {int(last['dialled'])}, connected {int(last['connected'])}, abandoned {int(last['abandoned'])}; "
      f"{(int(last['connected']) - int(first['connected'])) / max(1, (t[-1] - t[0])) * 60:.1f} connects/min after warm-up")
PY
"$outpace" ctl --endpoint "ipc://$work/ctl" shutdown > /dev/null || true
wait "$engine" || true
