import type { ComponentName } from "./sizing";

/**
 * What a credential must look like: a password (letters and digits), an Airflow Fernet key
 * (32 bytes, URL-safe base64) or a 256-bit key as 64 hex digits (Langfuse).
 */
export type CredentialFormat = "password" | "fernet" | "hex256";

/**
 * What a credential guards, which decides whether it may ever change (docs/components.md#secrets):
 * - `password`: a login; `es1 secrets rotate` replaces it and restarts the workloads that read it;
 * - `session`: signs sessions or tokens; rotating it only signs everyone out;
 * - `initial`: the application stores it on its first start and ignores later changes (an admin's
 *   first password): change it in the application, not here;
 * - `data-key`: encrypts or hashes stored data; a new value makes that data unreadable, so a
 *   change is refused (no re-encryption path exists in es1).
 */
export type CredentialKind = "password" | "session" | "initial" | "data-key";

export interface CredentialSpec {
  /** The component that uses it; it is only created when that component is on. */
  component: ComponentName;
  format: CredentialFormat;
  kind: CredentialKind;
  /** For a data-key: what it protects, for the message that refuses a change. */
  protects?: string;
  /** For a data-key: the Secret of es1-infrastructure and the key in it that holds the deployed value. */
  deployedIn?: { secret: string; key: string };
}

/**
 * Every credential the program creates. Each may be set in `es1:secrets.<name>` (encrypted);
 * otherwise it is generated once by @pulumi/random and kept in state.
 */
export const CREDENTIALS = {
  postgresqlSuperuserPassword: { component: "postgresql", format: "password", kind: "password" },
  redisDefaultPassword: { component: "redis", format: "password", kind: "password" },
  grafanaAdminPassword: { component: "monitoring", format: "password", kind: "initial" },
  airflowDatabasePassword: { component: "airflow", format: "password", kind: "password" },
  airflowRedisPassword: { component: "airflow", format: "password", kind: "password" },
  airflowFernetKey: {
    component: "airflow",
    format: "fernet",
    kind: "data-key",
    protects: "Airflow encrypts its connections and variables with it",
    deployedIn: { secret: "es1-airflow-keys", key: "fernet-key" },
  },
  airflowApiSecretKey: { component: "airflow", format: "password", kind: "session" },
  airflowJwtSecret: { component: "airflow", format: "password", kind: "session" },
  mlflowDatabasePassword: { component: "mlflow", format: "password", kind: "password" },
  n8nDatabasePassword: { component: "n8n", format: "password", kind: "password" },
  n8nRedisPassword: { component: "n8n", format: "password", kind: "password" },
  n8nEncryptionKey: {
    component: "n8n",
    format: "password",
    kind: "data-key",
    protects: "n8n encrypts the credentials of every workflow with it",
    deployedIn: { secret: "es1-n8n-encryption-key", key: "N8N_ENCRYPTION_KEY" },
  },
  langflowDatabasePassword: { component: "langflow", format: "password", kind: "password" },
  langflowSecretKey: {
    component: "langflow",
    format: "password",
    kind: "data-key",
    protects: "Langflow encrypts stored API keys and variables with it",
    deployedIn: { secret: "es1-langflow-auth", key: "secret-key" },
  },
  langflowSuperuserPassword: { component: "langflow", format: "password", kind: "initial" },
  langfuseDatabasePassword: { component: "langfuse", format: "password", kind: "password" },
  langfuseRedisPassword: { component: "langfuse", format: "password", kind: "password" },
  langfuseSalt: {
    component: "langfuse",
    format: "password",
    kind: "data-key",
    protects: "Langfuse hashes its API keys with it, so every issued key would stop working",
    deployedIn: { secret: "es1-langfuse-keys", key: "salt" },
  },
  langfuseEncryptionKey: {
    component: "langfuse",
    format: "hex256",
    kind: "data-key",
    protects: "Langfuse encrypts stored LLM API keys and integration secrets with it",
    deployedIn: { secret: "es1-langfuse-keys", key: "encryption-key" },
  },
  langfuseNextauthSecret: { component: "langfuse", format: "password", kind: "session" },
  langfuseAdminPassword: { component: "langfuse", format: "password", kind: "initial" },
  langfuseClickhousePassword: { component: "langfuse", format: "password", kind: "password" },
  langfuseS3Password: { component: "langfuse", format: "password", kind: "password" },
} as const satisfies Record<string, CredentialSpec>;

export type SecretName = keyof typeof CREDENTIALS;
export const SECRET_NAMES = Object.keys(CREDENTIALS) as SecretName[];

/** The catalog entry of a credential, typed as the interface (optional fields included). */
export function credentialSpec(name: SecretName): CredentialSpec {
  return CREDENTIALS[name];
}

/** Whether `es1 secrets rotate` may replace it: logins and session keys, never data keys. */
export function isRotatable(name: SecretName): boolean {
  const kind = credentialSpec(name).kind;
  return kind === "password" || kind === "session";
}

/** Name of the @pulumi/random resource that generates a credential not set in config. */
export function credentialResourceName(name: SecretName): string {
  return name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
}

/** What a configured value of each format must match, and how to make one. */
export const CREDENTIAL_FORMATS: Record<CredentialFormat, { re: RegExp; says: string }> = {
  password: { re: /^\S{16,}$/, says: "at least 16 characters, no whitespace" },
  fernet: {
    re: /^[A-Za-z0-9_-]{43}=$/,
    says: "a Fernet key: 32 bytes in URL-safe base64 (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')",
  },
  hex256: { re: /^[0-9a-f]{64}$/, says: "64 lowercase hex digits (openssl rand -hex 32)" },
};
