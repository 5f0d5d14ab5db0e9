#!/bin/sh
# Regenerates lambda/shared/generated/ from the schemas (scripts/generate-validators.ts). PlatformFunction runs this
# before every bundle, so esbuild compiles the generator (about 0.2 s; ts-node takes about 1 s, for each function).
# Usage: sh scripts/generate-validators.sh [output folder, default lambda/shared/generated]
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
runner="$root/node_modules/.cache/generate-validators/run.js"
"$root/node_modules/.bin/esbuild" "$root/scripts/generate-validators.ts" --bundle --platform=node --packages=external \
  --format=cjs --log-level=warning --outfile="$runner"
exec node "$runner" "${1:-$root/lambda/shared/generated}"
