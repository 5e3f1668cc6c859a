// Monitoring that knows ES1: the ES1 dashboards (a ConfigMap the Grafana sidecar loads) and the ES1
// alert rules (PrometheusRule es1-alerts, picked up by the stack's Prometheus, which selects every
// rule of the cluster). One component of its own, present when the monitoring component is on.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dashboards } from "./dashboards";
import { ALERTS_RULE_NAME, alertRules } from "./rules";

export { alertRules, ALERTS_RULE_NAME, THRESHOLDS } from "./rules";
export { dashboards } from "./dashboards";

/** The ConfigMap of the ES1 dashboards. */
export const DASHBOARDS_CONFIGMAP = "es1-dashboards";

/** The label kube-prometheus-stack 88.5.3's Grafana sidecar looks for (grafana.sidecar.dashboards.label/labelValue). */
export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

export interface ObservabilityArgs {
  namespace: pulumi.Input<string>;
  provider: k8s.Provider;
  /** es1:licenseWarningDays: the license alert's window. */
  licenseWarningDays: number;
  /** Longest interval of the PostgreSQL backup schedule, when backups are on (the backup alert). */
  backupIntervalSeconds?: number;
  /** The Prometheus Operator CRDs (PrometheusRule) and the monitoring release. */
  dependsOn: pulumi.Resource[];
}

export class Observability extends pulumi.ComponentResource {
  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:infrastructure:Observability", name, {}, opts);
    const labels = { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" };
    const childOpts = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    new k8s.core.v1.ConfigMap(
      DASHBOARDS_CONFIGMAP,
      {
        metadata: {
          name: DASHBOARDS_CONFIGMAP,
          namespace: args.namespace,
          labels: { ...labels, ...DASHBOARD_LABEL },
        },
        data: Object.fromEntries(
          Object.entries(dashboards()).map(([file, d]) => [file, JSON.stringify(d, null, 2)]),
        ),
      },
      childOpts,
    );
    new k8s.apiextensions.CustomResource(
      ALERTS_RULE_NAME,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: ALERTS_RULE_NAME, namespace: args.namespace, labels },
        spec: {
          groups: alertRules({
            licenseWarningDays: args.licenseWarningDays,
            ...(args.backupIntervalSeconds !== undefined
              ? { backupIntervalSeconds: args.backupIntervalSeconds }
              : {}),
          }),
        },
      },
      childOpts,
    );
    this.registerOutputs({});
  }
}
