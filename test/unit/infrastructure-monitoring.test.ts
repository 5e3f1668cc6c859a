import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { plannedReleases } from "../../infrastructure";
import { CATALOG, PROVIDER_HELM_VERSION, RELEASES, versionBelow } from "../../infrastructure/catalog";
import { VALUES } from "../../infrastructure/values";
import { airflowStatsdMonitor } from "../../infrastructure/values/airflow";
import { JsonObject } from "../../lib/json";
import { runProgram } from "./harness";
import { contextFrom, settingsFrom } from "./values-fixtures";

const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";

function webhooks(config: Record<string, unknown>): JsonObject {
  const v = VALUES.monitoring(contextFrom(config));
  return (v.prometheusOperator as JsonObject).admissionWebhooks as JsonObject;
}

describe("Airflow metrics", () => {
  it("gives the chart no statsd.serviceMonitor, a key its schema refuses, and keeps the exporter", () => {
    for (const monitoring of [true, false]) {
      const v = VALUES.airflow(contextFrom({ components: { monitoring: { enabled: monitoring } } }));
      assert.deepStrictEqual(v.statsd, { enabled: true });
    }
  });

  it("scrapes the chart's statsd Service, by the labels and port name chart 1.21.0 gives it", () => {
    const monitor = airflowStatsdMonitor(contextFrom({}));
    assert.ok(monitor);
    assert.strictEqual(monitor.apiVersion, "monitoring.coreos.com/v1");
    assert.strictEqual(monitor.kind, "ServiceMonitor");
    assert.strictEqual(monitor.metadata.namespace, "es1-infrastructure");
    assert.deepStrictEqual(monitor.spec, {
      selector: { matchLabels: { tier: "airflow", component: "statsd", release: "es1-airflow" } },
      endpoints: [{ port: "statsd-scrape", path: "/metrics" }],
    });
  });

  it("has no ServiceMonitor when monitoring or Airflow is off", () => {
    assert.strictEqual(
      airflowStatsdMonitor(contextFrom({ components: { monitoring: { enabled: false } } })),
      undefined,
    );
    assert.strictEqual(
      airflowStatsdMonitor(contextFrom({ components: { airflow: { enabled: false } } })),
      undefined,
    );
  });

  describe("under mocks", () => {
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-monitor-")), "kubeconfig");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
    const cluster = JSON.stringify({ provider: "existing", kubeconfig });
    const monitors = async (components: Record<string, unknown>) =>
      (await runProgram({ "es1:cluster": cluster, "es1:components": JSON.stringify(components) })).byType(
        SERVICE_MONITOR,
      );

    it("creates the Airflow ServiceMonitor when monitoring and Airflow are on", async () => {
      const [monitor, ...more] = await monitors({});
      assert.deepStrictEqual(more, []);
      assert.strictEqual(monitor.name, "es1-airflow-statsd");
      const metadata = monitor.inputs.metadata as JsonObject;
      assert.strictEqual(metadata.name, "es1-airflow-statsd");
      assert.strictEqual(metadata.namespace, "es1-infrastructure");
      assert.deepStrictEqual(monitor.inputs.spec, airflowStatsdMonitor(contextFrom({}))?.spec);
    });

    it("creates none with monitoring off, or with Airflow off", async () => {
      assert.deepStrictEqual(await monitors({ monitoring: { enabled: false } }), []);
      assert.deepStrictEqual(await monitors({ airflow: { enabled: false } }), []);
    });
  });
});

describe("admission webhook certificates of kube-prometheus-stack", () => {
  it("come from cert-manager when the stack installs it (with Langfuse)", () => {
    assert.deepStrictEqual(webhooks({}), { certManager: { enabled: true } });
  });

  it("come from the chart's own patch Jobs, placed on the infrastructure pool, otherwise", () => {
    for (const langfuse of [{ enabled: false }, { installOperators: false }]) {
      const w = webhooks({ components: { langfuse } });
      assert.strictEqual(w.certManager, undefined);
      assert.deepStrictEqual((w.patch as JsonObject).nodeSelector, { "es1-pool": "infrastructure" });
    }
  });

  it("install the monitoring release after cert-manager when the stack has it", () => {
    const order = plannedReleases(settingsFrom({}));
    assert.ok(order.indexOf("cert-manager") < order.indexOf("monitoring"), order.join(", "));
    // Without cert-manager the monitoring release waits for nothing but its CRDs.
    const alone = plannedReleases(settingsFrom({ components: { langfuse: { enabled: false } } }));
    assert.ok(!alone.includes("cert-manager") && alone.includes("monitoring"));
  });
});

describe("Helm inside the Kubernetes provider", () => {
  it("meets the Helm every pinned chart asks for, so no run warns about it", () => {
    const older = RELEASES.filter((k) => {
      const min = CATALOG[k].minHelm;
      return min !== undefined && versionBelow(PROVIDER_HELM_VERSION, min);
    });
    assert.deepStrictEqual(older, []);
    assert.strictEqual(CATALOG.airflow.chart.version, "1.21.0");
  });
});
