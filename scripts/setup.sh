#!/usr/bin/env bash
# First-use set-up for `npm start` and `npm test` on Debian: fetches the pinned Node.js build when
# the machine's node is older than papgate needs (scripts/runtime.sh), installs the system packages
# papgate needs when they are missing, the npm dependencies when package-lock.json changed, then
# builds when a source changed; npm, tsc and the console build run on that Node.js.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh

if [ "$(papgate_path_node_major)" -lt "$PAPGATE_NODE_MIN_MAJOR" ]; then
  papgate_fetch_node "$PAPGATE_NODE"
fi
# The test command also runs the unit suites on the other LTS line (scripts/test.sh).
if [ "${1:-}" = "--test" ]; then
  papgate_fetch_node "$(papgate_other_node)"
fi
papgate_use_node
echo "setup: $(papgate_node_banner)" >&2

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ "${1:-}" = "--test" ]; then
  command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
  # The phone of the SIP-over-TLS tests (test/e2e/baresip.ts), where sipp cannot go.
  [ -f /usr/lib/baresip/modules/ctrl_tcp.so ] || need+=(baresip-core)
  # What crossed loopback during its call, read back by test/e2e/capture.ts
  command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
  # test/e2e/servers.sh makes each run's TLS certificates with it
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # The console's browser tests drive Debian's headless Chromium (test/support/browser.ts).
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # The e2e suite runs drachtio-server and FreeSWITCH from prebuilt archives (test/e2e/servers.sh);
  # they link Debian's shared libraries, listed beside the archives.
  servers=${E2E_SERVERS_DIR:-../shared/sip-servers}
  if [ -f "$servers/runtime-packages.txt" ]; then
    while read -r pkg; do
      [ -n "$pkg" ] || continue
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
    done <"$servers/runtime-packages.txt"
  fi
fi
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} from Debian" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Redis is started by papgate itself (or the tests); Debian's service is not needed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Compiles only when a source is newer than the last build (a fresh clone, a pull, an edit): an
# unchanged tree starts at once. The stamp is written after both builds succeeded.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src test bench web tsconfig.json package-lock.json \
  node_modules/.package-lock.json -newer "$stamp" -print -quit)" ]; then
  npx tsc -p tsconfig.json
  npm run --silent build:console
  touch "$stamp"
fi
