#!/usr/bin/env bash
# Stops the moto S3 server that scripts/peers/s3-start.sh started (and only that one, by the
# pid it recorded). Idempotent: does nothing when it is not running.
# Env: S3_RUN_DIR, as for s3-start.sh.
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
RUN="${S3_RUN_DIR:-$CACHE/run/s3}"

log() { printf '[s3-stop] %s\n' "$*" >&2; }

if [ -f "$RUN/moto.pid" ]; then
  pid="$(cat "$RUN/moto.pid")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping moto (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "moto did not stop on TERM, killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
fi
rm -f "$RUN/moto.pid" "$RUN/endpoint"
log "stopped"
