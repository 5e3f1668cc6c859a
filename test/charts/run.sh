#!/usr/bin/env bash
# Charts tier: every chart of this repo must lint, render over its values matrix, be refused by
# its schema when values are wrong, and pass kube-linter with no findings.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/tools.sh helm lint promtool >&2 || exit 1
PATH=$(bash scripts/tools.sh bin):$PATH
# Rendered objects are validated by a real API server (server-side dry run), offline: the e2e
# tier's local cluster.
export ES1_CLUSTER_NAME=${ES1_E2E_CLUSTER:-es1-e2e}
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

echo "es1-platform"
platform=platform/chart
vals=test/charts/platform
# render_platform NAME VALUES [--set ...]: like render, but the objects kube-linter sees live in a
# customer namespace (beam-platform) as the installer deploys them; the API server validates the
# same render in "default" (server-side dry runs cannot target a namespace that does not exist).
render_platform() {
  local name=$1 values=$2
  shift 2
  helm template es1-platform "$platform" --namespace beam-platform -f "$values" "$@" >"$out/$name.yaml" &&
    kube-linter lint --config test/charts/kube-linter.yaml "$out/$name.yaml" &&
    helm template es1-platform "$platform" --namespace default -f "$values" "$@" >"$out/$name-default.yaml" &&
    kubectl --kubeconfig "$kubeconfig" apply --dry-run=server --validate=strict -f "$out/$name-default.yaml"
}
# lint_platform NAME VALUES: render and kube-linter only (objects whose CRDs the test cluster lacks).
lint_platform() {
  helm template es1-platform "$platform" --namespace beam-platform -f "$2" >"$out/$1.yaml" &&
    kube-linter lint --config test/charts/kube-linter.yaml "$out/$1.yaml"
}
# images_from PREFIX VALUES: every image of the render starts with PREFIX (and there are some).
images_from() {
  local prefix=$1 values=$2 images
  images=$(helm template es1-platform "$platform" -f "$values" | sed -n 's/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
  [ -n "$images" ] || return 1
  printf '%s\n' "$images" | sort -u
  ! printf '%s\n' "$images" | grep -v "^$prefix/"
}
# ui_checksum VALUES [--set ...]: the checksum/branding annotation of the manager UI's pods.
ui_checksum() {
  local values=$1
  shift
  helm template es1-platform "$platform" -f "$values" "$@" --show-only templates/deployments.yaml |
    # Reads to the end: an early exit would cut helm off (SIGPIPE) and fail the pipeline.
    awk '/^kind: Deployment/{ui=0} /name: es1-platform-manager-ui$/{ui=1} !done && ui && /checksum\/branding:/{print $2; done=1}'
}
branding_changes_checksum() {
  local a b
  a=$(ui_checksum "$vals/all-on.yaml") && b=$(ui_checksum "$vals/all-on.yaml" --set branding.primaryColor=#00ff00) &&
    echo "before $a, after $b" && [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
}
branding_keeps_checksum() {
  [ "$(ui_checksum "$vals/all-on.yaml")" = "$(ui_checksum "$vals/all-on.yaml")" ]
}
check "helm lint --strict" helm lint --strict "$platform" -f "$vals/all-on.yaml"
check "all services on, TLS from cert-manager, offline license" render_platform platform-all-on "$vals/all-on.yaml"
check "agents off, no ingress" render_platform platform-agents-off "$vals/agents-off.yaml"
check "ingress without TLS" render_platform platform-tls-off "$vals/tls-off.yaml"
check "ingress with TLS from an existing Secret" render_platform platform-tls-secret "$vals/tls-secret.yaml"
check "online license" render_platform platform-license-online "$vals/license-online.yaml"
check "HPA off, metrics ports" render_platform platform-hpa-off "$vals/hpa-off.yaml"
check "registry override" render_platform platform-registry "$vals/registry-override.yaml"
check "ServiceMonitors (lint only: no CRDs on the test cluster)" lint_platform platform-servicemonitor "$vals/servicemonitor.yaml"
check "cert-manager annotation and <fullname>-tls" bash -c \
  "helm template es1-platform $platform -f $vals/all-on.yaml --show-only templates/ingress.yaml |
   grep -q 'cert-manager.io/cluster-issuer: letsencrypt' &&
   helm template es1-platform $platform -f $vals/all-on.yaml --show-only templates/ingress.yaml | grep -q 'secretName: es1-platform-tls'"
# Gateway API objects: lint and content only (the charts tier's API server has no Gateway API or
# cert-manager CRDs; the e2e tier applies them).
hr="helm template es1-platform $platform -f $vals/httproute.yaml"
check "Gateway API: Gateway, routes, redirect, ACME Issuer (lint only)" lint_platform platform-httproute "$vals/httproute.yaml"
check "Gateway API: HTTPS listener per host, routes on their listener and Service, 301 to https" bash -c \
  "$hr --show-only templates/httproute.yaml >$out/hr.yaml &&
   grep -q 'gatewayClassName: \"es1-envoy\"' $out/hr.yaml &&
   [ \$(grep -c 'protocol: HTTPS' $out/hr.yaml) = 2 ] &&
   grep -A3 'sectionName: https-gateway' $out/hr.yaml | grep -q 'api.beam.example.com' &&
   grep -A3 'sectionName: https-manager-ui' $out/hr.yaml | grep -q 'app.beam.example.com' &&
   grep -A1 'name: es1-platform-manager-ui$' $out/hr.yaml | grep -q 'port: 8080' &&
   grep -q 'scheme: https' $out/hr.yaml && grep -q 'statusCode: 301' $out/hr.yaml &&
   grep -q 'kind: Issuer' $out/hr.yaml && ! grep -q '^kind: Ingress' $out/hr.yaml"
check "Gateway API: a ClusterIssuer's Certificate covers only hosts without a Secret of their own" bash -c \
  "$hr --set httpRoute.tls.clusterIssuer=es1-ca --set httpRoute.tls.uiSecretName=beam-own \
     --show-only templates/httproute.yaml >$out/hr-ca.yaml &&
   ! grep -q 'kind: Issuer' $out/hr-ca.yaml && grep -q 'name: beam-own' $out/hr-ca.yaml &&
   grep -A2 'dnsNames:' $out/hr-ca.yaml | grep -q api.beam.example.com &&
   ! grep -A2 'dnsNames:' $out/hr-ca.yaml | grep -q app.beam.example.com"
check "Gateway API: the gateway and UI admit the edge peers only" bash -c \
  "$hr --show-only templates/networkpolicies.yaml | grep -A12 'policyTypes: \[Ingress\]' |
     grep -A8 'from:' | grep -q 'kubernetes.io/metadata.name: es1-gateway' &&
   ! $hr --show-only templates/networkpolicies.yaml | grep -q ingress-nginx"
check "Gateway API: no Gateway API objects while httpRoute is off" bash -c \
  "! helm template es1-platform $platform -f $vals/all-on.yaml | grep -q 'gateway.networking.k8s.io'"
check "egress 443 only with an online license" bash -c \
  "helm template es1-platform $platform -f $vals/license-online.yaml | grep -q 'name: es1-platform-license-online' &&
   ! helm template es1-platform $platform -f $vals/all-on.yaml | grep -q 'port: 443'"
check "Langfuse: host and the project's keys (by secretKeyRef) and the client label only with langfuse.secretName" bash -c \
  "helm template es1-platform $platform -f $vals/all-on.yaml | grep -A4 'name: LANGFUSE_SECRET_KEY' | grep -q 'name: es1-langfuse-project' &&
   helm template es1-platform $platform -f $vals/all-on.yaml | grep -q 'es1-langfuse-client: \"true\"' &&
   ! helm template es1-platform $platform -f $vals/all-on.yaml --set langfuse.secretName= | grep -q 'LANGFUSE_\\|es1-langfuse-client'"
check "MLflow: the customer's own, reached in its namespace on its port; no MLflow port to the shared namespace" bash -c \
  "helm template es1-platform $platform -f $vals/all-on.yaml | grep -q 'value: \"http://beam-mlflow.beam-platform.svc:80\"' &&
   helm template es1-platform $platform -f $vals/all-on.yaml | grep -B3 -A3 'port: 5000' | grep -q 'app.kubernetes.io/name: mlflow' &&
   ! helm template es1-platform $platform -f $vals/agents-off.yaml --set infrastructure.mlflowUrl= | grep -q 'port: 5000'"
check "no Secret in the chart (secrets are references)" bash -c \
  "! helm template es1-platform $platform -f $vals/all-on.yaml | grep -q '^kind: Secret'"
# The license trust anchor: the chart's ConfigMap holds exactly files/license-keys/*.pub (the keys
# the deploy gate trusts too, platform/license/trusted-keys.ts), whatever the values say.
shipped_keys_exactly() {
  local cm=$out/license-keys.yaml want got f
  helm template es1-platform "$platform" -f "$vals/all-on.yaml" --set license.testKeysConfigMap=mine \
    --show-only templates/license-keys-configmap.yaml >"$cm" || return 1
  grep -q '^  name: es1-platform-license-keys$' "$cm" || return 1
  want=$(for f in "$platform"/files/license-keys/*.pub; do
    printf '%s: "%s"\n' "$(basename "$f")" "$(tr -d '\n' <"$f")"
  done | sort)
  got=$(sed -n '/^data:$/,$p' "$cm" | sed -n 's/^  \([^ ]*: .*\)$/\1/p' | sort)
  echo "want: $want" && echo "got:  $got"
  [ -n "$want" ] && [ "$want" = "$got" ]
}
# projected_keys VALUES [--set ...]: the ConfigMaps the gateway's license-keys volume projects.
projected_keys() {
  local values=$1
  shift
  helm template es1-platform "$platform" -f "$values" "$@" --show-only templates/deployments.yaml |
    awk '/^kind: Deployment/{gw=0} /name: es1-platform-gateway$/{gw=1}
         gw && /^        - name: license-keys$/{lk=1; next} lk && /^        - name: /{lk=0; gw=0} lk && /name: /{print $2}' |
    tr '\n' ' '
}
test_keys_only_when_set() {
  local plain with
  plain=$(projected_keys "$vals/all-on.yaml") &&
    with=$(projected_keys "$vals/all-on.yaml" --set license.testKeysConfigMap=es1-license-test-keys) &&
    echo "default: $plain; with test keys: $with" &&
    [ "$plain" = "es1-platform-license-keys " ] && [ "$with" = "es1-platform-license-keys es1-license-test-keys " ]
}
check "license keys: the chart's ConfigMap holds exactly the shipped files/license-keys/*.pub" shipped_keys_exactly
check "license keys: test keys mounted beside the shipped ones only when license.testKeysConfigMap is set" test_keys_only_when_set
check "license keys: schema refuses replacing the shipped keys (publicKeysConfigMap is gone)" refused \
  helm template x "$platform" -f "$vals/all-on.yaml" --set license.publicKeysConfigMap=mine
check "every image from global.imageRegistry" images_from mirror.example:5000/es1 "$vals/registry-override.yaml"
check "default images from ghcr.io/1enterprisesight" images_from ghcr.io/1enterprisesight "$vals/all-on.yaml"
check "branding change rolls the UI (checksum/branding)" branding_changes_checksum
check "same branding, same checksum" branding_keeps_checksum
check "schema refuses an unknown key" refused helm template x "$platform" -f "$vals/all-on.yaml" --set services.gateway.replica=2
check "schema refuses an unknown top-level key" refused helm template x "$platform" -f "$vals/all-on.yaml" --set licence.mode=offline
check "schema refuses a bad license mode" refused helm template x "$platform" -f "$vals/all-on.yaml" --set license.mode=cloud
check "schema refuses online without URL" refused helm template x "$platform" -f "$vals/all-on.yaml" --set license.mode=online
check "schema refuses a customer name that is not a DNS label" refused \
  helm template x "$platform" -f "$vals/all-on.yaml" --set customer.name=Beam_Co
check "refuses a missing customer name" refused helm template x "$platform" -f "$vals/all-on.yaml" --set customer.name=
check "refuses a missing license Secret" refused helm template x "$platform" -f "$vals/all-on.yaml" --set license.secretName=
check "refuses httpRoute without a GatewayClass" refused helm template x "$platform" -f "$vals/httproute.yaml" --set httpRoute.gatewayClassName=
check "refuses httpRoute without hosts" refused helm template x "$platform" -f "$vals/agents-off.yaml" --set httpRoute.enabled=true --set httpRoute.gatewayClassName=c
check "refuses ingress without hosts" refused helm template x "$platform" -f "$vals/agents-off.yaml" --set ingress.enabled=true
# sso: the manager UI gets OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET from the Secret (never a
# value), and may reach the identity provider's addresses on 443; the other services get nothing.
sso_env() {
  local d=$out/sso-deployments.yaml
  helm template es1-platform "$platform" -f "$vals/sso.yaml" --show-only templates/deployments.yaml >"$d" || return 1
  awk '/^kind: Deployment/{ui=0} /name: es1-platform-manager-ui$/{ui=1} ui' "$d" >"$d.ui"
  grep -q 'name: OIDC_ISSUER' "$d.ui" && grep -q 'value: "https://login.beam.example.com/realms/beam"' "$d.ui" &&
    grep -q 'value: "beam-platform"' "$d.ui" &&
    grep -A4 'name: OIDC_CLIENT_SECRET' "$d.ui" | grep -q 'name: beam-sso' &&
    grep -A4 'name: OIDC_CLIENT_SECRET' "$d.ui" | grep -q 'key: client-secret' &&
    [ "$(grep -c 'name: OIDC_' "$d")" = 3 ] &&
    helm template es1-platform "$platform" -f "$vals/sso.yaml" --show-only templates/networkpolicies.yaml >"$d.np" &&
    awk '/^---/{p=0} /name: es1-platform-manager-ui-sso$/{p=1} p' "$d.np" | grep 'cidr: "203.0.113.20/32"' &&
    helm template es1-platform "$platform" -f "$vals/all-on.yaml" >"$d.plain" && ! grep 'OIDC_' "$d.plain"
}
check "sso: the manager UI's OIDC settings and its egress to the identity provider" render_platform platform-sso "$vals/sso.yaml"
check "sso: OIDC_* on the manager UI only, the secret by reference" sso_env
check "schema refuses sso without its client Secret" refused helm template x "$platform" -f "$vals/sso.yaml" --set sso.secretName=
check "schema refuses sso with an http issuer" refused helm template x "$platform" -f "$vals/sso.yaml" --set sso.issuer=http://login.example.com

echo "upstream charts with the program's values"
# Every real chart archive users install (the mirror automation/chart-source.ts picks), rendered
# with exactly the values the program gives its release (test/charts/program-values.ts) over a
# matrix of stack configs, against the Kubernetes version and API groups the cluster would serve.
# A schema or template error fails the (release, case). Identical (release, values, API groups)
# render once and count for every case that produces them.
mirror=$(node_modules/.bin/ts-node -T automation/chart-source.ts) || exit 1
kube_version=$(. scripts/versions.env && echo "$KUBE_VERSION")
values=$out/program-values
node_modules/.bin/ts-node -T test/charts/program-values.ts write "$mirror" "$values" || exit 1
# render_upstream ROW: helm template of one renders.tsv row into <n>.yaml, helm's messages into
# <n>.err, its exit status into <n>.rc.
render_upstream() {
  local file name chart apis base a args=()
  IFS=$'\t' read -r file _ name chart apis _ <<<"$1"
  base=$values/${file%.json}
  IFS=, read -ra a <<<"$apis"
  for api in "${a[@]}"; do args+=(--api-versions "$api"); done
  helm template "$name" "$chart" --namespace es1-infrastructure --kube-version "$kube_version" \
    "${args[@]}" -f "$values/$file" >"$base.yaml" 2>"$base.err"
  echo $? >"$base.rc"
}
export -f render_upstream
export values kube_version
started=$SECONDS
xargs -d '\n' -P "${ES1_CHARTS_JOBS:-2}" -I{} bash -c 'render_upstream "$1"' _ {} <"$values/renders.tsv"
# rendered N: helm's messages for render N; fails when helm did.
rendered() {
  cat "$values/$1.err"
  [ "$(cat "$values/$1.rc")" = 0 ]
}
while IFS=$'\t' read -r file key _ _ _ cases; do
  IFS=';' read -ra list <<<"$cases"
  for c in "${list[@]}"; do check "$key: $c" rendered "${file%.json}"; done
done <"$values/renders.tsv"
echo "  ($(wc -l <"$values/renders.tsv") renders in $((SECONDS - started)) s)"
mapfile -t airflow_renders < <(awk -F'\t' '$2 == "airflow" { sub(/\.json$/, ".yaml", $1); print ENVIRON["values"] "/" $1 }' "$values/renders.tsv")
check "airflow: the program's ServiceMonitor selects the chart's statsd Service and scrape port" \
  node_modules/.bin/ts-node -T test/charts/program-values.ts selects "$values/airflow-statsd-monitor.json" "${airflow_renders[@]}"

echo "ES1 alert rules and the platform's metrics"
# The PrometheusRule es1-alerts as the program builds it (infrastructure/observability), checked
# and unit-tested by promtool; the platform chart exposes what the rules and dashboards read.
alerts=$out/alerts
node_modules/.bin/ts-node -T test/charts/alerts.ts write "$alerts" || exit 1
check "promtool check rules" promtool check rules "$alerts/es1-alerts.rules.yaml"
check "promtool test rules (license expiry, gateway 5xx and latency, component down)" \
  promtool test rules "$alerts/es1-alerts.test.yaml"
check "gateway: KrakenD's Prometheus exporter on the metrics port the ServiceMonitor scrapes" bash -c \
  "helm template es1-platform $platform -f $vals/servicemonitor.yaml --show-only templates/krakend-configmap.yaml |
   grep -q '\"telemetry/opentelemetry\"' &&
   helm template es1-platform $platform -f $vals/servicemonitor.yaml --show-only templates/servicemonitors.yaml | grep -q 'port: metrics'"
check "license sidecars: a PodMonitor on their health port, admitted by the Prometheus NetworkPolicy" bash -c \
  "helm template es1-platform $platform -f $vals/servicemonitor.yaml --show-only templates/servicemonitors.yaml |
   grep -A30 'kind: PodMonitor' | grep -q 'port: license' &&
   helm template es1-platform $platform -f $vals/servicemonitor.yaml --show-only templates/networkpolicies.yaml | grep -q 'port: license'"

echo "es1 airgap images over the real charts"
# helm template of every release at every sizing: too slow for the unit tier, so it runs here.
check "every image of every chart listed, and where es1:airgap.registry maps it" \
  node_modules/.bin/mocha --require ts-node/register/transpile-only --timeout 900000 --reporter dot \
  test/charts/airgap-images.test.ts

echo "charts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
