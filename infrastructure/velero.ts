// Volume backups (docs/backup.md), the Kubernetes part: Velero (release es1-velero, chart velero)
// backs up each stateful component other than PostgreSQL — its objects and, through file-system
// backup (kopia, the node-agent), the data on its volumes — into the same object store as
// PostgreSQL, under `<prefix>/velero`. One Schedule per component selects its pods by label in
// es1-infrastructure. Velero lives in es1-velero: its node-agent DaemonSet mounts the kubelet's
// pod directories from the host and runs as root, which Pod Security allows only at `privileged`;
// es1-infrastructure stays at `baseline` (DESIGN.md principle 8, as node-exporter's namespace).
// The access keys reach Velero only in the Secret es1-velero-object-store: no Helm value holds them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupSettings, ObjectStoreSettings, VOLUME_COMPONENTS, VolumeComponent } from "../config/backup";
import { ComponentName } from "../config/sizing";
import { JsonObject } from "../lib/json";
import { BACKUP_LABELS } from "./backup";
import { INFRASTRUCTURE_NAMESPACE, VELERO_NAMESPACE } from "./layout";
import type { LabelSelector } from "./network";
import { image, infraPlacement, pullSecretNames, ValuesContext, VolumeBackupTarget } from "./values/context";

/** The object store's keys as an AWS credentials file: the one key (`cloud`) Velero reads. */
export const VELERO_SECRET = { name: "es1-velero-object-store", key: "cloud" } as const;
/** The BackupStorageLocation every Schedule and `es1 backup now` writes to. */
export const VELERO_LOCATION = "es1-object-store";
/**
 * The object store plugin (an init container that copies itself into Velero's plugin directory).
 * Not a chart: PROVENANCE.md names the image, not a tag; v1.14.x is the line built against
 * Velero 1.18 (the chart's appVersion 1.18.1).
 */
export const AWS_PLUGIN = { repository: "docker.io/velero/velero-plugin-for-aws", tag: "v1.14.2" } as const;

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

/** Where Velero writes, from es1:backup (no credentials). */
export function volumeBackupTarget(store: ObjectStoreSettings): VolumeBackupTarget {
  return { endpoint: store.endpoint, bucket: store.bucket, prefix: store.prefix, region: store.region };
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
  // The root filesystem stays writable: the server talks to its plugins over sockets in /tmp.
  const locked = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  return {
    fullnameOverride: "es1-velero",
    image: { repository: image(ctx, "docker.io/velero/velero"), imagePullSecrets: pullSecrets },
    kubectl: { image: { repository: image(ctx, "registry.k8s.io/kubectl") } },
    initContainers: [
      {
        name: "velero-plugin-for-aws",
        image: `${image(ctx, AWS_PLUGIN.repository)}:${AWS_PLUGIN.tag}`,
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
    credentials: { useSecret: true, existingSecret: VELERO_SECRET.name },
    backupsEnabled: true,
    snapshotsEnabled: false,
    deployNodeAgent: true,
    nodeAgent: {
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
      tolerations: [{ operator: "Exists" }],
    },
    serviceAccount: { server: { imagePullSecrets: pullSecrets } },
    configuration: {
      backupStorageLocation: [
        {
          name: VELERO_LOCATION,
          provider: "aws",
          bucket: target.bucket,
          prefix: veleroPrefix(target),
          default: true,
          accessMode: "ReadWrite",
          credential: { name: VELERO_SECRET.name, key: VELERO_SECRET.key },
          config: { region: target.region, s3ForcePathStyle: "true", s3Url: target.endpoint },
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

/** The Secret with the object store's keys in the form Velero reads. */
export function veleroSecret(
  args: VeleroObjectsArgs,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    VELERO_SECRET.name,
    {
      metadata: { name: VELERO_SECRET.name, namespace, labels: { ...BACKUP_LABELS } },
      type: "Opaque",
      stringData: { [VELERO_SECRET.key]: credentialsFile(args.backup.objectStore) },
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
