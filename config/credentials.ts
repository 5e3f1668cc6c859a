import type { ComponentName } from "./sizing";

/**
 * What a credential must look like: a password (letters and digits), an Airflow Fernet key
 * (32 bytes, URL-safe base64) or a 256-bit key as 64 hex digits (Langfuse).
 */
export type CredentialFormat = "password" | "fernet" | "hex256";

export interface CredentialSpec {
  /** The component that uses it; it is only created when that component is on. */
  component: ComponentName;
  format: CredentialFormat;
}

/**
 * Every credential the program creates. Each may be set in `es1:secrets.<name>` (encrypted);
 * otherwise it is generated once by @pulumi/random and kept in state.
 */
export const CREDENTIALS = {
  postgresqlSuperuserPassword: { component: "postgresql", format: "password" },
  redisDefaultPassword: { component: "redis", format: "password" },
  grafanaAdminPassword: { component: "monitoring", format: "password" },
  airflowDatabasePassword: { component: "airflow", format: "password" },
  airflowRedisPassword: { component: "airflow", format: "password" },
  airflowFernetKey: { component: "airflow", format: "fernet" },
  airflowApiSecretKey: { component: "airflow", format: "password" },
  airflowJwtSecret: { component: "airflow", format: "password" },
  mlflowDatabasePassword: { component: "mlflow", format: "password" },
  n8nDatabasePassword: { component: "n8n", format: "password" },
  n8nRedisPassword: { component: "n8n", format: "password" },
  n8nEncryptionKey: { component: "n8n", format: "password" },
  langflowDatabasePassword: { component: "langflow", format: "password" },
  langflowSecretKey: { component: "langflow", format: "password" },
  langflowSuperuserPassword: { component: "langflow", format: "password" },
  langfuseDatabasePassword: { component: "langfuse", format: "password" },
  langfuseRedisPassword: { component: "langfuse", format: "password" },
  langfuseSalt: { component: "langfuse", format: "password" },
  langfuseEncryptionKey: { component: "langfuse", format: "hex256" },
  langfuseNextauthSecret: { component: "langfuse", format: "password" },
  langfuseAdminPassword: { component: "langfuse", format: "password" },
  langfuseClickhousePassword: { component: "langfuse", format: "password" },
  langfuseS3Password: { component: "langfuse", format: "password" },
} as const satisfies Record<string, CredentialSpec>;

export type SecretName = keyof typeof CREDENTIALS;
export const SECRET_NAMES = Object.keys(CREDENTIALS) as SecretName[];

/** What a configured value of each format must match, and how to make one. */
export const CREDENTIAL_FORMATS: Record<CredentialFormat, { re: RegExp; says: string }> = {
  password: { re: /^\S{16,}$/, says: "at least 16 characters, no whitespace" },
  fernet: {
    re: /^[A-Za-z0-9_-]{43}=$/,
    says: "a Fernet key: 32 bytes in URL-safe base64 (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')",
  },
  hex256: { re: /^[0-9a-f]{64}$/, says: "64 lowercase hex digits (openssl rand -hex 32)" },
};
