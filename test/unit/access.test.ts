import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { accessUrls, planAccess, platformAccess } from "../../access/plan";
import { SHARED_CHARTS } from "../../automation/chart-source";
import { parseSettings, Settings } from "../../config";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { langfuseValues } from "../../infrastructure/values/langfuse";
import { monitoringValues } from "../../infrastructure/values/monitoring";
import { refusals, routerLicense, settingsOf } from "./cluster-helpers";
import { contextFrom } from "./values-fixtures";
import { ProgramRun, runProgram } from "./harness";

const GKE = { provider: "gke", project: "acme-es1-prod", region: "europe-west1" };
const EKS = { provider: "eks", region: "eu-west-1", accountId: "123456789012" };
const AKS = { provider: "aks", region: "westeurope" };
const KUBECONFIG = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-access-")), "kubeconfig");
fs.writeFileSync(KUBECONFIG, "apiVersion: v1\nkind: Config\nclusters: []\n");
const EXISTING = { provider: "existing", kubeconfig: KUBECONFIG };

function plan(s: Settings) {
  return planAccess(s).plan;
}

describe("es1:access settings", () => {
  it("defaults to Gateway API, and exposes nothing without a base domain or hosts", () => {
    const s = settingsOf({ cluster: GKE });
    assert.strictEqual(s.access.mode, "gateway");
    const p = plan(s);
    assert.deepStrictEqual(p.shared, []);
    assert.deepStrictEqual(accessUrls(p), {});
    assert.strictEqual(p.needsCertManager, false);
  });

  it("gives each cloud its own GatewayClass, and where its traffic comes from", () => {
    const access = { baseDomain: "es1.example.com", tls: { issuer: "acme", acmeEmail: "ops@example.com" } };
    const gke = plan(settingsOf({ cluster: GKE, access }));
    assert.strictEqual(gke.gatewayClass, "gke-l7-global-external-managed");
    assert.strictEqual(gke.gatewayClassController, undefined, "GKE ships its class");
    assert.deepStrictEqual(gke.peers, [{ cidr: "35.191.0.0/16" }, { cidr: "130.211.0.0/22" }]);
    assert.strictEqual(gke.installGatewayApiCrds, false);

    const eks = plan(settingsOf({ cluster: EKS, access }));
    assert.strictEqual(eks.gatewayClass, "es1-alb");
    assert.strictEqual(
      eks.gatewayClassController,
      "gateway.k8s.aws/alb",
      "the program creates the ALB class",
    );
    assert.strictEqual(
      eks.installGatewayApiCrds,
      true,
      "the AWS Load Balancer Controller needs the CRDs installed",
    );
    assert.strictEqual(eks.peers.length, 1);
    assert.ok("cidr" in eks.peers[0], "ALB traffic comes from the VPC");

    const aks = plan(settingsOf({ cluster: AKS, access }));
    assert.strictEqual(aks.gatewayClass, "azure-alb-external");
    assert.strictEqual(aks.installGatewayApiCrds, false);

    const envoy = plan(settingsOf({ cluster: EXISTING, access: { ...access, installEnvoyGateway: true } }));
    assert.strictEqual(envoy.gatewayClass, "es1-envoy");
    assert.strictEqual(envoy.gatewayClassController, "gateway.envoyproxy.io/gatewayclass-controller");
    assert.strictEqual(envoy.installGatewayApiCrds, true);
    assert.deepStrictEqual(envoy.peers, [
      {
        namespace: "es1-gateway",
        podLabels: {
          "app.kubernetes.io/name": "envoy",
          "app.kubernetes.io/component": "proxy",
          "app.kubernetes.io/managed-by": "envoy-gateway",
        },
      },
    ]);

    const named = plan(
      settingsOf({
        cluster: EXISTING,
        access: {
          ...access,
          gatewayClass: "istio",
          from: [{ namespace: "istio-ingress", podLabels: { istio: "gw" } }],
        },
      }),
    );
    assert.strictEqual(named.gatewayClass, "istio");
    assert.strictEqual(named.gatewayClassController, undefined, "a named class is the cluster's");
    assert.strictEqual(named.installGatewayApiCrds, false);
  });

  it("puts every shared UI that is on under the base domain, or on its own host", () => {
    const s = settingsOf({
      cluster: GKE,
      components: { n8n: { enabled: false } },
      access: {
        baseDomain: "es1.example.com",
        hosts: { grafana: "metrics.example.org" },
        tls: { issuer: "ca", caSecret: "es1-ca", secrets: { "mlflow.es1.example.com": "mlflow-cert" } },
      },
    });
    const p = plan(s);
    assert.deepStrictEqual(
      p.shared.map((r) => [r.ui, r.host, r.service, r.port, r.tlsSecret, r.issued]),
      [
        ["grafana", "metrics.example.org", "es1-monitoring-grafana", 80, "es1-grafana-tls", true],
        ["airflow", "airflow.es1.example.com", "es1-airflow-api-server", 8080, "es1-airflow-tls", true],
        ["langfuse", "langfuse.es1.example.com", "es1-langfuse-web", 3000, "es1-langfuse-tls", true],
        ["langflow", "langflow.es1.example.com", "es1-langflow", 7860, "es1-langflow-tls", true],
        ["mlflow", "mlflow.es1.example.com", "es1-mlflow", 80, "mlflow-cert", false],
      ],
    );
    assert.strictEqual(p.clusterIssuer, "es1-ca");
    assert.strictEqual(p.needsCertManager, true);
    assert.strictEqual(accessUrls(p).grafana, "https://metrics.example.org");
  });

  it("tells Grafana and Langfuse their public URL, so their links and sign-in redirects use it", () => {
    const access = { baseDomain: "es1.example.com", tls: { issuer: "acme", acmeEmail: "ops@example.com" } };
    const ctx = contextFrom({ cluster: GKE, access });
    const grafana = monitoringValues(ctx).grafana as Record<string, Record<string, unknown>>;
    assert.deepStrictEqual(grafana["grafana.ini"].server, { root_url: "https://grafana.es1.example.com" });
    const langfuse = langfuseValues(ctx).langfuse as { nextauth: { url: string } };
    assert.strictEqual(langfuse.nextauth.url, "https://langfuse.es1.example.com");
    const inCluster = langfuseValues(contextFrom({})).langfuse as { nextauth: { url: string } };
    assert.strictEqual(inCluster.nextauth.url, "http://es1-langfuse-web.es1-infrastructure.svc:3000");
  });

  it("refuses what cannot work, naming the key", () => {
    assert.deepStrictEqual(refusals({ cluster: GKE, access: { mode: "nginx" } }), [
      "Invalid stack configuration 'es1:access.mode': \"nginx\" is not allowed; use one of: gateway, ingress",
    ]);
    assert.match(
      refusals({ cluster: GKE, access: { installEnvoyGateway: true } }).join("\n"),
      /'es1:access.installEnvoyGateway': is for existing clusters/,
    );
    assert.match(
      refusals({ cluster: GKE, access: { tls: { issuer: "acme" } } }).join("\n"),
      /'es1:access.tls.acmeEmail': the ACME issuer needs the e-mail address/,
    );
    assert.match(
      refusals({ cluster: GKE, access: { tls: { issuer: "ca" } } }).join("\n"),
      /'es1:access.tls.caSecret': the CA issuer needs/,
    );
    // TLS everywhere: an exposed host without a certificate source is refused.
    assert.match(
      refusals({ cluster: GKE, access: { baseDomain: "es1.example.com" } }).join("\n"),
      /'es1:access.tls': no certificate for grafana.es1.example.com, airflow/,
    );
    const existing = refusals({
      cluster: EXISTING,
      access: { baseDomain: "es1.example.com", tls: { issuer: "ca", caSecret: "ca" } },
    });
    assert.match(
      existing.join("\n"),
      /'es1:access.gatewayClass': an existing cluster has no default GatewayClass/,
    );
    assert.match(existing.join("\n"), /'es1:access.from': say where the traffic/);
    assert.match(
      refusals({ cluster: GKE, access: { from: [{ cidr: "10.0.0.0" }] } }).join("\n"),
      /'es1:access.from\[0\].cidr': "10.0.0.0" is not a CIDR block/,
    );
    assert.match(
      refusals({ cluster: GKE, access: { hosts: { grafana: "Not A Host" } } }).join("\n"),
      /'es1:access.hosts.grafana': "Not A Host" is not a DNS name/,
    );
  });

  it("keeps Ingresses when asked, admitting ingress-nginx as the platform chart always did", () => {
    const p = plan(
      settingsOf({ cluster: EXISTING, access: { mode: "ingress", baseDomain: "es1.example.com" } }),
    );
    assert.strictEqual(p.mode, "ingress");
    assert.deepStrictEqual(p.peers, [{ namespace: "ingress-nginx", podLabels: {} }]);
    assert.strictEqual(accessUrls(p).grafana, "http://grafana.es1.example.com", "no certificate: plain HTTP");
  });
});

describe("access under mocks", () => {
  const KEY = generateKeyPair("test-2026");
  const license = (customer: string) => routerLicense(customer, KEY);
  const kubeconfig = KUBECONFIG;
  const T = {
    release: "kubernetes:helm.sh/v3:Release",
    gatewayClass: "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    route: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    issuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    certificate: "kubernetes:cert-manager.io/v1:Certificate",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  };
  const run = (access: Record<string, unknown>): Promise<ProgramRun> =>
    runProgram(
      {
        "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
        "es1:airgap": JSON.stringify({ charts: SHARED_CHARTS }),
        // Grafana and Airflow as the shared UIs; Langfuse off, so cert-manager is there for TLS alone.
        "es1:components": JSON.stringify({
          ollama: { enabled: false },
          mlflow: { enabled: false },
          n8n: { enabled: false },
          langflow: { enabled: false },
          langfuse: { enabled: false },
        }),
        "es1:access": JSON.stringify(access),
        "es1:licenseTestKeys": "true",
        "es1:licensePublicKeys": JSON.stringify({ [KEY.keyId]: KEY.publicKey }),
        "es1:customers": JSON.stringify({ beam: {}, nordlys: {} }),
        "es1:licenses": JSON.stringify({ beam: license("beam"), nordlys: license("nordlys") }),
      },
      { secretKeys: ["es1:licenses"] },
    );
  const meta = (r: { inputs: Record<string, unknown> }) =>
    r.inputs.metadata as { name: string; namespace?: string };
  const spec = (r: { inputs: Record<string, unknown> }) => r.inputs.spec as Record<string, unknown>;
  const ENVOY = {
    installEnvoyGateway: true,
    baseDomain: "es1.example.com",
    tls: { issuer: "acme", acmeEmail: "ops@example.com" },
  };

  it("installs the Gateway API CRDs, Envoy Gateway and its class, and routes the shared UIs over HTTPS", async () => {
    const r = await run(ENVOY);
    const releases = r.byType(T.release).map((x) => x.inputs.name);
    for (const name of ["es1-gateway-api-crds", "es1-envoy-gateway", "es1-cert-manager"])
      assert.ok(releases.includes(name), `${name} is installed (releases: ${releases.join(", ")})`);
    const cm = r.byType(T.release).find((x) => x.inputs.name === "es1-cert-manager");
    assert.deepStrictEqual((cm?.inputs.values as Record<string, unknown>).config, { enableGatewayAPI: true });
    assert.strictEqual(
      spec(r.one(T.gatewayClass)).controllerName,
      "gateway.envoyproxy.io/gatewayclass-controller",
    );

    const issuer = spec(r.one(T.issuer)) as { acme: { solvers: unknown[]; email: string } };
    assert.strictEqual(issuer.acme.email, "ops@example.com");
    assert.deepStrictEqual(issuer.acme.solvers, [
      {
        http01: {
          gatewayHTTPRoute: { parentRefs: [{ name: "es1", namespace: "es1-gateway", sectionName: "http" }] },
        },
      },
    ]);

    const gw = r.one(T.gateway);
    assert.deepStrictEqual(meta(gw), {
      name: "es1",
      namespace: "es1-gateway",
      labels: { "es1-role": "gateway", "app.kubernetes.io/part-of": "es1" },
    });
    const listeners = spec(gw).listeners as { name: string; hostname?: string; tls?: unknown }[];
    assert.deepStrictEqual(
      listeners.map((l) => [l.name, l.hostname]),
      [
        ["http", undefined],
        ["https-grafana", "grafana.es1.example.com"],
        ["https-airflow", "airflow.es1.example.com"],
      ],
    );
    const routes = r.byType(T.route).filter((x) => meta(x).namespace === "es1-infrastructure");
    assert.deepStrictEqual(
      routes.map((x) => [meta(x).name, spec(x).hostnames, spec(x).rules]),
      [
        [
          "es1-grafana",
          ["grafana.es1.example.com"],
          [{ backendRefs: [{ name: "es1-monitoring-grafana", port: 80 }] }],
        ],
        [
          "es1-airflow",
          ["airflow.es1.example.com"],
          [{ backendRefs: [{ name: "es1-airflow-api-server", port: 8080 }] }],
        ],
      ],
    );
    assert.deepStrictEqual(
      r.byType(T.certificate).map((c) => [meta(c).name, spec(c).dnsNames]),
      [
        ["es1-grafana-tls", ["grafana.es1.example.com"]],
        ["es1-airflow-tls", ["airflow.es1.example.com"]],
      ],
    );
    const redirect = r.byType(T.route).find((x) => meta(x).name === "es1-https-redirect");
    assert.deepStrictEqual(spec(redirect ?? { inputs: {} }).rules, [
      { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);
    assert.strictEqual(r.byType(T.ingress).length, 0);

    // The shared UIs admit the Envoy proxies on their pod port, nothing else.
    const grafanaPolicy = r.byType(T.netpol).find((x) => meta(x).name === "es1-grafana-from-gateway");
    assert.deepStrictEqual(spec(grafanaPolicy ?? { inputs: {} }).ingress, [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "es1-gateway" } },
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "envoy",
                "app.kubernetes.io/component": "proxy",
                "app.kubernetes.io/managed-by": "envoy-gateway",
              },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 3000 }],
      },
    ]);
  });

  it("gives each customer a Gateway of its own through its chart, with its ACME issuer, and lists every URL", async () => {
    const r = await run(ENVOY);
    const beam = r.byType(T.release).find((x) => x.name === "beam-platform")?.inputs.values as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepStrictEqual(beam.httpRoute, {
      enabled: true,
      gatewayClassName: "es1-envoy",
      gatewayHost: "api.beam.example.com",
      uiHost: "app.beam.example.com",
      tls: {
        gatewaySecretName: "",
        uiSecretName: "",
        clusterIssuer: "",
        acme: { email: "ops@example.com", server: "https://acme-v02.api.letsencrypt.org/directory" },
      },
    });
    assert.strictEqual(beam.ingress.enabled, false);
    assert.strictEqual((beam.networkPolicy.edgePeers as unknown[]).length, 1);
    assert.deepStrictEqual(r.outputs.urls, {
      grafana: "https://grafana.es1.example.com",
      airflow: "https://airflow.es1.example.com",
      "beam.gateway": "https://api.beam.example.com",
      "beam.ui": "https://app.beam.example.com",
      // Nordlys has no domains of its own: hosts under the base domain.
      "nordlys.gateway": "https://nordlys-api.es1.example.com",
      "nordlys.ui": "https://nordlys.es1.example.com",
    });
  });

  it("switched to ingress: Ingresses with cert-manager's annotation, no Gateway API objects", async () => {
    const r = await run({
      mode: "ingress",
      baseDomain: "es1.example.com",
      tls: { issuer: "acme", acmeEmail: "o@x.io" },
    });
    for (const t of [T.gateway, T.gatewayClass, T.route]) assert.strictEqual(r.byType(t).length, 0, t);
    assert.ok(!r.byType(T.release).some((x) => x.inputs.name === "es1-gateway-api-crds"));
    const ingresses = r.byType(T.ingress);
    assert.deepStrictEqual(
      ingresses.map((i) => [meta(i).name, (meta(i) as { annotations?: Record<string, string> }).annotations]),
      [
        ["es1-grafana", { "pulumi.com/skipAwait": "true", "cert-manager.io/cluster-issuer": "es1-acme" }],
        ["es1-airflow", { "pulumi.com/skipAwait": "true", "cert-manager.io/cluster-issuer": "es1-acme" }],
      ],
    );
    assert.deepStrictEqual((spec(r.one(T.issuer)) as { acme: { solvers: unknown[] } }).acme.solvers, [
      { http01: { ingress: { ingressClassName: "nginx" } } },
    ]);
    const beam = r.byType(T.release).find((x) => x.name === "beam-platform")?.inputs.values as Record<
      string,
      Record<string, unknown>
    >;
    assert.strictEqual(beam.httpRoute.enabled, false);
    assert.deepStrictEqual(beam.ingress.tls, { enabled: true, clusterIssuer: "es1-acme" });
    assert.strictEqual(r.outputs.urls["beam.ui"], "https://app.beam.example.com");
  });

  it("on GKE: Gateway API enabled on the cluster, the shared Gateway on GKE's class, Google's ranges admitted", async () => {
    const r = await runProgram(
      {
        "es1:cluster": JSON.stringify(GKE),
        "es1:components": JSON.stringify({ airflow: { enabled: false }, langfuse: { enabled: false } }),
        "es1:access": JSON.stringify({
          baseDomain: "es1.example.com",
          tls: { issuer: "ca", caSecret: "corp-ca" },
        }),
      },
      { stack: "gke-dev" },
    );
    const cluster = r.one("gcp:container/cluster:Cluster");
    assert.deepStrictEqual(cluster.inputs.gatewayApiConfig, { channel: "CHANNEL_STANDARD" });
    assert.strictEqual(spec(r.one(T.gateway)).gatewayClassName, "gke-l7-global-external-managed");
    assert.strictEqual(r.byType(T.gatewayClass).length, 0, "GKE ships its class");
    assert.ok(!r.byType(T.release).some((x) => x.inputs.name === "es1-gateway-api-crds"), "GKE has the CRDs");
    const policy = r.byType(T.netpol).find((x) => meta(x).name === "es1-grafana-from-gateway");
    assert.deepStrictEqual((spec(policy ?? { inputs: {} }).ingress as { from: unknown[] }[])[0].from, [
      { ipBlock: { cidr: "35.191.0.0/16" } },
      { ipBlock: { cidr: "130.211.0.0/22" } },
    ]);
  });

  it("a customer's part of the plan: CA issuer as ClusterIssuer, given Secrets per host", () => {
    const values: Record<string, unknown> = {
      cluster: GKE,
      access: {
        tls: { issuer: "ca", caSecret: "corp-ca", secrets: { "app.beam.example.com": "beam-ui-cert" } },
      },
      customers: { beam: {} },
    };
    const s = parseSettings(
      { keys: () => Object.keys(values), get: (k) => values[k], isSecret: () => false },
      { project: "es1-platform", stack: "test", cwd: PROJECT_ROOT },
    );
    const p = platformAccess(plan(s), s.access, "beam");
    assert.deepStrictEqual(p.hosts, {
      gateway: "api.beam.example.com",
      ui: "app.beam.example.com",
      uiSecret: "beam-ui-cert",
    });
    assert.strictEqual(p.clusterIssuer, "es1-ca");
    assert.strictEqual(p.acme, undefined);
  });
});
