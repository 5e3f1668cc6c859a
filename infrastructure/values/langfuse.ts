import { JsonObject } from "../../lib/json";
import { endpoint, postgresqlEndpoint, INFRASTRUCTURE_NAMESPACE, SECRETS } from "../layout";
import {
  fractionOf,
  image,
  imageParts,
  infraPlacement,
  pullSecretRefs,
  resources,
  ValuesContext,
  volumeSize,
} from "./context";
import { REDIS_DATABASES } from "./redis";
import { langfuseSso } from "./sso";

/** Login of the first Langfuse user; its password is key `admin-password` of es1-langfuse-keys. */
export const LANGFUSE_ADMIN_EMAIL = "admin@es1.local";

/** The organisation Langfuse's headless initialisation creates (and SSO users join). */
export const LANGFUSE_ORG = "es1";

function keyRef(key: string): JsonObject {
  return { secretKeyRef: { name: SECRETS.langfuseKeys, key } };
}

/**
 * Langfuse v4 (chart 2.x): the shared PostgreSQL and Valkey, its own ClickHouse (through the
 * ClickHouse operator) and S3 store (SeaweedFS) in-cluster, every key from our Secrets (the
 * chart would otherwise generate them, and a new salt or encryption key loses data), telemetry off.
 */
export function langfuseValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.langfuse;
  const place = infraPlacement(ctx);
  const pg = postgresqlEndpoint(ctx.postgresqlCluster);
  const redis = endpoint("redis");
  const storage = volumeSize(ctx, "langfuse");
  const sso = langfuseSso(ctx, LANGFUSE_ORG);
  return {
    fullnameOverride: "es1-langfuse",
    // Reaches the SeaweedFS sub-chart (the Langfuse pods take langfuse.image.pullSecrets).
    global: { imagePullSecrets: pullSecretRefs(ctx) },
    langfuse: {
      salt: keyRef("salt"),
      encryptionKey: keyRef("encryption-key"),
      nextauth: {
        secret: keyRef("nextauth-secret"),
        // Sign-in redirects go to the public URL when Langfuse has a route (es1:access).
        url: ctx.publicUrls?.langfuse ?? `http://${endpoint("langfuse").host}:${endpoint("langfuse").port}`,
      },
      features: { telemetryEnabled: false, signUpDisabled: sso.signUpDisabled },
      // es1:access.sso: the custom OIDC provider, password logins off (values/sso.ts).
      ...(sso.auth ? { auth: sso.auth } : {}),
      // Sign-up is off, so the first organisation and its admin are created at start (Langfuse's
      // headless initialisation); the password comes from our Secret.
      additionalEnv: [
        { name: "LANGFUSE_INIT_ORG_ID", value: LANGFUSE_ORG },
        { name: "LANGFUSE_INIT_ORG_NAME", value: "ES1" },
        { name: "LANGFUSE_INIT_USER_EMAIL", value: LANGFUSE_ADMIN_EMAIL },
        { name: "LANGFUSE_INIT_USER_NAME", value: "ES1 admin" },
        { name: "LANGFUSE_INIT_USER_PASSWORD", valueFrom: keyRef("admin-password") },
        ...sso.env,
      ],
      replicas: size.replicas,
      resources: resources(size.resources),
      image: { pullPolicy: "IfNotPresent", pullSecrets: pullSecretRefs(ctx) },
      web: { image: { repository: image(ctx, "docker.langfuse.com/langfuse/langfuse") } },
      worker: { image: { repository: image(ctx, "docker.langfuse.com/langfuse/langfuse-worker") } },
      ...place,
    },
    postgresql: {
      deploy: false,
      host: pg.host,
      port: pg.port,
      auth: {
        username: "langfuse",
        database: "langfuse",
        existingSecret: SECRETS.postgresqlRole("langfuse"),
        secretKeys: { userPasswordKey: "password" },
      },
    },
    redis: {
      deploy: false,
      host: redis.host,
      port: redis.port,
      auth: {
        username: "langfuse",
        database: REDIS_DATABASES.langfuse,
        existingSecret: SECRETS.redisUser("langfuse"),
        existingSecretPasswordKey: "password",
      },
    },
    clickhouse: {
      deploy: true,
      auth: { existingSecret: SECRETS.langfuseClickhouse, existingSecretKey: "password" },
      cluster: {
        replicas: 1,
        image: { repository: image(ctx, "docker.io/clickhouse/clickhouse-server") },
        storage: { size: storage, className: ctx.storageClass },
        ...place,
      },
      keeper: {
        // An odd number; three tolerate the loss of one.
        replicas: ctx.environment === "prod" ? 3 : 1,
        image: { repository: image(ctx, "docker.io/clickhouse/clickhouse-keeper") },
        storage: { size: fractionOf(storage, 0.2), className: ctx.storageClass },
        ...place,
      },
    },
    s3: {
      deploy: true,
      auth: {
        existingSecret: SECRETS.langfuseS3,
        rootUserSecretKey: "root-user",
        rootPasswordSecretKey: "root-password",
      },
      // The SeaweedFS chart takes one image for all its servers, at its top level (allInOne
      // has no image key of its own).
      image: imageParts(ctx, "docker.io/chrislusf/seaweedfs"),
      allInOne: {
        data: { size: storage, storageClass: ctx.storageClass },
        // SeaweedFS reads its identities (our root user and password) from this Secret's
        // `seaweedfs_s3_config` key; Pulumi writes it.
        s3: { existingConfigSecret: SECRETS.langfuseS3 },
        // The SeaweedFS chart renders these through `tpl`: it takes YAML text (JSON is YAML).
        nodeSelector: JSON.stringify(place.nodeSelector),
        tolerations: JSON.stringify(place.tolerations),
      },
    },
  };
}

/** cert-manager, which the ClickHouse operator needs for its webhook certificates. */
export function certManagerValues(ctx: ValuesContext): JsonObject {
  const place = infraPlacement(ctx);
  const part = (upstream: string): JsonObject => ({ image: { repository: image(ctx, upstream) }, ...place });
  return {
    fullnameOverride: "es1-cert-manager",
    crds: { enabled: true, keep: true },
    global: {
      imagePullSecrets: pullSecretRefs(ctx),
      // kube-system is not ours to write to on every cluster.
      leaderElection: { namespace: INFRASTRUCTURE_NAMESPACE },
    },
    ...part("quay.io/jetstack/cert-manager-controller"),
    webhook: part("quay.io/jetstack/cert-manager-webhook"),
    cainjector: part("quay.io/jetstack/cert-manager-cainjector"),
    acmesolver: { image: { repository: image(ctx, "quay.io/jetstack/cert-manager-acmesolver") } },
    startupapicheck: part("quay.io/jetstack/cert-manager-startupapicheck"),
    // The controller's certificate metrics feed the ES1 certificate alerts (infrastructure/observability).
    prometheus: { enabled: true, servicemonitor: { enabled: ctx.monitoring } },
    // The gatewayHTTPRoute solver of ACME issuers (docs/access.md); needs the Gateway API CRDs first.
    ...(ctx.certManagerGatewayApi ? { config: { enableGatewayAPI: true } } : {}),
  };
}

/** The ClickHouse operator, which runs Langfuse's ClickHouse and Keeper. */
export function clickhouseOperatorValues(ctx: ValuesContext): JsonObject {
  return {
    fullnameOverride: "es1-clickhouse-operator",
    manager: {
      image: { repository: image(ctx, "ghcr.io/clickhouse/clickhouse-operator") },
      imagePullSecrets: pullSecretRefs(ctx),
      ...infraPlacement(ctx),
    },
    // cert-manager is its own release.
    certManager: { install: false },
  };
}
