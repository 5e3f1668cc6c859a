import { JsonObject } from "../../lib/json";
import { postgresqlEndpoint, INFRASTRUCTURE_NAMESPACE, SECRETS } from "../layout";
import { image, infraPlacement, pullSecretRefs, resources, ValuesContext } from "./context";
import { mlflowSso } from "./sso";

/** PersistentVolumeClaim Pulumi makes for MLflow's artifacts (the chart has none). */
export const MLFLOW_ARTIFACTS_CLAIM = "es1-mlflow-artifacts";
const ARTIFACTS_MOUNT = "/mlflow/data";

/** MLflow (community-charts): tracking data in the shared PostgreSQL, artifacts on a volume. */
export function mlflowValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.mlflow;
  const pg = postgresqlEndpoint(ctx.postgresqlCluster);
  return {
    fullnameOverride: "es1-mlflow",
    replicaCount: size.replicas,
    // The artifact volume is ReadWriteOnce.
    strategy: { type: "Recreate" },
    image: { repository: image(ctx, "docker.io/burakince/mlflow") },
    initImages: {
      dbchecker: { repository: image(ctx, "docker.io/library/busybox") },
      mlflowDbMigration: { repository: image(ctx, "docker.io/burakince/mlflow") },
      iniFileInitializer: { repository: image(ctx, "docker.io/library/busybox") },
    },
    imagePullSecrets: pullSecretRefs(ctx),
    service: { port: 80 },
    backendStore: {
      databaseMigration: true,
      databaseConnectionCheck: true,
      postgres: { enabled: true, host: pg.host, port: pg.port, database: "mlflow" },
      existingDatabaseSecret: {
        name: SECRETS.postgresqlRole("mlflow"),
        usernameKey: "username",
        passwordKey: "password",
      },
    },
    artifactRoot: {
      proxiedArtifactStorage: true,
      defaultArtifactsDestination: `${ARTIFACTS_MOUNT}/mlartifacts`,
    },
    extraVolumes: [{ name: "artifacts", persistentVolumeClaim: { claimName: MLFLOW_ARTIFACTS_CLAIM } }],
    extraVolumeMounts: [{ name: "artifacts", mountPath: ARTIFACTS_MOUNT }],
    resources: resources(size.resources),
    ...infraPlacement(ctx),
    serviceMonitor: {
      enabled: ctx.monitoring,
      namespace: INFRASTRUCTURE_NAMESPACE,
      // Helm merges maps: null drops the chart's default `release: prometheus` label.
      labels: { release: null, "app.kubernetes.io/part-of": "es1" },
    },
    telemetry: { enabled: false },
    // es1:access.sso: the chart's oauth2-proxy sidecar in front of the UI (values/sso.ts).
    ...mlflowSso(ctx),
  };
}
