#!/usr/bin/env bash
# Starts a real FlyteAdmin on 127.0.0.1 for registration tests:
#   PostgreSQL (system cluster via pg_ctlcluster), a moto S3 server (storage + DataProxy
#   signed URLs), `flyteadmin migrate run`, `migrate seed-projects flytesnacks`,
#   then `flyteadmin serve` in the background; waits for /healthcheck.
#
#   scripts/setup/flyteadmin.sh          # once: builds/installs what this needs
#   scripts/peers/flyteadmin-start.sh    # idempotent: nothing to do if already healthy
#   scripts/peers/flyteadmin-stop.sh
#
# Every (re)start from stopped is a FRESH instance: the database is dropped and recreated
# and the storage is empty (moto keeps objects in memory, so keeping the database would
# leave rows pointing at lost objects).
#
# Prints, on stdout, lines a caller can eval:
#   FLYTEADMIN_GRPC=127.0.0.1:8089  FLYTEADMIN_HTTP=http://127.0.0.1:8088
#   FLYTEADMIN_S3=http://127.0.0.1:9310  FLYTECTL_CONFIG=<run dir>/flytectl.yaml
#
# Env (defaults):
#   FLYTEKIT_TS_CACHE ($HOME/.cache/flytekit-ts)  run dir: $CACHE/run/flyteadmin
#   FLYTEADMIN_HTTP_PORT (8088) FLYTEADMIN_GRPC_PORT (8089) FLYTEADMIN_PROFILER_PORT (10254)
#   FLYTEADMIN_S3_PORT (9310)
#   FLYTEADMIN_STORAGE (s3 if moto is installed, else local)
#   FLYTEADMIN_PROJECTS ("flytesnacks")  projects to seed, space separated
#   FLYTEADMIN_START_TIMEOUT (120) seconds to wait for /healthcheck
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
ADMIN_BIN="$CACHE/bin/flyteadmin"
MOTO_BIN="$CACHE/venv-moto/bin/moto_server"
RUN="$CACHE/run/flyteadmin"

HTTP_PORT="${FLYTEADMIN_HTTP_PORT:-8088}"
GRPC_PORT="${FLYTEADMIN_GRPC_PORT:-8089}"
PROF_PORT="${FLYTEADMIN_PROFILER_PORT:-10254}"
S3_PORT="${FLYTEADMIN_S3_PORT:-9310}"
PROJECTS="${FLYTEADMIN_PROJECTS:-flytesnacks}"
TIMEOUT="${FLYTEADMIN_START_TIMEOUT:-120}"
if [ -n "${FLYTEADMIN_STORAGE:-}" ]; then
  STORAGE="$FLYTEADMIN_STORAGE"
elif [ -x "$MOTO_BIN" ]; then
  STORAGE=s3
else
  STORAGE=local
fi

# One database per run dir, so instances started from different caches never share one.
DB_NAME="flyteadmin_ts_$(printf '%s' "$RUN" | md5sum | cut -c1-8)"
DB_USER=flyteadmin_ts
DB_PASS=flyteadmin_ts
BUCKET=flyte
S3_KEY=flytekit-ts
S3_SECRET=flytekit-ts-secret

log() { printf '[flyteadmin-start +%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthy() { curl -fsS -m 2 "http://127.0.0.1:$HTTP_PORT/healthcheck" >/dev/null 2>&1; }

print_endpoints() {
  echo "FLYTEADMIN_GRPC=127.0.0.1:$GRPC_PORT"
  echo "FLYTEADMIN_HTTP=http://127.0.0.1:$HTTP_PORT"
  if [ "$(cat "$RUN/storage" 2>/dev/null || echo "$STORAGE")" = s3 ]; then
    echo "FLYTEADMIN_S3=http://127.0.0.1:$S3_PORT"
  fi
  echo "FLYTECTL_CONFIG=$RUN/flytectl.yaml"
}

[ -x "$ADMIN_BIN" ] || die "$ADMIN_BIN missing: run scripts/setup/flyteadmin.sh"
command -v curl >/dev/null || die "curl missing"

if alive "$RUN/flyteadmin.pid" && healthy; then
  log "already running (pid $(cat "$RUN/flyteadmin.pid"))"
  print_endpoints
  exit 0
fi

# Anything half-started from before goes first.
if [ -f "$RUN/flyteadmin.pid" ] || [ -f "$RUN/moto.pid" ]; then
  log "stale state found, stopping it first"
  bash "$(dirname "$0")/flyteadmin-stop.sh" --keep-postgres >&2 || true
fi

# Never touch anything if another server holds our ports (e.g. an instance started from
# another cache folder): its healthcheck would look like ours.
ports=("$HTTP_PORT" "$GRPC_PORT" "$PROF_PORT")
if [ "$STORAGE" = s3 ]; then ports+=("$S3_PORT"); fi
for p in "${ports[@]}"; do
  if port_in_use "$p"; then
    die "port $p on 127.0.0.1 is already in use by another process (not this run dir's flyteadmin); stop it or set FLYTEADMIN_{HTTP,GRPC,PROFILER,S3}_PORT"
  fi
done

mkdir -p "$RUN"
echo "$STORAGE" >"$RUN/storage"

# ---------------------------------------------------------------- PostgreSQL
command -v pg_lsclusters >/dev/null || die "postgresql not installed: run scripts/setup/flyteadmin.sh"
read -r PG_VER PG_CLUSTER PG_PORT PG_STATUS _ < <(pg_lsclusters -h | head -n1) ||
  die "no PostgreSQL cluster (pg_lsclusters is empty)"
if [ "$PG_STATUS" != online ]; then
  log "starting PostgreSQL $PG_VER/$PG_CLUSTER"
  pg_ctlcluster "$PG_VER" "$PG_CLUSTER" start
  touch "$RUN/postgres.started-by-us"
fi
for _ in $(seq 30); do
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL not ready on 127.0.0.1:$PG_PORT"

psql_admin() { runuser -u postgres -- env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }
psql_admin -d postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS';
  END IF;
END \$\$;
SQL
psql_admin -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null
psql_admin -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
log "database $DB_NAME recreated (PostgreSQL $PG_VER on 127.0.0.1:$PG_PORT)"

# ---------------------------------------------------------------- storage
if [ "$STORAGE" = s3 ]; then
  [ -x "$MOTO_BIN" ] || die "$MOTO_BIN missing: run scripts/setup/flyteadmin.sh (or FLYTEADMIN_STORAGE=local)"
  setsid "$MOTO_BIN" -H 127.0.0.1 -p "$S3_PORT" >"$RUN/moto.log" 2>&1 </dev/null &
  echo $! >"$RUN/moto.pid"
  for _ in $(seq 60); do
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$S3_PORT/moto-api/" 2>/dev/null && break
    alive "$RUN/moto.pid" || die "moto exited; see $RUN/moto.log"
    sleep 0.5
  done
  # create the bucket (moto does not check signatures)
  curl -fsS -m 10 -o /dev/null -X PUT "http://127.0.0.1:$S3_PORT/$BUCKET" ||
    die "could not create bucket $BUCKET on moto; see $RUN/moto.log"
  log "moto S3 server on 127.0.0.1:$S3_PORT (pid $(cat "$RUN/moto.pid")), bucket $BUCKET"
  STORAGE_YAML=$(cat <<EOF
storage:
  type: stow
  stow:
    kind: s3
    config:
      auth_type: accesskey
      access_key_id: $S3_KEY
      secret_key: $S3_SECRET
      region: us-east-1
      endpoint: http://127.0.0.1:$S3_PORT
      disable_ssl: "true"
  container: $BUCKET
  limits:
    maxDownloadMBs: 50
EOF
)
else
  rm -rf "$RUN/storage-local"
  mkdir -p "$RUN/storage-local"
  STORAGE_YAML=$(cat <<EOF
storage:
  type: stow
  stow:
    kind: local
    config:
      path: $RUN/storage-local
  container: $BUCKET
  limits:
    maxDownloadMBs: 50
EOF
)
fi

# ---------------------------------------------------------------- config files
cat >"$RUN/kubeconfig-dummy.yaml" <<'EOF'
# Never contacted unless an execution is created (nothing listens on 127.0.0.1:6443).
apiVersion: v1
kind: Config
clusters:
- name: none
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: none
  user:
    token: dummy
contexts:
- name: none
  context:
    cluster: none
    user: none
current-context: none
EOF

cat >"$RUN/flyteadmin.yaml" <<EOF
server:
  httpPort: $HTTP_PORT
  grpc:
    port: $GRPC_PORT
    serverReflection: true
  kube-config: $RUN/kubeconfig-dummy.yaml
  security:
    secure: false
    useAuth: false
    allowCors: true
    allowedOrigins: ["*"]
    allowedHeaders: ["Content-Type", "flyte-authorization"]
  dataProxy:
    upload:
      maxSize: 100Mi
      maxExpiresIn: 1h
      defaultFileNameLength: 20
    download:
      maxExpiresIn: 1h
flyteadmin:
  profilerPort: $PROF_PORT
  metricsScope: "flyte:"
  metadataStoragePrefix: ["metadata", "admin"]
database:
  postgres:
    host: 127.0.0.1
    port: $PG_PORT
    dbname: $DB_NAME
    username: $DB_USER
    password: $DB_PASS
    options: "sslmode=disable"
$STORAGE_YAML
task_resources:
  defaults:
    cpu: 500m
    memory: 500Mi
  limits:
    cpu: 0
    memory: 0
    gpu: 0
    ephemeralStorage: 0
logger:
  level: 4
  show-source: true
EOF

cat >"$RUN/flytectl.yaml" <<EOF
admin:
  endpoint: dns:///127.0.0.1:$GRPC_PORT
  insecure: true
logger:
  level: 1
EOF

# ---------------------------------------------------------------- migrate, seed, serve
ADMIN=("$ADMIN_BIN" --config "$RUN/flyteadmin.yaml")
log "migrate run"
"${ADMIN[@]}" migrate run >"$RUN/migrate.log" 2>&1 || { tail -n 30 "$RUN/migrate.log" >&2; die "migrate failed; see $RUN/migrate.log"; }
# shellcheck disable=SC2086
"${ADMIN[@]}" migrate seed-projects $PROJECTS >>"$RUN/migrate.log" 2>&1 ||
  { tail -n 30 "$RUN/migrate.log" >&2; die "seed-projects failed; see $RUN/migrate.log"; }
log "seeded projects: $PROJECTS"

setsid "${ADMIN[@]}" serve >"$RUN/flyteadmin.log" 2>&1 </dev/null &
echo $! >"$RUN/flyteadmin.pid"
deadline=$(( $(date +%s) + TIMEOUT ))
until alive "$RUN/flyteadmin.pid" && healthy; do
  if ! alive "$RUN/flyteadmin.pid"; then
    tail -n 30 "$RUN/flyteadmin.log" >&2
    die "flyteadmin serve exited; see $RUN/flyteadmin.log"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || die "no /healthcheck after ${TIMEOUT}s; see $RUN/flyteadmin.log"
  sleep 0.5
done
log "flyteadmin healthy (pid $(cat "$RUN/flyteadmin.pid"), storage $STORAGE); logs in $RUN"
print_endpoints
