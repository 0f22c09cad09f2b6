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

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_bound() { for _ in $(seq 100); do ss -lun | grep -q ":$1 " && return 0; sleep 0.05; done; return 1; }

# A SIPp carrier whose callees say "Hello?", keep a second of silence (the human verdict), then
# talk (noise) for TALK seconds; it rings RING_MS first. Sets `carrier` (its port).
start_talking_carrier() {
  local talk=$1 ring=$2
  espeak-ng -v en-us -s 150 -w hello.wav "Hello?" 2>/dev/null
  sox hello.wav -r 8000 -c 1 -b 16 -e signed hello8k.wav
  sox -n -r 8000 -c 1 -b 16 -e signed talk.wav synth "$talk" pinknoise vol 0.05
  sox -n -r 8000 -c 1 -b 16 -e signed gap.wav trim 0 1
  sox hello8k.wav gap.wav talk.wav -t raw -e u-law -r 8000 -c 1 callee.ulaw
  sed -e "s|@AUDIO@|$work/callee.ulaw|" -e "s|@RING_MS@|$ring|" \
    "$root/tests/sipp/uas_answer_audio.xml.in" > carrier.xml
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
