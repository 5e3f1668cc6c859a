import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { Stack } from "@pulumi/pulumi/automation";
import { generateKeyPair } from "../../platform/license";
import { e2eLicense, testKeyConfig } from "./es1-cli";
import { mustGet } from "./kube";
import { allowedConnections, netpolicyBinary, writeClusterObjects } from "./netpol";
import { Connection, Expectations, violations } from "./reachability";
import { discardStack, openE2eStack } from "./stack";

// The proof of issue 14: a three-customer installation with every shared component, its
// NetworkPolicies and workloads read back from the cluster, analysed by np-guard netpol-analyzer,
// and the whole reachability matrix checked against what docs/customers.md ("Isolation") promises.

const STACK = "e2e-isolation";
const KEY = generateKeyPair("es1-e2e-isolation");
const CUSTOMERS = ["beam", "polygraf", "rimbal"];
const INFRA = "es1-infrastructure";
const LANGFUSE_KEYS = { publicKey: "pk-lf-e2e-beam", secretKey: "sk-lf-e2e-beam" };

/**
 * Pods operators make on a real cluster (none runs on the simulated one), with the labels those
 * operators set: CloudNativePG (`cnpg.io/cluster`), the Prometheus Operator (the selectors of the
 * chart's Services es1-monitoring-prometheus and -alertmanager), the ClickHouse operator
 * (`clickhouse.com/role`). They join the analysis, never the cluster.
 */
const OPERATOR_PODS: { name: string; labels: Record<string, string>; ports: [string, number][] }[] = [
  {
    name: "es1-postgresql-1",
    labels: { "cnpg.io/cluster": "es1-postgresql", "cnpg.io/instanceRole": "primary" },
    ports: [
      ["postgresql", 5432],
      ["metrics", 9187],
      ["status", 8000],
    ],
  },
  {
    name: "prometheus-es1-monitoring-prometheus-0",
    labels: {
      "app.kubernetes.io/name": "prometheus",
      "operator.prometheus.io/name": "es1-monitoring-prometheus",
    },
    ports: [
      ["http-web", 9090],
      ["reloader-web", 8080],
    ],
  },
  {
    name: "alertmanager-es1-monitoring-alertmanager-0",
    labels: { "app.kubernetes.io/name": "alertmanager", alertmanager: "es1-monitoring-alertmanager" },
    ports: [
      ["http-web", 9093],
      ["reloader-web", 8080],
    ],
  },
  {
    name: "es1-langfuse-clickhouse-0-0-0",
    labels: {
      "clickhouse.com/role": "clickhouse-server",
      "app.kubernetes.io/instance": "es1-langfuse-clickhouse",
    },
    ports: [
      ["http", 8123],
      ["tcp", 9000],
      ["interserver", 9009],
    ],
  },
  {
    name: "es1-langfuse-keeper-0",
    labels: {
      "clickhouse.com/role": "clickhouse-keeper",
      "app.kubernetes.io/instance": "es1-langfuse-keeper",
    },
    ports: [
      ["client", 2181],
      ["raft", 9234],
    ],
  },
];

describe("isolation of paying tenants, proved by reachability analysis", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let dir: string;
  let apiServer: string;
  let nodes: string[];
  let expect: Expectations;
  let netpolicy: string;

  const analyse = (): Connection[] => allowedConnections(netpolicy, dir);

  before(async function () {
    netpolicy = netpolicyBinary();
    ({ stack, kubeconfig, backend } = await openE2eStack(STACK, {}));
    // Where this cluster's API server and nodes answer: the addresses es1:network names.
    const ep = mustGet<{ subsets: { addresses: { ip: string }[] }[] }>(
      kubeconfig,
      "-n",
      "default",
      "endpoints",
      "kubernetes",
    );
    apiServer = ep.subsets[0].addresses[0].ip;
    // The simulated nodes have no addresses of their own: a documentation range stands for them.
    nodes = ["198.51.100.0/24"];
    const config: Record<string, string> = {
      "es1:sizing": "minimal",
      ...testKeyConfig(KEY),
      "es1:network.apiServerCidrs[0]": `${apiServer}/32`,
      "es1:network.nodeCidrs[0]": nodes[0],
    };
    for (const [k, value] of Object.entries(config)) await stack.setConfig(k, { value }, true);
    for (const c of CUSTOMERS) {
      await stack.setConfig(`es1:customers.${c}.enabled`, { value: "true" }, true);
      await stack.setConfig(`es1:licenses.${c}`, { value: e2eLicense(KEY, c), secret: true }, true);
    }
    // Beam alone has a Langfuse project of its own: only its platform may reach Langfuse.
    for (const [k, value] of Object.entries(LANGFUSE_KEYS))
      await stack.setConfig(`es1:langfuseKeys.beam.${k}`, { value, secret: true }, true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-isolation-"));
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("deploys every shared component and three customers", async function () {
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(
      `      every component, three customers: ${Math.round((Date.now() - t0) / 1000)}s\n`,
    );
    assert.strictEqual(up.summary.result, "succeeded");
    const ns = mustGet<{ metadata: { labels: Record<string, string> } }>(kubeconfig, "namespace", INFRA);
    assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
    const ne = mustGet<{ metadata: { labels: Record<string, string> } }>(
      kubeconfig,
      "namespace",
      "es1-node-exporter",
    );
    assert.strictEqual(ne.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    mustGet(kubeconfig, "-n", "es1-node-exporter", "daemonset", "es1-monitoring-prometheus-node-exporter");
  });

  it("holds the isolation matrix in what the cluster holds, analysed by netpol-analyzer", function () {
    // What the cluster holds: namespaces, workloads and NetworkPolicies, one file each kind.
    const objects = writeClusterObjects(kubeconfig, dir);
    fs.writeFileSync(
      path.join(dir, "operator-pods.yaml"),
      OPERATOR_PODS.map((p) =>
        yaml.dump({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: p.name, namespace: INFRA, labels: p.labels },
          spec: {
            containers: [
              {
                name: "main",
                image: "x",
                ports: p.ports.map(([name, containerPort]) => ({ name, containerPort })),
              },
            ],
          },
        }),
      ).join("---\n"),
    );
    // Prometheus may scrape a customer's container ports named http, metrics and license only.
    const scrapePorts: Record<string, number[]> = {};
    for (const o of objects.filter(
      (x) => x.kind === "Deployment" && x.metadata.namespace?.endsWith("-platform"),
    ))
      scrapePorts[`${o.metadata.namespace}/${o.metadata.name}`] = (
        o.spec?.template?.spec?.containers ?? []
      ).flatMap((c) =>
        (c.ports ?? [])
          .filter((p) => ["http", "metrics", "license"].includes(p.name ?? ""))
          .map((p) => p.containerPort),
      );
    expect = {
      infrastructureNamespace: INFRA,
      customerNamespaces: CUSTOMERS.map((c) => `${c}-platform`),
      prometheus: ["prometheus-es1-monitoring-prometheus"],
      scrapePorts,
      stores: {
        // The instances (es1-postgresql-1, -2, ...), not the operator.
        "^es1-postgresql-\\d+$": {
          customers: [5432],
          from: {
            ...Object.fromEntries(
              [
                "es1-airflow",
                "es1-mlflow",
                "es1-n8n",
                "es1-langflow",
                "es1-langfuse-web",
                "es1-langfuse-worker",
              ].map((a) => [a, [5432]]),
            ),
            "^es1-postgresql-\\d+$": [5432, 8000],
            "es1-postgresql-operator": [8000],
            // The cluster chart's `helm test` Job.
            "es1-postgresql-ping-test": [5432],
            "prometheus-es1-monitoring-prometheus": [9187],
          },
        },
        "es1-redis": {
          customers: [6379],
          from: {
            ...Object.fromEntries(
              ["es1-airflow", "es1-n8n", "es1-langfuse-web", "es1-langfuse-worker"].map((a) => [a, [6379]]),
            ),
            "prometheus-es1-monitoring-prometheus": [9121],
          },
        },
        "es1-langfuse-clickhouse": {
          customers: [],
          from: {
            "es1-langfuse-web": [8123, 9000],
            "es1-langfuse-worker": [8123, 9000],
            "es1-langfuse-clickhouse": [9000, 9009],
            "es1-clickhouse-operator": [8123, 9000],
          },
        },
        "es1-langfuse-s3": {
          customers: [],
          from: {
            "es1-langfuse-web": [8333, 9333],
            "es1-langfuse-worker": [8333, 9333],
            "es1-langfuse-bucket-hook": [8333, 9333],
            "es1-langfuse-s3": [9333, 19333, 8080, 18080, 8888, 18888, 8333],
            "prometheus-es1-monitoring-prometheus": [9324],
          },
        },
      },
      // Not the shared MLflow: each customer has its own, in its namespace (platform/mlflow.ts).
      customerServices: { "es1-ollama": [11434], "es1-langfuse-web": [3000] },
      egress: [
        {
          from: [
            "es1-postgresql-operator",
            "es1-postgresql",
            "es1-monitoring-operator",
            "es1-monitoring-kube-state-metrics",
            "es1-monitoring-grafana",
            "prometheus-es1-monitoring-prometheus",
            "es1-cert-manager",
            "es1-clickhouse-operator",
          ],
          cidrs: [`${apiServer}/32`],
          ports: [443, 6443],
        },
        {
          from: ["prometheus-es1-monitoring-prometheus"],
          cidrs: nodes,
          ports: [10250, 9100],
        },
      ],
      // Rimbal checks its license online (customers/rimbal.yaml): its license server only.
      customerEgress: { "rimbal-platform": { cidrs: ["203.0.113.10/32"], ports: [443] } },
      ingress: [
        {
          to: [
            "es1-postgresql-operator",
            "es1-monitoring-operator",
            "es1-cert-manager-webhook",
            "es1-clickhouse-operator",
          ],
          cidrs: [`${apiServer}/32`],
          ports: [443, 9443, 10250],
        },
        // es1 status: volume usage from Prometheus, through the API server's service proxy.
        { to: ["prometheus-es1-monitoring-prometheus"], cidrs: [`${apiServer}/32`], ports: [9090] },
      ],
    };
    const conns = analyse();
    const between = (from: string, to: string) =>
      conns.filter((c) => c.src.startsWith(`${from}/`) && c.dst.startsWith(`${to}/`));
    // The matrix, by namespace pair, for the record (docs/customers.md, "Isolation").
    const pairs = new Map<string, number>();
    for (const c of conns) {
      const key = `${c.src.split("/")[0]} -> ${c.dst.split("/")[0]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    process.stderr.write(
      `      ${conns.length} allowed connections: ${JSON.stringify(Object.fromEntries(pairs))}\n`,
    );
    assert.deepStrictEqual(violations(conns, expect), []);
    for (const a of CUSTOMERS)
      for (const b of CUSTOMERS)
        if (a !== b) assert.deepStrictEqual(between(`${a}-platform`, `${b}-platform`), []);
    // What customers do need still flows: their database, and Prometheus' scrapes of them.
    for (const c of CUSTOMERS) {
      assert.ok(
        between(`${c}-platform`, INFRA).some(
          (x) => x.dst.includes("es1-postgresql-1") && x.conn === "TCP 5432",
        ),
        `${c} cannot reach its database`,
      );
      assert.ok(
        between(INFRA, `${c}-platform`).some((x) => x.src.includes("prometheus-es1-monitoring-prometheus")),
        `Prometheus cannot scrape ${c}`,
      );
      // Its own MLflow: reached by its platform, reaching its database; never the shared one.
      assert.ok(
        between(`${c}-platform`, `${c}-platform`).some(
          (x) => x.src.includes("-manager-api") && x.dst.includes(`/${c}-mlflow[`) && x.conn === "TCP 5000",
        ),
        `${c}'s platform cannot reach its own MLflow`,
      );
      assert.ok(
        between(`${c}-platform`, INFRA).some(
          (x) =>
            x.src.includes(`/${c}-mlflow[`) && x.dst.includes("es1-postgresql-1") && x.conn === "TCP 5432",
        ),
        `${c}'s MLflow cannot reach its database`,
      );
      assert.deepStrictEqual(
        between(`${c}-platform`, INFRA).filter((x) => x.dst.includes("/es1-mlflow[")),
        [],
        `${c} reaches the shared MLflow`,
      );
      // Only Beam has Langfuse keys (es1:langfuseKeys): Langfuse admits its tracing pods alone.
      const toLangfuse = between(`${c}-platform`, INFRA).filter((x) => x.dst.includes("/es1-langfuse-web["));
      if (c === "beam")
        assert.ok(
          toLangfuse.some((x) => x.src.includes("-agent-router[") && x.conn === "TCP 3000"),
          `beam cannot reach Langfuse: ${JSON.stringify(toLangfuse)}`,
        );
      else assert.deepStrictEqual(toLangfuse, [], `${c} reaches Langfuse without a project of its own`);
      // Inside its namespace, its MLflow reaches nothing but DNS (outside): no platform pod.
      assert.deepStrictEqual(
        between(`${c}-platform`, `${c}-platform`).filter((x) => x.src.includes(`/${c}-mlflow[`)),
        [],
      );
    }
    assert.ok(
      !conns.some((c) => c.src.startsWith(`${INFRA}/es1-langflow`) && !c.dst.startsWith(`${INFRA}/`)),
      "Langflow reaches beyond the shared namespace",
    );
  });

  it("fails, naming the path, when a policy opens one", function () {
    // Someone "fixes" a scrape by admitting the whole shared namespace into Beam's platform (the
    // policy this project had before), and a Langflow flow by letting it out everywhere.
    const loosened = [
      {
        metadata: { name: "from-the-shared-namespace", namespace: "beam-platform" },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": INFRA } } }] },
          ],
        },
      },
      {
        metadata: { name: "langflow-anywhere", namespace: INFRA },
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/instance": "es1-langflow" } },
          policyTypes: ["Egress"],
          egress: [{}],
        },
      },
    ];
    fs.writeFileSync(
      path.join(dir, "loosened.yaml"),
      loosened
        .map((p) => yaml.dump({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", ...p }))
        .join("---\n"),
    );
    const found = violations(analyse(), expect);
    fs.rmSync(path.join(dir, "loosened.yaml"));
    assert.ok(
      found.some((v) => v.startsWith(`${INFRA}/es1-langflow[Deployment] => beam-platform/`)),
      `no violation names Langflow reaching Beam: ${found.join("\n")}`,
    );
    // The other customers stay closed.
    assert.ok(!found.some((v) => /=> (polygraf|rimbal)-platform\//.test(v)), found.join("\n"));
    assert.ok(
      found.some((v) => /es1-langflow\[Deployment\] => 0\.0\.0\.0-/.test(v)),
      found.join("\n"),
    );
  });
});
