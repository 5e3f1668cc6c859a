import { networkPolicyPeer, PlatformAccess } from "../access/plan";
import { NodePoolPlacement } from "../clusters/types";
import type { CustomerSettings } from "../config/customers";
import type { InfrastructureEndpoints } from "../infrastructure";
import { Json, JsonObject } from "../lib/json";
import type { AgentService } from "./license/format";
import { PLATFORM_SIZING } from "./sizing";

/** Names of the objects in a customer namespace that the chart reads. */
export function customerObjects(customer: string) {
  return {
    namespace: `${customer}-platform`,
    license: `${customer}-license`,
    database: `${customer}-database`,
    redis: `${customer}-redis`,
    /** The client secret of the manager UI's OpenID Connect client (customer file `sso`). */
    sso: `${customer}-sso`,
    /** The shipped ES1 license keys: rendered by the chart from its own files, not by the installer. */
    shippedKeys: `${PLATFORM_RELEASE}-license-keys`,
    /** Only on a test stack (es1:licenseTestKeys): its own keys, mounted beside the shipped ones. */
    testKeys: "es1-license-test-keys",
    /** Its Langfuse project's keys (`publicKey`, `secretKey`), when es1:langfuseKeys gives them. */
    langfuse: "es1-langfuse-project",
  } as const;
}

/** Pulumi names of a CustomerPlatform's children: `<customer>-<suffix>` (targets for `--customer`). */
export const PLATFORM_CHILDREN = [
  "namespace",
  "quota",
  "limits",
  "license",
  "database",
  "redis",
  // A test stack's keys (es1:licenseTestKeys), ConfigMap es1-license-test-keys; the name is kept
  // from when every stack's trusted keys lived there, so existing test stacks keep their URN.
  "license-keys",
  "registry-pull",
  // The manager UI's OIDC client secret (customer file `sso`), Secret <customer>-sso.
  "sso",
  "langfuse",
  "platform",
  // The customer's own MLflow (platform/mlflow.ts): its volume, database Secret, policy, release.
  "mlflow-artifacts",
  "mlflow-database",
  "mlflow-network",
  "mlflow",
] as const;

/** The Helm release of the platform chart in each customer namespace. */
export const PLATFORM_RELEASE = "es1-platform";

/** Everything the platform values depend on: plain data, so the builder is pure. */
export interface PlatformValuesInput {
  customer: CustomerSettings;
  /** Agent services the license covers among those requested. */
  agents: readonly AgentService[];
  endpoints: InfrastructureEndpoints;
  ingressClass: string;
  ingressAnnotations: Record<string, string>;
  /** The customer's hosts, gateway and certificates (access/plan.ts). */
  access: PlatformAccess;
  /** Placement on the cluster's platform pool, when it has one. */
  platformPool?: NodePoolPlacement;
  registry?: string;
  imagePullSecrets: string[];
  /** Prometheus Operator CRDs exist (the monitoring component is on). */
  monitoring: boolean;
  /** The stack trusts test keys (es1:licenseTestKeys): the chart mounts their ConfigMap too. */
  testKeys: boolean;
  /** The URL of the customer's own MLflow (platform/mlflow.ts); absent without one. */
  mlflowUrl?: string;
}

/** Whether the customer sends traces: its project's keys are given and Langfuse is there. */
export function langfuseTracing(c: CustomerSettings, endpoints: InfrastructureEndpoints): boolean {
  return c.langfuse !== undefined && endpoints.services.langfuse !== undefined;
}

function url(e: { host: string; port: number } | undefined): string {
  return e ? `http://${e.host}:${e.port}` : "";
}

/** Values of platform/chart for one customer. Secrets are referenced by name, never included. */
export function platformValues(input: PlatformValuesInput): JsonObject {
  const { customer: c, endpoints } = input;
  const names = customerObjects(c.name);
  const size = PLATFORM_SIZING[c.sizing];
  const scaled = (enabled: boolean): JsonObject => ({
    enabled,
    replicas: size.replicas,
    resources: size.resources,
    ...(size.maxReplicas
      ? { autoscaling: { enabled: true, minReplicas: size.replicas, maxReplicas: size.maxReplicas } }
      : { autoscaling: { enabled: false } }),
    // One replica with minAvailable 1 would block every node drain.
    podDisruptionBudget: { enabled: size.replicas > 1 },
  });
  const fixed = (enabled: boolean): JsonObject => ({
    enabled,
    replicas: size.replicas,
    resources: size.resources,
  });
  const global: JsonObject = { imagePullSecrets: [...input.imagePullSecrets] };
  if (input.registry) global.imageRegistry = input.registry;
  const pool = input.platformPool;
  const a = input.access;
  const hosts = a.hosts;
  const ingressEnabled = a.mode === "ingress" && hosts !== undefined;
  const routeEnabled = a.mode === "gateway" && hosts !== undefined;
  // An Ingress carries one certificate for both hosts: issued, or the gateway host's Secret.
  const ingressSecret = hosts?.gatewaySecret ?? hosts?.uiSecret;
  const ingressTls = ingressEnabled && (a.clusterIssuer !== undefined || ingressSecret !== undefined);
  // Traces only into the customer's own Langfuse project: without its keys, no LANGFUSE_HOST.
  const tracing = langfuseTracing(c, endpoints);
  return {
    customer: { name: c.name },
    global,
    ...(c.platformVersion ? { image: { tag: c.platformVersion } } : {}),
    nodeSelector: pool ? { ...pool.labels } : {},
    tolerations: pool
      ? pool.taints.map((t): Json => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect }))
      : [],
    license: {
      mode: c.license.mode,
      onlineUrl: c.license.onlineUrl ?? "",
      onlineCidrs: c.license.onlineCidrs,
      gracePeriod: c.license.gracePeriod,
      secretName: names.license,
      // The shipped keys are the chart's own ConfigMap; test keys only on a test stack.
      testKeysConfigMap: input.testKeys ? names.testKeys : "",
    },
    database: { secretName: names.database },
    langfuse: { secretName: tracing ? names.langfuse : "" },
    redis: { secretName: names.redis },
    // The customer file's sso: the client secret is in the Secret the installer writes, by name.
    sso: c.sso
      ? {
          enabled: true,
          issuer: c.sso.issuer,
          clientId: c.sso.clientId,
          secretName: names.sso,
          cidrs: [...c.sso.cidrs],
        }
      : { enabled: false },
    infrastructure: {
      namespace: endpoints.namespace,
      ollamaUrl: url(endpoints.services.ollama),
      langfuseUrl: tracing ? url(endpoints.services.langfuse) : "",
      // Its own MLflow: the shared one admits no platform.
      mlflowUrl: input.mlflowUrl ?? "",
    },
    branding: {
      title: c.branding.title,
      primaryColor: c.branding.primaryColor,
      secondaryColor: c.branding.secondaryColor,
      footer: c.branding.footer,
      logoSvg: c.branding.logoSvg,
      faviconSvg: c.branding.faviconSvg,
      theme: { ...c.branding.theme },
    },
    ingress: {
      enabled: ingressEnabled,
      className: input.ingressClass,
      annotations: { ...input.ingressAnnotations },
      gatewayHost: ingressEnabled ? hosts.gateway : "",
      uiHost: ingressEnabled ? hosts.ui : "",
      tls: {
        enabled: ingressTls,
        ...(ingressTls && ingressSecret !== undefined ? { secretName: ingressSecret } : {}),
        clusterIssuer: ingressTls && ingressSecret === undefined ? (a.clusterIssuer ?? "") : "",
      },
    },
    httpRoute: routeEnabled
      ? {
          enabled: true,
          gatewayClassName: a.gatewayClass,
          gatewayHost: hosts.gateway,
          uiHost: hosts.ui,
          tls: {
            gatewaySecretName: hosts.gatewaySecret ?? "",
            uiSecretName: hosts.uiSecret ?? "",
            clusterIssuer: a.clusterIssuer ?? "",
            ...(a.acme ? { acme: { ...a.acme } } : {}),
          },
        }
      : { enabled: false },
    networkPolicy: { edgePeers: a.peers.map(networkPolicyPeer) },
    serviceMonitor: { enabled: input.monitoring },
    services: {
      gateway: scaled(true),
      managerApi: scaled(true),
      managerUi: scaled(true),
      agentRouter: scaled(input.agents.includes("router")),
      crewai: fixed(input.agents.includes("crewai")),
      autogen: fixed(input.agents.includes("autogen")),
    },
  };
}
