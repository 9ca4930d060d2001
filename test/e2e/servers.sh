#!/usr/bin/env bash
# drachtio-server and FreeSWITCH for the e2e suite, from the prebuilt archives in E2E_SERVERS_DIR
# (default ../shared/sip-servers beside the repository; see its README). Both run on free loopback
# ports with the committed config/drachtio/drachtio.conf.xml and a copy of config/freeswitch/ in
# which only the port variables of vars.xml are set again; nothing else differs from what ships.
#
#   servers.sh available                 exit 0 when both archives are there
#   servers.sh up RUN                    unpack (cached), pick ports, start both, wait until they answer;
#                                        writes RUN/env (E2E_* variables for the suite)
#   servers.sh start drachtio|freeswitch RUN   start one again on the same ports (the fault tests)
#   servers.sh stop drachtio|freeswitch RUN    SIGTERM by PID, SIGKILL after 10 s
#   servers.sh down RUN                  stop both
#
# PIDs are kept in RUN/<name>.pid, logs in RUN/<name>.log. A server that does not come up is an
# error naming it, with the tail of its log.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SERVERS_DIR=${E2E_SERVERS_DIR:-../shared/sip-servers}
case "$SERVERS_DIR" in /*) ;; *) SERVERS_DIR="$REPO/$SERVERS_DIR" ;; esac
DRACHTIO_ARCHIVE="$SERVERS_DIR/drachtio-server-0.9.10-debian12-amd64.tar.xz"
FREESWITCH_ARCHIVE="$SERVERS_DIR/freeswitch-1.10.12-debian12-amd64.tar.xz"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/papgate-e2e
DRACHTIO_CONF="$REPO/config/drachtio/drachtio.conf.xml"
START_TIMEOUT_S=40

die() {
  echo "e2e: $*" >&2
  exit 1
}

# Unpacks an archive once into CACHE/<sha256 of the archive>/ and prints that folder; a changed
# archive gets a new folder. Unpacked beside and renamed, so concurrent runs never see half a tree.
unpacked() {
  local sum dir tmp
  sum=$(sha256sum "$1" | cut -d' ' -f1) || die "cannot read $1"
  dir="$CACHE/$sum"
  if [ ! -d "$dir" ]; then
    mkdir -p "$CACHE" || die "cannot create $CACHE"
    tmp=$(mktemp -d "$CACHE/.unpack.XXXXXX") || die "cannot create a folder in $CACHE"
    tar -xJf "$1" -C "$tmp" || {
      rm -rf "$tmp"
      die "cannot unpack $1"
    }
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  fi
  echo "$dir"
}

# Prints free loopback ports: drachtio admin (TCP), drachtio SIP and FreeSWITCH SIP (UDP and TCP),
# the event socket (TCP), then the first and last port of a free, even-aligned UDP block as wide as
# the committed RTP range, taken below the kernel's ephemeral range so that sipp's media ports
# (ephemeral) cannot fall into it.
free_ports() {
  node - "$1" <<'EOF'
const net = require('node:net');
const dgram = require('node:dgram');
const width = Number(process.argv[2]);
const held = [];
const tcp = (port) =>
  new Promise((ok) => {
    const s = net.createServer();
    s.once('error', () => ok(0));
    s.listen(port, '127.0.0.1', () => (held.push(s), ok(s.address().port)));
  });
const udp = (port) =>
  new Promise((ok) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => ok(false));
    s.bind(port, '127.0.0.1', () => (held.push(s), ok(true)));
  });
(async () => {
  const out = [];
  for (const both of [false, true, false, true]) {
    for (;;) {
      const p = await tcp(0);
      if (!both || (await udp(p))) {
        out.push(p);
        break;
      }
    }
  }
  for (let tries = 0; ; tries++) {
    if (tries > 50) throw new Error(`no free block of ${width} UDP ports`);
    const start = 10000 + 2 * Math.floor(Math.random() * ((30000 - 10000 - width) / 2));
    let ok = true;
    for (let p = start; p <= start + width && ok; p++) ok = await udp(p);
    if (ok) {
      out.push(start, start + width);
      break;
    }
  }
  for (const s of held) s.close();
  console.log(out.join(' '));
})();
EOF
}

# attribute $3 of the first <$2> element in file $1
xml_attr() { sed -n "s/.*<$2[^>]*$3=\"\([^\"]*\)\".*/\1/p" "$1" | head -1; }
fs_var() { sed -n "s/.*data=\"$2=\([^\"]*\)\".*/\1/p" "$1/vars.xml" | head -1; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

tail_log() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "--- tail of $f" >&2
    tail -n 30 "$f" >&2
  done
}

fs_api() {
  # shellcheck disable=SC1091
  . "$RUN/env"
  timeout 5 "$E2E_FS_DIR/bin/fs_cli" -H 127.0.0.1 -P "$E2E_FREESWITCH_PORT" -p "$E2E_FREESWITCH_SECRET" -x "$1" 2>&1
}

start_drachtio() {
  # shellcheck disable=SC1091
  . "$RUN/env"
  "$E2E_DRACHTIO_DIR/bin/drachtio" -f "$DRACHTIO_CONF" --address 127.0.0.1 --port "$E2E_DRACHTIO_PORT" \
    --contact "sip:$E2E_SIP;transport=udp,tcp" --secret "$E2E_DRACHTIO_SECRET" \
    </dev/null >>"$RUN/drachtio.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$RUN/drachtio.pid"
  local end=$((SECONDS + START_TIMEOUT_S))
  until timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$E2E_DRACHTIO_PORT" 2>/dev/null; do
    if ! alive "$pid" || [ $SECONDS -ge $end ]; then
      alive "$pid" && kill -KILL "$pid"
      echo "e2e: drachtio-server did not start (admin port 127.0.0.1:$E2E_DRACHTIO_PORT)" >&2
      tail_log "$RUN/drachtio.log"
      return 1
    fi
    sleep 0.2
  done
}

start_freeswitch() {
  # shellcheck disable=SC1091
  . "$RUN/env"
  local d="$RUN/fs"
  mkdir -p "$d"/{log,db,run,temp,cache,sounds,storage,recordings}
  # -np: normal scheduling. Without a priority flag FreeSWITCH on a host with more than one CPU
  # switches itself to real-time (SCHED_FIFO, like -rp) and on 2 cores starves node (papgate, the
  # suite): drachtio-fsmrf's wait for the outbound event socket then runs out.
  "$E2E_FS_DIR/bin/freeswitch" -nf -nc -nonat -nonatmap -np \
    -mod "$E2E_FS_DIR/mod" -conf "$RUN/freeswitch-conf" -log "$d/log" -db "$d/db" -run "$d/run" \
    -temp "$d/temp" -cache "$d/cache" -sounds "$d/sounds" -storage "$d/storage" -recordings "$d/recordings" \
    </dev/null >>"$RUN/freeswitch.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$RUN/freeswitch.pid"
  local end=$((SECONDS + START_TIMEOUT_S))
  until fs_api 'sofia status' | grep -q 'drachtio_mrf.*RUNNING'; do
    if ! alive "$pid" || [ $SECONDS -ge $end ]; then
      alive "$pid" && kill -KILL "$pid"
      echo "e2e: FreeSWITCH did not start (event socket 127.0.0.1:$E2E_FREESWITCH_PORT, profile drachtio_mrf)" >&2
      tail_log "$RUN/freeswitch.log" "$d/log/freeswitch.log"
      return 1
    fi
    sleep 0.3
  done
}

stop_one() {
  local pidfile="$RUN/$1.pid" pid comm i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  # the PID file may be stale (server already gone, the number reused): only signal our binary
  comm=$(ps -o comm= -p "$pid" 2>/dev/null) || return 0
  case "$comm" in drachtio | freeswitch) ;; *) return 0 ;; esac
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null
}

up() {
  [ -f "$DRACHTIO_ARCHIVE" ] && [ -f "$FREESWITCH_ARCHIVE" ] || die "archives not found in $SERVERS_DIR"
  mkdir -p "$RUN"
  local ddir fdir conf rtp_width ports
  ddir=$(unpacked "$DRACHTIO_ARCHIVE") || exit 1
  fdir=$(unpacked "$FREESWITCH_ARCHIVE") || exit 1
  rtp_width=$(($(fs_var "$REPO/config/freeswitch" rtp_end_port) - $(fs_var "$REPO/config/freeswitch" rtp_start_port)))
  read -r d_admin d_sip esl fs_sip rtp_start rtp_end <<<"$(free_ports "$rtp_width")"
  [ -n "${rtp_end:-}" ] || die "cannot find free loopback ports"
  # The committed tree, with only its port variables set again (a later `set` wins).
  conf="$RUN/freeswitch-conf"
  rm -rf "$conf"
  cp -r "$REPO/config/freeswitch" "$conf"
  sed -i "s#</include>#  <X-PRE-PROCESS cmd=\"set\" data=\"mrf_sip_port=$fs_sip\"/>\n\
  <X-PRE-PROCESS cmd=\"set\" data=\"event_socket_port=$esl\"/>\n\
  <X-PRE-PROCESS cmd=\"set\" data=\"rtp_start_port=$rtp_start\"/>\n\
  <X-PRE-PROCESS cmd=\"set\" data=\"rtp_end_port=$rtp_end\"/>\n</include>#" "$conf/vars.xml"
  cat >"$RUN/env" <<EOF
export E2E_DRACHTIO_HOST=127.0.0.1 E2E_DRACHTIO_PORT=$d_admin
export E2E_DRACHTIO_SECRET='$(xml_attr "$DRACHTIO_CONF" admin secret)'
export E2E_SIP=127.0.0.1:$d_sip
export E2E_FREESWITCH_HOST=127.0.0.1 E2E_FREESWITCH_PORT=$esl
export E2E_FREESWITCH_SECRET='$(sed -n 's/.*name="password" value="\([^"]*\)".*/\1/p' "$conf/autoload_configs/event_socket.conf.xml")'
export E2E_DRACHTIO_DIR='$ddir/drachtio-server' E2E_FS_DIR='$fdir/freeswitch'
export E2E_SERVERS_RUN='$RUN'
EOF
  start_freeswitch || exit 1
  start_drachtio || {
    stop_one freeswitch
    exit 1
  }
}

cmd=${1:-}
case "$cmd" in
available)
  [ -f "$DRACHTIO_ARCHIVE" ] && [ -f "$FREESWITCH_ARCHIVE" ]
  ;;
up)
  RUN=${2:?run folder}
  up
  ;;
start)
  RUN=${3:?run folder}
  case "${2:-}" in
  drachtio) start_drachtio ;;
  freeswitch) start_freeswitch ;;
  *) die "usage: servers.sh start drachtio|freeswitch RUN" ;;
  esac
  ;;
stop)
  RUN=${3:?run folder}
  case "${2:-}" in
  drachtio | freeswitch) stop_one "$2" ;;
  *) die "usage: servers.sh stop drachtio|freeswitch RUN" ;;
  esac
  ;;
down)
  RUN=${2:?run folder}
  stop_one drachtio
  stop_one freeswitch
  ;;
*) die "usage: servers.sh available | up RUN | start|stop drachtio|freeswitch RUN | down RUN" ;;
esac
