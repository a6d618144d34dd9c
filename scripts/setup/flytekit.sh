#!/usr/bin/env bash
# Creates the Python peer: a virtualenv with flytekit (the reference SDK), pyarrow and
# pandas, at
#   ${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}/venv
# Idempotent: if the venv exists, was built from the same pins and
# `python -c 'import flytekit'` reports the pinned version, nothing is done.
# Python: $FLYTEKIT_TS_PYTHON, else python3.11, else python3 (flytekit 1.16 needs >=3.10,<3.13).
# See docs/internals/peers.md.
set -euo pipefail

FLYTEKIT_VERSION="1.16.31"   # newest 1.16.x on PyPI when pinned
PINS=(
  "flytekit==${FLYTEKIT_VERSION}"
  "flyteidl==1.16.8"
  "pyarrow==26.0.1"
  "pandas==2.3.3"
)
# The full set resolved for the pins above (pip freeze of a fresh venv, 2026-11-23), used as
# constraints so that later releases of unpinned dependencies (protobuf, grpcio, fsspec...)
# cannot change the baseline under the tests.
CONSTRAINTS="$(cat <<'EOF'
adlfs==2026.8.0
aiobotocore==3.10.0
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aioitertools==0.13.0
aiosignal==1.4.0
attrs==26.1.0
azure-core==1.41.0
azure-identity==1.27.0
azure-storage-blob==12.31.1
backports.tarfile==1.2.0
botocore==1.43.117
cachetools==8.0.1
certifi==2026.10.18
cffi==2.1.1
charset-normalizer==3.5.2
click==8.5.1
cloudpickle==3.1.2
croniter==7.0.0
cryptography==50.0.2
dataclasses-json==0.5.9
decorator==5.3.1
diskcache==5.6.3
docker==7.2.0
docstring_parser==0.18.0
flyteidl==1.16.8
flytekit==1.16.31
frozenlist==1.8.0
fsspec==2026.9.0
gcsfs==2026.10.1
google-api-core==2.44.0
google-auth==2.62.2
google-auth-oauthlib==1.5.0
google-cloud-core==2.8.0
google-cloud-storage==3.17.1
google-cloud-storage-control==1.17.0
google-crc32c==1.9.0
google-resumable-media==2.11.0
googleapis-common-protos==1.76.0
grpc-google-iam-v1==0.14.6
grpcio==1.85.1
grpcio-status==1.85.1
idna==3.20
importlib_metadata==10.2.0
isodate==0.7.2
jaraco.classes==3.4.0
jaraco.context==6.1.2
jaraco.functools==4.6.0
jeepney==0.9.0
jmespath==1.1.0
joblib==1.6.0
jsonlines==4.0.0
jsonpickle==4.1.4
keyring==25.7.0
lazy-importer==0.1.0
markdown-it-py==4.3.0
marshmallow==3.26.2
marshmallow-enum==1.5.1
marshmallow-jsonschema==0.16.0
mashumaro==3.23
mdurl==0.1.2
more-itertools==11.2.1
msal==1.39.0
msal-extensions==1.3.1
msgpack==1.2.4
multidict==7.2.1
mypy_extensions==1.2.0
numpy==2.4.6
oauthlib==4.0.1
opentelemetry-api==1.45.2
packaging==26.3
pandas==2.3.3
propcache==0.5.4
proto-plus==1.29.0
protobuf==7.36.2
protoc-gen-openapiv2==0.0.1
pyarrow==26.0.1
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
Pygments==2.21.0
PyJWT==2.15.1
python-dateutil==2.9.0.post0
python-json-logger==4.2.0
pytimeparse==1.1.10
pytz==2026.6
PyYAML==6.0.3
requests==2.34.2
requests-oauthlib==2.0.0
rich==15.0.0
rich-click==1.9.9
s3fs==2026.9.0
SecretStorage==3.5.0
six==1.17.0
statsd==4.0.1
typing-inspect==0.9.0
typing_extensions==4.16.0
tzdata==2026.6
urllib3==2.8.0
wrapt==2.5.2
yarl==1.25.1
zipp==4.1.2
EOF
)"
STAMP="${PINS[*]} constraints:$(printf '%s' "$CONSTRAINTS" | sha256sum | cut -c1-16)"

CACHE="${FLYTEKIT_TS_CACHE:-$HOME/.cache/flytekit-ts}"
VENV="$CACHE/venv"
STAMP_FILE="$VENV/.flytekit-ts-pins"

log() { echo "[flytekit] $*"; }

is_ready() {
  [[ -x "$VENV/bin/python" && -f "$STAMP_FILE" ]] || return 1
  [[ "$(cat "$STAMP_FILE")" == "$STAMP" ]] || return 1
  "$VENV/bin/python" -c "import sys, flytekit; sys.exit(flytekit.__version__ != '${FLYTEKIT_VERSION}')" >/dev/null 2>&1
}

if is_ready; then
  log "ok: $VENV (flytekit ${FLYTEKIT_VERSION}, cached)"
  exit 0
fi

mkdir -p "$CACHE"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.venv.lock"
  flock 9
  if is_ready; then
    log "ok: $VENV (flytekit ${FLYTEKIT_VERSION}, built by a concurrent run)"
    exit 0
  fi
fi

# A venv whose stamp is missing or stale but whose packages are exactly the constraint set
# (e.g. built by an earlier version of this script) is adopted instead of rebuilt, so a venv
# that other processes may be using is not deleted for nothing.
if [[ -x "$VENV/bin/python" ]] &&
  installed="$("$VENV/bin/python" -m pip freeze --all --disable-pip-version-check \
    --exclude pip --exclude setuptools 2>/dev/null | sort -f)" &&
  [[ "$installed" == "$(printf '%s\n' "$CONSTRAINTS" | sort -f)" ]]; then
  echo "$STAMP" >"$STAMP_FILE"
  if is_ready; then
    log "ok: $VENV (flytekit ${FLYTEKIT_VERSION}, existing venv matches the constraints)"
    exit 0
  fi
fi

PY="${FLYTEKIT_TS_PYTHON:-}"
if [[ -z "$PY" ]]; then
  if command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' >/dev/null 2>&1; then
    PY=python3.11
  else
    PY=python3
  fi
fi
if ! "$PY" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null; then
  log "error: $PY is not Python 3.10-3.12 (flytekit ${FLYTEKIT_VERSION} needs >=3.10,<3.13); set FLYTEKIT_TS_PYTHON" >&2
  exit 1
fi

log "creating $VENV with $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
start=$(date +%s)
rm -rf "$VENV"
"$PY" -m venv "$VENV"

log "installing ${PINS[*]} (+ $(printf '%s\n' "$CONSTRAINTS" | wc -l) constraints)"
printf '%s\n' "$CONSTRAINTS" >"$VENV/constraints.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$VENV/constraints.txt" "${PINS[@]}"

if ! "$VENV/bin/python" -c "import sys, flytekit, pyarrow, pandas; sys.exit(flytekit.__version__ != '${FLYTEKIT_VERSION}')"; then
  log "error: flytekit ${FLYTEKIT_VERSION} does not import from $VENV" >&2
  exit 1
fi
echo "$STAMP" >"$STAMP_FILE"

log "ok: $VENV built in $(($(date +%s) - start)) s"
