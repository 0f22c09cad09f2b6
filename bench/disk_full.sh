#!/usr/bin/env bash
# The store's disk fills up while the engine dials busy numbers at CPS calls per second (a real
# tmpfs of 64 MiB filled by a file, root needed): how long dialling takes to stall, how long it
# takes to resume once the file is removed, and how many contacts lost their real outcome
# (target 0: every one of them is the carrier's busy). The reference is the run's own dial rate
# before the disk filled.
# Usage: sudo bench/disk_full.sh [CPS=500] [FULL_SECONDS=10]
# Needs the Release build (cmake --build build) and sip-tester. Not run by CI.
set -euo pipefail
cps=${1:-500}
full_for=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
name=disk-full
source "$root/bench/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (mounts a tmpfs)"; exit 1; }

carrier=$(free_port)
sipp -nostdin -i 127.0.0.1 -p "$carrier" -mi 127.0.0.1 -mp "$(free_port)" \
  -sf "$root/tests/sipp/uas_busy.xml" -max_socket 100000 > carrier.log 2>&1 &
pids+=($!)
wait_bound "$carrier"
mkdir -p data
mount -t tmpfs -o size=64m tmpfs data
trap 'umount -l "$work/data" 2>/dev/null || true; cleanup' EXIT
contacts=$((cps * 40))
make_campaign full "$contacts" "mode: progressive"
sed -i 's/^agents: .*/amd: {enabled: false}/' full.yaml
cat > engine.yaml <<YAML
data: data
sip: {address: 127.0.0.1, port: $(free_port)}
rtp: {address: 127.0.0.1, ports: 10000-31999}
trunks: [{name: carrier, address: "127.0.0.1:$carrier", max_calls_per_second: $cps, max_calls: 5000}]
campaigns: [{file: full.yaml, unattended_lines: $((cps * 2))}]
control: ipc://$work/ctl
drain_timeout: 5s
stop_when_done: true
tick: 20ms
YAML
"$outpace" run --quiet --config engine.yaml 2> engine.log &
engine=$!
pids+=($engine)
state() { status | field 'd["campaigns"][0]["state"] + " " + str(d["campaigns"][0]["dialled"])' 2>/dev/null || echo "? 0"; }
sleep 5
before=$(state | awk '{print $NF}')
sleep 2
after=$(state | awk '{print $NF}')
echo "dial rate before the disk fills: $(( (after - before) / 2 ))/s (asked for $cps/s)"
t0=$(date +%s.%N)
dd if=/dev/zero of=data/filler bs=1M 2>/dev/null || true
until state | grep -q "^stalled"; do sleep 0.05; done
t1=$(date +%s.%N)
echo "stalled $(python3 -c "print(round($t1 - $t0, 2))") s after the disk filled: $(state)"
sleep "$full_for"
echo "after ${full_for} s full: $(state)"
t2=$(date +%s.%N)
rm data/filler
until state | grep -q "^running"; do sleep 0.05; done
t3=$(date +%s.%N)
echo "dialling again $(python3 -c "print(round($t3 - $t2, 2))") s after space returned"
wait "$engine" || true
grep -E "stalled|writes again|could not write" engine.log | head -5
"$outpace" report --json --data data --campaign full > report.json
python3 - "$contacts" <<'PY'
import json, sys
d = json.load(open("report.json"))
by = d["attempts_by_outcome"]
n = int(sys.argv[1])
busy = by.get("busy", 0)
print(f"attempts by outcome: {by}; in flight: {d.get('in_flight', 0)}")
print(f"contacts whose real outcome (busy) was lost: {sum(v for k, v in by.items() if k != 'busy')} of {n} (target 0)")
PY
