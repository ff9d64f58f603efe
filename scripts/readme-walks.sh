#!/usr/bin/env bash
# Runs the README's curl walks (consultation, mediation, tip, Open311) exactly
# as a reader would paste them, several times in a row against ONE embedded
# demo, and fails on the first error answer or empty id. This is what keeps
# the README's promise that its walks work every time, not only on a fresh
# demo (issue #14 item 9).
#
#   scripts/readme-walks.sh            # builds the debug binary, 3 rounds
#   ROUNDS=5 SANSUO_BIN=target/release/sansuo scripts/readme-walks.sh
#
# Needs curl, jq and python3 (for a test photo); installs jq when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[walks] %s\n' "$*"; }
rounds=${ROUNDS:-3}

if ! command -v jq >/dev/null 2>&1; then
  log "installing jq"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
fi

bin=${SANSUO_BIN:-}
if [ -z "$bin" ]; then
  cargo build -q -p sansuo-server
  bin="${CARGO_TARGET_DIR:-target}/debug/sansuo"
fi
bin=$(realpath "$bin")

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ "${failed:-0}" = 1 ] || [ -n "${KEEP:-}" ]; then log "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && exec env SANSUO_BIND="127.0.0.1:$port" "$bin" serve --demo >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { failed=1; log "the demo did not start"; exit 1; }

# Every ```sh block of the walk sections, in order, with the reader's port
# swapped for ours. The blocks are one script: later ones use the shell
# variables of earlier ones, as the README says.
python3 - "$port" >"$work/walks.sh" <<'PY'
import re, sys
port = sys.argv[1]
text = open("README.md", encoding="utf-8").read()
sections = re.split(r"^## ", text, flags=re.M)
wanted = ("Walk a consultation", "Walk a mediation", "Walk a tip", "Open311", "Walk a case's records")
out = ["set -euo pipefail"]
for section in sections:
    if section.startswith(wanted):
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
            out.append(block.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
print("\n".join(out))
PY

# `photo.jpg is any JPEG`: a small real one.
python3 - "$work/photo.jpg" <<'PY'
import base64, sys
# 8x8 grey baseline JPEG.
jpeg = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////"
    "////////////////////////////////////////////wgALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAA"
    "AAAAAAAAA//aAAgBAQAAAAE//9k=")
open(sys.argv[1], "wb").write(jpeg)
PY

for round in $(seq 1 "$rounds"); do
  log "round $round of $rounds"
  if ! (cd "$work" && bash "$work/walks.sh" >"$work/round-$round.out" 2>&1); then
    failed=1
    log "round $round failed; its output:"
    cat "$work/round-$round.out"
    exit 1
  fi
  # An error answer anywhere in a walk fails it, even where the reader's
  # shell would carry on.
  if grep -q '^HTTP [45][0-9][0-9] ' "$work/round-$round.out"; then
    failed=1
    log "round $round printed an error answer:"
    cat "$work/round-$round.out"
    exit 1
  fi
done
log "all $rounds rounds of the README walks passed"
