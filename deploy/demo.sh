#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then walk an example campaign through the
# store: validate it, import its contact list, show who may be dialled now and the report.
# (The live dialing demo arrives with the engine; this shows the campaign side end to end.)
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
echo "== building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target outpace >/dev/null
outpace=build/dialer/outpace
data=${OUTPACE_DEMO_DATA:-$(mktemp -d /tmp/outpace-demo-XXXXXX)}
at=${OUTPACE_DEMO_AT:-2026-11-24T17:00:00Z}   # a Tuesday noon on the US east coast

echo
echo "== 1. validate the example campaigns"
$outpace campaign check deploy/examples/telemarketing.yaml deploy/examples/collections.yaml deploy/examples/survey.yaml

echo
echo "== 2. import the example list (E.164, callee time zone, duplicates, do-not-call)"
$outpace contacts import --data "$data" --campaign deploy/examples/telemarketing.yaml \
  --rejects "$data/customers.rejects.csv" deploy/examples/lists/customers.csv
echo "-- rejected rows, each with its line and reason:"
cat "$data/customers.rejects.csv"

echo
echo "== 3. who may be dialled at $at (calling hours in each callee's local time)"
$outpace contacts next --data "$data" --campaign spring-renewals --at "$at" -n 20

echo
echo "== 4. the same list at 13:00Z, before 09:00 in most of the country"
$outpace contacts next --data "$data" --campaign spring-renewals --at "${at%%T*}T13:00:00Z" -n 20

echo
echo "== 5. the campaign report"
$outpace report --data "$data" --campaign spring-renewals --at "$at"
echo
echo "store kept in $data"
