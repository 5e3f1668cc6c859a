// `es1 status`: whether every shared component and every customer of a deployed stack is healthy.
// Pure functions here: Helm's release records decoded, each workload and operator-managed resource
// judged, licenses dated, and the report (JSON for pipelines, a table for people). The reading of
// the cluster is automation/status-cluster.ts.
import * as zlib from "zlib";
import * as yaml from "js-yaml";
import { endOf } from "../platform/license/format";
import { ClaimUsage, claimText, VolumeUsage, volumeProblems } from "./status-volumes";

/** Helm's record of one release revision (the Secret `sh.helm.release.v1.<name>.v<revision>`). */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; description?: string; last_deployed?: string };
  chart: { metadata: { name: string; version: string; appVersion?: string } };
  manifest: string;
}

/**
 * The release inside a Helm release Secret's `release` key: the Secret's base64 holds Helm's own
 * base64 of gzipped JSON (Helm's storage driver; gzip is optional for very old releases).
 */
export function decodeHelmRelease(secretData: string): HelmRelease {
  const helmText = Buffer.from(secretData, "base64").toString("utf8");
  const bytes = Buffer.from(helmText, "base64");
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
  return JSON.parse(json.toString("utf8")) as HelmRelease;
}

/** An object a release's manifest declares. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** spec.replicas as the release asked for it (Deployments, StatefulSets). */
  replicas?: number;
}

/** The objects of a release's rendered manifest (Helm's `---`-separated YAML). */
export function manifestObjects(manifest: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const doc of yaml.loadAll(manifest)) {
    if (typeof doc !== "object" || doc === null) continue;
    const o = doc as {
      apiVersion?: string;
      kind?: string;
      metadata?: { name?: string; namespace?: string };
      spec?: { replicas?: unknown };
    };
    if (!o.kind || !o.apiVersion || !o.metadata?.name) continue;
    out.push({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      ...(typeof o.spec?.replicas === "number" ? { replicas: o.spec.replicas } : {}),
    });
  }
  return out;
}

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Resources an operator reconciles, whose status says whether what they describe runs. */
export const MANAGED_KINDS: Record<string, string> = {
  "postgresql.cnpg.io/v1/Cluster": "CloudNativePG",
  "clickhouse.com/v1alpha1/ClickHouseCluster": "ClickHouse operator",
  "clickhouse.com/v1alpha1/KeeperCluster": "ClickHouse operator",
};

export interface WorkloadStatus {
  kind: WorkloadKind;
  name: string;
  ready: number;
  desired: number;
  healthy: boolean;
  /** Why not healthy. */
  reason?: string;
}

/** A workload as the API server returns it (the fields judged); undefined when it does not exist. */
export interface LiveWorkload {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
  };
}

/**
 * One workload against what its release declared. The release's replica count is the floor: a
 * Deployment scaled to 0 by hand is unhealthy, one an autoscaler grew counts its live size.
 */
export function workloadStatus(o: ManifestObject, live: LiveWorkload | undefined): WorkloadStatus {
  const kind = o.kind as WorkloadKind;
  if (live === undefined)
    return { kind, name: o.name, ready: 0, desired: o.replicas ?? 1, healthy: false, reason: "missing" };
  const s = live.status ?? {};
  if (kind === "DaemonSet") {
    const desired = s.desiredNumberScheduled ?? 0;
    const ready = s.numberReady ?? 0;
    return {
      kind,
      name: o.name,
      ready,
      desired,
      healthy: ready >= desired,
      ...(ready < desired ? { reason: `${ready} of ${desired} pods ready` } : {}),
    };
  }
  const declared = o.replicas ?? 1;
  const liveReplicas = live.spec?.replicas ?? 1;
  const desired = Math.max(declared, liveReplicas);
  const ready = s.readyReplicas ?? 0;
  let reason: string | undefined;
  if (liveReplicas < declared) reason = `scaled to ${liveReplicas}; its release runs ${declared}`;
  else if ((s.observedGeneration ?? 0) < (live.metadata.generation ?? 0))
    reason = "its controller has not seen the latest spec";
  else if (ready < desired) reason = `${ready} of ${desired} replicas ready`;
  return { kind, name: o.name, ready, desired, healthy: reason === undefined, ...(reason ? { reason } : {}) };
}

/** An operator-managed resource and what its operator reports. */
export interface ManagedStatus {
  kind: string;
  name: string;
  healthy: boolean;
  /** The operator's words: CNPG's phase, ClickHouse's Ready condition message. */
  state: string;
  /** Backups, where the resource has them configured (CNPG). */
  backup?: BackupStatus;
}

export interface BackupStatus {
  configured: boolean;
  /** status.lastSuccessfulBackup (CNPG), when one has succeeded. */
  lastSuccessful?: string;
}

export interface LiveManaged {
  spec?: { instances?: number; replicas?: number; backup?: unknown; plugins?: unknown[] };
  status?: {
    phase?: string;
    instances?: number;
    readyInstances?: number;
    readyReplicas?: number;
    lastSuccessfulBackup?: string;
    conditions?: { type: string; status: string; message?: string }[];
  };
}

/** CNPG's phase when every instance is up (pkg/apis/v1 PhaseHealthy). */
export const CNPG_HEALTHY = "Cluster in healthy state";

export function managedStatus(o: ManifestObject, live: LiveManaged | undefined): ManagedStatus {
  const base = { kind: o.kind, name: o.name };
  if (live === undefined) return { ...base, healthy: false, state: "missing" };
  const s = live.status;
  if (o.apiVersion.startsWith("postgresql.cnpg.io/")) {
    const backup: BackupStatus = {
      // Barman in spec.backup, or a backup plugin (barman-cloud) among spec.plugins.
      configured: live.spec?.backup !== undefined || (live.spec?.plugins?.length ?? 0) > 0,
      ...(s?.lastSuccessfulBackup ? { lastSuccessful: s.lastSuccessfulBackup } : {}),
    };
    if (!s?.phase)
      return { ...base, healthy: false, state: "no status: its operator has not reconciled it", backup };
    const want = live.spec?.instances ?? s.instances ?? 1;
    const ready = s.readyInstances ?? 0;
    return {
      ...base,
      healthy: s.phase === CNPG_HEALTHY && ready >= want,
      state: `${s.phase} (${ready}/${want} instances ready)`,
      backup,
    };
  }
  const readyCondition = s?.conditions?.find((c) => c.type === "Ready");
  if (!readyCondition)
    return { ...base, healthy: false, state: "no Ready condition: its operator has not reconciled it" };
  return {
    ...base,
    healthy: readyCondition.status === "True",
    state: `Ready=${readyCondition.status}${readyCondition.message ? `: ${readyCondition.message}` : ""}`,
  };
}

export interface ReleaseStatus {
  name: string;
  namespace: string;
  /** Helm's status of the latest revision (deployed, failed, pending-upgrade, ...), or `missing`. */
  status: string;
  revision: number;
  chart?: string;
  appVersion?: string;
  updated?: string;
  workloads: WorkloadStatus[];
  managed: ManagedStatus[];
  healthy: boolean;
  problems: string[];
}

/** A release's health: Helm says deployed, every workload ready, every managed resource healthy. */
export function releaseStatus(
  ref: { name: string; namespace: string },
  release: HelmRelease | undefined,
  workloads: WorkloadStatus[],
  managed: ManagedStatus[],
): ReleaseStatus {
  if (release === undefined)
    return {
      ...ref,
      status: "missing",
      revision: 0,
      workloads: [],
      managed: [],
      healthy: false,
      problems: ["no Helm release record"],
    };
  const problems = [
    ...(release.info.status === "deployed"
      ? []
      : [
          `Helm status ${release.info.status}${release.info.description ? `: ${release.info.description}` : ""}`,
        ]),
    ...workloads.filter((w) => !w.healthy).map((w) => `${w.kind} ${w.name}: ${w.reason ?? "not ready"}`),
    ...managed.filter((m) => !m.healthy).map((m) => `${m.kind} ${m.name}: ${m.state}`),
  ];
  return {
    ...ref,
    status: release.info.status,
    revision: release.version,
    chart: `${release.chart.metadata.name}-${release.chart.metadata.version}`,
    ...(release.chart.metadata.appVersion ? { appVersion: release.chart.metadata.appVersion } : {}),
    ...(release.info.last_deployed ? { updated: release.info.last_deployed } : {}),
    workloads,
    managed,
    healthy: problems.length === 0,
    problems,
  };
}

export interface ComponentStatus {
  /** A shared component (config/sizing.ts COMPONENTS) or `base`. */
  component: string;
  healthy: boolean;
  releases: ReleaseStatus[];
  /** Its claims in es1-infrastructure and how full they are, where metrics exist. */
  volumes: VolumeUsage;
}

/** A component is healthy when its releases are and none of its volumes is over the critical threshold. */
export function componentStatus(
  component: string,
  releases: ReleaseStatus[],
  volumes: VolumeUsage,
): ComponentStatus {
  return {
    component,
    healthy: releases.every((r) => r.healthy) && volumeProblems(volumes).length === 0,
    releases,
    volumes,
  };
}

export interface LicenseStatus {
  id: string;
  expires: string;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  state: "valid" | "expiring" | "expired" | "held";
  /** Why the stack held the customer back (its license was refused at the last deploy). */
  reason?: string;
}

/** A customer's license from the stack's `customers` output, on `now`, with the warning window. */
export function licenseStatus(
  c: { licenseId: string; licenseExpires: string; held?: string },
  now: Date,
  warnWithinDays: number,
): LicenseStatus {
  const end = endOf(c.licenseExpires);
  const daysLeft = Math.floor((end.getTime() - now.getTime()) / 86_400_000);
  const base = { id: c.licenseId, expires: c.licenseExpires, daysLeft };
  if (c.held !== undefined) return { ...base, state: "held", reason: c.held };
  if (end.getTime() < now.getTime()) return { ...base, state: "expired" };
  return { ...base, state: daysLeft <= warnWithinDays ? "expiring" : "valid" };
}

export interface CustomerStatus {
  customer: string;
  namespace: string;
  platformVersion?: string;
  license: LicenseStatus;
  release: ReleaseStatus;
  /** Its namespace's claims and how full they are, where metrics exist. */
  volumes: VolumeUsage;
  healthy: boolean;
  problems: string[];
}

/**
 * A customer is healthy when its release is, its license is valid (expiring only warns) and no
 * volume is over the critical threshold (over the warning one only shows).
 */
export function customerStatus(
  c: { customer: string; namespace: string; platformVersion?: string },
  license: LicenseStatus,
  release: ReleaseStatus,
  volumes: VolumeUsage,
): CustomerStatus {
  const problems = [
    ...release.problems,
    ...(license.state === "expired" ? [`license ${license.id} expired on ${license.expires}`] : []),
    ...(license.state === "held"
      ? [`held back as deployed: ${license.reason ?? "its license was refused"}`]
      : []),
    ...volumeProblems(volumes),
  ];
  return { ...c, license, release, volumes, healthy: problems.length === 0, problems };
}

export const EXIT_HEALTHY = 0;
export const EXIT_UNHEALTHY = 1;
export const EXIT_STATUS_USAGE = 2;

/** The one JSON document `es1 status --json` writes. */
export interface StatusReport {
  operation: "status";
  stack: string | null;
  status: "healthy" | "unhealthy" | "failed";
  exitCode: typeof EXIT_HEALTHY | typeof EXIT_UNHEALTHY | typeof EXIT_STATUS_USAGE;
  /** When the report was taken (ISO 8601). */
  checkedAt: string;
  durationSeconds: number;
  /** With --wait: how long it waited for the stack to become healthy. */
  waitedSeconds?: number;
  components: ComponentStatus[];
  customers: CustomerStatus[];
  /** Stack-wide problems (cluster unreadable, no deployment) and why the exit code is not 0. */
  errors: string[];
}

/** Status and exit code of a reading: healthy only when every component and customer is. */
export function verdictOf(
  components: readonly ComponentStatus[],
  customers: readonly CustomerStatus[],
  errors: readonly string[],
): Pick<StatusReport, "status" | "exitCode"> {
  const healthy =
    errors.length === 0 && components.every((c) => c.healthy) && customers.every((c) => c.healthy);
  return healthy
    ? { status: "healthy", exitCode: EXIT_HEALTHY }
    : { status: "unhealthy", exitCode: EXIT_UNHEALTHY };
}

function notes(r: ReleaseStatus): string {
  const parts = r.managed.map(
    (m) =>
      `${m.kind} ${m.name}: ${m.state}${m.backup ? `; backups: ${m.backup.configured ? (m.backup.lastSuccessful ? `last ${m.backup.lastSuccessful}` : "none yet") : "not configured"}` : ""}`,
  );
  return [
    ...parts,
    ...r.problems.filter((p) => !r.managed.some((m) => p.startsWith(`${m.kind} ${m.name}`))),
  ].join("; ");
}

function workloadText(r: ReleaseStatus): string {
  if (r.workloads.length === 0) return "-";
  const ready = r.workloads.filter((w) => w.healthy).length;
  return `${ready}/${r.workloads.length}`;
}

/** The report as a table for people: one row per release, customers below the components. */
export function formatStatus(r: StatusReport): string {
  const rows: string[][] = [["", "COMPONENT", "RELEASE", "STATUS", "REV", "WORKLOADS", "NOTES"]];
  for (const c of r.components)
    for (const rel of c.releases)
      rows.push([
        rel.healthy ? "ok" : "!!",
        c.component,
        rel.name,
        rel.status,
        String(rel.revision),
        workloadText(rel),
        notes(rel),
      ]);
  for (const c of r.customers) {
    const lic = c.license;
    const license = `license ${lic.id} ${lic.state}${lic.state === "held" ? "" : ` (${lic.expires}, ${lic.daysLeft} days)`}`;
    rows.push([
      c.healthy ? "ok" : "!!",
      `customer ${c.customer}`,
      `${c.namespace}/${c.release.name}`,
      c.release.status,
      String(c.release.revision),
      workloadText(c.release),
      [license, ...c.problems.filter((p) => !p.startsWith("license ") && !p.startsWith("volume "))].join(
        "; ",
      ),
    ]);
  }
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((row) => (i === rows[0].length - 1 ? 0 : row[i].length))),
  );
  const table = rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
  const head = `es1 status ${r.stack ?? ""}: ${r.status}${r.waitedSeconds !== undefined ? ` after ${r.waitedSeconds}s` : ""} (exit ${r.exitCode})`;
  return `${[head, ...table, ...volumeLines(r), ...r.errors.map((e) => `error: ${e}`)].join("\n")}\n`;
}

const CLAIM_MARK: Record<ClaimUsage["state"], string> = {
  ok: "ok",
  warning: "!",
  critical: "!!",
  "no metrics": "??",
};

/**
 * Volume usage per namespace: one line `volume usage <namespace>: no metrics (<why>)`, or the
 * namespace's claims, one row each with their owner.
 */
export function volumeLines(r: Pick<StatusReport, "components" | "customers">): string[] {
  const namespaces: { namespace: string; owners: { owner: string; usage: VolumeUsage }[] }[] = [];
  const add = (owner: string, usage: VolumeUsage): void => {
    let ns = namespaces.find((n) => n.namespace === usage.namespace);
    if (ns === undefined) namespaces.push((ns = { namespace: usage.namespace, owners: [] }));
    ns.owners.push({ owner, usage });
  };
  for (const c of r.components) add(c.component, c.volumes);
  for (const c of r.customers) add(`customer ${c.customer}`, c.volumes);
  const rows = namespaces.flatMap((n) =>
    n.owners.flatMap((o) =>
      o.usage.metrics
        ? o.usage.claims.map((c) => ({ n, cells: [CLAIM_MARK[c.state], o.owner, c.claim, claimText(c)] }))
        : [],
    ),
  );
  const widths = [0, 1, 2].map((i) => Math.max(0, ...rows.map((row) => row.cells[i].length)));
  const lines: string[] = [];
  for (const n of namespaces) {
    const head = `volume usage ${n.namespace}`;
    const own = rows.filter((row) => row.n === n);
    const reason = n.owners.find((o) => !o.usage.metrics)?.usage.reason;
    if (reason !== undefined) lines.push(`${head}: no metrics (${reason})`);
    else if (own.length === 0) lines.push(`${head}: no claims`);
    else
      lines.push(
        `${head}:`,
        ...own.map(
          (row) => `  ${row.cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")}`,
        ),
      );
  }
  return lines;
}
