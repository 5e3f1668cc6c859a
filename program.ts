import { createCluster } from "./clusters";
import { loadSettings } from "./config";
import { Infrastructure, InfrastructureEndpoints, plannedReleases } from "./infrastructure";
import { resolveCharts } from "./infrastructure/catalog";

/** Stack outputs: names and endpoints only; nothing secret in plaintext. */
export interface StackOutputs {
  environment: string;
  cloud: string;
  storageClass: string;
  ingressClass: string;
  infrastructure: InfrastructureEndpoints;
}

/** The whole ES1 installation for the current stack. */
export function es1(): StackOutputs {
  // Parsed first: a config mistake stops the run before any resource is registered.
  const settings = loadSettings();
  const charts = resolveCharts(plannedReleases(settings), settings.airgap.charts);
  const cluster = createCluster(settings.cluster);
  const infrastructure = new Infrastructure("infrastructure", { settings, cluster, charts });
  return {
    environment: settings.environment,
    cloud: cluster.cloud,
    storageClass: cluster.storageClass,
    ingressClass: cluster.ingressClass,
    infrastructure: infrastructure.endpoints,
  };
}
