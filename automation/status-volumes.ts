// `es1 status`: how full the PersistentVolumeClaims of the stack's namespaces are, where metrics
// exist. The kubelet's volume statistics reach Prometheus (kubelet_volume_stats_*), not the API
// server, so they are read from the stack's own Prometheus through the API server's service proxy,
// with the credentials of every other read. Without an answer (monitoring off, Prometheus not
// running, the simulated cluster) each namespace says why, and that alone never makes anything
// unhealthy. The thresholds are the alerts' (ES1VolumeFilling warns, ES1VolumeFull is critical).
import { INFRASTRUCTURE_NAMESPACE, SERVICES } from "../infrastructure/layout";
import { THRESHOLDS } from "../infrastructure/observability/rules";
import { LANGFLOW_CLAIM } from "../infrastructure/values/langflow";
import { MLFLOW_ARTIFACTS_CLAIM } from "../infrastructure/values/mlflow";
import { GRAFANA_CLAIM } from "../infrastructure/values/monitoring";
import { OLLAMA_CLAIM } from "../infrastructure/values/ollama";
import { KubeHttpError, KubeReader } from "./kube";

/**
 * The Prometheus Service kube-prometheus-stack creates (`<fullnameOverride>-prometheus`) and its
 * port's name (prometheus.prometheusSpec.portName, 9090): the proxy looks the port up by name.
 */
export const PROMETHEUS_PROXY = `/api/v1/namespaces/${INFRASTRUCTURE_NAMESPACE}/services/${SERVICES.prometheus.service}:http-web/proxy`;

export const USED_METRIC = "kubelet_volume_stats_used_bytes";
export const CAPACITY_METRIC = "kubelet_volume_stats_capacity_bytes";

/**
 * ok; warning over THRESHOLDS.volumeWarning (shown, healthy); critical over volumeCritical
 * (its component or customer unhealthy: writes fail soon); `no metrics` when Prometheus answered
 * without this claim (not mounted by a running pod, or not scraped yet).
 */
export type ClaimState = "ok" | "warning" | "critical" | "no metrics";

export interface ClaimUsage {
  claim: string;
  usedBytes?: number;
  capacityBytes?: number;
  /** usedBytes of capacityBytes, in percent with one decimal. */
  usedPercent?: number;
  state: ClaimState;
}

/** The claims of one namespace that belong to one component or customer. */
export interface VolumeUsage {
  namespace: string;
  /** Whether Prometheus answered for this namespace. */
  metrics: boolean;
  /** Why there are no metrics (metrics false). */
  reason?: string;
  claims: ClaimUsage[];
}

/** One instant vector of Prometheus' /api/v1/query answer. */
export interface PromVectorAnswer {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** The query of one metric for the given namespaces, one series per claim. */
export function volumeQuery(metric: string, namespaces: readonly string[]): string {
  // Namespace names are DNS labels: nothing in them needs escaping in a regular expression.
  return `max by (namespace, persistentvolumeclaim) (${metric}{namespace=~"${namespaces.join("|")}"})`;
}

/** `<namespace>/<claim>` → value, from an instant vector (its `persistentvolumeclaim` series). */
export function parseVector(answer: PromVectorAnswer): Map<string, number> {
  if (answer.status !== "success")
    throw new Error(`Prometheus refused the query: ${answer.errorType ?? "error"}: ${answer.error ?? ""}`);
  if (answer.data?.resultType !== "vector")
    throw new Error(`Prometheus answered a ${answer.data?.resultType ?? "missing"} result, not a vector`);
  const out = new Map<string, number>();
  for (const s of answer.data.result) {
    const { namespace, persistentvolumeclaim } = s.metric;
    const value = Number(s.value[1]);
    if (namespace && persistentvolumeclaim && Number.isFinite(value))
      out.set(`${namespace}/${persistentvolumeclaim}`, value);
  }
  return out;
}

/** A claim judged against the alerts' thresholds (the same `>` as ES1VolumeFilling/ES1VolumeFull). */
export function claimUsage(
  claim: string,
  used: number | undefined,
  capacity: number | undefined,
): ClaimUsage {
  if (used === undefined || capacity === undefined || capacity <= 0) return { claim, state: "no metrics" };
  const share = used / capacity;
  return {
    claim,
    usedBytes: used,
    capacityBytes: capacity,
    usedPercent: Math.round(share * 1000) / 10,
    state:
      share > THRESHOLDS.volumeCritical ? "critical" : share > THRESHOLDS.volumeWarning ? "warning" : "ok",
  };
}

/** The problem a claim over the critical threshold makes; none otherwise. */
export function volumeProblems(v: VolumeUsage): string[] {
  return v.claims
    .filter((c) => c.state === "critical")
    .map((c) => `volume ${c.claim} ${c.usedPercent ?? 0} % full (over ${THRESHOLDS.volumeCritical * 100} %)`);
}

/** A claim Pulumi creates itself, by its owner (infrastructure plannedVolumes). */
const OWNED_CLAIMS: Record<string, string> = {
  [GRAFANA_CLAIM]: "monitoring",
  [OLLAMA_CLAIM]: "ollama",
  [MLFLOW_ARTIFACTS_CLAIM]: "mlflow",
  [LANGFLOW_CLAIM]: "langflow",
};

/** Labels charts and operators put on the claims they create, naming their release or cluster. */
const OWNER_LABELS = ["app.kubernetes.io/instance", "release", "cnpg.io/cluster"];

/** A claim as listed by the API server (the fields read). */
export interface LiveClaim {
  metadata: { name: string; labels?: Record<string, string> };
}

/**
 * The component a claim of es1-infrastructure belongs to: a claim Pulumi owns by its name, else
 * the release (`es1-<key>`) a label names or the claim's name contains as a whole word (a
 * StatefulSet's claim is `<template>-<statefulset>-<n>`; the longest release name wins);
 * `base` when nothing matches or its component is not deployed.
 */
export function claimOwner(
  claim: LiveClaim,
  releases: readonly { name: string; component: string }[],
): string {
  const owned = OWNED_CLAIMS[claim.metadata.name];
  // A claim kept after its component was switched off (retainOnDelete) shows under base.
  if (owned !== undefined) return releases.some((r) => r.component === owned) ? owned : "base";
  const labels = OWNER_LABELS.map((l) => claim.metadata.labels?.[l]).filter((v) => v !== undefined);
  const byLabel = releases.find((r) => labels.includes(r.name));
  if (byLabel !== undefined) return byLabel.component;
  const byName = releases
    .filter((r) => `-${claim.metadata.name}-`.includes(`-${r.name}-`))
    .sort((a, b) => b.name.length - a.name.length)[0];
  return byName?.component ?? "base";
}

function statusMessage(e: KubeHttpError): string {
  const body = e.body ?? "";
  try {
    const j = JSON.parse(body) as { message?: string; error?: string };
    if (j.message ?? j.error) return `HTTP ${e.status}: ${j.message ?? j.error}`;
  } catch {
    // not JSON: the first line of it
  }
  return `HTTP ${e.status}${body.trim() ? `: ${body.trim().split("\n")[0].slice(0, 160)}` : ""}`;
}

const PROMETHEUS_SERVICE = `/api/v1/namespaces/${INFRASTRUCTURE_NAMESPACE}/services/${SERVICES.prometheus.service}`;

/**
 * Why Prometheus gave no numbers, for people. `serviceExists`: whether the Service was found
 * after a 404 (the proxy also answers `services "<name>" not found` for a Service without an
 * Endpoints object).
 */
export function noMetricsReason(e: unknown, serviceExists = false): string {
  const where = `${SERVICES.prometheus.service} in ${INFRASTRUCTURE_NAMESPACE}`;
  if (e instanceof KubeHttpError && e.status === 404 && !serviceExists)
    return `no Prometheus: Service ${where} not found (the monitoring component is off)`;
  if (e instanceof KubeHttpError && e.status === 404)
    return `Prometheus (${where}) did not answer through the API server: the Service has no endpoints (${statusMessage(e)})`;
  if (e instanceof KubeHttpError)
    return `Prometheus (${where}) did not answer through the API server: ${statusMessage(e)}`;
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith("Prometheus ")) return message;
  return `Prometheus (${where}) did not answer through the API server: ${message}`;
}

/** Both metrics for the namespaces, or why there are none. */
export async function queryVolumeMetrics(
  kube: KubeReader,
  namespaces: readonly string[],
): Promise<{ used: Map<string, number>; capacity: Map<string, number> } | { reason: string }> {
  try {
    const [used, capacity] = await Promise.all(
      [USED_METRIC, CAPACITY_METRIC].map(async (m) =>
        parseVector(
          await kube.get<PromVectorAnswer>(
            `${PROMETHEUS_PROXY}/api/v1/query?query=${encodeURIComponent(volumeQuery(m, namespaces))}`,
          ),
        ),
      ),
    );
    return { used, capacity };
  } catch (e) {
    if (!(e instanceof KubeHttpError && e.status === 404)) return { reason: noMetricsReason(e) };
    const exists = await kube.get(PROMETHEUS_SERVICE).then(
      () => true,
      () => false,
    );
    return { reason: noMetricsReason(e, exists) };
  }
}

/**
 * Volume usage of each namespace's claims, grouped by owner: for es1-infrastructure the component
 * (claimOwner), for a customer's namespace the namespace itself. Never throws: a namespace whose
 * claims cannot be listed says so.
 */
export async function readVolumeUsage(
  kube: KubeReader,
  namespaces: readonly string[],
  releases: readonly { name: string; component: string }[],
): Promise<Map<string, Map<string, VolumeUsage>>> {
  const metrics = namespaces.length === 0 ? { reason: "" } : await queryVolumeMetrics(kube, namespaces);
  const out = new Map<string, Map<string, VolumeUsage>>();
  await Promise.all(
    namespaces.map(async (namespace) => {
      const owners = new Map<string, VolumeUsage>();
      out.set(namespace, owners);
      let claims: LiveClaim[];
      try {
        claims =
          (await kube.get<{ items?: LiveClaim[] }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`))
            .items ?? [];
      } catch (e) {
        const reason = `cannot list its claims: ${e instanceof Error ? e.message : String(e)}`;
        owners.set("", { namespace, metrics: false, reason, claims: [] });
        return;
      }
      const base: VolumeUsage =
        "reason" in metrics
          ? { namespace, metrics: false, reason: metrics.reason, claims: [] }
          : { namespace, metrics: true, claims: [] };
      owners.set("", base);
      for (const c of claims.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
        const owner = namespace === INFRASTRUCTURE_NAMESPACE ? claimOwner(c, releases) : "";
        const usage = owners.get(owner) ?? { ...base, claims: [] };
        owners.set(owner, usage);
        const key = `${namespace}/${c.metadata.name}`;
        usage.claims.push(
          "reason" in metrics
            ? { claim: c.metadata.name, state: "no metrics" }
            : claimUsage(c.metadata.name, metrics.used.get(key), metrics.capacity.get(key)),
        );
      }
    }),
  );
  return out;
}

/** The usage of one owner in a namespace: no claims (with the namespace's metrics state) when it has none. */
export function usageOf(
  all: Map<string, Map<string, VolumeUsage>>,
  namespace: string,
  owner: string,
): VolumeUsage {
  const owners = all.get(namespace);
  const found = owners?.get(owner) ?? owners?.get("");
  if (found === undefined) return { namespace, metrics: false, reason: "not read", claims: [] };
  return owners?.has(owner) ? found : { ...found, claims: [] };
}

/** Bytes for people: B, KiB, MiB, GiB, TiB with one decimal. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** One claim for the table: `2.1 GiB of 10.0 GiB (21.0 %)`, its state when not ok. */
export function claimText(c: ClaimUsage): string {
  if (c.state === "no metrics")
    return "no metrics for this claim (not mounted by a running pod, or not scraped yet)";
  const pct = `${(c.usedPercent ?? 0).toFixed(1)} %`;
  const over =
    c.state === "critical"
      ? `; critical: over ${THRESHOLDS.volumeCritical * 100} %`
      : c.state === "warning"
        ? `; warning: over ${THRESHOLDS.volumeWarning * 100} %`
        : "";
  return `${formatBytes(c.usedBytes ?? 0)} of ${formatBytes(c.capacityBytes ?? 0)} (${pct}${over})`;
}
