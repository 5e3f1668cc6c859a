import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CloudName, Cluster, NodePoolPlacement, PoolName, PROVIDER_SETTINGS } from "./types";

/**
 * The Cluster contract as a stack output (`platformCluster`, a secret because of the kubeconfig),
 * so a customer-only stack can deploy onto the cluster another stack owns.
 */
export interface PlatformCluster {
  name: string;
  cloud: CloudName;
  kubeconfig: string;
  context?: string;
  storageClass: string;
  ingressClass: string;
  ingressAnnotations: Record<string, string>;
  nodePools: Partial<Record<PoolName, NodePoolPlacement>>;
}

/** The stack output of a Cluster: everything plain, the whole of it secret. */
export function platformClusterOutput(c: Cluster): pulumi.Output<PlatformCluster> {
  return pulumi.secret(
    c.kubeconfig.apply((kubeconfig): PlatformCluster => ({
      name: c.name,
      cloud: c.cloud,
      kubeconfig,
      ...(c.context ? { context: c.context } : {}),
      storageClass: c.storageClass,
      ingressClass: c.ingressClass,
      ingressAnnotations: c.ingressAnnotations,
      nodePools: c.nodePools,
    })),
  );
}

/** A Cluster contract from another stack's output (`platformCluster`, or a customer's own). */
export function clusterFromReference(pc: PlatformCluster, resourceName = "cluster"): Cluster {
  const kubeconfig = pulumi.secret(pc.kubeconfig);
  const provider = new k8s.Provider(resourceName, {
    kubeconfig: kubeconfig.apply((k) => (k === "" ? undefined : k)) as pulumi.Output<string>,
    context: pc.context,
    // The same identity as in the owning stack: a refreshed kubeconfig replaces nothing.
    clusterIdentifier: pc.cloud === "existing" ? `existing/${pc.name}` : pc.name,
    ...PROVIDER_SETTINGS,
  });
  return { ...pc, provider, kubeconfig };
}
