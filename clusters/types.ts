import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import nodePools from "./node-pools.json";

export type CloudName = "gke" | "eks" | "aks" | "existing";

export interface Taint {
  key: string;
  value: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** How a workload lands on a node pool: select its labels, tolerate its taints. */
export interface NodePoolPlacement {
  labels: Record<string, string>;
  taints: Taint[];
}

export const POOL_NAMES = ["system", "infrastructure", "platform", "aiml"] as const;
export type PoolName = (typeof POOL_NAMES)[number];

/** The labels and taints every provider gives each ES1 pool (clusters/node-pools.json). */
export const NODE_POOLS: Record<PoolName, NodePoolPlacement> = {
  system: nodePools.system as NodePoolPlacement,
  infrastructure: nodePools.infrastructure as NodePoolPlacement,
  platform: nodePools.platform as NodePoolPlacement,
  aiml: nodePools.aiml as NodePoolPlacement,
};

/**
 * Settings every Kubernetes provider of the program shares. Secrets and ConfigMaps are updated in
 * place: by default the provider replaces one whenever its data changes, and as every name here
 * is fixed that means delete, then create, so a shared Secret (es1-redis-users gains a key per
 * customer) would be briefly absent on a running cluster. A replacement restarts no pod either
 * (Kubernetes does not restart pods for a changed Secret), so it would add only that gap.
 */
export const PROVIDER_SETTINGS = {
  enableServerSideApply: true,
  enableSecretMutable: true,
  enableConfigMapMutable: true,
} as const;

/**
 * What every cluster provider hands to the rest of the program. Nothing outside clusters/ knows
 * which cloud it runs on.
 */
export interface Cluster {
  cloud: CloudName;
  /** Identity of the cluster, stable across kubeconfig refreshes. */
  name: string;
  provider: k8s.Provider;
  /** Always a Pulumi secret. */
  kubeconfig: pulumi.Output<string>;
  /** The kubeconfig context to use, when the kubeconfig has several. */
  context?: string;
  storageClass: string;
  ingressClass: string;
  ingressAnnotations: Record<string, string>;
  /** Placement of each pool the cluster has. */
  nodePools: Partial<Record<PoolName, NodePoolPlacement>>;
  /** The object store a cloud cluster made for backups (BackupStoreRequest); absent otherwise. */
  backupStore?: CloudBackupStore;
}

/** A Kubernetes service account, by namespace and name. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/**
 * What the program asks of a cloud cluster when `es1:backup` names no object store of the site's:
 * a bucket (or container) of its own, and the service accounts whose pods may read and write it —
 * CloudNativePG's clusters today; another consumer (Velero) adds its own service account.
 */
export interface BackupStoreRequest {
  /** The only identities that may read and write the store. */
  consumers: ServiceAccountRef[];
  /** Days a deleted or overwritten object stays recoverable (the store's lifecycle rule). */
  retentionDays: number;
  /** The store is protected from deletion (production stacks, Settings.protect). */
  protect: boolean;
}

/**
 * The object store a cloud cluster made for backups, and how its consumers reach it without
 * keys: each consumer's service account carries `serviceAccountAnnotations`, each of its pods
 * `podLabels`, and nothing runs against the store before `ready` (the grants).
 */
export interface CloudBackupStore {
  /** Barman Cloud's name of the store's API. */
  kind: "s3" | "google" | "azure";
  /** The bucket (S3, GCS) or blob container (Azure). */
  bucket: pulumi.Output<string>;
  /** The store's root as Barman Cloud names it: `s3://<b>`, `gs://<b>`, `https://<account>.blob.core.windows.net/<c>`. */
  url: pulumi.Output<string>;
  /** The S3 API's endpoint (AWS's regional one), for S3 only. */
  endpoint?: string;
  region: string;
  /** Azure: the storage account holding the container. */
  storageAccount?: pulumi.Output<string>;
  /** Azure: the resource group of the storage account (Velero's Azure plugin names it). */
  resourceGroup?: pulumi.Output<string>;
  /** What a consumer's ServiceAccount carries to act as the store's identity (none with EKS Pod Identity). */
  serviceAccountAnnotations: Record<string, pulumi.Output<string>>;
  /**
   * How Velero reaches the store: its object store plugin and the BackupStorageLocation's
   * `config` for this cloud (the identity's account, the region, the storage account).
   */
  velero: { provider: "aws" | "gcp" | "azure"; config: Record<string, pulumi.Input<string>> };
  /** Labels a consumer's pods carry (AKS workload identity admits only labelled pods). */
  podLabels: Record<string, string>;
  /** The store's grants: consumers wait for them. */
  ready: pulumi.Resource[];
}
