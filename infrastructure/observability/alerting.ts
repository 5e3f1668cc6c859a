// Alertmanager's configuration from es1:alerting: receivers and routes by severity and customer.
// The whole alertmanager.yaml lives in a Kubernetes Secret Pulumi writes (its values are Pulumi
// secrets); kube-prometheus-stack only names it (alertmanager.alertmanagerSpec.configSecret), so no
// URL or key is ever a Helm value.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import type { AlertingSettings, Receiver } from "../../config/alerting";
import { JsonObject } from "../../lib/json";

/** The Secret (key alertmanager.yaml) the Alertmanager of es1-monitoring reads. */
export const ALERTMANAGER_CONFIG_SECRET = "es1-alertmanager-config";

/** Alertmanager's receiver for alerts that go nowhere. */
const NULL_RECEIVER = "null";

/** A receiver with its credentials as plain strings: only ever inside the Secret's data. */
export type ResolvedReceiver =
  | { kind: "slack"; webhookUrl: string; channel?: string }
  | {
      kind: "email";
      to: string[];
      from: string;
      smarthost: string;
      username?: string;
      password?: string;
      requireTls: boolean;
    }
  | { kind: "pagerduty"; routingKey: string }
  | { kind: "webhook"; url: string };

/** The credentials of every receiver, resolved inside one secret Output. */
export function resolveReceivers(a: AlertingSettings): pulumi.Output<Record<string, ResolvedReceiver>> {
  const one = (r: Receiver): pulumi.Output<ResolvedReceiver> => {
    switch (r.kind) {
      case "slack":
        return r.webhookUrl.apply((webhookUrl) => ({ ...r, webhookUrl }));
      case "email":
        return pulumi.output(r.password ?? "").apply((password) => ({
          kind: r.kind,
          to: r.to,
          from: r.from,
          smarthost: r.smarthost,
          requireTls: r.requireTls,
          ...(r.username !== undefined ? { username: r.username } : {}),
          ...(r.password !== undefined ? { password } : {}),
        }));
      case "pagerduty":
        return r.routingKey.apply((routingKey) => ({ kind: r.kind, routingKey }));
      case "webhook":
        return r.url.apply((url) => ({ kind: r.kind, url }));
    }
  };
  const entries = Object.entries(a.receivers).map(([name, r]) => one(r).apply((x) => [name, x] as const));
  return pulumi.secret(pulumi.all(entries).apply((list) => Object.fromEntries(list)));
}

const TITLE =
  "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ if .CommonLabels.customer }} ({{ .CommonLabels.customer }}){{ end }}";
const TEXT =
  "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}";

function receiverConfig(name: string, r: ResolvedReceiver): JsonObject {
  switch (r.kind) {
    case "slack":
      return {
        name,
        slack_configs: [
          {
            api_url: r.webhookUrl,
            ...(r.channel ? { channel: r.channel } : {}),
            send_resolved: true,
            title: TITLE,
            text: TEXT,
          },
        ],
      };
    case "email":
      return {
        name,
        email_configs: [
          {
            to: r.to.join(", "),
            from: r.from,
            smarthost: r.smarthost,
            ...(r.username !== undefined ? { auth_username: r.username } : {}),
            ...(r.password !== undefined ? { auth_password: r.password } : {}),
            require_tls: r.requireTls,
            send_resolved: true,
            headers: { Subject: TITLE },
          },
        ],
      };
    case "pagerduty":
      return {
        name,
        pagerduty_configs: [
          {
            routing_key: r.routingKey,
            send_resolved: true,
            description: TITLE,
            severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
          },
        ],
      };
    case "webhook":
      return { name, webhook_configs: [{ url: r.url, send_resolved: true }] };
  }
}

function quoted(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

/**
 * alertmanager.yaml: the routes of es1:alerting in order (each `continue`s unless told not to,
 * so an alert reaches every receiver whose route matches), the default receiver for the rest, and
 * kube-prometheus-stack's Watchdog and InfoInhibitor kept away from people, as its own config does.
 */
export function alertmanagerConfig(
  a: AlertingSettings,
  receivers: Record<string, ResolvedReceiver>,
): JsonObject {
  const routes: JsonObject[] = [
    { receiver: NULL_RECEIVER, matchers: ['alertname=~"Watchdog|InfoInhibitor"'], continue: false },
    ...a.routes.map((r) => ({
      receiver: r.receiver,
      matchers: [
        ...(r.severity !== undefined ? [`severity="${r.severity}"`] : []),
        ...(r.customers.length > 0 ? [`customer=~"${quoted(r.customers)}"`] : []),
      ],
      continue: r.continue,
    })),
  ];
  return {
    route: {
      receiver: a.defaultReceiver ?? NULL_RECEIVER,
      group_by: ["alertname", "customer", "component"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes,
    },
    // A critical alert silences the warning of the same thing (ES1VolumeFull over ES1VolumeFilling).
    inhibit_rules: [
      {
        source_matchers: ['alertname=~"ES1.*"', 'severity="critical"'],
        target_matchers: ['alertname=~"ES1.*"', 'severity="warning"'],
        equal: ["namespace", "component", "customer"],
      },
    ],
    receivers: [
      { name: NULL_RECEIVER },
      ...Object.entries(receivers).map(([name, r]) => receiverConfig(name, r)),
    ],
  };
}

/** The Secret holding alertmanager.yaml, before the monitoring release that mounts it. */
export function alertmanagerConfigSecret(
  a: AlertingSettings,
  args: { namespace: pulumi.Input<string>; provider: k8s.Provider },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const text = resolveReceivers(a).apply((receivers) =>
    yaml.dump(alertmanagerConfig(a, receivers), { lineWidth: -1, noRefs: true }),
  );
  return new k8s.core.v1.Secret(
    ALERTMANAGER_CONFIG_SECRET,
    {
      metadata: {
        name: ALERTMANAGER_CONFIG_SECRET,
        namespace: args.namespace,
        labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
      },
      type: "Opaque",
      stringData: { "alertmanager.yaml": pulumi.secret(text) },
    },
    { ...opts, provider: args.provider },
  );
}
