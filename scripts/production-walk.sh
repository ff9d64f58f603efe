#!/usr/bin/env bash
# The README's production walk ("From an empty database to an answered
# consultation"), run as written against a FRESH PostgreSQL database (made
# on 127.0.0.1:5432 and dropped afterwards) and a fresh Redis key prefix,
# with WeChat played by sansuo-wechat-fake. Proves that a district starts
# from nothing without SQL or demo passwords (issue #14 item 1).
#
#   scripts/production-walk.sh
#
# Needs PostgreSQL and Redis on loopback (as the tests do), curl, jq,
# openssl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[production-walk] %s\n' "$*"; }

command -v jq >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
target=${CARGO_TARGET_DIR:-target}
cargo build -q -p sansuo-server -p sansuo-wechat-fake
bin_dir=$(realpath "$target/debug")

work=$(mktemp -d)
db="sansuo_walk_$(date +%s)_$$"
prefix="sansuo-walk-$$:"
fake_pid=
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
  # The walk starts `sansuo serve &` itself; it is the sansuo process
  # working in our directory.
  for pid in $(pgrep -x sansuo || true); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$work" ] && kill "$pid" 2>/dev/null
  done
  sleep 0.5
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$prefix*" 2>/dev/null | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
  if [ "${failed:-0}" = 1 ] || [ -n "${KEEP:-}" ]; then log "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# `sansuo` on PATH as the README calls it.
mkdir -p "$work/bin"
ln -s "$bin_dir/sansuo" "$work/bin/sansuo"
export PATH="$work/bin:$PATH"

psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null

# WeChat: the fake accepts one wx.login() code for our resident.
"$bin_dir/sansuo-wechat-fake" --accept walk-code=o-walk-resident >"$work/wechat.out" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^base_url ' "$work/wechat.out" 2>/dev/null && break; sleep 0.1; done
wechat_base=$(sed -n 's/^base_url //p' "$work/wechat.out")
[ -n "$wechat_base" ] || { failed=1; log "the fake WeChat did not start"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The first block's settings, for this machine.
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" REDIS_URL=redis://127.0.0.1:6379
export SANSUO_REDIS_PREFIX="$prefix" SANSUO_BIND="127.0.0.1:$port"
export SANSUO_JWT_SECRET=$(openssl rand -hex 32) SANSUO_TIP_KEY=$(openssl rand -hex 32)
export SANSUO_DATA_KEYS=k1:$(openssl rand -base64 32)
export SANSUO_RECEIPT_KEY=$(openssl rand -base64 32)
# Not in the README's block: lets this script show /metrics after the walk.
export SANSUO_METRICS_TOKEN=$(openssl rand -hex 32)
export SANSUO_WECHAT_APP_ID=wx-test-app SANSUO_WECHAT_APP_SECRET=test-app-secret SANSUO_WECHAT_BASE_URL="$wechat_base"
export WX_LOGIN_CODE=walk-code

# The second ```sh block of the section, as written, with our port.
python3 - "$port" >"$work/walk.sh" <<'PY'
import re, sys
port = sys.argv[1]
text = open("README.md", encoding="utf-8").read()
section = text.split("### From an empty database to an answered consultation", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
print("set -euo pipefail")
print(blocks[1].replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
PY

log "database $db, Redis prefix $prefix, WeChat $wechat_base"
if ! (cd "$work" && timeout 300 bash "$work/walk.sh" >"$work/walk.out" 2>&1); then
  failed=1
  log "the walk failed; its output:"
  cat "$work/walk.out"
  log "server log:"
  tail -n 40 "$work/sansuo.log" 2>/dev/null || true
  exit 1
fi
cat "$work/walk.out"
log "passed: from an empty database to a rated answer"
# What an operator's scraper sees after it: the walk's requests, offers,
# queue, outbox and pool (a selection; the full text has every series).
log "/metrics after the walk (a selection):"
curl -sf -H "Authorization: Bearer $SANSUO_METRICS_TOKEN" "http://127.0.0.1:$port/metrics" |
  grep -E '^sansuo_(offers_total|sla_breaches_total|notifications_total|queue_|outbox_|unrouted_cases|db_pool|calendar_days_left|http_request_duration_seconds_count\{method="(POST|GET)",route="/api/v1/(consultations|auth/staff)")' |
  head -n 40 || log "(metrics not readable)"
