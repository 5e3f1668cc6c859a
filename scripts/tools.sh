#!/usr/bin/env bash
# Builds the real tools the project runs (Pulumi CLI + Node language host, the kubernetes and
# random provider plugins, Helm, kwok, a Kubernetes control plane, kube-linter, an OCI registry) from Go modules,
# pinned in scripts/versions.env, into a per-user cache keyed by version. Nothing is downloaded
# but Go modules, and a tool already built (or already on PATH at the pinned version) is reused.
#
#   scripts/tools.sh [all|node|pulumi|providers|helm|cluster|lint|registry|promtool|netpol]...   build what is missing (default: all)
#   scripts/tools.sh bin                                           print the directory to put on PATH
#   scripts/tools.sh status                                        show each tool and where it comes from
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

TOOLS=${ES1_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/es1/tools}
BIN=$TOOLS/bin
SRC=$TOOLS/src
mkdir -p "$BIN" "$SRC"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# The module proxy reachable here serves the modules but not the checksum-database entries of
# several pulumi modules; their content is still pinned by the go.sum files of the builds.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi
GO_BUILD=(go build -trimpath)

log() { printf '[tools] %s\n' "$*" >&2; }

# link_dir DIR: expose every executable of a finished, versioned install directory in $BIN.
# Provider plugins go to Pulumi's plugin cache instead (install_plugin), where the engine matches
# the exact version the npm SDK asks for; on PATH it would take any version, with a warning.
link_dir() {
  local f
  for f in "$1"/*; do
    case $(basename "$f") in pulumi-resource-*) continue ;; esac
    [ -x "$f" ] && ln -sfn "$f" "$BIN/$(basename "$f")"
  done
}

# install_plugin NAME VERSION FILE: a resource provider into the Pulumi plugin cache (offline).
install_plugin() {
  local name=$1 version=$2 file=$3 dest
  dest=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$name-v$version
  if cmp -s "$dest/pulumi-resource-$name" "$file"; then
    log "plugin resource $name $version: installed"
    return 0
  fi
  "$BIN/pulumi" plugin install resource "$name" "$version" --file "$file" >&2
  log "plugin resource $name $version: installed into $dest"
}

# on_path NAME WANT CMD...: true (and links it) when NAME on PATH, outside $BIN, prints WANT.
on_path() {
  local name=$1 want=$2 p
  shift 2
  p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:) command -v "$name" 2>/dev/null) || return 1
  if "$p" "$@" 2>/dev/null | grep -qF -- "$want"; then
    ln -sfn "$p" "$BIN/$name"
    log "$name: using $p ($want)"
    return 0
  fi
  return 1
}

# ensure ID BUILD_FN: run BUILD_FN into $TOOLS/ID unless that directory is already complete.
ensure() {
  local id=$1 fn=$2 dir=$TOOLS/$1 t0
  if [ -f "$dir/.complete" ]; then
    link_dir "$dir"
    log "$id: cached"
    return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  log "$id: not in the cache: building it (this can take several minutes)"
  t0=$(date +%s)
  "$fn" "$dir"
  touch "$dir/.complete"
  link_dir "$dir"
  log "$id: built in $(($(date +%s) - t0))s"
}

# copy_module MOD@REV DEST: a writable copy of a module's source from the module cache.
copy_module() {
  local dir
  dir=$(go mod download -json "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')
  rm -rf "$2"
  cp -r "$dir" "$2"
  chmod -R u+w "$2"
}

build_pulumi() {
  local out=$1 w=$SRC/pulumi-$PULUMI_VERSION
  mkdir -p "$w"
  cat >"$w/go.mod" <<EOF
module local/pulumi-build

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)

// The one non-local replace of upstream pkg/go.mod and pulumi-language-nodejs/go.mod.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

tool (
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
)
EOF
  (
    cd "$w"
    go mod tidy
    # Without the version stamp the Automation API refuses the CLI ("Failed to parse Pulumi CLI version").
    local ldf="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
    "${GO_BUILD[@]}" -tags osusergo,grpcnotrace -ldflags "$ldf" -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
}

build_kubernetes_provider() {
  local out=$1 w=$SRC/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION
  copy_module "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODVER" "$w"
  (
    cd "$w"
    # ../sdk is not part of the module zip; the provider binary does not import it.
    go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4
    export GOFLAGS="$GOFLAGS -mod=mod"
    # schema-embed.json and terraform-mapping-embed.json are generated, git-ignored files.
    (cd cmd/pulumi-resource-kubernetes && VERSION=$PULUMI_KUBERNETES_VERSION go run generate.go)
    "${GO_BUILD[@]}" -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
      -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  )
}

build_random_provider() {
  local out=$1 w=$SRC/random-bridge-$PULUMI_RANDOM_VERSION
  local ldf="-s -w -X es1/random-provider/version.Version=$PULUMI_RANDOM_VERSION"
  # Upstream's provider module (github.com/pulumi/pulumi-random/provider/v4) is not served by the
  # module proxy, so scripts/random-provider re-creates it on pulumi-terraform-bridge and the
  # Terraform random provider; its generated schema and bridge metadata are made in a scratch copy.
  rm -rf "$w"
  cp -r "$here/random-provider" "$w"
  (
    cd "$w"
    export GOFLAGS="$GOFLAGS -mod=mod"
    "${GO_BUILD[@]}" -ldflags "$ldf" -o bin/pulumi-tfgen-random ./cmd/pulumi-tfgen-random
    # --skip-examples: converting the HCL examples would need Pulumi's converter plugins.
    bin/pulumi-tfgen-random schema --skip-examples --out cmd/pulumi-resource-random
    "${GO_BUILD[@]}" -ldflags "$ldf" -o "$out/pulumi-resource-random" ./cmd/pulumi-resource-random
  )
}

build_helm() {
  local out=$1 minor=${KUBE_VERSION#1.}
  minor=${minor%%.*}
  # Stamp the version and the default KubeVersion like upstream's Makefile (otherwise 1.20).
  GOBIN=$out go install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.metadata= \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
}

build_kwok() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@v$KWOK_VERSION"
}

build_etcd() {
  local out=$1 w=$SRC/etcd-$ETCD_VERSION
  mkdir -p "$w"
  # server/go.mod only has local replaces (and FORBIDDEN_DEPENDENCY guards), so a wrapper suffices.
  printf 'module local/etcd-build\n\ngo 1.25.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n\ntool go.etcd.io/etcd/server/v3\n' "$ETCD_VERSION" >"$w/go.mod"
  (cd "$w" && go mod tidy && "${GO_BUILD[@]}" -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kube() {
  local out=$1 w=$SRC/kubernetes-$KUBE_VERSION sv="v0.${KUBE_VERSION#1.}" gm minor=${KUBE_VERSION#1.}
  minor=${minor%%.*}
  mkdir -p "$w"
  gm=$(cd "$w" && GOFLAGS=-mod=mod go list -m -f '{{.GoMod}}' "k8s.io/kubernetes@v$KUBE_VERSION")
  # k8s.io/kubernetes points its staging modules at ./staging; map each to its published tag.
  {
    printf 'module local/kube-build\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$KUBE_VERSION"
    sed -nE 's#^[[:space:]]*(k8s\.io/[A-Za-z0-9._-]+) => \./staging/.*#\t\1 => \1 '"$sv"'#p' "$gm"
    printf ')\n\ntool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kube-controller-manager\n\tk8s.io/kubernetes/cmd/kube-scheduler\n\tk8s.io/kubernetes/cmd/kubectl\n)\n'
  } >"$w/go.mod"
  (
    cd "$w"
    go mod tidy
    local l="-s -w" kv
    for kv in "gitVersion=v$KUBE_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean buildDate=2000-01-01T00:00:00Z; do
      l="$l -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
    done
    "${GO_BUILD[@]}" -ldflags "$l" -o "$out/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  )
}

# promtool (Prometheus' cmd/promtool): the charts tier checks and unit-tests the ES1 alert rules with
# it (test/charts/run.sh). Only on request (`tools.sh promtool`), as the charts tier asks for it.
build_promtool() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "github.com/prometheus/prometheus/cmd/promtool@v$PROMETHEUS_VERSION"
}

# np-guard's netpol-analyzer (cmd/netpolicy): the NetworkPolicy reachability analysis of a
# three-customer installation (test/e2e/isolation.test.ts). `go install …@version` is refused for
# it here (the checksum database does not answer for github.com/np-guard), so a wrapper module
# pins it and go.sum records what was built. Only on request (`tools.sh netpol`).
build_netpol() {
  local out=$1 w=$SRC/netpol-analyzer-$NETPOL_ANALYZER_VERSION
  mkdir -p "$w"
  printf 'module local/netpol-build\n\ngo 1.25.0\n\nrequire github.com/np-guard/netpol-analyzer v%s\n\ntool github.com/np-guard/netpol-analyzer/cmd/netpolicy\n' \
    "$NETPOL_ANALYZER_VERSION" >"$w/go.mod"
  (
    cd "$w"
    export GONOSUMDB=$GONOSUMDB,github.com/np-guard
    go mod tidy
    "${GO_BUILD[@]}" -ldflags "-s -w" -o "$out/netpolicy" github.com/np-guard/netpol-analyzer/cmd/netpolicy
  )
}

build_kube_linter() {
  local out=$1 w=$SRC/kube-linter-$KUBE_LINTER_VERSION
  mkdir -p "$w"
  # The vanity path golang.stackrox.io is not served by the module proxy here; the same module is,
  # under its GitHub path, which a replace accepts despite the different module name.
  printf 'module local/kube-linter-build\n\ngo 1.25.0\n\nrequire golang.stackrox.io/kube-linter v%s\n\nreplace golang.stackrox.io/kube-linter => github.com/stackrox/kube-linter v%s\n\ntool golang.stackrox.io/kube-linter/cmd/kube-linter\n' \
    "$KUBE_LINTER_VERSION" "$KUBE_LINTER_VERSION" >"$w/go.mod"
  (
    cd "$w"
    go mod tidy
    "${GO_BUILD[@]}" -ldflags "-s -w -X golang.stackrox.io/kube-linter/internal/version.version=v$KUBE_LINTER_VERSION" \
      -o "$out/kube-linter" golang.stackrox.io/kube-linter/cmd/kube-linter
  )
}

# go-containerregistry's registry: an in-memory OCI registry on localhost, for the tests of
# `es1 charts push` and of installs from `es1:airgap.charts: oci://…` (test/e2e/charts-mirror.test.ts).
build_registry() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "github.com/google/go-containerregistry/cmd/registry@v$GGCR_VERSION"
}

# Pulumi's Go language host (module sdk/nodejs/cmd/pulumi-language-nodejs) has no tags and none of
# its versions is served by the module proxy here, so unless a real one is installed, the
# project's Node.js language host goes next to the CLI, where the engine looks for it.
install_language_host() {
  local dir
  dir=$(dirname "$(readlink -f "$(command -v pulumi || echo "$BIN/pulumi")")")
  if [ -x "$dir/pulumi-language-nodejs" ] && ! cmp -s "$dir/pulumi-language-nodejs" "$here/language-host/pulumi-language-nodejs" &&
    ! grep -q "Node.js language host for the Pulumi CLI" "$dir/pulumi-language-nodejs"; then
    log "pulumi-language-nodejs: using $dir/pulumi-language-nodejs"
    return 0
  fi
  if [ -w "$dir" ]; then
    install -m 0755 "$here/language-host/pulumi-language-nodejs" "$dir/pulumi-language-nodejs"
  else
    install -m 0755 "$here/language-host/pulumi-language-nodejs" "$BIN/pulumi-language-nodejs"
  fi
  log "pulumi-language-nodejs: the project's Node.js language host"
}

# Node.js: the @pulumi/pulumi SDK the program pins requires Node $NODE_VERSION's major or newer. A
# node on PATH that new is used as it is; otherwise the official binary comes from the npm
# registry's node-linux-<arch> package (a registry package, like everything else here).
build_node() {
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "node: no node-linux package for $(uname -m); install Node.js ${NODE_VERSION%%.*}+ yourself" && return 1 ;;
  esac
  (cd "$1" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null &&
    tar xzf "node-linux-$arch-$NODE_VERSION.tgz" --strip-components=2 package/bin/node &&
    rm "node-linux-$arch-$NODE_VERSION.tgz")
  "$1/node" --version >/dev/null
}
want_node() {
  local p major
  p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:) command -v node 2>/dev/null) &&
    major=$("$p" -p 'process.versions.node.split(".")[0]' 2>/dev/null) &&
    [ "$major" -ge "${NODE_VERSION%%.*}" ] && {
    ln -sfn "$p" "$BIN/node"
    log "node: using $p (v$("$p" -p process.versions.node))"
    return 0
  }
  ensure "node-$NODE_VERSION" build_node
}
want_pulumi() {
  on_path pulumi "v$PULUMI_VERSION" version || ensure "pulumi-$PULUMI_VERSION" build_pulumi
  PATH=$BIN:$PATH install_language_host
}
want_providers() {
  ensure "pulumi-resource-kubernetes-$PULUMI_KUBERNETES_VERSION" build_kubernetes_provider
  install_plugin kubernetes "$PULUMI_KUBERNETES_VERSION" \
    "$TOOLS/pulumi-resource-kubernetes-$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes"
  ensure "pulumi-resource-random-$PULUMI_RANDOM_VERSION" build_random_provider
  install_plugin random "$PULUMI_RANDOM_VERSION" "$TOOLS/pulumi-resource-random-$PULUMI_RANDOM_VERSION/pulumi-resource-random"
}
want_helm() { on_path helm "v$HELM_VERSION" version --template '{{.Version}}' || ensure "helm-$HELM_VERSION" build_helm; }
want_cluster() {
  on_path kwokctl "v$KWOK_VERSION" --version || ensure "kwok-$KWOK_VERSION" build_kwok
  on_path etcd "etcd Version: $ETCD_VERSION" --version || ensure "etcd-$ETCD_VERSION" build_etcd
  ensure "kubernetes-$KUBE_VERSION" build_kube
}
want_lint() { on_path kube-linter "$KUBE_LINTER_VERSION" version || ensure "kube-linter-$KUBE_LINTER_VERSION" build_kube_linter; }
want_promtool() { ensure "promtool-$PROMETHEUS_VERSION" build_promtool; }
want_registry() { ensure "registry-$GGCR_VERSION" build_registry; }
want_netpol() { ensure "netpol-analyzer-$NETPOL_ANALYZER_VERSION" build_netpol; }

status() {
  local f
  for f in "$BIN"/*; do
    [ -e "$f" ] && printf '%-32s %s\n' "$(basename "$f")" "$(readlink -f "$f")"
  done
}

[ $# -gt 0 ] || set -- all
for what in "$@"; do
  case $what in
    all)
      # Two build chains side by side: while one waits on module downloads or a single-threaded
      # link, the other compiles. Each chain's output is prefixed with its name.
      want_node
      (want_pulumi && want_providers) > >(sed -u 's/^/[pulumi] /' >&2) 2>&1 &
      a=$!
      (want_cluster && want_helm && want_lint && want_registry) > >(sed -u 's/^/[k8s] /' >&2) 2>&1 &
      b=$!
      rc=0
      wait $a || rc=1
      wait $b || rc=1
      [ $rc -eq 0 ] || { log "a build failed (see above)"; exit 1; }
      ;;
    node) want_node ;;
    pulumi) want_pulumi ;;
    providers) want_pulumi; want_providers ;;
    helm) want_helm ;;
    cluster) want_cluster ;;
    lint) want_lint ;;
    promtool) want_promtool ;;
    registry) want_registry ;;
    netpol) want_netpol ;;
    bin) echo "$BIN" ;;
    status) status ;;
    *)
      echo "tools.sh: unknown target '$what' (allowed: all, node, pulumi, providers, helm, cluster, lint, registry, promtool, netpol, bin, status)" >&2
      exit 2
      ;;
  esac
done
