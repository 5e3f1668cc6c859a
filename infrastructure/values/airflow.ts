import { JsonObject } from "../../lib/json";
import { releaseName } from "../catalog";
import { INFRASTRUCTURE_NAMESPACE, SECRETS } from "../layout";
import { REDIS_KEY_PREFIXES } from "./redis";
import { fractionOf, image, infraPlacement, resources, ValuesContext, volumeSize } from "./context";
import { airflowSso } from "./sso";

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
  // es1:access.sso: the API server's webserver_config.py and the client secret (values/sso.ts).
  const sso = airflowSso(ctx);
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
    apiServer: {
      resources: res,
      ...(sso.apiServerConfig !== undefined ? { apiServerConfig: sso.apiServerConfig, env: sso.env } : {}),
    },
    // Chart 1.20+ reads Celery workers' settings under workers.celery (workers.* is deprecated).
    workers: {
      celery: {
        replicas: size.replicas,
        resources: res,
        persistence: { enabled: true, size: volumeSize(ctx, "airflow"), storageClassName: ctx.storageClass },
      },
    },
    triggerer: {
      resources: res,
      persistence: {
        enabled: true,
        size: fractionOf(volumeSize(ctx, "airflow"), 0.5),
        storageClassName: ctx.storageClass,
      },
    },
    // The chart has no ServiceMonitor of its own: airflowStatsdMonitor scrapes this exporter.
    statsd: { enabled: true },
    // No usage reports to the Airflow project: installs must work without internet access.
    config: {
      usage_data_collection: { enabled: "False" },
      // Celery's keys and channels on Valkey start with `airflow:`, the only keys its user may touch.
      celery_broker_transport_options: { global_keyprefix: REDIS_KEY_PREFIXES.airflow ?? "" },
    },
  };
}

/** A namespaced custom resource as plain data, for Pulumi to create. */
export interface CustomResourceData {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: JsonObject;
}

/**
 * The ServiceMonitor for Airflow's StatsD exporter, or undefined when nothing would read it
 * (monitoring or Airflow off). The chart (1.21.0) labels its statsd Service `tier: airflow`,
 * `component: statsd`, `release: <release>` and names the metrics port `statsd-scrape`
 * (templates/statsd/statsd-service.yaml); the exporter serves /metrics.
 */
export function airflowStatsdMonitor(ctx: ValuesContext): CustomResourceData | undefined {
  if (!ctx.monitoring || !ctx.components.airflow.enabled) return undefined;
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: {
      name: "es1-airflow-statsd",
      namespace: INFRASTRUCTURE_NAMESPACE,
      labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
    },
    spec: {
      selector: {
        matchLabels: { tier: "airflow", component: "statsd", release: releaseName("airflow") },
      },
      endpoints: [{ port: "statsd-scrape", path: "/metrics" }],
    },
  };
}
