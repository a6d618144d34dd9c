#!/usr/bin/env bash
# Builds flytectl for Flyte v1.16.8 from the Go module proxy into the peer cache:
#   ${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}/bin/flytectl
# Idempotent: if the binary is there, was built from the same pins and
# `flytectl --help` works, nothing is done.
#
# `go install github.com/flyteorg/flyte/flytectl@...` cannot work (its go.mod has
# replace directives), so a small wrapper module requires the flytectl module and
# repeats the replaces, pointing them at the sibling modules' v1.16.8 tags.
#
# The flytectl module itself: the v1.16.8 commit (51877f899c9f) is not served by the
# module proxy these machines use (403 "This module version is not available"), so the
# default is the tag flytectl/v0.9.8 (4399ba89, an ancestor of v1.16.8), built against
# flyteidl/flytestdlib/flytepropeller/flyteplugins v1.16.8. `compile` therefore runs the
# v1.16.8 propeller compiler; the flytectl code differs from v1.16.8 only in `register`
# (pod-template hydration in task-node overrides, a NotFound check). Override with
# FLYTEKIT_TS_FLYTECTL_MODULE=51877f899c9f95e0cb5efe90444eb0c6c6ea48a9 where the proxy
# serves that commit. See docs/internals/peers.md.
set -euo pipefail

FLYTE_VERSION="v1.16.8"   # sibling modules (flyteidl, flytestdlib, flytepropeller, flyteplugins)
FLYTECTL_MODULE="${FLYTEKIT_TS_FLYTECTL_MODULE:-v0.9.8}"
STAMP="flytectl ${FLYTECTL_MODULE} + flyte libs ${FLYTE_VERSION}"

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
BIN_DIR="$CACHE/bin"
BIN="$BIN_DIR/flytectl"
STAMP_FILE="$BIN_DIR/flytectl.version"
SRC="$CACHE/src/flytectl-wrapper"

log() { echo "[flytectl] $*"; }

is_ready() {
  [[ -x "$BIN" && -f "$STAMP_FILE" ]] || return 1
  [[ "$(cat "$STAMP_FILE")" == "$STAMP" ]] || return 1
  "$BIN" --help >/dev/null 2>&1
}

if is_ready; then
  log "ok: $BIN ($STAMP, cached)"
  exit 0
fi

mkdir -p "$BIN_DIR" "$CACHE/src"

# Serialise concurrent runs (e.g. two test jobs on one machine).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/src/.flytectl.lock"
  flock 9
  if is_ready; then
    log "ok: $BIN ($STAMP, built by a concurrent run)"
    exit 0
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  log "error: 'go' not found on PATH (Go >= 1.26.0 is needed to build flytectl ${FLYTE_VERSION})" >&2
  exit 1
fi

log "building ${STAMP} with $(go version | awk '{print $3}') into $BIN"
start=$(date +%s)

rm -rf "$SRC"
mkdir -p "$SRC"
cd "$SRC"

cat >go.mod <<EOF
module example.com/flytekit-ts/flytectl-wrapper

go 1.26.0

replace (
	github.com/flyteorg/flyte/flyteidl => github.com/flyteorg/flyte/flyteidl ${FLYTE_VERSION}
	github.com/flyteorg/flyte/flyteplugins => github.com/flyteorg/flyte/flyteplugins ${FLYTE_VERSION}
	github.com/flyteorg/flyte/flytepropeller => github.com/flyteorg/flyte/flytepropeller ${FLYTE_VERSION}
	github.com/flyteorg/flyte/flytestdlib => github.com/flyteorg/flyte/flytestdlib ${FLYTE_VERSION}
)
EOF

# Copy of upstream flytectl/main.go (a main package cannot be imported).
cat >main.go <<'EOF'
package main

import (
	"context"
	"os"

	"github.com/flyteorg/flyte/flytectl/cmd"
	"github.com/flyteorg/flyte/flytestdlib/logger"
)

func main() {
	if err := cmd.ExecuteCmd(); err != nil {
		logger.Error(context.TODO(), err)
		os.Exit(1)
	}
}
EOF

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export CGO_ENABLED=0

# go's own output (hundreds of "go: downloading" lines) goes to a log file.
BUILD_LOG="$CACHE/src/flytectl-build.log"
: >"$BUILD_LOG"
run() {
  if ! "$@" >>"$BUILD_LOG" 2>&1; then
    log "error: '$*' failed; last lines of $BUILD_LOG:" >&2
    tail -n 30 "$BUILD_LOG" >&2
    exit 1
  fi
}

log "resolving modules (go get + go mod tidy; log: $BUILD_LOG)"
run go get "github.com/flyteorg/flyte/flytectl@${FLYTECTL_MODULE}"
run go mod tidy

log "compiling (CGO_ENABLED=0, -trimpath)"
run go build -trimpath \
  -ldflags "-s -w -X github.com/flyteorg/flyte/flytestdlib/version.Version=flytectl-${FLYTECTL_MODULE:0:12}+flyte-${FLYTE_VERSION}" \
  -o "$BIN.tmp" .
mv -f "$BIN.tmp" "$BIN"
echo "$STAMP" >"$STAMP_FILE"

if ! "$BIN" --help >/dev/null 2>&1; then
  log "error: built $BIN but 'flytectl --help' fails" >&2
  exit 1
fi

log "ok: $BIN built in $(($(date +%s) - start)) s"
