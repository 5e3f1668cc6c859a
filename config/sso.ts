// es1:access.sso: one OpenID Connect provider for the shared UIs (docs/access.md, "Single sign-on"),
// and the customer file's `sso` for a customer's platform UI. Each UI uses its own OIDC support;
// the client secret is a Pulumi secret that reaches the cluster only as a Kubernetes Secret.
import * as pulumi from "@pulumi/pulumi";
import { show } from "./errors";
import { PlainObject, Reader } from "./reader";

/** The identity providers whose endpoints the program knows (Grafana needs them; it has no discovery). */
export const SSO_PROVIDERS = ["keycloak", "entra", "google", "okta", "generic"] as const;
export type SsoProvider = (typeof SSO_PROVIDERS)[number];

/**
 * The shared UIs that sign in through the provider. n8n's OIDC is an n8n Business/Enterprise
 * feature and Langflow has no OIDC login of its own: neither is wired (docs/access.md).
 */
export const SSO_UIS = ["grafana", "airflow", "langfuse", "mlflow"] as const;
export type SsoUi = (typeof SSO_UIS)[number];

export interface SsoEndpoints {
  authorization: string;
  token: string;
  userinfo: string;
}

export interface SsoSettings {
  issuer: string;
  clientId: string;
  /** From stack config, stored encrypted; only ever written into the Secret es1-sso. */
  clientSecret: pulumi.Output<string>;
  provider: SsoProvider;
  endpoints: SsoEndpoints;
  /** The claim of the ID token (or user info) that lists the user's groups. */
  groupsClaim: string;
  adminGroups: string[];
  viewerGroups: string[];
  scopes: string[];
  /** The shared UIs that sign in through it (default: every one that can). */
  uis: SsoUi[];
}

export const SSO_KEYS = [
  "issuer",
  "clientId",
  "clientSecret",
  "provider",
  "endpoints",
  "groupsClaim",
  "adminGroups",
  "viewerGroups",
  "scopes",
  "uis",
] as const;

const HTTPS_URL = { re: /^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, says: "an https:// URL without query" };
/** Claim names go into Grafana's JMESPath and oauth2-proxy's flags: no quotes or spaces. */
const CLAIM = { re: /^[A-Za-z0-9_:./-]+$/, says: "a claim name such as groups or cognito:groups" };
/** Group names go into JMESPath and Python string literals: no quotes or backslashes. */
const GROUP = /^[^'"\\\s][^'"\\]*$/;

/** The issuer without a trailing slash: discovery documents live under it. */
export function issuerBase(issuer: string): string {
  return issuer.replace(/\/+$/, "");
}

/** `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0). */
export function discoveryUrl(issuer: string): string {
  return `${issuerBase(issuer)}/.well-known/openid-configuration`;
}

/**
 * The endpoints of a known provider, derived from its issuer as each publishes them in its
 * discovery document: Keycloak `<realm>/protocol/openid-connect/*`, Entra ID
 * `<tenant>/oauth2/v2.0/*` (user info from Microsoft Graph), Google's fixed endpoints, Okta's
 * `/v1/*` of a custom authorization server or `/oauth2/v1/*` of the org server.
 */
export function providerEndpoints(provider: SsoProvider, issuer: string): SsoEndpoints | undefined {
  const base = issuerBase(issuer);
  switch (provider) {
    case "keycloak":
      return {
        authorization: `${base}/protocol/openid-connect/auth`,
        token: `${base}/protocol/openid-connect/token`,
        userinfo: `${base}/protocol/openid-connect/userinfo`,
      };
    case "entra": {
      const tenant = base.replace(/\/v2\.0$/, "");
      return {
        authorization: `${tenant}/oauth2/v2.0/authorize`,
        token: `${tenant}/oauth2/v2.0/token`,
        userinfo: "https://graph.microsoft.com/oidc/userinfo",
      };
    }
    case "google":
      return {
        authorization: "https://accounts.google.com/o/oauth2/v2/auth",
        token: "https://oauth2.googleapis.com/token",
        userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
      };
    case "okta": {
      const v1 = /\/oauth2\/[^/]+$/.test(base) ? `${base}/v1` : `${base}/oauth2/v1`;
      return { authorization: `${v1}/authorize`, token: `${v1}/token`, userinfo: `${v1}/userinfo` };
    }
    case "generic":
      return undefined;
  }
}

/** Scopes unless `scopes` says: OpenID's, plus `groups` where the provider issues the claim for it (Okta). */
export function defaultScopes(provider: SsoProvider): string[] {
  return ["openid", "email", "profile", ...(provider === "okta" ? ["groups"] : [])];
}

/** How the parse learns whether a key was stored encrypted. */
export interface Secrecy {
  isSecret: (key: string) => boolean;
  isPlainEntry: (key: string) => boolean;
}

/**
 * A client secret at `path` (`access.sso.clientSecret`) of top-level key `top`: a non-empty
 * string stored encrypted. Messages name the key, never the value.
 */
export function clientSecretOf(
  r: Reader,
  path: string,
  top: string,
  value: unknown,
  secrecy: Secrecy,
): pulumi.Output<string> | undefined {
  if (value === undefined) {
    r.fail(path, `required: pulumi config set --secret --path es1:${path} <secret>`);
    return undefined;
  }
  if (typeof value !== "string" || value === "") {
    r.fail(path, "expected a non-empty string (the value is not shown: it may be a secret)");
    return undefined;
  }
  if (!secrecy.isSecret(top) || secrecy.isPlainEntry(path)) {
    r.fail(
      path,
      `stored in plain text; a client secret must be encrypted: pulumi config set --secret --path es1:${path} <secret>`,
    );
    return undefined;
  }
  return pulumi.secret(value);
}

function groups(r: Reader, path: string, value: unknown): string[] {
  const list = r.stringList(path, value);
  list.forEach((g, i) => {
    if (!GROUP.test(g))
      r.fail(`${path}[${i}]`, `${show(g)} is not allowed: group names may not hold quotes or backslashes`);
  });
  return list;
}

/** `es1:access.sso`; undefined when unset. */
export function parseSso(r: Reader, value: unknown, secrecy: Secrecy): SsoSettings | undefined {
  const o = r.object("access.sso", value);
  if (!o) return undefined;
  r.knownKeys("access.sso", o, SSO_KEYS);
  const issuer = r.string("access.sso.issuer", o.issuer, "", HTTPS_URL);
  if (o.issuer === undefined)
    r.fail("access.sso.issuer", "required: the identity provider's issuer URL (https://...)");
  const clientId = r.string("access.sso.clientId", o.clientId, "");
  if (o.clientId === undefined)
    r.fail("access.sso.clientId", "required: the client (application) id registered for ES1");
  const clientSecret = clientSecretOf(r, "access.sso.clientSecret", "access", o.clientSecret, secrecy);
  const provider = r.oneOf("access.sso.provider", o.provider, SSO_PROVIDERS, "generic");
  const endpoints = parseEndpoints(r, o.endpoints, provider, issuer);
  const groupsClaim = r.string("access.sso.groupsClaim", o.groupsClaim, "groups", CLAIM);
  const adminGroups = groups(r, "access.sso.adminGroups", o.adminGroups);
  if (adminGroups.length === 0)
    r.fail(
      "access.sso.adminGroups",
      "name at least one group whose members administer the UIs (the groups claim carries it)",
    );
  const viewerGroups = groups(r, "access.sso.viewerGroups", o.viewerGroups);
  const scopes =
    o.scopes === undefined ? defaultScopes(provider) : r.stringList("access.sso.scopes", o.scopes);
  if (!scopes.includes("openid"))
    r.fail("access.sso.scopes", `${show(scopes)} lacks openid, which every UI needs for OpenID Connect`);
  const uis = parseUis(r, o);
  if (!clientSecret) return undefined;
  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    endpoints,
    groupsClaim,
    adminGroups,
    viewerGroups,
    scopes,
    uis,
  };
}

function parseEndpoints(r: Reader, value: unknown, provider: SsoProvider, issuer: string): SsoEndpoints {
  const o = r.object("access.sso.endpoints", value) ?? {};
  r.knownKeys("access.sso.endpoints", o, ["authorization", "token", "userinfo"]);
  const derived = issuer === "" ? undefined : providerEndpoints(provider, issuer);
  const out: Partial<SsoEndpoints> = {};
  for (const k of ["authorization", "token", "userinfo"] as const) {
    const v = r.optionalString(`access.sso.endpoints.${k}`, o[k]);
    if (v !== undefined && !HTTPS_URL.re.test(v))
      r.fail(`access.sso.endpoints.${k}`, `${show(v)} is not ${HTTPS_URL.says}`);
    out[k] = v ?? derived?.[k];
    if (out[k] === undefined && provider === "generic" && issuer !== "")
      r.fail(
        `access.sso.endpoints.${k}`,
        "required with provider generic (Grafana has no discovery): copy it from <issuer>/.well-known/openid-configuration, or set provider to keycloak, entra, google or okta",
      );
  }
  return { authorization: out.authorization ?? "", token: out.token ?? "", userinfo: out.userinfo ?? "" };
}

function parseUis(r: Reader, o: PlainObject): SsoUi[] {
  if (o.uis === undefined) return [...SSO_UIS];
  const list = r.stringList("access.sso.uis", o.uis);
  const out: SsoUi[] = [];
  list.forEach((ui, i) => {
    if ((SSO_UIS as readonly string[]).includes(ui)) out.push(ui as SsoUi);
    else if (ui === "n8n")
      r.fail(
        `access.sso.uis[${i}]`,
        "n8n's OIDC single sign-on is an n8n Business/Enterprise feature; the community edition keeps its owner login",
      );
    else if (ui === "langflow")
      r.fail(
        `access.sso.uis[${i}]`,
        "Langflow has no OIDC login of its own (its external authentication needs an OIDC proxy in front, which ES1 does not deploy); it keeps its superuser login",
      );
    else r.fail(`access.sso.uis[${i}]`, `${show(ui)} is not allowed; use any of: ${SSO_UIS.join(", ")}`);
  });
  return out;
}

/** A customer's platform UI: issuer and client from the customer file, the secret from stack config. */
export interface CustomerSso {
  issuer: string;
  clientId: string;
  /** Addresses of the identity provider the UI's pods may reach on TCP 443 (its NetworkPolicy). */
  cidrs: string[];
  /** `es1:customerSsoSecrets.<customer>`, stored encrypted. */
  clientSecret: pulumi.Output<string>;
}

/** The customer file's `sso`, and its secret; undefined when the file has none. */
export function parseCustomerSso(
  r: Reader,
  key: string,
  value: unknown,
  secret: unknown,
  secrecy: Secrecy,
  isCidr: (s: string) => boolean,
): CustomerSso | undefined {
  const o = r.object(`${key}.sso`, value);
  const name = key.split(".").pop() ?? key;
  const secretPath = `customerSsoSecrets.${name}`;
  if (!o) {
    if (secret !== undefined)
      r.fail(secretPath, `customer ${name} has no sso in its customer file; remove the secret or add sso`);
    return undefined;
  }
  r.knownKeys(`${key}.sso`, o, ["issuer", "clientId", "cidrs"]);
  const issuer = r.string(`${key}.sso.issuer`, o.issuer, "", HTTPS_URL);
  if (o.issuer === undefined) r.fail(`${key}.sso.issuer`, "required: the identity provider's issuer URL");
  const clientId = r.string(`${key}.sso.clientId`, o.clientId, "");
  if (o.clientId === undefined)
    r.fail(`${key}.sso.clientId`, "required: the client id registered for the UI");
  const cidrs = r.stringList(`${key}.sso.cidrs`, o.cidrs);
  cidrs.forEach((c, i) => {
    if (!isCidr(c)) r.fail(`${key}.sso.cidrs[${i}]`, `${show(c)} is not a CIDR such as 203.0.113.10/32`);
  });
  if (cidrs.length === 0)
    r.fail(
      `${key}.sso.cidrs`,
      "required: the identity provider's addresses (CIDRs); the UI's pods may reach only these, on TCP 443, to sign users in",
    );
  const clientSecret = clientSecretOf(r, secretPath, "customerSsoSecrets", secret, secrecy);
  return clientSecret ? { issuer, clientId, cidrs, clientSecret } : undefined;
}
