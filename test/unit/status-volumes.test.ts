// es1 status, volume usage: Prometheus' answers through the API server's service proxy parsed,
// claims judged against the alerts' thresholds and given to their component or customer, the
// reasons there are no metrics, and the table's lines (docs/operations.md shows them).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { SHARED_CHARTS } from "../../automation/chart-source";
import { KubeHttpError, KubeReader } from "../../automation/kube";
import {
  componentStatus,
  customerStatus,
  licenseStatus,
  releaseStatus,
  verdictOf,
  volumeLines,
} from "../../automation/status";
import {
  claimOwner,
  claimUsage,
  LiveClaim,
  parseVector,
  PROMETHEUS_PROXY,
  PromVectorAnswer,
  readVolumeUsage,
  usageOf,
  volumeQuery,
} from "../../automation/status-volumes";
import { CATALOG } from "../../infrastructure/catalog";
import { THRESHOLDS } from "../../infrastructure/observability/rules";
import { monitoringValues } from "../../infrastructure/values/monitoring";
import { PROJECT_ROOT } from "../../lib/paths";
import { contextFrom } from "./values-fixtures";

const GiB = 1024 ** 3;
const INFRA = "es1-infrastructure";
const RELEASES = [
  { name: "es1-base", component: "base" },
  { name: "es1-postgresql-operator", component: "postgresql" },
  { name: "es1-postgresql", component: "postgresql" },
  { name: "es1-redis", component: "redis" },
  { name: "es1-monitoring-crds", component: "monitoring" },
  { name: "es1-monitoring", component: "monitoring" },
];
const PROMETHEUS_CLAIM = "prometheus-es1-monitoring-prometheus-db-prometheus-es1-monitoring-prometheus-0";

function claim(name: string, labels?: Record<string, string>): LiveClaim {
  return { metadata: { name, ...(labels ? { labels } : {}) } };
}

/** Prometheus' answer to an instant query: one sample per (namespace, claim). */
function vector(samples: [string, string, number][]): PromVectorAnswer {
  return {
    status: "success",
    data: {
      resultType: "vector",
      result: samples.map(([namespace, pvc, v]) => ({
        metric: { namespace, persistentvolumeclaim: pvc },
        value: [1764590400.123, String(v)],
      })),
    },
  };
}

const CLAIMS: Record<string, LiveClaim[]> = {
  [INFRA]: [
    claim("es1-postgresql-1", { "cnpg.io/cluster": "es1-postgresql" }),
    claim("valkey-data-es1-redis-0", { "app.kubernetes.io/instance": "es1-redis" }),
    claim(PROMETHEUS_CLAIM),
    claim("es1-grafana", { "app.kubernetes.io/part-of": "es1" }),
  ],
  "beam-platform": [claim("es1-platform-uploads")],
  "nordlys-platform": [],
};
const USED: [string, string, number][] = [
  [INFRA, "es1-postgresql-1", 2.5 * GiB],
  [INFRA, "valkey-data-es1-redis-0", 0.2 * GiB],
  [INFRA, PROMETHEUS_CLAIM, 8.6 * GiB],
  ["beam-platform", "es1-platform-uploads", 9.7 * GiB],
  // A claim of another namespace or one since deleted: not shown.
  [INFRA, "data-es1-old-0", 1 * GiB],
];
const CAPACITY: [string, string, number][] = [
  [INFRA, "es1-postgresql-1", 10 * GiB],
  [INFRA, "valkey-data-es1-redis-0", 1 * GiB],
  [INFRA, PROMETHEUS_CLAIM, 10 * GiB],
  ["beam-platform", "es1-platform-uploads", 10 * GiB],
];

/** A cluster whose API server answers the given paths; records what was asked. */
function fakeCluster(
  prometheus: (query: string) => PromVectorAnswer | Error,
  service = false,
): KubeReader & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get<T>(apiPath: string): Promise<T> {
      asked.push(apiPath);
      if (service && apiPath === "/api/v1/namespaces/es1-infrastructure/services/es1-monitoring-prometheus")
        return Promise.resolve({ kind: "Service" } as T);
      const claims = /^\/api\/v1\/namespaces\/([^/]+)\/persistentvolumeclaims$/.exec(apiPath);
      if (claims) return Promise.resolve({ items: CLAIMS[claims[1]] ?? [] } as T);
      if (apiPath.startsWith(`${PROMETHEUS_PROXY}/api/v1/query?query=`)) {
        const answer = prometheus(decodeURIComponent(apiPath.split("?query=")[1]));
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer as T);
      }
      return Promise.reject(new KubeHttpError(404, `GET ${apiPath}: HTTP 404`));
    },
  };
}

const answering = fakeCluster((q) => vector(q.includes("used_bytes") ? USED : CAPACITY));

/** The API server's answer when the Service does not exist (monitoring off). */
const notFound = new KubeHttpError(
  404,
  "GET ...: HTTP 404",
  JSON.stringify({
    kind: "Status",
    status: "Failure",
    message: 'services "es1-monitoring-prometheus" not found',
    reason: "NotFound",
    code: 404,
  }),
);
/** ... and when it exists but no Prometheus pod is ready behind it (the simulated cluster). */
const noEndpoints = new KubeHttpError(
  503,
  "GET ...: HTTP 503",
  JSON.stringify({
    kind: "Status",
    status: "Failure",
    message: 'no endpoints available for service "es1-monitoring-prometheus"',
    reason: "ServiceUnavailable",
    code: 503,
  }),
);

describe("status: volume usage from Prometheus", () => {
  it("asks the stack's Prometheus through the API server's service proxy, one series per claim", async () => {
    assert.strictEqual(
      PROMETHEUS_PROXY,
      "/api/v1/namespaces/es1-infrastructure/services/es1-monitoring-prometheus:http-web/proxy",
    );
    assert.strictEqual(
      volumeQuery("kubelet_volume_stats_used_bytes", [INFRA, "beam-platform"]),
      'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace=~"es1-infrastructure|beam-platform"})',
    );
    const cluster = fakeCluster((q) => vector(q.includes("used_bytes") ? USED : CAPACITY));
    await readVolumeUsage(cluster, [INFRA, "beam-platform"], RELEASES);
    const queries = cluster.asked
      .filter((p) => p.startsWith(PROMETHEUS_PROXY))
      .map((p) => decodeURIComponent(p.split("?query=")[1]))
      .sort();
    assert.deepStrictEqual(queries, [
      volumeQuery("kubelet_volume_stats_capacity_bytes", [INFRA, "beam-platform"]),
      volumeQuery("kubelet_volume_stats_used_bytes", [INFRA, "beam-platform"]),
    ]);
  });

  it("the Service and port are those kube-prometheus-stack 88.5.3 creates for the stack's values", () => {
    const { chart, version } = CATALOG.monitoring.chart;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-status-volumes-"));
    const tar = spawnSync("tar", ["-xzf", path.join(SHARED_CHARTS, `${chart}-${version}.tgz`), "-C", dir]);
    assert.strictEqual(tar.status, 0, tar.stderr.toString());
    const root = path.join(dir, "kube-prometheus-stack");
    const values = yaml.load(fs.readFileSync(path.join(root, "values.yaml"), "utf8")) as {
      prometheus: { service: { port: number }; prometheusSpec: { portName: string } };
    };
    const service = fs.readFileSync(path.join(root, "templates/prometheus/service.yaml"), "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    assert.match(service, /name: \{\{ template "kube-prometheus-stack.fullname" \. \}\}-prometheus\n/);
    assert.match(service, /- name: \{\{ \.Values\.prometheus\.prometheusSpec\.portName \}\}/);
    const ours = monitoringValues(contextFrom({})) as {
      fullnameOverride: string;
      prometheus: Record<string, unknown>;
    };
    // Neither overridden by the stack: `<fullnameOverride>-prometheus`, port http-web (9090).
    assert.strictEqual(`${ours.fullnameOverride}-prometheus`, "es1-monitoring-prometheus");
    assert.strictEqual(ours.prometheus.service, undefined);
    assert.strictEqual((ours.prometheus.prometheusSpec as { portName?: string }).portName, undefined);
    assert.deepStrictEqual(
      [values.prometheus.prometheusSpec.portName, values.prometheus.service.port],
      ["http-web", 9090],
    );
    assert.ok(PROMETHEUS_PROXY.endsWith(`/services/${ours.fullnameOverride}-prometheus:http-web/proxy`));
  });

  it("parses Prometheus' instant vector, and refuses an error or another result type", () => {
    const v = parseVector(vector([[INFRA, "es1-postgresql-1", 2684354560]]));
    assert.deepStrictEqual([...v.entries()], [["es1-infrastructure/es1-postgresql-1", 2684354560]]);
    assert.throws(
      () => parseVector({ status: "error", errorType: "bad_data", error: "parse error" }),
      /Prometheus refused the query: bad_data: parse error/,
    );
    assert.throws(
      () => parseVector({ status: "success", data: { resultType: "matrix", result: [] } }),
      /a matrix result, not a vector/,
    );
  });

  it("judges a claim by the alerts' thresholds: over 80 % warns, over 95 % is critical", () => {
    assert.deepStrictEqual([THRESHOLDS.volumeWarning, THRESHOLDS.volumeCritical], [0.8, 0.95]);
    assert.deepStrictEqual(claimUsage("c", 2.5 * GiB, 10 * GiB), {
      claim: "c",
      usedBytes: 2.5 * GiB,
      capacityBytes: 10 * GiB,
      usedPercent: 25,
      state: "ok",
    });
    // The same `>` as ES1VolumeFilling and ES1VolumeFull.
    assert.strictEqual(claimUsage("c", 80, 100).state, "ok");
    assert.strictEqual(claimUsage("c", 81, 100).state, "warning");
    assert.strictEqual(claimUsage("c", 95, 100).state, "warning");
    assert.strictEqual(claimUsage("c", 96, 100).state, "critical");
    assert.deepStrictEqual(claimUsage("c", undefined, 100), { claim: "c", state: "no metrics" });
    assert.deepStrictEqual(claimUsage("c", 5, undefined), { claim: "c", state: "no metrics" });
  });

  it("gives each claim of es1-infrastructure to its component", () => {
    const owner = (name: string, labels?: Record<string, string>) =>
      claimOwner(claim(name, labels), RELEASES);
    assert.strictEqual(owner("es1-postgresql-1", { "cnpg.io/cluster": "es1-postgresql" }), "postgresql");
    assert.strictEqual(owner("valkey-data-es1-redis-0"), "redis");
    assert.strictEqual(owner(PROMETHEUS_CLAIM), "monitoring");
    assert.strictEqual(owner("es1-grafana"), "monitoring");
    assert.strictEqual(owner("something-else"), "base");
    // es1-redis is no word of es1-redisx-0; a claim Pulumi kept after its component went off.
    assert.strictEqual(owner("data-es1-redisx-0"), "base");
    assert.strictEqual(owner("es1-ollama-models"), "base");
  });

  it("reports used/capacity per claim, by component and customer; critical makes it unhealthy, warning only shows", async () => {
    const usage = await readVolumeUsage(answering, [INFRA, "beam-platform", "nordlys-platform"], RELEASES);
    assert.deepStrictEqual(usageOf(usage, INFRA, "postgresql"), {
      namespace: INFRA,
      metrics: true,
      claims: [
        {
          claim: "es1-postgresql-1",
          usedBytes: 2.5 * GiB,
          capacityBytes: 10 * GiB,
          usedPercent: 25,
          state: "ok",
        },
      ],
    });
    const monitoring = usageOf(usage, INFRA, "monitoring");
    assert.deepStrictEqual(
      monitoring.claims.map((c) => [c.claim, c.usedPercent, c.state]),
      [
        // Not mounted by a running pod: the kubelet reports nothing for it.
        ["es1-grafana", undefined, "no metrics"],
        [PROMETHEUS_CLAIM, 86, "warning"],
      ],
    );
    assert.deepStrictEqual(usageOf(usage, INFRA, "base"), { namespace: INFRA, metrics: true, claims: [] });
    assert.strictEqual(componentStatus("monitoring", [], monitoring).healthy, true);

    const beam = usageOf(usage, "beam-platform", "");
    assert.deepStrictEqual(
      beam.claims.map((c) => [c.claim, c.usedPercent, c.state]),
      [["es1-platform-uploads", 97, "critical"]],
    );
    const release = releaseStatus(
      { name: "es1-platform", namespace: "beam-platform" },
      {
        name: "es1-platform",
        namespace: "beam-platform",
        version: 1,
        info: { status: "deployed" },
        chart: { metadata: { name: "es1-platform", version: "0.1.0" } },
        manifest: "",
      },
      [],
      [],
    );
    const license = licenseStatus({ licenseId: "L1", licenseExpires: "2099-12-31" }, new Date(), 30);
    const customer = customerStatus({ customer: "beam", namespace: "beam-platform" }, license, release, beam);
    assert.deepStrictEqual(
      [customer.healthy, customer.problems],
      [false, ["volume es1-platform-uploads 97 % full (over 95 %)"]],
    );
    assert.deepStrictEqual(verdictOf([], [customer], []), { status: "unhealthy", exitCode: 1 });
    assert.deepStrictEqual(usageOf(usage, "nordlys-platform", ""), {
      namespace: "nordlys-platform",
      metrics: true,
      claims: [],
    });
  });

  it("without Prometheus each namespace says why, and nothing turns unhealthy for it", async () => {
    const off = await readVolumeUsage(
      fakeCluster(() => notFound),
      [INFRA, "beam-platform"],
      RELEASES,
    );
    const offReason =
      "no Prometheus: Service es1-monitoring-prometheus in es1-infrastructure not found (the monitoring component is off)";
    assert.deepStrictEqual(usageOf(off, "beam-platform", ""), {
      namespace: "beam-platform",
      metrics: false,
      reason: offReason,
      claims: [{ claim: "es1-platform-uploads", state: "no metrics" }],
    });
    assert.deepStrictEqual(usageOf(off, INFRA, "redis"), {
      namespace: INFRA,
      metrics: false,
      reason: offReason,
      claims: [{ claim: "valkey-data-es1-redis-0", state: "no metrics" }],
    });
    assert.strictEqual(componentStatus("redis", [], usageOf(off, INFRA, "redis")).healthy, true);

    const down = await readVolumeUsage(
      fakeCluster(() => noEndpoints),
      [INFRA],
      RELEASES,
    );
    assert.strictEqual(
      usageOf(down, INFRA, "postgresql").reason,
      'Prometheus (es1-monitoring-prometheus in es1-infrastructure) did not answer through the API server: HTTP 503: no endpoints available for service "es1-monitoring-prometheus"',
    );
    // The proxy says the same of a Service without an Endpoints object: the Service is looked up.
    const noEndpointsObject = await readVolumeUsage(
      fakeCluster(() => notFound, true),
      [INFRA],
      RELEASES,
    );
    assert.strictEqual(
      usageOf(noEndpointsObject, INFRA, "postgresql").reason,
      'Prometheus (es1-monitoring-prometheus in es1-infrastructure) did not answer through the API server: the Service has no endpoints (HTTP 404: services "es1-monitoring-prometheus" not found)',
    );
    const slow = await readVolumeUsage(
      fakeCluster(() => new Error("GET ...: no answer in 10000 ms")),
      [INFRA],
      RELEASES,
    );
    assert.match(
      usageOf(slow, INFRA, "postgresql").reason ?? "",
      /did not answer through the API server: GET \.\.\.: no answer in 10000 ms$/,
    );
    const refused = await readVolumeUsage(
      fakeCluster(() => ({ status: "error", errorType: "timeout", error: "query timed out" })),
      [INFRA],
      RELEASES,
    );
    assert.strictEqual(
      usageOf(refused, INFRA, "postgresql").reason,
      "Prometheus refused the query: timeout: query timed out",
    );
  });

  it("the table: one line per namespace without metrics, a row per claim with them (as docs/operations.md shows)", async () => {
    const usage = await readVolumeUsage(answering, [INFRA, "beam-platform", "nordlys-platform"], RELEASES);
    const components = ["base", "postgresql", "redis", "monitoring"].map((c) =>
      componentStatus(c, [], usageOf(usage, INFRA, c)),
    );
    const customer = (name: string, volumes = usageOf(usage, `${name}-platform`, "")) =>
      customerStatus(
        { customer: name, namespace: `${name}-platform` },
        licenseStatus({ licenseId: "L1", licenseExpires: "2099-12-31" }, new Date(), 30),
        releaseStatus({ name: "es1-platform", namespace: `${name}-platform` }, undefined, [], []),
        volumes,
      );
    const lines = volumeLines({ components, customers: [customer("beam"), customer("nordlys")] });
    assert.deepStrictEqual(lines, [
      "volume usage es1-infrastructure:",
      "  ok  postgresql     es1-postgresql-1                                                                2.5 GiB of 10.0 GiB (25.0 %)",
      "  ok  redis          valkey-data-es1-redis-0                                                         204.8 MiB of 1.0 GiB (20.0 %)",
      "  ??  monitoring     es1-grafana                                                                     no metrics for this claim (not mounted by a running pod, or not scraped yet)",
      `  !   monitoring     ${PROMETHEUS_CLAIM}  8.6 GiB of 10.0 GiB (86.0 %; warning: over 80 %)`,
      "volume usage beam-platform:",
      "  !!  customer beam  es1-platform-uploads                                                            9.7 GiB of 10.0 GiB (97.0 %; critical: over 95 %)",
      "volume usage nordlys-platform: no claims",
    ]);

    const off = await readVolumeUsage(
      fakeCluster(() => notFound),
      [INFRA, "nordlys-platform"],
      RELEASES,
    );
    const offLines = volumeLines({
      components: [componentStatus("postgresql", [], usageOf(off, INFRA, "postgresql"))],
      customers: [customer("nordlys", usageOf(off, "nordlys-platform", ""))],
    });
    const reason =
      "no Prometheus: Service es1-monitoring-prometheus in es1-infrastructure not found (the monitoring component is off)";
    assert.deepStrictEqual(offLines, [
      `volume usage es1-infrastructure: no metrics (${reason})`,
      `volume usage nordlys-platform: no metrics (${reason})`,
    ]);
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs/operations.md"), "utf8");
    for (const l of [...lines, ...offLines])
      assert.ok(doc.includes(l), `docs/operations.md does not show\n${l}`);
  });
});
