// What a stack needs of the cluster it deploys to, from its Settings alone (plain data, no cluster
// access): node pools with their placement and the capacity the sizing asks for, the StorageClass,
// the IngressClass, cluster-wide operators and their CRDs, and the API rights the program uses.
// automation/preflight.ts compares it with what the cluster has.
import { planAccess } from "../access/plan";
import { NODE_POOLS, NodePoolPlacement, PoolName } from "../clusters/types";
import type { Settings } from "../config";
import { CATALOG, ReleaseKey, releaseName } from "../infrastructure/catalog";
import { INFRASTRUCTURE_NAMESPACE, NODE_EXPORTER_NAMESPACE } from "../infrastructure/layout";
import { backsUpPostgresql, plannedReleases, valuesContext } from "../infrastructure";
import { parseQuantity } from "../lib/quantity";
import { customerObjects } from "../platform/values";
import { PLATFORM_SIZING } from "../platform/sizing";

/**
 * Kubernetes versions this installer supports: `min` is the highest `kubeVersion` floor among the
 * charts it installs (CloudNativePG, its cluster chart and platform/chart ask for 1.29), and
 * `newestTested` the version of the local test cluster (scripts/versions.env KUBE_VERSION).
 * Newer versions are allowed with a warning: no chart sets an upper bound below 2.0.
 */
export const SUPPORTED_KUBERNETES = { min: "1.29", newestTested: "1.36" } as const;

/** CPU (cores) and memory (bytes) requests. */
export interface Requests {
  cpu: number;
  memory: number;
}

/** What one ES1 node pool must offer. */
export interface PoolNeed {
  pool: PoolName;
  placement: NodePoolPlacement;
  /** Sum of the requests of the workloads placed there (a lower bound: see docs/operations.md). */
  total: Requests;
  /** GPUs (nvidia.com/gpu) the pool's workloads request in total. */
  gpus: number;
  /** The largest single pod, which must fit on one node. */
  largestPod: Requests & { what: string };
  /** What runs there, for the message (`postgresql ×2`, `customer beam (5 pods)`). */
  workloads: string[];
}

/** A cluster-wide operator (its CRDs) the stack installs, or expects to find. */
export interface OperatorNeed {
  /** cert-manager, Prometheus Operator CRDs, CloudNativePG, ClickHouse operator. */
  name: string;
  /** `install`: the stack's release creates the CRDs, so none may belong to anybody else. `present`: the stack uses the cluster's. */
  mode: "install" | "present";
  /** The Helm release that owns the CRDs when this stack installs them. */
  release: string;
  crds: readonly string[];
  /** The setting that makes the stack use the cluster's operator instead, or switches it off. */
  setting: string;
}

/** One permission, as a SelfSubjectAccessReview asks it. */
export interface AccessNeed {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  /** Why the program needs it. */
  why: string;
}

export interface PreflightNeeds {
  kubernetes: { min: string; newestTested: string };
  pools: PoolNeed[];
  /** The StorageClass of every volume; `volumes` false when nothing of the stack keeps a volume. */
  storageClass: { name: string; volumes: boolean };
  /** The IngressClass, when customers are exposed through Ingresses. */
  ingressClass?: { name: string; customers: string[] };
  /**
   * The GatewayClass, when routes are exposed through Gateway API (es1:access.mode gateway):
   * `routes` what uses it; `created` the program creates the class, `crds` it installs the CRDs.
   */
  gatewayClass?: { name: string; routes: string[]; created: boolean; crds: boolean };
  operators: OperatorNeed[];
  /** Namespaces the stack creates (Pod Security labels on them must be enforced). */
  namespaces: string[];
  access: AccessNeed[];
}

/**
 * CRDs of the operator charts, as their pinned versions template them (all in templates/, so Helm
 * refuses to install over CRDs another release or kubectl created). A unit test holds these lists
 * to the chart archives.
 */
export const OPERATOR_CRDS: Record<
  "postgresql-operator" | "postgresql-backup" | "monitoring-crds" | "cert-manager" | "clickhouse-operator",
  readonly string[]
> = {
  "postgresql-operator": [
    "backups.postgresql.cnpg.io",
    "clusterimagecatalogs.postgresql.cnpg.io",
    "clusters.postgresql.cnpg.io",
    "databaseroles.postgresql.cnpg.io",
    "databases.postgresql.cnpg.io",
    "failoverquorums.postgresql.cnpg.io",
    "imagecatalogs.postgresql.cnpg.io",
    "poolers.postgresql.cnpg.io",
    "publications.postgresql.cnpg.io",
    "scheduledbackups.postgresql.cnpg.io",
    "subscriptions.postgresql.cnpg.io",
  ],
  "postgresql-backup": ["objectstores.barmancloud.cnpg.io"],
  "monitoring-crds": [
    "alertmanagerconfigs.monitoring.coreos.com",
    "alertmanagers.monitoring.coreos.com",
    "podmonitors.monitoring.coreos.com",
    "probes.monitoring.coreos.com",
    "prometheusagents.monitoring.coreos.com",
    "prometheuses.monitoring.coreos.com",
    "prometheusrules.monitoring.coreos.com",
    "scrapeconfigs.monitoring.coreos.com",
    "servicemonitors.monitoring.coreos.com",
    "thanosrulers.monitoring.coreos.com",
  ],
  "cert-manager": [
    "certificaterequests.cert-manager.io",
    "certificates.cert-manager.io",
    "challenges.acme.cert-manager.io",
    "clusterissuers.cert-manager.io",
    "issuers.cert-manager.io",
    "orders.acme.cert-manager.io",
  ],
  "clickhouse-operator": ["clickhouseclusters.clickhouse.com", "keeperclusters.clickhouse.com"],
};

const OPERATOR_NAMES: Record<keyof typeof OPERATOR_CRDS, string> = {
  "postgresql-operator": "CloudNativePG",
  "postgresql-backup": "Barman Cloud plugin",
  "monitoring-crds": "Prometheus Operator",
  "cert-manager": "cert-manager",
  "clickhouse-operator": "ClickHouse operator",
};

/** The license-watch sidecar of every platform pod (platform/chart values.yaml license.resources). */
const LICENSE_SIDECAR: Requests = { cpu: 0.01, memory: 32 * 2 ** 20 };

function requests(r: { cpu: string; memory: string }): Requests {
  return { cpu: parseQuantity(r.cpu) ?? 0, memory: parseQuantity(r.memory) ?? 0 };
}

function add(a: Requests, b: Requests, times = 1): Requests {
  return { cpu: a.cpu + b.cpu * times, memory: a.memory + b.memory * times };
}

class PoolTally {
  total: Requests = { cpu: 0, memory: 0 };
  gpus = 0;
  largest: Requests & { what: string } = { cpu: 0, memory: 0, what: "" };
  workloads: string[] = [];

  place(what: string, pods: number, pod: Requests, gpusPerPod = 0): void {
    this.total = add(this.total, pod, pods);
    this.gpus += gpusPerPod * pods;
    if (
      pod.memory > this.largest.memory ||
      (pod.memory === this.largest.memory && pod.cpu > this.largest.cpu)
    )
      this.largest = { ...pod, what };
    this.workloads.push(pods === 1 ? what : `${what} ×${pods}`);
  }
}

/** Every namespace the stack creates. */
function namespaces(settings: Settings): string[] {
  const own = settings.infrastructureStack === undefined ? [INFRASTRUCTURE_NAMESPACE] : [];
  // node-exporter's own privileged namespace comes with the monitoring component.
  if (own.length > 0 && settings.components.monitoring.enabled) own.push(NODE_EXPORTER_NAMESPACE);
  return [
    ...own,
    ...settings.customers.filter((c) => c.enabled).map((c) => customerObjects(c.name).namespace),
  ];
}

/** The permissions `up` uses: Helm installs operators (CRDs, cluster roles, webhooks) and ES1 objects. */
function accessNeeds(settings: Settings): AccessNeed[] {
  const cluster = (verb: string, group: string, resource: string, why: string): AccessNeed => ({
    verb,
    group,
    resource,
    why,
  });
  const own = settings.infrastructureStack === undefined;
  const needs: AccessNeed[] = [
    cluster("create", "", "namespaces", "every ES1 namespace is created by the program"),
  ];
  if (own)
    needs.push(
      cluster(
        "create",
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "operator charts install their CRDs",
      ),
      cluster("update", "apiextensions.k8s.io", "customresourcedefinitions", "upgrades update the CRDs"),
      cluster("create", "rbac.authorization.k8s.io", "clusterroles", "operators get cluster roles"),
      cluster(
        "escalate",
        "rbac.authorization.k8s.io",
        "clusterroles",
        "operator roles grant rights the installer may not hold itself",
      ),
      cluster("create", "rbac.authorization.k8s.io", "clusterrolebindings", "operators get cluster roles"),
      cluster("bind", "rbac.authorization.k8s.io", "clusterroles", "operators get cluster roles"),
      cluster(
        "create",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "operators register admission webhooks",
      ),
      cluster(
        "create",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "operators register admission webhooks",
      ),
      cluster("create", "scheduling.k8s.io", "priorityclasses", "es1-base creates the ES1 priority classes"),
    );
  for (const ns of namespaces(settings)) {
    const inNs = (verb: string, group: string, resource: string, why: string): AccessNeed => ({
      verb,
      group,
      resource,
      namespace: ns,
      why,
    });
    if (ns === NODE_EXPORTER_NAMESPACE) {
      needs.push(
        inNs("create", "apps", "daemonsets", "node-exporter runs on every node"),
        inNs("create", "networking.k8s.io", "networkpolicies", "every namespace is default-deny"),
      );
      continue;
    }
    needs.push(
      inNs("create", "", "secrets", "credentials and Helm's release records are Secrets"),
      inNs("create", "apps", "deployments", "the components' workloads"),
      inNs("create", "apps", "statefulsets", "the components' workloads"),
      inNs("create", "networking.k8s.io", "networkpolicies", "every namespace is default-deny"),
    );
    if (ns === INFRASTRUCTURE_NAMESPACE)
      needs.push(inNs("create", "", "persistentvolumeclaims", "volumes Pulumi owns"));
    else needs.push(inNs("create", "", "resourcequotas", "each customer namespace has a quota"));
  }
  return needs;
}

/**
 * What the stack of `settings` needs of an existing cluster (the cluster contract of an existing
 * cluster: every ES1 pool with its node-pools.json placement, the configured classes).
 */
export function preflightNeeds(settings: Settings): PreflightNeeds {
  const storageClass = settings.cluster.storageClass;
  const ingressClass = settings.cluster.ingressClass;
  const ctx = valuesContext(settings, {
    cloud: settings.cluster.provider,
    storageClass,
    nodePools: NODE_POOLS,
  });
  const own = settings.infrastructureStack === undefined;
  const tallies: Partial<Record<PoolName, PoolTally>> = {};
  const tally = (pool: PoolName) => (tallies[pool] ??= new PoolTally());

  if (own) {
    for (const [name, c] of Object.entries(settings.components) as [
      keyof Settings["components"],
      Settings["components"][keyof Settings["components"]],
    ][]) {
      if (!c.enabled) continue;
      const onGpu = name === "ollama" && ctx.ollamaGpu;
      tally(onGpu ? "aiml" : "infrastructure").place(
        name,
        c.size.replicas,
        requests(c.size.resources.requests),
        onGpu ? 1 : 0,
      );
    }
  }
  for (const c of settings.customers.filter((x) => x.enabled)) {
    const size = PLATFORM_SIZING[c.sizing];
    const service = requests(size.resources.requests as { cpu: string; memory: string });
    const agents = (["router", "crewai", "autogen"] as const).filter((a) => c.agents[a]).length;
    const pods = (3 + agents) * size.replicas;
    tally("platform").place(`customer ${c.name}`, pods, add(service, LICENSE_SIDECAR));
    // Its own MLflow (platform/mlflow.ts), with the component on.
    if (settings.components.mlflow.enabled)
      tally("platform").place(`customer ${c.name} MLflow`, 1, requests(size.mlflow.resources.requests));
  }

  const operators: OperatorNeed[] = [];
  if (own) {
    const planned = new Set<ReleaseKey>(plannedReleases(settings));
    for (const key of Object.keys(OPERATOR_CRDS) as (keyof typeof OPERATOR_CRDS)[]) {
      const setting =
        key === "cert-manager" || key === "clickhouse-operator"
          ? "es1:components.langfuse.installOperators"
          : `es1:components.${CATALOG[key].component}.enabled`;
      if (planned.has(key))
        operators.push({
          name: OPERATOR_NAMES[key],
          mode: "install",
          release: releaseName(key),
          crds: OPERATOR_CRDS[key],
          setting,
        });
      else if (
        (settings.components.langfuse.enabled && (key === "cert-manager" || key === "clickhouse-operator")) ||
        (key === "cert-manager" && backsUpPostgresql(settings))
      )
        // Langfuse on without installOperators: its ClickHouse needs both operators from the cluster;
        // so does the PostgreSQL backup plugin need cert-manager.
        operators.push({
          name: OPERATOR_NAMES[key],
          mode: "present",
          release: releaseName(key),
          crds: OPERATOR_CRDS[key],
          setting,
        });
    }
  }

  const plan = planAccess(settings).plan;
  const routes = [...Object.keys(plan.customers), ...(own ? plan.shared.map((s) => s.ui) : [])];
  const exposed = plan.mode === "ingress" ? routes : [];
  const volumes =
    own && Object.values(settings.components).some((c) => c.enabled && c.size.storage !== undefined);
  return {
    kubernetes: { ...SUPPORTED_KUBERNETES },
    pools: (Object.entries(tallies) as [PoolName, PoolTally][]).map(([pool, t]) => ({
      pool,
      placement: NODE_POOLS[pool],
      total: t.total,
      gpus: t.gpus,
      largestPod: t.largest,
      workloads: t.workloads,
    })),
    storageClass: { name: storageClass, volumes },
    ...(exposed.length > 0 ? { ingressClass: { name: ingressClass, customers: exposed } } : {}),
    ...(plan.mode === "gateway" && routes.length > 0
      ? {
          gatewayClass: {
            name: plan.gatewayClass,
            routes,
            created: plan.gatewayClassController !== undefined,
            crds: plan.installGatewayApiCrds,
          },
        }
      : {}),
    operators,
    namespaces: namespaces(settings),
    access: accessNeeds(settings),
  };
}
