import { ComponentName } from "../config/sizing";
import { ChartMirror } from "../config/airgap";
import { ConfigError, ConfigErrors } from "../config/errors";
import { NAMESPACE } from "../config/settings";
import { resolveChart, ResolvedChart, UpstreamChart } from "../lib/charts";

/** The Helm Releases of es1-infrastructure. A component may need more than one. */
export const RELEASES = [
  "postgresql-operator",
  "postgresql-backup",
  "postgresql",
  "redis",
  "monitoring-crds",
  "monitoring",
  "airflow",
  "ollama",
  "mlflow",
  "n8n",
  "langflow",
  "cert-manager",
  "clickhouse-operator",
  "langfuse",
  "velero",
] as const;
export type ReleaseKey = (typeof RELEASES)[number];

export interface CatalogEntry {
  /**
   * The component this release belongs to: off with it. `backup`: Velero, in a namespace of its
   * own, on with es1:backup (infrastructure/velero.ts).
   */
  component: ComponentName | "backup";
  chart: UpstreamChart;
  /** Seconds Helm waits for the release's workloads. */
  timeoutSeconds: number;
  /**
   * Oldest Helm the pinned chart's own documentation asks for, when it names one newer than any
   * Helm 3 (the provider embeds its own Helm: see PROVIDER_HELM_VERSION).
   */
  minHelm?: string;
}

const CNPG = "https://cloudnative-pg.github.io/charts";
const PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts";
const COMMUNITY_CHARTS = "https://community-charts.github.io/helm-charts";

/**
 * Every upstream chart, pinned to one exact version: the one place a version changes. Versions
 * and keys were checked against each chart's own repository (docs/components.md lists them).
 */
export const CATALOG: Record<ReleaseKey, CatalogEntry> = {
  "postgresql-operator": {
    component: "postgresql",
    chart: { chart: "cloudnative-pg", repo: CNPG, version: "0.29.0" },
    timeoutSeconds: 300,
  },
  "postgresql-backup": {
    component: "postgresql",
    // CloudNativePG's Barman Cloud plugin: WAL archiving and base backups (docs/backup.md).
    chart: { chart: "plugin-barman-cloud", repo: CNPG, version: "0.7.0" },
    timeoutSeconds: 300,
  },
  postgresql: {
    component: "postgresql",
    chart: { chart: "cluster", repo: CNPG, version: "0.8.1" },
    timeoutSeconds: 900,
  },
  redis: {
    component: "redis",
    chart: { chart: "valkey", repo: "https://valkey.io/valkey-helm/", version: "0.11.0" },
    timeoutSeconds: 300,
  },
  "monitoring-crds": {
    component: "monitoring",
    chart: { chart: "prometheus-operator-crds", repo: PROMETHEUS_COMMUNITY, version: "31.0.1" },
    timeoutSeconds: 300,
  },
  monitoring: {
    component: "monitoring",
    chart: { chart: "kube-prometheus-stack", repo: PROMETHEUS_COMMUNITY, version: "88.5.3" },
    timeoutSeconds: 900,
  },
  airflow: {
    component: "airflow",
    // 1.22.0 is the newest release, but not obtainable for the charts the tests install: 1.21.0 is
    // the newest whose sources were (docs/components.md, Airflow, says what 1.22.0 would change).
    chart: { chart: "airflow", repo: "https://airflow.apache.org", version: "1.21.0" },
    timeoutSeconds: 1200,
    // The chart's docs/index.rst: "Helm 3.10+" (its templates use `break`). 1.22.0 asks for 3.19.0.
    minHelm: "3.10.0",
  },
  ollama: {
    component: "ollama",
    chart: { chart: "ollama", repo: "https://helm.otwld.com/", version: "1.77.0" },
    timeoutSeconds: 900,
  },
  mlflow: {
    component: "mlflow",
    chart: { chart: "mlflow", repo: COMMUNITY_CHARTS, version: "1.11.5" },
    timeoutSeconds: 600,
  },
  n8n: {
    component: "n8n",
    chart: { chart: "n8n", repo: COMMUNITY_CHARTS, version: "1.24.32" },
    timeoutSeconds: 600,
  },
  langflow: {
    component: "langflow",
    chart: { chart: "langflow", repo: "https://repo.helmforge.dev", version: "1.1.2" },
    timeoutSeconds: 600,
  },
  "cert-manager": {
    component: "langfuse",
    chart: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.20.2" },
    timeoutSeconds: 600,
  },
  "clickhouse-operator": {
    component: "langfuse",
    chart: { chart: "clickhouse-operator-helm", repo: "oci://ghcr.io/clickhouse", version: "0.0.5" },
    timeoutSeconds: 600,
  },
  langfuse: {
    component: "langfuse",
    chart: { chart: "langfuse", repo: "https://langfuse.github.io/langfuse-k8s", version: "2.0.0" },
    timeoutSeconds: 1200,
    // langfuse-k8s README, Prerequisites: its SeaweedFS sub-chart uses `fromToml`.
    minHelm: "3.17.0",
  },
  velero: {
    component: "backup",
    // Volume backups of the stateful components other than PostgreSQL (docs/backup.md).
    chart: { chart: "velero", repo: "https://vmware-tanzu.github.io/helm-charts", version: "12.1.0" },
    timeoutSeconds: 600,
  },
};

/** Helm release name of each release: the component's name, prefixed so it is ours at a glance. */
export function releaseName(key: ReleaseKey): string {
  return `es1-${key}`;
}

/**
 * The Helm library built into the pinned Kubernetes provider (pulumi-kubernetes 4.25.0), which
 * is what installs every chart: the `helm` binary on the machine plays no part.
 */
export const PROVIDER_HELM_VERSION = "3.18.6";

/** Whether semantic version `a` is older than `b` (numeric parts only). */
export function versionBelow(a: string, b: string): boolean {
  const pa = a.replace(/^v/, "").split(".").map(Number);
  const pb = b.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * Every planned release's chart, located before anything is deployed, so a chart missing from a
 * mirror stops the run with one message naming all of them.
 */
export function resolveCharts(
  keys: readonly ReleaseKey[],
  mirror: ChartMirror,
): Partial<Record<ReleaseKey, ResolvedChart>> {
  const out: Partial<Record<ReleaseKey, ResolvedChart>> = {};
  const errors: ConfigError[] = [];
  for (const key of keys) {
    try {
      out[key] = resolveChart(CATALOG[key].chart, mirror);
    } catch (e) {
      errors.push(new ConfigError(`${NAMESPACE}:airgap.charts`, (e as Error).message));
    }
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return out;
}
