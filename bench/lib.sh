# Shared by the shell benchmarks: a work directory removed at exit (KEEP=1 keeps it) with the
# example prompts, every background process in `pids` stopped at exit, a zone where it is about
# noon now (calling hours hold whenever a benchmark runs), and loopback port helpers.
# Source it after setting `root` and `name`.
outpace=$root/build/dialer/outpace
work=$(mktemp -d "/tmp/outpace-$name-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$work"
cp -r "$root/deploy/examples/prompts" .

h=$((10#$(date -u +%H))); off=$((12 - h))
if [ $off -ge 0 ]; then zone="Etc/GMT-$off"; else zone="Etc/GMT+$((-off))"; fi

# A port free over both TCP and UDP now (SIP takes both; the desktops' endpoint is TCP).
free_port() { python3 -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'; }
wait_bound() { for _ in $(seq 100); do ss -lun | grep -q ":$1 " && return 0; sleep 0.05; done; return 1; }

# A SIPp carrier whose callees say "Hello?", keep a second of silence (the human verdict), then
# talk (noise) for TALK seconds; it rings RING_MS first. Sets `carrier` (its port).
# With a third argument BUSY (0..1), that share of the calls gets 486 Busy Here after 200 ms
# instead: a carrier of the dial rates a list of mostly dead or busy numbers gives.
start_talking_carrier() {
  local talk=$1 ring=$2 busy=${3:-}
  espeak-ng -v en-us -s 150 -w hello.wav "Hello?" 2>/dev/null
  sox hello.wav -r 8000 -c 1 -b 16 -e signed hello8k.wav
  sox -n -r 8000 -c 1 -b 16 -e signed talk.wav synth "$talk" pinknoise vol 0.05
  sox -n -r 8000 -c 1 -b 16 -e signed gap.wav trim 0 1
  sox hello8k.wav gap.wav talk.wav -t raw -e u-law -r 8000 -c 1 callee.ulaw
  sed -e "s|@AUDIO@|$work/callee.ulaw|" -e "s|@RING_MS@|$ring|" \
    "$root/tests/sipp/uas_answer_audio.xml.in" > carrier.xml
  if [ -n "$busy" ]; then
    python3 - "$busy" carrier.xml <<'PY'
import sys
share, path = sys.argv[1], sys.argv[2]
x = open(path).read()
x = x.replace('<recv request="INVITE" />', f'<recv request="INVITE" />\n  <nop next="busy" chance="{share}" />', 1)
tail = """  <nop next="done" />
  <label id="busy" />
  <pause milliseconds="200" />
  <send>
    <![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK" />
  <label id="done" />
</scenario>"""
x = x.replace("</scenario>", tail, 1)
open(path, "w").write(x)
PY
  fi
  carrier=$(free_port)
  sipp -nostdin -i 127.0.0.1 -p "$carrier" -mi 127.0.0.1 -mp "$(free_port)" -sf carrier.xml \
    -max_socket 100000 > carrier.log 2>&1 &
  pids+=($!)
  wait_bound "$carrier"
}

# One SIPp UAS answering every agent's softphone URI and echoing their RTP. Sets `phones` (its
# port) and `phones_pid`.
start_softphones() {
  phones=$(free_port)
  sipp -nostdin -i 127.0.0.1 -p "$phones" -mi 127.0.0.1 -mp "$(free_port)" -sn uas -rtp_echo \
    -max_socket 100000 > phones.log 2>&1 &
  phones_pid=$!
  pids+=($phones_pid)
  wait_bound "$phones"
}

# The engine's status (JSON) over its control socket, and a field of it: status | field 'd[...]'.
status() { "$outpace" ctl --timeout-ms 5000 --endpoint "ipc://$work/ctl" status --json; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# Campaign NAME over COUNT contacts in `zone`, dialled on the carrier with DIALING (the mode and
# its keys, as in the campaign's dialing section), imported into data/.
make_campaign() {
  local name=$1 count=$2 dialing=$3
  awk -v n="$count" -v z="$zone" 'BEGIN { print "phone,timezone"; for (i = 0; i < n; i++)
    printf "+1415%03d%04d,%s\n", 201 + int(i / 10000), i % 10000, z }' > "$name.csv"
  cat > "$name.yaml" <<YAML
name: $name
dialing: {$dialing, ring_timeout: 30s, trunk: carrier, caller_id: "+12125550100"}
calling_hours:
  windows: [{days: [sun, mon, tue, wed, thu, fri, sat], from: "09:00", to: "20:00"}]
timezone: {policy: column, column: timezone, default: $zone}
safe_harbor: {prompt: prompts/safe-harbor.wav}
agents: {wrapup_max: 60s}
YAML
  "$outpace" contacts import --data data --campaign "$name.yaml" "$name.csv" > /dev/null
}

# Campaign NAME over COUNT contacts in `zone` on TRUNKS (its dialing entry: "trunk: carrier" by
# default, or "trunks: [a, b]"), AMD off: every answer is live and hears the safe-harbor prompt
# (the campaign runs on unattended lines). Imported into NAME-data/.
unattended_campaign() {
  local name=$1 count=$2 trunks=${3:-trunk: carrier}
  awk -v n="$count" -v z="$zone" 'BEGIN { print "phone,timezone"; for (i = 0; i < n; i++)
    printf "+1415%03d%04d,%s\n", 201 + int(i / 10000), i % 10000, z }' > "$name.csv"
  cat > "$name.yaml" <<YAML
name: $name
dialing: {mode: progressive, ring_timeout: 30s, $trunks, caller_id: "+12125550100"}
calling_hours:
  windows: [{days: [sun, mon, tue, wed, thu, fri, sat], from: "09:00", to: "20:00"}]
timezone: {policy: column, column: timezone, default: $zone}
amd: {enabled: false}
YAML
  "$outpace" contacts import --data "$name-data" --campaign "$name.yaml" "$name.csv" > /dev/null
}

# The engine running campaign NAME on the carrier at CPS calls per second and MAX_CALLS at once,
# with EXTRA lines added to its config. Sets `agents_port` (the desktops' endpoint) and `engine`.
start_engine() {
  local name=$1 cps=$2 max_calls=$3 extra=${4:-}
  agents_port=$(free_port)
  cat > engine.yaml <<YAML
data: data
sip: {address: 127.0.0.1, port: $(free_port)}
rtp: {address: 127.0.0.1, ports: 10000-31999${RTP_EXTRA:-}}
trunks: [{name: carrier, address: "127.0.0.1:$carrier", max_calls_per_second: $cps, max_calls: $max_calls}]
campaigns: [{file: $name.yaml}]
agents: {endpoint: "tcp://127.0.0.1:$agents_port", heartbeat: 5s${agents_extra:-}}
control: ipc://$work/ctl
drain_timeout: 30s
$extra
YAML
  # ENGINE_PRELOAD: a library preloaded into the engine only (bench/slow_sync.c); env execs it,
  # so $! is the engine's pid.
  env ${ENGINE_PRELOAD:+LD_PRELOAD=$ENGINE_PRELOAD} "$outpace" run --quiet --config engine.yaml 2> engine.log &
  engine=$!
  pids+=($engine)
  # Started once the desktops' endpoint listens. An engine that exits first (a port another
  # socket took meanwhile, a slow disk delaying that) ends the bench with its reason, instead of
  # the bench waiting for agents that cannot log in.
  for _ in $(seq 300); do
    kill -0 "$engine" 2>/dev/null || { echo "the engine did not start:"; tail -5 engine.log; exit 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$agents_port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the engine did not listen on $agents_port within 30 s:"; tail -5 engine.log; exit 1
}
