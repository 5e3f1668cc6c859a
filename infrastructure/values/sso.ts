// es1:access.sso in each shared UI's values (docs/access.md, "Single sign-on"): the UI's own
// OpenID Connect support, the client secret read from Secret es1-sso (never in values). Pure:
// each function returns the part of a release's values that single sign-on adds, or nothing.
import { MLFLOW_PROXY_PORT } from "../../access/plan";
import { discoveryUrl } from "../../config/sso";
import { JsonObject } from "../../lib/json";
import { SECRETS } from "../layout";
import { image, SsoContext, ValuesContext } from "./context";

/** The keys of Secret es1-sso (SECRETS.sso). */
export const SSO_SECRET_KEYS = {
  clientId: "client-id",
  clientSecret: "client-secret",
  cookieSecret: "cookie-secret",
} as const;

/** Airflow's OAuth provider name: the last part of its redirect URI `/auth/oauth-authorized/es1`. */
export const AIRFLOW_SSO_PROVIDER = "es1";

/** The environment variable Airflow's API server reads the client secret from (webserver_config.py). */
export const AIRFLOW_SSO_SECRET_ENV = "ES1_SSO_CLIENT_SECRET";

/** The redirect URI to register with the identity provider for each UI (docs/access.md). */
export function ssoRedirectUris(sso: Pick<SsoContext, "urls">): Record<string, string> {
  const paths = {
    grafana: "/login/generic_oauth",
    airflow: `/auth/oauth-authorized/${AIRFLOW_SSO_PROVIDER}`,
    langfuse: "/api/auth/callback/custom",
    mlflow: "/oauth2/callback",
  } as const;
  return Object.fromEntries(
    Object.entries(sso.urls).map(([ui, url]) => [ui, `${url}${paths[ui as keyof typeof paths]}`]),
  );
}

const secretRef = (key: string): JsonObject => ({ secretKeyRef: { name: SECRETS.sso, key } });

/** JMESPath `contains("<claim>"[*], '<group>')` over a list of groups, or'ed. */
function anyGroup(claim: string, groups: string[]): string {
  return `(${groups.map((g) => `contains("${claim}"[*], '${g}')`).join(" || ")})`;
}

/**
 * Grafana's generic OAuth (Grafana has no discovery: the endpoints come from the provider's
 * known layout or es1:access.sso.endpoints). adminGroups → Admin, viewerGroups → Viewer, nobody
 * else (role_attribute_strict). The login form stays: the local admin is the break-glass login.
 */
export function grafanaSso(ctx: ValuesContext): JsonObject {
  const s = ctx.sso;
  if (!s?.urls.grafana) return {};
  const roles = [
    `${anyGroup(s.groupsClaim, s.adminGroups)} && 'Admin'`,
    ...(s.viewerGroups.length > 0 ? [`${anyGroup(s.groupsClaim, s.viewerGroups)} && 'Viewer'`] : []),
  ];
  return {
    ini: {
      "auth.generic_oauth": {
        enabled: true,
        name: "Single sign-on",
        client_id: s.clientId,
        scopes: s.scopes.join(" "),
        auth_url: s.endpoints.authorization,
        token_url: s.endpoints.token,
        api_url: s.endpoints.userinfo,
        use_pkce: true,
        allow_sign_up: true,
        role_attribute_path: roles.join(" || "),
        role_attribute_strict: true,
      },
    },
    // Grafana reads any setting from GF_<SECTION>_<KEY>: the secret from es1-sso, not grafana.ini.
    envValueFrom: { GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET: secretRef(SSO_SECRET_KEYS.clientSecret) },
  };
}

/** A Python literal of plain data (JSON's strings, lists and objects are Python's too). */
const py = (v: unknown): string => JSON.stringify(v);

/**
 * Airflow's webserver_config.py for the FAB auth manager (the chart's default): one OAuth
 * provider found through the issuer's discovery document, users registered at first login, roles
 * from the groups claim at every login (no mapped group: Public, which may do nothing). FAB reads
 * the user of a few named providers only, so a small security manager reads the ID token's claims.
 */
export function airflowSsoConfig(s: SsoContext): string {
  const mapping: Record<string, string[]> = {};
  for (const g of s.viewerGroups) mapping[g] = ["Viewer"];
  for (const g of s.adminGroups) mapping[g] = [...(mapping[g] ?? []), "Admin"];
  return [
    "# ES1 single sign-on (es1:access.sso; infrastructure/values/sso.ts). Rendered by the installer.",
    "import os",
    "",
    "from flask_appbuilder.security.manager import AUTH_OAUTH",
    "from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride",
    "",
    "AUTH_TYPE = AUTH_OAUTH",
    "AUTH_USER_REGISTRATION = True",
    'AUTH_USER_REGISTRATION_ROLE = "Public"',
    "AUTH_ROLES_SYNC_AT_LOGIN = True",
    `AUTH_ROLES_MAPPING = ${py(mapping)}`,
    `GROUPS_CLAIM = ${py(s.groupsClaim)}`,
    "OAUTH_PROVIDERS = [",
    "    {",
    `        "name": ${py(AIRFLOW_SSO_PROVIDER)},`,
    '        "icon": "fa-key",',
    '        "token_key": "access_token",',
    '        "remote_app": {',
    `            "client_id": ${py(s.clientId)},`,
    `            "client_secret": os.environ[${py(AIRFLOW_SSO_SECRET_ENV)}],`,
    `            "server_metadata_url": ${py(discoveryUrl(s.issuer))},`,
    `            "client_kwargs": {"scope": ${py(s.scopes.join(" "))}},`,
    "        },",
    "    }",
    "]",
    "",
    "",
    "class Es1SecurityManager(FabAirflowSecurityManagerOverride):",
    "    def get_oauth_user_info(self, provider, resp):",
    "        # The ID token's claims (Authlib parses them into resp['userinfo']), else the user info endpoint.",
    '        claims = resp.get("userinfo") or self.oauth_remotes[provider].userinfo()',
    "        groups = claims.get(GROUPS_CLAIM) or []",
    "        if isinstance(groups, str):",
    "            groups = [groups]",
    "        return {",
    '            "username": claims.get("preferred_username") or claims.get("email") or claims["sub"],',
    '            "email": claims.get("email", ""),',
    '            "first_name": claims.get("given_name", ""),',
    '            "last_name": claims.get("family_name", ""),',
    '            "role_keys": groups,',
    "        }",
    "",
    "",
    "SECURITY_MANAGER_CLASS = Es1SecurityManager",
    "",
  ].join("\n");
}

/** Airflow's API server: its webserver config and the client secret from es1-sso. */
export function airflowSso(ctx: ValuesContext): { apiServerConfig?: string; env: JsonObject[] } {
  const s = ctx.sso;
  if (!s?.urls.airflow) return { env: [] };
  return {
    apiServerConfig: airflowSsoConfig(s),
    env: [{ name: AIRFLOW_SSO_SECRET_ENV, valueFrom: secretRef(SSO_SECRET_KEYS.clientSecret) }],
  };
}

/**
 * Langfuse's custom OIDC provider (AUTH_CUSTOM_*, the chart's langfuse.auth.providers.custom).
 * Users are created at their first sign-in and join the organisation the headless
 * initialisation made, as viewers; Langfuse OSS maps no groups, so an owner promotes admins.
 * Sign-up must be on for that (Langfuse refuses to create any user otherwise), so password
 * sign-up and login are off: a password account would join the organisation too.
 */
export function langfuseSso(
  ctx: ValuesContext,
  org: string,
): { auth?: JsonObject; signUpDisabled: boolean; env: JsonObject[] } {
  const s = ctx.sso;
  if (!s?.urls.langfuse) return { signUpDisabled: true, env: [] };
  return {
    auth: {
      disableUsernamePassword: true,
      providers: {
        custom: {
          name: "Single sign-on",
          clientId: s.clientId,
          clientSecret: secretRef(SSO_SECRET_KEYS.clientSecret),
          issuer: s.issuer,
          scope: s.scopes.join(" "),
        },
      },
    },
    signUpDisabled: false,
    env: [
      { name: "LANGFUSE_DEFAULT_ORG_ID", value: org },
      { name: "LANGFUSE_DEFAULT_ORG_ROLE", value: "VIEWER" },
    ],
  };
}

/**
 * MLflow has no OIDC of its own: the chart's oauth2-proxy sidecar signs users in and lets only
 * members of adminGroups and viewerGroups through (MLflow has no roles: both may do everything).
 * The gateway's route goes to the proxy's port; in-cluster clients keep MLflow's own port.
 */
export function mlflowSso(ctx: ValuesContext): JsonObject {
  const s = ctx.sso;
  if (!s?.urls.mlflow) return {};
  return {
    oauth2Proxy: {
      enabled: true,
      createSecret: false,
      existingSecret: {
        name: SECRETS.sso,
        clientIDKey: SSO_SECRET_KEYS.clientId,
        clientSecretKey: SSO_SECRET_KEYS.clientSecret,
        cookieSecretKey: SSO_SECRET_KEYS.cookieSecret,
      },
      image: { repository: image(ctx, "quay.io/oauth2-proxy/oauth2-proxy") },
      listenPort: MLFLOW_PROXY_PORT,
      provider: {
        name: "oidc",
        issuerURL: s.issuer,
        redirectURL: ssoRedirectUris({ urls: { mlflow: s.urls.mlflow } }).mlflow,
      },
      extraArgs: [
        "--cookie-secure=true",
        "--cookie-samesite=lax",
        "--email-domain=*",
        `--scope=${s.scopes.join(" ")}`,
        `--oidc-groups-claim=${s.groupsClaim}`,
        ...[...s.adminGroups, ...s.viewerGroups].map((g) => `--allowed-group=${g}`),
        "--code-challenge-method=S256",
        "--skip-provider-button=true",
      ],
      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
    },
  };
}
