#!/usr/bin/env bash
# Starts a moto S3 server on 127.0.0.1 on a free port, in the background, for the storage and
# fast-registration tests. Idempotent: when the server this script started is still answering,
# it only prints its endpoint again.
#
#   scripts/setup/s3.sh          # once: installs moto into $CACHE/venv-moto
#   scripts/peers/s3-start.sh    # prints the endpoint, e.g. http://127.0.0.1:40123
#   scripts/peers/s3-stop.sh
#
# Run dir: $CACHE/run/s3 (CACHE=${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}) holds
#   endpoint   the endpoint URL (one line)      moto.pid   the server's pid
#   moto.log   the server's log
# Env: S3_PORT (free port) to choose the port; S3_START_TIMEOUT (60) seconds to wait;
#   S3_RUN_DIR ($CACHE/run/s3) another run dir, for a private server (the tests use one each).
# moto accepts any credentials and keeps objects in memory: a restart starts empty.
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
MOTO_VENV="$CACHE/venv-moto"
RUN="${S3_RUN_DIR:-$CACHE/run/s3}"
TIMEOUT="${S3_START_TIMEOUT:-60}"

log() { printf '[s3-start] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

alive() { [ -f "$RUN/moto.pid" ] && kill -0 "$(cat "$RUN/moto.pid")" 2>/dev/null; }
answers() {
  "$MOTO_VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2).read()
PY
}

[ -x "$MOTO_VENV/bin/moto_server" ] || die "$MOTO_VENV/bin/moto_server missing: run scripts/setup/s3.sh"

# One starter at a time per run dir (two test workers may call this together).
mkdir -p "$RUN"
if command -v flock >/dev/null; then
  exec 9>"$RUN/.lock"
  flock -w "$TIMEOUT" 9 || die "another s3-start.sh holds $RUN/.lock"
fi

if alive && [ -f "$RUN/endpoint" ] && answers "$(cat "$RUN/endpoint")"; then
  log "already running (pid $(cat "$RUN/moto.pid"))"
  cat "$RUN/endpoint"
  exit 0
fi
if [ -f "$RUN/moto.pid" ]; then
  log "stale state found, stopping it first"
  bash "$(dirname "$0")/s3-stop.sh" || true
fi

PORT="${S3_PORT:-}"
if [ -z "$PORT" ]; then
  PORT="$("$MOTO_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
fi
ENDPOINT="http://127.0.0.1:$PORT"

setsid "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$RUN/moto.log" 2>&1 </dev/null &
echo $! >"$RUN/moto.pid"
deadline=$(( $(date +%s) + TIMEOUT ))
until answers "$ENDPOINT"; do
  alive || { tail -n 20 "$RUN/moto.log" >&2; die "moto exited; see $RUN/moto.log"; }
  [ "$(date +%s)" -lt "$deadline" ] || die "moto did not answer on $ENDPOINT after ${TIMEOUT}s; see $RUN/moto.log"
  sleep 0.2
done
echo "$ENDPOINT" >"$RUN/endpoint"
log "moto S3 server on $ENDPOINT (pid $(cat "$RUN/moto.pid")), log $RUN/moto.log"
echo "$ENDPOINT"
