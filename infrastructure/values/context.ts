import type { SharedUi } from "../../config/access";
import type { SsoSettings, SsoUi } from "../../config/sso";
import { NodePoolPlacement, PoolName } from "../../clusters/types";
import { Environment } from "../../config/settings";
import { ComponentsSettings } from "../../config/components";
import { ComponentName, Resources } from "../../config/sizing";
import { Json, JsonObject } from "../../lib/json";

/**
 * Everything a values builder may look at: plain data from Settings and the Cluster contract.
 * Builders are pure functions of it, so they are tested without Pulumi.
 */
export interface ValuesContext {
  environment: Environment;
  components: ComponentsSettings;
  /** StorageClass of every volume (from the Cluster contract). */
  storageClass: string;
  /** Placement of each pool the cluster has (from the Cluster contract). */
  pools: Partial<Record<PoolName, NodePoolPlacement>>;
  /** Registry every image is pulled from instead of its public one (`es1:airgap.registry`). */
  registry?: string;
  /** dockerconfigjson Secrets in es1-infrastructure for that registry. */
  imagePullSecrets: string[];
  /** The Prometheus Operator CRDs are installed, so charts may create ServiceMonitors. */
  monitoring: boolean;
  /** This stack installs cert-manager (es1-cert-manager), so charts may ask it for certificates. */
  certManager: boolean;
  /** The public URL of each shared UI that has a route (es1:access), for the links it builds. */
  publicUrls?: Partial<Record<SharedUi, string>>;
  /**
   * es1:access.sso as plain data (the client secret stays in Secret es1-sso), with the public URL
   * of each shared UI that signs in through it; unset without single sign-on.
   */
  sso?: SsoContext;
  /** cert-manager answers ACME HTTP-01 through Gateways (es1:access, gateway mode with ACME). */
  certManagerGatewayApi?: boolean;
  /** PostgreSQL is backed up through the Barman Cloud plugin (es1:backup, infrastructure/backup.ts). */
  postgresqlBackup: boolean;
  /**
   * The PostgreSQL cluster the applications and customers use: es1-postgresql, or the cluster
   * es1:backup.postgresql.restore made (docs/backup.md).
   */
  postgresqlCluster: string;
  /**
   * Labels every PostgreSQL pod carries for the backup store's identity (AKS workload identity
   * admits labelled pods only); the operator passes them from the Cluster to its pods.
   */
  postgresqlPodLabels?: Record<string, string>;
  /**
   * Where Velero writes volume backups (es1:backup with volumes on; infrastructure/velero.ts):
   * plain data; the site's access keys are in a Secret, a cloud store needs none.
   */
  volumeBackup?: VolumeBackupTarget;
  /** Ollama runs on the GPU pool. */
  ollamaGpu: boolean;
  /** The Secret with Alertmanager's configuration, when es1:alerting is set (observability/alerting.ts). */
  alertmanagerConfigSecret?: string;
  /**
   * Customers with a database and a Valkey user: `present` while the customer is in the stack
   * (platform on or off), `absent` once its data is to be purged.
   */
  customers: CustomerData[];
}

export interface VolumeBackupTarget {
  /** Velero's object store plugin: `aws` (S3 and S3-compatible stores), `gcp` or `azure`. */
  provider: "aws" | "gcp" | "azure";
  /** The bucket (S3, GCS) or blob container (Azure). */
  bucket: string;
  /** The stack's folder in the bucket; Velero writes under `<prefix>/velero`. */
  prefix: string;
  /** The BackupStorageLocation's plugin settings (region, endpoint, storage account, …). */
  config: Record<string, string>;
  /** The site's access keys sign the requests (a Secret); otherwise Velero's cloud identity. */
  keys: boolean;
  /** What Velero's service account carries to act as the store's identity (cloud stores). */
  serviceAccountAnnotations: Record<string, string>;
  /** Labels Velero's pods carry for that identity (AKS workload identity). */
  podLabels: Record<string, string>;
}

export type SsoContext = Omit<SsoSettings, "clientSecret" | "uis"> & {
  /** The https URL of each shared UI that signs in through the provider (its redirect URIs). */
  urls: Partial<Record<SsoUi, string>>;
};

export interface CustomerData {
  name: string;
  state: "present" | "absent";
}

/** nodeSelector and tolerations that put a workload on one ES1 pool (nothing if the cluster lacks it). */
export function placement(
  ctx: ValuesContext,
  pool: PoolName,
): { nodeSelector: JsonObject; tolerations: Json[] } {
  const p = ctx.pools[pool];
  if (!p) return { nodeSelector: {}, tolerations: [] };
  return {
    nodeSelector: { ...p.labels },
    tolerations: p.taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
  };
}

/** Placement on the infrastructure pool, the home of every shared component. */
export function infraPlacement(ctx: ValuesContext): { nodeSelector: JsonObject; tolerations: Json[] } {
  return placement(ctx, "infrastructure");
}

/** Host of a full image reference, or undefined for Docker Hub short names. */
function splitHost(ref: string): { host: string; path: string } {
  const first = ref.split("/")[0];
  const isHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return isHost ? { host: first, path: ref.slice(first.length + 1) } : { host: "docker.io", path: ref };
}

/**
 * A full image repository (no tag), moved to the mirror registry when one is set: the path after
 * the public host is kept, so `quay.io/prometheus/prometheus` becomes `<registry>/prometheus/prometheus`.
 */
export function image(ctx: Pick<ValuesContext, "registry">, upstream: string): string {
  if (!ctx.registry) return upstream;
  return `${ctx.registry}/${splitHost(upstream).path}`;
}

/** The same, for charts that keep the registry and the repository in separate keys. */
export function imageParts(ctx: ValuesContext, upstream: string): { registry: string; repository: string } {
  const { host, path } = splitHost(upstream);
  return { registry: ctx.registry ?? host, repository: path };
}

/** Pull secrets as a list of names (charts that template `- name: {{ . }}`). */
export function pullSecretNames(ctx: ValuesContext): Json[] {
  return [...ctx.imagePullSecrets];
}

/** Pull secrets as LocalObjectReferences (charts that copy the list into the pod spec). */
export function pullSecretRefs(ctx: Pick<ValuesContext, "imagePullSecrets">): Json[] {
  return ctx.imagePullSecrets.map((name) => ({ name }));
}

/** Container resources in the shape every chart takes. */
export function resources(r: Resources): JsonObject {
  const limits: JsonObject = { memory: r.limits.memory };
  if (r.limits.cpu) limits.cpu = r.limits.cpu;
  return { requests: { cpu: r.requests.cpu, memory: r.requests.memory }, limits };
}

/** Half of a quantity like `20Gi`, for a second volume sized from the component's storage. */
export function fractionOf(quantity: string, fraction: number): string {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity);
  if (!m) return quantity;
  const n = Math.max(1, Math.ceil(Number(m[1]) * fraction));
  return `${n}${m[2]}`;
}

/** Size of a component's main volume; every profile gives one to each component that has a volume. */
export function volumeSize(ctx: ValuesContext, component: ComponentName): string {
  const size = ctx.components[component].size.storage;
  if (size === undefined) throw new Error(`the sizing profiles give ${component} no storage`);
  return size;
}
