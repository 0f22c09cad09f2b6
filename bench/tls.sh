#!/usr/bin/env bash
# What TLS and SRTP cost (carriers issue), on loopback:
#   1. bench_srtp: libsrtp2 per packet, and the engine's media path (send + receive) with SRTP
#      next to plain RTP in the same run: the relay's CPU per bridged call;
#   2. signalling: `outpace run` at RATE calls/s against Kamailio answering every INVITE with
#      486 Busy Here statelessly, over UDP and then over TLS (one connection, its certificate
#      checked against a CA made here), the same run: attempts per second and the engine's CPU
#      (user + system) per 1,000 calls. SIPp in Debian is built without TLS: Kamailio (with
#      kamailio-tls-modules) is the far end that keeps up.
# Usage: bench/tls.sh [RATE=500] [SECONDS=30]
# Needs the Release build with benchmarks (cmake --build build), kamailio and
# kamailio-tls-modules, openssl. Not run by CI.
set -euo pipefail
rate=${1:-500}
secs=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
name=tls
source "$root/bench/lib.sh"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $rate calls/s for $secs s"
echo "1. media:"
"$root/build/bench/bench_srtp" --runs 5 | sed 's/^/   /'

# A CA and a certificate for 127.0.0.1 (the trunk is written as that address).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key -out ca.pem \
  2> /dev/null
for n in kamailio engine; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$n.test" -keyout $n.key -out $n.csr 2> /dev/null
  printf 'subjectAltName=DNS:%s.test,IP:127.0.0.1\n' $n > $n.ext
  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile $n.ext -out $n.crt 2> /dev/null
done
cat engine.key engine.crt > engine.pem

udp=$(free_port); tls=$(free_port)
cat > tls.cfg <<CFG
[server:default]
method = TLSv1.2+
certificate = $work/kamailio.crt
private_key = $work/kamailio.key
verify_certificate = no
require_certificate = no
CFG
cat > kamailio.cfg <<CFG
#!KAMAILIO
listen=udp:127.0.0.1:$udp
listen=tls:127.0.0.1:$tls
enable_tls=yes
children=2
tcp_children=2
tcp_connection_lifetime=3600
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tls.so"
loadmodule "sl.so"
modparam("tls", "config", "$work/tls.cfg")
request_route {
  if (method == "ACK") exit;
  if (method == "INVITE") { sl_send_reply("486", "Busy Here"); exit; }
  sl_send_reply("200", "OK");
}
CFG
kamailio -f kamailio.cfg -DD -E -Y "$work" -P "$work/kamailio.pid" -w "$work" > kamailio.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do ss -ltn | grep -q ":$tls " && break; sleep 0.1; done
ss -ltn | grep -q ":$tls " || { echo "Kamailio did not start:"; tail kamailio.log; exit 1; }

run() {  # NAME TRANSPORT PORT [TRUNK-EXTRA]
  local n=$1
  unattended_campaign "$n" $((rate * secs * 12 / 10)) "trunk: far"
  cat > "$n-engine.yaml" <<YAML
data: $n-data
sip: {address: 127.0.0.1, port: $(free_port), tls: {port: $(free_port), certificate: $work/engine.pem, ca_file: $work/ca.pem}}
rtp: {address: 127.0.0.1, ports: 10000-31999}
trunks: [{name: far, address: "127.0.0.1:$3", transport: $2, max_calls_per_second: $rate, max_calls: $((rate * 10))$4}]
campaigns: [{file: $n.yaml, unattended_lines: $((rate * 5))}]
tick: 20ms
stop_after: ${secs}s
drain_timeout: 10s
YAML
  local TIMEFORMAT="%U %S"
  { time "$outpace" run --quiet --json --config "$n-engine.yaml" > "$n.json" 2> "$n.log"; } 2> "$n.time"
  python3 - "$n" "$n.json" "$n.time" "$secs" <<'PY'
import json, sys
name, j, t, secs = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read().split(), float(sys.argv[4])
c = j["campaigns"][0]
dialled = c["dialled"]
cpu = float(t[0]) + float(t[1])
print("   %s: %d attempts (%.1f/s), busy %s, carrier errors %s; engine CPU %.2f s = %.1f ms per 1,000 calls"
      % (name, dialled, dialled / secs, c.get("busy"), c.get("carrier_errors"), cpu, 1e6 * cpu / max(1, dialled)))
PY
}
echo "2. signalling, Kamailio answering 486 (each run ${secs} s, then the engine stops):"
run udp udp "$udp" ""
run tls tls "$tls" ", tls_name: kamailio.test"
