#!/usr/bin/env bash
# Call capacity benchmark (`npm run bench:calls`): REGISTER and IVR capacity of papgate beside a
# bare drachtio-srf / drachtio-fsmrf app, and overload shedding. drachtio-server and FreeSWITCH come
# from the prebuilt archives (E2E_SERVERS_DIR, see test/e2e/servers.sh) on free loopback ports with
# the committed config/; both are stopped on exit. Settings: see the head of bench/calls.ts.
# `bash bench/calls.sh storm` runs bench/storm.ts the same way (bench/storm.sh).
set -euo pipefail
BENCH="${1:-calls}"
cd "$(dirname "$0")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
papgate_use_node

for tool in sipp redis-server; do
  command -v "$tool" >/dev/null || { echo "bench:$BENCH: $tool is missing (apt-get install sip-tester redis-server)" >&2; exit 1; }
done
[ -f "dist/bench/$BENCH.js" ] || { echo "bench:$BENCH: run through \`npm run bench:$BENCH\` (it builds first)" >&2; exit 1; }
bash test/e2e/servers.sh available || { echo "bench:$BENCH: no drachtio-server / FreeSWITCH archives (E2E_SERVERS_DIR)" >&2; exit 1; }

RUN="$(mktemp -d "${TMPDIR:-/tmp}/papgate-bench-servers.XXXXXX")"
cleanup() {
  bash test/e2e/servers.sh down "$RUN" || true
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash test/e2e/servers.sh up "$RUN"
# shellcheck disable=SC1091
. "$RUN/env"
# In the background, so that a signal reaches the trap at once; calls.js stops its apps and sipp.
node "dist/bench/$BENCH.js" &
BENCH_PID=$!
trap 'kill -TERM "$BENCH_PID" 2>/dev/null; wait "$BENCH_PID"; exit 130' INT TERM
wait "$BENCH_PID"
