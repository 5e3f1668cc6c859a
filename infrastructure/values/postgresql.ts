import { JsonObject } from "../../lib/json";
import { clusterBackupPlugin } from "../backup";
import { customerDatabase, customerMlflowDatabase, DATABASE_USERS, DatabaseUser, SECRETS } from "../layout";
import { image, infraPlacement, pullSecretRefs, resources, ValuesContext, volumeSize } from "./context";
import type { CustomerData } from "./context";

/** PostgreSQL major version of the operand image; a change is a major upgrade of every database. */
export const POSTGRES_MAJOR = "16";

/**
 * Each customer's roles and databases: its own and, with MLflow on, its MLflow's (one MLflow per
 * customer, platform/mlflow.ts). `state` as the customer's: kept while it is in the stack.
 */
function customerDatabases(
  ctx: ValuesContext,
): { name: string; secret: string; state: CustomerData["state"] }[] {
  return ctx.customers.flatMap((c) => [
    { name: customerDatabase(c.name), secret: SECRETS.postgresqlCustomer(c.name), state: c.state },
    ...(ctx.components.mlflow.enabled
      ? [
          {
            name: customerMlflowDatabase(c.name),
            secret: SECRETS.postgresqlCustomerMlflow(c.name),
            state: c.state,
          },
        ]
      : []),
  ]);
}

/** Database users whose application is switched on. */
export function databaseUsers(ctx: ValuesContext): DatabaseUser[] {
  return DATABASE_USERS.filter((u) => ctx.components[u].enabled);
}

function operandImage(ctx: ValuesContext): string {
  return `${image(ctx, "ghcr.io/cloudnative-pg/postgresql")}:${POSTGRES_MAJOR}`;
}

/** CloudNativePG operator (chart cloudnative-pg), watching es1-infrastructure only. */
export function postgresqlOperatorValues(ctx: ValuesContext): JsonObject {
  const config: JsonObject = { POSTGRES_IMAGE_NAME: operandImage(ctx) };
  // Labels set on a Cluster that CloudNativePG copies to its pods (the backup identity's).
  const inherited = Object.keys(ctx.postgresqlPodLabels ?? {});
  if (inherited.length > 0) config.INHERITED_LABELS = inherited.join(",");
  // The operator copies this pull secret into every namespace it runs a cluster in.
  if (ctx.imagePullSecrets.length > 0) config.PULL_SECRET_NAME = ctx.imagePullSecrets[0];
  return {
    fullnameOverride: "es1-postgresql-operator",
    image: { repository: image(ctx, "ghcr.io/cloudnative-pg/cloudnative-pg") },
    imagePullSecrets: pullSecretRefs(ctx),
    // CRDs are templates of this chart, so `helm upgrade` updates them with the operator.
    crds: { create: true },
    config: { clusterWide: false, data: config },
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    ...infraPlacement(ctx),
    monitoring: { podMonitorEnabled: ctx.monitoring },
  };
}

/**
 * The PostgreSQL cluster (chart cluster): superuser from our Secret, one role and one database
 * per application, each role's password from its own basic-auth Secret. Databases are retained
 * when an application is switched off.
 */
export function postgresqlValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.postgresql;
  const { nodeSelector, tolerations } = infraPlacement(ctx);
  const users = databaseUsers(ctx);
  return {
    fullnameOverride: "es1-postgresql",
    type: "postgresql",
    version: { postgresql: POSTGRES_MAJOR },
    cluster: {
      ...(ctx.postgresqlPodLabels ? { additionalLabels: { ...ctx.postgresqlPodLabels } } : {}),
      instances: size.replicas,
      imageName: operandImage(ctx),
      imagePullSecrets: pullSecretRefs(ctx),
      storage: { size: volumeSize(ctx, "postgresql"), storageClass: ctx.storageClass },
      resources: resources(size.resources),
      affinity: {
        enablePodAntiAffinity: true,
        topologyKey: "kubernetes.io/hostname",
        nodeSelector,
        tolerations,
      },
      enableSuperuserAccess: true,
      superuserSecret: SECRETS.postgresqlSuperuser,
      roles: [
        ...users.map((u) => ({
          name: u,
          ensure: "present",
          login: true,
          passwordSecret: { name: SECRETS.postgresqlRole(u) },
        })),
        // A customer's role owns its database; pg_hba below keeps other roles out of it.
        ...customerDatabases(ctx).map((d): JsonObject =>
          d.state === "present"
            ? { name: d.name, ensure: "present", login: true, passwordSecret: { name: d.secret } }
            : { name: d.name, ensure: "absent" },
        ),
      ],
      monitoring: { enabled: ctx.monitoring, podMonitor: { enabled: ctx.monitoring } },
      // es1:backup: WAL archiving and base backups through the Barman Cloud plugin.
      ...(ctx.postgresqlBackup ? { plugins: [clusterBackupPlugin()] } : {}),
      // PostgreSQL lets every role connect to every database; a customer's database admits its
      // own role only (CloudNativePG's own rules for replication and local access come first).
      postgresql: {
        pg_hba: customerDatabases(ctx)
          .filter((d) => d.state === "present")
          .flatMap(({ name: db }) => [`host ${db} ${db} all scram-sha-256`, `host ${db} all all reject`]),
      },
    },
    databases: [
      ...users.map((u) => ({ name: u, owner: u, ensure: "present", databaseReclaimPolicy: "retain" })),
      ...customerDatabases(ctx).map((d) => ({
        name: d.name,
        owner: d.name,
        ensure: d.state,
        // Kept when the customer leaves the stack; dropped only when its data is purged.
        databaseReclaimPolicy: d.state === "present" ? "retain" : "delete",
      })),
    ],
  };
}
