#!/usr/bin/env bash
# `npm test`: every tier, bringing up what it needs (tools, local cluster) by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n==> %s\n' "$*" >&2; }
t0=$(date +%s)
step "tools (scripts/tools.sh)"
# promtool and netpol-analyzer only the tests use (charts tier, isolation e2e): built here, not by
# `npm run deploy`, and outside any test timeout.
bash scripts/tools.sh all promtool netpol
step "typecheck, lint, format"
npm run -s typecheck
npm run -s lint
step "unit tests"
npm run -s test:unit
step "chart tests"
npm run -s test:charts
step "end-to-end tests on the local cluster"
npm run -s test:e2e
step "all tiers passed in $(($(date +%s) - t0))s"
