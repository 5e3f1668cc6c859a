// `es1:backup`: where backups go (on gke, eks and aks a bucket the cluster component creates,
// reached through workload identity; or an S3-compatible object store the site provides: endpoint,
// bucket, credentials), how often PostgreSQL takes a base backup and how long backups are kept,
// and whether `es1 up` takes a backup before a risky upgrade. The access key pair is a credential:
// stored encrypted, a Pulumi secret, and delivered to the cluster only inside a Kubernetes Secret
// (infrastructure/backup.ts). Messages never repeat a secret value.
import * as pulumi from "@pulumi/pulumi";
import { show } from "./errors";
import { PlainObject, Reader } from "./reader";
import type { ClusterSettings } from "./cluster";
import type { Environment } from "./settings";

export interface ObjectStoreSettings {
  /** `https://host[:port]` (or http:// inside the cluster's network) of the S3 API. */
  endpoint: string;
  bucket: string;
  /** Folder inside the bucket this stack writes under (default: the stack's name). */
  prefix: string;
  /** Signing region; S3-compatible stores accept any, AWS needs the bucket's. */
  region: string;
  accessKeyId: pulumi.Output<string>;
  secretAccessKey: pulumi.Output<string>;
}

/**
 * A PostgreSQL restore (docs/backup.md#restore-postgresql): a new cluster bootstrapped from the
 * object store at a point in time, which every consumer then uses; the original is kept.
 */
export interface PostgresqlRestoreSettings {
  /** The new cluster: `es1-postgresql-<suffix>`. */
  cluster: string;
  /** The cluster whose backups and WAL are restored (its folder in the object store). */
  source: string;
  /** Recover up to this instant (RFC 3339, UTC). */
  targetTime: string;
}

export interface PostgresqlBackupSettings {
  /** CloudNativePG ScheduledBackup schedule: six fields, seconds first (robfig/cron). */
  schedule: string;
  /** Base backups and WAL kept for this many days (the ObjectStore's retentionPolicy). */
  retentionDays: number;
  /** Longest gap between two scheduled base backups, in seconds (for the ES1BackupTooOld alert). */
  intervalSeconds: number;
  restore?: PostgresqlRestoreSettings;
}

/**
 * Components whose volumes Velero backs up (es1:backup.volumes): each one's own data outside
 * PostgreSQL. `monitoring` is Grafana's volume (Prometheus' and Alertmanager's are not kept).
 */
export const VOLUME_COMPONENTS = ["redis", "langfuse", "mlflow", "ollama", "monitoring", "langflow"] as const;
export type VolumeComponent = (typeof VOLUME_COMPONENTS)[number];

/** Velero's scheduled backups of the components' volumes and objects (docs/backup.md). */
export interface VolumeBackupSettings {
  /** Velero is installed and the Schedules made (default: with es1:backup). */
  enabled: boolean;
  /** Velero Schedule: five fields, minute first (robfig/cron, standard). */
  schedule: string;
  /** Each backup is kept this many days (the Backup's TTL). */
  retentionDays: number;
  /** Longest gap between two scheduled backups, in seconds. */
  intervalSeconds: number;
  /** Per component: backed up (when it is switched on). */
  components: Record<VolumeComponent, boolean>;
}

export interface BackupSettings {
  /**
   * The site's S3-compatible store (endpoint, bucket, keys). Undefined on a cloud cluster that
   * creates the store itself (clusters/, the Cluster's backupStore), reached without keys.
   */
  objectStore?: ObjectStoreSettings;
  /** Folder inside the bucket this stack writes under (default: the stack's name). */
  prefix: string;
  postgresql: PostgresqlBackupSettings;
  volumes: VolumeBackupSettings;
  /** `es1 up` takes and waits for a backup before a risky upgrade (docs/backup.md). */
  beforeUpgrade: boolean;
}

/** Defaults and bounds, in one place: docs/configuration.md quotes them. */
export const BACKUP_DEFAULTS = {
  /** Every day at 02:00 (cluster time). */
  postgresqlSchedule: "0 0 2 * * *",
  /** Every day at 03:00 (cluster time), after PostgreSQL's base backup. */
  volumesSchedule: "0 3 * * *",
  /** Ollama's models are pulled again from components.ollama.models: not backed up unless asked. */
  volumeComponents: {
    redis: true,
    langfuse: true,
    mlflow: true,
    ollama: false,
    monitoring: true,
    langflow: true,
  } satisfies Record<VolumeComponent, boolean>,
  retentionDays: { default: 30, min: 1, max: 3650 },
  region: "us-east-1",
} as const;

/** S3 bucket naming rules (AWS, which the S3-compatible stores follow). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const REGION = /^[a-z0-9-]{2,32}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9+/=_.-]{3,128}$/;
const SECRET_ACCESS_KEY = /^\S{8,256}$/;

// ---------------------------------------------------------------------------------------------
// cron

interface CronField {
  name: string;
  min: number;
  max: number;
}

const MINUTE_FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 6 },
];
/** CloudNativePG's ScheduledBackup (robfig/cron with seconds): a seconds field first. */
export const SECONDS_CRON: readonly CronField[] = [{ name: "second", min: 0, max: 59 }, ...MINUTE_FIELDS];

/** The values one cron field matches, or a problem. `*`, `n`, `a-b`, `* /s`, `a-b/s`, lists of them. */
function fieldValues(text: string, f: CronField): Set<number> | string {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${f.name} '${part}' is not a number, a range a-b, '*' or a step '/n'`;
    const lo = m[1] === "*" ? f.min : Number(m[2]);
    const hi = m[1] === "*" ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi) return `${f.name} '${part}' is outside ${f.min}-${f.max}`;
    if (step < 1) return `${f.name} '${part}' has a step of 0`;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** The fields of a cron schedule (`fields` long), or a problem naming the bad field. */
export function parseCron(text: string, fields: readonly CronField[]): Set<number>[] | string {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== fields.length)
    return `a schedule has ${fields.length} fields (${fields.map((f) => f.name).join(", ")}), got ${parts.length}`;
  const out: Set<number>[] = [];
  for (let i = 0; i < fields.length; i++) {
    const v = fieldValues(parts[i], fields[i]);
    if (typeof v === "string") return v;
    out.push(v);
  }
  return out;
}

/**
 * The longest gap, in seconds, between two runs of a schedule over four weeks (minute
 * resolution; cron's rule: with both day fields restricted, either matches), or undefined when
 * it never runs in that time.
 */
export function longestGapSeconds(fields: Set<number>[], secondsFirst: boolean): number | undefined {
  const [minute, hour, dom, month, dow] = secondsFirst ? fields.slice(1) : fields;
  const domAll = dom.size === 31;
  const dowAll = dow.size === 7;
  const runs: number[] = [];
  const start = Date.UTC(2027, 0, 4); // a Monday; the year does not matter for the gaps
  for (let t = start; t < start + 28 * 86400_000; t += 60_000) {
    const d = new Date(t);
    if (!minute.has(d.getUTCMinutes()) || !hour.has(d.getUTCHours())) continue;
    if (!month.has(d.getUTCMonth() + 1)) continue;
    const dayOk =
      domAll || dowAll
        ? dom.has(d.getUTCDate()) && dow.has(d.getUTCDay())
        : dom.has(d.getUTCDate()) || dow.has(d.getUTCDay());
    if (dayOk) runs.push(t);
  }
  if (runs.length === 0) return undefined;
  // The gap across the end of the window wraps to the first run.
  let longest = runs[0] + 28 * 86400_000 - runs[runs.length - 1];
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i] - runs[i - 1]);
  return longest / 1000;
}

/** Schedules that run more often than this are refused: a base backup each time is wasteful. */
const MIN_INTERVAL_SECONDS = 3600;
/** ... and less often than this: WAL since the last base backup would grow without bound. */
const MAX_INTERVAL_SECONDS = 7 * 86400;

/** Seconds for people: minutes, hours or days. */
function duration(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function schedule(
  r: Reader,
  path: string,
  value: unknown,
  fallback: string,
  form: { fields: readonly CronField[]; example: string; what: string } = {
    fields: SECONDS_CRON,
    example: `e.g. "${BACKUP_DEFAULTS.postgresqlSchedule}" (every day at 02:00)`,
    what: "a base backup",
  },
): { text: string; gap: number } {
  const text = r.string(path, value, fallback);
  const fields = parseCron(text, form.fields);
  const example = form.example;
  const fallbackGap = 86400;
  if (typeof fields === "string") {
    r.fail(path, `${show(text)} is not a schedule: ${fields}; ${example}`);
    return { text: fallback, gap: fallbackGap };
  }
  const gap = longestGapSeconds(fields, form.fields.length === SECONDS_CRON.length);
  if (gap === undefined || gap > MAX_INTERVAL_SECONDS || gap < MIN_INTERVAL_SECONDS) {
    r.fail(
      path,
      `${show(text)} runs ${gap === undefined ? "less often than once in 4 weeks" : `with up to ${duration(gap)} between runs`}; ` +
        `${form.what} runs at least once a week and at most once an hour, ${example}`,
    );
    return { text: fallback, gap: fallbackGap };
  }
  return { text, gap };
}

function credential(
  r: Reader,
  path: string,
  value: unknown,
  pattern: RegExp,
  says: string,
  isSecret: (key: string) => boolean,
): pulumi.Output<string> | undefined {
  if (value === undefined) {
    r.fail(path, `is required: ${says}, set with pulumi config set --secret --path es1:${path} …`);
    return undefined;
  }
  if (!isSecret("backup")) {
    r.fail(
      path,
      `is a credential and must be stored encrypted: pulumi config set --secret --path es1:${path} …`,
    );
    return undefined;
  }
  if (typeof value !== "string" || !pattern.test(value)) {
    r.fail(path, `the value set is not valid; expected ${says}`);
    return undefined;
  }
  return pulumi.secret(value);
}

/** The keys that make `es1:backup.objectStore` a store of the site's rather than the cluster's. */
const SITE_STORE_KEYS = ["endpoint", "bucket", "accessKeyId", "secretAccessKey"] as const;

/** Clouds whose cluster component creates the backup store; why one cannot, or undefined. */
function createdStoreProblem(
  cluster: Pick<ClusterSettings, "provider"> & { workloadIdentity?: boolean },
): string | undefined {
  if (cluster.provider === "existing")
    return "an existing cluster has no store of its own; name the S3-compatible store backups are written to (endpoint, bucket, credentials)";
  // EKS falls back to IRSA, still without keys; GKE and AKS need workload identity.
  if (cluster.provider !== "eks" && cluster.workloadIdentity === false)
    return `the store ${cluster.provider} creates is reached through workload identity, which es1:cluster.workloadIdentity turns off; turn it on, or name a store of the site's (endpoint, bucket, credentials)`;
  return undefined;
}

/**
 * `es1:backup.objectStore`: the site's store, or (undefined) the one the cloud cluster creates,
 * which takes only `prefix`.
 */
function parseObjectStore(
  r: Reader,
  value: unknown,
  stack: string,
  isSecret: (key: string) => boolean,
  cluster: Pick<ClusterSettings, "provider"> & { workloadIdentity?: boolean },
): { store?: ObjectStoreSettings; prefix: string; failed?: true } {
  const path = "backup.objectStore";
  const given: PlainObject = value === undefined ? {} : (r.object(path, value) ?? {});
  const prefixOf = () =>
    r.string(`${path}.prefix`, given.prefix, stack, {
      re: PREFIX,
      says: "folders of letters, digits, '.', '_' or '-', separated by '/', without a leading or trailing '/'",
    });
  if (!SITE_STORE_KEYS.some((k) => given[k] !== undefined)) {
    const problem = createdStoreProblem(cluster);
    if (problem === undefined) {
      r.knownKeys(path, given, ["prefix"]);
      return { prefix: prefixOf() };
    }
    if (value === undefined) {
      r.fail(path, `is required: ${problem}`);
      return { prefix: stack, failed: true };
    }
  }
  const o = given;
  r.knownKeys(path, o, ["endpoint", "bucket", "prefix", "region", "accessKeyId", "secretAccessKey"]);
  const endpoint = r.string(`${path}.endpoint`, o.endpoint, "");
  if (endpoint === "" && o.endpoint === undefined)
    r.fail(`${path}.endpoint`, 'is required: the URL of the S3 API, e.g. "https://s3.example.internal:9000"');
  else if (endpoint !== "" && !ENDPOINT.test(endpoint))
    r.fail(
      `${path}.endpoint`,
      `${show(endpoint)} is not an endpoint URL: http(s)://host[:port], without a path (the bucket is its own key)`,
    );
  const bucket = r.string(`${path}.bucket`, o.bucket, "");
  if (bucket === "" && o.bucket === undefined) r.fail(`${path}.bucket`, "is required: the bucket's name");
  else if (
    bucket !== "" &&
    (!BUCKET.test(bucket) || bucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(bucket))
  )
    r.fail(
      `${path}.bucket`,
      `${show(bucket)} is not a bucket name: 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit`,
    );
  const prefix = prefixOf();
  const region = r.string(`${path}.region`, o.region, BACKUP_DEFAULTS.region, {
    re: REGION,
    says: 'a region name such as "us-east-1"',
  });
  const accessKeyId = credential(
    r,
    `${path}.accessKeyId`,
    o.accessKeyId,
    ACCESS_KEY_ID,
    "the access key ID (3 to 128 letters, digits or +/=_.-)",
    isSecret,
  );
  const secretAccessKey = credential(
    r,
    `${path}.secretAccessKey`,
    o.secretAccessKey,
    SECRET_ACCESS_KEY,
    "the secret access key (8 to 256 characters, no spaces)",
    isSecret,
  );
  if (!accessKeyId || !secretAccessKey) return { prefix, failed: true };
  return {
    store: { endpoint: endpoint.replace(/\/$/, ""), bucket, prefix, region, accessKeyId, secretAccessKey },
    prefix,
  };
}

/** The original cluster's name, and the form of a restored one's. */
export const ORIGINAL_POSTGRESQL_CLUSTER = "es1-postgresql";
const RESTORED_CLUSTER = /^es1-postgresql-[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

function parseRestore(r: Reader, value: unknown): PostgresqlRestoreSettings | undefined {
  const path = "backup.postgresql.restore";
  const o = r.object(path, value);
  if (o === undefined) return undefined;
  r.knownKeys(path, o, ["cluster", "source", "targetTime"]);
  const cluster = r.string(`${path}.cluster`, o.cluster, "");
  if (o.cluster === undefined)
    r.fail(`${path}.cluster`, 'is required: the new cluster\'s name, e.g. "es1-postgresql-r1"');
  else if (cluster !== "" && (!RESTORED_CLUSTER.test(cluster) || cluster === ORIGINAL_POSTGRESQL_CLUSTER))
    r.fail(
      `${path}.cluster`,
      `${show(cluster)} is not allowed: es1-postgresql- and a suffix of lowercase letters, digits or '-' (at most 32), ` +
        "a name no cluster of the stack has",
    );
  const source = r.string(`${path}.source`, o.source, ORIGINAL_POSTGRESQL_CLUSTER, {
    re: /^es1-postgresql(-[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?)?$/,
    says: "the name of a cluster of this stack whose backups are in the object store",
  });
  if (source === cluster)
    r.fail(`${path}.source`, "is the cluster being created; name the cluster backed up");
  const targetTime = r.string(`${path}.targetTime`, o.targetTime, "");
  if (o.targetTime === undefined)
    r.fail(
      `${path}.targetTime`,
      'is required: the instant to recover to, e.g. "2026-12-01T10:00:00Z" (es1 restore sets it)',
    );
  else if (targetTime !== "" && (!RFC3339_UTC.test(targetTime) || Number.isNaN(Date.parse(targetTime))))
    r.fail(
      `${path}.targetTime`,
      `${show(targetTime)} is not a UTC time in RFC 3339, e.g. "2026-12-01T10:00:00Z"`,
    );
  if (cluster === "" || targetTime === "") return undefined;
  return { cluster, source, targetTime };
}

/**
 * Parses `es1:backup`; undefined when unset (no backups: docs/backup.md says what that means).
 * A production stack cannot skip the backup before risky upgrades. `cluster` decides whether
 * `objectStore` may be left out (a cloud cluster creates the store).
 */
export function parseBackup(
  r: Reader,
  stack: string,
  environment: Environment,
  isSecret: (key: string) => boolean,
  cluster: Pick<ClusterSettings, "provider"> & { workloadIdentity?: boolean },
): BackupSettings | undefined {
  const o = r.object("backup", r.raw("backup"));
  if (o === undefined) return undefined;
  r.knownKeys("backup", o, ["objectStore", "postgresql", "beforeUpgrade", "volumes"]);
  const objectStore = parseObjectStore(r, o.objectStore, stack, isSecret, cluster);
  const pg: PlainObject = r.object("backup.postgresql", o.postgresql) ?? {};
  r.knownKeys("backup.postgresql", pg, ["schedule", "retentionDays", "restore"]);
  const restore = parseRestore(r, pg.restore);
  const sched = schedule(r, "backup.postgresql.schedule", pg.schedule, BACKUP_DEFAULTS.postgresqlSchedule);
  const retentionDays = r.integer(
    "backup.postgresql.retentionDays",
    pg.retentionDays,
    BACKUP_DEFAULTS.retentionDays.default,
    BACKUP_DEFAULTS.retentionDays,
  );
  retentionCoversGap(r, "backup.postgresql.retentionDays", retentionDays, sched.gap, "base backup");
  const volumes = parseVolumes(r, o.volumes);
  const beforeUpgrade = r.boolean("backup.beforeUpgrade", o.beforeUpgrade, true);
  if (!beforeUpgrade && environment === "prod")
    r.fail(
      "backup.beforeUpgrade",
      "a prod stack always takes a backup before a risky upgrade; remove the key",
    );
  if (objectStore.failed) return undefined;
  return {
    ...(objectStore.store ? { objectStore: objectStore.store } : {}),
    prefix: objectStore.prefix,
    postgresql: {
      schedule: sched.text,
      retentionDays,
      intervalSeconds: sched.gap,
      ...(restore ? { restore } : {}),
    },
    volumes,
    beforeUpgrade,
  };
}

/** Backups kept for less than the schedule's gap leave moments with none. */
function retentionCoversGap(r: Reader, path: string, days: number, gap: number, what: string): void {
  if (days * 86400 < gap)
    r.fail(
      path,
      `${days} days keeps no ${what} until the next one (the schedule leaves up to ${duration(gap)} between runs); keep backups longer than that`,
    );
}

/** Parses `es1:backup.volumes` (Velero's Schedules): on by default with es1:backup. */
function parseVolumes(r: Reader, value: unknown): VolumeBackupSettings {
  const path = "backup.volumes";
  const o: PlainObject = r.object(path, value) ?? {};
  r.knownKeys(path, o, ["enabled", "schedule", "retentionDays", "components"]);
  const enabled = r.boolean(`${path}.enabled`, o.enabled, true);
  const sched = schedule(r, `${path}.schedule`, o.schedule, BACKUP_DEFAULTS.volumesSchedule, {
    fields: MINUTE_FIELDS,
    example: `e.g. "${BACKUP_DEFAULTS.volumesSchedule}" (every day at 03:00)`,
    what: "a volume backup",
  });
  const retentionDays = r.integer(
    `${path}.retentionDays`,
    o.retentionDays,
    BACKUP_DEFAULTS.retentionDays.default,
    BACKUP_DEFAULTS.retentionDays,
  );
  retentionCoversGap(r, `${path}.retentionDays`, retentionDays, sched.gap, "volume backup");
  const given: PlainObject = r.object(`${path}.components`, o.components) ?? {};
  r.knownKeys(`${path}.components`, given, VOLUME_COMPONENTS);
  const components = Object.fromEntries(
    VOLUME_COMPONENTS.map((c) => [
      c,
      r.boolean(`${path}.components.${c}`, given[c], BACKUP_DEFAULTS.volumeComponents[c]),
    ]),
  ) as Record<VolumeComponent, boolean>;
  return { enabled, schedule: sched.text, retentionDays, intervalSeconds: sched.gap, components };
}
