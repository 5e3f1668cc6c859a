import * as pulumi from "@pulumi/pulumi";
import { SecretName } from "../config/credentials";
import { ComponentName } from "../config/sizing";
import {
  customerDatabase,
  customerMlflowDatabase,
  DatabaseUser,
  endpoint,
  RedisUser,
  SECRETS,
  ServiceEndpoint,
} from "./layout";
import { REDIS_DATABASES } from "./values/redis";

/** A customer's generated passwords for its database role, its Valkey user and its MLflow's role. */
export interface CustomerCredentials {
  databasePassword: pulumi.Output<string>;
  redisPassword: pulumi.Output<string>;
  /** With MLflow on: the role of the customer's own MLflow (platform/mlflow.ts). */
  mlflowPassword?: pulumi.Output<string>;
}

/** Credentials by name, each a secret Output (only those of enabled components are present). */
export type Credentials = Partial<Record<SecretName, pulumi.Output<string>>>;

/** A Kubernetes Secret Pulumi writes into es1-infrastructure. */
export interface SecretPlan {
  /** The component it belongs to (its Pulumi parent). */
  owner: ComponentName;
  name: string;
  type?: string;
  data: Record<string, pulumi.Input<string>>;
  /** A role's password that the PostgreSQL cluster reads too. */
  readByPostgresql?: boolean;
}

function need(creds: Credentials, name: SecretName): pulumi.Output<string> {
  const c = creds[name];
  if (!c) throw new Error(`credential ${name} was not created; its component is off`);
  return c;
}

const DB_PASSWORD: Record<DatabaseUser, SecretName> = {
  airflow: "airflowDatabasePassword",
  mlflow: "mlflowDatabasePassword",
  n8n: "n8nDatabasePassword",
  langflow: "langflowDatabasePassword",
  langfuse: "langfuseDatabasePassword",
};

const REDIS_PASSWORD: Record<RedisUser, SecretName> = {
  airflow: "airflowRedisPassword",
  n8n: "n8nRedisPassword",
  langfuse: "langfuseRedisPassword",
};

/** A password inside a URL: configured ones may hold characters URLs reserve. */
function urlPart(s: pulumi.Output<string>): pulumi.Output<string> {
  return s.apply(encodeURIComponent);
}

function postgresUrl(
  scheme: string,
  user: DatabaseUser,
  creds: Credentials,
  pg: ServiceEndpoint,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.interpolate`${scheme}://${user}:${urlPart(need(creds, DB_PASSWORD[user]))}@${pg.host}:${pg.port}/${user}`,
  );
}

/**
 * Every Secret of es1-infrastructure for the enabled components: names and keys as the charts
 * read them (see layout.ts), values from the credentials.
 */
export function secretPlans(
  enabled: (c: ComponentName) => boolean,
  databaseUsers: DatabaseUser[],
  redisUsers: RedisUser[],
  creds: Credentials,
  customers: Record<string, CustomerCredentials> = {},
  /** The PostgreSQL the applications use (a restored cluster once switched to). */
  postgresql: ServiceEndpoint = endpoint("postgresql"),
): SecretPlan[] {
  const plans: SecretPlan[] = [];
  const basicAuth = "kubernetes.io/basic-auth";
  if (enabled("postgresql")) {
    plans.push({
      owner: "postgresql",
      name: SECRETS.postgresqlSuperuser,
      type: basicAuth,
      data: { username: "postgres", password: need(creds, "postgresqlSuperuserPassword") },
      readByPostgresql: true,
    });
  }
  for (const user of databaseUsers) {
    plans.push({
      owner: user,
      name: SECRETS.postgresqlRole(user),
      type: basicAuth,
      data: { username: user, password: need(creds, DB_PASSWORD[user]) },
      readByPostgresql: true,
    });
  }
  if (enabled("redis")) {
    const users: Record<string, pulumi.Input<string>> = { default: need(creds, "redisDefaultPassword") };
    for (const u of redisUsers) users[u] = need(creds, REDIS_PASSWORD[u]);
    for (const [name, c] of Object.entries(customers)) users[name] = c.redisPassword;
    plans.push({ owner: "redis", name: SECRETS.redisUsers, data: users });
  }
  // Airflow gets its Valkey credentials inside its broker URL instead.
  for (const user of redisUsers.filter((u) => u !== "airflow")) {
    plans.push({
      owner: user,
      name: SECRETS.redisUser(user),
      data: { username: user, password: need(creds, REDIS_PASSWORD[user]) },
    });
  }
  for (const [name, c] of Object.entries(customers)) {
    plans.push({
      owner: "postgresql",
      name: SECRETS.postgresqlCustomer(name),
      type: basicAuth,
      data: { username: customerDatabase(name), password: c.databasePassword },
      readByPostgresql: true,
    });
    if (c.mlflowPassword)
      plans.push({
        owner: "postgresql",
        name: SECRETS.postgresqlCustomerMlflow(name),
        type: basicAuth,
        data: { username: customerMlflowDatabase(name), password: c.mlflowPassword },
        readByPostgresql: true,
      });
  }
  if (enabled("monitoring")) {
    plans.push({
      owner: "monitoring",
      name: SECRETS.grafanaAdmin,
      data: { "admin-user": "admin", "admin-password": need(creds, "grafanaAdminPassword") },
    });
  }
  if (enabled("airflow")) {
    const redis = endpoint("redis");
    plans.push(
      {
        owner: "airflow",
        name: SECRETS.airflowMetadata,
        data: { connection: postgresUrl("postgresql", "airflow", creds, postgresql) },
      },
      {
        owner: "airflow",
        name: SECRETS.airflowBroker,
        data: {
          connection: pulumi.secret(
            pulumi.interpolate`redis://airflow:${urlPart(need(creds, "airflowRedisPassword"))}@${redis.host}:${redis.port}/${REDIS_DATABASES.airflow}`,
          ),
        },
      },
      {
        owner: "airflow",
        name: SECRETS.airflowKeys,
        data: {
          "fernet-key": need(creds, "airflowFernetKey"),
          "api-secret-key": need(creds, "airflowApiSecretKey"),
          "jwt-secret": need(creds, "airflowJwtSecret"),
        },
      },
    );
  }
  if (enabled("n8n")) {
    plans.push({
      owner: "n8n",
      name: SECRETS.n8nEncryptionKey,
      data: { N8N_ENCRYPTION_KEY: need(creds, "n8nEncryptionKey") },
    });
  }
  if (enabled("langflow")) {
    plans.push(
      {
        owner: "langflow",
        name: SECRETS.langflowAuth,
        data: {
          "secret-key": need(creds, "langflowSecretKey"),
          superuser: "admin",
          "superuser-password": need(creds, "langflowSuperuserPassword"),
        },
      },
      {
        owner: "langflow",
        name: SECRETS.langflowDatabase,
        data: { "database-url": postgresUrl("postgresql", "langflow", creds, postgresql) },
      },
    );
  }
  if (enabled("langfuse")) {
    plans.push(
      {
        owner: "langfuse",
        name: SECRETS.langfuseKeys,
        data: {
          salt: need(creds, "langfuseSalt"),
          "encryption-key": need(creds, "langfuseEncryptionKey"),
          "nextauth-secret": need(creds, "langfuseNextauthSecret"),
          "admin-password": need(creds, "langfuseAdminPassword"),
        },
      },
      {
        owner: "langfuse",
        name: SECRETS.langfuseClickhouse,
        data: { password: need(creds, "langfuseClickhousePassword") },
      },
      {
        owner: "langfuse",
        name: SECRETS.langfuseS3,
        data: {
          "root-user": "langfuse",
          "root-password": need(creds, "langfuseS3Password"),
          seaweedfs_s3_config: pulumi.secret(
            need(creds, "langfuseS3Password").apply((password) =>
              JSON.stringify({
                identities: [
                  {
                    name: "langfuse",
                    credentials: [{ accessKey: "langfuse", secretKey: password }],
                    actions: ["Admin", "Read", "Write", "List", "Tagging"],
                  },
                ],
              }),
            ),
          ),
        },
      },
    );
  }
  return plans;
}
