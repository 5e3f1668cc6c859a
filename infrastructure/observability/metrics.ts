// The metrics the ES1 alerts and dashboards read, by the target that exposes them. The names of
// ES1's own targets are a contract: platform/chart's license validator and KrakenD configuration
// expose exactly these (platform/chart/README.md); the rest come from the charts the stack installs
// (kube-state-metrics, kubelet and cAdvisor through kube-prometheus-stack, CloudNativePG's
// exporter, cert-manager's controller).

/** The license-watch sidecar of every platform pod (/metrics on license.healthPort). */
export const LICENSE_METRICS = {
  /** Gauge: the license's expiry as a Unix time; labels customer, license_id. */
  expiry: "es1_license_expiry_timestamp_seconds",
  /** Gauge: 1 while the license verifies, else 0; labels customer, license_id. */
  valid: "es1_license_valid",
} as const;

/**
 * KrakenD's Prometheus exporter (telemetry/opentelemetry, global layer): the histogram
 * `http.server.duration` in seconds, labelled http_route, http_request_method and
 * http_response_status_code (krakend-otel, semantic conventions 1.21).
 */
export const GATEWAY_METRICS = {
  duration: "http_server_duration",
} as const;

/**
 * CloudNativePG's Barman Cloud plugin, through the instance manager's exporter (the Cluster's
 * PodMonitor): plugin-barman-cloud docs, "Observability". Gauges in Unix seconds.
 */
export const BACKUP_METRICS = {
  lastAvailable: "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp",
} as const;

/** The job (Service name) Prometheus gives the gateway's targets: the platform chart's gateway Service. */
export const GATEWAY_JOB = "es1-platform-gateway";

/** Namespaces of customer platforms (`<customer>-platform`), as a PromQL regex. */
export const CUSTOMER_NAMESPACES = ".+-platform";

/**
 * Metrics of targets this repository does not define, that no chart file of the stack names either
 * (the tests derive the others from the charts' own rules and dashboards): cert-manager's controller
 * (pkg/metrics of cert-manager v1.20), Prometheus' own ALERTS series, and one kube-state-metrics
 * counter the kube-prometheus-stack rules no longer read.
 */
export const OTHER_EXPOSED_METRICS: Record<string, readonly string[]> = {
  "cert-manager controller (ServiceMonitor es1-cert-manager)": [
    "certmanager_certificate_expiration_timestamp_seconds",
    "certmanager_certificate_ready_status",
  ],
  "Prometheus (rule evaluation)": ["ALERTS"],
  "Barman Cloud plugin (PostgreSQL instances, with es1:backup)": [BACKUP_METRICS.lastAvailable],
  // Its pod metrics (docs/metrics/workload/pod-metrics.md); the chart's rules read waiting reasons instead.
  "kube-state-metrics": ["kube_pod_container_status_restarts_total"],
};
