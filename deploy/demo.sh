#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then dial a demo campaign live against a local
# carrier (SIPp on 127.0.0.1 answering with recorded people and voicemail, busy, ringing...) for
# a team of simulated agents (SIPp as their softphones, `outpace agent --auto` as their desktops),
# with a progress line while it runs and the campaign report at the end. The web desktop and the
# supervisor console (`outpace web`) run beside it: their addresses and this run's passwords are
# printed, and one seat ("you") is left for a person to take calls in the browser.
# The campaign's store starts with a simulated previous day (labelled as such in the ledger), so
# the pacer starts warm and the abandon window holds that day's allowance, as on a campaign's
# second day. OUTPACE_DEMO_SECONDS (default 60) sets how long it dials; OUTPACE_DEMO_MODE
# (progressive, power, predictive: the default) the dialing mode, for a comparison;
# OUTPACE_DEMO_HISTORY=0 starts with an empty ledger (a campaign's first minutes). Ctrl-C stops
# it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# OUTPACE_DEMO_BINARY: an outpace already built (the end-to-end test): no install, no build.
if [ -n "${OUTPACE_DEMO_BINARY:-}" ]; then
  outpace=$OUTPACE_DEMO_BINARY
else
  deploy/install-deps.sh
  echo "== building"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target outpace >/dev/null
  outpace=$root/build/dialer/outpace
fi
work=${OUTPACE_DEMO_DATA:-$(mktemp -d /tmp/outpace-demo-XXXXXX)}
mkdir -p "$work"
seconds=${OUTPACE_DEMO_SECONDS:-60}
agents=${OUTPACE_DEMO_AGENTS:-8}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo
echo "== 1. validate the example campaigns"
"$outpace" campaign check deploy/examples/*.yaml

echo
echo "== 2. a contact list, and the callees' recorded answers"
# Everyone on the list lives where it is about noon now, so calling hours hold whenever the demo
# runs; the hopper still checks them in each callee's own zone.
h=$((10#$(date -u +%H))); off=$((12 - h))
if [ $off -ge 0 ]; then zone="Etc/GMT-$off"; else zone="Etc/GMT+$((-off))"; fi
awk -v z="$zone" 'BEGIN { srand(7); print "phone,first_name,last_name,timezone";
  split("Ada Grace Alan Edsger Barbara Donald Frances Ken Margaret John", f, " ");
  split("Lovelace Hopper Turing Dijkstra Liskov Knuth Allen Thompson Hamilton Backus", l, " ");
  for (i = 0; i < 400; i++) printf "+1%d555%04d,%s,%s,%s\n", 212 + 100 * (i % 7), 1000 + i,
    f[1 + i % 10], l[1 + int(i / 10) % 10], z }' > "$work/demo-list.csv"
# The campaign and its prompts are copied into the work folder, where its recordings go too.
cp deploy/examples/demo.yaml "$work/demo.yaml"
if [ -n "${OUTPACE_DEMO_MODE:-}" ]; then
  sed -i "s/^  mode: predictive$/  mode: $OUTPACE_DEMO_MODE/" "$work/demo.yaml"
fi
cp -r deploy/examples/prompts "$work/"
"$outpace" contacts import --data "$work/data" --campaign "$work/demo.yaml" "$work/demo-list.csv"
if [ "${OUTPACE_DEMO_HISTORY:-1}" != 0 ]; then
  echo
  echo "== 2b. yesterday, simulated: two hours of this campaign written to its ledger as history"
  # Labelled origin "simulated" (see: outpace report --data $work/data --by day); the live run
  # learns from it (warm start) and its abandon window holds what that day earned.
  "$outpace" simulate deploy/demo/history.yaml --into-store "$work/data" \
    --campaign "$work/demo.yaml" --zone "$zone"
fi
python3 answering-detect/corpus/make_corpus.py "$work/audio" --seed 7 > /dev/null
for f in human-short-000 human-twice-001 machine-beep-002 machine-nobeep-003; do
  sox "$work/audio/$f.wav" -t raw -e u-law -r 8000 -c 1 "$work/$f.ulaw"
done
sed -e "s|@HUMAN@|$work/human-short-000.ulaw|" -e "s|@TWICE@|$work/human-twice-001.ulaw|" \
  -e "s|@BEEP@|$work/machine-beep-002.ulaw|" -e "s|@NOBEEP@|$work/machine-nobeep-003.ulaw|" \
  deploy/demo/carrier.xml.in > "$work/carrier.xml"

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
carrier=$(free_port)
setsid sipp -nostdin -i 127.0.0.1 -p "$carrier" -mi 127.0.0.1 -mp "$(free_port)" -sf "$work/carrier.xml" \
  > "$work/carrier.log" 2>&1 &
pids+=($!)
# The agents' softphones: one SIPp answers every agent's URI and echoes what it hears.
phones=$(free_port)
setsid sipp -nostdin -i 127.0.0.1 -p "$phones" -mi 127.0.0.1 -mp "$(free_port)" -sn uas -rtp_echo \
  > "$work/softphones.log" 2>&1 &
pids+=($!)
# Who may log in (the agents file): the simulated team, one seat for you and a supervisor, each
# with a password made for this run; their "phones" are the echoing SIPp above.
secret() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 12; }
team_pw=$(secret); you_pw=$(secret); boss_pw=$(secret)
hash_of() { printf '%s\n' "$1" | "$outpace" agent-passwd demo --no-sip | grep desktop_password | sed 's/^ *//'; }
team_hash=$(hash_of "$team_pw")
{
  echo "agents:"
  for i in $(seq 1 "$agents"); do
    printf '  - id: agent%s\n    %s\n    phone: sip:agent%s@127.0.0.1:%s\n' "$i" "$team_hash" "$i" "$phones"
  done
  printf '  - id: you\n    name: You\n    %s\n    phone: sip:you@127.0.0.1:%s\n' "$(hash_of "$you_pw")" "$phones"
  printf '  - id: boss\n    name: The supervisor\n    role: supervisor\n    %s\n    phone: sip:boss@127.0.0.1:%s\n' \
    "$(hash_of "$boss_pw")" "$phones"
} > "$work/agents.yaml"
(umask 077; printf '%s\n' "$team_pw" > "$work/team-password")
web_port=${OUTPACE_DEMO_WEB_PORT:-$(free_port)}
cat > "$work/web.yaml" <<YAML
listen: 127.0.0.1:$web_port
root: $root/dialer/web/site
engine: {agents: "ipc://$work/agents", events: "ipc://$work/events", control: "ipc://$work/control"}
YAML
setsid "$outpace" web --config "$work/web.yaml" > "$work/web.log" 2>&1 &
pids+=($!)
cat > "$work/engine.yaml" <<YAML
data: data
sip: {address: 127.0.0.1, port: $(free_port)}
rtp: {address: 127.0.0.1, ports: ${OUTPACE_DEMO_RTP_PORTS:-30000-30999}}
trunks:
  - {name: demo-carrier, address: "127.0.0.1:$carrier", max_calls_per_second: 5, max_calls: 20}
campaigns:
  - $work/demo.yaml
agents: {endpoint: "ipc://$work/agents", events: "ipc://$work/events", accounts: agents.yaml}
control: ipc://$work/control
stop_after: ${seconds}s
drain_timeout: 25s
YAML

echo
echo "== 3. dialling for ${seconds} s for $agents agents (outpace ctl --endpoint ipc://$work/control status)"
echo "   the agent desktop:      http://127.0.0.1:$web_port/  (log in as 'you', password $you_pw)"
echo "   the supervisor console: http://127.0.0.1:$web_port/supervisor.html  ('boss', password $boss_pw)"
echo "   (OUTPACE_DEMO_SECONDS=600 leaves time to take calls yourself; from another machine:"
echo "    ssh -L $web_port:127.0.0.1:$web_port this-host, then open the same addresses)"
# The agents log in once the engine listens: each talks 10-40 s, wraps up 3-8 s, and picks a
# disposition at random (never do-not-call).
( sleep 1; exec setsid "$outpace" agent --auto --count "$agents" --agent agent --endpoint "ipc://$work/agents" \
    --password-file "$work/team-password" --talk "${OUTPACE_DEMO_TALK:-lognormal:20s:0.5}" --wrap uniform:3s:8s \
    --for $((seconds + 60)) --quiet ) > "$work/agents.log" 2>&1 &
pids+=($!)
# Ctrl-C from here: the engine (in the foreground) stops dialling and lets its calls finish; the
# carrier, softphones and agents run in their own sessions, so they see no Ctrl-C and serve those
# calls to the end. The report is printed all the same; the cleanup then stops them.
interrupted=0
trap 'interrupted=1' INT TERM
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
(cd "$work" && "$outpace" run --config engine.yaml)

echo
echo "== 4. the campaign report (this run; the abandon windows count the history too)"
"$outpace" report --data "$work/data" --campaign demo --from "$started"
echo
echo "store, list, recordings and logs kept in $work"
[ "$interrupted" = 0 ] || exit 130
