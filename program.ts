import { createCluster } from "./clusters";
import { loadSettings } from "./config";
import { Infrastructure, InfrastructureEndpoints, plannedReleases } from "./infrastructure";
import { resolveCharts } from "./infrastructure/catalog";
import { CustomerOutputs, CustomerPlatform } from "./platform";
import { checkLicenses } from "./platform/license/deploy-gate";

/** Stack outputs: names and endpoints only; nothing secret in plaintext. */
export interface StackOutputs {
  environment: string;
  cloud: string;
  storageClass: string;
  ingressClass: string;
  infrastructure: InfrastructureEndpoints;
  /** Each deployed customer platform: namespace, release, license id and expiry, agents. */
  customers: Record<string, CustomerOutputs>;
}

/** The whole ES1 installation for the current stack. */
export function es1(): StackOutputs {
  // Parsed first: a config mistake stops the run before any resource is registered.
  const settings = loadSettings();
  const charts = resolveCharts(plannedReleases(settings), settings.airgap.charts);
  // Licenses too: a refused license stops the run before anything changes.
  const licensed = checkLicenses(settings.customers, settings.licensing);
  const cluster = createCluster(settings.cluster);
  const infrastructure = new Infrastructure("infrastructure", { settings, cluster, charts });
  const customers: Record<string, CustomerOutputs> = {};
  for (const [name, l] of licensed) {
    const platform = new CustomerPlatform(name, {
      licensed: l,
      licensing: settings.licensing,
      cluster,
      endpoints: infrastructure.endpoints,
      access: infrastructure.customerAccess[name],
      registry: settings.airgap.registry,
      imagePullSecrets: settings.airgap.imagePullSecrets,
      monitoring: settings.components.monitoring.enabled,
      dependsOn: [infrastructure.releases.postgresql, infrastructure.releases.redis].flatMap((r) => r ?? []),
    });
    customers[name] = platform.outputs;
  }
  return {
    environment: settings.environment,
    cloud: cluster.cloud,
    storageClass: cluster.storageClass,
    ingressClass: cluster.ingressClass,
    infrastructure: infrastructure.endpoints,
    customers,
  };
}
