#!/usr/bin/env bash
# Failover figures for the carriers issue, on loopback:
#   1. SIPp's own UAC against a SIPp UAS that answers, at RATE calls/s (the reference);
#   2. `outpace run` at about RATE calls/s (each call is answered and hears the 0.5 s safe-harbor
#      prompt: RATE/2 unattended lines) on a trunk named by host name, found through dnsmasq's SRV
#      records: the first address (priority 10) answers every INVITE with 503, the second
#      (priority 20) answers. Attempts per second, how many calls moved to the second address
#      (a hop recorded) and how many ended as carrier errors (none should);
#   3. two trunks (two SIPp carriers, both answering), the first going dark (SIPp stopped) a
#      third into the run, with `sip.response_timeout: 2s`: contacts charged for it (target 0),
#      calls that moved, and how long after the first trunk went dark calls still tried it.
# Usage: bench/failover.sh [RATE=100] [SECONDS=60]
# Needs the Release build (cmake --build build), sip-tester and dnsmasq-base. Not run by CI.
set -euo pipefail
rate=${1:-100}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
name=failover
source "$root/bench/lib.sh"

json() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval(sys.argv[1]))" "$2"; }
sipp_uas() {  # IP PORT LOG SCENARIO-ARGS...
  local ip=$1 port=$2 log=$3; shift 3
  sipp -nostdin -i "$ip" -p "$port" -mi "$ip" -mp "$(free_port)" "$@" -max_socket 100000 \
    > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do ss -lun | grep -q "$ip:$port " && return 0; sleep 0.05; done
  echo "SIPp did not start on $ip:$port"; cat "$log"; exit 1
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $rate calls/s for $secs s"

# 1. Reference.
uas=$(free_port); sipp_uas 127.0.0.1 "$uas" ref-uas.log -sn uas
start=$(date +%s.%N)
sipp -nostdin -sn uac -i 127.0.0.1 -p "$(free_port)" -r "$rate" -m $((rate * secs)) -d 0 \
  -timeout $((secs + 30))s "127.0.0.1:$uas" > uac.log 2>&1 || true
end=$(date +%s.%N)
ok=$(grep -a "Successful call" uac.log | tail -1 | awk '{print $(NF)}')
echo "1. SIPp UAC -> SIPp UAS: $ok calls at $(python3 -c "print(round($ok / ($end - $start), 1))") calls/s"

run_engine() {  # NAME EXTRA-SIP [TRUNKS DIALING-TRUNKS]: by default one trunk by host name
  local n=$1
  local trunks=${3:-}
  [ -n "$trunks" ] || trunks="[{name: carrier, address: carrier.test, max_calls_per_second: $rate, max_calls: $((rate * 10))}]"
  a=$(free_port); b=$(free_port); dns=$(free_port)
  sipp_uas 127.0.0.2 "$a" "$n-a.log" -sf "$root/tests/sipp/uas_503.xml"
  sipp_uas 127.0.0.3 "$b" "$n-b.log" -sn uas
  b_pid=${pids[-1]}
  dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address=127.0.0.1 --port="$dns" --pid-file= --user=root \
    --local-ttl=30 --log-facility="$work/$n-dns.log" \
    --local=/carrier.test/ "--naptr-record=carrier.test,10,10,s,SIP+D2U,,_sip._udp.carrier.test" \
    "--srv-host=_sip._udp.carrier.test,a.carrier.test,$a,10,0" \
    "--srv-host=_sip._udp.carrier.test,b.carrier.test,$b,20,0" \
    --host-record=a.carrier.test,127.0.0.2 --host-record=b.carrier.test,127.0.0.3 &
  pids+=($!)
  for _ in $(seq 100); do ss -lun | grep -q "127.0.0.1:$dns " && break; sleep 0.05; done
  unattended_campaign "$n" $((rate * secs * 12 / 10)) "${4:-trunk: carrier}"
  cat > "$n-engine.yaml" <<YAML
data: $n-data
sip: {address: 127.0.0.1, port: $(free_port)$2}
rtp: {address: 127.0.0.1, ports: 10000-31999}
dns: {servers: ["127.0.0.1:$dns"], timeout: 500ms, tries: 2}
trunks: $trunks
campaigns: [{file: $n.yaml, unattended_lines: $((rate / 2))}]
tick: 20ms
stop_after: ${secs}s
drain_timeout: 40s
YAML
}

report() {  # NAME
  local n=$1
  "$outpace" export --calls --format jsonl --data "$n-data" --campaign "$n" > "$n-calls.jsonl"
  python3 - "$n-calls.jsonl" "$secs" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs = float(sys.argv[2])
moved = [r for r in rows if r.get("trunk_hops")]
outcomes = {}
for r in rows: outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
charged = sum(1 for r in rows if r["outcome"] == "carrier_error")
print("   %d attempts (%.1f/s); outcomes %s" % (len(rows), len(rows) / secs, outcomes))
print("   moved to another address or trunk (a hop recorded): %d (%.1f %%); ended as carrier errors: %d"
      % (len(moved), 100.0 * len(moved) / max(1, len(rows)), charged))
PY
}

# 2. One address refuses with 503: it rests 30 s at a time; the calls go to the other.
run_engine steady ""
"$outpace" run --quiet --config steady-engine.yaml 2> steady.log
echo "2. outpace run, SRV: 503 address first, answering address second:"
report steady

# 3. Two trunks; the first goes dark a third into the run.
first=$(free_port); second=$(free_port)
sipp_uas 127.0.0.4 "$first" dark-first.log -sn uas
first_pid=${pids[-1]}
sipp_uas 127.0.0.5 "$second" dark-second.log -sn uas
run_engine dark ", response_timeout: 2s" "[{name: first, address: \"127.0.0.4:$first\", max_calls_per_second: $rate, max_calls: $((rate * 10))}, {name: second, address: \"127.0.0.5:$second\", max_calls_per_second: $rate, max_calls: $((rate * 10))}]" "trunks: [first, second]"
"$outpace" run --quiet --config dark-engine.yaml 2> dark.log &
engine=$!
pids+=($engine)
sleep $((secs / 3))
kill "$first_pid"
dark_at=$(date -u +%s)
wait "$engine" || true
echo "3. two trunks, the first dark from $((secs / 3)) s on (response_timeout 2s):"
report dark
"$outpace" export --calls --format jsonl --data dark-data --campaign dark > dark-calls.jsonl
python3 - dark-calls.jsonl "$dark_at" <<'PY'
import json, sys, datetime
dark = int(sys.argv[2])
def t(s): return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
rows = [json.loads(l) for l in open(sys.argv[1])]
tried_first = [t(r["started"]) for r in rows if r.get("trunk") == "first" or "first" in (r.get("trunk_hops") or "")]
after = [x for x in tried_first if x >= dark]
print("   attempts that tried the dark trunk after it went dark: %d; the last started %s s after"
      % (len(after), (max(after) - dark) if after else "-"))
PY
