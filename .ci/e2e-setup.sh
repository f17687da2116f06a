#!/usr/bin/env bash
# Install what tests/e2e needs, from the repo's own files. Idempotent: a second run is a no-op
# (about a second). Run as root (or with passwordless sudo) from anywhere:
#   bash .ci/e2e-setup.sh
#
# * Prometheus: Debian package `prometheus` (binary only; its system service is NOT started,
#   the tests run their own loopback-only process).
# * Arize Phoenix: own venv .venvs/phoenix from tests/e2e/requirements-phoenix.txt (fully
#   pinned), byte-compiled up front (this env sets PYTHONDONTWRITEBYTECODE=1, without .pyc files
#   Phoenix needs ~2x longer to start).
# The OTel Prometheus exporter for the tests' metrics lives in the project venv (pyproject).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="$REPO_ROOT/tests/e2e/requirements-phoenix.txt"
VENV="$REPO_ROOT/.venvs/phoenix"
PY_VERSION="${SEMTRACE_PHOENIX_PY_VERSION:-3.11}"
STAMP="$VENV/.e2e-setup-stamp"
export UV_PYTHON_DOWNLOADS=never  # no internet but package registries: use a local Python

log() { printf '[e2e-setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
start=$SECONDS

# --- Prometheus ---------------------------------------------------------------------------
if command -v prometheus >/dev/null 2>&1; then
    log "prometheus present: $(prometheus --version 2>&1 | head -1)"
else
    log "installing Debian package prometheus"
    # Stop dpkg from starting the packaged service (it would listen on *:9090): policy-rc.d
    # exit 101 = "action forbidden". Only add one if none exists, and remove only ours.
    POLICY=/usr/sbin/policy-rc.d
    OURS=0
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
        $SUDO chmod 755 "$POLICY"
        OURS=1
    fi
    trap '[ "$OURS" = 1 ] && $SUDO rm -f "$POLICY"' EXIT
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
    if [ "$OURS" = 1 ]; then $SUDO rm -f "$POLICY"; OURS=0; fi
    # In case an init system enabled it anyway: never run the system instance.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    log "installed: $(prometheus --version 2>&1 | head -1)"
fi

# --- Arize Phoenix venv -------------------------------------------------------------------
command -v uv >/dev/null 2>&1 || { log "ERROR: uv not found on PATH"; exit 1; }
want="$(sha256sum "$REQS" | cut -d' ' -f1) py$PY_VERSION"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
    && "$VENV/bin/python" -c "import importlib.metadata as m; m.version('arize-phoenix')" \
        >/dev/null 2>&1 </dev/null; then
    log "Phoenix venv up to date: $VENV"
else
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV (Python $PY_VERSION)"
        uv venv --clear --python "$PY_VERSION" "$VENV"
    fi
    log "installing $REQS"
    # sync = exactly the pinned set (removes strays); the file pins every transitive dep.
    uv pip sync --python "$VENV/bin/python" "$REQS"
    log "byte-compiling the Phoenix venv"
    site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$VENV/bin/python" -m compileall -q -j 0 "$site" >/dev/null || true
    "$VENV/bin/python" -c "import importlib.metadata as m; print('[e2e-setup] arize-phoenix', m.version('arize-phoenix'))"
    echo "$want" >"$STAMP"
fi

# --- project venv: the OTel Prometheus exporter (declared in pyproject, installed by uv sync)
if [ -x "$REPO_ROOT/.venv/bin/python" ] \
    && ! "$REPO_ROOT/.venv/bin/python" -c "import opentelemetry.exporter.prometheus" 2>/dev/null; then
    log "WARNING: opentelemetry-exporter-prometheus is missing from $REPO_ROOT/.venv (uv sync?)"
fi

log "done in $((SECONDS - start))s"
