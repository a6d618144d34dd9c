#!/usr/bin/env bash
# Builds a real FlyteAdmin from the Go module proxy into the cache folder, installs
# PostgreSQL if missing, and installs a local S3 server (moto) in its own venv.
#
#   scripts/setup/flyteadmin.sh            # idempotent: skips whatever is already there
#
# Which flyteadmin: the Go module proxy reachable here does not serve
# github.com/flyteorg/flyte/flyteadmin at v1.14.x-v1.16.8 (403 "This module version is not
# available"); the newest version whose zip it serves is v1.13.0. So this builds the
# flyteadmin v1.13.0 sources against the v1.16.8 flyteidl, flytestdlib, flyteplugins and
# flytepropeller modules (so the IDL and the workflow compiler are those of v1.16.8), with a
# three-line source patch (see patch_sources) so that it compiles. Details and evidence:
# docs/internals/flyteadmin.md.
#
# Outputs (outside the repo; never commit them):
#   $CACHE/bin/flyteadmin             the flyteadmin binary
#   $CACHE/src/flyteadmin-wrapper/    the wrapper module it was built from (+ patched sources)
#   $CACHE/venv-moto/bin/moto_server  local S3 server used as flyteadmin's storage
# where CACHE=${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}.
#
# Env:
#   FLYTEADMIN_SKIP_S3=1   do not install moto (the start script then uses local storage)
#   GOPROXY                first entry is used to fetch the flyteadmin zip (default proxy.golang.org)
set -euo pipefail

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
BIN_DIR="$CACHE/bin"
SRC_DIR="$CACHE/src/flyteadmin-wrapper"
ADMIN_BIN="$BIN_DIR/flyteadmin"
MOTO_VENV="$CACHE/venv-moto"

ADMIN_VERSION="v1.13.0"
# sha256 of github.com/flyteorg/flyte/flyteadmin/@v/v1.13.0.zip as served by the proxy.
ADMIN_ZIP_SHA256="8186194fd1440352129db572f5782f90f2c828d99e2f378ba84197b7cf479e3b"
LIBS_VERSION="v1.16.8"
CRON_FORK="github.com/unionai/cron/v3 v3.0.2-0.20220915080349-5790c370e63a"
# moto[server] would pull every AWS service's deps (~320 MB); S3 + the Flask server is enough.
MOTO_PKGS=("moto[s3]==5.2.5" "Flask==3.1.3" "flask-cors==6.0.5")
MOTO_SPEC="${MOTO_PKGS[*]}"

log() { printf '[setup/flyteadmin] %s\n' "$*" >&2; }

mkdir -p "$BIN_DIR"

# ---------------------------------------------------------------- PostgreSQL (apt)
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql via apt"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends postgresql
else
  log "postgresql already installed"
fi

# ---------------------------------------------------------------- flyteadmin (Go)
patch_sources() {
  # flytepropeller v1.16.8's compiler returns *core.Identifier ids (TaskIdentifier,
  # LaunchPlanRefIdentifier); flyteadmin v1.13.0 passes them on as core.Identifier values.
  local f="$1/pkg/manager/impl/workflow_manager.go"
  sed -i \
    -e 's/util\.GetTask(ctx, w\.db, taskID)/util.GetTask(ctx, w.db, *taskID)/' \
    -e 's/util\.GetLaunchPlanModel(ctx, w\.db, launchPlanID)/util.GetLaunchPlanModel(ctx, w.db, *launchPlanID)/' \
    -e 's/NewLaunchPlanInterfaceProvider(launchPlanModel, launchPlanID)/NewLaunchPlanInterfaceProvider(launchPlanModel, *launchPlanID)/' \
    "$f"
  local n
  n=$(grep -c -e '\*taskID)' -e '\*launchPlanID)' "$f" || true)
  if [ "$n" != "3" ]; then
    log "patching $f failed (expected 3 patched lines, found $n)"
    exit 1
  fi
}

if [ -x "$ADMIN_BIN" ] && "$ADMIN_BIN" --help >/dev/null 2>&1; then
  log "flyteadmin already built: $ADMIN_BIN"
else
  command -v go >/dev/null 2>&1 || { log "go not found on PATH"; exit 1; }
  command -v curl >/dev/null 2>&1 || { log "curl not found on PATH"; exit 1; }
  log "building flyteadmin $ADMIN_VERSION against flyte libs $LIBS_VERSION (cold: many minutes on 2 cores)"
  mkdir -p "$SRC_DIR/dl"

  # 1. the flyteadmin module zip (its .mod/.info are not served, so `go` cannot fetch it itself)
  proxy="$(go env GOPROXY)"
  proxy="${proxy%%[,|]*}"
  case "$proxy" in http*://*) ;; *) proxy="https://proxy.golang.org" ;; esac
  zip="$SRC_DIR/dl/flyteadmin-$ADMIN_VERSION.zip"
  if [ ! -f "$zip" ] || ! echo "$ADMIN_ZIP_SHA256  $zip" | sha256sum -c --status; then
    url="$proxy/github.com/flyteorg/flyte/flyteadmin/@v/$ADMIN_VERSION.zip"
    log "downloading $url"
    curl -fsSL --retry 3 -o "$zip.tmp" "$url"
    mv -f "$zip.tmp" "$zip"
  fi
  echo "$ADMIN_ZIP_SHA256  $zip" | sha256sum -c --status || {
    log "checksum mismatch for $zip"
    exit 1
  }

  # 2. extract + patch
  rm -rf "$SRC_DIR/flyteadmin" "$SRC_DIR/x"
  mkdir -p "$SRC_DIR/x"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$zip" -d "$SRC_DIR/x"
  else
    python3 -m zipfile -e "$zip" "$SRC_DIR/x"
  fi
  mv "$SRC_DIR/x/github.com/flyteorg/flyte/flyteadmin@$ADMIN_VERSION" "$SRC_DIR/flyteadmin"
  rm -rf "$SRC_DIR/x"
  chmod -R u+w "$SRC_DIR/flyteadmin"
  patch_sources "$SRC_DIR/flyteadmin"

  # 3. wrapper module
  cat >"$SRC_DIR/go.mod" <<EOF
module example.com/flyteadmin-wrapper

go 1.26.0

require github.com/flyteorg/flyte/flyteadmin v0.0.0-00010101000000-000000000000

replace (
	github.com/flyteorg/flyte/flyteadmin => ./flyteadmin
	github.com/flyteorg/flyte/flyteidl => github.com/flyteorg/flyte/flyteidl $LIBS_VERSION
	github.com/flyteorg/flyte/flyteplugins => github.com/flyteorg/flyte/flyteplugins $LIBS_VERSION
	github.com/flyteorg/flyte/flytepropeller => github.com/flyteorg/flyte/flytepropeller $LIBS_VERSION
	github.com/flyteorg/flyte/flytestdlib => github.com/flyteorg/flyte/flytestdlib $LIBS_VERSION
	github.com/robfig/cron/v3 => $CRON_FORK
)
EOF
  # Upstream flyteadmin/cmd/main.go minus the glog flag line.
  cat >"$SRC_DIR/main.go" <<'EOF'
package main

import (
	"github.com/flyteorg/flyte/flyteadmin/cmd/entrypoints"
	"github.com/flyteorg/flyte/flyteadmin/plugins"
)

func main() {
	if err := entrypoints.Execute(plugins.NewRegistry()); err != nil {
		panic(err)
	}
}
EOF
  rm -f "$SRC_DIR/go.sum"

  # 4. build
  (
    cd "$SRC_DIR"
    export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=mod"
    log "go mod tidy"
    go mod tidy
    log "go build"
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/flyteorg/flyte/flytestdlib/version.Version=$ADMIN_VERSION-libs-$LIBS_VERSION" \
      -o "$ADMIN_BIN.tmp" .
  )
  mv -f "$ADMIN_BIN.tmp" "$ADMIN_BIN"
  "$ADMIN_BIN" --help >/dev/null
  log "built $ADMIN_BIN"
fi

# ---------------------------------------------------------------- moto S3 server (PyPI)
if [ "${FLYTEADMIN_SKIP_S3:-0}" = "1" ]; then
  log "FLYTEADMIN_SKIP_S3=1: not installing moto"
elif [ -x "$MOTO_VENV/bin/moto_server" ] && [ "$(cat "$MOTO_VENV/.flytekit-ts-spec" 2>/dev/null)" = "$MOTO_SPEC" ] &&
  "$MOTO_VENV/bin/python" -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1; then
  log "moto server already installed: $MOTO_VENV/bin/moto_server"
else
  PY="${PYTHON:-python3}"
  log "installing $MOTO_SPEC into $MOTO_VENV"
  rm -rf "$MOTO_VENV"
  "$PY" -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/python" -m pip install -q --disable-pip-version-check "${MOTO_PKGS[@]}"
  "$MOTO_VENV/bin/python" -c 'import moto.server, flask, flask_cors'
  echo "$MOTO_SPEC" >"$MOTO_VENV/.flytekit-ts-spec"
  log "installed $MOTO_VENV/bin/moto_server"
fi

log "done"
