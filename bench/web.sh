#!/usr/bin/env bash
# The web desktop's figures, in one run on loopback (docs/web.md):
#   1. the screen pop through the gateway: PAGES agent desktops (tabs of one headless Chromium)
#      take calls from a SIPp carrier, each hanging up after 4 s and disposing by its hotkey;
#      each page times the human verdict (the engine's clock) to its DOM showing the contact.
#      Beside them, REF desktops of `outpace agent --auto` on ZeroMQ time the same thing without
#      the gateway and the browser: the reference, same run, same engine.
#   2. SESSIONS WebSocket sessions held open on the gateway (agents logged in, paused): the
#      gateway's CPU and memory over 30 s, beside the engine's for the same agents.
# Usage: bench/web.sh [PAGES=50] [SECONDS=60] [SESSIONS=500]
# Needs the Release build (cmake --build build), chromium, chromium-driver, python3-selenium,
# sip-tester, espeak-ng, sox. Not run by CI. (Debian's python3 for its selenium: /usr/bin/python3.)
set -euo pipefail
pages=${1:-50}
secs=${2:-60}
sessions=${3:-500}
ref=10
root=$(cd "$(dirname "$0")/.." && pwd)
name=web
source "$root/bench/lib.sh"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

start_talking_carrier 120 500
start_softphones
make_campaign bench $(((pages + ref) * secs + 2000)) "mode: progressive"
sed -i 's/wrapup_max: 60s/wrapup_max: 10s/' bench.yaml
echo password-1 > desk.pw
hash=$(printf 'password-1\n' | "$outpace" agent-passwd x --no-sip | awk '/desktop_password/ {print $2}')
python3 - "$pages" "$sessions" "$ref" "$phones" "$hash" > agents.yaml <<'PY'
import sys
pages, sessions, ref, phones, desk = map(str, sys.argv[1:])
print("agents:")
ids = [f"agent{i}" for i in range(1, int(pages) + int(sessions) + 1)]
ids += [f"ref{i}" for i in range(1, int(ref) + 1)]
for a in ids:
    print(f"  - {{id: {a}, phone: 'sip:{a}@127.0.0.1:{phones}', desktop_password: {desk}}}")
PY
agents_extra=", accounts: agents.yaml, events: \"ipc://$work/events\""
start_engine bench 100 $(((pages + ref) * 2)) "tick: 50ms"
web_port=$(free_port)
cat > web.yaml <<YAML
listen: 127.0.0.1:$web_port
root: $root/dialer/web/site
engine: {agents: "tcp://127.0.0.1:$agents_port", events: "ipc://$work/events", control: "ipc://$work/ctl"}
sessions: {max: $((pages + sessions + 100))}
limits: {pages: $((pages + sessions + 50)), logins_per_minute: 10000, login_burst: 10000}
YAML
"$outpace" web --config web.yaml > web.log 2>&1 &
web=$!
pids+=($web)
sleep 1
url="http://127.0.0.1:$web_port/"
echo "machine: $(nproc) cores; $pages pages and $ref ZeroMQ desktops for $secs s, then $sessions sessions"

# 1. Screen pops.
"$outpace" agent --auto --count "$ref" --agent ref --endpoint "tcp://127.0.0.1:$agents_port" \
  --password-file desk.pw --talk fixed:4s --wrap fixed:1s --code SALE --for $((secs + 40)) \
  --json > ref.json 2> ref.log &
refs=$!
pids+=($refs)
/usr/bin/python3 "$root/bench/web_bench.py" pops "$url" "$pages" "$secs" password-1
wait "$refs" || true
python3 - ref.json <<'PY'
import json, sys
try:
    d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    print(f"reference, the same engine's ZeroMQ desktops (no gateway, no browser): median "
          f"{d['offer_ms_median']:.1f} ms, p99 {d['offer_ms_p99']:.1f} ms over {d['calls']} calls")
except Exception as e:
    print("no reference summary:", e)
PY

# 2. Sessions held open.
g0=$(rss_mb "$web")
mkfifo hold
/usr/bin/python3 "$root/bench/web_bench.py" sessions "$url" "$sessions" password-1 $((pages + 1)) \
  < hold > sessions.log 2>&1 &
holder=$!
pids+=($holder)
exec 3> hold
for _ in $(seq 600); do grep -q "sessions up" sessions.log && break; sleep 0.5; done
grep -q "sessions up" sessions.log || { echo "sessions did not come up:"; tail -3 sessions.log; exit 1; }
hz=$(getconf CLK_TCK)
w0=$(cpu_ticks "$web"); e0=$(cpu_ticks "$engine"); t0=$(date +%s.%N)
sleep 30
w1=$(cpu_ticks "$web"); e1=$(cpu_ticks "$engine"); t1=$(date +%s.%N)
python3 - "$sessions" "$w0" "$w1" "$e0" "$e1" "$t0" "$t1" "$hz" "$g0" "$(rss_mb "$web")" \
  "$(rss_mb "$engine")" "$(ls /proc/$web/task | wc -l)" <<'PY'
import sys
n = sys.argv[1]
w0, w1, e0, e1, t0, t1, hz, g0, g1, er, threads = map(float, sys.argv[2:])
wall = t1 - t0
print(f"{n} WebSocket sessions held 30 s: gateway CPU {(w1 - w0) / hz / wall * 100:.1f} % of a core, "
      f"RSS {g1:.0f} MB ({g0:.0f} MB before them), {threads:.0f} threads")
print(f"reference, the engine for the same agents over the same 30 s: CPU "
      f"{(e1 - e0) / hz / wall * 100:.1f} % of a core, RSS {er:.0f} MB")
PY
exec 3>&-
wait "$holder" || true
