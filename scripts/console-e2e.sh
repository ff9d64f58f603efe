#!/usr/bin/env bash
# The staff console end to end (issue 17): Playwright, driving Debian's
# chromium, against `sansuo serve --demo` on a free port.
#
#   scripts/console-e2e.sh                       # cargo build -p sansuo-server, then test
#   scripts/console-e2e.sh --binary PATH         # test this binary (builds nothing)
#   scripts/console-e2e.sh --check-dist          # also rebuild the console and fail
#                                                # if crates/console/dist drifts
#   scripts/console-e2e.sh --binary PATH -- tests/mediator.spec.js
#                                                # arguments after -- go to playwright
#
# Needs Node 20+ and npm (`npm ci` from the lockfile, no browser download),
# /usr/bin/chromium and a CJK font (both installed with apt-get if missing). The demo runs on
# SQLite in a temporary directory with the in-process queue: no PostgreSQL
# or Redis. Business time runs round the clock (`--round-the-clock`), so a
# run at night sees response-time targets pass like one in office hours. Screenshots: crates/console/web/test-results/screenshots/. The
# measurements are printed as lines starting with MEASURE.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
web=crates/console/web

log() { printf '[console-e2e] %s\n' "$*"; }

binary=""
check_dist=false
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --check-dist) check_dist=true; shift ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Chinese text in the screenshots (the console itself loads no web font).
[ -n "$(fc-list :lang=zh 2>/dev/null || true)" ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${CONSOLE_SKIP_NPM_CI:-}" = 1 ] && [ -d "$web/node_modules" ]; then
  log "npm ci skipped (CONSOLE_SKIP_NPM_CI=1)"
else
  log "npm ci"
  (cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

if $check_dist; then
  log "rebuilding the console and checking crates/console/dist for drift"
  (cd "$web" && npx vite build --logLevel warn)
  if ! git diff --exit-code --stat -- crates/console/dist \
    || [ -n "$(git ls-files --others --exclude-standard -- crates/console/dist)" ]; then
    echo "crates/console/dist differs from a fresh build: run (cd $web && npm ci && npx vite build) and commit" >&2
    exit 1
  fi
fi

if [ -z "$binary" ]; then
  log "cargo build -p sansuo-server"
  cargo build -q -p sansuo-server
  binary="${CARGO_TARGET_DIR:-$root/target}/debug/sansuo"
fi
# The demo starts in a temporary directory: a relative path (CI passes
# `target/debug/sansuo` when CARGO_TARGET_DIR is unset) must not follow it.
case "$binary" in /*) ;; *) binary="$root/$binary" ;; esac
[ -x "$binary" ] || { echo "no executable at $binary" >&2; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

log "starting the demo on 127.0.0.1:$port"
(
  cd "$work"
  # Only the variables the demo needs; none of the caller's DATABASE_URL or
  # REDIS_URL (the demo stays on SQLite with the in-process queue).
  exec env -u DATABASE_URL -u REDIS_URL \
    SANSUO_BIND="127.0.0.1:$port" \
    DATABASE_URL="sqlite://$work/demo.db?mode=rwc" \
    RUST_LOG=warn \
    "$binary" serve --demo --round-the-clock
) >"$work/demo.log" 2>&1 &
pid=$!

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/demo.log" >&2
    echo "the demo server stopped" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/demo.log" >&2; exit 1; }

log "playwright"
status=0
(cd "$web" && CONSOLE_BASE_URL="http://127.0.0.1:$port" npx playwright test "$@") || status=$?
if [ "$status" -ne 0 ]; then
  log "the demo's log:"
  tail -50 "$work/demo.log" >&2
fi
exit "$status"
