#!/usr/bin/env bash
# "Monday morning" benchmark (`npm run bench:storm`, docs/benchmarks.md): bench/storm.ts against
# drachtio-server and FreeSWITCH started as bench/calls.sh starts them, with nginx (bench/nginx.sh)
# serving the bare run's files when it is installed (without it the bare run is left out).
# Settings: see the head of bench/storm.ts. Everything on 127.0.0.1; nginx is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin"
NGINX_PID=""
WWW="$(mktemp -d "${TMPDIR:-/tmp}/papgate-bench-storm-www.XXXXXX")"
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WWW"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if command -v nginx >/dev/null; then
  # shellcheck source=scripts/runtime.sh
  . scripts/runtime.sh
  papgate_use_node
  # shellcheck source=bench/nginx.sh
  . bench/nginx.sh
  chmod 755 "$WWW"
  bench_nginx "$WWW"
  export BENCH_NGINX_ROOT="$WWW/www" BENCH_NGINX_PORT="$NGINX_PORT"
else
  echo "bench:storm: nginx is missing (apt-get install nginx-light): no bare run for the files" >&2
fi
bash bench/calls.sh storm
