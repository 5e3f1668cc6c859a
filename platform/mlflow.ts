// One MLflow per customer (docs/customers.md, Isolation): MLflow's own authentication needs REST
// calls to create users and grant each experiment, nothing declarative, so instead of one server
// shared by every customer each customer platform gets its own, from the chart and values builder
// of the shared one, in its namespace. Its tracking data is a database of its own in the shared
// PostgreSQL (infrastructure/values/postgresql.ts), its artifacts a volume in the namespace.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NodePoolPlacement } from "../clusters/types";
import type { CustomerSettings } from "../config/customers";
import type { DatabaseAccess } from "../infrastructure";
import { GROUPS, LabelSelector } from "../infrastructure/network";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { MLFLOW_CONTAINER_PORT, mlflowServerValues } from "../infrastructure/values/mlflow";
import { ResolvedChart } from "../lib/charts";
import { Json, JsonObject } from "../lib/json";
import { helmRelease } from "../lib/release";
import { PLATFORM_SIZING } from "./sizing";

/** Names of a customer's MLflow objects in its namespace `<customer>-platform`. */
export function customerMlflowObjects(customer: string) {
  const release = `${customer}-mlflow`;
  const namespace = `${customer}-platform`;
  return {
    /** The Helm release, and the Deployment and Service it makes (fullnameOverride). */
    release,
    /** basic-auth (`username`, `password`) of its database role. */
    databaseSecret: `${customer}-mlflow-database`,
    artifactsClaim: `${customer}-mlflow-artifacts`,
    /** MLFLOW_TRACKING_URI of the customer's platform. */
    url: `http://${release}.${namespace}.svc:80`,
    /** The labels the chart puts on its pods (mlflow.selectorLabels). */
    pods: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": release },
  } as const;
}

/** The container port's name: `http`, which Prometheus may scrape in customer namespaces. */
const PORT_NAME = "http";
/** Seconds Helm waits for it (as for the shared MLflow, infrastructure/catalog.ts). */
const TIMEOUT_SECONDS = 600;

/** Values of the customer's MLflow: its own database Secret and volume, the platform pool. */
export function customerMlflowValues(args: {
  customer: CustomerSettings;
  database: { host: string; port: number; name: string };
  platformPool?: NodePoolPlacement;
  registry?: string;
  imagePullSecrets: string[];
  monitoring: boolean;
}): JsonObject {
  const names = customerMlflowObjects(args.customer.name);
  const pool = args.platformPool;
  return mlflowServerValues({
    fullname: names.release,
    replicas: 1,
    resources: { ...PLATFORM_SIZING[args.customer.sizing].mlflow.resources },
    database: { ...args.database, secret: names.databaseSecret },
    artifactsClaim: names.artifactsClaim,
    placement: {
      nodeSelector: pool ? { ...pool.labels } : {},
      tolerations: pool
        ? pool.taints.map((t): Json => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect }))
        : [],
    },
    images: { registry: args.registry, imagePullSecrets: args.imagePullSecrets },
    monitoring: args.monitoring,
    namespace: `${args.customer.name}-platform`,
    portName: PORT_NAME,
    restricted: true,
  });
}

const tcp = (port: number | string) => ({ protocol: "TCP", port });

/**
 * The customer's MLflow admits the pods of its own namespace (and Prometheus' scrape), and
 * reaches only PostgreSQL and the cluster DNS.
 */
export function customerMlflowPolicy(
  customer: string,
  monitoring: boolean,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  const names = customerMlflowObjects(customer);
  const inInfrastructure = (pods: LabelSelector) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": INFRASTRUCTURE_NAMESPACE } },
    podSelector: pods,
  });
  return {
    podSelector: { matchLabels: { ...names.pods } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      { from: [{ podSelector: {} }], ports: [tcp(MLFLOW_CONTAINER_PORT)] },
      ...(monitoring ? [{ from: [inInfrastructure(GROUPS.prometheus.pods)], ports: [tcp(PORT_NAME)] }] : []),
    ],
    egress: [
      { to: [inInfrastructure(GROUPS.postgresql.pods)], ports: [tcp(5432)] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ],
  };
}

/**
 * The PersistentVolumeClaim of the customer's MLflow artifacts, made with its namespace by the
 * stack that owns the cluster (platform/deploy-access.ts), so it stays while the platform is off.
 */
export function customerMlflowClaim(
  c: CustomerSettings,
  storageClass: string,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaim {
  const names = customerMlflowObjects(c.name);
  return new k8s.core.v1.PersistentVolumeClaim(
    names.artifactsClaim,
    {
      metadata: {
        name: names.artifactsClaim,
        namespace: `${c.name}-platform`,
        labels: { "es1-customer": c.name, "app.kubernetes.io/part-of": "es1" },
      },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: storageClass,
        resources: { requests: { storage: PLATFORM_SIZING[c.sizing].mlflow.storage } },
      },
    },
    {
      ...opts,
      // The program never deletes it: switching the platform off keeps it; it goes with its
      // namespace, when the customer is purged or taken out of the stack.
      retainOnDelete: true,
      // Sized at creation; grown on the claim itself, as the shared volumes.
      ignoreChanges: ["spec.resources.requests.storage"],
    },
  );
}

export interface CustomerMlflowArgs {
  customer: CustomerSettings;
  chart: ResolvedChart;
  database: DatabaseAccess;
  provider: k8s.Provider;
  platformPool?: NodePoolPlacement;
  registry?: string;
  imagePullSecrets: string[];
  monitoring: boolean;
  labels: Record<string, string>;
}

/**
 * The customer's MLflow: its database Secret, its NetworkPolicy and its Release (the artifact
 * volume comes with the namespace). Returns the Release.
 */
export function customerMlflow(
  args: CustomerMlflowArgs,
  opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): k8s.helm.v3.Release {
  const c = args.customer;
  const names = customerMlflowObjects(c.name);
  const namespace = `${c.name}-platform`;
  const k8sOpts = { parent: opts.parent, provider: args.provider, dependsOn: opts.dependsOn };
  const secret = new k8s.core.v1.Secret(
    `${c.name}-mlflow-database`,
    {
      metadata: { name: names.databaseSecret, namespace, labels: args.labels },
      type: "kubernetes.io/basic-auth",
      stringData: { username: args.database.username, password: args.database.password },
    },
    k8sOpts,
  );
  const policy = new k8s.networking.v1.NetworkPolicy(
    `${c.name}-mlflow-network`,
    {
      metadata: { name: names.release, namespace, labels: args.labels },
      spec: customerMlflowPolicy(c.name, args.monitoring),
    },
    k8sOpts,
  );
  return helmRelease(
    {
      name: names.release,
      namespace,
      chart: args.chart,
      values: customerMlflowValues({
        customer: c,
        database: { host: args.database.host, port: args.database.port, name: args.database.name },
        platformPool: args.platformPool,
        registry: args.registry,
        imagePullSecrets: args.imagePullSecrets,
        monitoring: args.monitoring,
      }),
      timeoutSeconds: TIMEOUT_SECONDS,
      provider: args.provider,
    },
    { parent: opts.parent, dependsOn: [...opts.dependsOn, secret, policy] },
  );
}
