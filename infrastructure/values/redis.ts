import { JsonObject } from "../../lib/json";
import { customerKeyPrefix, REDIS_USERS, RedisUser, SECRETS } from "../layout";
import { imageParts, infraPlacement, pullSecretNames, resources, ValuesContext, volumeSize } from "./context";

/** Each consumer's logical database, so their keys never meet. */
export const REDIS_DATABASES: Record<RedisUser, number> = { airflow: 0, n8n: 1, langfuse: 2 };

/**
 * The key prefix each shared application is set to use (its values builder passes it on), or
 * undefined where the application has none it applies to every key (docs/customers.md, Isolation).
 * n8n: QUEUE_BULL_PREFIX for its Bull queue, N8N_REDIS_KEY_PREFIX for its cache and locks.
 * Airflow: kombu's `global_keyprefix` broker transport option, which prefixes every key and
 * channel Celery's Redis transport uses (queues, `_kombu.binding.*`, `unacked*`).
 * Langfuse: none documented for the version the chart pins.
 */
export const REDIS_KEY_PREFIXES: Record<RedisUser, string | undefined> = {
  airflow: "airflow:",
  n8n: "n8n:",
  langfuse: undefined,
};

/**
 * What an application user may do: everything on its own keys (every key where it has no
 * prefix), nothing on the server itself. Channels stay open (`&*`): kombu and Bull subscribe to
 * channel patterns, which Valkey compares literally with the user's channel rules, so a prefix
 * rule would refuse them.
 */
export function appAcl(user: RedisUser): string {
  const prefix = REDIS_KEY_PREFIXES[user];
  return `~${prefix === undefined ? "" : prefix}* &* +@all -@admin -flushall -flushdb`;
}

export function redisUsers(ctx: ValuesContext): RedisUser[] {
  return REDIS_USERS.filter((u) => ctx.components[u].enabled);
}

/**
 * Valkey (official chart): ACL users whose passwords come from one Secret (a key per user),
 * persistence on, and no eviction, because Celery, BullMQ and Langfuse keep queues in it.
 */
export function redisValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.redis;
  const aclUsers: JsonObject = { default: { permissions: "~* &* +@all" } };
  for (const u of redisUsers(ctx)) aclUsers[u] = { permissions: appAcl(u) };
  // Each customer reads and writes only its own keys and channels, and no server commands.
  for (const c of ctx.customers.filter((x) => x.state === "present")) {
    const prefix = customerKeyPrefix(c.name);
    // SCAN and RANDOMKEY would list other customers' key names (KEYS is in @dangerous).
    aclUsers[c.name] = { permissions: `~${prefix}* &${prefix}* +@all -@dangerous -@admin -scan -randomkey` };
  }
  const global: JsonObject = { imagePullSecrets: pullSecretNames(ctx) };
  if (ctx.registry) global.imageRegistry = ctx.registry;
  return {
    fullnameOverride: "es1-redis",
    global,
    image: imageParts(ctx, "docker.io/valkey/valkey"),
    auth: { enabled: true, usersExistingSecret: SECRETS.redisUsers, aclUsers },
    valkeyConfig: "maxmemory-policy noeviction\nappendonly yes\n",
    dataStorage: {
      enabled: true,
      requestedSize: volumeSize(ctx, "redis"),
      className: ctx.storageClass,
      // The volume outlives an uninstall of the release.
      keepPvc: true,
    },
    // One ReadWriteOnce volume: a rolling update would wait forever for the old pod's volume.
    deploymentStrategy: "Recreate",
    resources: resources(size.resources),
    ...infraPlacement(ctx),
    metrics: {
      enabled: ctx.monitoring,
      exporter: { image: imageParts(ctx, "ghcr.io/oliver006/redis_exporter") },
      serviceMonitor: { enabled: ctx.monitoring },
    },
  };
}
