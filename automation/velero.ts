// `es1 backup now|list` and `es1 restore <component>` for the components Velero backs up
// (infrastructure/velero.ts, docs/backup.md): a Backup made from the component's Schedule, a
// Restore of the component's objects and volumes from one of its backups. Velero does the work;
// this module asks for it and reads what Velero reports in each object's status.
import { VolumeComponent } from "../config/backup";
import { BACKUP_LABELS } from "../infrastructure/backup";
import { VELERO_NAMESPACE } from "../infrastructure/layout";
import { COMPONENT_LABEL, restoreSpec, scheduleName } from "../infrastructure/velero";
import {
  BackupApi,
  BackupEntry,
  BackupOutcome,
  BackupTrigger,
  stamp,
  TRIGGER_LABEL,
  untilDone,
  WaitOptions,
} from "./backup";
import { KubeHttpError } from "./kube";

const VELERO = `/apis/velero.io/v1/namespaces/${VELERO_NAMESPACE}`;
/** Velero labels the Backups a Schedule creates with its name. */
const SCHEDULE_LABEL = "velero.io/schedule-name";

/** A Velero Backup or Restore as the API returns it (the fields read here). */
export interface VeleroObject {
  metadata: { name: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    startTimestamp?: string;
    completionTimestamp?: string;
    expiration?: string;
    progress?: { itemsBackedUp?: number; totalItems?: number; itemsRestored?: number };
    failureReason?: string;
    errors?: number;
  };
}

interface PodVolumeBackup {
  metadata: { labels?: Record<string, string> };
  status?: { progress?: { totalBytes?: number } };
}

/** Velero's final phases; anything else (none yet, New, InProgress, ...) may still change. */
export function veleroOutcome(phase: string): BackupOutcome | undefined {
  if (phase === "Completed") return "completed";
  if (["Failed", "PartiallyFailed", "FailedValidation"].includes(phase)) return "failed";
  return undefined;
}

/** One Velero Backup as `es1 backup` reports it; `sizes` the bytes per backup, where recorded. */
export function veleroEntry(b: VeleroObject, sizes: ReadonlyMap<string, number> = new Map()): BackupEntry {
  const labels = b.metadata.labels ?? {};
  const s = b.status ?? {};
  const progress = s.progress;
  const size = sizes.get(b.metadata.name);
  return {
    component: labels[COMPONENT_LABEL] as VolumeComponent,
    name: b.metadata.name,
    trigger: labels[SCHEDULE_LABEL]
      ? "scheduled"
      : ((labels[TRIGGER_LABEL] as BackupTrigger | undefined) ?? "manual"),
    // Empty until a Velero server has taken the Backup up.
    phase: s.phase && s.phase !== "" ? s.phase : "pending",
    ...(b.metadata.creationTimestamp ? { createdAt: b.metadata.creationTimestamp } : {}),
    ...(s.startTimestamp ? { startedAt: s.startTimestamp } : {}),
    ...(s.completionTimestamp ? { stoppedAt: s.completionTimestamp } : {}),
    sizeBytes: size ?? null,
    ...(progress?.totalItems !== undefined
      ? { progress: { itemsBackedUp: progress.itemsBackedUp ?? 0, totalItems: progress.totalItems } }
      : {}),
    ...(s.expiration ? { expiresAt: s.expiration } : {}),
    ...(s.failureReason ? { error: s.failureReason } : {}),
  };
}

/** Thrown when a component has no Velero Schedule in the cluster: the invocation, not the cluster. */
export class VolumeBackupsNotConfigured extends Error {
  constructor(component: VolumeComponent) {
    super(
      `the stack's cluster has no Velero Schedule ${scheduleName(component)} in ${VELERO_NAMESPACE}: ` +
        `backups of ${component} are not configured; set es1:backup (es1:backup.volumes.components.${component} on, ` +
        "the component on) and run es1 up (docs/backup.md)",
    );
    this.name = "VolumeBackupsNotConfigured";
  }
}

async function orNone<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    // 404: no such object, or no such kind (Velero is not installed).
    if (e instanceof KubeHttpError && e.status === 404) return undefined;
    throw e;
  }
}

/** Every Velero Backup of the stack's components, newest first (none when Velero is not installed). */
export async function listVeleroBackups(api: BackupApi): Promise<BackupEntry[]> {
  const selector = encodeURIComponent(COMPONENT_LABEL);
  const list = await orNone(
    api.get<{ items?: VeleroObject[] }>(`${VELERO}/backups?labelSelector=${selector}`),
  );
  if (!list) return [];
  // The bytes of each backup's volumes, as the node-agent reported them.
  const volumes = await orNone(api.get<{ items?: PodVolumeBackup[] }>(`${VELERO}/podvolumebackups`));
  const sizes = new Map<string, number>();
  for (const v of volumes?.items ?? []) {
    const backup = v.metadata.labels?.["velero.io/backup-name"];
    const bytes = v.status?.progress?.totalBytes;
    if (backup && bytes !== undefined) sizes.set(backup, (sizes.get(backup) ?? 0) + bytes);
  }
  return (list.items ?? [])
    .map((b) => veleroEntry(b, sizes))
    .sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? "") || b.name.localeCompare(a.name));
}

export type VeleroWait = Omit<WaitOptions, "what" | "outcome"> & { now?: () => Date };

/**
 * Creates a Backup of one component from its Schedule's template (what the Schedule would take
 * now) and, with `wait`, reads it until Velero says it is done or the time is up.
 */
export async function takeVeleroBackup(
  api: BackupApi,
  component: VolumeComponent,
  trigger: Exclude<BackupTrigger, "scheduled">,
  opts: VeleroWait,
): Promise<{ entry: BackupEntry; outcome: BackupOutcome }> {
  const schedule = await orNone(
    api.get<{ spec?: { template?: Record<string, unknown> } }>(
      `${VELERO}/schedules/${scheduleName(component)}`,
    ),
  );
  if (!schedule?.spec?.template) throw new VolumeBackupsNotConfigured(component);
  const name = `${scheduleName(component)}-${trigger}-${stamp((opts.now ?? (() => new Date()))())}`;
  const created = await api.post<VeleroObject>(`${VELERO}/backups`, {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: {
      name,
      labels: { ...BACKUP_LABELS, [COMPONENT_LABEL]: component, [TRIGGER_LABEL]: trigger },
    },
    spec: schedule.spec.template,
  });
  const entry = veleroEntry(created);
  opts.onProgress?.(`created Velero Backup ${name} (${entry.phase})`);
  return untilDone(entry, async () => veleroEntry(await api.get<VeleroObject>(`${VELERO}/backups/${name}`)), {
    ...opts,
    what: `Velero Backup ${name}`,
    outcome: veleroOutcome,
  });
}

/** A Velero Restore as `es1 restore` reports it. */
export interface RestoreEntry {
  component: VolumeComponent;
  name: string;
  backup: string;
  phase: string;
  startedAt?: string;
  stoppedAt?: string;
  error?: string;
}

function restoreEntry(component: VolumeComponent, r: VeleroObject): RestoreEntry {
  const s = r.status ?? {};
  return {
    component,
    name: r.metadata.name,
    backup: String(r.spec?.backupName ?? ""),
    phase: s.phase && s.phase !== "" ? s.phase : "pending",
    ...(s.startTimestamp ? { startedAt: s.startTimestamp } : {}),
    ...(s.completionTimestamp ? { stoppedAt: s.completionTimestamp } : {}),
    ...(s.failureReason ? { error: s.failureReason } : {}),
  };
}

/** Thrown when the named backup cannot be restored: not there, another component's, or not completed. */
export class NotRestorable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotRestorable";
  }
}

/**
 * Creates a Restore of one component from one of its completed Backups and, with `wait`, reads
 * it until Velero says it is done or the time is up.
 */
export async function restoreVolumes(
  api: BackupApi,
  component: VolumeComponent,
  backupName: string,
  opts: VeleroWait,
): Promise<{ entry: RestoreEntry; outcome: BackupOutcome }> {
  const backup = await orNone(api.get<VeleroObject>(`${VELERO}/backups/${backupName}`));
  if (!backup)
    throw new NotRestorable(`no Velero Backup ${backupName} in ${VELERO_NAMESPACE} (es1 backup list)`);
  const of = backup.metadata.labels?.[COMPONENT_LABEL];
  if (of !== component)
    throw new NotRestorable(
      `Velero Backup ${backupName} is ${of ? `of ${of}` : "not one of es1's"}, not of ${component}`,
    );
  const phase = veleroEntry(backup).phase;
  if (phase !== "Completed")
    throw new NotRestorable(`Velero Backup ${backupName} is ${phase}: only a completed backup is restored`);
  const name = `${scheduleName(component)}-restore-${stamp((opts.now ?? (() => new Date()))())}`;
  const created = await api.post<VeleroObject>(`${VELERO}/restores`, {
    apiVersion: "velero.io/v1",
    kind: "Restore",
    metadata: { name, labels: { ...BACKUP_LABELS, [COMPONENT_LABEL]: component } },
    spec: restoreSpec(component, backupName),
  });
  const entry = restoreEntry(component, created);
  opts.onProgress?.(`created Velero Restore ${name} (${entry.phase})`);
  return untilDone(
    entry,
    async () => restoreEntry(component, await api.get<VeleroObject>(`${VELERO}/restores/${name}`)),
    { ...opts, what: `Velero Restore ${name}`, outcome: veleroOutcome },
  );
}
