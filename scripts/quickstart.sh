#!/usr/bin/env bash
# The newcomer's first command: install, then run the example workflow locally.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --loglevel=error
npx tsflyte run examples/data-pipeline.ts pipeline --rows 100
