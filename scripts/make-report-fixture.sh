#!/usr/bin/env bash
# Regenerate test/fixtures/report-run/: the JSON of a real run (five scenarios, two repeats each: three
# that pass, one that fails an expectation, one that cannot run) that
# the report's browser tests render. Needs a running lab: scripts/make-report-fixture.sh <lab name>
# (bring one up with `node dist/src/cli/main.js up --name <lab name>`). Only JSON is kept: the tests
# render index.html from it, as `vipdrill report` does.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:?usage: scripts/make-report-fixture.sh <running lab name>}
npm run build >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node dist/src/cli/main.js run scenarios/node-crash.yaml scenarios/misrouted-lan.yaml scenarios/calibrate-outage-1s.yaml \
  test/fixtures/report-scenarios/node-crash-tight.yaml test/fixtures/report-scenarios/kill-pppd-on-backup.yaml \
  --lab "$lab" --repeat 2 --report-dir "$tmp" || true   # the fixture holds a failed and an errored scenario on purpose
run=$(readlink -f "$tmp/latest")
out=test/fixtures/report-run
rm -rf "$out"
mkdir -p "$out"
cp "$run/run.json" "$out/"
for d in "$run"/*/; do
  s=$(basename "$d")
  mkdir -p "$out/$s"
  cp "$d/result.json" "$out/$s/"
  for r in "$d"/repeat-*/; do mkdir -p "$out/$s/$(basename "$r")"; cp "$r/result.json" "$r/events.jsonl" "$out/$s/$(basename "$r")/"; done
done
echo "fixture written to $out from $run"
