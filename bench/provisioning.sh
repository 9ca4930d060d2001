#!/usr/bin/env bash
# Provisioning and PAP-check benchmark, one table (docs/benchmarks.md, "Provisioning and the PAP
# check"). Everything on 127.0.0.1; every server it starts is stopped on exit.
# - full configuration through HTTP credentials (Basic, no path: a phone whose server came from
#   DHCP), full through the device credential in the path, the same with 200 settings items of
#   its tenant's layer (docs/settings.md), minimal:
#   papgate vs nginx (one worker) serving a static file of the same bytes, one after the other;
# - the PAP check through POST /api/v1/authenticate (wrk) and through the store call the IVR makes
#   (bench/pap.ts), vs redis-benchmark GET against the same Redis at the same concurrency.
#   BENCH_DURATION (10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
papgate_use_node

DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 ..." >&2
    (apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; })
  fi
  command -v "$1" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is missing (apt-get install $2)" >&2; exit 1; }
}
export PATH="$PATH:/usr/sbin"
need wrk wrk
need nginx nginx-light
need redis-server redis-server
need redis-benchmark redis-tools

[ -f dist/bench/server.js ] || { echo "bench: run through \`npm run bench\` (it builds first)" >&2; exit 1; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
TMP="$(mktemp -d)"
chmod 755 "$TMP"
SERVER_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# shellcheck source=bench/nginx.sh
. bench/nginx.sh
bench_nginx "$TMP"

# The gate-mode servers' upstream is this nginx (docs/gate-mode.md).
BENCH_STATIC_DIR="$TMP/www" BENCH_UPSTREAM="http://127.0.0.1:$NGINX_PORT/upstream/{mac}.cfg" \
  node dist/bench/server.js >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  [ -s "$TMP/server.out" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.err" >&2; exit 1; }
  sleep 0.1
done
[ -s "$TMP/server.out" ] || { echo "bench: papgate did not start" >&2; exit 1; }
json() { # file, field
  node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(String(o[process.argv[2]]))' "$1" "$2"
}
S="$TMP/server.out"
PORT="$(json "$S" port)"
ADMIN_PORT="$(json "$S" adminPort)"
REDIS_URL="$(json "$S" redisUrl)"
REDIS_PORT="$(json "$S" redisPort)"
chmod 644 "$TMP"/www/*.cfg "$TMP"/www/upstream/*.cfg

# Each result is one line in $TMP/<name>.res: requests/s, p50 ms, p99 ms.
run_wrk() { # name url [wrk script] [request header]
  local extra=()
  [ -n "${3:-}" ] && extra=(-s "$3")
  [ -n "${4:-}" ] && extra+=(-H "$4")
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency ${3:+-s $3} ${4:+-H '<header>'} $2" >&2
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${extra[@]}" "$2" >"$TMP/$1.wrk"
  if grep -q 'Non-2xx' "$TMP/$1.wrk"; then echo "bench: $1 had non-2xx answers:" >&2; grep 'Non-2xx' "$TMP/$1.wrk" >&2; fi
  # wrk prints latencies as 812.00us / 1.23ms / 1.02s; the table shows milliseconds.
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 } $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }
  ' "$TMP/$1.wrk" >"$TMP/$1.res"
}

# Each papgate target right after nginx with a file of the same bytes, so both see the same machine.
for target in full credential settings minimal; do
  path="$(json "$S" "${target}Path")"
  run_wrk "nginx-$target" "http://127.0.0.1:$NGINX_PORT/$target.cfg"
  header=""
  [ "$target" = full ] && header="Authorization: $(json "$S" fullAuthorization)"
  run_wrk "papgate-$target" "http://127.0.0.1:$PORT$path" "" "$header"
done
# Gate mode: the device-credential fetch over an upstream (nginx above), kept, then asked every time.
run_wrk papgate-gate "http://127.0.0.1:$(json "$S" gatePort)$(json "$S" gatePath)"
run_wrk papgate-gate-uncached "http://127.0.0.1:$(json "$S" gateUncachedPort)$(json "$S" gateUncachedPath)"

echo "redis-benchmark -t get -c $CONNS (same Redis)" >&2
# 15 000 requests per connection: about as long as the other runs.
redis-benchmark -p "$REDIS_PORT" -t get -c "$CONNS" -n "$((CONNS * 15000))" --csv 2>/dev/null | awk -F'"' '
  $2 == "GET" { printf "%.0f %.2f %.2f\n", $4, $10, $14 }' >"$TMP/redis-get.res"
BENCH_ADMIN_TOKEN="$(json "$S" adminToken)" BENCH_PAP_DEVICES="$(json "$S" papDevices)" \
  run_wrk pap-http "http://127.0.0.1:$ADMIN_PORT/api/v1/authenticate" bench/authenticate.lua
echo "node dist/bench/pap.js: $CONNS store calls in flight for $DURATION" >&2
REDIS_URL="$REDIS_URL" BENCH_DURATION="$DURATION" BENCH_CONNECTIONS="$CONNS" node dist/bench/pap.js >"$TMP/pap-store.json"
node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${o.rps} ${o.p50.toFixed(2)} ${o.p99.toFixed(2)}`)' \
  "$TMP/pap-store.json" >"$TMP/pap-store.res"

row() { # label, result name, baseline result name ('' for a baseline row)
  read -r rps p50 p99 <"$TMP/$2.res"
  local ratio="1.000"
  if [ -n "$3" ]; then
    read -r base _ _ <"$TMP/$3.res"
    ratio="$(awk -v a="$rps" -v b="$base" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
  fi
  printf '%-40s %11s %8s %8s %7s\n' "$1" "$rps" "$p50" "$p99" "$ratio"
}

echo
echo "papgate benchmark: wrk -t$THREADS -c$CONNS -d$DURATION, 127.0.0.1, load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Yealink T54W <mac>.cfg; nginx: 1 worker, static file of the same bytes; ratio: papgate / the baseline row above it (gate mode: / papgate full, device credential)"
printf '%-40s %11s %8s %8s %7s\n' "target" "requests/s" "p50 ms" "p99 ms" "ratio"
row "nginx $(json "$S" fullBytes) B" nginx-full ""
row "papgate full, HTTP credentials" papgate-full nginx-full
row "nginx $(json "$S" credentialBytes) B" nginx-credential ""
row "papgate full, device credential" papgate-credential nginx-credential
row "nginx $(json "$S" settingsBytes) B" nginx-settings ""
row "papgate full, $(json "$S" settingsItems) settings" papgate-settings nginx-settings
row "nginx $(json "$S" minimalBytes) B" nginx-minimal ""
row "papgate minimal" papgate-minimal nginx-minimal
row "papgate gate mode $(json "$S" gateBytes) B, cached" papgate-gate papgate-credential
row "papgate gate mode, upstream every time" papgate-gate-uncached papgate-credential
row "redis-benchmark GET, same Redis" redis-get ""
row "PAP check, POST /api/v1/authenticate" pap-http redis-get
row "PAP check, store call of the IVR" pap-store redis-get
