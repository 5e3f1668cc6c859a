#!/usr/bin/env bash
# Charts tier: every chart of this repo must lint, render over its values matrix, be refused by
# its schema when values are wrong, and pass kube-linter with no findings.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/tools.sh helm lint >&2 || exit 1
PATH=$(bash scripts/tools.sh bin):$PATH
# Rendered objects are validated by a real API server (server-side dry run), offline: the e2e
# tier's local cluster.
export ES1_CLUSTER_NAME=es1-e2e
cluster_log=$(mktemp)
bash scripts/cluster.sh up >"$cluster_log" 2>&1 || {
  cat "$cluster_log" >&2
  exit 1
}
rm -f "$cluster_log"
kubeconfig=$(bash scripts/cluster.sh kubeconfig)
passed=0
failed=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check() { # check NAME CMD...: run a check, count it
  local name=$1
  shift
  if "$@" >"$out/log" 2>&1; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$name"
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$name"
    sed 's/^/        /' "$out/log" | tail -n 20
  fi
}

refused() { ! "$@"; }

# render CHART NAME [--set ...]: helm template into $out/NAME.yaml, then kube-linter on it and a
# server-side dry run (strict field validation) against the API server.
render() {
  local chart=$1 name=$2
  shift 2
  helm template "$name" "$chart" --namespace default "$@" >"$out/$name.yaml" &&
    kube-linter lint --config test/charts/kube-linter.yaml "$out/$name.yaml" &&
    kubectl --kubeconfig "$kubeconfig" apply --dry-run=server --validate=strict -f "$out/$name.yaml"
}

echo "es1-base"
base=infrastructure/charts/es1-base
check "helm lint" helm lint --strict "$base"
check "renders with defaults; lint-clean, API-valid" render "$base" base-default
check "renders with priority classes and limit range off" render "$base" base-off \
  --set priorityClasses.enabled=false --set limitRange.enabled=false
check "install record carries the stack" bash -c \
  "helm template x $base --set install.stack=gcp-prod | grep -q 'stack: \"gcp-prod\"'"
check "schema refuses an unknown environment" refused helm template x "$base" --set install.environment=staging
check "schema refuses an unknown key" refused helm template x "$base" --set priorityClass.enabled=true

echo "charts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
