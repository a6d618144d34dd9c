#!/usr/bin/env bash
# Installs the S3-compatible test server (moto, from PyPI) into its own venv in the cache:
#   $CACHE/venv-moto/bin/moto_server      where CACHE=${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}
#
#   scripts/setup/s3.sh          # idempotent: returns at once when moto is already there
#
# The same venv is shared with scripts/setup/flyteadmin.sh (FlyteAdmin's storage).
# Env: PYTHON (python3) the interpreter the venv is made from.
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
MOTO_VENV="$CACHE/venv-moto"
MOTO_SPEC="moto[server]==5.2.5"

log() { printf '[setup/s3] %s\n' "$*" >&2; }

installed() { [ -x "$MOTO_VENV/bin/moto_server" ] && "$MOTO_VENV/bin/python" -c 'import moto.server, flask' >/dev/null 2>&1; }

if installed; then
  log "moto server already installed: $MOTO_VENV/bin/moto_server"
  exit 0
fi

# One installer at a time (test files run in parallel and each calls this).
mkdir -p "$CACHE"
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.venv-moto.lock"
  flock -w 600 9 || { log "ERROR: another install holds $CACHE/.venv-moto.lock"; exit 1; }
  if installed; then
    log "moto server installed meanwhile: $MOTO_VENV/bin/moto_server"
    exit 0
  fi
fi

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { log "ERROR: $PY not found (install python3 and python3-venv)"; exit 1; }
log "installing $MOTO_SPEC into $MOTO_VENV"
rm -rf "$MOTO_VENV"
"$PY" -m venv "$MOTO_VENV"
"$MOTO_VENV/bin/python" -m pip install -q --disable-pip-version-check "$MOTO_SPEC"
"$MOTO_VENV/bin/python" -c 'import moto.server, flask'
log "installed $MOTO_VENV/bin/moto_server"
