// es1:access: how users reach the customer platforms and the shared UIs (docs/access.md).
import { show } from "./errors";
import { Reader } from "./reader";
import { parseSso, Secrecy, SsoSettings } from "./sso";

export const ACCESS_MODES = ["gateway", "ingress"] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** The shared UIs that get a route when their component is on (their Service is in layout.ts). */
export const SHARED_UIS = ["grafana", "airflow", "langfuse", "n8n", "langflow", "mlflow"] as const;
export type SharedUi = (typeof SHARED_UIS)[number];

export const TLS_ISSUERS = ["acme", "ca", "none"] as const;
export type TlsIssuer = (typeof TLS_ISSUERS)[number];

/** Let's Encrypt's production directory: the ACME server unless es1:access.tls.acmeServer says otherwise. */
export const LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

/** Where the traffic of the gateway (or the ingress controller) comes from, for NetworkPolicies. */
export type AccessPeer = { namespace: string; podLabels: Record<string, string> } | { cidr: string };

export interface AccessTlsSettings {
  /**
   * cert-manager issues every certificate the program needs: `acme` (connected sites, HTTP-01
   * through the gateway), `ca` (air-gapped sites, a CA from a Secret), `none` (every host has
   * a certificate Secret in `secrets`).
   */
  issuer: TlsIssuer;
  acmeEmail?: string;
  acmeServer: string;
  /** kubernetes.io/tls Secret with the CA (tls.crt, tls.key) in es1-infrastructure, for `ca`. */
  caSecret?: string;
  /** A certificate Secret given per host (in the namespace of the Gateway serving it). */
  secrets: Record<string, string>;
}

export interface AccessSettings {
  mode: AccessMode;
  /** Hosts of the shared UIs are `<ui>.<baseDomain>`; customers without domains get `<c>.<base>`, `<c>-api.<base>`. */
  baseDomain?: string;
  /** A host per shared UI, instead of `<ui>.<baseDomain>`. */
  hosts: Partial<Record<SharedUi, string>>;
  /** GatewayClass of every Gateway; unset: the cluster's default (clusters/gateway.ts). */
  gatewayClass?: string;
  /** Install Envoy Gateway (existing clusters without a Gateway controller). */
  installEnvoyGateway: boolean;
  /** Install the Gateway API CRDs (standard channel); unset: where the cluster lacks them (clusters/gateway.ts). */
  installGatewayApiCrds?: boolean;
  /** Who the gateway's data plane is, for NetworkPolicies; empty: the cluster's default. */
  from: AccessPeer[];
  tls: AccessTlsSettings;
  /** One OpenID Connect provider for the shared UIs (config/sso.ts); unset: their own logins only. */
  sso?: SsoSettings;
}

export const ACCESS_KEYS = [
  "mode",
  "baseDomain",
  "hosts",
  "gatewayClass",
  "installEnvoyGateway",
  "installGatewayApiCrds",
  "from",
  "tls",
  "sso",
] as const;
const TLS_KEYS = ["issuer", "acmeEmail", "acmeServer", "caSecret", "secrets"] as const;

export const DNS_NAME = {
  re: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/,
  says: "a DNS name such as es1.example.com",
};
const K8S_NAME = {
  re: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  says: "a Kubernetes object name (lower-case letters, digits, '-' and '.')",
};
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i;

function parseFrom(r: Reader, value: unknown): AccessPeer[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.fail("access.from", `expected a list of {namespace, podLabels} or {cidr}, got ${show(value)}`);
    return [];
  }
  const out: AccessPeer[] = [];
  value.forEach((v: unknown, i) => {
    const path = `access.from[${i}]`;
    const o = r.object(path, v);
    if (!o) return;
    r.knownKeys(path, o, ["namespace", "podLabels", "cidr"]);
    if (o.cidr !== undefined) {
      if (o.namespace !== undefined || o.podLabels !== undefined)
        r.fail(path, "give either cidr or namespace (with podLabels), not both");
      else if (typeof o.cidr !== "string" || !CIDR.test(o.cidr))
        r.fail(`${path}.cidr`, `${show(o.cidr)} is not a CIDR block such as 10.0.0.0/16`);
      else out.push({ cidr: o.cidr });
      return;
    }
    const namespace = r.string(`${path}.namespace`, o.namespace, "", K8S_NAME);
    if (namespace === "") return;
    out.push({ namespace, podLabels: r.stringMap(`${path}.podLabels`, o.podLabels) });
  });
  return out;
}

function parseTls(r: Reader, value: unknown): AccessTlsSettings {
  const o = r.object("access.tls", value) ?? {};
  r.knownKeys("access.tls", o, TLS_KEYS);
  const issuer = r.oneOf("access.tls.issuer", o.issuer, TLS_ISSUERS, "none");
  const acmeEmail = r.optionalString("access.tls.acmeEmail", o.acmeEmail);
  const caSecret = r.optionalString("access.tls.caSecret", o.caSecret);
  if (acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(acmeEmail))
    r.fail("access.tls.acmeEmail", `${show(acmeEmail)} is not an e-mail address`);
  if (issuer === "acme" && acmeEmail === undefined)
    r.fail(
      "access.tls.acmeEmail",
      "the ACME issuer needs the e-mail address of the account (expiry notices)",
    );
  if (issuer === "ca" && caSecret === undefined)
    r.fail(
      "access.tls.caSecret",
      "the CA issuer needs the name of a kubernetes.io/tls Secret holding the CA in es1-infrastructure",
    );
  if (caSecret !== undefined && !K8S_NAME.re.test(caSecret))
    r.fail("access.tls.caSecret", `${show(caSecret)} is not ${K8S_NAME.says}`);
  const secrets = r.stringMap("access.tls.secrets", o.secrets);
  for (const [host, name] of Object.entries(secrets)) {
    if (!DNS_NAME.re.test(host))
      r.fail(`access.tls.secrets.${host}`, `${show(host)} is not ${DNS_NAME.says}`);
    if (!K8S_NAME.re.test(name))
      r.fail(`access.tls.secrets.${host}`, `${show(name)} is not ${K8S_NAME.says}`);
  }
  return {
    issuer,
    acmeServer: r.string("access.tls.acmeServer", o.acmeServer, LETSENCRYPT, {
      re: /^https:\/\/\S+$/,
      says: "an https:// URL of an ACME directory",
    }),
    secrets,
    ...(acmeEmail !== undefined ? { acmeEmail } : {}),
    ...(caSecret !== undefined ? { caSecret } : {}),
  };
}

/**
 * `es1:access`, checked; `existing` says whether the stack's cluster is an existing one,
 * `secrecy` what was stored encrypted (the SSO client secret must be).
 */
export function parseAccess(
  r: Reader,
  existing: boolean,
  secrecy: Secrecy = { isSecret: () => false, isPlainEntry: () => false },
): AccessSettings {
  const o = r.object("access", r.raw("access")) ?? {};
  r.knownKeys("access", o, ACCESS_KEYS);
  const mode = r.oneOf("access.mode", o.mode, ACCESS_MODES, "gateway");
  const baseDomain = r.optionalString("access.baseDomain", o.baseDomain);
  if (baseDomain !== undefined && !DNS_NAME.re.test(baseDomain))
    r.fail("access.baseDomain", `${show(baseDomain)} is not ${DNS_NAME.says}`);
  const hostsObj = r.object("access.hosts", o.hosts) ?? {};
  r.knownKeys("access.hosts", hostsObj, SHARED_UIS);
  const hosts: Partial<Record<SharedUi, string>> = {};
  for (const ui of SHARED_UIS) {
    const h = r.optionalString(`access.hosts.${ui}`, hostsObj[ui]);
    if (h !== undefined && !DNS_NAME.re.test(h))
      r.fail(`access.hosts.${ui}`, `${show(h)} is not ${DNS_NAME.says}`);
    else if (h !== undefined) hosts[ui] = h;
  }
  const gatewayClass = r.optionalString("access.gatewayClass", o.gatewayClass);
  if (gatewayClass !== undefined && !K8S_NAME.re.test(gatewayClass))
    r.fail("access.gatewayClass", `${show(gatewayClass)} is not ${K8S_NAME.says}`);
  const installEnvoyGateway = r.boolean("access.installEnvoyGateway", o.installEnvoyGateway, false);
  if (installEnvoyGateway && !existing)
    r.fail(
      "access.installEnvoyGateway",
      "is for existing clusters; on GKE, AKS and EKS the cloud's own Gateway controller serves the Gateways",
    );
  if (installEnvoyGateway && mode !== "gateway")
    r.fail("access.installEnvoyGateway", "Envoy Gateway serves Gateways: set es1:access.mode to gateway");
  const installGatewayApiCrds =
    o.installGatewayApiCrds === undefined || o.installGatewayApiCrds === null
      ? undefined
      : r.boolean("access.installGatewayApiCrds", o.installGatewayApiCrds, false);
  const sso = parseSso(r, o.sso, secrecy);
  return {
    mode,
    hosts,
    installEnvoyGateway,
    from: parseFrom(r, o.from),
    tls: parseTls(r, o.tls),
    ...(baseDomain !== undefined ? { baseDomain } : {}),
    ...(gatewayClass !== undefined ? { gatewayClass } : {}),
    ...(installGatewayApiCrds !== undefined ? { installGatewayApiCrds } : {}),
    ...(sso ? { sso } : {}),
  };
}
