// Cluster add-ons the platform relies on where a cloud does not ship them: a node autoscaler, so
// pools (the GPU pool included) grow from their minimum, and metrics-server, which every
// HorizontalPodAutoscaler reads. GKE and AKS ship both; EKS ships neither (clusters/eks.ts). Charts
// come through the one chart resolver, so an air-gapped site's mirror serves them too.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AirgapSettings } from "../config/airgap";
import { resolveChart, UpstreamChart } from "../lib/charts";
import { JsonObject } from "../lib/json";
import { helmRelease } from "../lib/release";
import { NODE_POOLS, Taint } from "./types";

/** The add-on charts, pinned (../shared/upstream-charts holds these versions). */
export const ADDON_CHARTS = {
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    repo: "https://kubernetes.github.io/autoscaler",
    version: "9.59.0",
  },
  metricsServer: {
    chart: "metrics-server",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
    version: "3.13.1",
  },
} as const satisfies Record<string, UpstreamChart>;

/** Where add-ons come from: `es1:airgap` (chart source, image registry, pull secrets). */
export type AddonSources = Pick<AirgapSettings, "charts" | "registry" | "imagePullSecrets">;

/** The service account the Cluster Autoscaler runs as; its cloud role is bound to it. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

/** `registry.k8s.io/a/b` with the mirror registry in place of its own. */
function image(upstream: string, registry: string | undefined): string {
  return registry ? `${registry}/${upstream.slice(upstream.indexOf("/") + 1)}` : upstream;
}

/** On the system pool, which every cluster has, tolerating what it is tainted with. */
function onSystemPool(): JsonObject {
  return {
    nodeSelector: { ...NODE_POOLS.system.labels },
    tolerations: [
      ...NODE_POOLS.system.taints.map((t) => ({ key: t.key, operator: "Exists", effect: t.effect })),
      { key: "CriticalAddonsOnly", operator: "Exists" },
    ],
  };
}

/**
 * Values of the Cluster Autoscaler on AWS: node groups found by the tags EKS gives them, running
 * as a service account the caller creates (it carries the IAM role binding).
 */
export function clusterAutoscalerValues(args: {
  clusterName: string;
  region: string;
  sources: Pick<AddonSources, "registry" | "imagePullSecrets">;
}): JsonObject {
  return {
    cloudProvider: "aws",
    awsRegion: args.region,
    // Managed node groups' ASGs carry k8s.io/cluster-autoscaler/{enabled,<cluster>}.
    autoDiscovery: { clusterName: args.clusterName },
    image: {
      repository: image("registry.k8s.io/autoscaling/cluster-autoscaler", args.sources.registry),
      pullSecrets: [...args.sources.imagePullSecrets],
    },
    rbac: { serviceAccount: { create: false, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
    extraArgs: {
      // The pools differ in purpose, not size: pick the one that wastes least.
      expander: "least-waste",
      "balance-similar-node-groups": true,
      // Volumes live on EBS, not on the node: such pods may move.
      "skip-nodes-with-local-storage": false,
    },
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    ...onSystemPool(),
  };
}

/** Values of metrics-server: the resource metrics API that HorizontalPodAutoscalers read. */
export function metricsServerValues(
  sources: Pick<AddonSources, "registry" | "imagePullSecrets">,
): JsonObject {
  return {
    image: { repository: image("registry.k8s.io/metrics-server/metrics-server", sources.registry) },
    imagePullSecrets: sources.imagePullSecrets.map((name) => ({ name })),
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    ...onSystemPool(),
  };
}

/** One add-on release in kube-system, from the stack's chart source. */
export function addonRelease(
  name: string,
  chart: UpstreamChart,
  values: JsonObject,
  sources: Pick<AddonSources, "charts">,
  opts: { provider: k8s.Provider; parent: pulumi.Resource; dependsOn?: pulumi.Resource[] },
): k8s.helm.v3.Release {
  return helmRelease(
    {
      name,
      namespace: "kube-system",
      chart: resolveChart(chart, sources.charts),
      values,
      timeoutSeconds: 300,
      provider: opts.provider,
    },
    { parent: opts.parent, dependsOn: opts.dependsOn },
  );
}

/**
 * The tags that let the Cluster Autoscaler build a node from nothing, for a pool at 0 nodes: its
 * labels, its taints and, for the GPU pool, its GPUs per node. Without them a pod that needs the
 * pool matches no template and its pool never grows from zero.
 */
export function scaleFromZeroTags(
  labels: Record<string, string>,
  taints: readonly Taint[],
  gpusPerNode?: number,
): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler/node-template";
  return {
    ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${prefix}/label/${k}`, v])),
    ...Object.fromEntries(taints.map((t) => [`${prefix}/taint/${t.key}`, `${t.value}:${t.effect}`])),
    ...(gpusPerNode ? { [`${prefix}/resources/nvidia.com/gpu`]: String(gpusPerNode) } : {}),
  };
}
