#!/usr/bin/env bash
# A SIP flood from a stranger while the engine dials: N requests of METHOD (REGISTER, OPTIONS,
# MESSAGE) from 127.0.0.2 at RATE per second (default 10,000: 100,000 in 10 s), against the
# engine's SIP port.
# Prints, second by second, the engine's RSS and the calls it dialled, then the dial rate before,
# during and after the flood (the reference: the same run's own rate before it) and peak RSS.
# With REGISTRAR=1 the engine has an agents file, so REGISTERs from 127.0.0.2 (a loopback
# address: inside the default phone networks) reach its registrar and its per-source limit
# instead of the socket filter; the registrar's answers by result are printed too.
# Usage: [REGISTRAR=1] bench/flood.sh [METHOD=REGISTER] [N=100000] [CPS=100] [RATE=10000]
# Needs the Release build (cmake --build build) and sip-tester. Not run by CI.
set -euo pipefail
method=${1:-REGISTER}
n=${2:-100000}
cps=${3:-100}
flood_rate=${4:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
name=flood
source "$root/bench/lib.sh"

carrier=$(free_port)
# Busy callees: a steady dial rate that neither the abandon cap nor agents limit.
sipp -nostdin -i 127.0.0.1 -p "$carrier" -mi 127.0.0.1 -mp "$(free_port)" \
  -sf "$root/tests/sipp/uas_busy.xml" \
  -max_socket 100000 > carrier.log 2>&1 &
pids+=($!)
wait_bound "$carrier"
make_campaign flood $((cps * 200)) "mode: progressive"
sed -i 's/^agents: .*/amd: {enabled: false}/' flood.yaml
sip_port=$(free_port)
cat > engine.yaml <<YAML
data: data
sip: {address: 127.0.0.1, port: $sip_port}
rtp: {address: 127.0.0.1, ports: 10000-31999}
trunks: [{name: carrier, address: "127.0.0.1:$carrier", max_calls_per_second: $cps, max_calls: 2000}]
campaigns: [{file: flood.yaml, unattended_lines: $((cps * 2))}]
control: ipc://$work/ctl
drain_timeout: 5s
stop_after: 80s
YAML
if [ -n "${REGISTRAR:-}" ]; then
  metrics_port=$(free_port)
  { echo "agents:"; echo "  - id: alice"; printf 'sip-pass-1\ndesk-pass-1\n' | "$outpace" agent-passwd alice; } > agents.yaml
  cat >> engine.yaml <<YAML
agents: {endpoint: "tcp://127.0.0.1:$(free_port)", accounts: agents.yaml}
metrics: "127.0.0.1:$metrics_port"
YAML
fi
"$outpace" run --quiet --config engine.yaml 2> engine.log &
engine=$!
pids+=($engine)
sleep 1

sample() {  # second, rss MB, dialled
  local rss dialled
  rss=$(awk '/VmRSS/ {print $2}' /proc/$engine/status 2>/dev/null || echo 0)
  dialled=$(status | field 'd["campaigns"][0]["dialled"]' 2>/dev/null || echo 0)
  echo "$1 $((rss / 1024)) $dialled"
}
: > samples.txt
for s in $(seq 1 10); do sample "$s" >> samples.txt; sleep 1; done
python3 - "$sip_port" "$method" "$n" "$flood_rate" > flood.out <<'PY' &
import socket, sys, time
port, method, n, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
me = s.getsockname()[1]
t0 = time.time()
for i in range(n):
    msg = (f"{method} sip:outpace@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.2:{me};branch=z9hG4bKf{i}\r\n"
           f"From: <sip:u{i}@127.0.0.2>;tag=f{i}\r\nTo: <sip:u{i}@127.0.0.1>\r\n"
           f"Call-ID: flood{i}@127.0.0.2\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
           f"Contact: <sip:u{i}@127.0.0.2:{me}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    if i % 100 == 99:
        ahead = (i + 1) / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
print(f"sent {n} {method} in {time.time() - t0:.1f} s")
PY
flooder=$!
registrar_answers() {
  python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$metrics_port/metrics').read().decode())" \
    | grep -E '^outpace_sip_register_(total|lockouts)' || true
}
for s in $(seq 11 65); do
  sample "$s" >> samples.txt
  # The registrar's answers, once the flood is over (the engine stops at 80 s).
  if [ -n "${REGISTRAR:-}" ] && ! kill -0 "$flooder" 2>/dev/null && [ ! -s answers.txt ]; then
    registrar_answers > answers.txt
  fi
  sleep 1
done
wait "$flooder" || true
echo "second rss_MB dialled"; cat samples.txt
cat flood.out
python3 - <<'PY'
rows = [tuple(map(int, l.split())) for l in open("samples.txt")]
def rate(a, b):
    r = [x for x in rows if a <= x[0] <= b]
    return (r[-1][2] - r[0][2]) / (r[-1][0] - r[0][0]) if len(r) > 1 else 0
print(f"dial rate: before the flood {rate(3, 10):.1f}/s (reference), during (s 11-21) "
      f"{rate(11, 21):.1f}/s, after (s 30-50) {rate(30, 50):.1f}/s")
alive = [r for r in rows if r[1] > 0]
print(f"RSS: before {rows[9][1]} MB, peak {max(r[1] for r in rows)} MB, "
      f"last sample ({alive[-1][0]} s) {alive[-1][1]} MB")
PY
if [ -n "${REGISTRAR:-}" ]; then
  echo "the registrar's answers to the flood (metrics):"
  cat answers.txt
fi
