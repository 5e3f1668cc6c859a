import { ComponentName } from "../config/sizing";

export const INFRASTRUCTURE_NAMESPACE = "es1-infrastructure";

/** The namespace node-exporter runs in (host network and PID: the privileged Pod Security level). */
export const NODE_EXPORTER_NAMESPACE = "es1-node-exporter";

/**
 * Velero's namespace (volume backups, infrastructure/velero.ts): its node-agent reads every pod's
 * volumes from the host (hostPath, root), so it is privileged and alone here.
 */
export const VELERO_NAMESPACE = "es1-velero";
/** Velero's service account (server and node-agent; chart velero, serviceAccount.server.name). */
export const VELERO_SERVICE_ACCOUNT = { namespace: VELERO_NAMESPACE, name: "es1-velero-server" } as const;

/** Applications with a PostgreSQL role and database of their own (same name for both). */
export const DATABASE_USERS = ["airflow", "mlflow", "n8n", "langflow", "langfuse"] as const;
export type DatabaseUser = (typeof DATABASE_USERS)[number];

/** Applications with a Valkey ACL user of their own (same name as the user). */
export const REDIS_USERS = ["airflow", "n8n", "langfuse"] as const;
export type RedisUser = (typeof REDIS_USERS)[number];

/**
 * The Kubernetes Secrets of es1-infrastructure: names and the keys in them. Pulumi writes them;
 * charts read them through their existing-Secret settings. The keys are the ones each chart reads.
 */
export const SECRETS = {
  /** basic-auth: `username`, `password`. */
  postgresqlSuperuser: "es1-postgresql-superuser",
  /** basic-auth per application role: `username`, `password`. */
  postgresqlRole: (user: DatabaseUser) => `es1-postgresql-${user}`,
  /** basic-auth of a customer's role: `username`, `password`. */
  postgresqlCustomer: (customer: string) => `es1-postgresql-customer-${customer}`,
  /** basic-auth of the role of a customer's own MLflow: `username`, `password`. */
  postgresqlCustomerMlflow: (customer: string) => `es1-postgresql-customer-${customer}-mlflow`,
  /** One key per Valkey ACL user, named after the user (`default`, `airflow`, ..., each customer). */
  redisUsers: "es1-redis-users",
  /** Per consumer that takes its Valkey credentials separately (n8n, Langfuse): `username`, `password`. */
  redisUser: (user: RedisUser) => `es1-redis-${user}`,
  /** `admin-user`, `admin-password`. */
  grafanaAdmin: "es1-grafana-admin",
  /** `connection`: SQLAlchemy URL of Airflow's metadata database. */
  airflowMetadata: "es1-airflow-metadata",
  /** `connection`: Celery broker URL on Valkey. */
  airflowBroker: "es1-airflow-broker",
  /** `fernet-key`, `api-secret-key`, `jwt-secret`. */
  airflowKeys: "es1-airflow-keys",
  /** `N8N_ENCRYPTION_KEY`. */
  n8nEncryptionKey: "es1-n8n-encryption-key",
  /** `secret-key`, `superuser`, `superuser-password`. */
  langflowAuth: "es1-langflow-auth",
  /** `database-url`. */
  langflowDatabase: "es1-langflow-database",
  /** `salt`, `encryption-key`, `nextauth-secret`, `admin-password` (the first user's). */
  langfuseKeys: "es1-langfuse-keys",
  /** `password` of ClickHouse's default user. */
  langfuseClickhouse: "es1-langfuse-clickhouse",
  /** `root-user`, `root-password` of the bundled S3 store, and SeaweedFS's `seaweedfs_s3_config`. */
  langfuseS3: "es1-langfuse-s3",
  /**
   * es1:access.sso: `client-id`, `client-secret` (of the identity provider's client), and
   * `cookie-secret` (generated; oauth2-proxy signs MLflow's session cookies with it).
   */
  sso: "es1-sso",
} as const;

/** A Service in es1-infrastructure. */
export interface ServiceEndpoint {
  /** In-cluster DNS name: `<service>.es1-infrastructure.svc`. */
  host: string;
  port: number;
}

/** Services other namespaces use, by the component that serves them. */
export const SERVICES = {
  postgresql: { component: "postgresql", service: "es1-postgresql-rw", port: 5432 },
  redis: { component: "redis", service: "es1-redis", port: 6379 },
  prometheus: { component: "monitoring", service: "es1-monitoring-prometheus", port: 9090 },
  alertmanager: { component: "monitoring", service: "es1-monitoring-alertmanager", port: 9093 },
  grafana: { component: "monitoring", service: "es1-monitoring-grafana", port: 80 },
  airflow: { component: "airflow", service: "es1-airflow-api-server", port: 8080 },
  ollama: { component: "ollama", service: "es1-ollama", port: 11434 },
  mlflow: { component: "mlflow", service: "es1-mlflow", port: 80 },
  n8n: { component: "n8n", service: "es1-n8n", port: 5678 },
  langflow: { component: "langflow", service: "es1-langflow", port: 7860 },
  langfuse: { component: "langfuse", service: "es1-langfuse-web", port: 3000 },
} as const satisfies Record<string, { component: ComponentName; service: string; port: number }>;
export type ServiceName = keyof typeof SERVICES;

/** A customer's PostgreSQL role and database (identifiers without quoting: `-` becomes `_`). */
export function customerDatabase(customer: string): string {
  return customer.replace(/-/g, "_");
}

/**
 * The role and database of a customer's own MLflow (platform/mlflow.ts): apart from the
 * customer's, so the MLflow server holds no credential of the customer's own data. A customer
 * named `<other>-mlflow` beside `<other>` would take the same name: config/customers.ts refuses it.
 */
export function customerMlflowDatabase(customer: string): string {
  return `${customerDatabase(customer)}_mlflow`;
}

/** The key prefix a customer's Valkey user is limited to. */
export function customerKeyPrefix(customer: string): string {
  return `${customer}:`;
}

export function serviceHost(service: string): string {
  return `${service}.${INFRASTRUCTURE_NAMESPACE}.svc`;
}

export function endpoint(name: ServiceName): ServiceEndpoint {
  return { host: serviceHost(SERVICES[name].service), port: SERVICES[name].port };
}

/**
 * The read-write Service of a CloudNativePG cluster of the stack: `es1-postgresql` (the
 * `postgresql` endpoint), or a cluster restored from backup that the consumers were switched to.
 */
export function postgresqlEndpoint(cluster: string): ServiceEndpoint {
  return { host: serviceHost(`${cluster}-rw`), port: SERVICES.postgresql.port };
}
