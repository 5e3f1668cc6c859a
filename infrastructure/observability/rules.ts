// The ES1 alert rules (one PrometheusRule, es1-alerts): plain data from the stack's settings, so
// promtool checks and unit-tests them (test/charts/run.sh) exactly as Prometheus loads them. Every
// alert carries `severity` (critical | warning), `component` or `customer` for routing
// (es1:alerting), and a runbook in docs/operations.md.
import { INFRASTRUCTURE_NAMESPACE } from "../layout";
import {
  BACKUP_METRICS,
  CUSTOMER_NAMESPACES,
  GATEWAY_JOB,
  GATEWAY_METRICS,
  LICENSE_METRICS,
} from "./metrics";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** Name of the PrometheusRule in es1-infrastructure. */
export const ALERTS_RULE_NAME = "es1-alerts";

/** Thresholds, in one place: docs/operations.md quotes them. */
export const THRESHOLDS = {
  /** Share of a volume in use. */
  volumeWarning: 0.8,
  volumeCritical: 0.95,
  /** Seconds a PostgreSQL standby may lag behind. */
  replicationLagWarning: 30,
  replicationLagCritical: 300,
  /** Share of a customer's gateway requests answered 5xx. */
  gateway5xx: 0.05,
  /** 95th percentile of a customer's gateway request duration, seconds. */
  gatewayLatencyP95: 2,
  /** Days before a certificate expires (cert-manager renews 30 days before, by default). */
  certificateDays: 14,
  /** Seconds a base backup may take beyond its schedule's interval before it counts as missed. */
  backupGraceSeconds: 7200,
} as const;

const ES1_NAMESPACES = `${INFRASTRUCTURE_NAMESPACE}|${CUSTOMER_NAMESPACES}`;

/**
 * The customer from a series' `namespace` (`<customer>-platform`), for an alert's labels and
 * annotations (annotations see the series' labels, not the rule's).
 */
const CUSTOMER_FROM_NAMESPACE = '{{ reReplaceAll "-platform$" "" $labels.namespace }}';

/** The same for series of either kind of namespace: empty (no label) in es1-infrastructure. */
const CUSTOMER_IF_PLATFORM = `{{ if ne $labels.namespace "${INFRASTRUCTURE_NAMESPACE}" }}${CUSTOMER_FROM_NAMESPACE}{{ end }}`;

function runbook(alert: string): string {
  return `docs/operations.md#${alert.toLowerCase()}`;
}

function rule(
  alert: string,
  expr: string,
  forDuration: string,
  labels: Record<string, string>,
  summary: string,
  description: string,
): AlertRule {
  return {
    alert,
    expr,
    for: forDuration,
    labels,
    annotations: { summary, description, runbook_url: runbook(alert) },
  };
}

/**
 * ES1PostgresBackupTooOld, with PostgreSQL backups on: the newest base backup is older than the
 * schedule's longest interval (es1:backup.postgresql.schedule) plus the grace a backup may take.
 */
function backupRule(intervalSeconds: number): AlertRule {
  const limit = intervalSeconds + THRESHOLDS.backupGraceSeconds;
  return rule(
    "ES1PostgresBackupTooOld",
    `time() - max by (namespace) (${BACKUP_METRICS.lastAvailable}{namespace="${INFRASTRUCTURE_NAMESPACE}"}) > ${limit}`,
    "10m",
    { severity: "warning", component: "postgresql" },
    "PostgreSQL's newest base backup is {{ $value | humanizeDuration }} old",
    `The schedule runs a base backup at least every ${intervalSeconds / 3600} h; none has completed for that long plus ` +
      `${THRESHOLDS.backupGraceSeconds / 3600} h: restores need more WAL, and a lost object store loses more.`,
  );
}

/**
 * The ES1 rule groups; `licenseWarningDays` is es1:licenseWarningDays (the deploy warning's
 * window too); `backupIntervalSeconds` the PostgreSQL backup schedule's, when backups are on.
 */
export function alertRules(opts: {
  licenseWarningDays: number;
  backupIntervalSeconds?: number;
}): RuleGroup[] {
  const where = `namespace=~"${ES1_NAMESPACES}"`;
  const t = THRESHOLDS;
  return [
    {
      name: "es1.components",
      rules: [
        rule(
          "ES1ComponentDown",
          `(kube_deployment_spec_replicas{${where}} > 0 and kube_deployment_status_replicas_available{${where}} == 0)` +
            ` or (kube_statefulset_replicas{${where}} > 0 and kube_statefulset_status_replicas_ready{${where}} == 0)`,
          "5m",
          {
            severity: "critical",
            component: "{{ $labels.namespace }}/{{ $labels.deployment }}{{ $labels.statefulset }}",
            customer: CUSTOMER_IF_PLATFORM,
          },
          "ES1 workload {{ $labels.namespace }}/{{ $labels.deployment }}{{ $labels.statefulset }} has no ready replica",
          "Every replica of {{ $labels.namespace }}/{{ $labels.deployment }}{{ $labels.statefulset }} has been unavailable for 5 minutes.",
        ),
        rule(
          "ES1TargetDown",
          `up{${where}} == 0`,
          "10m",
          {
            severity: "warning",
            component: "{{ $labels.namespace }}/{{ $labels.job }}",
            customer: CUSTOMER_IF_PLATFORM,
          },
          "Prometheus cannot scrape {{ $labels.namespace }}/{{ $labels.job }} ({{ $labels.instance }})",
          "The target has not answered for 10 minutes: the process is down or a NetworkPolicy blocks the scrape.",
        ),
        rule(
          "ES1PodCrashLooping",
          `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", ${where}}[5m]) >= 1`,
          "15m",
          {
            severity: "warning",
            component: "{{ $labels.namespace }}/{{ $labels.pod }}",
            customer: CUSTOMER_IF_PLATFORM,
          },
          "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
          "The container has been waiting in CrashLoopBackOff for 15 minutes.",
        ),
        rule(
          "ES1VolumeFilling",
          `kubelet_volume_stats_used_bytes{${where}} / kubelet_volume_stats_capacity_bytes{${where}} > ${t.volumeWarning}`,
          "15m",
          { severity: "warning", component: "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}" },
          "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full",
          `More than ${t.volumeWarning * 100} % of the volume has been in use for 15 minutes.`,
        ),
        rule(
          "ES1VolumeFull",
          `kubelet_volume_stats_used_bytes{${where}} / kubelet_volume_stats_capacity_bytes{${where}} > ${t.volumeCritical}`,
          "5m",
          { severity: "critical", component: "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}" },
          "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full",
          `More than ${t.volumeCritical * 100} % of the volume is in use: writes will fail soon.`,
        ),
      ],
    },
    {
      name: "es1.postgresql",
      rules: [
        rule(
          "ES1PostgresReplicationLag",
          `max by (namespace, pod) (cnpg_pg_replication_lag{namespace="${INFRASTRUCTURE_NAMESPACE}"}) > ${t.replicationLagWarning}`,
          "5m",
          { severity: "warning", component: "postgresql" },
          "PostgreSQL standby {{ $labels.pod }} is {{ $value | humanizeDuration }} behind",
          `The standby has lagged the primary by more than ${t.replicationLagWarning} s for 5 minutes.`,
        ),
        rule(
          "ES1PostgresReplicationLagCritical",
          `max by (namespace, pod) (cnpg_pg_replication_lag{namespace="${INFRASTRUCTURE_NAMESPACE}"}) > ${t.replicationLagCritical}`,
          "5m",
          { severity: "critical", component: "postgresql" },
          "PostgreSQL standby {{ $labels.pod }} is {{ $value | humanizeDuration }} behind",
          `The standby has lagged the primary by more than ${t.replicationLagCritical} s: a failover now would lose data.`,
        ),
        rule(
          "ES1PostgresWALArchivingFailing",
          `increase(cnpg_pg_stat_archiver_failed_count{namespace="${INFRASTRUCTURE_NAMESPACE}"}[10m]) > 0`,
          "10m",
          { severity: "critical", component: "postgresql" },
          "PostgreSQL on {{ $labels.pod }} fails to archive WAL",
          "WAL archiving has failed repeatedly for 10 minutes: point-in-time recovery is at risk and WAL piles up on the volume.",
        ),
        ...(opts.backupIntervalSeconds !== undefined ? [backupRule(opts.backupIntervalSeconds)] : []),
      ],
    },
    {
      name: "es1.gateway",
      rules: [
        rule(
          "ES1GatewayErrorRate",
          `sum by (namespace) (rate(${GATEWAY_METRICS.duration}_count{job="${GATEWAY_JOB}", namespace=~"${CUSTOMER_NAMESPACES}", http_response_status_code=~"5.."}[5m]))` +
            ` / sum by (namespace) (rate(${GATEWAY_METRICS.duration}_count{job="${GATEWAY_JOB}", namespace=~"${CUSTOMER_NAMESPACES}"}[5m])) > ${t.gateway5xx}`,
          "10m",
          { severity: "critical", customer: CUSTOMER_FROM_NAMESPACE },
          `Gateway of customer ${CUSTOMER_FROM_NAMESPACE} answers {{ $value | humanizePercentage }} of requests with 5xx`,
          `More than ${t.gateway5xx * 100} % of the customer's API requests have failed with a server error for 10 minutes.`,
        ),
        rule(
          "ES1GatewayLatency",
          `histogram_quantile(0.95, sum by (namespace, le) (rate(${GATEWAY_METRICS.duration}_bucket{job="${GATEWAY_JOB}", namespace=~"${CUSTOMER_NAMESPACES}"}[5m]))) > ${t.gatewayLatencyP95}`,
          "10m",
          { severity: "warning", customer: CUSTOMER_FROM_NAMESPACE },
          `Gateway of customer ${CUSTOMER_FROM_NAMESPACE}: 95th percentile latency {{ $value | humanizeDuration }}`,
          `The slowest 5 % of the customer's API requests have taken more than ${t.gatewayLatencyP95} s for 10 minutes.`,
        ),
      ],
    },
    {
      name: "es1.licenses",
      rules: [
        rule(
          "ES1LicenseExpiringSoon",
          `min by (customer) (${LICENSE_METRICS.expiry}) - time() < ${opts.licenseWarningDays} * 86400` +
            ` and min by (customer) (${LICENSE_METRICS.expiry}) - time() > 0`,
          "1h",
          { severity: "warning", customer: "{{ $labels.customer }}" },
          "The license of customer {{ $labels.customer }} expires in {{ $value | humanizeDuration }}",
          `The license ends within es1:licenseWarningDays (${opts.licenseWarningDays} days): issue a renewal (docs/licensing.md).`,
        ),
        rule(
          "ES1LicenseExpired",
          `min by (customer) (${LICENSE_METRICS.expiry}) - time() <= 0`,
          "5m",
          { severity: "critical", customer: "{{ $labels.customer }}" },
          "The license of customer {{ $labels.customer }} has expired",
          "The platform's pods leave their Services while the license is invalid: the customer's platform is down.",
        ),
        rule(
          "ES1LicenseInvalid",
          `min by (customer) (${LICENSE_METRICS.valid}) == 0`,
          "5m",
          { severity: "critical", customer: "{{ $labels.customer }}" },
          "The license validator refuses the license of customer {{ $labels.customer }}",
          "A pod's license check fails (signature, dates, customer or online check): its pods are out of their Services.",
        ),
      ],
    },
    {
      name: "es1.certificates",
      rules: [
        rule(
          "ES1CertificateExpiringSoon",
          `certmanager_certificate_expiration_timestamp_seconds - time() < ${t.certificateDays} * 86400`,
          "1h",
          { severity: "warning", component: "{{ $labels.namespace }}/{{ $labels.name }}" },
          "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}",
          `cert-manager has not renewed the certificate and it expires within ${t.certificateDays} days.`,
        ),
        rule(
          "ES1CertificateNotReady",
          'certmanager_certificate_ready_status{condition="False"} == 1',
          "30m",
          { severity: "warning", component: "{{ $labels.namespace }}/{{ $labels.name }}" },
          "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready",
          "cert-manager has failed to issue or renew the certificate for 30 minutes.",
        ),
      ],
    },
  ];
}

/** Every alert name, in order (docs/operations.md has a runbook section for each). */
export function alertNames(groups: readonly RuleGroup[]): string[] {
  return groups.flatMap((g) => g.rules.map((r) => r.alert));
}
