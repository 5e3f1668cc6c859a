import { Json, JsonObject } from "../../lib/json";
import { postgresqlEndpoint, INFRASTRUCTURE_NAMESPACE, SECRETS } from "../layout";
import { image, infraPlacement, pullSecretRefs, resources, ValuesContext } from "./context";
import { mlflowSso } from "./sso";

/** PersistentVolumeClaim Pulumi makes for MLflow's artifacts (the chart has none). */
export const MLFLOW_ARTIFACTS_CLAIM = "es1-mlflow-artifacts";
const ARTIFACTS_MOUNT = "/mlflow/data";
/** The port the MLflow server listens on (chart mlflow 1.11.5, service.containerPort). */
export const MLFLOW_CONTAINER_PORT = 5000;

/** One MLflow server of the mlflow chart: the shared one, or a customer's own (platform/mlflow.ts). */
export interface MlflowServer {
  /** fullnameOverride: the Deployment, Service and ServiceAccount name. */
  fullname: string;
  replicas: number;
  resources: JsonObject;
  /** Its PostgreSQL database, and the basic-auth Secret (`username`, `password`) of its role. */
  database: { host: string; port: number; name: string; secret: string };
  /** The PersistentVolumeClaim of its artifacts (ReadWriteOnce). */
  artifactsClaim: string;
  placement: { nodeSelector: JsonObject; tolerations: Json[] };
  /** What image() and pullSecretRefs() read. */
  images: Pick<ValuesContext, "registry" | "imagePullSecrets">;
  /** Prometheus Operator CRDs exist: a ServiceMonitor in `namespace`. */
  monitoring: boolean;
  namespace: string;
  /** Name of the container port (the chart's default `mlflow`). */
  portName?: string;
  /**
   * Runs under the `restricted` Pod Security level (customer namespaces): the chart's pod security
   * context (fsGroup, kept: Helm merges maps) gains the RuntimeDefault seccomp profile it lacks.
   */
  restricted?: boolean;
  /** Hosts it is reached by from outside the cluster (its route), besides its Service's names. */
  publicHosts?: string[];
}

/**
 * The Host headers the server accepts (MLflow 3.5+'s DNS-rebinding check, MLFLOW_SERVER_ALLOWED_HOSTS;
 * by default only localhost and private IP addresses, which refuses every client that names the
 * Service): its Service's in-cluster names, its public hosts and localhost, each with any port.
 * The health endpoints the probes call are not checked.
 */
export function mlflowAllowedHosts(
  fullname: string,
  namespace: string,
  publicHosts: string[] = [],
): string[] {
  const svc = `${fullname}.${namespace}.svc`;
  const names = [
    fullname,
    `${fullname}.${namespace}`,
    svc,
    `${svc}.cluster.local`,
    ...publicHosts,
    "localhost",
  ];
  return names.flatMap((n) => [n, `${n}:*`]);
}

/** Values of the mlflow chart (community-charts) for one server: tracking data in PostgreSQL, artifacts on a volume. */
export function mlflowServerValues(s: MlflowServer): JsonObject {
  const ctx = s.images;
  return {
    fullnameOverride: s.fullname,
    replicaCount: s.replicas,
    // The artifact volume is ReadWriteOnce.
    strategy: { type: "Recreate" },
    image: { repository: image(ctx, "docker.io/burakince/mlflow") },
    initImages: {
      dbchecker: { repository: image(ctx, "docker.io/library/busybox") },
      mlflowDbMigration: { repository: image(ctx, "docker.io/burakince/mlflow") },
      iniFileInitializer: { repository: image(ctx, "docker.io/library/busybox") },
    },
    imagePullSecrets: pullSecretRefs(ctx),
    service: { port: 80, ...(s.portName ? { containerPortName: s.portName } : {}) },
    serverAllowedHosts: mlflowAllowedHosts(s.fullname, s.namespace, s.publicHosts),
    backendStore: {
      databaseMigration: true,
      databaseConnectionCheck: true,
      postgres: { enabled: true, host: s.database.host, port: s.database.port, database: s.database.name },
      existingDatabaseSecret: { name: s.database.secret, usernameKey: "username", passwordKey: "password" },
    },
    artifactRoot: {
      proxiedArtifactStorage: true,
      defaultArtifactsDestination: `${ARTIFACTS_MOUNT}/mlartifacts`,
    },
    extraVolumes: [{ name: "artifacts", persistentVolumeClaim: { claimName: s.artifactsClaim } }],
    extraVolumeMounts: [{ name: "artifacts", mountPath: ARTIFACTS_MOUNT }],
    resources: s.resources,
    ...(s.restricted ? { podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } } } : {}),
    ...s.placement,
    serviceMonitor: {
      enabled: s.monitoring,
      namespace: s.namespace,
      // Helm merges maps: null drops the chart's default `release: prometheus` label.
      labels: { release: null, "app.kubernetes.io/part-of": "es1" },
    },
    telemetry: { enabled: false },
  };
}

/** The shared MLflow (for the shared applications, Airflow): its database `mlflow` in the shared PostgreSQL. */
export function mlflowValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.mlflow;
  const pg = postgresqlEndpoint(ctx.postgresqlCluster);
  const server = mlflowServerValues({
    fullname: "es1-mlflow",
    replicas: size.replicas,
    resources: resources(size.resources),
    database: { host: pg.host, port: pg.port, name: "mlflow", secret: SECRETS.postgresqlRole("mlflow") },
    artifactsClaim: MLFLOW_ARTIFACTS_CLAIM,
    placement: infraPlacement(ctx),
    images: ctx,
    monitoring: ctx.monitoring,
    namespace: INFRASTRUCTURE_NAMESPACE,
    ...(ctx.publicUrls?.mlflow ? { publicHosts: [new URL(ctx.publicUrls.mlflow).host] } : {}),
  });
  // es1:access.sso: the chart's oauth2-proxy sidecar in front of the shared UI (values/sso.ts);
  // customers' own MLflow is reached only from their namespace.
  return { ...server, ...mlflowSso(ctx) };
}
