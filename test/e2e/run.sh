#!/usr/bin/env bash
# End-to-end suite (test/e2e/e2e.ts): papgate's SIP service against a real drachtio-server and
# FreeSWITCH, driven by sipp, with redis-server on this host.
#
# With the server archives in E2E_SERVERS_DIR (default ../shared/sip-servers beside the repository)
# it starts both itself on free loopback ports (test/e2e/servers.sh), runs the suite and stops them
# by PID, also when a test fails or the run is interrupted. A server that does not come up is a
# failure naming it. Without the archives it uses servers already running:
#   E2E_DRACHTIO_HOST/PORT/SECRET   default 127.0.0.1 9022, the secret has none
#   E2E_FREESWITCH_HOST/PORT/SECRET default 127.0.0.1 8021, the secret has none
#   E2E_SIP                         default 127.0.0.1:5060 (drachtio's SIP address, for sipp)
# and exits 0 with "e2e: SKIPPED (reason)" when they are not reachable or their secrets are not
# given; non-zero on failures.
set -uo pipefail
cd "$(dirname "$0")/../.."

# E2E_SPECS (space-separated compiled files) runs a subset while developing; npm test runs them all.
# shellcheck disable=SC2206
specs=(${E2E_SPECS:-dist/test/e2e/e2e.js dist/test/e2e/journey.js dist/test/e2e/faults.js dist/test/e2e/mediapool.js dist/test/e2e/scaleout.js dist/test/e2e/ivrlimits.js dist/test/e2e/secrets.js dist/test/e2e/tls.js})
mocha=(node_modules/.bin/mocha --no-config --exit --timeout 120000 --reporter test/support/reporter.js "${specs[@]}")
export PAPGATE_TEST_LABEL=e2e
[ -f dist/test/e2e/e2e.js ] || { echo "e2e: not built (run through npm test)" >&2; exit 1; }

if ! bash test/e2e/servers.sh available; then
  DH=${E2E_DRACHTIO_HOST:-127.0.0.1}; DP=${E2E_DRACHTIO_PORT:-9022}
  FH=${E2E_FREESWITCH_HOST:-127.0.0.1}; FP=${E2E_FREESWITCH_PORT:-8021}
  reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
  missing=()
  reachable "$DH" "$DP" || missing+=("drachtio $DH:$DP")
  reachable "$FH" "$FP" || missing+=("FreeSWITCH $FH:$FP")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "e2e: SKIPPED (not reachable: ${missing[*]})"
    exit 0
  fi
  for tool in sipp redis-server; do
    command -v "$tool" >/dev/null || { echo "e2e: SKIPPED ($tool not installed)"; exit 0; }
  done
  exec "${mocha[@]}"
fi

# A failure before the suite runs is counted like a failed test in npm test's total.
fail() {
  echo "e2e: 0 passed, 1 failed, 0 skipped ($*)"
  [ -n "${PAPGATE_TEST_SUMMARY:-}" ] && echo "0 1 0" >>"$PAPGATE_TEST_SUMMARY"
  [ -n "${PAPGATE_TEST_FAILURES:-}" ] && echo "e2e: before the suite: $*" >>"$PAPGATE_TEST_FAILURES"
  exit 1
}
for tool in sipp redis-server; do
  command -v "$tool" >/dev/null || fail "$tool not installed (scripts/setup.sh --test installs it)"
done

began=$SECONDS
run=$(mktemp -d "${TMPDIR:-/tmp}/papgate-e2e-servers.XXXXXX")
suite=""
rc=1
cleanup() {
  # the suite runs in its own process group: this also ends the sipp and redis-server it started
  [ -n "$suite" ] && kill -TERM -- "-$suite" 2>/dev/null
  bash test/e2e/servers.sh down "$run"
  if [ "$rc" -eq 0 ]; then
    rm -rf "$run"
  else
    echo "e2e: server logs kept in $run" >&2
  fi
  echo "e2e: took $((SECONDS - began)) s (servers started and stopped by test/e2e/servers.sh)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash test/e2e/servers.sh up "$run" || fail "SIP servers not started, see above"
# shellcheck disable=SC1091
. "$run/env"
# The fault tests stop and restart the servers through servers.sh with this run folder.
setsid "${mocha[@]}" &
suite=$!
wait "$suite"
rc=$?
suite=""
exit "$rc"
