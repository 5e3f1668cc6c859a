// Day-to-day operations on the local cluster: `es1 preflight` (and its run at the start of `up`)
// and `es1 status`. One small stack: PostgreSQL, Valkey and one customer (docs/operations.md).
import * as assert from "assert";
import { Stack } from "@pulumi/pulumi/automation";
import type { PreflightReport } from "../../automation/preflight";
import type { OperationReport } from "../../automation/report";
import type { StatusReport } from "../../automation/status";
import { readState } from "../../automation/state";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { e2eLicense, runEs1, runEs1Json, testKeyConfig } from "./es1-cli";
import { clusterUp, eventually, getObject, kubectl, kubectlWithInput } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-ops";
const KEY = generateKeyPair("es1-e2e-ops");
const CUSTOMER = "nordlys";

describe("operations: preflight and status on the local cluster", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let env: Record<string, string>;

  const es1Json = <T>(exit: number, ...args: string[]): T => runEs1Json<T>(PROJECT_ROOT, env, exit, ...args);

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      ...componentsOnly(["postgresql", "redis"]),
      "es1:platformTimeoutSeconds": "45",
      ...testKeyConfig(KEY),
    }));
    await stack.setConfig(`es1:customers.${CUSTOMER}.enabled`, { value: "true" }, true);
    await stack.setConfig(
      `es1:licenses.${CUSTOMER}`,
      { value: e2eLicense(KEY, CUSTOMER), secret: true },
      true,
    );
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  describe("preflight", function () {
    // Each case breaks the cluster on purpose; scripts/cluster.sh up puts nodes and classes back.
    afterEach(function () {
      clusterUp();
    });

    it("passes on the normal local cluster", function () {
      const r = es1Json<PreflightReport>(0, "preflight", "--stack", STACK);
      assert.strictEqual(r.status, "passed");
      assert.deepStrictEqual(
        r.checks.filter((c) => c.status !== "pass" && c.status !== "skip").map((c) => `${c.id}: ${c.found}`),
        [],
      );
      assert.ok(r.checks.some((c) => c.id === "pool/platform" && c.status === "pass"));
    });

    it("fails with a node's pool label removed, naming the pool and the label; up deploys nothing", async function () {
      kubectl(kubeconfig, "label", "node", "es1-infrastructure-0", "es1-pool-");
      const r = es1Json<PreflightReport>(2, "preflight", "--stack", STACK);
      const failed = r.checks.filter((c) => c.status === "fail");
      assert.deepStrictEqual(
        failed.map((c) => c.id),
        ["pool/infrastructure"],
      );
      assert.match(failed[0].found, /no node carries label es1-pool=infrastructure/);

      const up = es1Json<OperationReport>(2, "up", "--stack", STACK, "--yes");
      assert.ok(
        up.errors.some((e) => /^preflight pool\/infrastructure: .*es1-pool=infrastructure/.test(e)),
        up.errors.join("\n"),
      );
      assert.deepStrictEqual(up.summary, {});
      assert.strictEqual((await readState(stack)).length, 0, "the stack's state holds no resource");
      assert.strictEqual(getObject(kubeconfig, "namespace", "es1-infrastructure"), undefined);
    });

    it("fails with a missing StorageClass, and so does preview", function () {
      kubectl(kubeconfig, "delete", "storageclass", "standard");
      const r = es1Json<PreflightReport>(2, "preflight", "--stack", STACK);
      const sc = r.checks.find((c) => c.id === "storage-class");
      assert.strictEqual(sc?.status, "fail");
      assert.match(sc?.found ?? "", /no StorageClass 'standard'/);
      const preview = es1Json<OperationReport>(2, "preview", "--stack", STACK);
      assert.ok(
        preview.errors.some((e) => e.startsWith("preflight storage-class:")),
        preview.errors.join("\n"),
      );
    });
  });

  describe("status", function () {
    /** Every release and customer that is not healthy, with its problems. */
    const unhealthy = (r: StatusReport): string[] => [
      ...r.components.flatMap((c) =>
        c.releases.filter((x) => !x.healthy).map((x) => `${x.name}: ${x.problems.join("; ")}`),
      ),
      ...r.customers.filter((c) => !c.healthy).map((c) => `customer ${c.customer}: ${c.problems.join("; ")}`),
    ];
    /** Volume usage without Prometheus: this stack has the monitoring component off. */
    const noPrometheus =
      "no Prometheus: Service es1-monitoring-prometheus in es1-infrastructure not found (the monitoring component is off)";
    /** Each component's and customer's volume usage: owner, namespace, metrics, reason, claims. */
    const volumes = (r: StatusReport): string[] =>
      [
        ...r.components.map((c) => [c.component, c.volumes] as const),
        ...r.customers.map((c) => [`customer ${c.customer}`, c.volumes] as const),
      ].map(
        ([owner, v]) =>
          `${owner} ${v.namespace} metrics=${v.metrics} ${v.reason ?? ""} [${v.claims.map((c) => `${c.claim} ${c.state}`).join(", ")}]`,
      );
    /** The same without metrics, for `reason`: Valkey's claim listed, no numbers. */
    const noMetrics = (reason: string): string[] => [
      `base es1-infrastructure metrics=false ${reason} []`,
      `postgresql es1-infrastructure metrics=false ${reason} []`,
      `redis es1-infrastructure metrics=false ${reason} [es1-redis no metrics]`,
      `customer ${CUSTOMER} ${CUSTOMER}-platform metrics=false ${reason} []`,
    ];

    before(function () {
      // Through es1 up, so its preflight passes on the normal cluster first.
      const up = es1Json<OperationReport>(0, "up", "--stack", STACK, "--yes");
      assert.strictEqual(up.status, "succeeded");
    });

    it("reports every release and customer healthy once PostgreSQL's operator reports its cluster", function () {
      // No operator runs on the simulated cluster, so the CNPG Cluster has no status: status says so.
      const first = es1Json<StatusReport>(1, "status", "--stack", STACK);
      assert.deepStrictEqual(unhealthy(first), [
        "es1-postgresql: Cluster es1-postgresql: no status: its operator has not reconciled it",
      ]);
      // What CloudNativePG writes once its instance is up.
      kubectl(
        kubeconfig,
        "patch",
        "clusters.postgresql.cnpg.io",
        "es1-postgresql",
        "-n",
        "es1-infrastructure",
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { phase: "Cluster in healthy state", instances: 1, readyInstances: 1 } }),
      );
      const r = es1Json<StatusReport>(0, "status", "--stack", STACK);
      assert.deepStrictEqual(unhealthy(r), []);
      // No Prometheus: every namespace says so, and that alone leaves everything healthy.
      assert.deepStrictEqual(volumes(r), noMetrics(noPrometheus));
      assert.deepStrictEqual(
        r.components.map((c) => [c.component, c.releases.map((x) => `${x.name} ${x.status} r${x.revision}`)]),
        [
          ["base", ["es1-base deployed r1"]],
          ["postgresql", ["es1-postgresql-operator deployed r1", "es1-postgresql deployed r1"]],
          ["redis", ["es1-redis deployed r1"]],
        ],
      );
      const pg = r.components[1].releases[1].managed[0];
      assert.deepStrictEqual(pg.backup, { configured: false });
      const [nordlys] = r.customers;
      assert.deepStrictEqual(
        [nordlys.customer, nordlys.release.status, nordlys.license.state, nordlys.license.expires],
        [CUSTOMER, "deployed", "valid", "2099-12-31"],
      );
      assert.deepStrictEqual(
        nordlys.release.workloads.map((w) => `${w.name} ${w.ready}/${w.desired}`).sort(),
        [
          "es1-platform-agent-router 1/1",
          "es1-platform-gateway 1/1",
          "es1-platform-manager-api 1/1",
          "es1-platform-manager-ui 1/1",
        ],
      );
    });

    it("a customer's Deployment scaled to 0 makes that customer unhealthy (exit 1); --wait sees it recover", function () {
      const ns = `${CUSTOMER}-platform`;
      kubectl(kubeconfig, "scale", "deployment", "es1-platform-gateway", "-n", ns, "--replicas=0");
      const r = es1Json<StatusReport>(1, "status", "--stack", STACK);
      assert.deepStrictEqual(unhealthy(r), [
        `customer ${CUSTOMER}: Deployment es1-platform-gateway: scaled to 0; its release runs 1`,
      ]);
      const table = runEs1(PROJECT_ROOT, env, "status", "--stack", STACK);
      assert.strictEqual(table.status, 1);
      assert.match(
        table.stdout,
        new RegExp(`!! +customer ${CUSTOMER} +${ns}/es1-platform +deployed +1 +3/4 `),
      );
      assert.ok(table.stdout.includes(`\nvolume usage ${ns}: no metrics (${noPrometheus})\n`), table.stdout);

      kubectl(kubeconfig, "scale", "deployment", "es1-platform-gateway", "-n", ns, "--replicas=1");
      const waited = es1Json<StatusReport>(0, "status", "--stack", STACK, "--wait", "300");
      assert.deepStrictEqual(unhealthy(waited), []);
      assert.ok(waited.waitedSeconds !== undefined && waited.waitedSeconds <= 300);
    });

    it("with a Prometheus Service but no Prometheus answering, volume usage says why and stays healthy", async function () {
      // What the simulated cluster has with monitoring on: the Service, no pod behind it. The
      // status reads go through the API server's service proxy to its named port.
      const service = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "es1-monitoring-prometheus", namespace: "es1-infrastructure" },
        spec: {
          selector: { "app.kubernetes.io/name": "prometheus" },
          ports: [{ name: "http-web", port: 9090, targetPort: 9090 }],
        },
      };
      kubectlWithInput(kubeconfig, JSON.stringify(service), "apply", "-f", "-");
      try {
        // The endpoints controller's (empty) Endpoints: without it the proxy answers 404 too.
        await eventually(
          "the Service's Endpoints",
          () =>
            getObject(kubeconfig, "endpoints", "es1-monitoring-prometheus", "-n", "es1-infrastructure") !==
            undefined,
          60,
        );
        const r = es1Json<StatusReport>(0, "status", "--stack", STACK);
        assert.deepStrictEqual(unhealthy(r), []);
        assert.deepStrictEqual(
          volumes(r),
          noMetrics(
            'Prometheus (es1-monitoring-prometheus in es1-infrastructure) did not answer through the API server: HTTP 503: no endpoints available for service "es1-monitoring-prometheus"',
          ),
        );
      } finally {
        kubectl(kubeconfig, "delete", "service", "es1-monitoring-prometheus", "-n", "es1-infrastructure");
      }
    });
  });
});
