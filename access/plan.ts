// The access plan: every host the stack exposes, its backend, its certificate, and the gateway
// that serves it. Pure (settings in, plain data out): the settings parse checks it, the access
// component and the platform values build on it, the stack outputs list its URLs.
import { gatewayDefaults, OWN_GATEWAY_CLASSES } from "../clusters/gateway";
import type { AccessPeer, AccessSettings, SharedUi } from "../config/access";
import { SHARED_UIS } from "../config/access";
import type { ClusterSettings } from "../config/cluster";
import type { ComponentsSettings } from "../config/components";
import type { CustomerSettings } from "../config/customers";
import { SSO_UIS, SsoSettings, SsoUi } from "../config/sso";
import { SERVICES } from "../infrastructure/layout";
import type { JsonObject } from "../lib/json";

/** The pod port behind each shared UI's Service (NetworkPolicies match pod ports, not Service ports). */
export const SHARED_UI_POD_PORTS: Record<SharedUi, number> = {
  grafana: 3000,
  airflow: 8080,
  langfuse: 3000,
  n8n: 5678,
  langflow: 7860,
  mlflow: 5000,
};

/**
 * The port of MLflow's oauth2-proxy sidecar (chart mlflow 1.11.5, `oauth2Proxy.listenPort`): the
 * pod port and the Service port the chart adds for it. With single sign-on, MLflow's route and the
 * gateway's NetworkPolicy use it instead of MLflow's own port (in-cluster clients keep that one).
 */
export const MLFLOW_PROXY_PORT = 4180;

/** Where Ingress traffic comes from unless es1:access.from says: the ingress-nginx namespace. */
export const INGRESS_NGINX_PEER: AccessPeer = { namespace: "ingress-nginx", podLabels: {} };

/** cert-manager ClusterIssuers the program creates, by es1:access.tls.issuer. */
export const CLUSTER_ISSUERS = { acme: "es1-acme", ca: "es1-ca" } as const;

/** The shared Gateway of the stack, in GATEWAY_NAMESPACE. */
export const SHARED_GATEWAY = "es1";

export interface SharedRoute {
  ui: SharedUi;
  host: string;
  service: string;
  port: number;
  podPort: number;
  /** TLS Secret of the host: given (es1:access.tls.secrets) or issued into `es1-<ui>-tls`. */
  tlsSecret?: string;
  /** cert-manager issues the Secret (a Certificate, or the Ingress annotation). */
  issued: boolean;
}

export interface CustomerHosts {
  gateway: string;
  ui: string;
  /** Given certificate Secrets per host (in the customer's namespace). */
  gatewaySecret?: string;
  uiSecret?: string;
}

export interface AccessPlan {
  mode: AccessSettings["mode"];
  gatewayClass: string;
  /** Controller of the GatewayClass, when the program creates it (OWN_GATEWAY_CLASSES). */
  gatewayClassController?: string;
  installGatewayApiCrds: boolean;
  installEnvoyGateway: boolean;
  /** Where gateway (or ingress controller) traffic comes from. */
  peers: AccessPeer[];
  /** The ClusterIssuer certificates come from; unset: only given Secrets (or no TLS, ingress). */
  clusterIssuer?: string;
  shared: SharedRoute[];
  customers: Record<string, CustomerHosts>;
  /** Whether cert-manager must run for this plan. */
  needsCertManager: boolean;
}

export interface AccessInput {
  access: AccessSettings;
  cluster: ClusterSettings;
  components: ComponentsSettings;
  customers: readonly (Pick<CustomerSettings, "name" | "enabled" | "domains"> &
    Partial<Pick<CustomerSettings, "sso">>)[];
}

/** The shared UIs es1:access.sso covers among those switched on (SSO_UIS in order). */
export function ssoCovered(
  sso: Pick<SsoSettings, "uis"> | undefined,
  components: Pick<ComponentsSettings, SharedUiComponent>,
): SsoUi[] {
  if (!sso) return [];
  return SSO_UIS.filter((ui) => sso.uis.includes(ui) && components[COMPONENT_OF[ui]].enabled);
}

type SharedUiComponent = "monitoring" | "airflow" | "langfuse" | "n8n" | "langflow" | "mlflow";
/** The component each shared UI belongs to. */
export const COMPONENT_OF: Record<SharedUi, SharedUiComponent> = {
  grafana: "monitoring",
  airflow: "airflow",
  langfuse: "langfuse",
  n8n: "n8n",
  langflow: "langflow",
  mlflow: "mlflow",
};

/** The plan (of Settings, or of its parts during the parse), and the problems found (key relative to es1, message). */
export function planAccess(input: AccessInput): { plan: AccessPlan; problems: [string, string][] } {
  const { access: a } = input;
  const problems: [string, string][] = [];
  const defaults = gatewayDefaults(input.cluster, a.installEnvoyGateway);
  const gatewayClass = a.gatewayClass ?? defaults.gatewayClass;
  const issuer = a.tls.issuer === "none" ? undefined : CLUSTER_ISSUERS[a.tls.issuer];
  // The way before es1:access: a cert-manager issuer among the cluster's Ingress annotations.
  const ingressIssuer = input.cluster.ingressAnnotations["cert-manager.io/cluster-issuer"];

  const covered = ssoCovered(a.sso, input.components);
  const shared: SharedRoute[] = [];
  for (const ui of SHARED_UIS) {
    if (!input.components[COMPONENT_OF[ui]].enabled) continue;
    const host = a.hosts[ui] ?? (a.baseDomain ? `${ui}.${a.baseDomain}` : undefined);
    if (host === undefined) continue;
    const given = a.tls.secrets[host];
    // MLflow has no login of its own: with single sign-on its route goes through oauth2-proxy.
    const proxied = ui === "mlflow" && covered.includes("mlflow");
    shared.push({
      ui,
      host,
      service: SERVICES[ui].service,
      port: proxied ? MLFLOW_PROXY_PORT : SERVICES[ui].port,
      podPort: proxied ? MLFLOW_PROXY_PORT : SHARED_UI_POD_PORTS[ui],
      ...(given || issuer ? { tlsSecret: given ?? `es1-${ui}-tls` } : {}),
      issued: given === undefined && issuer !== undefined,
    });
  }
  const customers: Record<string, CustomerHosts> = {};
  for (const c of input.customers) {
    if (!c.enabled) continue;
    const gateway = c.domains.gateway ?? (a.baseDomain ? `${c.name}-api.${a.baseDomain}` : undefined);
    const ui = c.domains.ui ?? (a.baseDomain ? `${c.name}.${a.baseDomain}` : undefined);
    if (gateway === undefined || ui === undefined) continue;
    customers[c.name] = {
      gateway,
      ui,
      ...(a.tls.secrets[gateway] ? { gatewaySecret: a.tls.secrets[gateway] } : {}),
      ...(a.tls.secrets[ui] ? { uiSecret: a.tls.secrets[ui] } : {}),
    };
  }
  const hosts = [...shared.map((s) => s.host), ...Object.values(customers).flatMap((c) => [c.gateway, c.ui])];
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h))
      problems.push(["access.hosts", `host ${h} is given twice; every route needs its own host`]);
    seen.add(h);
  }
  const exposed = hosts.length > 0;
  const gateway = a.mode === "gateway" && exposed;
  if (gateway) {
    // TLS everywhere: a Gateway listener serves HTTPS only, so each host needs a certificate.
    const bare = hosts.filter((h) => issuer === undefined && a.tls.secrets[h] === undefined);
    if (bare.length > 0)
      problems.push([
        "access.tls",
        `no certificate for ${bare.join(", ")}: set issuer to acme (connected) or ca (air-gapped), or give a Secret per host in secrets`,
      ]);
    if (gatewayClass === "")
      problems.push([
        "access.gatewayClass",
        "an existing cluster has no default GatewayClass: name the cluster's, set installEnvoyGateway: true, or set mode: ingress to keep Ingresses",
      ]);
  }
  // Ingress: the namespace the platform chart always admitted (ingress-nginx's) unless told.
  const peers = a.from.length > 0 ? a.from : a.mode === "gateway" ? defaults.peers : [INGRESS_NGINX_PEER];
  if (gateway && peers.length === 0)
    problems.push([
      "access.from",
      `say where the traffic of GatewayClass ${gatewayClass || "(unset)"} comes from (its pods' namespace and labels, or a CIDR), so NetworkPolicies admit exactly it`,
    ]);
  const needsCertManager = exposed && issuer !== undefined;
  const plan: AccessPlan = {
    mode: a.mode,
    gatewayClass,
    ...(gateway && OWN_GATEWAY_CLASSES[gatewayClass] !== undefined
      ? { gatewayClassController: OWN_GATEWAY_CLASSES[gatewayClass] }
      : {}),
    installGatewayApiCrds: gateway && (a.installGatewayApiCrds ?? defaults.needsGatewayApiCrds),
    installEnvoyGateway: gateway && a.installEnvoyGateway,
    peers,
    ...(issuer
      ? { clusterIssuer: issuer }
      : a.mode === "ingress" && ingressIssuer
        ? { clusterIssuer: ingressIssuer }
        : {}),
    shared,
    customers,
    needsCertManager,
  };
  problems.push(...ssoProblems(plan, covered, input.customers));
  return { plan, problems };
}

/**
 * Single sign-on needs each signed-in UI's public https URL: the identity provider redirects the
 * browser back to it (the redirect URI registered with the client), and refuses plain http.
 */
function ssoProblems(
  plan: AccessPlan,
  covered: SsoUi[],
  customers: AccessInput["customers"],
): [string, string][] {
  const problems: [string, string][] = [];
  const urls = accessUrls(plan);
  for (const ui of covered) {
    const url = urls[ui];
    if (url === undefined)
      problems.push([
        "access.sso",
        `${ui} signs in through the identity provider, which redirects back to ${ui}'s public URL: set es1:access.baseDomain or es1:access.hosts.${ui}, or leave ${ui} out of sso.uis`,
      ]);
    else if (!url.startsWith("https://"))
      problems.push([
        "access.sso",
        `${ui} is served over plain http (${url}); identity providers redirect to https only: give its host a certificate (es1:access.tls) or leave ${ui} out of sso.uis`,
      ]);
  }
  for (const c of customers) {
    if (!c.enabled || !c.sso) continue;
    const url = urls[`${c.name}.ui`];
    if (url === undefined)
      problems.push([
        `customers.${c.name}.sso`,
        `the identity provider redirects back to the platform UI's public URL: give customer ${c.name} domains (customer file) or set es1:access.baseDomain`,
      ]);
    else if (!url.startsWith("https://"))
      problems.push([
        `customers.${c.name}.sso`,
        `the platform UI is served over plain http (${url}); identity providers redirect to https only: give it a certificate (es1:access.tls)`,
      ]);
  }
  return problems;
}

const scheme = (tls: boolean) => (tls ? "https" : "http");

/** The public URL of each shared UI with a route. */
export function sharedUrls(plan: AccessPlan): Partial<Record<SharedUi, string>> {
  return Object.fromEntries(
    plan.shared.map((s) => [
      s.ui,
      `${scheme(plan.mode === "gateway" || s.tlsSecret !== undefined)}://${s.host}`,
    ]),
  );
}

/** The public URL of each shared UI that signs in through es1:access.sso (its redirect URIs' base). */
export function ssoUrls(
  plan: AccessPlan,
  sso: Pick<SsoSettings, "uis"> | undefined,
  components: Pick<ComponentsSettings, SharedUiComponent>,
): Partial<Record<SsoUi, string>> {
  const urls = sharedUrls(plan);
  return Object.fromEntries(
    ssoCovered(sso, components).flatMap((ui) => (urls[ui] !== undefined ? [[ui, urls[ui]]] : [])),
  );
}

/** The URL of every route: `<ui>` for shared UIs, `<customer>.gateway` and `<customer>.ui`. */
export function accessUrls(plan: AccessPlan): Record<string, string> {
  const gatewayTls = plan.mode === "gateway";
  const out: Record<string, string> = { ...sharedUrls(plan) };
  for (const [name, c] of Object.entries(plan.customers)) {
    // An Ingress has one certificate for both hosts (platform chart's ingress.tls).
    const tls = gatewayTls || plan.clusterIssuer !== undefined || c.gatewaySecret !== undefined;
    out[`${name}.gateway`] = `${scheme(tls)}://${c.gateway}`;
    out[`${name}.ui`] = `${scheme(tls)}://${c.ui}`;
  }
  return out;
}

/** What a customer's platform chart needs from the access plan. */
export interface PlatformAccess {
  mode: AccessSettings["mode"];
  gatewayClass: string;
  hosts?: CustomerHosts;
  /** ClusterIssuer of the customer's certificates (a CA issuer, or ACME for Ingresses). */
  clusterIssuer?: string;
  /** ACME through the customer's own Gateway: an Issuer in its namespace (gateway mode). */
  acme?: { email: string; server: string };
  peers: AccessPeer[];
}

/**
 * A customer's part of the plan. ACME with Gateways is answered through the customer's own
 * Gateway, so its issuer is the customer's (the chart's Issuer), not the stack's ClusterIssuer.
 */
export function platformAccess(plan: AccessPlan, access: AccessSettings, customer: string): PlatformAccess {
  const hosts = plan.customers[customer];
  const acme =
    plan.mode === "gateway" && access.tls.issuer === "acme" && access.tls.acmeEmail !== undefined
      ? { email: access.tls.acmeEmail, server: access.tls.acmeServer }
      : undefined;
  return {
    mode: plan.mode,
    gatewayClass: plan.gatewayClass,
    peers: plan.peers,
    ...(hosts ? { hosts } : {}),
    ...(acme ? { acme } : plan.clusterIssuer ? { clusterIssuer: plan.clusterIssuer } : {}),
  };
}

/** A peer as a NetworkPolicyPeer. */
export function networkPolicyPeer(p: AccessPeer): JsonObject {
  return "cidr" in p
    ? { ipBlock: { cidr: p.cidr } }
    : {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } },
        ...(Object.keys(p.podLabels).length > 0 ? { podSelector: { matchLabels: { ...p.podLabels } } } : {}),
      };
}
