// The ES1 dashboards and alert rules: what the program creates, that Grafana's sidecar finds the
// dashboards, that every query reads metrics some target of the stack exposes, and that every
// alert has its runbook. promtool checks and unit-tests the rules in the charts tier.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { SHARED_CHARTS } from "../../automation/chart-source";
import { CATALOG } from "../../infrastructure/catalog";
import {
  alertRules,
  DASHBOARD_LABEL,
  DASHBOARDS_CONFIGMAP,
  dashboards,
} from "../../infrastructure/observability";
import { alertNames } from "../../infrastructure/observability/rules";
import {
  GATEWAY_METRICS,
  LICENSE_METRICS,
  OTHER_EXPOSED_METRICS,
} from "../../infrastructure/observability/metrics";
import { PROJECT_ROOT } from "../../lib/paths";
import { runProgram } from "./harness";
import { dashboardExpressions, metricNames, ruleExpressions } from "./promql";

const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/** Every file of an unpacked chart archive under `dir`, by path. */
function unpack(archive: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-observability-"));
  spawnSync("tar", ["-xzf", archive, "-C", dir]);
  return dir;
}

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(p)) out.push(fs.readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

function archive(key: keyof typeof CATALOG): string {
  const c = CATALOG[key].chart;
  return path.join(SHARED_CHARTS, `${c.chart}-${c.version}.tgz`);
}

describe("ES1 alert rules", () => {
  const groups = alertRules({ licenseWarningDays: 30 });

  it("every alert has a severity, a for, a summary and a runbook in docs/operations.md", () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs/operations.md"), "utf8");
    const anchors = new Set(
      [...doc.matchAll(/^#+ (.*)$/gm)].map((m) =>
        m[1]
          .toLowerCase()
          .replace(/[^\w\s-]/g, "")
          .replace(/\s/g, "-"),
      ),
    );
    for (const r of groups.flatMap((g) => g.rules)) {
      assert.ok(
        ["critical", "warning"].includes(r.labels.severity),
        `${r.alert}: severity ${r.labels.severity}`,
      );
      assert.match(r.for, /^\d+[mh]$/, r.alert);
      assert.ok(r.annotations.summary && r.annotations.description, r.alert);
      assert.strictEqual(r.annotations.runbook_url, `docs/operations.md#${r.alert.toLowerCase()}`);
      assert.ok(anchors.has(r.alert.toLowerCase()), `docs/operations.md has no section '${r.alert}'`);
    }
  });

  it("covers what issue 19 asks for", () => {
    assert.deepStrictEqual(alertNames(groups), [
      "ES1ComponentDown",
      "ES1TargetDown",
      "ES1PodCrashLooping",
      "ES1VolumeFilling",
      "ES1VolumeFull",
      "ES1PostgresReplicationLag",
      "ES1PostgresReplicationLagCritical",
      "ES1PostgresWALArchivingFailing",
      "ES1GatewayErrorRate",
      "ES1GatewayLatency",
      "ES1LicenseExpiringSoon",
      "ES1LicenseExpired",
      "ES1LicenseInvalid",
      "ES1CertificateExpiringSoon",
      "ES1CertificateNotReady",
    ]);
  });

  it("the license window is es1:licenseWarningDays", () => {
    const expiring = (days: number) =>
      alertRules({ licenseWarningDays: days })
        .flatMap((g) => g.rules)
        .find((r) => r.alert === "ES1LicenseExpiringSoon")?.expr;
    assert.match(expiring(45) ?? "", / < 45 \* 86400/);
    assert.match(expiring(7) ?? "", / < 7 \* 86400/);
  });

  it("per-customer alerts carry the customer; infrastructure ones leave it empty (no label)", () => {
    const byName = Object.fromEntries(groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    assert.strictEqual(byName.ES1LicenseExpired.labels.customer, "{{ $labels.customer }}");
    assert.match(
      byName.ES1GatewayErrorRate.labels.customer,
      /reReplaceAll "-platform\$" "" \$labels\.namespace/,
    );
    assert.match(
      byName.ES1ComponentDown.labels.customer,
      /^\{\{ if ne \$labels\.namespace "es1-infrastructure" \}\}/,
    );
    assert.strictEqual(byName.ES1PostgresReplicationLag.labels.component, "postgresql");
  });
});

describe("ES1 dashboards", () => {
  const all = dashboards();

  it("parse as JSON, with unique uids and panel ids, on the chart's Prometheus datasource", () => {
    const uids = new Set<string>();
    for (const [file, d] of Object.entries(all)) {
      const parsed = JSON.parse(JSON.stringify(d)) as typeof d;
      assert.match(file, /^es1-[a-z-]+\.json$/);
      assert.ok(!uids.has(parsed.uid), parsed.uid);
      uids.add(parsed.uid);
      assert.strictEqual(new Set(parsed.panels.map((p) => p.id)).size, parsed.panels.length);
      for (const p of parsed.panels) {
        assert.deepStrictEqual(p.datasource, { type: "prometheus", uid: "prometheus" }, p.title);
        assert.ok(p.targets.length > 0, p.title);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
      }
    }
    assert.deepStrictEqual(
      Object.values(all).map((d) => d.title),
      ["ES1 / Installation overview", "ES1 / Customer platform"],
    );
  });

  it("the per-customer dashboard selects a customer and shows gateway traffic, errors, latency, agents, quota, license", () => {
    const d = all["es1-customer.json"];
    assert.strictEqual(d.templating.list[0].name, "namespace");
    const titles = d.panels.map((p) => p.title).join(" | ");
    for (const want of ["requests", "errors", "latency", "Agent services", "Quota", "License"])
      assert.ok(titles.includes(want), `no panel about ${want}: ${titles}`);
  });

  describe("read only metrics some target exposes", function () {
    const known = new Set<string>([
      ...Object.values(LICENSE_METRICS),
      ...["_bucket", "_count", "_sum"].map((s) => `${GATEWAY_METRICS.duration}${s}`),
      ...Object.values(OTHER_EXPOSED_METRICS).flat(),
    ]);

    before(function () {
      if (!fs.existsSync(SHARED_CHARTS)) this.skip();
      // kube-state-metrics, kubelet, cAdvisor, node-exporter, Prometheus: the metrics the
      // kube-prometheus-stack chart's own rules and dashboards read, and the series its rules record.
      const kps = unpack(archive("monitoring"));
      for (const text of files(kps, /templates\/prometheus\/rules-1\.14\/.*\.yaml$/)) {
        const { exprs, records } = ruleExpressions(text);
        for (const e of exprs) for (const m of metricNames(e)) known.add(m);
        for (const r of records) known.add(r);
      }
      for (const text of files(kps, /templates\/grafana\/dashboards-1\.14\/.*\.yaml$/))
        for (const e of dashboardExpressions(text)) for (const m of metricNames(e)) known.add(m);
      // CloudNativePG's exporter: the metrics of its chart's dashboard and its cluster chart's alerts.
      for (const text of files(unpack(archive("postgresql-operator")), /\.json$/))
        for (const e of dashboardExpressions(text)) for (const m of metricNames(e)) known.add(m);
      for (const text of files(unpack(archive("postgresql")), /prometheus_rules\/.*\.yaml$/))
        for (const e of ruleExpressions(text).exprs) for (const m of metricNames(e)) known.add(m);
    });

    it("the ground truth covers the targets the dashboards read", () => {
      for (const m of [
        "kube_deployment_spec_replicas",
        "kubelet_volume_stats_used_bytes",
        "container_memory_working_set_bytes",
        "up",
        "cnpg_pg_replication_lag",
        "kube_resourcequota",
      ])
        assert.ok(known.has(m), m);
      assert.ok(!known.has("kube_deployment_replicas_spec"));
    });

    for (const [file, d] of Object.entries(dashboards()))
      it(file, () => {
        const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr));
        const variables = d.templating.list.map(
          (v) => /label_values\(([a-zA-Z_:][\w:]*)/.exec(JSON.stringify(v))?.[1] ?? "",
        );
        const unknown = [
          ...new Set([...exprs.flatMap(metricNames), ...variables.filter((v) => v !== "")]),
        ].filter((m) => !known.has(m));
        assert.deepStrictEqual(unknown, []);
      });

    it("and so do the alert rules", () => {
      const exprs = alertRules({ licenseWarningDays: 30 }).flatMap((g) => g.rules.map((r) => r.expr));
      assert.deepStrictEqual(
        [...new Set(exprs.flatMap(metricNames))].filter((m) => !known.has(m)),
        [],
      );
    });
  });

  it("the extractor finds metrics, not functions, labels or keywords", () => {
    assert.deepStrictEqual(
      metricNames(
        'sum by (namespace, le) (rate(a_b_bucket{job="x", le=~"1"}[5m])) / ignoring(type) c:d{e="f"} > 0 and on(pod) up unless time() - 3',
      ),
      ["a_b_bucket", "c:d", "up"],
    );
  });
});

describe("the program's observability objects", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-observability-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const cluster = JSON.stringify({ provider: "existing", kubeconfig });

  it("with monitoring on: the dashboards ConfigMap the Grafana sidecar loads, and PrometheusRule es1-alerts", async () => {
    const run = await runProgram({ "es1:cluster": cluster, "es1:licenseWarningDays": "21" });
    const cm = run.one(CONFIG_MAP, DASHBOARDS_CONFIGMAP);
    const meta = cm.inputs.metadata as { namespace: string; labels: Record<string, string> };
    assert.strictEqual(meta.namespace, "es1-infrastructure");
    assert.strictEqual(meta.labels.grafana_dashboard, "1");
    const data = cm.inputs.data as Record<string, string>;
    assert.deepStrictEqual(Object.keys(data).sort(), ["es1-customer.json", "es1-overview.json"]);
    assert.strictEqual((JSON.parse(data["es1-overview.json"]) as { uid: string }).uid, "es1-overview");
    const [rule] = run.byType(PROMETHEUS_RULE);
    const spec = rule.inputs.spec as { groups: { rules: { alert: string; expr: string }[] }[] };
    assert.ok(
      spec.groups
        .flatMap((g) => g.rules)
        .some((r) => r.alert === "ES1LicenseExpiringSoon" && / < 21 \* 86400/.test(r.expr)),
    );
  });

  it("with monitoring off: neither", async () => {
    const run = await runProgram({
      "es1:cluster": cluster,
      "es1:components": JSON.stringify({ monitoring: { enabled: false } }),
    });
    assert.deepStrictEqual(run.byType(PROMETHEUS_RULE), []);
    assert.ok(!run.byType(CONFIG_MAP).some((r) => r.name === DASHBOARDS_CONFIGMAP));
  });

  it("the label is kube-prometheus-stack 88.5.3's default for its Grafana dashboard sidecar", function () {
    if (!fs.existsSync(SHARED_CHARTS)) this.skip();
    const dir = unpack(archive("monitoring"));
    const values = yaml.load(
      fs.readFileSync(path.join(dir, "kube-prometheus-stack/values.yaml"), "utf8"),
    ) as {
      grafana: {
        sidecar: {
          dashboards: { enabled: boolean; label: string; labelValue: string; searchNamespace: string };
        };
      };
    };
    const sidecar = values.grafana.sidecar.dashboards;
    assert.deepStrictEqual({ [sidecar.label]: sidecar.labelValue }, DASHBOARD_LABEL);
    assert.deepStrictEqual([sidecar.enabled, sidecar.searchNamespace], [true, "ALL"]);
  });
});
