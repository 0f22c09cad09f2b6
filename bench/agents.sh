#!/usr/bin/env bash
# Agent figures for the agents issue, in one run, on loopback:
#   - AGENTS simulated agents (`outpace agent --auto --count AGENTS`), each with a softphone leg
#     the engine keeps up (one SIPp UAS answers them all and echoes their RTP);
#   - a SIPp carrier whose callees say "hello", then keep talking (noise) until the agent hangs up;
#   - the engine on a progressive campaign: every live answer bridged to an agent, RTP relayed
#     both ways through the engine.
# Printed: bridged calls at once, the engine's CPU per bridged call beside SIPp's for echoing the
# same streams (the reference), what relaying adds to each packet (socket arrival to relayed send,
# kernel timestamps), the human verdict to the agent hearing the customer, and the verdict to the
# desktop's screen pop (ZeroMQ).
# With REGISTERED=N, the agents come from an agents file (each with a desktop password and its
# fixed softphone) and N more accounts keep a softphone registered throughout
# (bench/softphones.py from 127.0.0.3, re-registering every 60 s and answering the engine's
# keep-alives): run once with
# REGISTERED=0 and once with REGISTERED=1000 to see what the registrar costs the relay.
# With IMPORT=N, a list of N new contacts is imported into the running engine (through its
# control socket, as `outpace contacts import` does while an engine holds the store) from the
# start of the measurement: run once without and once with IMPORT=1000000 to see what a big
# import costs the dial rate and the relay; the import's own rows/s is printed.
# With LOAD=N, `stress-ng --cpu N` competes for the cores during the measurement (another
# program busy on the machine); bench/agents_loaded.sh runs the quiet and the loaded case and
# prints them side by side.
# With SLOW_SYNC_MS=N, the store is on a slow disk: every fsync/fdatasync the engine makes waits
# N ms first (bench/slow_sync.c, preloaded; dm-delay and cgroup v2's io controller are not
# available in a container). The engine's log ends with how many syncs were delayed.
# With RTP_EXTRA, more keys of the engine's rtp section: RTP_EXTRA=", workers: 0" puts the
# conversations' relay back on the engine's loop (as before media workers), RTP_EXTRA=",
# worker_realtime: 0" keeps the media workers at ordinary priority.
# Usage: [REGISTERED=N] [IMPORT=N] [BUSY=SHARE] [LOAD=N] [SLOW_SYNC_MS=N] [RTP_EXTRA=...]
#        bench/agents.sh
#        [AGENTS=500] [SECONDS=60]
# Needs the Release build (cmake --build build), sip-tester, espeak-ng, sox (and stress-ng with
# LOAD). Not run by CI.
set -euo pipefail
agents=${1:-500}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
name=agents
source "$root/bench/lib.sh"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The callee talks for two minutes, so the relay carries audio both ways for the whole call.
# With BUSY=share (0..1), that share of calls is busy at once: BUSY=0.95 dials some 100 calls/s
# with 200 agents, the load the campaign-manager issue measures an import under.
start_talking_carrier 120 500 "${BUSY:-}"
start_softphones

# Enough contacts for the whole run: a call a second per 10 agents, or with BUSY some 150/s.
list_size=$((agents * secs / 10 + 1000))
[ -n "${BUSY:-}" ] && list_size=$((150 * (secs + 120)))
make_campaign bench "$list_size" "mode: progressive"
import_rows=${IMPORT:-0}
if [ "$import_rows" -gt 0 ]; then
  awk -v n="$import_rows" -v z="$zone" 'BEGIN { print "phone,timezone,first_name,account"; for (i = 0; i < n; i++)
    printf "+1646%03d%04d,%s,Ann,A%d\n", 201 + int(i / 10000), i % 10000, z, i }' > afternoon.csv
fi
login=(--phone "sip:%a@127.0.0.1:$phones")
registered=${REGISTERED:-}
if [ -n "$registered" ]; then
  # One desktop hash for every agent (same password; the salt is in the hash).
  echo desk-pass-1 > desk.pw
  hash=$(printf 'unused-sip-pass\ndesk-pass-1\n' | "$outpace" agent-passwd x | awk '/desktop_password/ {print $2}')
  python3 - "$agents" "$registered" "$phones" "$hash" > agents.yaml 2> users.csv <<'PY'
import hashlib, sys
agents, registered, phones, desk = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
print("agents:")
for i in range(1, agents + 1):
    print(f"  - {{id: agent{i}, phone: 'sip:agent{i}@127.0.0.1:{phones}', desktop_password: {desk}}}")
sys.stderr.write("SEQUENTIAL\n")
for i in range(1, registered + 1):
    user, pw = f"reg{i}", f"sip-pass-{i}"
    ha1 = hashlib.md5(f"{user}:outpace:{pw}".encode()).hexdigest()
    print(f"  - {{id: {user}, sip_ha1: {ha1}, desktop_password: {desk}}}")
    sys.stderr.write(f"{user};{pw}\n")
PY
  # All N come from one address (127.0.0.3), an office behind one NAT, with the registrar's
  # default limits.
  agents_extra=", accounts: agents.yaml"
  login=(--agent agent --password-file desk.pw)
fi
if [ -n "${SLOW_SYNC_MS:-}" ]; then
  gcc -O2 -shared -fPIC -o slow_sync.so "$root/bench/slow_sync.c" -ldl
  export SLOW_SYNC_MS ENGINE_PRELOAD=$work/slow_sync.so
  echo "slow disk: every sync of the store waits $SLOW_SYNC_MS ms first (bench/slow_sync.c)"
fi
start_engine bench 200 $((agents * 2)) "tick: 50ms"
if [ -n "$registered" ] && [ "$registered" -gt 0 ]; then
  sip_port=$(awk -F'port: ' '/^sip:/ {sub(/}.*/, "", $2); print $2}' engine.yaml)
  python3 "$root/bench/softphones.py" "$registered" "$sip_port" 127.0.0.3 > registering.log 2>&1 &
  pids+=($!)
  for _ in $(seq 150); do
    n=$(status | field 'sum(len(v) for v in d["registrations"].values())' 2>/dev/null || echo 0)
    [ "$n" -ge "$registered" ] && break
    sleep 0.5
  done
  echo "registered softphones: $n of $registered"
fi
"$outpace" agent --auto --count "$agents" --endpoint "tcp://127.0.0.1:$agents_port" \
  "${login[@]}" --talk lognormal:30s:0.5 --wrap uniform:1s:3s \
  --code SALE --for $((secs + 60)) --json > agents.json 2> agents.log &
desks=$!
pids+=($desks)

echo "machine: $(nproc) cores; $agents agents for $secs s${registered:+; $registered more softphones registered}"
grep -m1 "media: " engine.log | sed 's/^outpace: /engine: /' || true
# Warm-up: until most agents are talking (or a minute).
for _ in $(seq 120); do
  talking=$(status | field 'd["campaigns"][0]["agents"]["talking"]' 2>/dev/null || echo 0)
  [ "$talking" -ge $((agents * 7 / 10)) ] && break
  sleep 0.5
done
echo "warm: $talking agents talking"
hz=$(getconf CLK_TCK)
e0=$(cpu_ticks "$engine"); p0=$(cpu_ticks "$phones_pid")
r0=$(status | field 'd["relay"]["packets"]')
d0=$(status | field 'd["campaigns"][0]["dialled"]')
t0=$(date +%s.%N)
if [ -n "${LOAD:-}" ]; then
  stress-ng --cpu "$LOAD" --timeout $((secs + 5))s > stress.log 2>&1 &
  pids+=($!)
  echo "competing load: stress-ng --cpu $LOAD"
fi
if [ "$import_rows" -gt 0 ]; then
  "$outpace" contacts import --data data --campaign bench.yaml afternoon.csv > import.txt 2>&1 &
  importer=$!
  pids+=($importer)
fi
samples=0; sum=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
  n=$(status | field 'd["campaigns"][0]["agents"]["talking"]' 2>/dev/null || echo 0)
  sum=$((sum + n)); samples=$((samples + 1))
  sleep 1
done
e1=$(cpu_ticks "$engine"); p1=$(cpu_ticks "$phones_pid")
t1=$(date +%s.%N)
status > final.json
r1=$(field 'd["relay"]["packets"]' < final.json)
d1=$(field 'd["campaigns"][0]["dialled"]' < final.json)
python3 -c "print(f'dial rate: {($d1 - $d0) / ($t1 - $t0):.1f} calls/s over the measurement')"
if [ "$import_rows" -gt 0 ]; then
  if kill -0 "$importer" 2>/dev/null; then
    echo "the import was still running at the end of the measurement (it ran throughout)"
    wait "$importer" || true
  fi
  grep -E "rows:|through" import.txt || tail -3 import.txt
fi
bridged=$(python3 -c "print(round($sum / $samples, 1))")
python3 - "$e0" "$e1" "$p0" "$p1" "$t0" "$t1" "$hz" "$bridged" "$r0" "$r1" <<'PY'
import sys
e0, e1, p0, p1, t0, t1, hz, bridged, r0, r1 = map(float, sys.argv[1:])
wall = t1 - t0
engine = (e1 - e0) / hz / wall * 100
phones = (p1 - p0) / hz / wall * 100
relayed = r1 - r0
print(f"bridged calls at once (mean over {wall:.0f} s): {bridged:.0f}")
print(f"engine CPU: {engine:.1f} % of a core = {engine / max(bridged, 1):.3f} % per bridged call; "
      f"{(e1 - e0) / hz / max(relayed, 1) * 1e6:.1f} us CPU per relayed packet "
      f"({relayed / wall:.0f} packets/s relayed; the engine also receives, detects and sends)")
print(f"reference, SIPp echoing the agents' side of the same calls: {phones:.1f} % of a core = "
      f"{phones / max(bridged, 1):.3f} % per call")
PY
python3 - final.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["relay"]; c = d["campaigns"][0]
print(f"relay adds (socket arrival to relayed send): median {r['latency_p50_us']:.0f} us, "
      f"p99 {r['latency_p99_us']:.0f} us, max {r['latency_max_us']:.0f} us over {r['packets']} packets")
print(f"human verdict to the agent hearing the customer: median {c['heard_ms_median']:.1f} ms, "
      f"p99 {c['heard_ms_p99']:.1f} ms (goal <= 50 / 200 ms) over {c['connected']} calls")
print(f"abandoned {c['abandoned']} of {c['humans']} live answers; RTP lost {c['rtp_lost']} of {c['rtp_packets'] + c['rtp_lost']}")
PY
"$outpace" ctl --endpoint "ipc://$work/ctl" shutdown > /dev/null || true
wait "$engine" || true
grep -h "^slow_sync:" engine.log || true
kill "$desks" 2>/dev/null || true
wait "$desks" 2>/dev/null || true
python3 - agents.json <<'PY'
import json, sys
try:
    d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    print(f"verdict to the desktop's screen pop (ZeroMQ): median {d['offer_ms_median']:.2f} ms, "
          f"p99 {d['offer_ms_p99']:.2f} ms over {d['calls']} calls")
except Exception as e:
    print("no agent summary:", e)
PY
