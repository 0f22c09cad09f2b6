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
