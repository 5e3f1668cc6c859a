import { JsonObject } from "../../lib/json";
import { SECRETS } from "../layout";
import { fractionOf, image, infraPlacement, resources, ValuesContext, volumeSize } from "./context";

/**
 * Apache Airflow (official chart), CeleryExecutor on the shared PostgreSQL and Valkey. Every
 * credential comes from a Secret Pulumi made: the chart's own generated keys would change on
 * upgrade (API/JWT) or be lost on reinstall (Fernet).
 */
export function airflowValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.airflow;
  const res = resources(size.resources);
  const registry: JsonObject = {};
  if (ctx.imagePullSecrets.length > 0) registry.secretName = ctx.imagePullSecrets[0];
  return {
    executor: "CeleryExecutor",
    postgresql: { enabled: false },
    redis: { enabled: false },
    data: { metadataSecretName: SECRETS.airflowMetadata, brokerUrlSecretName: SECRETS.airflowBroker },
    fernetKeySecretName: SECRETS.airflowKeys,
    apiSecretKeySecretName: SECRETS.airflowKeys,
    jwtSecretName: SECRETS.airflowKeys,
    defaultAirflowRepository: image(ctx, "docker.io/apache/airflow"),
    images: {
      statsd: { repository: image(ctx, "quay.io/prometheus/statsd-exporter") },
      gitSync: { repository: image(ctx, "registry.k8s.io/git-sync/git-sync") },
      redis: { repository: image(ctx, "docker.io/library/redis") },
      pgbouncer: { repository: image(ctx, "docker.io/apache/airflow") },
      pgbouncerExporter: { repository: image(ctx, "docker.io/apache/airflow") },
    },
    registry,
    ...infraPlacement(ctx),
    // Plain Jobs instead of hooks: with hooks, Helm's wait for the pods (which wait for the
    // migration) and the post-install migration hook block each other.
    migrateDatabaseJob: { useHelmHooks: false },
    // The chart's default user has a well-known password, and Airflow 3's default auth manager
    // does not use it: no user is created (docs/components.md, Airflow).
    createUserJob: { enabled: false, useHelmHooks: false },
    scheduler: { resources: res },
    apiServer: { resources: res },
    workers: {
      replicas: size.replicas,
      resources: res,
      persistence: { enabled: true, size: volumeSize(ctx, "airflow"), storageClassName: ctx.storageClass },
    },
    triggerer: {
      resources: res,
      persistence: {
        enabled: true,
        size: fractionOf(volumeSize(ctx, "airflow"), 0.5),
        storageClassName: ctx.storageClass,
      },
    },
    statsd: { enabled: true, serviceMonitor: { enabled: ctx.monitoring } },
    // No usage reports to the Airflow project: installs must work without internet access.
    config: { usage_data_collection: { enabled: "False" } },
  };
}
