#!/usr/bin/env bash
# End-to-end suite (test/e2e/e2e.ts): needs a drachtio-server and a FreeSWITCH with the
# drachtio_mrf profile (see config/), plus sipp and redis-server on this host.
# Exit 0 with "e2e: SKIPPED (reason)" when the servers are not reachable; non-zero on failures.
#   E2E_DRACHTIO_HOST/PORT/SECRET   default 127.0.0.1 9022 cymru
#   E2E_FREESWITCH_HOST/PORT/SECRET default 127.0.0.1 8021 ClueCon
#   E2E_SIP                         default 127.0.0.1:5060 (drachtio's SIP address, for sipp)
set -uo pipefail
cd "$(dirname "$0")/../.."

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

[ -f dist/test/e2e/e2e.js ] || { echo "e2e: not built (run through npm test)" >&2; exit 1; }

PAPGATE_TEST_LABEL=e2e exec npx mocha --no-config --exit --timeout 120000 --reporter test/support/reporter.js dist/test/e2e/e2e.js
