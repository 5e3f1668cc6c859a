import * as assert from "assert";
import { ConfigErrors } from "../../config";
import { ComponentName } from "../../config/sizing";
import { flows, GROUPS, networkPolicies, NetworkPolicySpec } from "../../infrastructure/network";
import { runProgram } from "./harness";
import { settingsFrom } from "./values-fixtures";

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

function policiesOf(config: Record<string, unknown>): NetworkPolicySpec[] {
  const s = settingsFrom(config);
  return networkPolicies({
    enabled: (c: ComponentName) => s.components[c].enabled,
    langfuseOperators: s.components.langfuse.enabled && s.components.langfuse.installOperators,
    network: s.network,
  });
}

const byName = (ps: NetworkPolicySpec[], name: string): NetworkPolicySpec => {
  const p = ps.find((x) => x.name === name);
  assert.ok(p, `no policy ${name}; have ${ps.map((x) => x.name).join(", ")}`);
  return p;
};

/** Every ipBlock CIDR a policy lets its pods reach. */
const egressCidrs = (p: NetworkPolicySpec): string[] =>
  (p.spec.egress ?? []).flatMap((r) =>
    r.to.flatMap((t) =>
      (t.ipBlock as { cidr: string } | undefined)?.cidr ? [(t.ipBlock as { cidr: string }).cidr] : [],
    ),
  );

describe("es1-infrastructure network policies", () => {
  it("denies every pod in and out, then allows DNS to the cluster DNS only", () => {
    const ps = policiesOf({});
    assert.deepStrictEqual(byName(ps, "es1-default-deny").spec, {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    const dns = byName(ps, "es1-dns").spec.egress ?? [];
    assert.deepStrictEqual(
      dns.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`)),
      ["UDP/53", "TCP/53"],
    );
  });

  it("admits PostgreSQL clients by name: the applications, customers, replicas, the operator and Prometheus", () => {
    const pg = byName(policiesOf({}), "es1-postgresql");
    const from = (pg.spec.ingress ?? []).map((r) => JSON.stringify(r.from));
    for (const g of [
      "airflow",
      "mlflow",
      "n8n",
      "langflow",
      "langfuse",
      "cnpgOperator",
      "prometheus",
    ] as const)
      assert.ok(
        from.some((f) => f.includes(JSON.stringify(GROUPS[g].pods))),
        `${g} may not reach PostgreSQL`,
      );
    assert.ok(from.some((f) => f.includes('"es1-role":"platform"')));
    // No rule admits every pod of the namespace.
    assert.ok(!from.some((f) => f === '[{"podSelector":{}}]'));
  });

  it("admits only the shared applications to the shared MLflow: each customer has its own", () => {
    const mlflow = byName(policiesOf({}), "es1-mlflow");
    const from = (mlflow.spec.ingress ?? []).map((r) => JSON.stringify(r.from));
    assert.ok(!from.some((f) => f.includes("namespaceSelector")), `platforms admitted: ${from.join(" ")}`);
    assert.ok(from.some((f) => f.includes(JSON.stringify(GROUPS.airflow.pods))));
    assert.ok(from.some((f) => f.includes(JSON.stringify(GROUPS.prometheus.pods))));
  });

  it("lets no application reach outside the cluster unless es1:network.egress names it", () => {
    const ps = policiesOf({});
    for (const name of ["es1-n8n", "es1-langflow", "es1-airflow", "es1-ollama", "es1-mlflow", "es1-langfuse"])
      assert.deepStrictEqual(egressCidrs(byName(ps, name)), [], name);
    const named = policiesOf({
      network: {
        egress: { "model-registry": { component: "ollama", cidr: "203.0.113.0/24", ports: [443] } },
      },
    });
    const ollama = byName(named, "es1-ollama");
    assert.deepStrictEqual(egressCidrs(ollama), ["203.0.113.0/24"]);
    assert.deepStrictEqual(egressCidrs(byName(named, "es1-n8n")), []);
  });

  it("gives the API server's address only to the pods that use the API, on its ports", () => {
    const ps = policiesOf({ network: { apiServerCidrs: ["10.0.0.2/32"], nodeCidrs: ["10.1.0.0/16"] } });
    const withApi = ps.filter((p) => egressCidrs(p).includes("10.0.0.2/32")).map((p) => p.name);
    assert.deepStrictEqual(withApi.sort(), [
      "es1-barman-cloud",
      "es1-cert-manager",
      "es1-clickhouse-operator",
      "es1-cnpg-operator",
      "es1-grafana",
      "es1-kube-state-metrics",
      "es1-postgresql",
      "es1-prometheus",
      "es1-prometheus-operator",
    ]);
    const prom = byName(ps, "es1-prometheus");
    const toNodes = (prom.spec.egress ?? []).find((r) => JSON.stringify(r.to).includes("10.1.0.0/16"));
    assert.deepStrictEqual(
      toNodes?.ports.map((p) => p.port),
      [10250, 9100],
    );
  });

  it("has no policy, and no flow, for a component that is off", () => {
    const ps = policiesOf({ components: { langflow: { enabled: false } } });
    assert.ok(!ps.some((p) => p.name === "es1-langflow"));
    const s = settingsFrom({ components: { langflow: { enabled: false } } });
    const fs = flows({
      enabled: (c) => s.components[c].enabled,
      langfuseOperators: true,
      network: s.network,
    });
    assert.ok(!fs.some((f) => JSON.stringify(f).includes("langflow")));
  });

  it("refuses a bad es1:network naming the key and what is allowed", () => {
    assert.throws(
      () =>
        settingsFrom({
          network: {
            apiServerCidrs: ["10.0.0.300/32"],
            egress: { Bad_Name: { component: "nope", cidr: "x", ports: [70000] } },
          },
        }),
      (e: unknown) => {
        const m = (e as ConfigErrors).message;
        assert.match(m, /'es1:network\.apiServerCidrs\[0\]': "10\.0\.0\.300\/32" is not a CIDR/);
        assert.match(m, /'es1:network\.egress\.Bad_Name': rule names are lower-case/);
        assert.match(
          m,
          /'es1:network\.egress\.Bad_Name\.component': "nope" is not allowed; use one of: postgresql/,
        );
        assert.match(m, /'es1:network\.egress\.Bad_Name\.cidr': "x" is not a CIDR/);
        assert.match(m, /'es1:network\.egress\.Bad_Name\.ports\[0\]': 70000 is out of range/);
        return true;
      },
    );
  });

  it("creates the policies in es1-infrastructure and node-exporter's own privileged namespace", async () => {
    const run = await runProgram({
      "es1:cluster.provider": "existing",
      "es1:cluster.kubeconfig": "/dev/null",
    });
    const names = run
      .byType(NETPOL)
      .map((r) => (r.inputs.metadata as { name: string; namespace: string }).name);
    assert.ok(names.includes("es1-default-deny") && names.includes("es1-node-exporter"));
    const ns = run
      .byType("kubernetes:core/v1:Namespace")
      .map((r) => r.inputs.metadata as { name: string; labels: Record<string, string> });
    const label = (n: string) => ns.find((x) => x.name === n)?.labels["pod-security.kubernetes.io/enforce"];
    assert.strictEqual(label("es1-infrastructure"), "baseline");
    assert.strictEqual(label("es1-node-exporter"), "privileged");
  });
});
