import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CloudClusterBase, NodePoolSettings, NodePoolsSettings } from "../config";
import {
  CloudBackupStore,
  CloudName,
  Cluster,
  NODE_POOLS,
  NodePoolPlacement,
  PoolName,
  POOL_NAMES,
} from "./types";

/** The pools a cloud cluster has, in a stable order: the three base pools, then aiml when configured. */
export function configuredPools(pools: NodePoolsSettings): { name: PoolName; size: NodePoolSettings }[] {
  return POOL_NAMES.flatMap((name) => {
    const size = pools[name];
    return size ? [{ name, size }] : [];
  });
}

/** The contract's placement of each configured pool. */
export function placements(pools: NodePoolsSettings): Partial<Record<PoolName, NodePoolPlacement>> {
  return Object.fromEntries(configuredPools(pools).map(({ name }) => [name, NODE_POOLS[name]]));
}

/** The Cluster contract of a cloud cluster, from its settings, its provider and its kubeconfig. */
export function cloudClusterContract(
  cloud: Exclude<CloudName, "existing">,
  args: CloudClusterBase,
  provider: k8s.Provider,
  kubeconfig: pulumi.Output<string>,
  backupStore?: CloudBackupStore,
): Cluster {
  return {
    cloud,
    name: args.name,
    provider,
    kubeconfig,
    storageClass: args.storageClass,
    ingressClass: args.ingressClass,
    ingressAnnotations: args.ingressAnnotations,
    nodePools: placements(args.nodePools),
    ...(backupStore ? { backupStore } : {}),
  };
}
