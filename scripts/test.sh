#!/usr/bin/env bash
# The test command (`npm test` runs setup first): unit and integration suites against a throwaway
# redis-server and real HTTP, then the end-to-end SIP suite (test/e2e/run.sh), which starts
# drachtio-server and FreeSWITCH from the archives in E2E_SERVERS_DIR (../shared/sip-servers), or
# skips itself (and says so) when there are none and no servers are reachable. Both run on the
# Node.js papgate runs on (scripts/runtime.sh); the unit suites then run once more on the pinned build
# of the other LTS line.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
other=$(papgate_other_node)
papgate_use_node || exit 1
echo "tests: $(papgate_node_banner)"
summary=$(mktemp)
failures=$(mktemp)
trap 'rm -f "$summary" "$failures"' EXIT

export PAPGATE_TEST_SUMMARY="$summary" PAPGATE_TEST_FAILURES="$failures"
npx mocha --reporter test/support/reporter.js
unit=$?
bash test/e2e/run.sh
e2e=$?

# The other line's build, first in PATH for this run alone (fetched by scripts/setup.sh --test).
other_dir=$(papgate_node_dir "$other")
if [ -x "$other_dir/bin/node" ]; then
  echo "tests: the unit suites again, on Node.js v$other (the pinned build of the other LTS line)"
  PATH="$other_dir/bin:$PATH" PAPGATE_NODE_SOURCE=other PAPGATE_TEST_LABEL="unit on Node.js $other" \
    npx mocha --reporter test/support/reporter.js
  again=$?
else
  echo "unit on Node.js $other: 0 passed, 1 failed, 0 skipped (not fetched: run bash scripts/setup.sh --test)"
  echo "0 1 0" >>"$summary"
  again=1
fi

passed=0 failed=0 skipped=0
while read -r p f s; do
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done <"$summary"
if [ -s "$failures" ]; then
  echo "tests: what failed"
  sed 's/^/  /' "$failures"
fi
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$unit" -eq 0 ] && [ "$e2e" -eq 0 ] && [ "$again" -eq 0 ]
