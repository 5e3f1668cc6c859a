// es1:backup.volumes: Velero in es1-velero and one Schedule per backed-up component
// (infrastructure/velero.ts says what and why; docs/backup.md for users).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupSettings } from "../config/backup";
import { Settings } from "../config";
import { ResolvedChart } from "../lib/charts";
import { JsonObject } from "../lib/json";
import { helmRelease } from "../lib/release";
import { CATALOG, releaseName } from "./catalog";
import { veleroPolicies } from "./network";
import { veleroNamespace, veleroSchedule, veleroSecret, volumeBackupComponents } from "./velero";

export interface VolumeBackupsArgs {
  settings: Settings;
  backup: BackupSettings;
  provider: k8s.Provider;
  chart: ResolvedChart;
  values: JsonObject | pulumi.Output<JsonObject>;
  /** Releases whose objects the Schedules select. */
  after: pulumi.Resource[];
  /** A cloud store's grants to Velero's identity (clusters/*-backup.ts): Velero starts after them. */
  storeReady: pulumi.Resource[];
}

export class VolumeBackups extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly release: k8s.helm.v3.Release;
  /** Schedules by component. */
  readonly schedules: Record<string, k8s.apiextensions.CustomResource> = {};

  constructor(name: string, args: VolumeBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:infrastructure:VolumeBackups", name, {}, opts);
    const objects = { backup: args.backup, provider: args.provider };
    this.namespace = veleroNamespace(objects, { parent: this });
    const namespace = this.namespace.metadata.name;
    const labels = { "es1-role": "backup", "app.kubernetes.io/part-of": "es1" };
    // Closed like es1-infrastructure: only the API server, DNS and the object store.
    const policies = veleroPolicies(args.settings.network).map(
      (p) =>
        new k8s.networking.v1.NetworkPolicy(
          `velero-${p.name}`,
          { metadata: { name: p.name, namespace, labels }, spec: p.spec },
          { parent: this, provider: args.provider, dependsOn: [this.namespace] },
        ),
    );
    // The site store's keys; a cloud store is reached through Velero's workload identity.
    const store = args.backup.objectStore;
    const secrets = store
      ? [veleroSecret(objects, store, namespace, { parent: this, dependsOn: [this.namespace] })]
      : [];
    this.release = helmRelease(
      {
        name: releaseName("velero"),
        namespace,
        chart: args.chart,
        values: args.values,
        timeoutSeconds: CATALOG.velero.timeoutSeconds,
        provider: args.provider,
      },
      { parent: this, dependsOn: [this.namespace, ...secrets, ...policies, ...args.storeReady] },
    );
    for (const component of volumeBackupComponents(args.settings))
      this.schedules[component] = veleroSchedule(objects, component, namespace, {
        parent: this,
        dependsOn: [this.release, ...args.after],
      });
    this.registerOutputs({});
  }
}
