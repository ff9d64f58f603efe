#!/usr/bin/env bash
# The cluster drill (issues 14 and 19), in one command:
#
#   scripts/cluster.sh            # 3 instances, 180 s at 25 submissions/s (~5 min)
#   scripts/cluster.sh --short    # the CI version: 40 s at 8/s (~90 s)
#   scripts/cluster.sh --instances 4 --duration 300 --rate 30
#
# It starts a PRIVATE PostgreSQL cluster (initdb in a temporary directory,
# its own port, fsync off) and a PRIVATE redis-server, N sansuo instances
# on their own ports behind haproxy, runs a mixed burst through haproxy
# while one instance is SIGKILLed (then restarted), Redis is flushed and
# restarted and PostgreSQL is restarted (pg_ctl restart -m fast), drains,
# and checks the database directly. It prints a table and exits non-zero
# when a must-be-zero count (lost, doubled, double-assigned, stuck,
# history gaps, deadlocks) is not zero. The shared 5432/6379 services are
# never touched.
#
# The server binary: $SANSUO_DRILL_SERVER_BIN, else
# ${CARGO_TARGET_DIR:-target}/debug/sansuo (built here unless
# SANSUO_DRILL_NO_BUILD=1). Other arguments go to `sansuo-loadgen drill`
# (`--help` lists them). Needs initdb/pg_ctl (PostgreSQL's server
# binaries), redis-server and haproxy; haproxy is installed from Debian's
# packages when missing and we are root (as .ci/run does for PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[cluster] %s\n' "$*"; }

if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    log "installing haproxy"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  else
    log "haproxy is missing: apt-get install haproxy (as root)"
    exit 2
  fi
fi
command -v redis-server >/dev/null 2>&1 || { log "redis-server is missing (apt-get install redis-server)"; exit 2; }
if ! command -v initdb >/dev/null 2>&1 && [ ! -x /usr/local/bin/initdb ] && [ -z "${SANSUO_DRILL_PG_BIN:-}" ]; then
  # Debian keeps the server binaries out of PATH.
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$pg_bin" ] || { log "initdb not found (apt-get install postgresql, or set SANSUO_DRILL_PG_BIN)"; exit 2; }
  export SANSUO_DRILL_PG_BIN=$pg_bin
fi

target=${CARGO_TARGET_DIR:-target}
if [ "${SANSUO_DRILL_NO_BUILD:-0}" != 1 ]; then
  log "building the debug binaries"
  cargo build -q -p sansuo-server -p sansuo-loadgen
fi
export SANSUO_DRILL_SERVER_BIN=${SANSUO_DRILL_SERVER_BIN:-$target/debug/sansuo}

dir=$(mktemp -d /tmp/sansuo-drill.XXXXXX)
cleanup() {
  # The driver stops everything it started; this is for when it could not
  # (killed, crashed): every pid file in the directory, and PostgreSQL.
  for pidfile in "$dir"/*.pid; do
    [ -e "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  done
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    kill -9 "$(head -n 1 "$dir/pg/data/postmaster.pid")" 2>/dev/null || true
  fi
  if [ "${SANSUO_DRILL_KEEP:-0}" = 1 ]; then
    log "kept $dir (logs: sansuo-*.log, pg/server.log, redis.log, haproxy.log)"
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "load average before the drill: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/debug/sansuo-loadgen" drill --dir "$dir" "$@"
