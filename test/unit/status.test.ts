// es1 status: Helm records decoded, workloads and operator resources judged, licenses dated, the
// stack's state read into what to check, and the command line.
import * as assert from "assert";
import * as zlib from "zlib";
import { parseStatusArgs } from "../../automation/commands/status";
import { UsageError } from "../../automation/commands/common";
import { SECRET_SIG_KEY, SECRET_SIG_VALUE } from "../../automation/report";
import {
  CNPG_HEALTHY,
  componentStatus,
  customerStatus,
  decodeHelmRelease,
  formatStatus,
  HelmRelease,
  licenseStatus,
  managedStatus,
  manifestObjects,
  releaseStatus,
  StatusReport,
  verdictOf,
  workloadStatus,
} from "../../automation/status";
import { componentOf, statusTargets } from "../../automation/status-run";
import { VolumeUsage } from "../../automation/status-volumes";

const MANIFEST = `---
# Source: es1-platform/templates/deployments.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: es1-platform-gateway
  namespace: beam-platform
spec:
  replicas: 2
---
apiVersion: v1
kind: Service
metadata:
  name: es1-platform-gateway
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: es1-postgresql
spec:
  instances: 2
`;

function release(status = "deployed"): HelmRelease {
  return {
    name: "es1-platform",
    namespace: "beam-platform",
    version: 3,
    info: {
      status,
      description: status === "failed" ? "context deadline exceeded" : "Upgrade complete",
      last_deployed: "2026-12-01T10:00:00Z",
    },
    chart: { metadata: { name: "es1-platform", version: "0.1.0", appVersion: "1.0.0" } },
    manifest: MANIFEST,
  };
}

/** A release Secret's `release` key as the API server returns it: base64 of Helm's base64 of gzip. */
function secretData(r: HelmRelease): string {
  const helm = zlib.gzipSync(Buffer.from(JSON.stringify(r))).toString("base64");
  return Buffer.from(helm).toString("base64");
}

const deployment = { kind: "Deployment", apiVersion: "apps/v1", name: "es1-platform-gateway", replicas: 2 };

describe("status: Helm release records", () => {
  it("decodes the Secret's base64 of Helm's base64 of gzipped JSON", () => {
    const r = decodeHelmRelease(secretData(release()));
    assert.deepStrictEqual(
      [r.name, r.version, r.info.status, r.chart.metadata.version],
      ["es1-platform", 3, "deployed", "0.1.0"],
    );
  });

  it("lists the manifest's objects with the replicas the release asked for", () => {
    assert.deepStrictEqual(manifestObjects(MANIFEST), [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "es1-platform-gateway",
        namespace: "beam-platform",
        replicas: 2,
      },
      { apiVersion: "v1", kind: "Service", name: "es1-platform-gateway" },
      { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: "es1-postgresql" },
    ]);
  });
});

describe("status: workloads", () => {
  const live = (spec: number, ready: number, generation = 1, observed = 1) => ({
    metadata: { generation },
    spec: { replicas: spec },
    status: { observedGeneration: observed, readyReplicas: ready },
  });

  it("ready when every replica the release runs is ready", () => {
    assert.deepStrictEqual(workloadStatus(deployment, live(2, 2)), {
      kind: "Deployment",
      name: "es1-platform-gateway",
      ready: 2,
      desired: 2,
      healthy: true,
    });
  });

  it("a Deployment scaled to 0 by hand is unhealthy: the release's count is the floor", () => {
    const w = workloadStatus(deployment, live(0, 0));
    assert.deepStrictEqual([w.healthy, w.desired, w.reason], [false, 2, "scaled to 0; its release runs 2"]);
  });

  it("an autoscaler's larger count is what must be ready", () => {
    const w = workloadStatus(deployment, live(5, 4));
    assert.deepStrictEqual([w.healthy, w.desired, w.reason], [false, 5, "4 of 5 replicas ready"]);
  });

  it("missing, not yet observed, and DaemonSets by their scheduled pods", () => {
    assert.strictEqual(workloadStatus(deployment, undefined).reason, "missing");
    assert.strictEqual(
      workloadStatus(deployment, live(2, 2, 3, 2)).reason,
      "its controller has not seen the latest spec",
    );
    const ds = { kind: "DaemonSet", apiVersion: "apps/v1", name: "node-exporter" };
    assert.strictEqual(
      workloadStatus(ds, { metadata: {}, status: { desiredNumberScheduled: 5, numberReady: 5 } }).healthy,
      true,
    );
    assert.strictEqual(
      workloadStatus(ds, { metadata: {}, status: { desiredNumberScheduled: 5, numberReady: 4 } }).reason,
      "4 of 5 pods ready",
    );
  });
});

describe("status: operator-managed resources", () => {
  const cluster = { kind: "Cluster", apiVersion: "postgresql.cnpg.io/v1", name: "es1-postgresql" };

  it("CNPG Cluster: healthy phase with every instance ready; no status means the operator has not reconciled it", () => {
    const healthy = managedStatus(cluster, {
      spec: { instances: 2 },
      status: { phase: CNPG_HEALTHY, readyInstances: 2 },
    });
    assert.deepStrictEqual([healthy.healthy, healthy.state], [true, `${CNPG_HEALTHY} (2/2 instances ready)`]);
    const degraded = managedStatus(cluster, {
      spec: { instances: 2 },
      status: { phase: "Failing over", readyInstances: 1 },
    });
    assert.strictEqual(degraded.healthy, false);
    const fresh = managedStatus(cluster, { spec: { instances: 2 } });
    assert.deepStrictEqual(
      [fresh.healthy, fresh.state],
      [false, "no status: its operator has not reconciled it"],
    );
  });

  it("CNPG backups: not configured, configured with none yet, and the last successful one", () => {
    assert.deepStrictEqual(managedStatus(cluster, { spec: {}, status: { phase: CNPG_HEALTHY } }).backup, {
      configured: false,
    });
    assert.deepStrictEqual(
      managedStatus(cluster, { spec: { backup: {} }, status: { phase: CNPG_HEALTHY } }).backup,
      { configured: true },
    );
    assert.deepStrictEqual(
      managedStatus(cluster, {
        spec: { plugins: [{ name: "barman-cloud.cloudnative-pg.io" }] },
        status: { phase: CNPG_HEALTHY, lastSuccessfulBackup: "2026-12-01T02:00:00Z" },
      }).backup,
      { configured: true, lastSuccessful: "2026-12-01T02:00:00Z" },
    );
  });

  it("ClickHouse: its Ready condition", () => {
    const ch = { kind: "ClickHouseCluster", apiVersion: "clickhouse.com/v1alpha1", name: "es1-langfuse" };
    assert.strictEqual(
      managedStatus(ch, { status: { conditions: [{ type: "Ready", status: "True" }] } }).healthy,
      true,
    );
    const down = managedStatus(ch, {
      status: { conditions: [{ type: "Ready", status: "False", message: "replica 1 down" }] },
    });
    assert.deepStrictEqual([down.healthy, down.state], [false, "Ready=False: replica 1 down"]);
  });
});

describe("status: releases, licenses, customers", () => {
  const ref = { name: "es1-platform", namespace: "beam-platform" };
  const now = new Date("2026-12-01T12:00:00Z");
  const noMetrics: VolumeUsage = {
    namespace: "beam-platform",
    metrics: false,
    reason: "no Prometheus",
    claims: [],
  };

  it("a release is healthy when Helm says deployed and everything it declares is ready", () => {
    const ok = releaseStatus(
      ref,
      release(),
      [workloadStatus(deployment, { metadata: {}, spec: { replicas: 2 }, status: { readyReplicas: 2 } })],
      [],
    );
    assert.deepStrictEqual(
      [ok.healthy, ok.status, ok.revision, ok.chart, ok.appVersion],
      [true, "deployed", 3, "es1-platform-0.1.0", "1.0.0"],
    );
    const failed = releaseStatus(ref, release("failed"), [], []);
    assert.deepStrictEqual(failed.problems, ["Helm status failed: context deadline exceeded"]);
    assert.deepStrictEqual(releaseStatus(ref, undefined, [], []).problems, ["no Helm release record"]);
  });

  it("licenses: valid, expiring within the warning window, expired, held", () => {
    const l = (expires: string, held?: string) =>
      licenseStatus({ licenseId: "L1", licenseExpires: expires, ...(held ? { held } : {}) }, now, 30);
    assert.deepStrictEqual([l("2027-06-01").state, l("2027-06-01").daysLeft], ["valid", 182]);
    // A date is valid through the end of that day (UTC).
    assert.deepStrictEqual([l("2026-12-20").state, l("2026-12-20").daysLeft], ["expiring", 19]);
    assert.strictEqual(l("2026-12-01").state, "expiring");
    assert.deepStrictEqual([l("2026-11-30").state, l("2026-11-30").daysLeft], ["expired", -1]);
    assert.deepStrictEqual(
      [l("2027-06-01", "signature").state, l("2027-06-01", "signature").reason],
      ["held", "signature"],
    );
  });

  it("a customer is unhealthy when its release is, or its license expired; expiring only shows", () => {
    const healthyRelease = releaseStatus(ref, release(), [], []);
    const c = (expires: string) =>
      customerStatus(
        { customer: "beam", namespace: "beam-platform" },
        licenseStatus({ licenseId: "L1", licenseExpires: expires }, now, 30),
        healthyRelease,
        noMetrics,
      );
    assert.strictEqual(c("2026-12-10").healthy, true);
    assert.deepStrictEqual(c("2026-11-01").problems, ["license L1 expired on 2026-11-01"]);
    const scaled = releaseStatus(
      ref,
      release(),
      [workloadStatus(deployment, { metadata: {}, spec: { replicas: 0 }, status: {} })],
      [],
    );
    const down = customerStatus(
      { customer: "beam", namespace: "beam-platform" },
      licenseStatus({ licenseId: "L1", licenseExpires: "2099-12-31" }, now, 30),
      scaled,
      noMetrics,
    );
    assert.deepStrictEqual(
      [down.healthy, down.problems],
      [false, ["Deployment es1-platform-gateway: scaled to 0; its release runs 2"]],
    );
    assert.deepStrictEqual(verdictOf([], [down], []), { status: "unhealthy", exitCode: 1 });
    assert.deepStrictEqual(verdictOf([], [c("2027-01-01")], []), { status: "healthy", exitCode: 0 });
    assert.deepStrictEqual(verdictOf([], [], ["cluster unreadable"]), { status: "unhealthy", exitCode: 1 });
  });

  it("the table names every release and customer, with what is wrong", () => {
    const infraNoMetrics = { ...noMetrics, namespace: "es1-infrastructure" };
    const scaled = releaseStatus(
      ref,
      release(),
      [workloadStatus(deployment, { metadata: {}, spec: { replicas: 0 }, status: {} })],
      [],
    );
    const pg = releaseStatus(
      { name: "es1-postgresql", namespace: "es1-infrastructure" },
      { ...release(), name: "es1-postgresql" },
      [],
      [
        managedStatus(
          { kind: "Cluster", apiVersion: "postgresql.cnpg.io/v1", name: "es1-postgresql" },
          { spec: { instances: 1 }, status: { phase: CNPG_HEALTHY, readyInstances: 1 } },
        ),
      ],
    );
    const customer = customerStatus(
      { customer: "beam", namespace: "beam-platform" },
      licenseStatus({ licenseId: "L1", licenseExpires: "2099-12-31" }, now, 30),
      scaled,
      noMetrics,
    );
    const r: StatusReport = {
      operation: "status",
      stack: "local",
      ...verdictOf([componentStatus("postgresql", [pg], infraNoMetrics)], [customer], []),
      checkedAt: now.toISOString(),
      durationSeconds: 1,
      components: [componentStatus("postgresql", [pg], infraNoMetrics)],
      customers: [customer],
      errors: [],
    };
    const text = formatStatus(r);
    assert.match(text, /^es1 status local: unhealthy \(exit 1\)/);
    assert.match(
      text,
      /ok +postgresql +es1-postgresql +deployed +3 +- +Cluster es1-postgresql: Cluster in healthy state \(1\/1 instances ready\); backups: not configured/,
    );
    assert.match(
      text,
      /!! +customer beam +beam-platform\/es1-platform +deployed +3 +0\/1 +license L1 valid \(2099-12-31, \d+ days\); Deployment es1-platform-gateway: scaled to 0/,
    );
  });
});

describe("status: what the stack deployed", () => {
  const secret = (value: unknown) => ({
    [SECRET_SIG_KEY]: SECRET_SIG_VALUE,
    plaintext: JSON.stringify(value),
  });

  it("shared releases by component, customers from the customers output, the cluster from platformCluster", () => {
    const t = statusTargets([
      {
        urn: "urn:pulumi:s::es1-platform::pulumi:pulumi:Stack::es1-platform-s",
        type: "pulumi:pulumi:Stack",
        outputs: {
          customers: {
            beam: {
              namespace: "beam-platform",
              release: "es1-platform",
              licenseId: "L1",
              licenseExpires: "2099-12-31",
              platformVersion: "1.0.0",
            },
          },
          platformCluster: secret({ kubeconfig: "apiVersion: v1", context: "kwok" }),
        },
      },
      {
        urn: "a",
        type: "kubernetes:helm.sh/v3:Release",
        outputs: { name: "es1-base", namespace: "es1-infrastructure" },
      },
      {
        urn: "b",
        type: "kubernetes:helm.sh/v3:Release",
        outputs: { name: "es1-postgresql-operator", namespace: "es1-infrastructure" },
      },
      {
        urn: "c",
        type: "kubernetes:helm.sh/v3:Release",
        outputs: { name: "es1-platform", namespace: "beam-platform" },
      },
      { urn: "d", type: "kubernetes:core/v1:Secret", outputs: { metadata: {} } },
    ]);
    assert.deepStrictEqual(t.releases, [
      { name: "es1-base", namespace: "es1-infrastructure", component: "base" },
      { name: "es1-postgresql-operator", namespace: "es1-infrastructure", component: "postgresql" },
    ]);
    assert.deepStrictEqual(
      t.customers.map((c) => [c.customer, c.namespace, c.licenseExpires]),
      [["beam", "beam-platform", "2099-12-31"]],
    );
    assert.deepStrictEqual(t.cluster, { kubeconfig: "apiVersion: v1", context: "kwok" });
    assert.deepStrictEqual(statusTargets([]).cluster, undefined);
  });

  it("each catalog release maps to its component", () => {
    assert.deepStrictEqual(
      ["es1-monitoring-crds", "es1-cert-manager", "es1-clickhouse-operator", "es1-redis"].map(componentOf),
      ["monitoring", "langfuse", "langfuse", "redis"],
    );
  });
});

describe("status: command line", () => {
  it("takes --stack, --wait seconds and --json", () => {
    assert.deepStrictEqual(parseStatusArgs(["--stack", "local", "--wait", "120", "--json"]), {
      stack: "local",
      json: true,
      waitSeconds: 120,
    });
    assert.deepStrictEqual(parseStatusArgs(["--stack=prod"]), { stack: "prod", json: false });
  });

  it("refuses a missing stack and a --wait that is not whole seconds in range", () => {
    assert.throws(() => parseStatusArgs([]), /--stack is required/);
    for (const w of ["0", "3601", "1.5", "5m"])
      assert.throws(
        () => parseStatusArgs(["--stack", "s", "--wait", w]),
        (e: unknown) => e instanceof UsageError && /from 1 to 3600/.test(e.message),
      );
  });
});
