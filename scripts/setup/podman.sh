#!/usr/bin/env bash
# Make a working, offline-capable podman on this machine (root, Debian 12).
#
# - installs podman + runc with apt, only when `podman` is missing;
# - writes /etc/containers/containers.conf (runc, cgroupfs, no network, file
#   events, explicit ulimits), only when it is absent or different;
# - checks that `podman info` works.
#
# Idempotent: when everything is already in place it only runs `podman info`.
# See docs/internals/containers.md for why each setting is there.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
log() { printf '[podman.sh] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "not root and no sudo: cannot install podman"; exit 1
  fi
fi

# 1. packages ---------------------------------------------------------------
if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; then
  log "podman present: $(podman --version)"
else
  log "installing podman + runc with apt"
  $SUDO apt-get update -qq
  # Plain install (with Recommends), as seen working on these machines.
  $SUDO apt-get install -y -qq podman runc >/dev/null
  log "installed: $(podman --version)"
fi

# 2. containers.conf ----------------------------------------------------------
# The kernel here lacks what crun and podman's defaults want (cgroup v2
# delegation via systemd, journald, netavark networking, huge rlimits).
CONF=/etc/containers/containers.conf
WANT='# Written by flytekit-ts scripts/setup/podman.sh (offline test machines).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
'
if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$(printf '%s' "$WANT")" ]; then
  log "$CONF up to date"
else
  if [ -f "$CONF" ]; then
    log "backing up existing $CONF to $CONF.bak"
    $SUDO cp -f "$CONF" "$CONF.bak"
  fi
  log "writing $CONF"
  $SUDO mkdir -p /etc/containers
  printf '%s' "$WANT" | $SUDO tee "$CONF" >/dev/null
fi

# 3. check ---------------------------------------------------------------------
if out=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}} {{.Host.CgroupManager}}' 2>&1); then
  log "podman info ok (runtime/storage/cgroups: $out)"
else
  log "podman info failed:"
  printf '%s\n' "$out" >&2
  exit 1
fi
