#!/usr/bin/env bash
# Provisioning and PAP-check benchmark, one table (docs/benchmarks.md, "Provisioning and the PAP
# check"). Everything on 127.0.0.1; every server it starts is stopped on exit.
# - full configuration through HTTP credentials (Basic, no path: a phone whose server came from
#   DHCP) from a whitelisted address, full through the device credential in the path, the same
#   with 200 settings items of its tenant's layer (docs/settings.md), minimal, each with a Yealink
#   User-Agent: papgate vs nginx (one worker) serving a static file of the same bytes and, for the
#   full ones, vs the floor app (bench/floor.ts: node:http running papgate's one script per
#   request), one after the other, with the CPU per request of papgate, the floor app and Redis;
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
need redis-cli redis-tools

[ -f dist/bench/server.js ] || { echo "bench: run through \`npm run bench\` (it builds first)" >&2; exit 1; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
TMP="$(mktemp -d)"
chmod 755 "$TMP"
SERVER_PID=""
NGINX_PID=""
FLOOR_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  [ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null || true
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
started() { # pid, name (its first line goes to $TMP/<name>.out), what, tenths of a second
  for _ in $(seq 1 "$4"); do
    [ -s "$TMP/$2.out" ] && return 0
    kill -0 "$1" 2>/dev/null || { cat "$TMP/$2.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: $3 did not start" >&2
  exit 1
}
started "$SERVER_PID" server papgate 300
json() { # file, field
  node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(String(o[process.argv[2]]))' "$1" "$2"
}
S="$TMP/server.out"
PORT="$(json "$S" port)"
ADMIN_PORT="$(json "$S" adminPort)"
REDIS_URL="$(json "$S" redisUrl)"
REDIS_PORT="$(json "$S" redisPort)"
chmod 644 "$TMP"/www/*.cfg "$TMP"/www/upstream/*.cfg

# The floor app replays papgate's one script per full request and its answer (bench/floor.ts).
REDIS_URL="$REDIS_URL" BENCH_FLOOR="$TMP/www/floor.json" node dist/bench/floor.js >"$TMP/floor.out" 2>"$TMP/floor.err" &
FLOOR_PID=$!
started "$FLOOR_PID" floor "the floor app" 100
FLOOR_PORT="$(json "$TMP/floor.out" port)"
REDIS_PID="$(redis-cli -p "$REDIS_PORT" info server | awk -F: '$1 == "process_id" { print $2 + 0 }')"
CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() { # pid: user + system time so far, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Each result is one line in $TMP/<name>.res: requests/s, p50 ms, p99 ms, and with an app pid the
# CPU per request (µs) of that process and of Redis over the run ('-' without).
run_wrk() { # name url app-pid|'' [wrk script] [request header...]
  local name="$1" url="$2" pid="$3" extra=() shown=""
  shift 3
  if [ -n "${1:-}" ]; then
    extra=(-s "$1")
    shown=" -s $1"
  fi
  [ $# -gt 0 ] && shift
  for h in "$@"; do
    extra+=(-H "$h")
    shown+=" -H '${h%%:*}: ...'"
  done
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency$shown $url" >&2
  local app0=0 redis0=0
  [ -n "$pid" ] && app0="$(cpu_ticks "$pid")" && redis0="$(cpu_ticks "$REDIS_PID")"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${extra[@]}" "$url" >"$TMP/$name.wrk"
  local cpu="- -"
  if [ -n "$pid" ]; then
    cpu="$(($(cpu_ticks "$pid") - app0)) $(($(cpu_ticks "$REDIS_PID") - redis0))"
  fi
  if grep -q 'Non-2xx' "$TMP/$name.wrk"; then echo "bench: $name had non-2xx answers:" >&2; grep 'Non-2xx' "$TMP/$name.wrk" >&2; fi
  # wrk prints latencies as 812.00us / 1.23ms / 1.02s; the table shows milliseconds.
  awk -v cpu="$cpu" -v tck="$CLK_TCK" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    function us(t) { return t == "-" || n == 0 ? "-" : sprintf("%.1f", t * 1e6 / tck / n) }
    /^Requests\/sec:/ { rps = $2 } $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1 }
    END { split(cpu, c, " "); printf "%.0f %.2f %.2f %s %s\n", rps, p50, p99, us(c[1]), us(c[2]) }
  ' "$TMP/$name.wrk" >"$TMP/$name.res"
}

# Each papgate target right after nginx with a file of the same bytes (and for a full file the
# floor app), so all see the same machine. The phone is a Yealink T54W: its User-Agent is checked.
for target in full credential settings minimal; do
  path="$(json "$S" "${target}Path")"
  headers=("User-Agent: $(json "$S" "${target}UserAgent")")
  [ "$target" = full ] && headers+=("Authorization: $(json "$S" fullAuthorization)")
  run_wrk "nginx-$target" "http://127.0.0.1:$NGINX_PORT/$target.cfg" ""
  [ "$target" = minimal ] || run_wrk "floor-$target" "http://127.0.0.1:$FLOOR_PORT$path" "$FLOOR_PID" "" "${headers[@]}"
  run_wrk "papgate-$target" "http://127.0.0.1:$PORT$path" "$SERVER_PID" "" "${headers[@]}"
done
# Gate mode: the device-credential fetch over an upstream (nginx above), kept, then asked every time.
run_wrk papgate-gate "http://127.0.0.1:$(json "$S" gatePort)$(json "$S" gatePath)" ""
run_wrk papgate-gate-uncached "http://127.0.0.1:$(json "$S" gateUncachedPort)$(json "$S" gateUncachedPath)" ""

echo "redis-benchmark -t get -c $CONNS (same Redis)" >&2
# 15 000 requests per connection: about as long as the other runs.
redis-benchmark -p "$REDIS_PORT" -t get -c "$CONNS" -n "$((CONNS * 15000))" --csv 2>/dev/null | awk -F'"' '
  $2 == "GET" { printf "%.0f %.2f %.2f - -\n", $4, $10, $14 }' >"$TMP/redis-get.res"
BENCH_ADMIN_TOKEN="$(json "$S" adminToken)" BENCH_PAP_DEVICES="$(json "$S" papDevices)" \
  run_wrk pap-http "http://127.0.0.1:$ADMIN_PORT/api/v1/authenticate" "" bench/authenticate.lua
echo "node dist/bench/pap.js: $CONNS store calls in flight for $DURATION" >&2
REDIS_URL="$REDIS_URL" BENCH_DURATION="$DURATION" BENCH_CONNECTIONS="$CONNS" node dist/bench/pap.js >"$TMP/pap-store.json"
node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${o.rps} ${o.p50.toFixed(2)} ${o.p99.toFixed(2)} - -`)' \
  "$TMP/pap-store.json" >"$TMP/pap-store.res"

ratio() { # result name, baseline result name: requests/s of one over the other
  local a b
  read -r a _ <"$TMP/$1.res"
  read -r b _ <"$TMP/$2.res"
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'
}
row() { # label, result name, baseline result name ('' for a baseline row), second baseline ('' none)
  local rps p50 p99 app redis
  read -r rps p50 p99 app redis <"$TMP/$2.res"
  local r="1.000" r2="-"
  [ -n "$3" ] && r="$(ratio "$2" "$3")"
  [ -n "${4:-}" ] && r2="$(ratio "$2" "$4")"
  printf '%-40s %11s %8s %8s %7s %7s %9s %9s\n' "$1" "$rps" "$p50" "$p99" "$r" "$r2" "$app" "$redis"
}

echo
echo "papgate benchmark: wrk -t$THREADS -c$CONNS -d$DURATION, 127.0.0.1, load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Yealink T54W <mac>.cfg with its User-Agent; nginx: 1 worker, static file of the same bytes; floor: node:http, papgate's one script (provision.lua) per request, the same bytes"
echo "ratio: / the nginx row above it (gate mode: / papgate full, device credential; PAP: / redis-benchmark); /floor: / the floor row above it; CPU µs per request of the app's process and of Redis"
printf '%-40s %11s %8s %8s %7s %7s %9s %9s\n' "target" "requests/s" "p50 ms" "p99 ms" "ratio" "/floor" "app µs" "redis µs"
row "nginx $(json "$S" fullBytes) B" nginx-full ""
row "floor app" floor-full nginx-full
row "papgate full, HTTP credentials" papgate-full nginx-full floor-full
row "nginx $(json "$S" credentialBytes) B" nginx-credential ""
row "floor app" floor-credential nginx-credential
row "papgate full, device credential" papgate-credential nginx-credential floor-credential
row "nginx $(json "$S" settingsBytes) B" nginx-settings ""
row "floor app" floor-settings nginx-settings
row "papgate full, $(json "$S" settingsItems) settings" papgate-settings nginx-settings floor-settings
row "nginx $(json "$S" minimalBytes) B" nginx-minimal ""
row "papgate minimal" papgate-minimal nginx-minimal
row "papgate gate mode $(json "$S" gateBytes) B, cached" papgate-gate papgate-credential
row "papgate gate mode, upstream every time" papgate-gate-uncached papgate-credential
row "redis-benchmark GET, same Redis" redis-get ""
row "PAP check, POST /api/v1/authenticate" pap-http redis-get
row "PAP check, store call of the IVR" pap-store redis-get
