#!/usr/bin/env bash
# Installs every real peer the tests run against into the cache folder
#   ${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}
# Each step is idempotent and returns quickly when its peer is already built.
# Add later peers (flyteadmin, S3 server, ...) as further steps here.
# See docs/internals/peers.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/flytectl.sh"
bash "$here/flytekit.sh"
bash "$here/podman.sh"
bash "$here/base-images.sh"
bash "$here/s3.sh"
bash "$here/flyteadmin.sh"
