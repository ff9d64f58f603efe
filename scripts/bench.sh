#!/usr/bin/env bash
# The benchmark of issue 7, in one command (see BENCHMARKS.md):
#
#   scripts/bench.sh                 # everything: release build, ~8 minutes on 2 cores
#   scripts/bench.sh --smoke         # every scenario for ~1 s against the debug build
#   scripts/bench.sh board --duration 30 --concurrency 32   # one scenario, other settings
#   scripts/bench.sh burst --burst 20000 --burst-concurrency 64
#
# Scenarios: references, board, intake, route, mixed, burst, statements, size
# (all by default); submissions are the issue 16 mix (60 % consultations,
# 25 % mediations, 15 % tips).
#
# Arguments are passed to `sansuo-loadgen` (`--help` lists them). It needs
# PostgreSQL on 127.0.0.1:5432 (trust auth for `postgres`) and Redis on
# 127.0.0.1:6379, as the tests do (`.ci/run` starts both), and pgbench,
# installed here if missing. Results: bench-results/<UTC timestamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bench] %s\n' "$*"; }

profile=release
for arg in "$@"; do
  [ "$arg" = "--smoke" ] && profile=debug
done

pg_isready -h 127.0.0.1 -p 5432 -q || {
  log "PostgreSQL does not answer on 127.0.0.1:5432 (bash .ci/run starts it)"
  exit 1
}
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || {
  log "Redis does not answer on 127.0.0.1:6379 (bash .ci/run starts it)"
  exit 1
}
if ! command -v pgbench >/dev/null 2>&1; then
  # Debian ships pgbench with the server package; postgresql-contrib pulls it in.
  log "installing pgbench (postgresql-contrib)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-contrib >/dev/null
fi
command -v pgbench >/dev/null 2>&1 || log "pgbench is still missing: the insert reference will be skipped"

if [ "$profile" = release ]; then
  log "building the release binaries"
  cargo build --release -p sansuo-server -p sansuo-loadgen
else
  log "building the debug binaries"
  cargo build -p sansuo-server -p sansuo-loadgen
fi

log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews absolute figures; the ratios less so)"
exec "${CARGO_TARGET_DIR:-target}/$profile/sansuo-loadgen" "$@"
