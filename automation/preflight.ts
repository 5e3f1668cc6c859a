// `es1 preflight`: whether an existing cluster has what a stack needs, before anything is deployed.
// Pure functions here: what the cluster has (ClusterFacts, read by preflight-cluster.ts) against
// what the stack needs (PreflightNeeds, preflight-needs.ts), one check each, and the report. Every
// failed check says what was found, what is needed and how to fix it.
import { Taint } from "../clusters/types";
import { formatBytes, formatCpu, parseQuantity } from "../lib/quantity";
import type { AccessNeed, OperatorNeed, PoolNeed, PreflightNeeds, Requests } from "./preflight-needs";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface PreflightCheck {
  /** Stable id a pipeline can match: `kubernetes-version`, `pool/platform`, `crds/cert-manager`, ... */
  id: string;
  title: string;
  status: CheckStatus;
  /** What the cluster has. */
  found: string;
  /** What the stack needs. */
  needed: string;
  /** How to fix it (failed and warned checks). */
  fix?: string;
}

export const EXIT_PREFLIGHT_OK = 0;
/** A check failed, or the stack's config is invalid: nothing was deployed. */
export const EXIT_PREFLIGHT_FAILED = 2;

/** The one JSON document `es1 preflight --json` writes. */
export interface PreflightReport {
  operation: "preflight";
  /** null when the command line was unusable. */
  stack: string | null;
  status: "passed" | "failed" | "skipped";
  exitCode: typeof EXIT_PREFLIGHT_OK | typeof EXIT_PREFLIGHT_FAILED;
  durationSeconds: number;
  /** The cluster checked: its name in the stack's config and its API server. */
  cluster?: { name: string; server?: string; kubernetesVersion?: string };
  checks: PreflightCheck[];
  /** Why the checks could not run (config errors), or why they were skipped. */
  errors: string[];
}

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  unschedulable: boolean;
  /** status.allocatable as the API gives it (`cpu`, `memory`, `nvidia.com/gpu`). */
  allocatable: Record<string, string>;
}

export interface CrdFacts {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** What preflight reads of a cluster. */
export interface ClusterFacts {
  version: { gitVersion: string; major: string; minor: string };
  nodes: NodeFacts[];
  storageClasses: { name: string; provisioner: string; allowVolumeExpansion: boolean; isDefault: boolean }[];
  ingressClasses: string[];
  /** GatewayClass names; undefined: the cluster serves no Gateway API (its CRDs are absent). */
  gatewayClasses?: string[];
  crds: CrdFacts[];
  /** A server-side dry run of a namespace with an invalid Pod Security level: refused when PSA is on. */
  podSecurity: { enforced: boolean; detail: string } | { error: string };
  access: { need: AccessNeed; allowed: boolean; reason?: string }[];
}

const GPU = "nvidia.com/gpu";

function minor(v: string): [number, number] {
  const [a, b] = v.replace(/^v/, "").split(".");
  return [Number(a), Number.parseInt(b ?? "0", 10)];
}

function below(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export function checkKubernetesVersion(facts: ClusterFacts, needs: PreflightNeeds): PreflightCheck {
  const { min, newestTested } = needs.kubernetes;
  const v = facts.version;
  const have: [number, number] = [Number(v.major), Number.parseInt(v.minor, 10)];
  const base = {
    id: "kubernetes-version",
    title: "Kubernetes version",
    found: v.gitVersion,
    needed: `${min} to ${newestTested} (tested); newer with a warning`,
  };
  if (Number.isNaN(have[0]) || Number.isNaN(have[1]))
    return {
      ...base,
      status: "warn",
      fix: `the API server reports no usable version (major '${v.major}', minor '${v.minor}'); check it is Kubernetes ${min} or newer`,
    };
  if (below(have, minor(min)))
    return {
      ...base,
      status: "fail",
      fix: `upgrade the cluster to Kubernetes ${min} or newer: CloudNativePG and the ES1 platform chart need it`,
    };
  if (below(minor(newestTested), have))
    return {
      ...base,
      status: "warn",
      fix: `Kubernetes ${have.join(".")} is newer than this installer was tested with (${newestTested}); proceed, and report problems`,
    };
  return { ...base, status: "pass" };
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function taintText(t: { key: string; value?: string; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/** Whether a pod with `tolerations` (Equal, as the values builders write them) tolerates `t`. */
function tolerated(
  t: { key: string; value?: string; effect: string },
  tolerations: readonly Taint[],
): boolean {
  if (t.effect === "PreferNoSchedule") return true;
  return tolerations.some(
    (x) => x.key === t.key && (x.value ?? "") === (t.value ?? "") && x.effect === t.effect,
  );
}

function sum(nodes: readonly NodeFacts[], resource: string): number {
  return nodes.reduce((n, node) => n + (parseQuantity(node.allocatable[resource]) ?? 0), 0);
}

function showRequests(r: Requests): string {
  return `${formatCpu(r.cpu)} CPU, ${formatBytes(r.memory)} memory`;
}

/**
 * One pool: schedulable nodes carrying its labels, whose taints its workloads tolerate, with the
 * allocatable CPU and memory its workloads request (in total, and the largest pod on one node).
 */
export function checkPool(facts: ClusterFacts, need: PoolNeed): PreflightCheck {
  const labels = need.placement.labels;
  const selector = labelText(labels);
  const base = {
    id: `pool/${need.pool}`,
    title: `node pool '${need.pool}' (${need.workloads.join(", ")})`,
    needed: `schedulable nodes labelled ${selector}${need.placement.taints.length ? ` and tainted ${need.placement.taints.map(taintText).join(", ")}` : ""} with at least ${showRequests(need.total)} allocatable${need.largestPod.what ? `, ${showRequests(need.largestPod)} on one node (${need.largestPod.what})` : ""}`,
  };
  const labelled = facts.nodes.filter((n) => Object.entries(labels).every(([k, v]) => n.labels[k] === v));
  if (labelled.length === 0) {
    const missing = Object.entries(labels).filter(([k, v]) => !facts.nodes.some((n) => n.labels[k] === v));
    const partly = facts.nodes.filter((n) => Object.entries(labels).some(([k, v]) => n.labels[k] === v));
    const found =
      partly.length > 0
        ? `no node carries every label ${selector}; ${partly
            .map(
              (n) =>
                `${n.name} lacks ${Object.entries(labels)
                  .filter(([k, v]) => n.labels[k] !== v)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(",")}`,
            )
            .join("; ")}`
        : `no node carries label ${(missing.length ? missing : Object.entries(labels)).map(([k, v]) => `${k}=${v}`).join(",")} (${facts.nodes.length} nodes: ${facts.nodes.map((n) => `${n.name}${n.labels["es1-pool"] ? ` es1-pool=${n.labels["es1-pool"]}` : ""}`).join(", ") || "none"})`;
    const taints = need.placement.taints.map((t) => ` && kubectl taint node <node> ${taintText(t)}`).join("");
    return {
      ...base,
      status: "fail",
      found,
      fix: `give the nodes of the ${need.pool} pool the ES1 placement (clusters/node-pools.json): kubectl label node <node> ${Object.entries(
        labels,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}${taints} (docs/clusters/existing.md)`,
    };
  }
  const schedulable = labelled.filter((n) => !n.unschedulable);
  const usable = schedulable.filter((n) => n.taints.every((t) => tolerated(t, need.placement.taints)));
  const foundNodes = `${labelled.length} node(s) labelled ${selector} (${labelled.map((n) => n.name).join(", ")})`;
  if (usable.length === 0) {
    const why = labelled.map((n) =>
      n.unschedulable
        ? `${n.name} is cordoned`
        : `${n.name} has taints the ES1 workloads do not tolerate: ${n.taints
            .filter((t) => !tolerated(t, need.placement.taints))
            .map(taintText)
            .join(", ")}`,
    );
    return {
      ...base,
      status: "fail",
      found: `${foundNodes}, none usable: ${why.join("; ")}`,
      fix: `uncordon the nodes (kubectl uncordon <node>) or remove the other taints (kubectl taint node <node> <key>:<effect>-); the ${need.pool} pool's only taints are ${need.placement.taints.map(taintText).join(", ") || "none"}`,
    };
  }
  const cpu = sum(usable, "cpu");
  const memory = sum(usable, "memory");
  const maxCpu = Math.max(...usable.map((n) => parseQuantity(n.allocatable.cpu) ?? 0));
  const maxMemory = Math.max(...usable.map((n) => parseQuantity(n.allocatable.memory) ?? 0));
  const found = `${foundNodes}; usable: ${usable.length}, ${formatCpu(cpu)} CPU and ${formatBytes(memory)} memory allocatable (largest node ${formatCpu(maxCpu)} CPU, ${formatBytes(maxMemory)})`;
  const short: string[] = [];
  if (cpu < need.total.cpu) short.push(`${formatCpu(need.total.cpu - cpu)} CPU`);
  if (memory < need.total.memory) short.push(`${formatBytes(need.total.memory - memory)} memory`);
  if (short.length > 0)
    return {
      ...base,
      status: "fail",
      found,
      fix: `add nodes to the ${need.pool} pool (or larger ones): ${short.join(" and ")} short; or choose a smaller es1:sizing, fewer replicas (es1:components.<name>.replicas) or fewer customers`,
    };
  const p = need.largestPod;
  if (p.cpu > maxCpu || p.memory > maxMemory)
    return {
      ...base,
      status: "fail",
      found,
      fix: `${p.what} requests ${showRequests(p)} per pod, more than any node of the ${need.pool} pool has: add a larger node, or lower es1:components.<name>.resources.requests`,
    };
  const untainted = usable.filter((n) =>
    need.placement.taints.some((t) => !n.taints.some((x) => taintText(x) === taintText(t))),
  );
  if (untainted.length > 0)
    return {
      ...base,
      status: "warn",
      found: `${found}; not tainted ${need.placement.taints.map(taintText).join(", ")}: ${untainted.map((n) => n.name).join(", ")}`,
      fix: `taint them so only ES1 ${need.pool} workloads run there: ${need.placement.taints.map((t) => `kubectl taint node <node> ${taintText(t)}`).join(" && ")}`,
    };
  return { ...base, status: "pass", found };
}

/** GPUs allocatable on the aiml pool when Ollama asks for one. */
export function checkGpu(facts: ClusterFacts, need: PoolNeed): PreflightCheck {
  const labelled = facts.nodes.filter(
    (n) => !n.unschedulable && Object.entries(need.placement.labels).every(([k, v]) => n.labels[k] === v),
  );
  const gpus = sum(labelled, GPU);
  const base = {
    id: "gpu",
    title: "GPUs for Ollama",
    found: `${gpus} ${GPU} allocatable on ${labelled.length} node(s) of the aiml pool`,
    needed: `${need.gpus} ${GPU} allocatable on nodes labelled ${labelText(need.placement.labels)}`,
  };
  if (gpus >= need.gpus) return { ...base, status: "pass" };
  return {
    ...base,
    status: "fail",
    fix:
      labelled.length === 0
        ? "add a GPU node pool labelled as above, or set es1:components.ollama.gpu to false (Ollama then runs on CPU in the infrastructure pool)"
        : "install the NVIDIA device plugin on the GPU nodes so they advertise nvidia.com/gpu, or set es1:components.ollama.gpu to false",
  };
}

export function checkStorageClass(facts: ClusterFacts, needs: PreflightNeeds): PreflightCheck {
  const { name, volumes } = needs.storageClass;
  const sc = facts.storageClasses.find((s) => s.name === name);
  const classes =
    facts.storageClasses.map((s) => `${s.name}${s.isDefault ? " (default)" : ""}`).join(", ") || "none";
  const base = {
    id: "storage-class",
    title: `StorageClass '${name}'`,
    needed: volumes
      ? `StorageClass ${name} (es1:cluster.storageClass), allowing volume expansion`
      : `StorageClass ${name} (no volume planned)`,
  };
  if (!sc)
    return {
      ...base,
      status: volumes ? "fail" : "warn",
      found: `no StorageClass '${name}'; the cluster has: ${classes}`,
      fix: `set es1:cluster.storageClass to one of the cluster's classes (${classes}), or create StorageClass ${name}`,
    };
  const found = `${name} (provisioner ${sc.provisioner}${sc.allowVolumeExpansion ? ", allows expansion" : ", no volume expansion"})`;
  if (volumes && !sc.allowVolumeExpansion)
    return {
      ...base,
      status: "warn",
      found,
      fix: `volumes cannot be grown later (docs/components.md): set allowVolumeExpansion: true on StorageClass ${name} if its provisioner supports it, or pick a class that does`,
    };
  return { ...base, status: "pass", found };
}

export function checkGatewayClass(facts: ClusterFacts, needs: PreflightNeeds): PreflightCheck {
  const gc = needs.gatewayClass;
  if (!gc)
    return {
      id: "gateway-class",
      title: "GatewayClass",
      status: "skip",
      found: "-",
      needed: "none: nothing is exposed through Gateway API (es1:access)",
    };
  const base = {
    id: "gateway-class",
    title: `GatewayClass '${gc.name}'`,
    needed: `GatewayClass ${gc.name} for the Gateways of ${gc.routes.join(", ")}`,
  };
  const classes = facts.gatewayClasses;
  if (gc.created && (gc.crds || classes !== undefined))
    return {
      ...base,
      status: "pass",
      found: `created by the program${gc.crds ? ", with the Gateway API CRDs" : ""}`,
    };
  if (classes === undefined)
    return {
      ...base,
      status: "fail",
      found: "no Gateway API on the cluster (the gatewayclasses.gateway.networking.k8s.io CRD is missing)",
      fix: "install the Gateway API CRDs and a Gateway controller, set es1:access.installEnvoyGateway: true, or set es1:access.mode: ingress",
    };
  if (classes.includes(gc.name)) return { ...base, status: "pass", found: gc.name };
  return {
    ...base,
    status: "fail",
    found: `no GatewayClass '${gc.name}'; the cluster has: ${classes.join(", ") || "none"}`,
    fix: `install the Gateway controller providing GatewayClass ${gc.name}, or set es1:access.gatewayClass to one of the cluster's`,
  };
}

export function checkIngressClass(facts: ClusterFacts, needs: PreflightNeeds): PreflightCheck {
  const ic = needs.ingressClass;
  if (!ic)
    return {
      id: "ingress-class",
      title: "IngressClass",
      status: "skip",
      found: "-",
      needed: "none: no customer has domains (no Ingress is created)",
    };
  const base = {
    id: "ingress-class",
    title: `IngressClass '${ic.name}'`,
    needed: `IngressClass ${ic.name} (es1:cluster.ingressClass) for the Ingresses of ${ic.customers.join(", ")}`,
  };
  if (facts.ingressClasses.includes(ic.name)) return { ...base, status: "pass", found: ic.name };
  return {
    ...base,
    status: "fail",
    found: `no IngressClass '${ic.name}'; the cluster has: ${facts.ingressClasses.join(", ") || "none"}`,
    fix: `install an ingress controller providing IngressClass ${ic.name}, or set es1:cluster.ingressClass to one of the cluster's`,
  };
}

/** The Helm release that owns a CRD, from Helm's ownership annotations. */
function owner(crd: CrdFacts): string {
  const name = crd.annotations["meta.helm.sh/release-name"];
  const ns = crd.annotations["meta.helm.sh/release-namespace"];
  if (name) return `Helm release ${ns ?? "?"}/${name}`;
  const managed = crd.labels["app.kubernetes.io/managed-by"];
  return managed
    ? `managed by ${managed}, no Helm release`
    : "no Helm release (kubectl or an operator installed it)";
}

/**
 * One operator: when the stack installs it, its CRDs are absent or already its own release's (Helm
 * refuses to take over objects another release or kubectl made); when the stack uses the cluster's,
 * they are present.
 */
export function checkOperator(facts: ClusterFacts, need: OperatorNeed, namespace: string): PreflightCheck {
  const present = facts.crds.filter((c) => need.crds.includes(c.name));
  const base = {
    id: `crds/${need.release.replace(/^es1-/, "")}`,
    title: `${need.name} CRDs`,
  };
  if (need.mode === "present") {
    const missing = need.crds.filter((n) => !present.some((c) => c.name === n));
    const found = `${present.length} of ${need.crds.length} CRDs present`;
    const needed = `${need.name} installed in the cluster (${need.setting} is false)`;
    if (missing.length === 0) return { ...base, status: "pass", found, needed };
    return {
      ...base,
      status: "fail",
      found: `${found}; missing ${missing.join(", ")}`,
      needed,
      fix: `install ${need.name} in the cluster, or set ${need.setting} to true so the stack installs it`,
    };
  }
  const foreign = present.filter(
    (c) =>
      c.annotations["meta.helm.sh/release-name"] !== need.release ||
      c.annotations["meta.helm.sh/release-namespace"] !== namespace,
  );
  const needed = `no ${need.name} CRDs, or only those of release ${namespace}/${need.release} (the stack installs ${need.name})`;
  if (foreign.length === 0)
    return {
      ...base,
      status: "pass",
      found: present.length ? `${present.length} CRDs of ${namespace}/${need.release}` : "none installed",
      needed,
    };
  const owners = [...new Set(foreign.map(owner))];
  const adopt =
    `kubectl annotate crd <name> meta.helm.sh/release-name=${need.release} meta.helm.sh/release-namespace=${namespace} --overwrite && ` +
    "kubectl label crd <name> app.kubernetes.io/managed-by=Helm --overwrite";
  const skip =
    need.setting === "es1:components.langfuse.installOperators"
      ? `set ${need.setting} to false to use the cluster's ${need.name}`
      : `set ${need.setting} to false to leave it out`;
  return {
    ...base,
    status: "fail",
    found: `${foreign.length} CRD(s) owned elsewhere: ${foreign.map((c) => c.name).join(", ")} (${owners.join("; ")})`,
    needed,
    fix: `${skip}; or let the ES1 release adopt them (it then upgrades them): ${adopt}`,
  };
}

export function checkPodSecurity(facts: ClusterFacts, needs: PreflightNeeds): PreflightCheck {
  const base = {
    id: "pod-security",
    title: "Pod Security admission",
    needed: `enforced namespace labels (pod-security.kubernetes.io/enforce) on ${needs.namespaces.join(", ")}`,
  };
  const ps = facts.podSecurity;
  if ("error" in ps)
    return {
      ...base,
      status: "warn",
      found: `could not be probed: ${ps.error}`,
      fix: "check that the PodSecurity admission plugin is on (it is by default since Kubernetes 1.25)",
    };
  if (ps.enforced) return { ...base, status: "pass", found: ps.detail };
  return {
    ...base,
    status: "fail",
    found: ps.detail,
    fix: "enable the PodSecurity admission plugin of the API server (--enable-admission-plugins=PodSecurity; on by default since 1.25): customer namespaces rely on it to enforce the restricted level",
  };
}

function accessText(a: AccessNeed): string {
  const resource = a.group ? `${a.resource}.${a.group}` : a.resource;
  return `${a.verb} ${resource}${a.namespace ? ` in ${a.namespace}` : ""}`;
}

export function checkAccess(facts: ClusterFacts): PreflightCheck {
  const denied = facts.access.filter((a) => !a.allowed);
  const base = {
    id: "api-access",
    title: "API rights of the stack's credentials",
    needed: `${facts.access.length} rights: ${[...new Set(facts.access.map((a) => a.need.verb))].join(", ")} on namespaces, CRDs, cluster roles, webhooks, priority classes and the ES1 namespaces' objects`,
  };
  if (denied.length === 0)
    return { ...base, status: "pass", found: `all ${facts.access.length} allowed (SelfSubjectAccessReview)` };
  return {
    ...base,
    status: "fail",
    found: `denied: ${denied.map((a) => `${accessText(a.need)} (${a.need.why})`).join("; ")}`,
    fix: `run as a user with these rights (cluster-admin, as Helm installs operators); check with ${denied
      .slice(0, 3)
      .map(
        (a) =>
          `kubectl auth can-i ${a.need.verb} ${a.need.group ? `${a.need.resource}.${a.need.group}` : a.need.resource}${a.need.namespace ? ` -n ${a.need.namespace}` : ""}`,
      )
      .join(", ")}`,
  };
}

/** Every check of `needs` against `facts`, in a stable order. */
export function evaluate(facts: ClusterFacts, needs: PreflightNeeds, namespace: string): PreflightCheck[] {
  const checks: PreflightCheck[] = [
    {
      id: "api-reachable",
      title: "API server reachable",
      status: "pass",
      found: `Kubernetes ${facts.version.gitVersion}`,
      needed: "an answer from the API server with the stack's kubeconfig",
    },
    checkKubernetesVersion(facts, needs),
    checkAccess(facts),
    ...needs.pools.map((p) => checkPool(facts, p)),
  ];
  const gpu = needs.pools.find((p) => p.gpus > 0);
  if (gpu) checks.push(checkGpu(facts, gpu));
  checks.push(checkStorageClass(facts, needs), checkIngressClass(facts, needs));
  // Shown only in gateway mode: Ingress stacks keep the checks they had.
  if (needs.gatewayClass) checks.push(checkGatewayClass(facts, needs));
  checks.push(...needs.operators.map((o) => checkOperator(facts, o, namespace)));
  checks.push(checkPodSecurity(facts, needs));
  return checks;
}

/** The checks when the API server cannot be reached: that one fails, the others cannot run. */
export function unreachable(error: string, server: string | undefined): PreflightCheck[] {
  return [
    {
      id: "api-reachable",
      title: "API server reachable",
      status: "fail",
      found: error,
      needed: `an answer from ${server ?? "the API server"} with the stack's kubeconfig`,
      fix: "check es1:cluster.kubeconfig / es1:kubeconfig and es1:cluster.context, the network path to the API server, and that the credentials are current (exec plugins need their CLI and login)",
    },
  ];
}

/** The checks when the server answers but its objects cannot be listed. */
export function unreadable(error: string): PreflightCheck[] {
  return [
    {
      id: "cluster-read",
      title: "cluster objects readable",
      status: "fail",
      found: error,
      needed: "list nodes, storage classes, ingress classes and CRDs; create SelfSubjectAccessReviews",
      fix: "run with credentials that may read these cluster-scoped objects (the program needs far more: cluster-admin)",
    },
  ];
}

/** Status and exit code of a set of checks: any failure fails the whole preflight. */
export function verdict(checks: readonly PreflightCheck[]): Pick<PreflightReport, "status" | "exitCode"> {
  return checks.some((c) => c.status === "fail")
    ? { status: "failed", exitCode: EXIT_PREFLIGHT_FAILED }
    : { status: "passed", exitCode: EXIT_PREFLIGHT_OK };
}

const MARK: Record<CheckStatus, string> = { pass: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

/** The report as people read it: one line per check, and for the others what, why and how. */
export function formatPreflight(r: PreflightReport): string {
  const lines = [
    `es1 preflight ${r.stack ?? ""}${r.cluster ? ` (cluster ${r.cluster.name}${r.cluster.server ? `, ${r.cluster.server}` : ""})` : ""}: ${r.status} (exit ${r.exitCode})`,
  ];
  for (const c of r.checks) {
    lines.push(`  ${MARK[c.status]}  ${c.title}: ${c.found}`);
    if (c.status === "fail" || c.status === "warn") {
      lines.push(`        needed: ${c.needed}`);
      if (c.fix) lines.push(`        fix: ${c.fix}`);
    }
  }
  for (const e of r.errors) lines.push(`  ${e}`);
  return `${lines.join("\n")}\n`;
}

/** One message per failed check, for the `errors` of an `up`/`preview` that preflight refused. */
export function failureMessages(r: PreflightReport): string[] {
  return [
    ...r.errors,
    ...r.checks
      .filter((c) => c.status === "fail")
      .map(
        (c) =>
          `preflight ${c.id}: ${c.title}: found ${c.found}; needed ${c.needed}${c.fix ? `; fix: ${c.fix}` : ""}`,
      ),
  ];
}
