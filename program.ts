import * as pulumi from "@pulumi/pulumi";
import {
  Access,
  AccessPlan,
  accessUrls,
  planAccess,
  platformAccess,
  resolveAccessCharts,
  ssoUrls,
} from "./access";
import { createCluster } from "./clusters";
import { clusterFromReference, PlatformCluster, platformClusterOutput } from "./clusters/reference";
import { Cluster } from "./clusters/types";
import { loadSettings, Settings } from "./config";
import { ConfigError, ConfigErrors } from "./config/errors";
import { CustomerAccess, Infrastructure, InfrastructureEndpoints, plannedReleases } from "./infrastructure";
import { backupStoreRequest } from "./infrastructure/backup";
import { resolveCharts } from "./infrastructure/catalog";
import { ssoRedirectUris } from "./infrastructure/values/sso";
import { ResolvedChart } from "./lib/charts";
import { CustomerOutputs, CustomerPlatform } from "./platform";
import { CustomerDeployAccess } from "./platform/deploy-access";
import { platformChart } from "./platform/chart-version";
import {
  DeployedPlatform,
  DeployedRecord,
  downgradeErrors,
  heldWarning,
  holdAsDeployed,
} from "./platform/deployed";
import { gateLicenses, heldLicense, LicensedCustomer } from "./platform/license/deploy-gate";

/**
 * One customer's access as the owning stack's output `customer-<name>` (secret), for the
 * customer-only stack that deploys its platform: the cluster contract with a kubeconfig limited to
 * the customer's namespace (platform/deploy-access.ts), its database and Valkey credentials.
 */
export interface CustomerStackAccess {
  namespace: string;
  cluster: PlatformCluster;
  database: Omit<CustomerAccess["database"], "password"> & { password: string };
  redis: Omit<CustomerAccess["redis"], "password"> & { password: string };
  /** The database of its own MLflow, with the MLflow component on. */
  mlflow?: Omit<CustomerAccess["database"], "password"> & { password: string };
}

/** The output that carries one customer's access: a whole top-level output per customer. */
export const customerAccessOutput = (customer: string): `customer-${string}` => `customer-${customer}`;

/** Stack outputs: names and endpoints in plaintext; the contract for customer-only stacks as secrets. */
export interface StackOutputs {
  environment: string;
  cloud: string;
  storageClass: string;
  ingressClass: string;
  /**
   * How platforms and shared UIs are exposed (es1:access.mode) and through which GatewayClass;
   * with es1:access.sso, its issuer and the redirect URI of each UI that signs in through it.
   */
  access: {
    mode: string;
    gatewayClass: string;
    sso?: { issuer: string; redirectUris: Record<string, string> };
  };
  /** The URL of every route: `<ui>` for shared UIs, `<customer>.gateway` and `<customer>.ui`. */
  urls: Record<string, string>;
  infrastructure: InfrastructureEndpoints;
  /** Each deployed customer platform: namespace, release, license id and expiry, agents. */
  customers: Record<string, CustomerOutputs>;
  /** The cluster contract (secret, kubeconfig included): for customer-only stacks and `es1 rollout`. */
  platformCluster?: pulumi.Output<PlatformCluster>;
  /** For the customer-only stack of each switched-off customer (secret): its access alone. */
  [customerAccess: `customer-${string}`]: pulumi.Output<CustomerStackAccess>;
}

/** es1:access.sso in the outputs: the issuer and the redirect URIs to register (no secret). */
function ssoOutput(settings: Settings, plan: AccessPlan): Pick<StackOutputs["access"], "sso"> {
  const sso = settings.access.sso;
  if (!sso) return {};
  return {
    sso: {
      issuer: sso.issuer,
      redirectUris: ssoRedirectUris({ urls: ssoUrls(plan, sso, settings.components) }),
    },
  };
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
  clusterOf: (name: string) => Cluster = () => cluster,
  mlflowChart?: ResolvedChart,
): Record<string, CustomerOutputs> {
  const out: Record<string, CustomerOutputs> = {};
  for (const [name, l] of licensed) {
    const held = l.held !== undefined;
    const platform = new CustomerPlatform(
      name,
      {
        licensed: l,
        licensing: settings.licensing,
        cluster: clusterOf(name),
        endpoints,
        access: access(name),
        registry: settings.airgap.registry,
        imagePullSecrets: settings.airgap.imagePullSecrets,
        ...(settings.airgap.registryAuth ? { registryAuth: settings.airgap.registryAuth } : {}),
        monitoring: endpoints.services.prometheus !== undefined,
        exposure: platformAccess(plan, settings.access, name),
        timeoutSeconds: settings.platformTimeoutSeconds,
        dependsOn,
        // A customer-only stack deploys into the namespace the owning stack made for it.
        ownsNamespace: settings.infrastructureStack === undefined,
        ...(mlflowChart ? { mlflowChart } : {}),
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

/**
 * A stack that deploys its customers onto the cluster and stores of the stack that owns them. It
 * reads that stack's `infrastructure` (service addresses, no secret) and, per customer, the output
 * `customer-<name>`: never the cluster-admin `platformCluster`.
 */
async function customerOnly(
  settings: Settings,
  reference: string,
  licensed: Map<string, LicensedCustomer>,
): Promise<StackOutputs> {
  const ref = new pulumi.StackReference("infrastructure", { name: reference });
  const names = [...licensed.keys()];
  const [infra, ...own] = await Promise.all(
    ["infrastructure", ...names.map(customerAccessOutput)].map((o) => ref.getOutputDetails(o)),
  );
  const value = (d: pulumi.StackReferenceOutputDetails): unknown => d.value ?? d.secretValue;
  const refused = (key: string, problem: string) => new ConfigErrors([new ConfigError(key, problem)]);
  if (value(infra) === undefined)
    throw refused(
      "es1:infrastructureStack",
      `stack ${reference} has no output 'infrastructure': is it an infrastructure stack, deployed?`,
    );
  const endpoints = value(infra) as InfrastructureEndpoints;
  const accessOf = new Map(names.map((n, i) => [n, value(own[i]) as CustomerStackAccess | undefined]));
  const missing = names.filter((n) => accessOf.get(n) === undefined);
  if (missing.length > 0) {
    // An owning stack last deployed by an installer before per-customer outputs has only the
    // all-customers 'customerAccess': it must be brought up to date first.
    if (value(await ref.getOutputDetails("customerAccess")) !== undefined)
      throw refused(
        "es1:infrastructureStack",
        `stack ${reference} was last deployed by an older installer and exports no per-customer access ('${customerAccessOutput(missing[0])}'): run \`pulumi up\` (es1 up) on ${reference} first, then this stack again`,
      );
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
  const access = (name: string): CustomerStackAccess => accessOf.get(name) as CustomerStackAccess;
  // One provider per customer, each with that customer's identity. The first keeps the name
  // 'cluster' that a stack from before had: whatever that stack's state still holds and the
  // program no longer declares (the namespace, now the owning stack's) is then deleted with a
  // namespace-scoped identity, which the API server refuses, instead of with the old admin one.
  const clusters = new Map(
    names.map((n, i) => [n, clusterFromReference(access(n).cluster, i === 0 ? "cluster" : `cluster-${n}`)]),
  );
  const first = clusters.get(names[0]) as Cluster;
  // The customers' routes only: the shared UIs belong to the infrastructure stack.
  const plan = { ...accessPlan(settings), shared: [] };
  const customers = platforms(
    settings,
    plan,
    licensed,
    first,
    endpoints,
    (name) => {
      const a = access(name);
      return {
        database: { ...a.database, password: pulumi.secret(a.database.password) },
        redis: { ...a.redis, password: pulumi.secret(a.redis.password) },
        ...(a.mlflow ? { mlflow: { ...a.mlflow, password: pulumi.secret(a.mlflow.password) } } : {}),
      };
    },
    [],
    (name) => clusters.get(name) as Cluster,
    // Each customer's own MLflow, from the chart the owning stack found.
    endpoints.charts?.mlflow,
  );
  return {
    environment: settings.environment,
    cloud: first.cloud,
    storageClass: first.storageClass,
    ingressClass: first.ingressClass,
    access: { mode: plan.mode, gatewayClass: plan.gatewayClass },
    urls: accessUrls(plan),
    infrastructure: endpoints,
    customers,
    // The cluster as this stack reaches it (its first customer's identity), for tools such as
    // `es1 rollout` that read the workloads.
    platformCluster: platformClusterOutput(first),
  };
}

/**
 * For each customer switched off here whose data this stack keeps: its namespace and a deploy
 * identity limited to it (platform/deploy-access.ts), and its access as an output of its own.
 */
function deployAccess(
  settings: Settings,
  cluster: Cluster,
  held: Record<string, CustomerAccess>,
): Record<`customer-${string}`, pulumi.Output<CustomerStackAccess>> {
  const out: Record<`customer-${string}`, pulumi.Output<CustomerStackAccess>> = {};
  for (const c of settings.customers.filter((x) => !x.enabled && held[x.name] !== undefined)) {
    const a = held[c.name];
    const identity = new CustomerDeployAccess(c.name, {
      customer: c,
      provider: cluster.provider,
      kubeconfig: cluster.kubeconfig,
      context: cluster.context,
      // Its MLflow's artifacts stay with the namespace while another stack deploys the platform.
      ...(a.mlflow ? { mlflowStorageClass: cluster.storageClass } : {}),
    });
    out[customerAccessOutput(c.name)] = pulumi.secret(
      pulumi
        .all([
          platformClusterOutput(cluster),
          identity.kubeconfig,
          a.database.password,
          a.redis.password,
          a.mlflow?.password ?? "",
        ])
        .apply(([pc, kubeconfig, dbPassword, redisPassword, mlflowPassword]): CustomerStackAccess => {
          // The admin kubeconfig's context names nothing in the customer's one.
          const contract: PlatformCluster = { ...pc, kubeconfig };
          delete contract.context;
          return {
            namespace: identity.namespace,
            cluster: contract,
            database: { ...a.database, password: dbPassword },
            redis: { ...a.redis, password: redisPassword },
            ...(a.mlflow ? { mlflow: { ...a.mlflow, password: mlflowPassword } } : {}),
          };
        }),
    );
  }
  return out;
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
    undefined,
    charts.mlflow,
  );
  return {
    environment: settings.environment,
    cloud: cluster.cloud,
    storageClass: cluster.storageClass,
    ingressClass: cluster.ingressClass,
    access: { mode: plan.mode, gatewayClass: plan.gatewayClass, ...ssoOutput(settings, plan) },
    urls: accessUrls(plan),
    infrastructure: infrastructure.endpoints,
    customers,
    platformCluster: platformClusterOutput(cluster),
    ...deployAccess(settings, cluster, infrastructure.customerAccess),
  };
}
