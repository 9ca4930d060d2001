#!/usr/bin/env bash
# Provisioning benchmark: papgate full / minimal configurations vs nginx serving a static file of
# the same size. Everything on 127.0.0.1; every server it starts is stopped on exit.
#   BENCH_DURATION (10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2)
set -euo pipefail
cd "$(dirname "$0")/.."

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

[ -f dist/bench/server.js ] || { echo "bench: run through `npm run bench` (it builds first)" >&2; exit 1; }

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

mkdir -p "$TMP/www" "$TMP/nginx"
BENCH_STATIC_FILE="$TMP/www/static.cfg" node dist/bench/server.js >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  [ -s "$TMP/server.out" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.err" >&2; exit 1; }
  sleep 0.1
done
[ -s "$TMP/server.out" ] || { echo "bench: papgate did not start" >&2; exit 1; }
json() { node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));process.stdout.write(String(o[process.argv[2]]))' "$TMP/server.out" "$1"; }
PORT="$(json port)"; FULL_PATH="$(json fullPath)"; MIN_PATH="$(json minimalPath)"
FULL_BYTES="$(json fullBytes)"; MIN_BYTES="$(json minimalBytes)"
chmod 644 "$TMP/www/static.cfg"

NGINX_PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  default_type text/plain;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
  }
}
CONF

run_wrk() { # name url
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency $2" >&2
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2" >"$TMP/$1.wrk"
  if grep -q 'Non-2xx' "$TMP/$1.wrk"; then echo "bench: $1 had non-2xx answers:" >&2; grep 'Non-2xx' "$TMP/$1.wrk" >&2; fi
}

run_wrk papgate-full "http://127.0.0.1:$PORT$FULL_PATH"
run_wrk papgate-minimal "http://127.0.0.1:$PORT$MIN_PATH"

nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx/start.err" &
NGINX_PID=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
  sleep 0.05
done
run_wrk nginx-static "http://127.0.0.1:$NGINX_PORT/static.cfg"

# wrk prints latencies as 812.00us / 1.23ms / 1.02s; the table shows milliseconds.
field() { # file, what (rps|50%|99%)
  awk -v what="$2" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    what == "rps" && /^Requests\/sec:/ { printf "%.0f", $2 }
    what != "rps" && $1 == what { printf "%.2f", ms($2) }
  ' "$1"
}

NGINX_RPS="$(field "$TMP/nginx-static.wrk" rps)"
echo
echo "papgate provisioning benchmark: wrk -t$THREADS -c$CONNS -d$DURATION, 127.0.0.1, Yealink T54W <mac>.cfg"
echo "full: $FULL_BYTES bytes (permanent-whitelist bypass: one Redis write + audit event per request); minimal: $MIN_BYTES bytes; nginx: static file of $FULL_BYTES bytes, 1 worker"
printf '%-18s %12s %10s %10s %16s\n' "target" "requests/s" "p50 ms" "p99 ms" "papgate/nginx"
for name in papgate-full papgate-minimal nginx-static; do
  f="$TMP/$name.wrk"
  rps="$(field "$f" rps)"
  ratio="$(awk -v a="$rps" -v b="$NGINX_RPS" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
  [ "$name" = nginx-static ] && ratio="1.000"
  printf '%-18s %12s %10s %10s %16s\n' "$name" "$rps" "$(field "$f" 50%)" "$(field "$f" 99%)" "$ratio"
done
