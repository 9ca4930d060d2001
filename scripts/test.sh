#!/usr/bin/env bash
# The test command (`npm test` runs setup first): unit and integration suites against a throwaway
# redis-server and real HTTP, then the end-to-end SIP suite (test/e2e/run.sh), which starts
# drachtio-server and FreeSWITCH from the archives in E2E_SERVERS_DIR (../shared/sip-servers), or
# skips itself (and says so) when there are none and no servers are reachable.
set -uo pipefail
cd "$(dirname "$0")/.."
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

export PAPGATE_TEST_SUMMARY="$summary"
npx mocha --reporter test/support/reporter.js
unit=$?
bash test/e2e/run.sh
e2e=$?

passed=0 failed=0 skipped=0
while read -r p f s; do
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done <"$summary"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$unit" -eq 0 ] && [ "$e2e" -eq 0 ]
