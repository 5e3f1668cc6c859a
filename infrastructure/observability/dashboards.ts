// The ES1 Grafana dashboards: plain JSON models, shipped as ConfigMaps the kube-prometheus-stack
// Grafana sidecar loads (label grafana_dashboard: "1", every namespace). Queries read only metrics
// some target of the stack exposes (metrics.ts; a unit test holds them to it).
import { INFRASTRUCTURE_NAMESPACE } from "../layout";
import { CUSTOMER_NAMESPACES, GATEWAY_JOB, GATEWAY_METRICS, LICENSE_METRICS } from "./metrics";
import { THRESHOLDS } from "./rules";

/** The datasource the kube-prometheus-stack chart provisions (grafana.sidecar.datasources.uid). */
const DATASOURCE = { type: "prometheus", uid: "prometheus" } as const;

export interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
}

export interface Panel {
  id: number;
  type: "timeseries" | "stat" | "table";
  title: string;
  description?: string;
  datasource: typeof DATASOURCE;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: "browser";
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Record<string, unknown>[] };
  panels: Panel[];
}

/** Lays panels out on Grafana's 24-column grid, left to right, `w` columns each. */
class Layout {
  private x = 0;
  private y = 0;
  private rowHeight = 0;
  private id = 0;
  readonly panels: Panel[] = [];

  add(
    type: Panel["type"],
    title: string,
    queries: [expr: string, legend: string][],
    opts: {
      w?: number;
      h?: number;
      unit?: string;
      description?: string;
      thresholds?: { color: string; value: number | null }[];
    } = {},
  ): void {
    const w = opts.w ?? 12;
    const h = opts.h ?? 8;
    if (this.x + w > 24) {
      this.x = 0;
      this.y += this.rowHeight;
      this.rowHeight = 0;
    }
    this.panels.push({
      id: ++this.id,
      type,
      title,
      ...(opts.description ? { description: opts.description } : {}),
      datasource: DATASOURCE,
      gridPos: { x: this.x, y: this.y, w, h },
      targets: queries.map(([expr, legendFormat], i) => ({
        expr,
        legendFormat,
        refId: String.fromCharCode(65 + i),
      })),
      fieldConfig: {
        defaults: {
          ...(opts.unit ? { unit: opts.unit } : {}),
          ...(opts.thresholds ? { thresholds: { mode: "absolute", steps: opts.thresholds } } : {}),
        },
        overrides: [],
      },
      options: type === "stat" ? { reduceOptions: { calcs: ["lastNotNull"] }, colorMode: "background" } : {},
    });
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
  }
}

function dashboard(
  uid: string,
  title: string,
  panels: Panel[],
  templating: Record<string, unknown>[] = [],
): Dashboard {
  return {
    uid,
    title,
    tags: ["es1"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    templating: { list: templating },
    panels,
  };
}

const RED_AMBER_GREEN = [
  { color: "red", value: null },
  { color: "orange", value: 7 },
  { color: "green", value: 30 },
];

/** Every shared component's health and resource use, the customers' licenses, firing ES1 alerts. */
export function overviewDashboard(): Dashboard {
  const infra = `namespace="${INFRASTRUCTURE_NAMESPACE}"`;
  const l = new Layout();
  l.add(
    "table",
    "Workloads of es1-infrastructure: available / desired",
    [
      [
        `kube_deployment_status_replicas_available{${infra}} / kube_deployment_spec_replicas{${infra}}`,
        "{{deployment}}",
      ],
      [
        `kube_statefulset_status_replicas_ready{${infra}} / kube_statefulset_replicas{${infra}}`,
        "{{statefulset}}",
      ],
    ],
    { w: 12, h: 10, unit: "percentunit", description: "1 = every replica the component asks for is ready" },
  );
  l.add(
    "table",
    "Firing ES1 alerts",
    [['ALERTS{alertstate="firing", alertname=~"ES1.*"}', "{{alertname}} {{severity}}"]],
    {
      w: 12,
      h: 10,
    },
  );
  l.add("timeseries", "Scrape targets up", [[`sum by (job) (up{${infra}})`, "{{job}}"]], { w: 8 });
  l.add(
    "timeseries",
    "CPU by pod (cores)",
    [[`sum by (pod) (rate(container_cpu_usage_seconds_total{${infra}, container!=""}[5m]))`, "{{pod}}"]],
    { w: 8 },
  );
  l.add(
    "timeseries",
    "Memory by pod (working set)",
    [[`sum by (pod) (container_memory_working_set_bytes{${infra}, container!=""})`, "{{pod}}"]],
    { w: 8, unit: "bytes" },
  );
  l.add(
    "timeseries",
    "Volumes in use",
    [
      [
        `kubelet_volume_stats_used_bytes{${infra}} / kubelet_volume_stats_capacity_bytes{${infra}}`,
        "{{persistentvolumeclaim}}",
      ],
    ],
    {
      unit: "percentunit",
      thresholds: [
        { color: "green", value: null },
        { color: "orange", value: THRESHOLDS.volumeWarning },
      ],
    },
  );
  l.add(
    "timeseries",
    "Container restarts (1h)",
    [
      [
        `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace=~"${INFRASTRUCTURE_NAMESPACE}|${CUSTOMER_NAMESPACES}"}[1h]))`,
        "{{namespace}}/{{pod}}",
      ],
    ],
    {},
  );
  l.add(
    "timeseries",
    "PostgreSQL replication lag",
    [[`max by (pod) (cnpg_pg_replication_lag{${infra}})`, "{{pod}}"]],
    { unit: "s", w: 8 },
  );
  l.add(
    "timeseries",
    "PostgreSQL WAL archiving failures (1h)",
    [[`sum by (pod) (increase(cnpg_pg_stat_archiver_failed_count{${infra}}[1h]))`, "{{pod}}"]],
    { w: 8 },
  );
  l.add(
    "stat",
    "Certificates: days left",
    [["(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400", "{{namespace}}/{{name}}"]],
    { w: 8, unit: "d", thresholds: RED_AMBER_GREEN },
  );
  l.add(
    "stat",
    "Licenses: days left per customer",
    [[`(min by (customer) (${LICENSE_METRICS.expiry}) - time()) / 86400`, "{{customer}}"]],
    { w: 12, unit: "d", thresholds: RED_AMBER_GREEN },
  );
  l.add(
    "stat",
    "Gateway requests per customer (req/s)",
    [
      [
        `sum by (namespace) (rate(${GATEWAY_METRICS.duration}_count{job="${GATEWAY_JOB}"}[5m]))`,
        "{{namespace}}",
      ],
    ],
    { w: 12, unit: "reqps" },
  );
  return dashboard("es1-overview", "ES1 / Installation overview", l.panels);
}

/** One customer's platform: gateway traffic, errors and latency, agent services, quota, license. */
export function customerDashboard(): Dashboard {
  const ns = 'namespace="$namespace"';
  const gw = `job="${GATEWAY_JOB}", ${ns}`;
  const count = `${GATEWAY_METRICS.duration}_count`;
  const l = new Layout();
  l.add(
    "timeseries",
    "Gateway requests by route (req/s)",
    [[`sum by (http_route) (rate(${count}{${gw}}[5m]))`, "{{http_route}}"]],
    {
      unit: "reqps",
    },
  );
  l.add(
    "timeseries",
    "Gateway errors: share of 5xx and 4xx",
    [
      [
        `sum(rate(${count}{${gw}, http_response_status_code=~"5.."}[5m])) / sum(rate(${count}{${gw}}[5m]))`,
        "5xx",
      ],
      [
        `sum(rate(${count}{${gw}, http_response_status_code=~"4.."}[5m])) / sum(rate(${count}{${gw}}[5m]))`,
        "4xx",
      ],
    ],
    {
      unit: "percentunit",
      thresholds: [
        { color: "green", value: null },
        { color: "red", value: THRESHOLDS.gateway5xx },
      ],
    },
  );
  l.add(
    "timeseries",
    "Gateway latency",
    [0.5, 0.95, 0.99].map((q): [string, string] => [
      `histogram_quantile(${q}, sum by (le) (rate(${GATEWAY_METRICS.duration}_bucket{${gw}}[5m])))`,
      `p${Math.round(q * 100)}`,
    ]),
    { unit: "s" },
  );
  l.add(
    "table",
    "Services: available / desired replicas",
    [
      [
        `kube_deployment_status_replicas_available{${ns}} / kube_deployment_spec_replicas{${ns}}`,
        "{{deployment}}",
      ],
    ],
    {
      unit: "percentunit",
      description: "gateway, Platform Manager API and UI, agent router, CrewAI, AutoGen",
    },
  );
  l.add(
    "timeseries",
    "Agent services: CPU (cores)",
    [
      [
        `sum by (pod) (rate(container_cpu_usage_seconds_total{${ns}, container!="", pod=~"es1-platform-(agent-router|crewai|autogen)-.*"}[5m]))`,
        "{{pod}}",
      ],
    ],
    { w: 8 },
  );
  l.add(
    "timeseries",
    "Agent services: memory",
    [
      [
        `sum by (pod) (container_memory_working_set_bytes{${ns}, container!="", pod=~"es1-platform-(agent-router|crewai|autogen)-.*"})`,
        "{{pod}}",
      ],
    ],
    { w: 8, unit: "bytes" },
  );
  l.add(
    "timeseries",
    "Quota use (share of the namespace's ResourceQuota)",
    [
      [
        `kube_resourcequota{${ns}, type="used"} / ignoring(type) kube_resourcequota{${ns}, type="hard"}`,
        "{{resource}}",
      ],
    ],
    { w: 8, unit: "percentunit" },
  );
  l.add(
    "stat",
    "License: days left",
    [[`(min(${LICENSE_METRICS.expiry}{${ns}}) - time()) / 86400`, "days"]],
    { w: 8, unit: "d", thresholds: RED_AMBER_GREEN },
  );
  l.add("stat", "License valid", [[`min(${LICENSE_METRICS.valid}{${ns}})`, "valid"]], {
    w: 8,
    thresholds: [
      { color: "red", value: null },
      { color: "green", value: 1 },
    ],
  });
  l.add(
    "stat",
    "Container restarts (1h)",
    [[`sum(increase(kube_pod_container_status_restarts_total{${ns}}[1h]))`, "restarts"]],
    { w: 8 },
  );
  const variable = {
    name: "namespace",
    label: "Customer",
    type: "query",
    datasource: DATASOURCE,
    query: {
      query: `label_values(kube_deployment_spec_replicas{deployment="${GATEWAY_JOB}", namespace=~"${CUSTOMER_NAMESPACES}"}, namespace)`,
      refId: "namespace",
    },
    refresh: 2,
    sort: 1,
  };
  return dashboard("es1-customer", "ES1 / Customer platform", l.panels, [variable]);
}

/** The dashboards by ConfigMap key (the sidecar writes each key as a file). */
export function dashboards(): Record<string, Dashboard> {
  return { "es1-overview.json": overviewDashboard(), "es1-customer.json": customerDashboard() };
}
