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
}
