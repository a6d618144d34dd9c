#!/usr/bin/env bash
# `npm test`: installs the real peers the tests run against (cached outside the repo), checks
# types and lint, runs vitest, and ends with a plain "N passed, N failed" line from vitest's
# JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
if [ "${TSFLYTE_SKIP_PEERS:-0}" != "1" ]; then
  bash scripts/setup/peers.sh || { echo "peer set-up failed"; exit 1; }
fi
echo "== build"
node scripts/build.mjs || exit 1
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json || exit 1
echo "== lint"
npx biome check src test examples bench scripts || exit 1
echo "== tests"
report="$(mktemp -d)/vitest.json"
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@"
rc=$?
node scripts/test-summary.mjs "$report" || rc=1
exit $rc
