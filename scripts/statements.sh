#!/usr/bin/env bash
# Statements per submission and per routing decision, counted without
# timing (BENCHMARKS.md, "Statements"): a PRIVATE PostgreSQL with
# pg_stat_statements (track = all) and a private Redis, started here in a
# temporary directory and stopped at the end, never the shared ones. Counts
# do not depend on the machine's speed, so two binaries compare anywhere.
#
#   scripts/statements.sh                          # this checkout's debug binaries
#   scripts/statements.sh --server-bin OLD/sansuo  # another server, same load generator
#   SANSUO_LOADGEN=OLD/sansuo-loadgen scripts/statements.sh --server-bin OLD/sansuo
#                                                  # an older checkout's pair (a schema this
#                                                  # load generator's seed does not know)
#
# Other arguments go to `sansuo-loadgen statements` (e.g.
# `--statements-submissions 200`). Needs initdb/pg_ctl (Debian's
# postgresql package) and redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[statements] %s\n' "$*"; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || { log "initdb not found (apt-get install postgresql)"; exit 2; }
command -v redis-server >/dev/null || { log "redis-server not found"; exit 2; }

dir=$(mktemp -d /tmp/sansuo-statements.XXXXXX)
chmod 755 "$dir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
redis_port=$(free_port)
as_postgres=()
[ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)

cleanup() {
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

mkdir "$dir/pg"
[ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
"${as_postgres[@]}" "$pg_bin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 >/dev/null
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/log" -w start -o \
  "-p $pg_port -c listen_addresses=127.0.0.1 -k $dir/pg -c ssl=off \
   -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
   -c max_connections=200" >/dev/null
redis-server --port "$redis_port" --save '' --appendonly no --daemonize yes \
  --logfile "$dir/redis.log" >/dev/null

log "private PostgreSQL on $pg_port, Redis on $redis_port"
loadgen=${SANSUO_LOADGEN:-}
if [ -z "$loadgen" ]; then
  cargo build -q -p sansuo-server -p sansuo-loadgen
  loadgen="${CARGO_TARGET_DIR:-target}/debug/sansuo-loadgen"
fi
"$loadgen" statements --smoke \
  --admin-url "postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable" \
  --redis-url "redis://127.0.0.1:$redis_port" "$@"
