import * as pulumi from "@pulumi/pulumi";
import { Access, AccessPlan, accessUrls, planAccess, platformAccess, resolveAccessCharts } from "./access";
import { createCluster } from "./clusters";
import { clusterFromReference, PlatformCluster, platformClusterOutput } from "./clusters/reference";
import { Cluster } from "./clusters/types";
import { loadSettings, Settings } from "./config";
import { ConfigError, ConfigErrors } from "./config/errors";
import { CustomerAccess, Infrastructure, InfrastructureEndpoints, plannedReleases } from "./infrastructure";
import { backupStoreRequest } from "./infrastructure/backup";
import { resolveCharts } from "./infrastructure/catalog";
import { CustomerOutputs, CustomerPlatform } from "./platform";
import { platformChart } from "./platform/chart-version";
import {
  DeployedPlatform,
  DeployedRecord,
  downgradeErrors,
  heldWarning,
  holdAsDeployed,
} from "./platform/deployed";
import { gateLicenses, heldLicense, LicensedCustomer } from "./platform/license/deploy-gate";

/** Customer access as a stack output: plain strings, the whole of it secret. */
type CustomerAccessOutput = Record<
  string,
  {
    database: Omit<CustomerAccess["database"], "password"> & { password: string };
    redis: Omit<CustomerAccess["redis"], "password"> & { password: string };
  }
>;

/** Stack outputs: names and endpoints in plaintext; the contract for customer-only stacks as secrets. */
export interface StackOutputs {
  environment: string;
  cloud: string;
  storageClass: string;
  ingressClass: string;
  /** How platforms and shared UIs are exposed (es1:access.mode) and through which GatewayClass. */
  access: { mode: string; gatewayClass: string };
  /** The URL of every route: `<ui>` for shared UIs, `<customer>.gateway` and `<customer>.ui`. */
  urls: Record<string, string>;
  infrastructure: InfrastructureEndpoints;
  /** Each deployed customer platform: namespace, release, license id and expiry, agents. */
  customers: Record<string, CustomerOutputs>;
  /** The cluster contract (secret, kubeconfig included): for customer-only stacks and `es1 rollout`. */
  platformCluster?: pulumi.Output<PlatformCluster>;
  /** For customer-only stacks (secret): each customer's database and Valkey credentials. */
  customerAccess?: pulumi.Output<CustomerAccessOutput>;
}

/** The access plan of the stack (access/plan.ts); the settings parse has checked it. */
function accessPlan(settings: Settings): AccessPlan {
  return planAccess(settings).plan;
}

function platforms(
  settings: Settings,
  plan: AccessPlan,
  licensed: Map<string, LicensedCustomer>,
  cluster: Cluster,
  endpoints: InfrastructureEndpoints,
  access: (name: string) => CustomerAccess,
  dependsOn: pulumi.Resource[],
): Record<string, CustomerOutputs> {
  const out: Record<string, CustomerOutputs> = {};
  for (const [name, l] of licensed) {
    const held = l.held !== undefined;
    const platform = new CustomerPlatform(
      name,
      {
        licensed: l,
        licensing: settings.licensing,
        cluster,
        endpoints,
        access: access(name),
        registry: settings.airgap.registry,
        imagePullSecrets: settings.airgap.imagePullSecrets,
        monitoring: endpoints.services.prometheus !== undefined,
        exposure: platformAccess(plan, settings.access, name),
        timeoutSeconds: settings.platformTimeoutSeconds,
        dependsOn,
      },
      // A held customer's resources keep their deployed inputs: nothing of it changes.
      held ? { transformations: [holdAsDeployed] } : undefined,
    );
    out[name] = platform.outputs;
  }
  return out;
}

/**
 * The customers to deploy: those whose license passes, and those held back (a refused license,
 * already deployed: their platform stays exactly as it is). Refuses the whole run instead under
 * `es1:licensePolicy: strict`, and without a record of the deployment (`pulumi up` run directly
 * cannot tell a deployed customer from a new one). Refuses a platform version lower than the
 * deployed one unless the record allows it.
 */
function customersToDeploy(
  settings: Settings,
  record: DeployedRecord | undefined,
): Map<string, LicensedCustomer> {
  const gate = gateLicenses(settings.customers, settings.licensing);
  if (gate.refused.length > 0 && (settings.licensing.policy === "strict" || record === undefined))
    throw new ConfigErrors(gate.refused.map((r) => r.error));
  const planned = Object.fromEntries(
    [...gate.licensed].map(([name, l]) => [
      name,
      l.customer.platformVersion ?? platformChart(undefined).appVersion ?? "",
    ]),
  );
  const downgrades = downgradeErrors(planned, record);
  if (downgrades.length > 0) throw new ConfigErrors(downgrades);
  const out = new Map(gate.licensed);
  for (const r of gate.refused) {
    const deployed: DeployedPlatform | undefined = record?.customers[r.customer.name];
    pulumi.log.warn(heldWarning(r.customer.name, r.error, deployed));
    if (deployed === undefined) continue;
    out.set(r.customer.name, heldLicense(r.customer, deployed, r.error.problem));
  }
  return out;
}

/** A stack that reads the cluster and the shared infrastructure from the stack that owns them. */
async function customerOnly(
  settings: Settings,
  reference: string,
  licensed: Map<string, LicensedCustomer>,
): Promise<StackOutputs> {
  const ref = new pulumi.StackReference("infrastructure", { name: reference });
  const [infra, pc, access] = await Promise.all(
    ["infrastructure", "platformCluster", "customerAccess"].map((o) => ref.getOutputDetails(o)),
  );
  const plain = <T>(d: pulumi.StackReferenceOutputDetails, what: string): T => {
    const v = d.value ?? d.secretValue;
    if (v === undefined)
      throw new ConfigErrors([
        new ConfigError(
          "es1:infrastructureStack",
          `stack ${reference} has no output '${what}': is it an infrastructure stack, deployed?`,
        ),
      ]);
    return v as T;
  };
  const endpoints = plain<InfrastructureEndpoints>(infra, "infrastructure");
  const cluster = clusterFromReference(plain<PlatformCluster>(pc, "platformCluster"));
  const accessOf = plain<CustomerAccessOutput>(access, "customerAccess");
  const missing = [...licensed.keys()].filter((name) => accessOf[name] === undefined);
  if (missing.length > 0) {
    throw new ConfigErrors(
      missing.map(
        (name) =>
          new ConfigError(
            `es1:customers.${name}`,
            `stack ${reference} holds no database or Valkey user for '${name}': add it there first (es1:customers.${name}.enabled: false keeps its platform in this stack)`,
          ),
      ),
    );
  }
  // The customers' routes only: the shared UIs belong to the infrastructure stack.
  const plan = { ...accessPlan(settings), shared: [] };
  const customers = platforms(
    settings,
    plan,
    licensed,
    cluster,
    endpoints,
    (name) => ({
      database: { ...accessOf[name].database, password: pulumi.secret(accessOf[name].database.password) },
      redis: { ...accessOf[name].redis, password: pulumi.secret(accessOf[name].redis.password) },
    }),
    [],
  );
  return {
    environment: settings.environment,
    cloud: cluster.cloud,
    storageClass: cluster.storageClass,
    ingressClass: cluster.ingressClass,
    access: { mode: plan.mode, gatewayClass: plan.gatewayClass },
    urls: accessUrls(plan),
    infrastructure: endpoints,
    customers,
    // The cluster this stack deploys onto, for tools such as `es1 rollout` that check workloads.
    platformCluster: platformClusterOutput(cluster),
  };
}

/**
 * The whole ES1 installation for the current stack. `record` is what `es1` read from the stack's
 * last deployment (platform/deployed.ts); `pulumi up` run directly has none.
 */
export async function es1(record?: DeployedRecord): Promise<StackOutputs> {
  // Parsed first: a config mistake stops the run before any resource is registered.
  const settings = loadSettings();
  const charts = settings.infrastructureStack
    ? {}
    : resolveCharts(plannedReleases(settings), settings.airgap.charts);
  // Licenses and versions too: a refused one stops the run (or holds its customer back) before
  // anything changes.
  const licensed = customersToDeploy(settings, record);
  const plan = accessPlan(settings);
  const accessCharts = settings.infrastructureStack ? {} : resolveAccessCharts(plan, settings.airgap);
  if (settings.infrastructureStack) return customerOnly(settings, settings.infrastructureStack, licensed);

  // A cloud cluster makes the backup store when es1:backup names none of the site's.
  const cluster = createCluster(settings.cluster, settings.airgap, backupStoreRequest(settings));
  const exposure = new Access("access", {
    plan,
    settings: settings.access,
    airgap: settings.airgap,
    cluster,
    charts: accessCharts,
  });
  const infrastructure = new Infrastructure("infrastructure", {
    settings,
    cluster,
    charts,
    waitFor: { "cert-manager": exposure.gatewayApi },
  });
  exposure.expose({
    infrastructureNamespace: infrastructure.namespace,
    certManager: infrastructure.releases["cert-manager"],
  });
  const customers = platforms(
    settings,
    plan,
    licensed,
    cluster,
    infrastructure.endpoints,
    (name) => infrastructure.customerAccess[name],
    [
      ...[
        infrastructure.releases.postgresql,
        infrastructure.restoredPostgresql,
        infrastructure.releases.redis,
      ].flatMap((r) => r ?? []),
      ...exposure.ready,
    ],
  );
  const access = Object.entries(infrastructure.customerAccess);
  return {
    environment: settings.environment,
    cloud: cluster.cloud,
    storageClass: cluster.storageClass,
    ingressClass: cluster.ingressClass,
    access: { mode: plan.mode, gatewayClass: plan.gatewayClass },
    urls: accessUrls(plan),
    infrastructure: infrastructure.endpoints,
    customers,
    platformCluster: platformClusterOutput(cluster),
    customerAccess: pulumi.secret(
      pulumi
        .all(access.map(([, a]) => pulumi.all([a.database.password, a.redis.password])))
        .apply((passwords) =>
          Object.fromEntries(
            access.map(([name, a], i) => [
              name,
              {
                database: { ...a.database, password: passwords[i][0] },
                redis: { ...a.redis, password: passwords[i][1] },
              },
            ]),
          ),
        ),
    ),
  };
}
