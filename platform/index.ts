import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformAccess } from "../access/plan";
import { Cluster } from "../clusters";
import { CustomerSettings, LicenseSettings } from "../config/customers";
import { CustomerAccess, InfrastructureEndpoints } from "../infrastructure";
import { helmRelease } from "../lib/release";
import { platformChart } from "./chart-version";
import { LicensedCustomer } from "./license/deploy-gate";
import { RegistryAuth } from "../config/airgap";
import { registryPullSecret } from "../lib/pull-secret";
import { customerNamespace } from "./deploy-access";
import { customerMlflow, customerMlflowObjects } from "./mlflow";
import { ResolvedChart } from "../lib/charts";
import {
  customerObjects,
  langfuseTracing,
  PLATFORM_CHILDREN,
  PLATFORM_RELEASE,
  platformValues,
} from "./values";

export { customerObjects, PLATFORM_RELEASE, platformValues } from "./values";

export interface CustomerPlatformArgs {
  licensed: LicensedCustomer;
  licensing: LicenseSettings;
  cluster: Cluster;
  endpoints: InfrastructureEndpoints;
  access: CustomerAccess;
  registry?: string;
  imagePullSecrets: string[];
  /** es1:airgap.registryAuth: the pull Secret is written into the customer's namespace. */
  registryAuth?: RegistryAuth;
  monitoring: boolean;
  /** The customer's hosts, gateway and certificates (access/plan.ts). */
  exposure: PlatformAccess;
  /** Seconds an install or upgrade waits for the workloads to be Ready (es1:platformTimeoutSeconds). */
  timeoutSeconds: number;
  /** Releases the platform waits for (PostgreSQL and Valkey, when this stack owns them). */
  dependsOn: pulumi.Resource[];
  /** The stack owns the cluster and creates the namespace; false in a customer-only stack. */
  ownsNamespace: boolean;
  /** The mlflow chart, with the MLflow component on: the customer gets an MLflow of its own. */
  mlflowChart?: ResolvedChart;
}

/** What a stack reports about each customer: names, never secret values. */
export interface CustomerOutputs {
  namespace: string;
  release: string;
  licenseId: string;
  licenseExpires: string;
  agents: string[];
  notDeployed: string[];
  /** The platform version (image tag) deployed: es1:customers.<c>.platformVersion or the chart's. */
  platformVersion: string;
  /** Why the platform was held back as deployed (its license was refused); absent otherwise. */
  held?: string;
}

/**
 * One customer's ES1 platform: its namespace (restricted Pod Security, quota, limits), the
 * Secrets the chart reads (license, database, Valkey), a test stack's license keys, and the Release
 * of platform/chart. Its data lives in the shared stores and outlives this component.
 */
export class CustomerPlatform extends pulumi.ComponentResource {
  readonly outputs: CustomerOutputs;

  constructor(name: string, args: CustomerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:platform:CustomerPlatform", name, {}, opts);
    const { licensed, cluster, access } = args;
    const c: CustomerSettings = licensed.customer;
    const names = customerObjects(c.name);
    // Child names carry the customer: a URN names the parent's type, not the parent.
    const child = (suffix: (typeof PLATFORM_CHILDREN)[number]) => `${c.name}-${suffix}`;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const labels = { "es1-role": "platform", "es1-customer": c.name, "app.kubernetes.io/part-of": "es1" };

    // Its own MLflow, with the component on and its database made (platform/mlflow.ts).
    const mlflow =
      args.mlflowChart && access.mlflow ? { chart: args.mlflowChart, database: access.mlflow } : undefined;
    // A customer-only stack finds the namespace made by the owning stack (CustomerDeployAccess).
    const ns = args.ownsNamespace
      ? [
          customerNamespace(c, {
            ...k8sOpts,
            movedFrom: "es1:platform:CustomerDeployAccess",
            ...(mlflow ? { mlflowStorageClass: cluster.storageClass } : {}),
          }),
        ]
      : [];
    const namespace = names.namespace;
    const inNs = { ...k8sOpts, dependsOn: ns };
    const meta = (objName: string) => ({ name: objName, namespace, labels });

    const db = access.database;
    const redis = access.redis;
    const secrets = [
      new k8s.core.v1.Secret(
        child("license"),
        {
          metadata: meta(names.license),
          type: "Opaque",
          stringData: { license: pulumi.secret(c.license.token ?? "") },
        },
        inNs,
      ),
      new k8s.core.v1.Secret(
        child("database"),
        {
          metadata: meta(names.database),
          type: "Opaque",
          stringData: {
            url: pulumi.secret(
              pulumi.interpolate`postgresql://${db.username}:${db.password.apply(encodeURIComponent)}@${db.host}:${db.port}/${db.name}`,
            ),
            host: db.host,
            port: String(db.port),
            database: db.name,
            username: db.username,
            password: db.password,
          },
        },
        inNs,
      ),
      new k8s.core.v1.Secret(
        child("redis"),
        {
          metadata: meta(names.redis),
          type: "Opaque",
          stringData: {
            url: pulumi.secret(
              pulumi.interpolate`redis://${redis.username}:${redis.password.apply(encodeURIComponent)}@${redis.host}:${redis.port}/0`,
            ),
            host: redis.host,
            port: String(redis.port),
            username: redis.username,
            password: redis.password,
            keyPrefix: redis.keyPrefix,
          },
        },
        inNs,
      ),
      // The customer file's sso: the manager UI reads the client secret from here (OIDC_CLIENT_SECRET).
      ...(c.sso
        ? [
            new k8s.core.v1.Secret(
              child("sso"),
              {
                metadata: meta(names.sso),
                type: "Opaque",
                stringData: { "client-secret": c.sso.clientSecret },
              },
              inNs,
            ),
          ]
        : []),
    ];
    // Its own Langfuse project's keys (es1:langfuseKeys), for the chart to read by name.
    if (c.langfuse && langfuseTracing(c, args.endpoints))
      secrets.push(
        new k8s.core.v1.Secret(
          child("langfuse"),
          {
            metadata: meta(names.langfuse),
            type: "Opaque",
            stringData: pulumi.secret({ publicKey: c.langfuse.publicKey, secretKey: c.langfuse.secretKey }),
          },
          inNs,
        ),
      );
    // The shipped ES1 keys come with the chart (its ConfigMap <release>-license-keys); a test
    // stack's own keys (es1:licenseTestKeys) are added beside them, and only there.
    const testKeys = Object.entries(args.licensing.testKeys);
    const keys =
      testKeys.length === 0
        ? []
        : [
            new k8s.core.v1.ConfigMap(
              child("license-keys"),
              {
                metadata: meta(names.testKeys),
                data: Object.fromEntries(testKeys.map(([kid, key]) => [`${kid}.pub`, key])),
              },
              inNs,
            ),
          ];

    for (const w of licensed.warnings) pulumi.log.warn(w, this);

    const pull =
      args.registry && args.registryAuth
        ? [
            registryPullSecret(
              child("registry-pull"),
              { namespace, registry: args.registry, auth: args.registryAuth, labels },
              inNs,
            ),
          ]
        : [];

    const mlflowRelease = mlflow
      ? [
          customerMlflow(
            {
              customer: c,
              chart: mlflow.chart,
              database: mlflow.database,
              provider: cluster.provider,
              platformPool: cluster.nodePools.platform,
              registry: args.registry,
              imagePullSecrets: args.imagePullSecrets,
              monitoring: args.monitoring,
              labels,
            },
            { parent: this, dependsOn: [...ns, ...pull, ...args.dependsOn] },
          ),
        ]
      : [];

    // Its appVersion is the customer's platform version, so `helm list` shows what runs.
    const chart = platformChart(c.platformVersion);
    const release = helmRelease(
      {
        name: PLATFORM_RELEASE,
        resourceName: child("platform"),
        namespace,
        chart,
        values: platformValues({
          customer: c,
          agents: licensed.agents,
          endpoints: args.endpoints,
          ingressClass: cluster.ingressClass,
          ingressAnnotations: cluster.ingressAnnotations,
          access: args.exposure,
          platformPool: cluster.nodePools.platform,
          registry: args.registry,
          imagePullSecrets: args.imagePullSecrets,
          monitoring: args.monitoring,
          testKeys: keys.length > 0,
          ...(mlflow ? { mlflowUrl: customerMlflowObjects(c.name).url } : {}),
        }),
        timeoutSeconds: args.timeoutSeconds,
        provider: cluster.provider,
      },
      { parent: this, dependsOn: [...ns, ...keys, ...secrets, ...pull, ...mlflowRelease, ...args.dependsOn] },
    );

    this.outputs = {
      namespace: names.namespace,
      release: PLATFORM_RELEASE,
      licenseId: licensed.license.id,
      licenseExpires: licensed.license.expiresAt,
      agents: [...licensed.agents],
      notDeployed: licensed.refused.map((r) => r.reason),
      platformVersion: c.platformVersion ?? chart.appVersion ?? "unknown",
      ...(licensed.held !== undefined ? { held: licensed.held } : {}),
    };
    this.registerOutputs({ outputs: this.outputs, release: release.status });
  }
}
