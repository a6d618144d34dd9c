#!/usr/bin/env bash
# Stops what scripts/peers/flyteadmin-start.sh started: flyteadmin serve, the moto S3
# server, and the PostgreSQL cluster if (and only if) the start script had to start it.
#
#   scripts/peers/flyteadmin-stop.sh [--keep-postgres]
#
# Idempotent: does nothing when nothing is running.
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
RUN="$CACHE/run/flyteadmin"
KEEP_PG=0
[ "${1:-}" = "--keep-postgres" ] && KEEP_PG=1

log() { printf '[flyteadmin-stop] %s\n' "$*" >&2; }

stop_pidfile() {
  local name="$1" f="$RUN/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop on TERM, killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

stop_pidfile flyteadmin
stop_pidfile moto

if [ "$KEEP_PG" = 0 ] && [ -f "$RUN/postgres.started-by-us" ]; then
  if command -v pg_lsclusters >/dev/null; then
    read -r PG_VER PG_CLUSTER _ PG_STATUS _ < <(pg_lsclusters -h | head -n1) || true
    if [ "${PG_STATUS:-}" = online ]; then
      log "stopping PostgreSQL $PG_VER/$PG_CLUSTER (started by flyteadmin-start.sh)"
      pg_ctlcluster "$PG_VER" "$PG_CLUSTER" stop || true
    fi
  fi
  rm -f "$RUN/postgres.started-by-us"
fi
log "stopped"
