#!/usr/bin/env bash
# Build the offline base images that the tests use instead of registry images.
#
#   localhost/flytekit-ts/node-base:20          host `node` + its shared libs + busybox
#   localhost/flytekit-ts/python-flytekit:3.11  Debian 12 minbase + python3 + venv with
#                                              flytekit (pyflyte-execute), pyarrow, pandas
#
# Each image is built only when it is missing (`podman image exists`) or was
# built from other inputs (its org.flytekit-ts.build-key label differs: another
# node binary, other pins, a newer recipe). Otherwise this takes well under 1 s.
# Large intermediates (rootfs tars, the debootstrap folder, downloaded wheels)
# are cached under ${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}/base-images,
# never in the repository.
#
# Usage: scripts/setup/base-images.sh [node|python]...   (default: both)
#   FLYTEKIT_TS_REBUILD=1   rebuild even if the image exists (cache is reused)
#   FLYTEKIT_TS_CACHE=DIR   cache folder
# Needs a working podman: run scripts/setup/podman.sh first.
# See docs/internals/containers.md.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
log() { printf '[base-images.sh %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

NODE_IMAGE=localhost/flytekit-ts/node-base:20
PY_IMAGE=localhost/flytekit-ts/python-flytekit:3.11
MARKER_VAR=FLYTEKIT_TS_IMAGE_MARKER
LABEL_KEY=org.flytekit-ts.base-image
# Label holding what an image was built from (node version, pins, recipe). An
# image whose label differs from what this script would build now is rebuilt.
BUILD_KEY_LABEL=org.flytekit-ts.build-key
# Bump when the way an image is assembled changes, to rebuild existing images.
RECIPE=1

# Python image pins. flytekit: newest 1.16.x on PyPI when this was written.
FLYTEKIT_VERSION=1.16.31
PY_PINS=(
  "flytekit==${FLYTEKIT_VERSION}"
  "pyarrow==26.0.1"
  "pandas==2.3.3"
)
# The full set those pins resolved to (pip freeze in the image, 2026-11; the same
# set as the host peer venv of scripts/setup/flytekit.sh), used as pip
# constraints so that a rebuild gets the same packages. To move to newer
# versions: change the pins above, empty this list, build, and paste
# $CACHE/python-flytekit.freeze.txt back here.
PY_CONSTRAINTS="
adlfs==2026.8.0 aiobotocore==3.10.0 aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aioitertools==0.13.0
aiosignal==1.4.0 attrs==26.1.0 azure-core==1.41.0 azure-identity==1.27.0 azure-storage-blob==12.31.1
backports.tarfile==1.2.0 botocore==1.43.117 cachetools==8.0.1 certifi==2026.10.18 cffi==2.1.1
charset-normalizer==3.5.2 click==8.5.1 cloudpickle==3.1.2 croniter==7.0.0 cryptography==50.0.2
dataclasses-json==0.5.9 decorator==5.3.1 diskcache==5.6.3 docker==7.2.0 docstring_parser==0.18.0
flyteidl==1.16.8 flytekit==1.16.31 frozenlist==1.8.0 fsspec==2026.9.0 gcsfs==2026.10.1
google-api-core==2.44.0 google-auth==2.62.2 google-auth-oauthlib==1.5.0 google-cloud-core==2.8.0 google-cloud-storage==3.17.1
google-cloud-storage-control==1.17.0 google-crc32c==1.9.0 google-resumable-media==2.11.0 googleapis-common-protos==1.76.0 grpc-google-iam-v1==0.14.6
grpcio==1.85.1 grpcio-status==1.85.1 idna==3.20 importlib_metadata==10.2.0 isodate==0.7.2
jaraco.classes==3.4.0 jaraco.context==6.1.2 jaraco.functools==4.6.0 jeepney==0.9.0 jmespath==1.1.0
joblib==1.6.0 jsonlines==4.0.0 jsonpickle==4.1.4 keyring==25.7.0 lazy-importer==0.1.0
markdown-it-py==4.3.0 marshmallow==3.26.2 marshmallow-enum==1.5.1 marshmallow-jsonschema==0.16.0 mashumaro==3.23
mdurl==0.1.2 more-itertools==11.2.1 msal==1.39.0 msal-extensions==1.3.1 msgpack==1.2.4
multidict==7.2.1 mypy_extensions==1.2.0 numpy==2.4.6 oauthlib==4.0.1 opentelemetry-api==1.45.2
packaging==26.3 pandas==2.3.3 propcache==0.5.4 proto-plus==1.29.0 protobuf==7.36.2
protoc-gen-openapiv2==0.0.1 pyarrow==26.0.1 pyasn1==0.6.5 pyasn1_modules==0.4.2 pycparser==3.12
Pygments==2.21.0 PyJWT==2.15.1 python-dateutil==2.9.0.post0 python-json-logger==4.2.0 pytimeparse==1.1.10 pytz==2026.6
PyYAML==6.0.3 requests==2.34.2 requests-oauthlib==2.0.0 rich==15.0.0 rich-click==1.9.9
s3fs==2026.9.0 SecretStorage==3.5.0 six==1.17.0 statsd==4.0.1 typing-inspect==0.9.0
typing_extensions==4.16.0 tzdata==2026.6 urllib3==2.8.0 wrapt==2.5.2 yarl==1.25.1
zipp==4.1.2
"
DEBIAN_SUITE=bookworm

CACHE_ROOT=${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}
CACHE=$CACHE_ROOT/base-images
REBUILD=${FLYTEKIT_TS_REBUILD:-0}
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

command -v podman >/dev/null 2>&1 || die "podman not found: run scripts/setup/podman.sh"
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, rootful podman)"
mkdir -p "$CACHE"
# One build at a time per cache folder (CI and a developer, two test runs...).
exec 9>"$CACHE/.lock"
flock 9

NODE_CHANGES=(
  --change "ENV PATH=$STD_PATH"
  --change "ENV $MARKER_VAR=$NODE_IMAGE"
  --change "LABEL $LABEL_KEY=$NODE_IMAGE"
  --change "WORKDIR /root"
  --change 'CMD ["node"]'
)
PY_CHANGES=(
  --change "ENV PATH=/opt/venv/bin:$STD_PATH"
  --change "ENV VIRTUAL_ENV=/opt/venv"
  --change "ENV LANG=C.UTF-8"
  --change "ENV $MARKER_VAR=$PY_IMAGE"
  --change "LABEL $LABEL_KEY=$PY_IMAGE"
  --change "WORKDIR /root"
  --change 'CMD ["python3"]'
)

# podman import, then drop the image that the tag named before (if any and
# unused), so rebuilds leave no dangling <none> images behind.
import_rootfs() { # image tar|- build-key change-args...
  local image=$1 src=$2 key=$3 old new
  shift 3
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  new=$(podman import -q "$@" --change "LABEL $BUILD_KEY_LABEL=$key" "$src" "$image")
  if [ -n "$old" ] && [ "${new#sha256:}" != "${old#sha256:}" ]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
}

need_build() { # image build-key -> 0 if it must be built
  local have
  if [ "$REBUILD" = 1 ]; then return 0; fi
  podman image exists "$1" || return 0
  have=$(podman image inspect --format "{{index .Labels \"$BUILD_KEY_LABEL\"}}" "$1" 2>/dev/null || true)
  if [ "$have" != "$2" ]; then
    log "$1 is stale (built from '${have:-?}', want '$2')"
    return 0
  fi
  return 1
}

node_key() {
  local node_real
  command -v node >/dev/null 2>&1 || die "no node on PATH"
  node_real=$(readlink -f "$(command -v node)")
  # Version, size and mtime of the binary: cheap, no hashing of 100 MB.
  echo "node-$("$node_real" --version)-$(stat -c '%s-%Y' "$node_real")-r$RECIPE"
}

py_key() {
  echo "${DEBIAN_SUITE}-flytekit${FLYTEKIT_VERSION}-$(printf '%s\n' "${PY_PINS[@]}" "$PY_CONSTRAINTS" "r$RECIPE" | md5sum | cut -c1-8)"
}

ensure_apt_pkgs() { # cmd:package ...
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Copy a host file (symlinks resolved) into the rootfs at its real path, and
# make the name asked for (e.g. /lib64/ld-linux-x86-64.so.2, baked into ELF
# files) a symlink to it when that name does not resolve there already.
copy_host_file() { # src rootfs
  local src=$1 root=$2 real
  real=$(readlink -f "$src")
  mkdir -p "$root$(dirname "$real")"
  cp -f "$real" "$root$real"
  if [ "$real" != "$src" ] && [ ! -e "$root$src" ]; then
    # Keep the requested name (the loader path is baked into ELF files).
    mkdir -p "$root$(dirname "$src")"
    ln -sf "$real" "$root$src"
  fi
}

# A merged-/usr skeleton like Debian 12's: /bin, /lib, /lib64, /sbin -> usr/*.
make_skeleton() { # rootfs
  local r=$1
  mkdir -p "$r"/usr/bin "$r"/usr/sbin "$r"/usr/lib "$r"/usr/lib64 "$r"/etc "$r"/root \
    "$r"/tmp "$r"/var/tmp "$r"/proc "$r"/sys "$r"/dev "$r"/run "$r"/home
  chmod 1777 "$r"/tmp "$r"/var/tmp
  chmod 700 "$r"/root
  ln -sfn usr/bin "$r"/bin
  ln -sfn usr/sbin "$r"/sbin
  ln -sfn usr/lib "$r"/lib
  ln -sfn usr/lib64 "$r"/lib64
  cat >"$r"/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$r"/etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r"/etc/nsswitch.conf
  : >"$r"/etc/hosts
  : >"$r"/etc/resolv.conf
}

# ---------------------------------------------------------------------------
# node-base:20
# ---------------------------------------------------------------------------
build_node_base() {
  local t0 node_bin node_real node_ver key tar dir lib
  t0=$(date +%s)
  node_bin=$(command -v node || true)
  [ -n "$node_bin" ] || die "no node on PATH"
  node_real=$(readlink -f "$node_bin")
  node_ver=$("$node_real" --version)
  ensure_apt_pkgs busybox:busybox-static
  local busybox_bin
  busybox_bin=$(readlink -f "$(command -v busybox)")

  key=$(node_key)
  tar=$CACHE/node-base-$key.tar
  if [ ! -f "$tar" ]; then
    log "node-base: assembling rootfs from $node_real ($node_ver)"
    dir=$(mktemp -d "$CACHE/node-rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    chmod 755 "$dir"
    make_skeleton "$dir"
    cp -f "$node_real" "$dir/usr/bin/node"
    # Shared libraries as ldd resolves them, plus the dynamic loader (busybox
    # from busybox-static has none; a dynamic busybox gets its libs too).
    while read -r lib; do
      copy_host_file "$lib" "$dir"
    done < <({ ldd "$node_real"; ldd "$busybox_bin" 2>/dev/null || true; } |
      awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u)
    # glibc loads these at run time (dlopen), ldd does not list them.
    for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
      /lib/x86_64-linux-gnu/libresolv.so.2; do
      [ -e "$lib" ] && copy_host_file "$lib" "$dir"
    done
    # A shell for RUN lines: busybox as /bin/sh plus its applets (ls, cp, mkdir, ...).
    cp -f "$busybox_bin" "$dir/usr/bin/busybox"
    local applet
    for applet in $("$busybox_bin" --list); do
      [ -e "$dir/usr/bin/$applet" ] || ln -s busybox "$dir/usr/bin/$applet"
    done
    # CA certificates, if the host has them (useful for https from node).
    if [ -d /etc/ssl/certs ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      mkdir -p "$dir/etc/ssl/certs"
      cp -f /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
    fi
    rm -f "$CACHE"/node-base-*.tar "$CACHE"/node-base-*.tar.part
    log "node-base: tar rootfs | podman import -> $NODE_IMAGE"
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf - . | tee "$tar.part" |
      import_rootfs "$NODE_IMAGE" - "$key" "${NODE_CHANGES[@]}"
    mv -f "$tar.part" "$tar"
    rm -rf "$dir"
    trap - EXIT
  else
    log "node-base: reusing cached rootfs $tar"
    log "node-base: podman import -> $NODE_IMAGE"
    import_rootfs "$NODE_IMAGE" "$tar" "$key" "${NODE_CHANGES[@]}"
  fi
  verify_node_base
  log "node-base: built in $(($(date +%s) - t0)) s"
}

verify_node_base() {
  local out
  out=$(podman run --rm "$NODE_IMAGE" node -e 'console.log(1 + process.env.FLYTEKIT_TS_IMAGE_MARKER)')
  [ "$out" = "1$NODE_IMAGE" ] || die "node-base: unexpected output from node: '$out'"
  # podman build on top of it, offline: RUN (busybox sh) and COPY.
  local ctx
  ctx=$(mktemp -d)
  printf 'hello from COPY\n' >"$ctx/hello.txt"
  cat >"$ctx/Containerfile" <<EOF
FROM $NODE_IMAGE
RUN node -e 1 && mkdir -p /app
COPY hello.txt /app/hello.txt
EOF
  local tag=localhost/flytekit-ts/node-base-buildcheck:tmp
  if ! podman build -q --pull=never -t "$tag" "$ctx" >/dev/null; then
    rm -rf "$ctx"
    die "node-base: podman build on top of the image failed"
  fi
  rm -rf "$ctx"
  out=$(podman run --rm "$tag" node -e 'process.stdout.write(require("fs").readFileSync("/app/hello.txt","utf8"))')
  podman rmi -f "$tag" >/dev/null
  [ "$out" = "hello from COPY" ] || die "node-base: build check gave '$out'"
  log "node-base: verified (node runs, podman build RUN + COPY work)"
}

# ---------------------------------------------------------------------------
# python-flytekit:3.11
# ---------------------------------------------------------------------------
# Unmount whatever is mounted below a folder (left by an interrupted debootstrap
# or pip step), so that a later rm -rf cannot reach through a bind mount.
umount_under() { # dir
  local d m
  d=$(readlink -f "$1" 2>/dev/null || echo "$1")
  awk -v d="$d/" 'index($2 "/", d) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

debian_mirror() {
  # The mirror that the machine's apt sources already name (deb822 or one-line).
  local m=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    m=$(awk '/^URIs:/{print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null |
      grep -E '/debian/?$' | head -n1 || true)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; break}}' \
      /etc/apt/sources.list | grep -E '/debian/?$' | head -n1 || true)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

build_python_flytekit() {
  local t0 key tar root wheels mirror
  t0=$(date +%s)
  ensure_apt_pkgs debootstrap:debootstrap
  key=$(py_key)
  tar=$CACHE/python-flytekit-$key.tar
  root=$CACHE/python-rootfs-$DEBIAN_SUITE
  wheels=$CACHE/wheels

  if [ ! -f "$tar" ]; then
    umount_under "$root"
    # 1. Wheels, downloaded on the host (the chroot needs no network or pip
    #    config), in the background while debootstrap runs. Same glibc and
    #    arch as the image; --python-version 3.11 picks the cp311 wheels.
    mkdir -p "$wheels"
    printf '%s\n' "$PY_CONSTRAINTS" | tr ' ' '\n' | { grep -v '^$' || true; } >"$wheels/constraints.txt"
    local dl_pid=""
    if [ -f "$wheels/.done-$key" ]; then
      log "python-flytekit: reusing cached wheels in $wheels"
    else
      log "python-flytekit: pip download ${PY_PINS[*]} (background)"
      host_python -m pip download -q --only-binary=:all: --python-version 3.11 \
        -c "$wheels/constraints.txt" -d "$wheels" "${PY_PINS[@]}" >"$CACHE/pip-download.log" 2>&1 &
      dl_pid=$!
    fi

    # 2. Debian minbase with python3 (3.11 in bookworm) + venv support.
    if [ ! -f "$root/.debootstrap-done" ]; then
      mirror=$(debian_mirror)
      log "python-flytekit: debootstrap --variant=minbase $DEBIAN_SUITE from $mirror"
      rm -rf "$root"
      mkdir -p "$CACHE/debs"
      # Two stages so that dpkg can be told to skip its fsync calls
      # (force-unsafe-io): the second stage took 125 s instead of 183 s on a busy
      # 2-core machine.
      debootstrap --foreign --variant=minbase --cache-dir="$CACHE/debs" \
        --include=python3,python3-venv,ca-certificates \
        "$DEBIAN_SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
        die "debootstrap (first stage) failed, see $CACHE/debootstrap.log"
      mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
      echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/zz-flytekit-ts-unsafe-io"
      env -i PATH="$STD_PATH" HOME=/root LANG=C.UTF-8 \
        chroot "$root" /debootstrap/debootstrap --second-stage >>"$CACHE/debootstrap.log" 2>&1 || {
        umount_under "$root"
        die "debootstrap (second stage) failed, see $CACHE/debootstrap.log"
      }
      umount_under "$root"
      rm -f "$root/etc/dpkg/dpkg.cfg.d/zz-flytekit-ts-unsafe-io"
      # Trim what a task image never needs.
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
      touch "$root/.debootstrap-done"
    else
      log "python-flytekit: reusing debootstrap folder $root"
    fi
    local pyver
    pyver=$(chroot "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$pyver" = 3.11 ] || die "python in $DEBIAN_SUITE is $pyver, expected 3.11"

    if [ -n "$dl_pid" ]; then
      log "python-flytekit: waiting for pip download"
      wait "$dl_pid" || die "pip download failed, see $CACHE/pip-download.log"
      touch "$wheels/.done-$key"
    fi

    # 3. venv inside the chroot, installed from the local wheels only.
    log "python-flytekit: venv /opt/venv + pip install (offline, from cached wheels)"
    rm -rf "$root/opt/venv" "$root/tmp/wheels"
    chroot "$root" python3 -m venv /opt/venv
    mkdir -p "$root/tmp/wheels"
    mount --bind "$wheels" "$root/tmp/wheels"
    # shellcheck disable=SC2064
    trap "umount '$root/tmp/wheels' 2>/dev/null || true" EXIT
    env -i PATH="$STD_PATH" HOME=/root LANG=C.UTF-8 \
      chroot "$root" /opt/venv/bin/pip install -q --no-index --find-links /tmp/wheels \
      --disable-pip-version-check --no-cache-dir -c /tmp/wheels/constraints.txt "${PY_PINS[@]}" \
      >"$CACHE/pip-install.log" 2>&1 || {
      umount "$root/tmp/wheels"
      die "pip install in chroot failed, see $CACHE/pip-install.log"
    }
    umount "$root/tmp/wheels"
    trap - EXIT
    rmdir "$root/tmp/wheels"
    chroot "$root" /opt/venv/bin/pip freeze --disable-pip-version-check >"$CACHE/python-flytekit.freeze.txt"

    # Image files that a container gets from podman anyway.
    : >"$root/etc/resolv.conf"
    : >"$root/etc/hostname"

    log "python-flytekit: tar rootfs | podman import -> $PY_IMAGE"
    rm -f "$CACHE"/python-flytekit-*.tar "$CACHE"/python-flytekit-*.tar.part
    tar --numeric-owner --exclude=./.debootstrap-done --exclude='./proc/*' --exclude='./sys/*' \
      --exclude='./dev/*' -C "$root" -cf - . | tee "$tar.part" |
      import_rootfs "$PY_IMAGE" - "$key" "${PY_CHANGES[@]}"
    mv -f "$tar.part" "$tar"
    # The tar now holds the venv; keep only the debootstrap part of the folder.
    rm -rf "$root/opt/venv"
  else
    log "python-flytekit: reusing cached rootfs $tar"
    log "python-flytekit: podman import -> $PY_IMAGE"
    import_rootfs "$PY_IMAGE" "$tar" "$key" "${PY_CHANGES[@]}"
  fi
  verify_python_flytekit
  log "python-flytekit: built in $(($(date +%s) - t0)) s"
}

host_python() {
  # Any Python that can run pip, used for downloads only; prefer a 3.11 one.
  local p
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11*/bin/python3 python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1; then
      "$p" "$@"
      return
    fi
  done
  die "no host python with pip found for downloading wheels"
}

verify_python_flytekit() {
  local out
  podman run --rm "$PY_IMAGE" pyflyte-execute --help >/dev/null ||
    die "python-flytekit: pyflyte-execute --help failed"
  out=$(podman run --rm "$PY_IMAGE" python -c \
    'import os, flytekit, pyarrow, pandas; print(flytekit.__version__, os.environ["FLYTEKIT_TS_IMAGE_MARKER"])')
  [ "$out" = "$FLYTEKIT_VERSION $PY_IMAGE" ] || die "python-flytekit: unexpected: '$out'"
  log "python-flytekit: verified (pyflyte-execute --help; import flytekit $FLYTEKIT_VERSION, pyarrow, pandas)"
}

# ---------------------------------------------------------------------------
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(node python)
for t in "${targets[@]}"; do
  case $t in
  node)
    if need_build "$NODE_IMAGE" "$(node_key)"; then build_node_base; else log "$NODE_IMAGE up to date"; fi
    ;;
  python)
    if need_build "$PY_IMAGE" "$(py_key)"; then build_python_flytekit; else log "$PY_IMAGE up to date"; fi
    ;;
  *) die "unknown target '$t' (node|python)" ;;
  esac
done
