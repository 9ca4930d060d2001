#!/usr/bin/env bash
# drachtio-server and FreeSWITCH for the e2e suite, from the prebuilt archives in E2E_SERVERS_DIR
# (default ../shared/sip-servers beside the repository; see its README). Both run on free loopback
# ports with the committed config/drachtio/drachtio.conf.xml and config/freeswitch/ (a copy, into
# which FreeSWITCH writes its tls/), the ports given as an operator gives them: in the variables
# docs/operations.md documents (DRACHTIO_ADMIN_TCP_PORT; PAPGATE_FS_SIP_PORT, FREESWITCH_PORT,
# PAPGATE_RTP_START_PORT, PAPGATE_RTP_END_PORT), and drachtio's SIP contact on its command line.
# The committed configuration holds no secret: each run draws its own two (RUN/env) and hands them
# to the servers as an operator would, in DRACHTIO_SECRET and FREESWITCH_SECRET, and FreeSWITCH the
# listeners of the suites' papgates in PAPGATE_LISTENERS (the only targets it connects back to).
#
#   servers.sh available                 exit 0 when both archives are there
#   servers.sh up RUN                    unpack (cached), pick ports, start both, wait until they answer;
#                                        writes RUN/env (E2E_* variables for the suite)
#   servers.sh start NAME RUN            start one (again) on its ports: drachtio, freeswitch, or the
#                                        second instances drachtio2, freeswitch2 (the scale-out tests);
#                                        with E2E_WITHHOLD_SECRET=1 without its secret (test/e2e/secrets.ts)
#   servers.sh stop NAME RUN             SIGTERM by PID, SIGKILL after 10 s
#   servers.sh down RUN                  stop all
#
# PIDs are kept in RUN/<name>.pid, logs in RUN/<name>.log. A server that does not come up is an
# error naming it, with the tail of its log.
#
# RUN holds the run's secrets (RUN/env), and FreeSWITCH writes its expanded configuration, the
# event socket's password included, to <log dir>/freeswitch.xml.fsxml with the mode the umask
# leaves (0644 under the usual 022: any local user could log into the event socket and read every
# PAP as it was typed). So everything here and in the servers runs under umask 077, and RUN and the
# servers' folders are 0700 even when they were there before.
set -uo pipefail
umask 077
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SERVERS_DIR=${E2E_SERVERS_DIR:-../shared/sip-servers}
case "$SERVERS_DIR" in /*) ;; *) SERVERS_DIR="$REPO/$SERVERS_DIR" ;; esac
DRACHTIO_ARCHIVE="$SERVERS_DIR/drachtio-server-0.9.10-debian12-amd64.tar.xz"
FREESWITCH_ARCHIVE="$SERVERS_DIR/freeswitch-1.10.12-debian12-amd64.tar.xz"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/papgate-e2e
DRACHTIO_CONF="$REPO/config/drachtio/drachtio.conf.xml"
START_TIMEOUT_S=40
# papgate's outbound listeners both FreeSWITCH take calls from (PAPGATE_LISTENERS): one per papgate
# of a suite (the in-process service, the scale-out suite's processes), the second FreeSWITCH's
# listener of a papgate with two (FREESWITCH_LISTEN_PORT + 1). E2E_PAPGATE_LISTEN_PORT is the first.
LISTENERS=8

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
# the event socket (TCP), drachtio's SIP over TLS (TCP), then the first and last port of a free, even-aligned UDP block as wide as
# the committed RTP range, then the first of LISTENERS free consecutive TCP ports (papgate's
# outbound listeners), both blocks taken below the kernel's ephemeral range so that sipp's and the
# suites' ports (ephemeral) cannot fall into them.
free_ports() {
  node - "$1" "$LISTENERS" <<'EOF'
const net = require('node:net');
const dgram = require('node:dgram');
const width = Number(process.argv[2]);
const listeners = Number(process.argv[3]);
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
  for (const both of [false, true, false, true, false]) {
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
  for (let tries = 0; ; tries++) {
    if (tries > 50) throw new Error(`no free block of ${listeners} TCP ports`);
    const start = 10000 + Math.floor(Math.random() * (30000 - 10000 - listeners));
    let ok = true;
    for (let p = start; p < start + listeners && ok; p++) ok = (await tcp(p)) === p;
    if (ok) {
      out.push(start);
      break;
    }
  }
  for (const s of held) s.close();
  console.log(out.join(' '));
})();
EOF
}

# The run's own CA and a certificate for 127.0.0.1 signed by it (drachtio-server's SIP over TLS),
# in RUN/tls (E2E_TLS_CA). baresip 1.0, the suites' TLS phone, checks no server certificate at all;
# the CA is there for clients that do.
test_pki() {
  local d="$RUN/tls"
  [ -f "$d/server.crt" ] && return 0
  mkdir -p "$d" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=papgate e2e CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null
}

# 192 random bits in hex: a run's secret, never one of the servers' well-known defaults.
random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
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

fs_api() { # event socket port, command
  # shellcheck disable=SC1091
  . "$RUN/env"
  timeout 5 "$E2E_FS_DIR/bin/fs_cli" -H 127.0.0.1 -P "$1" -p "$E2E_FREESWITCH_SECRET" -x "$2" 2>&1
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# papgate's listeners as FreeSWITCH's PAPGATE_LISTENERS takes them: 127.0.0.1:<port>,...
listeners() {
  local i out=""
  for ((i = 0; i < LISTENERS; i++)); do out="$out${out:+,}127.0.0.1:$((E2E_PAPGATE_LISTEN_PORT + i))"; done
  echo "$out"
}

# The secret a server is started with (in its environment, never on its command line): the run's,
# or none with E2E_WITHHOLD_SECRET=1.
secret_env() { # variable name, the run's secret
  if [ "${E2E_WITHHOLD_SECRET:-}" = 1 ]; then echo "-u $1"; else echo "$1=$2"; fi
}

# $1: drachtio or drachtio2 (a second SIP node on its own ports, started only by the tests that use it)
start_drachtio() {
  local name=${1:-drachtio} port sip tls
  # shellcheck disable=SC1091
  . "$RUN/env"
  if [ "$name" = drachtio2 ]; then
    port=$E2E_DRACHTIO2_PORT sip=$E2E_SIP2 tls=$E2E_SIP2_TLS
  else
    port=$E2E_DRACHTIO_PORT sip=$E2E_SIP tls=$E2E_SIP_TLS
  fi
  # SIP over TLS as docs/calls.md tells an operator: a sips: contact (drachtio-server exits on
  # sip:...;transport=tls), the certificate in its environment, and best-effort TLS so that the
  # Contact of its answers stays sip:...;transport=tls for phones that cannot follow a sips: one.
  # shellcheck disable=SC2046
  env -u DRACHTIO_SECRET $(secret_env DRACHTIO_SECRET "$E2E_DRACHTIO_SECRET") DRACHTIO_ADMIN_TCP_PORT="$port" \
    DRACHTIO_TLS_CERT_FILE="$RUN/tls/server.crt" DRACHTIO_TLS_KEY_FILE="$RUN/tls/server.key" \
    DRACHTIO_TLS_CHAIN_FILE="$RUN/tls/ca.crt" \
    DRACHTIO_MIN_TLS_VERSION=1.2 DRACHTIO_SUPPORT_BEST_EFFORT_TLS=1 \
    "$E2E_DRACHTIO_DIR/bin/drachtio" -f "$DRACHTIO_CONF" \
    --contact "sip:$sip;transport=udp,tcp" --contact "sips:$tls;transport=tls" \
    </dev/null >>"$RUN/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$RUN/$name.pid"
  local end=$((SECONDS + START_TIMEOUT_S))
  until tcp_open "$port"; do
    if ! alive "$pid" || [ $SECONDS -ge $end ]; then
      alive "$pid" && kill -KILL "$pid"
      echo "e2e: $name did not start (admin port 127.0.0.1:$port)" >&2
      tail_log "$RUN/$name.log"
      return 1
    fi
    sleep 0.2
  done
}

# $1: freeswitch or freeswitch2 (a second media server with its own ports and folders)
start_freeswitch() {
  local name=${1:-freeswitch} port sip rtp
  # shellcheck disable=SC1091
  . "$RUN/env"
  if [ "$name" = freeswitch2 ]; then
    port=$E2E_FREESWITCH2_PORT sip=$E2E_FS2_SIP_PORT rtp=$E2E_FS2_RTP
  else
    port=$E2E_FREESWITCH_PORT sip=$E2E_FS_SIP_PORT rtp=$E2E_FS_RTP
  fi
  local d="$RUN/$name.d"
  mkdir -p "$d"/{log,db,run,temp,cache,sounds,storage,recordings}
  # a file an earlier start wrote keeps its mode when FreeSWITCH writes it again
  chmod -R go= "$d"
  # -np: normal scheduling. Without a priority flag FreeSWITCH on a host with more than one CPU
  # switches itself to real-time (SCHED_FIFO, like -rp) and on 2 cores starves node (papgate, the
  # suite): drachtio-fsmrf's wait for the outbound event socket then runs out.
  # shellcheck disable=SC2046
  env -u FREESWITCH_SECRET $(secret_env FREESWITCH_SECRET "$E2E_FREESWITCH_SECRET") \
    PAPGATE_LISTENERS="$(listeners)" PAPGATE_FS_SIP_PORT="$sip" FREESWITCH_PORT="$port" \
    PAPGATE_RTP_START_PORT="${rtp% *}" PAPGATE_RTP_END_PORT="${rtp#* }" \
    "$E2E_FS_DIR/bin/freeswitch" -nf -nc -nonat -nonatmap -np \
    -mod "$E2E_FS_DIR/mod" -conf "$RUN/$name-conf" -log "$d/log" -db "$d/db" -run "$d/run" \
    -temp "$d/temp" -cache "$d/cache" -sounds "$d/sounds" -storage "$d/storage" -recordings "$d/recordings" \
    </dev/null >>"$RUN/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$RUN/$name.pid"
  local end=$((SECONDS + START_TIMEOUT_S))
  # Without its secret nobody can ask it anything: up once the event socket takes connections.
  until if [ "${E2E_WITHHOLD_SECRET:-}" = 1 ]; then tcp_open "$port"; else
    fs_api "$port" 'sofia status' | grep -q 'drachtio_mrf.*RUNNING'
  fi; do
    if ! alive "$pid" || [ $SECONDS -ge $end ]; then
      alive "$pid" && kill -KILL "$pid"
      echo "e2e: $name did not start (event socket 127.0.0.1:$port, profile drachtio_mrf)" >&2
      tail_log "$RUN/$name.log" "$d/log/freeswitch.log"
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

# A copy of the committed FreeSWITCH tree in RUN/$1-conf, unchanged: FreeSWITCH writes its tls/
# into the configuration folder. Its ports come from its environment (start_freeswitch).
fs_conf() {
  local conf="$RUN/$1-conf"
  rm -rf "$conf"
  cp -r "$REPO/config/freeswitch" "$conf"
}

up() {
  [ -f "$DRACHTIO_ARCHIVE" ] && [ -f "$FREESWITCH_ARCHIVE" ] || die "archives not found in $SERVERS_DIR"
  mkdir -p "$RUN" && chmod 700 "$RUN" || die "cannot create $RUN"
  local ddir fdir rtp_width
  ddir=$(unpacked "$DRACHTIO_ARCHIVE") || exit 1
  fdir=$(unpacked "$FREESWITCH_ARCHIVE") || exit 1
  rtp_width=$(($(fs_var "$REPO/config/freeswitch" rtp_end_port) - $(fs_var "$REPO/config/freeswitch" rtp_start_port)))
  # Ports for a second drachtio-server and FreeSWITCH too, which only the scale-out tests start.
  read -r d_admin d_sip esl fs_sip tls rtp_start rtp_end listen <<<"$(free_ports "$rtp_width")"
  [ -n "${listen:-}" ] || die "cannot find free loopback ports"
  # The second RTP block is drawn at random too: draw again until it does not overlap the first.
  local tries
  for ((tries = 0; tries < 20; tries++)); do
    read -r d2_admin d2_sip esl2 fs2_sip tls2 rtp2_start rtp2_end _ <<<"$(free_ports "$rtp_width")"
    [ -n "${rtp2_end:-}" ] || die "cannot find free loopback ports"
    [ $((rtp2_start > rtp_end || rtp2_end < rtp_start)) = 1 ] && break
  done
  [ "$tries" -lt 20 ] || die "no second RTP block apart from the first"
  fs_conf freeswitch
  fs_conf freeswitch2
  test_pki || die "cannot make the run's TLS certificates (openssl)"
  cat >"$RUN/env" <<EOF
export E2E_DRACHTIO_HOST=127.0.0.1 E2E_DRACHTIO_PORT=$d_admin E2E_DRACHTIO2_PORT=$d2_admin
export E2E_DRACHTIO_SECRET=$(random_secret)
export E2E_SIP=127.0.0.1:$d_sip E2E_SIP2=127.0.0.1:$d2_sip
export E2E_SIP_TLS=127.0.0.1:$tls E2E_SIP2_TLS=127.0.0.1:$tls2 E2E_TLS_CA='$RUN/tls/ca.crt'
export E2E_FREESWITCH_HOST=127.0.0.1 E2E_FREESWITCH_PORT=$esl E2E_FREESWITCH2_PORT=$esl2
export E2E_FREESWITCH_SIP=127.0.0.1:$fs_sip
export E2E_FS_SIP_PORT=$fs_sip E2E_FS2_SIP_PORT=$fs2_sip
export E2E_FS_RTP='$rtp_start $rtp_end' E2E_FS2_RTP='$rtp2_start $rtp2_end'
export E2E_FREESWITCH_SECRET=$(random_secret)
export E2E_PAPGATE_LISTEN_PORT=$listen
export E2E_DRACHTIO_DIR='$ddir/drachtio-server' E2E_FS_DIR='$fdir/freeswitch'
export E2E_SERVERS_RUN='$RUN'
EOF
  start_freeswitch freeswitch || exit 1
  start_drachtio drachtio || {
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
  drachtio | drachtio2) start_drachtio "$2" ;;
  freeswitch | freeswitch2) start_freeswitch "$2" ;;
  *) die "usage: servers.sh start drachtio|drachtio2|freeswitch|freeswitch2 RUN" ;;
  esac
  ;;
stop)
  RUN=${3:?run folder}
  case "${2:-}" in
  drachtio | drachtio2 | freeswitch | freeswitch2) stop_one "$2" ;;
  *) die "usage: servers.sh stop drachtio|drachtio2|freeswitch|freeswitch2 RUN" ;;
  esac
  ;;
down)
  RUN=${2:?run folder}
  for s in drachtio drachtio2 freeswitch freeswitch2; do stop_one "$s"; done
  ;;
*) die "usage: servers.sh available | up RUN | start|stop drachtio|drachtio2|freeswitch|freeswitch2 RUN | down RUN" ;;
esac
