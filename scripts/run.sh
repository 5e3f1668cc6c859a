#!/usr/bin/env bash
# Runs a TypeScript entry point of this project (path from the project root) with its arguments:
# the compiled build in bin/ when it is current (scripts/compiled.js), else the source through
# ts-node.   scripts/run.sh automation/cli.ts up --stack local
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
entry=${1:?usage: scripts/run.sh <file.ts> [arguments]}
shift
if bin=$(node "$root/scripts/compiled.js" --which); then
  exec node "$bin/${entry%.ts}.js" "$@"
fi
exec "$root/node_modules/.bin/ts-node" --transpile-only --project "$root/tsconfig.json" "$root/$entry" "$@"
