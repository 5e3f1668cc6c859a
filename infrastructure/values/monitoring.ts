import { JsonObject } from "../../lib/json";
import { NODE_EXPORTER_NAMESPACE, SECRETS } from "../layout";
import { fractionOf, infraPlacement, pullSecretRefs, resources, ValuesContext, volumeSize } from "./context";
import { grafanaSso } from "./sso";

/** PersistentVolumeClaim Pulumi makes for Grafana (dashboards, users, plugins). */
export const GRAFANA_CLAIM = "es1-grafana";

/** How long Prometheus keeps samples, per environment. */
const RETENTION = { dev: "7d", prod: "30d" } as const;

/** A volumeClaimTemplate in the shape the Prometheus Operator's CRDs take. */
function claimTemplate(ctx: ValuesContext, size: string): JsonObject {
  return {
    volumeClaimTemplate: {
      spec: {
        storageClassName: ctx.storageClass,
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
      },
    },
  };
}

/** Prometheus Operator CRDs (chart prometheus-operator-crds): templates, so upgrades update them. */
export function monitoringCrdsValues(): JsonObject {
  return {};
}

/**
 * Certificates of the operator's admission webhooks: from cert-manager when this stack installs it
 * (a self-signed CA Issuer and a Certificate into Secret es1-monitoring-admission, renewed by
 * cert-manager, CA injected into the webhook configurations), else from the chart's own hook Jobs
 * (kube-webhook-certgen writes the Secret once and patches the CA into the webhooks).
 */
function admissionWebhooks(ctx: ValuesContext): JsonObject {
  if (ctx.certManager) return { certManager: { enabled: true } };
  return { patch: { ...infraPlacement(ctx) } };
}

/**
 * kube-prometheus-stack: Prometheus, Alertmanager and Grafana. Prometheus picks up every
 * ServiceMonitor, PodMonitor and rule of the cluster, not only those labelled for this release,
 * so the monitors of every ES1 namespace are scraped. CRDs come from their own release.
 */
export function monitoringValues(ctx: ValuesContext): JsonObject {
  const { size } = ctx.components.monitoring;
  const place = infraPlacement(ctx);
  const global: JsonObject = { imagePullSecrets: pullSecretRefs(ctx) };
  if (ctx.registry) global.imageRegistry = ctx.registry;
  const { ini: ssoIni, ...ssoGrafana } = grafanaSso(ctx);
  return {
    fullnameOverride: "es1-monitoring",
    crds: { enabled: false },
    global,
    // Control-plane components are not reachable on managed clusters.
    kubeControllerManager: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    prometheusOperator: { ...place, admissionWebhooks: admissionWebhooks(ctx) },
    "kube-state-metrics": { ...place },
    // node-exporter needs the host (network, PID, root file system): the privileged Pod Security
    // level, in a namespace of its own, so es1-infrastructure stays at baseline.
    "prometheus-node-exporter": { namespaceOverride: NODE_EXPORTER_NAMESPACE },
    prometheus: {
      prometheusSpec: {
        replicas: size.replicas,
        resources: resources(size.resources),
        retention: RETENTION[ctx.environment],
        storageSpec: claimTemplate(ctx, volumeSize(ctx, "monitoring")),
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        ...place,
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        replicas: size.replicas,
        storage: claimTemplate(ctx, fractionOf(volumeSize(ctx, "monitoring"), 0.05)),
        // es1:alerting: the configuration, receivers' credentials included, is a Secret Pulumi
        // writes; the chart only names it and makes none of its own.
        ...(ctx.alertmanagerConfigSecret !== undefined
          ? { useExistingSecret: true, configSecret: ctx.alertmanagerConfigSecret }
          : {}),
        ...place,
      },
    },
    grafana: {
      admin: { existingSecret: SECRETS.grafanaAdmin, userKey: "admin-user", passwordKey: "admin-password" },
      testFramework: { enabled: false },
      // No usage reports or update checks: installs must work without internet access.
      "grafana.ini": {
        analytics: { reporting_enabled: false, check_for_updates: false },
        // Behind a route, Grafana's links and redirects use its public URL.
        ...(ctx.publicUrls?.grafana ? { server: { root_url: ctx.publicUrls.grafana } } : {}),
        // es1:access.sso: generic OAuth (values/sso.ts).
        ...(ssoIni as JsonObject | undefined),
      },
      ...ssoGrafana,
      persistence: { enabled: true, type: "pvc", existingClaim: GRAFANA_CLAIM },
      // One ReadWriteOnce volume.
      deploymentStrategy: { type: "Recreate" },
      // The pod's fsGroup makes the volume writable; the chown init container would run as root.
      initChownData: { enabled: false },
      ...place,
    },
  };
}
