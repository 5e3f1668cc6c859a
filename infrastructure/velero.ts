// Volume backups (docs/backup.md), the Kubernetes part: Velero (release es1-velero, chart velero)
// backs up each stateful component other than PostgreSQL — its objects and, through file-system
// backup (kopia, the node-agent), the data on its volumes — into the same object store as
// PostgreSQL, under `<prefix>/velero`. One Schedule per component selects its pods by label in
// es1-infrastructure. Velero lives in es1-velero: its node-agent DaemonSet mounts the kubelet's
// pod directories from the host and runs as root, which Pod Security allows only at `privileged`;
// es1-infrastructure stays at `baseline` (DESIGN.md principle 8, as node-exporter's namespace).
// The site store's access keys reach Velero only in the Secret es1-velero-object-store: no Helm
// value holds them. A store a cloud cluster made (clusters/*-backup.ts) needs no keys: Velero's
// service account is one of its consumers and acts as its workload identity, as PostgreSQL's does.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CloudBackupStore } from "../clusters/types";
import { BackupSettings, ObjectStoreSettings, VOLUME_COMPONENTS, VolumeComponent } from "../config/backup";
import { ComponentName } from "../config/sizing";
import { JsonObject } from "../lib/json";
import { BACKUP_LABELS } from "./backup";
import { INFRASTRUCTURE_NAMESPACE, VELERO_NAMESPACE, VELERO_SERVICE_ACCOUNT } from "./layout";
import type { LabelSelector } from "./network";
import { image, infraPlacement, pullSecretNames, ValuesContext, VolumeBackupTarget } from "./values/context";

/** The object store's keys as an AWS credentials file: the one key (`cloud`) Velero reads. */
export const VELERO_SECRET = { name: "es1-velero-object-store", key: "cloud" } as const;
/** The BackupStorageLocation every Schedule and `es1 backup now` writes to. */
export const VELERO_LOCATION = "es1-object-store";
/**
 * The object store plugins (an init container that copies itself into Velero's plugin directory),
 * one per store API. Not charts: PROVENANCE.md names the images, not tags; v1.14.x is the line
 * built against Velero 1.18 (the chart's appVersion 1.18.1).
 */
export const VELERO_PLUGINS = {
  aws: { repository: "docker.io/velero/velero-plugin-for-aws", tag: "v1.14.2" },
  gcp: { repository: "docker.io/velero/velero-plugin-for-gcp", tag: "v1.14.2" },
  azure: { repository: "docker.io/velero/velero-plugin-for-microsoft-azure", tag: "v1.14.0" },
} as const;

/** Labels Velero's objects of this stack carry, besides BACKUP_LABELS. */
export const COMPONENT_LABEL = "es1.io/component";

/**
 * What each component's backup selects in es1-infrastructure: its pods, by the labels its chart
 * (or operator) sets — Velero adds the volumes a selected pod mounts, and their data through
 * file-system backup — and the chart's other objects with the same labels.
 */
export const VOLUME_SELECTORS: Record<VolumeComponent, LabelSelector[]> = {
  // Valkey's StatefulSet and its append-only file.
  redis: [{ matchLabels: { "app.kubernetes.io/instance": "es1-redis" } }],
  // Langfuse's release (SeaweedFS, the object store of event blobs) and the ClickHouse servers
  // and Keepers its operator makes (traces).
  langfuse: [
    { matchLabels: { "app.kubernetes.io/instance": "es1-langfuse" } },
    { matchExpressions: [{ key: "clickhouse.com/role", operator: "Exists" }] },
  ],
  // The artifacts volume es1-mlflow-artifacts.
  mlflow: [{ matchLabels: { "app.kubernetes.io/instance": "es1-mlflow" } }],
  // The models volume es1-ollama-models.
  ollama: [{ matchLabels: { "app.kubernetes.io/instance": "es1-ollama" } }],
  // Grafana alone (its volume es1-grafana): Prometheus' and Alertmanager's data is not kept.
  monitoring: [{ matchLabels: { "app.kubernetes.io/name": "grafana" } }],
  // Langflow's volume es1-langflow.
  langflow: [{ matchLabels: { "app.kubernetes.io/instance": "es1-langflow" } }],
};

/** A component's Schedule (and the prefix of its on-demand Backups' names). */
export function scheduleName(component: VolumeComponent): string {
  return `es1-${component}`;
}

/** Components with a Schedule: switched on in the stack and in es1:backup.volumes. */
export function volumeBackupComponents(settings: {
  backup?: BackupSettings;
  components: Record<ComponentName, { enabled: boolean }>;
}): VolumeComponent[] {
  const v = settings.backup?.volumes;
  if (!v?.enabled) return [];
  return VOLUME_COMPONENTS.filter((c) => v.components[c] && settings.components[c].enabled);
}

/** Velero is installed: es1:backup set with volumes on. */
export function installsVelero(settings: { backup?: BackupSettings }): boolean {
  return settings.backup?.volumes.enabled === true;
}

/** Where Velero writes in the site's S3-compatible store (es1:backup.objectStore; no credentials). */
export function volumeBackupTarget(
  store: Pick<ObjectStoreSettings, "endpoint" | "bucket" | "region">,
  prefix: string,
): VolumeBackupTarget {
  return {
    provider: "aws",
    bucket: store.bucket,
    prefix,
    config: { region: store.region, s3ForcePathStyle: "true", s3Url: store.endpoint },
    keys: true,
    serviceAccountAnnotations: {},
    podLabels: {},
  };
}

/**
 * Where Velero writes in the store a cloud cluster made: the same bucket as PostgreSQL, through
 * the plugin and location settings the cloud's store names (clusters/*-backup.ts), signed by
 * Velero's workload identity (the store's annotations and labels).
 */
export function cloudVolumeBackupTarget(
  store: CloudBackupStore,
  prefix: string,
): pulumi.Output<VolumeBackupTarget> {
  return pulumi
    .all([store.bucket, pulumi.all(store.velero.config), pulumi.all(store.serviceAccountAnnotations)])
    .apply(([bucket, config, annotations]): VolumeBackupTarget => ({
      provider: store.velero.provider,
      bucket,
      prefix,
      config,
      keys: false,
      serviceAccountAnnotations: annotations,
      podLabels: store.podLabels,
    }));
}

/** Velero's folder in the bucket, beside PostgreSQL's `<prefix>/postgresql`. */
export function veleroPrefix(target: VolumeBackupTarget): string {
  return `${target.prefix}/velero`;
}

/** A TTL in Velero's (Go duration) form. */
export function ttl(days: number): string {
  return `${days * 24}h0m0s`;
}

/**
 * The backup a component's Schedule takes (and `es1 backup now` copies): its labelled objects in
 * es1-infrastructure, its volumes' files through kopia (opt-in per Schedule; no volume snapshots:
 * an S3-compatible store has none), into the stack's location, kept `retentionDays`.
 */
export function backupTemplate(component: VolumeComponent, retentionDays: number): JsonObject {
  return {
    includedNamespaces: [INFRASTRUCTURE_NAMESPACE],
    orLabelSelectors: VOLUME_SELECTORS[component].map((s) => ({ ...s })),
    defaultVolumesToFsBackup: true,
    snapshotVolumes: false,
    storageLocation: VELERO_LOCATION,
    ttl: ttl(retentionDays),
    metadata: { labels: { ...BACKUP_LABELS, [COMPONENT_LABEL]: component } },
  };
}

/** A component's Schedule: the template on es1:backup.volumes.schedule, the first run at once. */
export function scheduleSpec(component: VolumeComponent, backup: BackupSettings): JsonObject {
  return {
    schedule: backup.volumes.schedule,
    useOwnerReferencesInBackup: false,
    template: backupTemplate(component, backup.volumes.retentionDays),
  };
}

/**
 * A restore of one component from one of its backups: the same objects (namespace and labels),
 * volumes with their data; objects that still exist are left as they are (Velero's default), so
 * the runbook removes the component's volumes first (docs/backup.md).
 */
export function restoreSpec(component: VolumeComponent, backupName: string): JsonObject {
  return {
    backupName,
    includedNamespaces: [INFRASTRUCTURE_NAMESPACE],
    orLabelSelectors: VOLUME_SELECTORS[component].map((s) => ({ ...s })),
    restorePVs: true,
    existingResourcePolicy: "none",
  };
}

/** The AWS credentials file Velero reads (`cloud` in its Secret). */
export function credentialsFile(store: ObjectStoreSettings): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([store.accessKeyId, store.secretAccessKey])
      .apply(([id, key]) => `[default]\naws_access_key_id=${id}\naws_secret_access_key=${key}\n`),
  );
}

/**
 * Values of the velero chart: the server with the AWS plugin (S3 API), the node-agent for
 * file-system backup on every node (all pools, tainted ones too: it must run where the volumes
 * are mounted), one BackupStorageLocation at the stack's folder, no VolumeSnapshotLocation,
 * credentials from the existing Secret. Schedules are made by the program, not the chart.
 */
export function veleroValues(ctx: ValuesContext): JsonObject {
  const target = ctx.volumeBackup;
  if (!target) throw new Error("velero values need es1:backup (ValuesContext.volumeBackup)");
  const { nodeSelector, tolerations } = infraPlacement(ctx);
  const pullSecrets = pullSecretNames(ctx);
  const plugin = VELERO_PLUGINS[target.provider];
  const podLabels = { ...target.podLabels };
  // The root filesystem stays writable: the server talks to its plugins over sockets in /tmp.
  const locked = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  return {
    fullnameOverride: "es1-velero",
    image: { repository: image(ctx, "docker.io/velero/velero"), imagePullSecrets: pullSecrets },
    kubectl: { image: { repository: image(ctx, "registry.k8s.io/kubectl") } },
    initContainers: [
      {
        name: plugin.repository.split("/").pop() ?? "plugin",
        image: `${image(ctx, plugin.repository)}:${plugin.tag}`,
        imagePullPolicy: "IfNotPresent",
        securityContext: locked,
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      },
    ],
    containerSecurityContext: locked,
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    nodeSelector,
    tolerations,
    // The chart's Job applies Velero's CRDs on every upgrade (Helm installs them only once).
    upgradeCRDs: true,
    cleanUpCRDs: false,
    metrics: { enabled: true, serviceMonitor: { enabled: false } },
    // The site's keys by Secret; a cloud store's identity needs none.
    credentials: target.keys ? { useSecret: true, existingSecret: VELERO_SECRET.name } : { useSecret: false },
    podLabels,
    backupsEnabled: true,
    snapshotsEnabled: false,
    deployNodeAgent: true,
    nodeAgent: {
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
      tolerations: [{ operator: "Exists" }],
      podLabels,
    },
    serviceAccount: {
      server: {
        name: VELERO_SERVICE_ACCOUNT.name,
        annotations: { ...target.serviceAccountAnnotations },
        imagePullSecrets: pullSecrets,
      },
    },
    configuration: {
      backupStorageLocation: [
        {
          name: VELERO_LOCATION,
          provider: target.provider,
          bucket: target.bucket,
          prefix: veleroPrefix(target),
          default: true,
          accessMode: "ReadWrite",
          ...(target.keys ? { credential: { name: VELERO_SECRET.name, key: VELERO_SECRET.key } } : {}),
          config: { ...target.config },
        },
      ],
      volumeSnapshotLocation: [],
      uploaderType: "kopia",
      defaultBackupStorageLocation: VELERO_LOCATION,
      // File-system backup is chosen per Schedule (backupTemplate), not for every pod.
      defaultVolumesToFsBackup: false,
    },
    schedules: {},
  };
}

/** The Namespace, Secret and Schedules of Velero; the release is made with the others. */
export interface VeleroObjectsArgs {
  backup: BackupSettings;
  provider: k8s.Provider;
}

/** es1-velero: privileged for the node-agent (hostPath, root). */
export function veleroNamespace(
  args: VeleroObjectsArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    "velero-namespace",
    {
      metadata: {
        name: VELERO_NAMESPACE,
        labels: {
          "es1-role": "backup",
          "app.kubernetes.io/part-of": "es1",
          "pod-security.kubernetes.io/enforce": "privileged",
        },
      },
    },
    { ...opts, provider: args.provider },
  );
}

/** The Secret with the site store's keys in the form Velero reads. */
export function veleroSecret(
  args: VeleroObjectsArgs,
  store: ObjectStoreSettings,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    VELERO_SECRET.name,
    {
      metadata: { name: VELERO_SECRET.name, namespace, labels: { ...BACKUP_LABELS } },
      type: "Opaque",
      stringData: { [VELERO_SECRET.key]: credentialsFile(store) },
    },
    { ...opts, provider: args.provider },
  );
}

/** One component's Schedule (its CRD comes with the release: depend on it). */
export function veleroSchedule(
  args: VeleroObjectsArgs,
  component: VolumeComponent,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    `velero-schedule-${component}`,
    {
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: {
        name: scheduleName(component),
        namespace,
        labels: { ...BACKUP_LABELS, [COMPONENT_LABEL]: component },
      },
      spec: scheduleSpec(component, args.backup),
    },
    { ...opts, provider: args.provider },
  );
}
