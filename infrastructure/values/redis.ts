import { JsonObject } from "../../lib/json";
import { customerKeyPrefix, REDIS_USERS, RedisUser, SECRETS } from "../layout";
import { imageParts, infraPlacement, pullSecretNames, resources, ValuesContext, volumeSize } from "./context";

/** Each consumer's logical database, so their keys never meet. */
export const REDIS_DATABASES: Record<RedisUser, number> = { airflow: 0, n8n: 1, langfuse: 2 };

/** What an application user may do: everything on data, nothing on the server itself. */
export const APP_ACL = "~* &* +@all -@admin -flushall -flushdb";

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
  for (const u of redisUsers(ctx)) aclUsers[u] = { permissions: APP_ACL };
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
