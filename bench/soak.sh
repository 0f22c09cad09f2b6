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
status() { "$outpace" ctl --timeout-ms 5000 --endpoint "ipc://$work/ctl" status --json; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

espeak-ng -v en-us -s 150 -w hello.wav "Hello?" 2>/dev/null
sox hello.wav -r 8000 -c 1 -b 16 -e signed hello8k.wav
sox -n -r 8000 -c 1 -b 16 -e signed talk.wav synth 20 pinknoise vol 0.05
sox -n -r 8000 -c 1 -b 16 -e signed gap.wav trim 0 1
sox hello8k.wav gap.wav talk.wav -t raw -e u-law -r 8000 -c 1 callee.ulaw
sed -e "s|@AUDIO@|$work/callee.ulaw|" -e "s|@RING_MS@|1500|" \
  "$root/tests/sipp/uas_answer_audio.xml.in" > carrier.xml
carrier=$(free_port)
sipp -nostdin -i 127.0.0.1 -p "$carrier" -mi 127.0.0.1 -mp "$(free_port)" -sf carrier.xml \
  -max_socket 100000 > carrier.log 2>&1 &
pids+=($!)
wait_bound "$carrier"
phones=$(free_port)
sipp -nostdin -i 127.0.0.1 -p "$phones" -mi 127.0.0.1 -mp "$(free_port)" -sn uas -rtp_echo \
  -max_socket 100000 > phones.log 2>&1 &
pids+=($!)
wait_bound "$phones"

# Enough people for the whole run: an agent handles a call about every 25 s.
contacts=$((agents * minutes * 60 / 20 + 1000))
awk -v n="$contacts" -v z="$zone" 'BEGIN { print "phone,timezone"; for (i = 0; i < n; i++)
  printf "+1415%03d%04d,%s\n", 201 + int(i / 10000), i % 10000, z }' > soak.csv
cat > soak.yaml <<YAML
name: soak
dialing: {mode: predictive, min_agents_predictive: 5, ring_timeout: 30s, trunk: carrier, caller_id: "+12125550100"}
calling_hours:
  windows: [{days: [sun, mon, tue, wed, thu, fri, sat], from: "09:00", to: "20:00"}]
timezone: {policy: column, column: timezone, default: $zone}
safe_harbor: {prompt: prompts/safe-harbor.wav}
agents: {wrapup_max: 60s}
YAML
"$outpace" contacts import --data data --campaign soak.yaml soak.csv > /dev/null
agents_port=$(free_port)
metrics_port=$(free_port)
cat > engine.yaml <<YAML
data: data
sip: {address: 127.0.0.1, port: $(free_port)}
rtp: {address: 127.0.0.1, ports: 10000-31999}
trunks: [{name: carrier, address: "127.0.0.1:$carrier", max_calls_per_second: 50, max_calls: $((agents * 3))}]
campaigns: [{file: soak.yaml}]
agents: {endpoint: "tcp://127.0.0.1:$agents_port", heartbeat: 5s}
control: ipc://$work/ctl
metrics: "127.0.0.1:$metrics_port"
drain_timeout: 30s
YAML
"$outpace" run --quiet --config engine.yaml 2> engine.log &
engine=$!
pids+=($engine)
sleep 1
kill -0 "$engine" 2>/dev/null || { echo "the engine did not start:"; tail -5 engine.log; exit 1; }
"$outpace" agent --auto --count "$agents" --endpoint "tcp://127.0.0.1:$agents_port" \
  --phone "sip:%a@127.0.0.1:$phones" --talk lognormal:20s:0.3 --wrap uniform:1s:3s \
  --code NOT_INTERESTED --for $((minutes * 60 + 120)) > agents.log 2>&1 &
pids+=($!)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$engine/status"; }
fds() { ls "/proc/$engine/fd" | wc -l; }
echo "machine: $(nproc) cores; $agents agents for $minutes min; sampling every 10 s"
echo "t_s,rss_kb,fds,in_progress,talking,dialled,connected,abandoned" > soak.csv
start=$(date +%s)
end=$((start + minutes * 60))
while [ "$(date +%s)" -lt "$end" ]; do
  kill -0 "$engine" 2>/dev/null || { echo "the engine died:"; tail -20 engine.log; exit 1; }
  s=$(status)
  row=$(echo "$s" | python3 -c "import json,sys; d=json.load(sys.stdin); c=d['campaigns'][0]; print(f\"{d['calls_in_progress']},{c['agents']['talking']},{c['dialled']},{c['connected']},{c['abandoned']}\")")
  t=$(( $(date +%s) - start ))
  echo "$t,$(rss_kb),$(fds),$row" >> soak.csv
  if [ $((t % 60)) -lt 10 ]; then
    echo "[$((t / 60)) min] rss $(( $(rss_kb) / 1024 )) MB, fds $(fds), calls/talking/dialled/connected/abandoned $row"
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
fds = [int(r["fds"]) for r in after]
n = len(t); mt = sum(t) / n; mr = sum(rss) / n
slope = sum((a - mt) * (b - mr) for a, b in zip(t, rss)) / max(1e-9, sum((a - mt) ** 2 for a in t))
first, last = after[0], after[-1]
print(f"after warm-up ({warm} s): RSS {rss[0]:.1f} -> {rss[-1]:.1f} MB (min {min(rss):.1f}, max {max(rss):.1f}), "
      f"trend {slope * 3600:+.2f} MB/hour")
print(f"open fds {fds[0]} -> {fds[-1]} (min {min(fds)}, max {max(fds)})")
print(f"calls: dialled {int(last['dialled'])}, connected {int(last['connected'])}, abandoned {int(last['abandoned'])}; "
      f"{(int(last['connected']) - int(first['connected'])) / max(1, (t[-1] - t[0])) * 60:.1f} connects/min after warm-up")
PY
"$outpace" ctl --endpoint "ipc://$work/ctl" shutdown > /dev/null || true
wait "$engine" || true
