// Backups of the shared infrastructure (docs/backup.md), the Kubernetes part: PostgreSQL's
// continuous backup the CloudNativePG way — the Barman Cloud plugin (release
// es1-postgresql-backup) archives WAL and takes base backups into the site's S3-compatible object
// store, which an ObjectStore describes; a ScheduledBackup takes the base backups. The store is
// the site's (its access keys reach the cluster only in the Secret es1-backup-object-store: no
// Helm values hold them) or, on gke, eks and aks, the bucket the cluster component made
// (clusters/*-backup.ts): no keys at all, the PostgreSQL pods' service account carries the
// cloud identity that alone may write it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupStoreRequest, CloudBackupStore } from "../clusters/types";
import { BackupSettings, ORIGINAL_POSTGRESQL_CLUSTER, PostgresqlRestoreSettings } from "../config/backup";
import { JsonObject } from "../lib/json";
import { INFRASTRUCTURE_NAMESPACE, VELERO_SERVICE_ACCOUNT } from "./layout";
import { imageParts, infraPlacement, pullSecretRefs, ValuesContext } from "./values/context";

/** The plugin's name, as CloudNativePG finds it (the plugin's Service announces it). */
export const BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io";
/** The PostgreSQL cluster (chart cluster, fullnameOverride). */
export const POSTGRESQL_CLUSTER = ORIGINAL_POSTGRESQL_CLUSTER;

/** The cluster the consumers use: the restored one once es1:backup.postgresql.restore is set. */
export function activePostgresqlCluster(backup: BackupSettings | undefined): string {
  return backup?.postgresql.restore?.cluster ?? POSTGRESQL_CLUSTER;
}
/** The ObjectStore the cluster archives into and backs up to. */
export const OBJECT_STORE = "es1-postgresql-backups";
/** The ScheduledBackup of base backups (its Pulumi name; the object is named after its cluster). */
export const SCHEDULED_BACKUP = "es1-postgresql-scheduled";

/**
 * The ScheduledBackup's name for a cluster: CloudNativePG refuses to change a ScheduledBackup's
 * cluster, so after a restore a new one (new name) replaces the original's.
 */
export function scheduledBackupName(cluster: string): string {
  return `${cluster}-scheduled`;
}
/** The Secret holding the object store's access keys (keys as the cluster chart names them). */
export const BACKUP_SECRET = {
  name: "es1-backup-object-store",
  accessKeyId: "ACCESS_KEY_ID",
  secretAccessKey: "ACCESS_SECRET_KEY",
} as const;

/** Labels of every backup object, so `es1 backup list` and people find them. */
export const BACKUP_LABELS = {
  "es1-role": "infrastructure",
  "app.kubernetes.io/part-of": "es1",
  "app.kubernetes.io/component": "backup",
} as const;

/**
 * The store backups go to, as Barman Cloud sees it: its API, its root (`s3://<bucket>`,
 * `gs://<bucket>`, `https://<account>.blob.core.windows.net/<container>`), the S3 endpoint, and
 * whether the site's keys (the Secret) or the pods' cloud identity sign the requests.
 */
export interface BackupTarget<Root = string> {
  provider: CloudBackupStore["kind"];
  root: Root;
  endpoint?: string;
  keys: boolean;
}

/**
 * The store the cloud cluster is asked to create for the stack (clusters/, BackupStoreRequest),
 * or undefined when es1:backup names the site's own store or nothing is backed up. The service
 * accounts that may use it: every PostgreSQL cluster of the stack, the restored one included,
 * and Velero's (es1:backup.volumes), which writes its volume backups beside them.
 */
export function backupStoreRequest(settings: {
  backup?: BackupSettings;
  protect: boolean;
  components: { postgresql: { enabled: boolean } };
}): BackupStoreRequest | undefined {
  const backup = settings.backup;
  if (!backup || backup.objectStore) return undefined;
  const postgresql = settings.components.postgresql.enabled;
  const velero = backup.volumes.enabled;
  if (!postgresql && !velero) return undefined;
  const clusters = postgresql
    ? [POSTGRESQL_CLUSTER, ...(backup.postgresql.restore ? [backup.postgresql.restore.cluster] : [])]
    : [];
  return {
    // CloudNativePG runs a cluster's pods under a ServiceAccount named after the cluster.
    consumers: [
      ...clusters.map((name) => ({ namespace: INFRASTRUCTURE_NAMESPACE, name })),
      ...(velero ? [{ ...VELERO_SERVICE_ACCOUNT }] : []),
    ],
    // Deleted objects stay recoverable as long as the longer-kept of the two kinds of backup.
    retentionDays: Math.max(
      postgresql ? backup.postgresql.retentionDays : 0,
      velero ? backup.volumes.retentionDays : 0,
    ),
    protect: settings.protect,
  };
}

/** The store of the stack: the site's from es1:backup, or the one the cloud cluster made. */
export function backupTarget(
  backup: BackupSettings,
  store: CloudBackupStore | undefined,
): BackupTarget<pulumi.Input<string>> {
  if (backup.objectStore)
    return {
      provider: "s3",
      root: `s3://${backup.objectStore.bucket}`,
      endpoint: backup.objectStore.endpoint,
      keys: true,
    };
  if (!store) throw new Error("es1:backup names no object store and the cluster made none");
  return { provider: store.kind, root: store.url, endpoint: store.endpoint, keys: false };
}

/** The target with its root known (inside an apply). */
export function resolvedTarget(target: BackupTarget<pulumi.Input<string>>): pulumi.Output<BackupTarget> {
  return pulumi.output(target.root).apply((root) => ({ ...target, root }));
}

/** Where a stack's PostgreSQL backups live: `<root>/<prefix>/postgresql`. */
export function postgresqlDestination(backup: BackupSettings, target: BackupTarget): string {
  return `${target.root}/${backup.prefix}/postgresql`;
}

/** The ObjectStore's credentials: the Secret's keys, or the identity of the pods' service account. */
function credentials(target: BackupTarget): JsonObject {
  const ref = (key: string) => ({ name: BACKUP_SECRET.name, key });
  switch (target.provider) {
    case "s3":
      return {
        s3Credentials: target.keys
          ? {
              accessKeyId: ref(BACKUP_SECRET.accessKeyId),
              secretAccessKey: ref(BACKUP_SECRET.secretAccessKey),
            }
          : { inheritFromIAMRole: true },
      };
    case "google":
      return { googleCredentials: { gkeEnvironment: true } };
    case "azure":
      return { azureCredentials: { inheritFromAzureAD: true } };
  }
}

/**
 * The ObjectStore's spec: the bucket path, the endpoint, credentials (by Secret reference, or
 * inherited from the cloud identity), and retention (base backups and the WAL they need, older
 * than this, are deleted by the plugin). WAL and data are gzip-compressed; encryption is left to
 * the store's default, since S3-compatible stores differ in which server-side encryption they
 * accept (the stores the clouds create encrypt by default).
 */
export function objectStoreSpec(backup: BackupSettings, target: BackupTarget): JsonObject {
  return {
    retentionPolicy: `${backup.postgresql.retentionDays}d`,
    configuration: {
      destinationPath: postgresqlDestination(backup, target),
      ...(target.endpoint ? { endpointURL: target.endpoint } : {}),
      ...credentials(target),
      wal: { compression: "gzip", maxParallel: 2 },
      data: { compression: "gzip", jobs: 2 },
    },
  };
}

/**
 * The PostgreSQL release's values with the cloud identity on the clusters' service account
 * (chart cluster, `cluster.serviceAccountTemplate`): CloudNativePG creates the account with them.
 */
export function withBackupIdentity(
  values: JsonObject,
  store: CloudBackupStore | undefined,
): JsonObject | pulumi.Output<JsonObject> {
  if (!store || Object.keys(store.serviceAccountAnnotations).length === 0) return values;
  return pulumi.all(store.serviceAccountAnnotations).apply<JsonObject>((annotations) => ({
    ...values,
    cluster: {
      ...(values.cluster as JsonObject),
      serviceAccountTemplate: { metadata: { annotations } },
    },
  }));
}

/** The ScheduledBackup's spec: base backups of the cluster in use, through the plugin, the first at once. */
export function scheduledBackupSpec(backup: BackupSettings): JsonObject {
  return {
    schedule: backup.postgresql.schedule,
    immediate: true,
    backupOwnerReference: "self",
    cluster: { name: activePostgresqlCluster(backup) },
    method: "plugin",
    pluginConfiguration: { name: BARMAN_PLUGIN },
  };
}

/** The Cluster's plugin entry (chart cluster, `cluster.plugins`): the plugin archives WAL. */
export function clusterBackupPlugin(): JsonObject {
  return {
    name: BARMAN_PLUGIN,
    enabled: true,
    isWALArchiver: true,
    parameters: { barmanObjectName: OBJECT_STORE },
  };
}

/**
 * Values of the restored cluster (chart cluster, mode recovery): the stack's PostgreSQL values
 * under the new name, bootstrapped through the plugin from the source cluster's base backups and
 * WAL in the object store up to the target time. The chart makes the ObjectStore it reads from
 * (`<cluster>-recovery`, a hook) with the same Secret; the new cluster archives into the stack's
 * ObjectStore under its own name, so the source's backups are never overwritten.
 */
export function postgresqlRestoreValues(
  base: JsonObject,
  backup: BackupSettings,
  restore: PostgresqlRestoreSettings,
  target: BackupTarget,
): JsonObject {
  // The chart's names of the cloud identities (values.yaml recovery.s3/google/azure).
  const identity: Record<BackupTarget["provider"], JsonObject> = {
    s3: { s3: { inheritFromIAMRole: true } },
    google: { google: { gkeEnvironment: true } },
    azure: { azure: { inheritFromAzureAD: true } },
  };
  return {
    ...base,
    fullnameOverride: restore.cluster,
    mode: "recovery",
    recovery: {
      method: "plugin",
      clusterName: restore.source,
      pitrTarget: { time: restore.targetTime },
      pluginConfiguration: { name: BARMAN_PLUGIN },
      provider: target.provider,
      ...(target.endpoint ? { endpointURL: target.endpoint } : {}),
      destinationPath: postgresqlDestination(backup, target),
      ...(target.keys ? {} : identity[target.provider]),
      secret: { create: false, name: target.keys ? BACKUP_SECRET.name : "" },
    },
  };
}

/**
 * The Barman Cloud plugin (chart plugin-barman-cloud), next to the CloudNativePG operator that
 * calls it: its certificates come from cert-manager (the chart's own Issuer).
 */
export function postgresqlBackupValues(ctx: ValuesContext): JsonObject {
  const { nodeSelector, tolerations } = infraPlacement(ctx);
  return {
    fullnameOverride: "es1-postgresql-backup",
    image: imageParts(ctx, "ghcr.io/cloudnative-pg/plugin-barman-cloud"),
    sidecarImage: imageParts(ctx, "ghcr.io/cloudnative-pg/plugin-barman-cloud-sidecar"),
    imagePullSecrets: pullSecretRefs(ctx),
    crds: { create: true },
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    nodeSelector,
    tolerations,
  };
}

export interface BackupObjectsArgs {
  backup: BackupSettings;
  target: BackupTarget<pulumi.Input<string>>;
  namespace: pulumi.Input<string>;
  provider: k8s.Provider;
}

/** The Secret with the object store's access keys; written before anything reads it. */
export function backupSecret(
  args: BackupObjectsArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const { objectStore } = args.backup;
  if (!objectStore) throw new Error("the backup Secret holds the keys of a store of the site's");
  return new k8s.core.v1.Secret(
    BACKUP_SECRET.name,
    {
      metadata: {
        name: BACKUP_SECRET.name,
        namespace: args.namespace,
        // CloudNativePG reloads credentials from labelled Secrets when they change.
        labels: { ...BACKUP_LABELS, "cnpg.io/reload": "true" },
      },
      type: "Opaque",
      stringData: {
        [BACKUP_SECRET.accessKeyId]: objectStore.accessKeyId,
        [BACKUP_SECRET.secretAccessKey]: objectStore.secretAccessKey,
      },
    },
    { ...opts, provider: args.provider },
  );
}

/** A backup custom resource of the stack in es1-infrastructure. */
function backupResource(
  args: BackupObjectsArgs,
  opts: pulumi.CustomResourceOptions,
  object: {
    name: string;
    /** The object's name, when not the Pulumi name. */
    objectName?: string;
    apiVersion: string;
    kind: string;
    labels?: Record<string, string>;
    spec: pulumi.Input<JsonObject>;
  },
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    object.name,
    {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: {
        name: object.objectName ?? object.name,
        namespace: args.namespace,
        labels: { ...BACKUP_LABELS, ...object.labels },
      },
      spec: object.spec,
    },
    { ...opts, provider: args.provider },
  );
}

/** The ObjectStore (its CRD comes with the plugin's release: depend on it). */
export function objectStore(
  args: BackupObjectsArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return backupResource(args, opts, {
    name: OBJECT_STORE,
    apiVersion: "barmancloud.cnpg.io/v1",
    kind: "ObjectStore",
    spec: resolvedTarget(args.target).apply((t) => objectStoreSpec(args.backup, t)),
  });
}

/** The ScheduledBackup of the cluster in use (after its release). */
export function scheduledBackup(
  args: BackupObjectsArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return backupResource(args, opts, {
    name: SCHEDULED_BACKUP,
    objectName: scheduledBackupName(activePostgresqlCluster(args.backup)),
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "ScheduledBackup",
    labels: { "cnpg.io/cluster": activePostgresqlCluster(args.backup) },
    spec: scheduledBackupSpec(args.backup),
  });
}
