import * as assert from "assert";
import { Stack } from "@pulumi/pulumi/automation";
import { getObject, helm, mustGet } from "./kube";
import { discardStack, openE2eStack } from "./stack";

const STACK = "e2e-infra";
const NS = "es1-infrastructure";
const REGISTRY = "mirror.es1.test:5000/es1";
const PULL_SECRET = "es1-mirror-pull";
const OPERATOR_PODS_WITHOUT_PULL_SECRETS = ["es1-langfuse-clickhouse", "es1-langfuse-keeper"];

/**
 * Secrets that workloads mount but that no chart renders: on a real cluster a controller or a
 * hook Job makes them; on the simulated cluster nothing runs, so they never appear. Nothing else
 * may be missing (docs/toolchain.md).
 */
const MADE_ON_A_REAL_CLUSTER: Record<string, string> = {
  // kube-prometheus-stack: the operator's webhook TLS, from a cert-manager Certificate when the
  // stack installs cert-manager (here, for Langfuse), else from the chart's create-secret Job.
  "es1-monitoring-admission": "cert-manager, or the chart's admission-create Job",
  // CloudNativePG operator: it makes its webhook certificate itself when it starts.
  "cnpg-webhook-cert": "the CloudNativePG operator, at start",
  // ClickHouse operator: its webhook's serving certificate, from a cert-manager Certificate.
  "es1-clickhouse-operator-serving-cert": "cert-manager (Certificate of the ClickHouse operator chart)",
};

interface Container {
  name: string;
  image: string;
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  envFrom?: { secretRef?: { name: string } }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { secret?: { secretName: string; items?: { key: string }[] } }[];
  imagePullSecrets?: { name: string }[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
}
interface Workload {
  kind: string;
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: PodSpec } };
  status: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}
interface Secret {
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

describe("shared infrastructure on the local cluster: every component, air-gapped", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;

  function workloads(): Workload[] {
    return ["deployments", "statefulsets", "daemonsets"].flatMap(
      (kind) => mustGet<{ items: Workload[] }>(kubeconfig, "-n", NS, kind).items,
    );
  }

  before(async function () {
    ({ stack, kubeconfig, backend } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      "es1:airgap.registry": REGISTRY,
      "es1:airgap.imagePullSecrets[0]": PULL_SECRET,
      "es1:components.ollama.models[0]": "llama3.2:1b",
      // The simulated aiml node has a GPU; on an existing cluster that is opted into.
      "es1:components.ollama.gpu": "true",
    }));
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  it("installs every component's release from the chart mirror", async function () {
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(`      first up: ${Math.round((Date.now() - t0) / 1000)}s\n`);
    assert.strictEqual(up.summary.result, "succeeded");
    const releases = JSON.parse(helm(kubeconfig, "list", "-n", NS, "-o", "json")) as {
      name: string;
      status: string;
    }[];
    assert.deepStrictEqual(
      releases.map((r) => [r.name, r.status]).sort(),
      [
        "es1-airflow",
        "es1-base",
        "es1-cert-manager",
        "es1-clickhouse-operator",
        "es1-langflow",
        "es1-langfuse",
        "es1-mlflow",
        "es1-monitoring",
        "es1-monitoring-crds",
        "es1-n8n",
        "es1-ollama",
        "es1-postgresql",
        "es1-postgresql-operator",
        "es1-redis",
      ].map((n) => [n, "deployed"]),
    );
  });

  it("runs every workload Ready, on the infrastructure pool (Ollama on the GPU pool)", function () {
    const all = workloads();
    assert.ok(all.length >= 15, `only ${all.length} workloads`);
    for (const w of all) {
      const want = w.kind === "DaemonSet" ? w.status.desiredNumberScheduled : (w.spec.replicas ?? 1);
      const ready = w.kind === "DaemonSet" ? w.status.numberReady : w.status.readyReplicas;
      assert.strictEqual(ready ?? 0, want, `${w.kind} ${w.metadata.name} is not Ready`);
      if (w.kind === "DaemonSet") continue;
      const pool = w.spec.template.spec.nodeSelector?.["es1-pool"];
      assert.strictEqual(pool, w.metadata.name === "es1-ollama" ? "aiml" : "infrastructure", w.metadata.name);
    }
  });

  it("has every Secret a workload reads, with the key it reads", function () {
    const secrets = new Map(
      mustGet<{ items: Secret[] }>(kubeconfig, "-n", NS, "secrets").items.map((s) => [s.metadata.name, s]),
    );
    const missing: string[] = [];
    const excepted = new Set<string>();
    let references = 0;
    const need = (who: string, name: string, key?: string) => {
      references++;
      if (name in MADE_ON_A_REAL_CLUSTER && !secrets.has(name)) {
        excepted.add(name);
        return;
      }
      const s = secrets.get(name);
      if (!s) missing.push(`${who}: Secret ${name}`);
      else if (key !== undefined && !(key in (s.data ?? {})))
        missing.push(`${who}: key ${key} of Secret ${name}`);
    };
    for (const w of workloads()) {
      const spec = w.spec.template.spec;
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const who = `${w.metadata.name}/${c.name}`;
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) need(who, ref.name, ref.key);
        }
        for (const e of c.envFrom ?? []) if (e.secretRef) need(who, e.secretRef.name);
      }
      for (const v of spec.volumes ?? []) {
        if (!v.secret) continue;
        if (v.secret.items) for (const i of v.secret.items) need(w.metadata.name, v.secret.secretName, i.key);
        else need(w.metadata.name, v.secret.secretName);
      }
    }
    assert.deepStrictEqual(missing, []);
    // The list holds only what is really read: an entry no workload needs any more is stale.
    assert.deepStrictEqual([...excepted].sort(), Object.keys(MADE_ON_A_REAL_CLUSTER).sort());
    assert.ok(references >= 30, `only ${references} Secret references: the charts read too little`);
  });

  it("pulls every image from the mirror registry with its pull secret", function () {
    const all = workloads();
    // Some charts (cert-manager) put the pull secret on the ServiceAccount, whose admission
    // copies it into each pod: the pod has it either way.
    const accountSecrets = new Map(
      mustGet<{ items: { metadata: { name: string }; imagePullSecrets?: { name: string }[] }[] }>(
        kubeconfig,
        "-n",
        NS,
        "serviceaccounts",
      ).items.map((a) => [a.metadata.name, a.imagePullSecrets ?? []]),
    );
    assert.ok(all.length >= 15, `only ${all.length} workloads`);
    for (const w of all) {
      const spec = w.spec.template.spec;
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])])
        assert.ok(c.image.startsWith(`${REGISTRY}/`), `${w.metadata.name}/${c.name}: ${c.image}`);
      // Langfuse 2.0 hands ClickHouse and Keeper to the ClickHouse operator without a pull
      // secret field: their nodes need registry credentials (docs/components.md, Langfuse).
      if (OPERATOR_PODS_WITHOUT_PULL_SECRETS.includes(w.metadata.name)) continue;
      const podSecrets = [
        ...(spec.imagePullSecrets ?? []),
        ...(accountSecrets.get(spec.serviceAccountName ?? "default") ?? []),
      ];
      assert.ok(
        podSecrets.some((s) => s.name === PULL_SECRET),
        `${w.metadata.name} has no pull secret`,
      );
    }
  });

  it("keeps every credential out of Helm's values and manifests", function () {
    const ours = mustGet<{ items: Secret[] }>(
      kubeconfig,
      "-n",
      NS,
      "secrets",
      "-l",
      "es1-role=infrastructure",
    ).items;
    const values = ours.flatMap((s) =>
      Object.values(s.data ?? {})
        .map((b64) => Buffer.from(b64, "base64").toString())
        .filter((v) => v.length >= 16),
    );
    assert.ok(values.length >= 20, `only ${values.length} credentials`);
    const releases = JSON.parse(helm(kubeconfig, "list", "-n", NS, "-o", "json")) as { name: string }[];
    for (const { name } of releases) {
      const text =
        helm(kubeconfig, "get", "values", name, "-n", NS, "--all", "-o", "json") +
        helm(kubeconfig, "get", "manifest", name, "-n", NS);
      for (const v of values) assert.ok(!text.includes(v), `a credential is in release ${name}`);
    }
  });

  it("ships the ES1 dashboards and alert rules where Grafana's sidecar and Prometheus pick them up", function () {
    // Grafana's dashboard sidecar watches ConfigMaps by label: the label it was given must be on ours.
    const grafana = mustGet<Workload>(kubeconfig, "-n", NS, "deployment", "es1-monitoring-grafana");
    const sidecar = grafana.spec.template.spec.containers.find((c) => c.name === "grafana-sc-dashboard");
    assert.ok(sidecar, "Grafana runs no dashboard sidecar");
    const env = Object.fromEntries(
      ((sidecar.env ?? []) as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
    );
    const dashboards = mustGet<{
      metadata: { labels?: Record<string, string> };
      data: Record<string, string>;
    }>(kubeconfig, "-n", NS, "configmap", "es1-dashboards");
    assert.strictEqual(
      dashboards.metadata.labels?.[env.LABEL ?? ""],
      env.LABEL_VALUE ?? "1",
      JSON.stringify(env),
    );
    const titles = Object.values(dashboards.data).map((d) => (JSON.parse(d) as { title: string }).title);
    assert.ok(titles.length >= 2, `dashboards: ${titles.join(", ")}`);

    // Prometheus selects every PrometheusRule (an empty selector), so es1-alerts is evaluated.
    const prometheus = mustGet<{
      items: { spec: { ruleSelector?: object; ruleNamespaceSelector?: object } }[];
    }>(kubeconfig, "-n", NS, "prometheuses").items;
    assert.strictEqual(prometheus.length, 1);
    assert.deepStrictEqual(prometheus[0].spec.ruleSelector, {});
    const rule = mustGet<{ spec: { groups: { rules: { alert?: string }[] }[] } }>(
      kubeconfig,
      "-n",
      NS,
      "prometheusrule",
      "es1-alerts",
    );
    const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    for (const a of ["ES1ComponentDown", "ES1GatewayErrorRate", "ES1LicenseExpiringSoon", "ES1VolumeFilling"])
      assert.ok(alerts.includes(a), `es1-alerts lacks ${a}: ${alerts.join(", ")}`);
  });

  it("has nothing to do on a second up", async function () {
    const up = await stack.up();
    const changes = up.summary.resourceChanges ?? {};
    assert.deepStrictEqual(Object.keys(changes), ["same"], JSON.stringify(changes));
  });

  it("keeps a switched-off component's volume and credentials, and finds them when it comes back", async function () {
    const claim = () => getObject<{ metadata: { uid: string } }>(kubeconfig, "-n", NS, "pvc", "es1-langflow");
    const secretKey = () =>
      mustGet<Secret>(kubeconfig, "-n", NS, "secret", "es1-langflow-auth").data?.["secret-key"];
    const [volume, key] = [claim()?.metadata.uid, secretKey()];
    assert.ok(volume && key);

    await stack.setConfig("es1:components.langflow.enabled", { value: "false" }, true);
    const off = await stack.up();
    assert.strictEqual(off.summary.result, "succeeded");
    assert.ok(!helm(kubeconfig, "list", "-n", NS, "-q").split("\n").includes("es1-langflow"));
    assert.strictEqual(claim()?.metadata.uid, volume, "the Langflow volume is gone");
    assert.ok(!getObject(kubeconfig, "-n", NS, "secret", "es1-langflow-auth"), "Langflow's Secret stayed");

    await stack.setConfig("es1:components.langflow.enabled", { value: "true" }, true);
    const on = await stack.up();
    assert.strictEqual(on.summary.result, "succeeded");
    assert.strictEqual(claim()?.metadata.uid, volume, "Langflow came back on a new volume");
    assert.strictEqual(secretKey(), key, "Langflow came back with a new secret key");
  });
});
