// es1:access on the local cluster: the Gateway API CRDs (the real gateway-api-crds chart) and Envoy
// Gateway (the real gateway-helm chart) installed by the program, the shared Gateway and routes of
// two shared UIs, a Gateway of its own per customer, certificates from cert-manager's CA issuer;
// then the switch to Ingresses. No controller runs on kwok: no Envoy proxy, no certificate is
// issued, no route is Accepted (docs/toolchain.md) - the objects, their references and the API
// server's acceptance (CRD schemas and CEL rules) are what is shown.
import * as assert from "assert";
import { Stack } from "@pulumi/pulumi/automation";
import { generateKeyPair } from "../../platform/license";
import { SHARED_UI_PODS } from "../../access";
import { e2eLicense, testKeyConfig } from "./es1-cli";
import { getObject, mustGet } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-access";
const KEY = generateKeyPair("es1-e2e");
// Beam and Polygraf bring their own domains (customers/*.yaml); Nordlys gets hosts under the base.
const CUSTOMERS = ["beam", "polygraf", "nordlys"];
const BASE = "es1.test";

interface Listener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  tls?: { certificateRefs: { name: string }[] };
}
interface Route {
  metadata: { name: string };
  spec: {
    parentRefs: { name: string; namespace?: string; sectionName?: string }[];
    hostnames?: string[];
    rules: { backendRefs?: { name: string; port: number }[]; filters?: unknown[] }[];
  };
}
interface Items<T> {
  items: T[];
}

describe("access: Gateway API routes with TLS, then Ingresses, on the local cluster", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;

  const get = <T>(...args: string[]): T => mustGet<T>(kubeconfig, ...args);
  const servicePort = (ns: string, name: string): number[] =>
    get<{ spec: { ports: { port: number }[] } }>("-n", ns, "service", name).spec.ports.map((p) => p.port);

  before(async function () {
    ({ stack, kubeconfig, backend } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      // Two shared UIs that need no more than PostgreSQL; Langfuse off, so cert-manager is there
      // for the certificates alone.
      ...componentsOnly(["postgresql", "redis", "langflow", "mlflow"]),
      "es1:platformTimeoutSeconds": "120",
      ...testKeyConfig(KEY),
      "es1:access.mode": "gateway",
      "es1:access.installEnvoyGateway": "true",
      "es1:access.baseDomain": BASE,
      "es1:access.tls.issuer": "ca",
      "es1:access.tls.caSecret": "es1-test-ca",
    }));
    for (const c of CUSTOMERS) {
      await stack.setConfig(`es1:customers.${c}.enabled`, { value: "true" }, true);
      await stack.setConfig(`es1:licenses.${c}`, { value: e2eLicense(KEY, c), secret: true }, true);
    }
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  it("installs the Gateway API CRDs, Envoy Gateway, its GatewayClass and cert-manager's CA issuer", async function () {
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(`      gateway up: ${Math.round((Date.now() - t0) / 1000)}s\n`);
    assert.strictEqual(up.summary.result, "succeeded");
    for (const crd of ["gateways", "httproutes", "gatewayclasses", "referencegrants"]) {
      const c = get<{ metadata: { annotations: Record<string, string> } }>(
        "crd",
        `${crd}.gateway.networking.k8s.io`,
      );
      assert.strictEqual(c.metadata.annotations["gateway.networking.k8s.io/channel"], "standard", crd);
    }
    // Envoy Gateway's own CRDs come with its chart.
    assert.ok(getObject(kubeconfig, "crd", "envoyproxies.gateway.envoyproxy.io"));
    get("-n", "es1-gateway", "deployment", "envoy-gateway");
    const gc = get<{ spec: { controllerName: string } }>("gatewayclass", "es1-envoy");
    assert.strictEqual(gc.spec.controllerName, "gateway.envoyproxy.io/gatewayclass-controller");
    const issuer = get<{ spec: { ca: { secretName: string } } }>("clusterissuer", "es1-ca");
    assert.strictEqual(issuer.spec.ca.secretName, "es1-test-ca");
    get("-n", "es1-infrastructure", "deployment", "es1-cert-manager");
    assert.deepStrictEqual((up.outputs.access.value as { mode: string }).mode, "gateway");
  });

  it("routes each shared UI over HTTPS on its host to its Service, with its certificate", function () {
    const gw = get<{ spec: { gatewayClassName: string; listeners: Listener[] } }>(
      "-n",
      "es1-gateway",
      "gateway",
      "es1",
    );
    assert.strictEqual(gw.spec.gatewayClassName, "es1-envoy");
    const byName = Object.fromEntries(gw.spec.listeners.map((l) => [l.name, l]));
    assert.deepStrictEqual(Object.keys(byName).sort(), ["http", "https-langflow", "https-mlflow"]);
    for (const ui of ["langflow", "mlflow"]) {
      const l = byName[`https-${ui}`];
      assert.deepStrictEqual([l.protocol, l.port, l.hostname], ["HTTPS", 443, `${ui}.${BASE}`]);
      const secret = l.tls?.certificateRefs[0].name;
      const cert = get<{
        spec: { secretName: string; dnsNames: string[]; issuerRef: { kind: string; name: string } };
      }>("-n", "es1-gateway", "certificate", `es1-${ui}-tls`);
      assert.deepStrictEqual(
        [cert.spec.secretName, cert.spec.dnsNames, cert.spec.issuerRef.kind, cert.spec.issuerRef.name],
        [secret, [`${ui}.${BASE}`], "ClusterIssuer", "es1-ca"],
      );
      const route = get<Route>("-n", "es1-infrastructure", "httproute", `es1-${ui}`);
      assert.deepStrictEqual(route.spec.hostnames, [`${ui}.${BASE}`]);
      assert.deepStrictEqual(route.spec.parentRefs, [
        {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: "es1",
          namespace: "es1-gateway",
          sectionName: `https-${ui}`,
        },
      ]);
      // The backend is a real Service of the release, on the port the route names.
      const ref = route.spec.rules[0].backendRefs?.[0];
      assert.ok(
        ref && servicePort("es1-infrastructure", ref.name).includes(ref.port),
        `${ui}: ${JSON.stringify(ref)}`,
      );
      // The NetworkPolicy selects exactly the pods behind that Service.
      const svc = get<{ spec: { selector: Record<string, string> } }>(
        "-n",
        "es1-infrastructure",
        "service",
        ref.name,
      );
      assert.deepStrictEqual(svc.spec.selector, SHARED_UI_PODS[ui as "langflow" | "mlflow"]);
      const np = get<{
        spec: { podSelector: { matchLabels: Record<string, string> }; ingress: { from: unknown[] }[] };
      }>("-n", "es1-infrastructure", "networkpolicy", `es1-${ui}-from-gateway`);
      assert.deepStrictEqual(np.spec.podSelector.matchLabels, svc.spec.selector);
      assert.match(JSON.stringify(np.spec.ingress[0].from), /"kubernetes.io\/metadata.name":"es1-gateway"/);
    }
    const redirect = get<Route>("-n", "es1-gateway", "httproute", "es1-https-redirect");
    assert.deepStrictEqual(redirect.spec.parentRefs[0].sectionName, "http");
  });

  it("gives each customer a Gateway of its own: HTTPS hosts, routes to its gateway and UI, a redirect, a certificate", async function () {
    const outputs = await stack.outputs();
    const urls = outputs.urls.value as Record<string, string>;
    const hosts: Record<string, [string, string]> = {
      beam: ["api.beam.example.com", "app.beam.example.com"],
      polygraf: ["api.polygraf.example.com", "portal.polygraf.example.com"],
      nordlys: [`nordlys-api.${BASE}`, `nordlys.${BASE}`],
    };
    for (const c of CUSTOMERS) {
      const ns = `${c}-platform`;
      const [api, ui] = hosts[c];
      const gw = get<{ spec: { gatewayClassName: string; listeners: Listener[] } }>(
        "-n",
        ns,
        "gateway",
        "es1-platform",
      );
      assert.strictEqual(gw.spec.gatewayClassName, "es1-envoy");
      assert.deepStrictEqual(
        gw.spec.listeners.map((l) => [l.name, l.protocol, l.hostname, l.tls?.certificateRefs[0].name]),
        [
          ["http", "HTTP", undefined, undefined],
          ["https-gateway", "HTTPS", api, "es1-platform-tls"],
          ["https-manager-ui", "HTTPS", ui, "es1-platform-tls"],
        ],
        c,
      );
      const routes = get<Items<Route>>("-n", ns, "httproutes").items;
      const route = (name: string) => routes.find((r) => r.metadata.name === name);
      for (const [name, host, section] of [
        ["es1-platform-gateway", api, "https-gateway"],
        ["es1-platform-manager-ui", ui, "https-manager-ui"],
      ]) {
        const r = route(name);
        assert.ok(r, `${c}: HTTPRoute ${name}`);
        assert.deepStrictEqual(r.spec.hostnames, [host]);
        assert.strictEqual(r.spec.parentRefs[0].sectionName, section);
        const ref = r.spec.rules[0].backendRefs?.[0];
        assert.ok(
          ref && servicePort(ns, ref.name).includes(ref.port),
          `${c}: ${name} -> ${JSON.stringify(ref)}`,
        );
      }
      assert.strictEqual(route("es1-platform-https-redirect")?.spec.parentRefs[0].sectionName, "http");
      const cert = get<{ spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string } } }>(
        "-n",
        ns,
        "certificate",
        "es1-platform",
      );
      assert.deepStrictEqual(
        [cert.spec.secretName, cert.spec.dnsNames, cert.spec.issuerRef.name],
        ["es1-platform-tls", [api, ui].sort(), "es1-ca"],
      );
      // The gateway and UI admit the Envoy proxies (es1-gateway), not ingress-nginx.
      const np = get<{ spec: { ingress: { from: unknown[] }[] } }>(
        "-n",
        ns,
        "networkpolicy",
        "es1-platform-from-ingress-controller",
      );
      assert.deepStrictEqual(np.spec.ingress[0].from, [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "es1-gateway" } },
          podSelector: {
            matchLabels: {
              "app.kubernetes.io/component": "proxy",
              "app.kubernetes.io/managed-by": "envoy-gateway",
              "app.kubernetes.io/name": "envoy",
            },
          },
        },
      ]);
      assert.strictEqual(urls[`${c}.gateway`], `https://${api}`);
      assert.strictEqual(urls[`${c}.ui`], `https://${ui}`);
      assert.strictEqual(getObject(kubeconfig, "-n", ns, "ingress", "es1-platform"), undefined);
    }
    assert.strictEqual(urls.langflow, `https://langflow.${BASE}`);
  });

  it("changes nothing on a second run", async function () {
    const preview = await stack.preview();
    assert.deepStrictEqual(Object.keys(preview.changeSummary), ["same"]);
  });

  it("switched to ingress: Ingresses replace every Gateway and route", async function () {
    await stack.setConfig("es1:access.mode", { value: "ingress" }, true);
    await stack.removeConfig("es1:access.installEnvoyGateway", true);
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(`      switch to ingress: ${Math.round((Date.now() - t0) / 1000)}s\n`);
    assert.strictEqual(up.summary.result, "succeeded");
    // The CRDs went with their release: nothing of Gateway API is left.
    assert.strictEqual(getObject(kubeconfig, "crd", "gateways.gateway.networking.k8s.io"), undefined);
    for (const c of CUSTOMERS) {
      const ing = get<{
        spec: { ingressClassName: string; rules: { host: string }[]; tls: { secretName: string }[] };
        metadata: { annotations: Record<string, string> };
      }>("-n", `${c}-platform`, "ingress", "es1-platform");
      assert.strictEqual(ing.spec.ingressClassName, "nginx");
      assert.strictEqual(ing.metadata.annotations["cert-manager.io/cluster-issuer"], "es1-ca");
      assert.strictEqual(ing.spec.rules.length, 2);
      const np = get<{ spec: { ingress: { from: unknown[] }[] } }>(
        "-n",
        `${c}-platform`,
        "networkpolicy",
        "es1-platform-from-ingress-controller",
      );
      assert.deepStrictEqual(np.spec.ingress[0].from, [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
      ]);
    }
    for (const ui of ["langflow", "mlflow"]) {
      const ing = get<{ spec: { rules: { host: string }[]; tls: { secretName: string }[] } }>(
        "-n",
        "es1-infrastructure",
        "ingress",
        `es1-${ui}`,
      );
      assert.deepStrictEqual(
        [ing.spec.rules[0].host, ing.spec.tls[0].secretName],
        [`${ui}.${BASE}`, `es1-${ui}-tls`],
      );
    }
    assert.strictEqual(getObject(kubeconfig, "namespace", "es1-gateway"), undefined);
  });
});
