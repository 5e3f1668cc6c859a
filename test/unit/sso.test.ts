// Issue 18 item 4: single sign-on. es1:access.sso is checked before anything is deployed (keys
// named, the client secret never shown), wired into each shared UI's own OIDC support with the
// secret read from Secret es1-sso, and the customer file's sso reaches the platform chart.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planAccess } from "../../access/plan";
import { SHARED_CHARTS } from "../../automation/chart-source";
import { ConfigErrors, parseSettings, Settings, SettingsSource } from "../../config";
import { providerEndpoints } from "../../config/sso";
import { plannedReleases, valuesContext } from "../../infrastructure";
import { VALUES, ValuesContext } from "../../infrastructure/values";
import { NODE_POOLS } from "../../clusters/types";
import { ssoRedirectUris } from "../../infrastructure/values/sso";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { routerLicense } from "./cluster-helpers";
import { runProgram } from "./harness";

const SECRET = "Client-Secret-Value-0123456789abcdef";
const GKE = { provider: "gke", project: "acme-es1", region: "europe-west1" };
const TLS = { issuer: "acme", acmeEmail: "ops@example.com" };
const SSO = {
  issuer: "https://login.example.com/realms/es1",
  clientId: "es1",
  clientSecret: SECRET,
  provider: "keycloak",
  adminGroups: ["es1-admins"],
  viewerGroups: ["es1-viewers", "auditors"],
};
const ACCESS = { baseDomain: "es1.example.com", tls: TLS, sso: SSO };

/** Settings of `values` (keys without `es1:`), `secret` keys stored encrypted, `plain` entries not. */
function parse(values: Record<string, unknown>, secret = ["access"], plain: string[] = []): Settings {
  const src: SettingsSource = {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: (k) => secret.includes(k),
    isPlainEntry: (k) => plain.includes(k),
  };
  return parseSettings(src, { project: "es1-platform", stack: "test", cwd: PROJECT_ROOT });
}

function refused(values: Record<string, unknown>, secret = ["access"], plain: string[] = []): string[] {
  try {
    parse(values, secret, plain);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    const messages = e.errors.map((x) => x.message);
    for (const m of messages) assert.ok(!m.includes(SECRET), `a message shows the client secret: ${m}`);
    return messages;
  }
  return assert.fail("expected the config to be refused");
}

function ctxOf(values: Record<string, unknown>): ValuesContext {
  return valuesContext(parse(values), { cloud: "gke", storageClass: "fast-ssd", nodePools: NODE_POOLS });
}

type Obj = Record<string, unknown>;
const get = (v: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((cur, k) => (cur as Obj | undefined)?.[k], v);

describe("es1:access.sso settings", () => {
  it("derives a known provider's endpoints from its issuer, and defaults the rest", () => {
    const s = parse({ cluster: GKE, access: ACCESS }).access.sso;
    assert.ok(s);
    assert.deepStrictEqual(s.endpoints, {
      authorization: "https://login.example.com/realms/es1/protocol/openid-connect/auth",
      token: "https://login.example.com/realms/es1/protocol/openid-connect/token",
      userinfo: "https://login.example.com/realms/es1/protocol/openid-connect/userinfo",
    });
    assert.deepStrictEqual(s.scopes, ["openid", "email", "profile"]);
    assert.strictEqual(s.groupsClaim, "groups");
    assert.deepStrictEqual(s.uis, ["grafana", "airflow", "langfuse", "mlflow"]);
    const entra = providerEndpoints("entra", "https://login.microsoftonline.com/0000-tenant/v2.0");
    assert.strictEqual(entra?.token, "https://login.microsoftonline.com/0000-tenant/oauth2/v2.0/token");
    assert.strictEqual(
      providerEndpoints("okta", "https://acme.okta.com/oauth2/default")?.authorization,
      "https://acme.okta.com/oauth2/default/v1/authorize",
    );
    assert.strictEqual(
      providerEndpoints("okta", "https://acme.okta.com")?.userinfo,
      "https://acme.okta.com/oauth2/v1/userinfo",
    );
    assert.strictEqual(
      providerEndpoints("google", "https://accounts.google.com")?.token,
      "https://oauth2.googleapis.com/token",
    );
  });

  it("refuses a client secret stored in plain text, naming the key and never showing the value", () => {
    const all = refused({ cluster: GKE, access: ACCESS }, []);
    assert.ok(
      all.some((m) => /'es1:access\.sso\.clientSecret': stored in plain text/.test(m)),
      all.join("\n"),
    );
    const entry = refused({ cluster: GKE, access: ACCESS }, ["access"], ["access.sso.clientSecret"]);
    assert.ok(entry.some((m) => /'es1:access\.sso\.clientSecret': stored in plain text/.test(m)));
  });

  it("refuses SSO without the UIs' public https URLs (redirect URIs)", () => {
    const noHosts = refused({ cluster: GKE, access: { tls: TLS, sso: SSO } });
    assert.ok(
      noHosts.some((m) => /'es1:access\.sso': grafana .*redirects back.*es1:access\.baseDomain/.test(m)),
      noHosts.join("\n"),
    );
    const http = refused({
      cluster: GKE,
      access: { mode: "ingress", baseDomain: "es1.example.com", sso: SSO },
    });
    assert.ok(
      http.some((m) => /'es1:access\.sso': mlflow is served over plain http/.test(m)),
      http.join("\n"),
    );
  });

  it("belongs to the infrastructure stack, not to a customer-only stack", () => {
    const m = refused({
      infrastructureStack: "acme/es1-platform/infra",
      customers: ["beam"],
      access: ACCESS,
    });
    assert.ok(
      m.some((x) =>
        /'es1:access\.sso': the shared UIs' single sign-on belongs to the infrastructure stack/.test(x),
      ),
      m.join("\n"),
    );
  });

  it("names each bad key: issuer, admin groups, endpoints of a generic provider, n8n", () => {
    const m = refused({
      cluster: GKE,
      access: {
        ...ACCESS,
        sso: {
          ...SSO,
          issuer: "http://login.example.com",
          provider: "generic",
          adminGroups: [],
          uis: ["n8n"],
        },
      },
    });
    const has = (re: RegExp) =>
      assert.ok(
        m.some((x) => re.test(x)),
        `${String(re)} in\n${m.join("\n")}`,
      );
    has(/'es1:access\.sso\.issuer': "http:\/\/login\.example\.com" is not valid/);
    has(/'es1:access\.sso\.adminGroups': name at least one group/);
    has(/'es1:access\.sso\.uis\[0\]': n8n's OIDC single sign-on is an n8n Business\/Enterprise feature/);
    const generic = refused({ cluster: GKE, access: { ...ACCESS, sso: { ...SSO, provider: "generic" } } });
    assert.ok(
      generic.some((x) => /'es1:access\.sso\.endpoints\.token': required with provider generic/.test(x)),
    );
  });
});

describe("es1:access.sso in the shared UIs' values", () => {
  const sso = ctxOf({ cluster: GKE, access: ACCESS });
  const plain = ctxOf({ cluster: GKE, access: { baseDomain: "es1.example.com", tls: TLS } });

  it("keeps the client secret out of every values builder's input and output", () => {
    assert.ok(!JSON.stringify(sso).includes(SECRET), "the ValuesContext holds the secret");
    for (const key of plannedReleases(parse({ cluster: GKE, access: ACCESS })))
      assert.ok(!JSON.stringify(VALUES[key](sso)).includes(SECRET), `${key} values hold the client secret`);
  });

  it("Grafana: generic OAuth with PKCE, groups mapped strictly to Admin and Viewer, the secret from es1-sso", () => {
    const g = get(VALUES.monitoring(sso), "grafana") as Obj;
    const oauth = (g["grafana.ini"] as Obj)["auth.generic_oauth"];
    assert.deepStrictEqual(oauth, {
      enabled: true,
      name: "Single sign-on",
      client_id: "es1",
      scopes: "openid email profile",
      auth_url: "https://login.example.com/realms/es1/protocol/openid-connect/auth",
      token_url: "https://login.example.com/realms/es1/protocol/openid-connect/token",
      api_url: "https://login.example.com/realms/es1/protocol/openid-connect/userinfo",
      use_pkce: true,
      allow_sign_up: true,
      role_attribute_path:
        "(contains(\"groups\"[*], 'es1-admins')) && 'Admin' || " +
        "(contains(\"groups\"[*], 'es1-viewers') || contains(\"groups\"[*], 'auditors')) && 'Viewer'",
      role_attribute_strict: true,
    });
    assert.deepStrictEqual(g.envValueFrom, {
      GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET: { secretKeyRef: { name: "es1-sso", key: "client-secret" } },
    });
    const without = get(VALUES.monitoring(plain), "grafana") as Obj;
    assert.strictEqual((without["grafana.ini"] as Obj)["auth.generic_oauth"], undefined);
    assert.strictEqual(without.envValueFrom, undefined);
  });

  it("Airflow: the API server's webserver_config.py through discovery, roles from groups, the secret by env", () => {
    const api = get(VALUES.airflow(sso), "apiServer") as { apiServerConfig: string; env: unknown };
    for (const line of [
      "AUTH_TYPE = AUTH_OAUTH",
      'AUTH_ROLES_MAPPING = {"es1-viewers":["Viewer"],"auditors":["Viewer"],"es1-admins":["Admin"]}',
      "AUTH_ROLES_SYNC_AT_LOGIN = True",
      'AUTH_USER_REGISTRATION_ROLE = "Public"',
      '"server_metadata_url": "https://login.example.com/realms/es1/.well-known/openid-configuration",',
      '"client_secret": os.environ["ES1_SSO_CLIENT_SECRET"],',
      "SECURITY_MANAGER_CLASS = Es1SecurityManager",
    ])
      assert.ok(api.apiServerConfig.includes(line), `webserver_config.py lacks ${line}`);
    // The chart renders it through tpl: no template delimiters in it.
    assert.ok(!api.apiServerConfig.includes("{{"));
    assert.deepStrictEqual(api.env, [
      {
        name: "ES1_SSO_CLIENT_SECRET",
        valueFrom: { secretKeyRef: { name: "es1-sso", key: "client-secret" } },
      },
    ]);
    const without = get(VALUES.airflow(plain), "apiServer") as Obj;
    assert.strictEqual(without.apiServerConfig, undefined);
  });

  it("Langfuse: the custom OIDC provider, new users as viewers of the es1 organisation, no password sign-up", () => {
    const lf = get(VALUES.langfuse(sso), "langfuse") as Obj;
    assert.deepStrictEqual(lf.auth, {
      disableUsernamePassword: true,
      providers: {
        custom: {
          name: "Single sign-on",
          clientId: "es1",
          clientSecret: { secretKeyRef: { name: "es1-sso", key: "client-secret" } },
          issuer: "https://login.example.com/realms/es1",
          scope: "openid email profile",
        },
      },
    });
    assert.strictEqual(get(lf, "features.signUpDisabled"), false);
    assert.strictEqual(get(lf, "nextauth.url"), "https://langfuse.es1.example.com");
    const env = lf.additionalEnv as { name: string; value?: string }[];
    assert.deepStrictEqual(
      env.filter((e) => e.name.startsWith("LANGFUSE_DEFAULT_ORG")),
      [
        { name: "LANGFUSE_DEFAULT_ORG_ID", value: "es1" },
        { name: "LANGFUSE_DEFAULT_ORG_ROLE", value: "VIEWER" },
      ],
    );
    const without = get(VALUES.langfuse(plain), "langfuse") as Obj;
    assert.strictEqual(without.auth, undefined);
    assert.strictEqual(get(without, "features.signUpDisabled"), true);
  });

  it("MLflow: oauth2-proxy admits the groups, and the route and gateway policy go to its port", () => {
    const proxy = get(VALUES.mlflow(sso), "oauth2Proxy") as Obj;
    assert.strictEqual(proxy.enabled, true);
    assert.strictEqual(proxy.createSecret, false);
    assert.deepStrictEqual(proxy.existingSecret, {
      name: "es1-sso",
      clientIDKey: "client-id",
      clientSecretKey: "client-secret",
      cookieSecretKey: "cookie-secret",
    });
    assert.deepStrictEqual(proxy.provider, {
      name: "oidc",
      issuerURL: "https://login.example.com/realms/es1",
      redirectURL: "https://mlflow.es1.example.com/oauth2/callback",
    });
    const args = proxy.extraArgs as string[];
    for (const a of ["--allowed-group=es1-admins", "--allowed-group=auditors", "--oidc-groups-claim=groups"])
      assert.ok(args.includes(a), `oauth2-proxy lacks ${a}`);
    assert.strictEqual(VALUES.mlflow(plain).oauth2Proxy, undefined);

    const route = (s: Settings) => planAccess(s).plan.shared.find((x) => x.ui === "mlflow");
    assert.deepStrictEqual(
      [
        route(parse({ cluster: GKE, access: ACCESS }))?.port,
        route(parse({ cluster: GKE, access: ACCESS }))?.podPort,
      ],
      [4180, 4180],
    );
    const noSso = route(parse({ cluster: GKE, access: { baseDomain: "es1.example.com", tls: TLS } }));
    assert.deepStrictEqual([noSso?.port, noSso?.podPort], [80, 5000]);
  });

  it("lists the redirect URI to register for each UI", () => {
    assert.deepStrictEqual(ssoRedirectUris({ urls: sso.sso?.urls ?? {} }), {
      grafana: "https://grafana.es1.example.com/login/generic_oauth",
      airflow: "https://airflow.es1.example.com/auth/oauth-authorized/es1",
      langfuse: "https://langfuse.es1.example.com/api/auth/callback/custom",
      mlflow: "https://mlflow.es1.example.com/oauth2/callback",
    });
  });

  it("leaves a UI out of sso.uis with its own login", () => {
    const only = ctxOf({ cluster: GKE, access: { ...ACCESS, sso: { ...SSO, uis: ["grafana"] } } });
    assert.deepStrictEqual(Object.keys(only.sso?.urls ?? {}), ["grafana"]);
    assert.strictEqual(VALUES.mlflow(only).oauth2Proxy, undefined);
    assert.strictEqual(get(VALUES.airflow(only), "apiServer.apiServerConfig"), undefined);
  });
});

describe("a customer's platform UI with single sign-on", () => {
  const CUSTOMER_SSO = {
    issuer: "https://login.beam.example.com/realms/beam",
    clientId: "beam-platform",
    cidrs: ["203.0.113.20/32"],
  };
  const base = { cluster: GKE, access: { tls: TLS }, customers: { beam: { sso: CUSTOMER_SSO } } };

  it("refuses the customer's client secret when missing, in plain text, or for a customer not in the stack", () => {
    assert.ok(
      refused(base).some((m) =>
        /'es1:customerSsoSecrets\.beam': required: pulumi config set --secret/.test(m),
      ),
    );
    const plainText = refused({ ...base, customerSsoSecrets: { beam: SECRET } }, ["access"]);
    assert.ok(plainText.some((m) => /'es1:customerSsoSecrets\.beam': stored in plain text/.test(m)));
    const stranger = refused({ ...base, customerSsoSecrets: { beam: SECRET, acme: SECRET } }, [
      "access",
      "customerSsoSecrets",
    ]);
    assert.ok(stranger.some((m) => /'es1:customerSsoSecrets\.acme': no customer 'acme'/.test(m)));
    const noCidrs = refused(
      {
        ...base,
        customers: { beam: { sso: { ...CUSTOMER_SSO, cidrs: [] } } },
        customerSsoSecrets: { beam: SECRET },
      },
      ["customerSsoSecrets"],
    );
    assert.ok(noCidrs.some((m) => /'es1:customers\.beam\.sso\.cidrs': required/.test(m)));
  });

  it("refuses it without the UI's https URL", () => {
    const m = refused(
      {
        cluster: GKE,
        access: { mode: "ingress" },
        customers: { nordlys: { sso: CUSTOMER_SSO } },
        customerSsoSecrets: { nordlys: SECRET },
      },
      ["customerSsoSecrets"],
    );
    assert.ok(
      m.some((x) => /'es1:customers\.nordlys\.sso': the identity provider redirects back/.test(x)),
      m.join("\n"),
    );
  });
});

describe("single sign-on under mocks", () => {
  const KEY = generateKeyPair("es1-sso-test");
  const license = (customer: string) => routerLicense(customer, KEY);
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-sso-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");

  it("writes the client secrets into Secrets only: never into values or outputs", async () => {
    const CUSTOMER_SECRET = "Customer-Secret-Value-fedcba9876543210";
    const r = await runProgram(
      {
        "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
        "es1:airgap": JSON.stringify({ charts: SHARED_CHARTS }),
        "es1:components": JSON.stringify({
          ollama: { enabled: false },
          n8n: { enabled: false },
          langflow: { enabled: false },
          langfuse: { enabled: false },
        }),
        "es1:access": JSON.stringify({ ...ACCESS, installEnvoyGateway: true }),
        "es1:licenseTestKeys": "true",
        "es1:licensePublicKeys": JSON.stringify({ [KEY.keyId]: KEY.publicKey }),
        "es1:customers": JSON.stringify({
          beam: {
            sso: { issuer: "https://login.beam.example.com", clientId: "beam", cidrs: ["203.0.113.20/32"] },
          },
        }),
        "es1:licenses": JSON.stringify({ beam: license("beam") }),
        "es1:customerSsoSecrets": JSON.stringify({ beam: CUSTOMER_SECRET }),
      },
      { secretKeys: ["es1:licenses", "es1:access", "es1:customerSsoSecrets"] },
    );
    for (const rel of r.byType("kubernetes:helm.sh/v3:Release")) {
      const text = JSON.stringify(rel.inputs.values);
      assert.ok(
        !text.includes(SECRET) && !text.includes(CUSTOMER_SECRET),
        `${rel.name} values hold a client secret`,
      );
    }
    // `es1 outputs` shows the issuer and the redirect URIs to register (Langfuse is off here).
    assert.deepStrictEqual((r.outputs.access as Obj).sso, {
      issuer: "https://login.example.com/realms/es1",
      redirectUris: {
        grafana: "https://grafana.es1.example.com/login/generic_oauth",
        airflow: "https://airflow.es1.example.com/auth/oauth-authorized/es1",
        mlflow: "https://mlflow.es1.example.com/oauth2/callback",
      },
    });
    const outputs = JSON.stringify(r.outputs);
    assert.ok(
      !outputs.includes(SECRET) && !outputs.includes(CUSTOMER_SECRET),
      "an output holds a client secret",
    );

    const secret = r.one("kubernetes:core/v1:Secret", "sso");
    assert.ok(secret.secretInputs.includes("stringData"), "es1-sso's data is not marked secret");
    const data = secret.inputs.stringData as Record<string, string>;
    assert.deepStrictEqual(Object.keys(data).sort(), ["client-id", "client-secret", "cookie-secret"]);
    assert.strictEqual(data["client-secret"], SECRET);
    const beam = r.one("kubernetes:core/v1:Secret", "beam-sso");
    assert.ok(beam.secretInputs.includes("stringData"));
    assert.deepStrictEqual(beam.inputs.stringData, { "client-secret": CUSTOMER_SECRET });
    assert.deepStrictEqual((beam.inputs.metadata as Obj).name, "beam-sso");

    const values = r.byType("kubernetes:helm.sh/v3:Release").find((x) => x.name === "beam-platform")?.inputs
      .values as Obj;
    assert.deepStrictEqual(values.sso, {
      enabled: true,
      issuer: "https://login.beam.example.com",
      clientId: "beam",
      secretName: "beam-sso",
      cidrs: ["203.0.113.20/32"],
    });
    // MLflow's gateway policy admits the proxy's port, not MLflow's own.
    const policy = r
      .byType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .find((x) => (x.inputs.metadata as Obj).name === "es1-mlflow-from-gateway");
    assert.deepStrictEqual(get(policy?.inputs, "spec.ingress.0.ports"), [{ protocol: "TCP", port: 4180 }]);
  });
});
