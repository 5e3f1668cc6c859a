import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../clusters";
import { COMPONENT_OF, planAccess, sharedUrls, ssoUrls } from "../access/plan";
import { Settings } from "../config";
import { CREDENTIALS, SECRET_NAMES } from "../config/credentials";
import { COMPONENTS, ComponentName } from "../config/sizing";
import { ResolvedChart } from "../lib/charts";
import { credential } from "../lib/credentials";
import { helmRelease, localChart } from "../lib/release";
import { CATALOG, PROVIDER_HELM_VERSION, ReleaseKey, releaseName, RELEASES, versionBelow } from "./catalog";
import {
  customerDatabase,
  customerKeyPrefix,
  customerMlflowDatabase,
  endpoint,
  INFRASTRUCTURE_NAMESPACE,
  NODE_EXPORTER_NAMESPACE,
  postgresqlEndpoint,
  SECRETS,
  ServiceEndpoint,
  ServiceName,
  SERVICES,
} from "./layout";
import { networkPolicies, nodeExporterPolicies } from "./network";
import {
  activePostgresqlCluster,
  backupSecret,
  backupTarget,
  objectStore,
  postgresqlRestoreValues,
  resolvedTarget,
  scheduledBackup,
  withBackupIdentity,
} from "./backup";
import { Observability } from "./observability";
import { VolumeBackups } from "./volume-backups";
import { cloudVolumeBackupTarget, installsVelero, volumeBackupTarget } from "./velero";
import { ALERTMANAGER_CONFIG_SECRET, alertmanagerConfigSecret } from "./observability/alerting";
import { CustomerCredentials, Credentials, secretPlans } from "./secrets";
import { baseValues } from "./values/base";
import { CustomerData, fractionOf, SsoContext, VALUES, ValuesContext, volumeSize } from "./values";
import { airflowStatsdMonitor } from "./values/airflow";
import { SSO_SECRET_KEYS } from "./values/sso";
import { SsoUi } from "../config/sso";
import { GRAFANA_CLAIM } from "./values/monitoring";
import { LANGFLOW_CLAIM } from "./values/langflow";
import { MLFLOW_ARTIFACTS_CLAIM } from "./values/mlflow";
import { OLLAMA_CLAIM } from "./values/ollama";
import { databaseUsers } from "./values/postgresql";
import { redisUsers } from "./values/redis";
import { registryPullSecret } from "../lib/pull-secret";

export { INFRASTRUCTURE_NAMESPACE } from "./layout";

/**
 * Where the platform finds the shared infrastructure: names only, never secret values, so it can
 * be exported as stack outputs and read by customer-only stacks.
 */
export interface InfrastructureEndpoints {
  namespace: string;
  /** Services of the enabled components, by name (`postgresql`, `redis`, `grafana`, ...). */
  services: Partial<Record<ServiceName, ServiceEndpoint>>;
  /** Secrets in es1-infrastructure other stacks may need, by purpose. */
  secrets: {
    /** basic-auth (`username`, `password`) of the PostgreSQL superuser. */
    postgresqlSuperuser?: string;
    /** One key per Valkey ACL user. */
    redisUsers?: string;
    /** `admin-user`, `admin-password` of Grafana. */
    grafanaAdmin?: string;
  };
  /**
   * Where this stack found the charts customer platforms also install (the mlflow chart of each
   * customer's own MLflow), so a customer-only stack, which has no es1:airgap, uses the same.
   */
  charts?: { mlflow?: ResolvedChart };
}

/** A PostgreSQL database and the role that owns it (the password a secret). */
export interface DatabaseAccess {
  host: string;
  port: number;
  name: string;
  username: string;
  password: pulumi.Output<string>;
}

/** What a customer platform needs to reach its own data in the shared stores. */
export interface CustomerAccess {
  database: DatabaseAccess;
  redis: { host: string; port: number; username: string; password: pulumi.Output<string>; keyPrefix: string };
  /** The database of the customer's own MLflow, with the MLflow component on (platform/mlflow.ts). */
  mlflow?: DatabaseAccess;
}

export interface InfrastructureArgs {
  settings: Settings;
  cluster: Cluster;
  /** Charts of the planned releases, from resolveCharts (checked before anything is deployed). */
  charts: Partial<Record<ReleaseKey, ResolvedChart>>;
  /** Resources a release waits for besides AFTER (cert-manager: the Gateway API CRDs it watches). */
  waitFor?: Partial<Record<ReleaseKey, pulumi.Resource[]>>;
}

/** Stable type tokens of the per-component ComponentResources. */
const TYPE_NAMES: Record<ComponentName, string> = {
  postgresql: "Postgresql",
  redis: "Redis",
  monitoring: "Monitoring",
  airflow: "Airflow",
  ollama: "Ollama",
  mlflow: "Mlflow",
  n8n: "N8n",
  langflow: "Langflow",
  langfuse: "Langfuse",
};

/** Releases whose data lives on volumes: protected from deletion in production stacks. */
const STATEFUL: ReadonlySet<ReleaseKey> = new Set<ReleaseKey>([
  "postgresql",
  "redis",
  "monitoring-crds",
  "monitoring",
  "airflow",
  "ollama",
  "mlflow",
  "langflow",
  "langfuse",
]);

/** What each release waits for besides the namespace and its own component's Secrets and volumes. */
const AFTER: Record<ReleaseKey, readonly ReleaseKey[]> = {
  "postgresql-operator": ["monitoring-crds"],
  // The plugin's certificates come from cert-manager; CloudNativePG finds it next to the operator.
  "postgresql-backup": ["postgresql-operator", "cert-manager"],
  postgresql: ["postgresql-operator", "postgresql-backup", "monitoring-crds"],
  redis: ["monitoring-crds"],
  "monitoring-crds": [],
  // With cert-manager in the stack, the webhook certificates come from it (values/monitoring.ts).
  monitoring: ["monitoring-crds", "cert-manager"],
  airflow: ["postgresql", "redis", "monitoring-crds"],
  ollama: [],
  mlflow: ["postgresql", "monitoring-crds"],
  n8n: ["postgresql", "redis", "monitoring-crds"],
  langflow: ["postgresql"],
  // Its ServiceMonitor (with monitoring on) needs the Prometheus CRDs.
  "cert-manager": ["monitoring-crds"],
  "clickhouse-operator": ["cert-manager"],
  langfuse: ["postgresql", "redis", "clickhouse-operator"],
  velero: [],
};

/** Whether a release is protected from deletion: stateful releases of production stacks. */
export function isProtected(key: ReleaseKey, settings: Pick<Settings, "protect">): boolean {
  return settings.protect && STATEFUL.has(key);
}

/** `keys` ordered so that every release comes after the releases it waits for (AFTER). */
export function installOrder(keys: readonly ReleaseKey[]): ReleaseKey[] {
  const out: ReleaseKey[] = [];
  const visit = (key: ReleaseKey, path: readonly ReleaseKey[]) => {
    if (out.includes(key) || !keys.includes(key)) return;
    if (path.includes(key)) throw new Error(`release ordering has a cycle: ${[...path, key].join(" -> ")}`);
    for (const dep of AFTER[key]) visit(dep, [...path, key]);
    out.push(key);
  };
  for (const key of keys) visit(key, []);
  return out;
}

/** Whether PostgreSQL is backed up (es1:backup set and PostgreSQL on). */
export function backsUpPostgresql(settings: Pick<Settings, "backup" | "components">): boolean {
  return settings.backup !== undefined && settings.components.postgresql.enabled;
}

/** The releases a stack's settings switch on, in install order. */
export function plannedReleases(settings: Settings): ReleaseKey[] {
  const c = settings.components;
  return installOrder(
    RELEASES.filter((key) => {
      const entry = CATALOG[key];
      // cert-manager serves Langfuse's ClickHouse operator and the PostgreSQL backup plugin.
      if (key === "cert-manager")
        return c.langfuse.installOperators && (c.langfuse.enabled || backsUpPostgresql(settings));
      if (entry.component === "backup") return installsVelero(settings);
      if (!c[entry.component].enabled) return false;
      if (key === "clickhouse-operator") return c.langfuse.installOperators;
      if (key === "postgresql-backup") return backsUpPostgresql(settings);
      return true;
    }).concat(
      // cert-manager is shared: es1:access certificates need it with Langfuse off too.
      accessNeedsCertManager(settings) && !(c.langfuse.enabled && c.langfuse.installOperators)
        ? ["cert-manager"]
        : [],
    ),
  );
}

/** Whether es1:access issues certificates through cert-manager (access/plan.ts). */
export function accessNeedsCertManager(settings: Settings): boolean {
  if (settings.infrastructureStack) return false;
  return planAccess(settings).plan.needsCertManager;
}

/** Volumes Pulumi owns (charts without a safe volume of their own), by component. */
export function plannedVolumes(ctx: ValuesContext): { owner: ComponentName; name: string; size: string }[] {
  const c = ctx.components;
  const volumes: { owner: ComponentName; name: string; size: string }[] = [];
  if (c.monitoring.enabled)
    volumes.push({
      owner: "monitoring",
      name: GRAFANA_CLAIM,
      size: fractionOf(volumeSize(ctx, "monitoring"), 0.05),
    });
  if (c.ollama.enabled)
    volumes.push({ owner: "ollama", name: OLLAMA_CLAIM, size: volumeSize(ctx, "ollama") });
  if (c.mlflow.enabled)
    volumes.push({ owner: "mlflow", name: MLFLOW_ARTIFACTS_CLAIM, size: volumeSize(ctx, "mlflow") });
  if (c.langflow.enabled)
    volumes.push({ owner: "langflow", name: LANGFLOW_CLAIM, size: volumeSize(ctx, "langflow") });
  return volumes;
}

/** The values builders' view of the stack: plain data from Settings and the Cluster contract. */
export function valuesContext(
  settings: Settings,
  cluster: Pick<Cluster, "cloud" | "storageClass" | "nodePools" | "backupStore">,
): ValuesContext {
  const c = settings.components;
  return {
    environment: settings.environment,
    components: c,
    storageClass: cluster.storageClass,
    pools: cluster.nodePools,
    registry: settings.airgap.registry,
    imagePullSecrets: settings.airgap.imagePullSecrets,
    monitoring: c.monitoring.enabled,
    certManager: plannedReleases(settings).includes("cert-manager"),
    publicUrls: settings.infrastructureStack ? {} : sharedUrls(planAccess(settings).plan),
    ...ssoContext(settings),
    certManagerGatewayApi:
      settings.access.mode === "gateway" &&
      settings.access.tls.issuer === "acme" &&
      accessNeedsCertManager(settings),
    postgresqlBackup: backsUpPostgresql(settings),
    postgresqlCluster: activePostgresqlCluster(settings.backup),
    // The cloud store's identity admits labelled pods only (AKS): PostgreSQL's pods carry the labels.
    ...(backsUpPostgresql(settings) &&
    !settings.backup?.objectStore &&
    Object.keys(cluster.backupStore?.podLabels ?? {}).length > 0
      ? { postgresqlPodLabels: cluster.backupStore?.podLabels }
      : {}),
    ...(settings.backup?.objectStore && installsVelero(settings)
      ? { volumeBackup: volumeBackupTarget(settings.backup.objectStore, settings.backup.prefix) }
      : {}),
    // An existing cluster reports every ES1 pool whether it has GPUs or not: there, only an
    // explicit `gpu: true` moves Ollama to the aiml pool.
    ollamaGpu: c.ollama.gpu ?? (cluster.cloud !== "existing" && cluster.nodePools.aiml !== undefined),
    customers: customerData(settings),
    ...(c.monitoring.enabled && settings.alerting
      ? { alertmanagerConfigSecret: ALERTMANAGER_CONFIG_SECRET }
      : {}),
  };
}

/** es1:access.sso for the values builders: plain data and the URL of each UI it covers. */
function ssoContext(settings: Settings): { sso?: SsoContext } {
  const sso = settings.access.sso;
  if (!sso || settings.infrastructureStack) return {};
  const urls = ssoUrls(planAccess(settings).plan, sso, settings.components);
  if (Object.keys(urls).length === 0) return {};
  // The secret and the UI list stay behind: values are plain data, and `urls` says who signs in.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { clientSecret, uis, ...plain } = sso;
  return { sso: { ...plain, urls } };
}

/**
 * Customers whose data the shared stores hold: every customer in the stack, its platform on or
 * off; `absent` once it is switched off with purgeData (its database and Valkey user go).
 */
export function customerData(settings: Pick<Settings, "customers">): CustomerData[] {
  return settings.customers.map((c) => ({
    name: c.name,
    state: !c.enabled && c.purgeData ? "absent" : "present",
  }));
}

/** Endpoints of the enabled components: the contract customer platforms are built on. */
export function infrastructureEndpoints(settings: Settings): InfrastructureEndpoints {
  const on = (c: ComponentName) => settings.components[c].enabled;
  const services: Partial<Record<ServiceName, ServiceEndpoint>> = {};
  for (const name of Object.keys(SERVICES) as ServiceName[]) {
    if (on(SERVICES[name].component)) services[name] = endpoint(name);
  }
  // After a restore, consumers (customer-only stacks too) use the restored cluster.
  if (services.postgresql) services.postgresql = postgresqlEndpoint(activePostgresqlCluster(settings.backup));
  return {
    namespace: INFRASTRUCTURE_NAMESPACE,
    services,
    secrets: {
      ...(on("postgresql") ? { postgresqlSuperuser: SECRETS.postgresqlSuperuser } : {}),
      ...(on("redis") ? { redisUsers: SECRETS.redisUsers } : {}),
      ...(on("monitoring") ? { grafanaAdmin: SECRETS.grafanaAdmin } : {}),
    },
  };
}

function chartOf(charts: Partial<Record<ReleaseKey, ResolvedChart>>, key: ReleaseKey): ResolvedChart {
  const chart = charts[key];
  if (!chart) throw new Error(`chart of ${key} was not resolved`);
  return chart;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
}

/**
 * Namespace es1-infrastructure and the shared components in it: for each enabled component a
 * ComponentResource holding its credentials, Secrets, volumes and Helm Releases.
 */
export class Infrastructure extends pulumi.ComponentResource {
  readonly endpoints: InfrastructureEndpoints;
  readonly namespace: k8s.core.v1.Namespace;
  /** node-exporter's own namespace (with the monitoring component). */
  readonly nodeExporterNamespace?: k8s.core.v1.Namespace;
  /** Every Release, by catalog key, for dependents (customer platforms) to wait on. */
  readonly releases: Partial<Record<ReleaseKey, k8s.helm.v3.Release>> = {};
  /** The cluster restored from backup (es1:backup.postgresql.restore), which consumers use. */
  restoredPostgresql?: k8s.helm.v3.Release;
  /** How each customer reaches its database and its Valkey keys (passwords are secrets). */
  readonly customerAccess: Record<string, CustomerAccess> = {};

  /**
   * es1-infrastructure closed by default: deny in and out, then each flow a component needs
   * (infrastructure/network.ts). The policies of node-exporter's namespace come with it.
   */
  private networkPolicies(
    namespace: pulumi.Output<string>,
    cluster: Cluster,
    settings: Settings,
    nodeExporter: k8s.core.v1.Namespace | undefined,
  ): void {
    const inputs = {
      enabled: (c: ComponentName) => settings.components[c].enabled,
      langfuseOperators: plannedReleases(settings).includes("cert-manager"),
      network: settings.network,
    };
    const labels = { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" };
    for (const p of networkPolicies(inputs)) {
      new k8s.networking.v1.NetworkPolicy(
        p.name,
        { metadata: { name: p.name, namespace, labels }, spec: p.spec },
        { parent: this, provider: cluster.provider, dependsOn: [this.namespace] },
      );
    }
    if (nodeExporter)
      for (const p of nodeExporterPolicies())
        new k8s.networking.v1.NetworkPolicy(
          `node-exporter-${p.name}`,
          { metadata: { name: p.name, namespace: nodeExporter.metadata.name, labels }, spec: p.spec },
          { parent: this, provider: cluster.provider, dependsOn: [nodeExporter] },
        );
  }

  constructor(name: string, args: InfrastructureArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:infrastructure:Infrastructure", name, {}, opts);
    const { settings, cluster, charts } = args;
    const ctx = valuesContext(settings, cluster);
    const on = (c: ComponentName) => settings.components[c].enabled;

    this.namespace = new k8s.core.v1.Namespace(
      "namespace",
      {
        metadata: {
          name: INFRASTRUCTURE_NAMESPACE,
          labels: {
            "es1-role": "infrastructure",
            "app.kubernetes.io/part-of": "es1",
            // Nothing here needs host access (node-exporter has its own namespace); docs/customers.md
            // says per chart what stops `restricted`.
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
          },
        },
      },
      // Deleting the namespace deletes every database volume in it.
      { parent: this, provider: cluster.provider, protect: settings.protect },
    );
    const namespace = this.namespace.metadata.name;
    // node-exporter reads the host (host network and PID): the one privileged workload, alone in
    // a namespace of its own.
    this.nodeExporterNamespace = on("monitoring")
      ? new k8s.core.v1.Namespace(
          "node-exporter-namespace",
          {
            metadata: {
              name: NODE_EXPORTER_NAMESPACE,
              labels: {
                "es1-role": "node-exporter",
                "app.kubernetes.io/part-of": "es1",
                "pod-security.kubernetes.io/enforce": "privileged",
              },
            },
          },
          { parent: this, provider: cluster.provider },
        )
      : undefined;
    // es1:airgap.registryAuth: the pull Secret every release names, there before any of them.
    const { registry, registryAuth } = settings.airgap;
    // node-exporter's namespace needs it too: its pods pull from the same registry.
    const pullTargets: [string, k8s.core.v1.Namespace][] = [
      ["registry-pull-secret", this.namespace],
      ...(this.nodeExporterNamespace
        ? [
            ["node-exporter-registry-pull-secret", this.nodeExporterNamespace] as [
              string,
              k8s.core.v1.Namespace,
            ],
          ]
        : []),
    ];
    const pull =
      registry && registryAuth
        ? pullTargets.map(([resourceName, ns]) =>
            registryPullSecret(
              resourceName,
              { namespace: ns.metadata.name, registry, auth: registryAuth },
              { parent: this, provider: cluster.provider, dependsOn: [ns] },
            ),
          )
        : [];

    const base = helmRelease(
      {
        name: "es1-base",
        namespace,
        chart: localChart("infrastructure/charts/es1-base"),
        values: baseValues(settings, cluster.cloud),
        timeoutSeconds: 120,
        provider: cluster.provider,
      },
      { parent: this, dependsOn: [this.namespace, ...pull] },
    );

    // Every component has its ComponentResource, switched on or not: its credentials live under
    // it and must keep their identity while it is off.
    const parts = Object.fromEntries(
      COMPONENTS.map((c) => [
        c,
        new pulumi.ComponentResource(`es1:infrastructure:${TYPE_NAMES[c]}`, c, {}, { parent: this }),
      ]),
    ) as Record<ComponentName, pulumi.ComponentResource>;
    const partOf = (c: ComponentName): pulumi.ComponentResource => parts[c];
    // Resources that moved under a component keep their identity in existing stacks.
    const movedFrom = (oldName: string): pulumi.Alias[] => [{ name: oldName, parent: this }];

    // Credentials of switched-off components stay in state: their databases and volumes are
    // kept, and a new Fernet, encryption or salt key would make that data unreadable when the
    // component comes back. Only enabled components get them written into the cluster.
    const creds: Credentials = {};
    for (const secretName of SECRET_NAMES) {
      const spec = CREDENTIALS[secretName];
      const resourceName = kebab(secretName);
      creds[secretName] = credential(
        resourceName,
        settings.secrets[secretName],
        {
          parent: partOf(spec.component),
          aliases:
            secretName === "postgresqlSuperuserPassword" ? movedFrom("postgresql-superuser") : undefined,
        },
        spec.format,
      );
    }

    const ownSecrets: Partial<Record<ComponentName, pulumi.Resource[]>> = {};
    const roleSecrets: pulumi.Resource[] = [];
    // Each customer in the stack: a role and database of its own, a Valkey user limited to its keys.
    const customerCreds: Record<string, CustomerCredentials> = {};
    for (const c of ctx.customers.filter((x) => x.state === "present")) {
      customerCreds[c.name] = {
        databasePassword: credential(`customer-${c.name}-database-password`, undefined, { parent: this }),
        redisPassword: credential(`customer-${c.name}-redis-password`, undefined, { parent: this }),
        ...(on("mlflow")
          ? {
              mlflowPassword: credential(`customer-${c.name}-mlflow-password`, undefined, { parent: this }),
            }
          : {}),
      };
      const mlflowPassword = customerCreds[c.name].mlflowPassword;
      const pg = postgresqlEndpoint(ctx.postgresqlCluster);
      const redis = endpoint("redis");
      this.customerAccess[c.name] = {
        database: {
          host: pg.host,
          port: pg.port,
          name: customerDatabase(c.name),
          username: customerDatabase(c.name),
          password: customerCreds[c.name].databasePassword,
        },
        redis: {
          host: redis.host,
          port: redis.port,
          username: c.name,
          password: customerCreds[c.name].redisPassword,
          keyPrefix: customerKeyPrefix(c.name),
        },
        ...(mlflowPassword
          ? {
              mlflow: {
                host: pg.host,
                port: pg.port,
                name: customerMlflowDatabase(c.name),
                username: customerMlflowDatabase(c.name),
                password: mlflowPassword,
              },
            }
          : {}),
      };
    }

    for (const plan of secretPlans(
      on,
      databaseUsers(ctx),
      redisUsers(ctx),
      creds,
      customerCreds,
      postgresqlEndpoint(ctx.postgresqlCluster),
    )) {
      const secret = new k8s.core.v1.Secret(
        plan.name,
        {
          metadata: {
            name: plan.name,
            namespace,
            labels: {
              "es1-role": "infrastructure",
              "app.kubernetes.io/part-of": "es1",
              // CloudNativePG watches labelled Secrets, so a changed password reaches the database.
              ...(plan.readByPostgresql ? { "cnpg.io/reload": "true" } : {}),
            },
          },
          type: plan.type ?? "Opaque",
          stringData: plan.data,
        },
        {
          parent: partOf(plan.owner),
          provider: cluster.provider,
          dependsOn: [this.namespace],
          aliases: plan.name === SECRETS.postgresqlSuperuser ? movedFrom("postgresql-superuser") : undefined,
        },
      );
      (ownSecrets[plan.owner] ??= []).push(secret);
      if (plan.readByPostgresql) roleSecrets.push(secret);
    }

    // es1:access.sso: the client's id and secret, and oauth2-proxy's cookie key (MLflow), in one
    // Secret the signed-in UIs read (values/sso.ts); their releases wait for it.
    const sso = settings.access.sso;
    if (ctx.sso && sso) {
      const secret = new k8s.core.v1.Secret(
        "sso",
        {
          metadata: {
            name: SECRETS.sso,
            namespace,
            labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
          },
          type: "Opaque",
          stringData: {
            [SSO_SECRET_KEYS.clientId]: sso.clientId,
            [SSO_SECRET_KEYS.clientSecret]: sso.clientSecret,
            [SSO_SECRET_KEYS.cookieSecret]: credential("sso-cookie-secret", undefined, { parent: this }),
          },
        },
        { parent: this, provider: cluster.provider, dependsOn: [this.namespace] },
      );
      for (const ui of Object.keys(ctx.sso.urls) as SsoUi[])
        (ownSecrets[COMPONENT_OF[ui]] ??= []).push(secret);
    }

    // es1:alerting: Alertmanager's configuration, a Secret its release mounts (so: before it).
    if (ctx.alertmanagerConfigSecret !== undefined && settings.alerting)
      (ownSecrets.monitoring ??= []).push(
        alertmanagerConfigSecret(
          settings.alerting,
          { namespace, provider: cluster.provider },
          { parent: partOf("monitoring"), dependsOn: [this.namespace] },
        ),
      );

    const volumes: Partial<Record<ComponentName, pulumi.Resource[]>> = {};
    for (const v of plannedVolumes(ctx)) {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        v.name,
        {
          metadata: {
            name: v.name,
            namespace,
            labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
          },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: ctx.storageClass,
            resources: { requests: { storage: v.size } },
          },
        },
        {
          parent: partOf(v.owner),
          provider: cluster.provider,
          dependsOn: [this.namespace],
          protect: settings.protect,
          // Switching a component off keeps its data; switching it on again finds it.
          retainOnDelete: true,
          // The size is fixed at creation: a different size in config must never replace (empty)
          // the claim. Volumes are grown on the claim itself (docs/components.md).
          ignoreChanges: ["spec.resources.requests.storage"],
        },
      );
      (volumes[v.owner] ??= []).push(claim);
    }

    // es1:backup: the site's store and its keys, or the store the cloud cluster made and its identity.
    const backup = ctx.postgresqlBackup && settings.backup ? settings.backup : undefined;
    const cloudStore = backup && !backup.objectStore ? cluster.backupStore : undefined;
    const backupArgs = backup
      ? { backup, target: backupTarget(backup, cloudStore), namespace, provider: cluster.provider }
      : undefined;
    if (backupArgs?.backup.objectStore)
      (ownSecrets.postgresql ??= []).push(
        backupSecret(backupArgs, { parent: partOf("postgresql"), dependsOn: [this.namespace] }),
      );
    // Objects of a component that must exist before one of its releases: the ObjectStore the
    // Cluster archives into is made once the plugin's release brought its CRD.
    const before: Partial<Record<ReleaseKey, pulumi.Resource[]>> = {};

    for (const key of plannedReleases(settings)) {
      const entry = CATALOG[key];
      // Velero has a namespace of its own (VolumeBackups, below).
      if (entry.component === "backup") continue;
      if (entry.minHelm && versionBelow(PROVIDER_HELM_VERSION, entry.minHelm)) {
        pulumi.log.warn(
          `${entry.chart.chart} ${entry.chart.version} asks for Helm >= ${entry.minHelm}; the Kubernetes ` +
            `provider installs charts with its built-in Helm ${PROVIDER_HELM_VERSION}`,
          this,
        );
      }
      const after = [
        ...AFTER[key].flatMap((k) => this.releases[k] ?? []),
        // The restored cluster's consumers wait for it as for the original.
        ...(AFTER[key].includes("postgresql") && this.restoredPostgresql ? [this.restoredPostgresql] : []),
        ...(args.waitFor?.[key] ?? []),
      ];
      const dependsOn: pulumi.Resource[] = [
        this.namespace,
        ...(key === "monitoring" && this.nodeExporterNamespace ? [this.nodeExporterNamespace] : []),
        base,
        ...pull,
        ...after,
        ...(ownSecrets[entry.component] ?? []),
        ...(volumes[entry.component] ?? []),
        ...(key === "postgresql" ? roleSecrets : []),
        ...(before[key] ?? []),
        // The cloud store's grants exist before PostgreSQL archives into it.
        ...(key === "postgresql" && cloudStore ? cloudStore.ready : []),
      ];
      this.releases[key] = helmRelease(
        {
          name: releaseName(key),
          namespace,
          chart: chartOf(charts, key),
          values: key === "postgresql" ? withBackupIdentity(VALUES[key](ctx), cloudStore) : VALUES[key](ctx),
          timeoutSeconds: entry.timeoutSeconds,
          provider: cluster.provider,
        },
        { parent: partOf(entry.component), dependsOn, protect: isProtected(key, settings) },
      );
      if (key === "postgresql-backup" && backupArgs)
        before.postgresql = [
          objectStore(backupArgs, {
            parent: partOf("postgresql"),
            dependsOn: [this.releases[key], ...(ownSecrets.postgresql ?? [])],
          }),
        ];
      if (key === "postgresql" && backupArgs) {
        const pgRelease = this.releases[key];
        // es1:backup.postgresql.restore: a new cluster from the object store, beside the original.
        const restore = backupArgs.backup.postgresql.restore;
        const restored = restore
          ? helmRelease(
              {
                name: restore.cluster,
                namespace,
                chart: chartOf(charts, "postgresql"),
                values: resolvedTarget(backupArgs.target).apply((target) =>
                  pulumi
                    .output(withBackupIdentity(VALUES.postgresql(ctx), cloudStore))
                    .apply((base) => postgresqlRestoreValues(base, backupArgs.backup, restore, target)),
                ),
                timeoutSeconds: entry.timeoutSeconds,
                provider: cluster.provider,
              },
              { parent: partOf("postgresql"), dependsOn, protect: isProtected(key, settings) },
            )
          : undefined;
        if (restored) this.restoredPostgresql = restored;
        scheduledBackup(backupArgs, {
          parent: partOf("postgresql"),
          dependsOn: [pgRelease, ...(restored ? [restored] : [])],
        });
      }
    }

    // The Airflow chart has no ServiceMonitor of its own; Prometheus finds its StatsD exporter
    // through ours. It needs the Prometheus Operator CRDs and selects the chart's Service.
    const monitor = airflowStatsdMonitor(ctx);
    if (monitor) {
      const waitFor = (["monitoring-crds", "airflow"] as const).flatMap((k) => this.releases[k] ?? []);
      new k8s.apiextensions.CustomResource(
        monitor.metadata.name,
        { ...monitor, metadata: { ...monitor.metadata, namespace } },
        { parent: partOf("airflow"), provider: cluster.provider, dependsOn: [this.namespace, ...waitFor] },
      );
    }

    // ES1 dashboards and alert rules (infrastructure/observability), with the monitoring component.
    if (on("monitoring"))
      new Observability(
        "observability",
        {
          namespace,
          provider: cluster.provider,
          licenseWarningDays: settings.licensing.warnWithinDays,
          ...(backup ? { backupIntervalSeconds: backup.postgresql.intervalSeconds } : {}),
          dependsOn: [
            this.namespace,
            ...(["monitoring-crds", "monitoring"] as const).flatMap((k) => this.releases[k] ?? []),
          ],
        },
        { parent: partOf("monitoring") },
      );

    // es1:backup.volumes: Velero and a Schedule per component, in es1-velero.
    if (settings.backup && installsVelero(settings)) {
      const veleroStore = settings.backup.objectStore ? undefined : cluster.backupStore;
      if (!settings.backup.objectStore && !veleroStore)
        throw new Error("es1:backup.volumes: es1:backup names no object store and the cluster made none");
      const volumeBackups = new VolumeBackups(
        "volume-backups",
        {
          settings,
          backup: settings.backup,
          provider: cluster.provider,
          chart: chartOf(charts, "velero"),
          values: veleroStore
            ? cloudVolumeBackupTarget(veleroStore, settings.backup.prefix).apply((volumeBackup) =>
                VALUES.velero({ ...ctx, volumeBackup }),
              )
            : VALUES.velero(ctx),
          // A Schedule's first backup runs at once: the components' releases exist by then.
          after: Object.values(this.releases),
          storeReady: veleroStore?.ready ?? [],
        },
        { parent: this },
      );
      this.releases.velero = volumeBackups.release;
    }

    this.networkPolicies(namespace, cluster, settings, this.nodeExporterNamespace);
    this.endpoints = {
      ...infrastructureEndpoints(settings),
      ...(charts.mlflow ? { charts: { mlflow: charts.mlflow } } : {}),
    };
    this.registerOutputs({ endpoints: this.endpoints });
  }
}
