#!/usr/bin/env bash
# A local Kubernetes control plane with simulated nodes (kwok), built by scripts/tools.sh: real
# etcd, kube-apiserver, controller-manager and scheduler, with kwok playing the kubelets, so
# Deployments, StatefulSets and Jobs behave as on a real cluster without running containers.
#
#   scripts/cluster.sh up           create (or reuse) the cluster and its node pools
#   scripts/cluster.sh down         delete it
#   scripts/cluster.sh kubeconfig   print the kubeconfig path
#   scripts/cluster.sh status       show the cluster's nodes
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

NAME=${ES1_CLUSTER_NAME:-es1}
STATE=${ES1_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/es1}
export KWOK_WORKDIR=$STATE/kwok
KUBECONFIG_FILE=$KWOK_WORKDIR/$NAME.kubeconfig
# The docker client on these machines has no engine: never let kwokctl pick a container runtime.
export KWOK_RUNTIME=binary

log() { printf '[cluster] %s\n' "$*" >&2; }

tools_bin() {
  bash "$here/tools.sh" cluster >&2
  bash "$here/tools.sh" bin
}

kctl() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

running() {
  [ -f "$KUBECONFIG_FILE" ] && kctl get --raw /readyz >/dev/null 2>&1
}

write_config() {
  local bin=$1 cfg=$KWOK_WORKDIR/$NAME.wanted.yaml
  mkdir -p "$KWOK_WORKDIR"
  # Every binary is a local path, so kwokctl links them instead of downloading anything;
  # bindAddress keeps the control plane on loopback (kwokctl's default is 0.0.0.0).
  cat >"$cfg" <<EOF
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: v$KUBE_VERSION
  kubeApiserverBinary: $bin/kube-apiserver
  kubeControllerManagerBinary: $bin/kube-controller-manager
  kubeSchedulerBinary: $bin/kube-scheduler
  kwokControllerBinary: $bin/kwok
  etcdBinary: $bin/etcd
  kubectlBinary: $bin/kubectl
# No process serves the admission webhooks that charts register (CloudNativePG, cert-manager, the
# ClickHouse and Prometheus operators): the API server skips webhooks instead of failing every
# request they match. Other admission (Pod Security, ValidatingAdmissionPolicy, quotas) stays on.
# docs/toolchain.md lists the webhooks this leaves unexercised.
componentsPatches:
  - name: kube-apiserver
    extraArgs:
      - key: disable-admission-plugins
        value: MutatingAdmissionWebhook,ValidatingAdmissionWebhook
EOF
  echo "$cfg"
}

# One simulated node per pool (two for platform, so topology spread has somewhere to go), with
# the labels and taints of clusters/node-pools.json.
apply_nodes() {
  node - "$root/clusters/node-pools.json" <<'EOF' | kctl apply -f - >&2
const pools = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const counts = { platform: 2 };
const items = [];
for (const [pool, spec] of Object.entries(pools)) {
  if (pool.startsWith("$")) continue;
  for (let i = 0; i < (counts[pool] ?? 1); i++) {
    const name = `es1-${pool}-${i}`;
    const capacity = { cpu: "16", memory: "64Gi", pods: "110", "ephemeral-storage": "200Gi" };
    if (pool === "aiml") capacity["nvidia.com/gpu"] = "1";
    items.push({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          ...spec.labels,
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "topology.kubernetes.io/zone": `local-${String.fromCharCode(97 + (i % 3))}`,
          type: "kwok",
        },
      },
      spec: { taints: spec.taints },
      status: { allocatable: capacity, capacity },
    });
  }
}
process.stdout.write(JSON.stringify({ apiVersion: "v1", kind: "List", items }));
EOF
}

# The default StorageClass `standard` and its provisioner (scripts/kwok-volumes.js), so pods
# with volumes schedule as they would on a real cluster.
VOLUMES_PID=$KWOK_WORKDIR/$NAME-volumes.pid
storage() {
  kctl apply -f - >&2 <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: es1.local/kwok-volumes
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
EOF
  # The recorded process must still be this cluster's provisioner: a PID is reused once it ends.
  if [ -f "$VOLUMES_PID" ] &&
    ps -o args= -p "$(cat "$VOLUMES_PID")" 2>/dev/null | grep -qF "kwok-volumes.js $KUBECONFIG_FILE"; then
    return
  fi
  nohup node "$here/kwok-volumes.js" "$KUBECONFIG_FILE" >"$KWOK_WORKDIR/$NAME-volumes.log" 2>&1 &
  echo $! >"$VOLUMES_PID"
}

# IngressClass `nginx`, the default es1:cluster.ingressClass, so customers with domains pass the
# preflight check (automation/preflight.ts) as on a cluster with ingress-nginx. No controller serves
# it: the simulated cluster routes no traffic (docs/toolchain.md).
ingress_class() {
  kctl apply -f - >&2 <<EOF
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
EOF
}

stop_volumes() {
  if [ -f "$VOLUMES_PID" ]; then kill "$(cat "$VOLUMES_PID")" 2>/dev/null || true; fi
  rm -f "$VOLUMES_PID"
}

up() {
  local bin cfg
  bin=$(tools_bin)
  export PATH=$bin:$PATH
  cfg=$(write_config "$bin")
  # A cluster made from another configuration (an older version of this script) is recreated.
  if running && cmp -s "$cfg" "$KWOK_WORKDIR/$NAME.kwokctl.yaml"; then
    log "cluster '$NAME' is already running"
  else
    # A cluster left half-made by an earlier run (or a machine restart) is recreated.
    kwokctl delete cluster --name "$NAME" >/dev/null 2>&1 || true
    log "creating cluster '$NAME' (kube $KUBE_VERSION, kwok $KWOK_VERSION)"
    kwokctl create cluster --name "$NAME" --config "$cfg" --kubeconfig "$KUBECONFIG_FILE" --wait 5m >&2
    cp "$cfg" "$KWOK_WORKDIR/$NAME.kwokctl.yaml"
  fi
  apply_nodes
  storage
  ingress_class
  kctl wait --for=condition=Ready node --all --timeout=120s >&2
  log "ready; kubeconfig: $KUBECONFIG_FILE (context kwok-$NAME)"
}

down() {
  local bin
  bin=$(bash "$here/tools.sh" bin)
  export PATH=$bin:$PATH
  stop_volumes
  if command -v kwokctl >/dev/null; then
    kwokctl delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >&2 || true
  fi
  rm -f "$KUBECONFIG_FILE" "$KWOK_WORKDIR/$NAME.kwokctl.yaml"
  log "cluster '$NAME' deleted"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  status) kctl get nodes -L es1-pool ;;
  *)
    echo "usage: scripts/cluster.sh up|down|kubeconfig|status" >&2
    exit 2
    ;;
esac
