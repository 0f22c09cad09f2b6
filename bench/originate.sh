#!/usr/bin/env bash
# Origination figures for the engine issue, in one run, on loopback:
#   1. SIPp's own UAC against a SIPp UAS that answers (the reference rate on this machine);
#   2. `outpace run` against the same kind of UAS for the same time: attempts per second, and
#      every attempt completed (none lost, none stuck in flight);
#   3. RSS per call with many calls ringing at once (a SIPp UAS that never answers);
#   4. RSS per call with many calls answered at once, each with its RTP socket and its AMD
#      listening (a SIPp UAS that answers and sends no audio: AMD waits out initial_silence);
#   5. answered calls streaming RTP into AMD at once: packets lost, and the machine's own
#      drops and CPU while it happens (the load generator is on the same two cores).
# Usage: bench/originate.sh [RATE=2000] [SECONDS=60] [CONCURRENT=20000] [STREAMS=1000]
# Needs the Release build (cmake --build build) and sip-tester. Not run by CI.
set -euo pipefail
rate=${1:-2000}
secs=${2:-60}
concurrent=${3:-20000}
streams=${4:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
name=originate
source "$root/bench/lib.sh"

contacts() {  # NAME COUNT
  awk -v n="$2" -v z="$zone" 'BEGIN { print "phone,timezone"; for (i = 0; i < n; i++)
    printf "+1415%03d%04d,%s\n", 201 + int(i / 10000), i % 10000, z }' > "$1.csv"
}
campaign() {  # NAME EXTRA-YAML
  cat > "$1.yaml" <<YAML
name: $1
dialing: {mode: progressive, ring_timeout: 60s, trunk: carrier, caller_id: "+12125550100"}
calling_hours:
  windows: [{days: [sun, mon, tue, wed, thu, fri, sat], from: "09:00", to: "20:00"}]
timezone: {policy: column, column: timezone, default: $zone}
$2
YAML
}
engine_config() {  # NAME CARRIER-PORT LINES CPS EXTRA [RTP-RANGE]
  cat > "$1-engine.yaml" <<YAML
data: $1-data
sip: {address: 127.0.0.1, port: $(free_port)}
rtp: {address: 127.0.0.1, ports: ${6:-10000-31999}}
trunks: [{name: carrier, address: "127.0.0.1:$2", max_calls_per_second: $4, max_calls: $(( $3 + 100 ))}]
campaigns: [{file: $1.yaml, unattended_lines: $3}]
tick: 20ms
$5
YAML
}
sipp_uas() {  # PORT SCENARIO-ARGS...
  local port=$1; shift
  sipp -nostdin -i 127.0.0.1 -p "$port" -mi 127.0.0.1 -mp "$(free_port)" "$@" \
    -max_socket 100000 > "uas-$port.log" 2>&1 &
  pids+=($!)
  wait_bound "$port"
}
# Starts NAME-engine.yaml in the background for step STEP: sets `engine` and `base_kb` (its RSS
# once started).
start_engine_bg() {
  "$outpace" run --quiet --config "$1-engine.yaml" 2> "$1.log" &
  engine=$!
  pids+=($engine)
  sleep 1
  if ! kill -0 "$engine" 2>/dev/null; then echo "$2. the engine did not start:"; tail -5 "$1.log"; exit 1; fi
  base_kb=$(awk '/VmRSS/ {print $2}' /proc/$engine/status)
}
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval(sys.argv[1]))" "$2"; }

echo "machine: $(nproc) cores; target $rate calls/s for $secs s; $concurrent calls held; $streams streams"

# Both are offered a quarter more than the target rate, so each shows what it can sustain.
offered=$((rate * 5 / 4))

# 1. Reference: SIPp UAC -> SIPp UAS.
uas=$(free_port); sipp_uas "$uas" -sn uas
start=$(date +%s.%N)
sipp -nostdin -sn uac -i 127.0.0.1 -p "$(free_port)" -r "$offered" -m $((offered * secs)) -d 0 \
  -timeout $((secs + 60))s -max_socket 100000 "127.0.0.1:$uas" > uac.log 2>&1 || true
end=$(date +%s.%N)
ok=$(grep -a "Successful call" uac.log | tail -1 | awk '{print $(NF)}')
sipp_rate=$(python3 -c "print(round($ok / ($end - $start), 1))")
echo "1. SIPp UAC -> SIPp UAS: $ok calls in $(python3 -c "print(round($end - $start, 1))") s = $sipp_rate calls/s"

# 2. The engine -> SIPp UAS (it answers; the engine hangs up at once: AMD off, no prompt).
uas=$(free_port); sipp_uas "$uas" -sn uas
contacts rate $((offered * secs * 12 / 10))
campaign rate "amd: {enabled: false}"
"$outpace" contacts import --data rate-data --campaign rate.yaml rate.csv > /dev/null
engine_config rate "$uas" 2000 "$offered" "stop_after: ${secs}s
drain_timeout: 20s"
"$outpace" run --quiet --json --config rate-engine.yaml > rate.json 2> rate.log
dialled=$(json rate.json 'd["campaigns"][0]["dialled"]')
"$outpace" report --json --data rate-data --campaign rate > rate-report.json
in_flight=$(json rate-report.json 'd.get("in_flight", 0)')
outcomes=$(json rate-report.json 'd["attempts_by_outcome"]')
engine_rate=$(python3 -c "print(round($dialled / $secs, 1))")
echo "2. outpace run -> SIPp UAS: $dialled attempts in $secs s = $engine_rate attempts/s (target >= 2000); left in flight: $in_flight; outcomes: $outcomes"
echo "   ratio to SIPp's own UAC: $(python3 -c "print(round($engine_rate / $sipp_rate, 2))") (target >= 0.5)"

# 3. Memory: calls held ringing (the UAS never answers), RSS sampled at the plateau.
uas=$(free_port); sipp_uas "$uas" -sf "$root/tests/sipp/uas_ring.xml"
contacts hold "$concurrent"
campaign hold ""
"$outpace" contacts import --data hold-data --campaign hold.yaml hold.csv > /dev/null
# 20,000 calls need 20,000 even ports reserved for their offers: more than there are below the
# ephemeral range; ringing calls bind none, so the overlap does not matter here.
engine_config hold "$uas" "$concurrent" "$rate" "control: ipc://$work/hold.ctl
drain_timeout: 1s" 10000-59999
start_engine_bg hold 3
for _ in $(seq 120); do
  n=$("$outpace" ctl --timeout-ms 10000 --endpoint "ipc://$work/hold.ctl" status --json 2>>hold-ctl.log | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_in_progress"])' 2>>hold-ctl.log || echo 0)
  [ "$n" -ge "$concurrent" ] && break
  sleep 0.5
done
held_kb=$(awk '/VmRSS/ {print $2}' /proc/$engine/status)
[ "$n" -gt 0 ] || { echo "3. could not read the engine's status:"; tail -n 3 hold-ctl.log hold.log; }
echo "3. $n calls ringing at once: RSS $((held_kb / 1024)) MiB (idle $((base_kb / 1024)) MiB) = $(( (held_kb - base_kb) * 1024 / (n > 0 ? n : 1) / 1024 )) KiB per call (target <= 50 KB)"
"$outpace" ctl --endpoint "ipc://$work/hold.ctl" shutdown > /dev/null || true
wait "$engine" || true

# 4. Memory: calls answered at once. `-sn uas` answers at once with an SDP and sends no RTP: each
#    call binds its RTP socket and its AMD listens until total_analysis_time (30 s) + 1 s, when
#    it ends as "answered, but no RTP came". RATE * 30 s >= CONCURRENT, so they all overlap. RSS
#    is sampled at the most calls seen at once (all answered: the UAS does not ring). The open-
#    file limit caps calls in flight (docs/engine.md, "Resources"): the engine's warning says where.
uas=$(free_port); sipp_uas "$uas" -sn uas
contacts answered "$concurrent"
campaign answered "amd: {initial_silence: 10s, total_analysis_time: 30s}"
"$outpace" contacts import --data answered-data --campaign answered.yaml answered.csv > /dev/null
# Answered calls bind their port: stay below the ephemeral range (docs/operations.md, "Ports").
engine_config answered "$uas" "$concurrent" "$rate" "control: ipc://$work/answered.ctl
stop_when_done: true
drain_timeout: 5s" 10000-32767
start_engine_bg answered 4
live_peak=0; peak_kb=$base_kb
while kill -0 "$engine" 2>/dev/null; do
  live=$("$outpace" ctl --timeout-ms 10000 --endpoint "ipc://$work/answered.ctl" status --json 2>>answered-ctl.log |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_in_progress"])' 2>>answered-ctl.log || echo 0)
  kb=$(awk '/VmRSS/ {print $2}' /proc/$engine/status 2>/dev/null || echo 0)
  if [ "$live" -gt "$live_peak" ]; then live_peak=$live; peak_kb=$kb; fi
  [ "$live_peak" -gt 0 ] && [ "$live" -lt $((live_peak / 2)) ] && break
  sleep 0.5
done
"$outpace" ctl --endpoint "ipc://$work/answered.ctl" shutdown > /dev/null 2>&1 || true
wait "$engine" || true
echo "4. $live_peak calls answered at once (AMD listening): RSS $((peak_kb / 1024)) MiB (idle $((base_kb / 1024)) MiB) = $(( (peak_kb - base_kb) * 1024 / (live_peak > 0 ? live_peak : 1) / 1024 )) KiB per call"
grep -m1 "open-file limit" answered.log | sed 's/^/   /' || true
! grep -q "Too many open files" answered.log || echo "   the engine ran out of files: $(grep -m1 'Too many open files' answered.log)"

# 5. Streams: answered calls playing 30 s of quiet noise (-60 dBFS: under AMD's speech floor, so
#    every call listens until initial_silence, 10 s, with every frame analysed) into AMD at once.
#    Dialled at STREAMS/4 a second, so all are streaming together for ~6 s. The engine counts
#    sequence gaps (lost); the kernel's UDP receive-buffer drops (SIPp's included: it never reads
#    what the engine sends) and the CPU split between the engine and SIPp (the generator) are
#    printed beside them.
sox -n -r 8000 -c 1 -t raw -e u-law quiet.ulaw synth 30 pinknoise vol 0.001
sed -e "s|@AUDIO@|$work/quiet.ulaw|" -e "s|@RING_MS@|100|" "$root/tests/sipp/uas_answer_audio.xml.in" > stream.xml
uas=$(free_port); sipp_uas "$uas" -sf stream.xml
generator=${pids[-1]}
contacts stream "$streams"
campaign stream "amd: {initial_silence: 10s, total_analysis_time: 30s}"
"$outpace" contacts import --data stream-data --campaign stream.yaml stream.csv > /dev/null
engine_config stream "$uas" "$streams" $((streams / 4 > 50 ? streams / 4 : 50)) "stop_when_done: true
drain_timeout: 5s
control: ipc://$work/stream.ctl" 10000-32767
drops() { awk '/^Udp:/ { if (++n == 2) print $6 }' /proc/net/snmp; }  # RcvbufErrors
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
drops_before=$(drops); gen_before=$(ticks "$generator")
"$outpace" run --quiet --json --config stream-engine.yaml > stream.json 2> stream.log &
engine=$!
pids+=($engine)
peak=0; eng_ticks=0
while kill -0 "$engine" 2>/dev/null; do
  n=$("$outpace" ctl --timeout-ms 5000 --endpoint "ipc://$work/stream.ctl" status --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["calls_in_progress"])' 2>/dev/null || echo 0)
  [ "$n" -gt "$peak" ] && peak=$n
  t=$(ticks "$engine"); [ "$t" -gt 0 ] && eng_ticks=$t
  sleep 0.5
done
wait "$engine" || true
hz=$(getconf CLK_TCK)
echo "5. $streams answered calls streaming into AMD ($peak at once at the peak): RTP packets $(json stream.json 'd["campaigns"][0]["rtp_packets"]'), lost $(json stream.json 'd["campaigns"][0]["rtp_lost"]') (target 0)"
echo "   the kernel's UDP receive-buffer drops meanwhile, any socket: $(( $(drops) - drops_before )) (SIPp's streaming sockets never read the silence the engine sends each answered call, about 50 a second per call, so most of these are SIPp's); CPU s: engine $((eng_ticks / hz)), SIPp $(( ($(ticks "$generator") - gen_before) / hz ))"
