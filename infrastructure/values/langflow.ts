import { JsonObject } from "../../lib/json";
import { SECRETS } from "../layout";
import { image, infraPlacement, pullSecretRefs, resources, ValuesContext } from "./context";

/** PersistentVolumeClaim Pulumi makes for Langflow's config directory. */
export const LANGFLOW_CLAIM = "es1-langflow";

/**
 * Langflow (HelmForge chart): flows in the shared PostgreSQL, secret key and superuser from our
 * Secret (a generated key would make stored credentials unreadable), telemetry off.
 */
export function langflowValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.langflow;
  return {
    fullnameOverride: "es1-langflow",
    replicaCount: size.replicas,
    image: { repository: image(ctx, "docker.io/langflowai/langflow") },
    imagePullSecrets: pullSecretRefs(ctx),
    auth: {
      existingSecret: SECRETS.langflowAuth,
      secretKeyKey: "secret-key",
      superuserKey: "superuser",
      superuserPasswordKey: "superuser-password",
    },
    database: { mode: "external", existingSecret: SECRETS.langflowDatabase, urlKey: "database-url" },
    persistence: { enabled: true, existingClaim: LANGFLOW_CLAIM },
    app: { env: [{ name: "DO_NOT_TRACK", value: "true" }] },
    resources: resources(size.resources),
    ...infraPlacement(ctx),
    // The chart leaves both empty; the image runs as uid 1000.
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
}
