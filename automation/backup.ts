// `es1 backup now` / `es1 backup list`, and the backup `es1 up` takes before a risky upgrade
// (docs/backup.md): CloudNativePG `Backup` objects through the Barman Cloud plugin, created and
// read in the stack's cluster. The operator and the plugin do the work; this module asks for a
// backup and reads what they report in each Backup's status.
import { setTimeout as delay } from "timers/promises";
import { CATALOG, releaseName } from "../infrastructure/catalog";
import { BACKUP_LABELS, BARMAN_PLUGIN, OBJECT_STORE, POSTGRESQL_CLUSTER } from "../infrastructure/backup";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { POSTGRES_MAJOR } from "../infrastructure/values/postgresql";
import { VOLUME_COMPONENTS } from "../config/backup";
import { KubeHttpError } from "./kube";
import { revealed, StateResource } from "./state";

/** Components `es1 backup` backs up on demand: PostgreSQL, and through Velero the others. */
export const BACKUP_COMPONENTS = ["postgresql", ...VOLUME_COMPONENTS] as const;
export type BackupComponent = (typeof BACKUP_COMPONENTS)[number];

/** Why a backup was taken: the label es1.io/backup-trigger of the ones es1 creates. */
export type BackupTrigger = "on-demand" | "pre-upgrade" | "scheduled";
export const TRIGGER_LABEL = "es1.io/backup-trigger";
/** CloudNativePG labels the Backups a ScheduledBackup creates with its name. */
const SCHEDULED_LABEL = "cnpg.io/scheduled-backup";

const BACKUPS = `/apis/postgresql.cnpg.io/v1/namespaces/${INFRASTRUCTURE_NAMESPACE}/backups`;
const OBJECT_STORES = `/apis/barmancloud.cnpg.io/v1/namespaces/${INFRASTRUCTURE_NAMESPACE}/objectstores`;

/** What this module needs of a cluster: reads and creates (a KubeClient, or a fake in tests). */
export interface BackupApi {
  get<T>(apiPath: string): Promise<T>;
  post<T>(apiPath: string, json: unknown): Promise<T>;
}

/** A CloudNativePG Backup as the API returns it (the fields read here). */
export interface CnpgBackup {
  metadata: { name: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: { method?: string; cluster?: { name?: string } };
  status?: {
    phase?: string;
    startedAt?: string;
    stoppedAt?: string;
    backupId?: string;
    error?: string;
    destinationPath?: string;
  };
}

/** One backup of one component, as `es1 backup` reports it. */
export interface BackupEntry {
  component: BackupComponent;
  /** The PostgreSQL cluster backed up (es1-postgresql, or a restored one); none for Velero's. */
  cluster?: string;
  name: string;
  trigger: BackupTrigger | "manual";
  /** CloudNativePG's phase; `pending` until the operator has reconciled the Backup. */
  phase: string;
  createdAt?: string;
  startedAt?: string;
  stoppedAt?: string;
  /** The Barman backup ID, what a restore to this backup names. */
  backupId?: string;
  /**
   * Bytes written, where the cluster records them: PostgreSQL's null, because neither
   * CloudNativePG nor the plugin records a backup's size in Kubernetes (it is in the object
   * store's backup.info; docs/backup.md); Velero's the volumes' bytes its PodVolumeBackups report.
   */
  sizeBytes: number | null;
  /** Velero: items written of those found so far. */
  progress?: { itemsBackedUp: number; totalItems: number };
  /** Velero: when the backup is deleted (its TTL). */
  expiresAt?: string;
  error?: string;
}

export type BackupOutcome = "completed" | "failed" | "pending";

/** Phases after which a Backup changes no more. */
const DONE: Record<string, BackupOutcome> = { completed: "completed", failed: "failed" };

export function backupEntry(b: CnpgBackup): BackupEntry {
  const labels = b.metadata.labels ?? {};
  const trigger = labels[SCHEDULED_LABEL]
    ? "scheduled"
    : ((labels[TRIGGER_LABEL] as BackupTrigger | undefined) ?? "manual");
  const s = b.status ?? {};
  return {
    component: "postgresql",
    cluster: b.spec?.cluster?.name ?? labels["cnpg.io/cluster"] ?? POSTGRESQL_CLUSTER,
    name: b.metadata.name,
    trigger,
    phase: s.phase && s.phase !== "" ? s.phase : "pending",
    ...(b.metadata.creationTimestamp ? { createdAt: b.metadata.creationTimestamp } : {}),
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.stoppedAt ? { stoppedAt: s.stoppedAt } : {}),
    ...(s.backupId ? { backupId: s.backupId } : {}),
    sizeBytes: null,
    ...(s.error ? { error: s.error } : {}),
  };
}

/** A Backup's name: the cluster, why, and when (UTC), unique per second. */
export function backupName(
  trigger: Exclude<BackupTrigger, "scheduled">,
  now: Date,
  cluster: string = POSTGRESQL_CLUSTER,
): string {
  return `${cluster}-${trigger}-${stamp(now)}`;
}

/** `20261201-100000`: a UTC time in object names. */
export function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15).toLowerCase();
}

/**
 * The cluster the stack's consumers use, from `es1:backup` in stack config (JSON): a restored
 * one once es1:backup.postgresql.restore names it, else es1-postgresql.
 */
export function activeCluster(backupConfig: unknown): string {
  const config = backupConfig as { postgresql?: { restore?: { cluster?: unknown } } } | undefined;
  const restored = config?.postgresql?.restore?.cluster;
  return typeof restored === "string" && restored !== "" ? restored : POSTGRESQL_CLUSTER;
}

/** The Backup object es1 creates: a base backup through the plugin, into the stack's ObjectStore. */
export function backupObject(
  name: string,
  trigger: Exclude<BackupTrigger, "scheduled">,
  cluster: string = POSTGRESQL_CLUSTER,
): CnpgBackup & {
  apiVersion: string;
  kind: string;
  spec: Record<string, unknown>;
} {
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Backup",
    metadata: {
      name,
      labels: { ...BACKUP_LABELS, "cnpg.io/cluster": cluster, [TRIGGER_LABEL]: trigger },
    },
    spec: {
      cluster: { name: cluster },
      method: "plugin",
      pluginConfiguration: { name: BARMAN_PLUGIN },
    },
  };
}

/** Thrown when the stack has no PostgreSQL backups configured: the invocation, not the cluster. */
export class BackupsNotConfigured extends Error {
  constructor() {
    super(
      `the stack's cluster has no ObjectStore ${OBJECT_STORE} in ${INFRASTRUCTURE_NAMESPACE}: ` +
        "PostgreSQL backups are not configured; set es1:backup and run es1 up (docs/backup.md)",
    );
    this.name = "BackupsNotConfigured";
  }
}

async function requireObjectStore(api: BackupApi): Promise<void> {
  try {
    await api.get(`${OBJECT_STORES}/${OBJECT_STORE}`);
  } catch (e) {
    // 404: no such object; also no such kind (the plugin's CRD is not installed).
    if (e instanceof KubeHttpError && e.status === 404) throw new BackupsNotConfigured();
    throw e;
  }
}

/** Every Backup of the stack's PostgreSQL clusters (the original and restored ones), newest first. */
export async function listBackups(api: BackupApi): Promise<BackupEntry[]> {
  const selector = encodeURIComponent("cnpg.io/cluster");
  const list = await api.get<{ items?: CnpgBackup[] }>(`${BACKUPS}?labelSelector=${selector}`);
  return (list.items ?? [])
    .map(backupEntry)
    .sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? "") || b.name.localeCompare(a.name));
}

export interface TakeBackupOptions {
  trigger: Exclude<BackupTrigger, "scheduled">;
  /** The cluster to back up (default es1-postgresql; see activeCluster). */
  cluster?: string;
  /** Return once created (phase pending) instead of waiting for completed or failed. */
  wait: boolean;
  timeoutSeconds: number;
  pollSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  now?: () => Date;
}

/**
 * Creates a Backup of the PostgreSQL cluster and, with `wait`, reads it until the operator says
 * completed or failed, or the time is up (then its outcome is `pending`).
 */
export async function takeBackup(
  api: BackupApi,
  opts: TakeBackupOptions,
): Promise<{ entry: BackupEntry; outcome: BackupOutcome }> {
  await requireObjectStore(api);
  const cluster = opts.cluster ?? POSTGRESQL_CLUSTER;
  const name = backupName(opts.trigger, (opts.now ?? (() => new Date()))(), cluster);
  const created = await api.post<CnpgBackup>(BACKUPS, backupObject(name, opts.trigger, cluster));
  const entry = backupEntry(created);
  opts.onProgress?.(`created Backup ${name} (${entry.phase})`);
  return untilDone(entry, async () => backupEntry(await api.get<CnpgBackup>(`${BACKUPS}/${name}`)), {
    ...opts,
    what: `Backup ${name}`,
    outcome: (phase) => DONE[phase],
  });
}

/** How long to wait for an object's phase, and what a phase means. */
export interface WaitOptions {
  wait: boolean;
  timeoutSeconds: number;
  pollSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  /** For progress lines: `Backup <name>`. */
  what: string;
  /** The outcome a phase is final with, or undefined while it may still change. */
  outcome: (phase: string) => BackupOutcome | undefined;
}

/**
 * Reads an object (`read`) until its phase is final, or the time is up (then `pending`); without
 * `wait`, the first answer is `pending`.
 */
export async function untilDone<E extends { phase: string }>(
  first: E,
  read: () => Promise<E>,
  opts: WaitOptions,
): Promise<{ entry: E; outcome: BackupOutcome }> {
  let entry = first;
  if (!opts.wait) return { entry, outcome: "pending" };
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let last = entry.phase;
  for (;;) {
    const outcome = opts.outcome(entry.phase);
    if (outcome) return { entry, outcome };
    if (Date.now() >= deadline || opts.signal?.aborted === true) return { entry, outcome: "pending" };
    const pause = Math.min((opts.pollSeconds ?? 5) * 1000, Math.max(0, deadline - Date.now()));
    await delay(pause, undefined, { signal: opts.signal }).catch(() => undefined);
    entry = await read();
    if (entry.phase !== last) opts.onProgress?.(`${opts.what}: ${entry.phase}`);
    last = entry.phase;
  }
}

// ---------------------------------------------------------------------------------------------
// before a risky upgrade

const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** A change `es1 up` would make that calls for a backup first. */
export interface RiskyChange {
  component: "postgresql" | "redis" | "langfuse";
  what: string;
}

function deployedRelease(resources: readonly StateResource[], name: string): StateResource | undefined {
  return resources.find((r) => r.type === RELEASE_TYPE && revealed(r.inputs?.name) === name);
}

function deployedValue(r: StateResource, path: readonly string[]): unknown {
  let v: unknown = revealed(r.inputs?.values);
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = revealed((v as Record<string, unknown>)[p]);
  }
  return v;
}

/**
 * The risky changes of this run, from the stack's last deployment (its state): a new chart
 * version of a stateful component's release, or a new PostgreSQL major version. A component not
 * deployed yet has nothing to lose.
 */
export function riskyChanges(resources: readonly StateResource[]): RiskyChange[] {
  const out: RiskyChange[] = [];
  const stateful = [
    { component: "postgresql", key: "postgresql" },
    { component: "redis", key: "redis" },
    // ClickHouse runs inside the Langfuse release.
    { component: "langfuse", key: "langfuse" },
  ] as const;
  for (const s of stateful) {
    const r = deployedRelease(resources, releaseName(s.key));
    if (r === undefined) continue;
    const version = revealed(r.inputs?.version);
    const pinned = CATALOG[s.key].chart.version;
    if (typeof version === "string" && version !== pinned)
      out.push({ component: s.component, what: `${releaseName(s.key)} chart ${version} -> ${pinned}` });
    if (s.key === "postgresql") {
      const major = deployedValue(r, ["version", "postgresql"]);
      if (typeof major === "string" && major !== POSTGRES_MAJOR)
        out.push({ component: "postgresql", what: `PostgreSQL major version ${major} -> ${POSTGRES_MAJOR}` });
    }
  }
  return out;
}

/** What `es1:backup` in stack config (JSON) says about the backup before upgrades. */
export function preUpgradePolicy(backupConfig: unknown): "take" | "skip" | "not-configured" {
  if (typeof backupConfig !== "object" || backupConfig === null) return "not-configured";
  const before = (backupConfig as Record<string, unknown>).beforeUpgrade;
  return before === false || before === "false" ? "skip" : "take";
}

/** How long `es1 up` waits for its pre-upgrade backup before it gives up, changing nothing. */
export const PRE_UPGRADE_TIMEOUT_SECONDS = 3600;
