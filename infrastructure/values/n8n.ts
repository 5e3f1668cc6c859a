import { JsonObject } from "../../lib/json";
import { endpoint, postgresqlEndpoint, SECRETS } from "../layout";
import { image, infraPlacement, pullSecretRefs, resources, ValuesContext } from "./context";
import { REDIS_DATABASES, REDIS_KEY_PREFIXES } from "./redis";

/**
 * n8n (community-charts) in queue mode: workflows in the shared PostgreSQL, the queue in Valkey,
 * the encryption key of stored credentials from our Secret, and no phoning home.
 */
export function n8nValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.n8n;
  const pg = postgresqlEndpoint(ctx.postgresqlCluster);
  const redis = endpoint("redis");
  const res = resources(size.resources);
  // Every key n8n writes starts with `n8n:` (queue and cache), the only keys its Valkey user may touch.
  const prefix = (REDIS_KEY_PREFIXES.n8n ?? "").replace(/:$/, "");
  const env: JsonObject = { QUEUE_BULL_PREFIX: prefix, N8N_REDIS_KEY_PREFIX: prefix };
  return {
    fullnameOverride: "es1-n8n",
    image: { repository: image(ctx, "docker.io/n8nio/n8n") },
    taskRunners: { external: { image: { repository: image(ctx, "docker.io/n8nio/runners") } } },
    imagePullSecrets: pullSecretRefs(ctx),
    db: { type: "postgresdb" },
    externalPostgresql: {
      host: pg.host,
      port: pg.port,
      database: "n8n",
      // The chart reads only the password from the Secret; the user is a plain value.
      username: "n8n",
      existingSecret: SECRETS.postgresqlRole("n8n"),
      existingSecretPasswordKey: "password",
    },
    externalRedis: {
      host: redis.host,
      port: redis.port,
      database: REDIS_DATABASES.n8n,
      existingSecret: SECRETS.redisUser("n8n"),
      existingUsernameKey: "username",
      existingPasswordKey: "password",
    },
    existingEncryptionKeySecret: SECRETS.n8nEncryptionKey,
    // Multi-main needs an n8n enterprise licence: one main, the work scales with workers.
    main: { count: 1, resources: res, extraEnvVars: { ...env } },
    worker: { mode: "queue", count: size.replicas, resources: res, extraEnvVars: { ...env } },
    ...infraPlacement(ctx),
    diagnostics: { enabled: false },
    versionNotifications: { enabled: false },
    serviceMonitor: { enabled: ctx.monitoring, labels: { "app.kubernetes.io/part-of": "es1" } },
  };
}
