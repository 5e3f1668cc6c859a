// The Kubernetes part of access (docs/access.md): the Gateway API CRDs and Envoy Gateway where the
// cluster lacks them, the GatewayClass the program owns, cert-manager's ClusterIssuer, and for
// the shared UIs the stack's Gateway (or Ingresses), routes, certificates and the NetworkPolicy
// that admits the gateway. Customers' Gateways and routes come with their platform chart.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_NAMESPACE } from "../clusters/gateway";
import { Cluster } from "../clusters/types";
import type { AccessSettings } from "../config/access";
import type { AirgapSettings } from "../config/airgap";
import { ConfigError, ConfigErrors } from "../config/errors";
import { resolveChart, ResolvedChart, UpstreamChart } from "../lib/charts";
import { JsonObject } from "../lib/json";
import { registryPullSecret } from "../lib/pull-secret";
import { helmRelease } from "../lib/release";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { AccessPlan, CLUSTER_ISSUERS, networkPolicyPeer, SHARED_GATEWAY, SharedRoute } from "./plan";

export * from "./plan";

/** The access charts, pinned (../shared/upstream-charts holds these versions). */
export const ACCESS_CHARTS = {
  // A wrapper chart around the project's standard-channel CRD files (PROVENANCE.md): the Gateway
  // API publishes YAML, not a chart, so it comes from a chart mirror only.
  gatewayApiCrds: { chart: "gateway-api-crds", repo: "", version: "1.6.1" },
  envoyGateway: { chart: "gateway-helm", repo: "oci://docker.io/envoyproxy", version: "v1.9.0" },
} as const satisfies Record<string, UpstreamChart>;

/**
 * The pods behind each shared UI's Service (the selector its chart gives the Service; the e2e
 * test compares them with the Services on the cluster).
 */
export const SHARED_UI_PODS: Record<SharedRoute["ui"], Record<string, string>> = {
  grafana: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "es1-monitoring" },
  airflow: { component: "api-server", release: "es1-airflow", tier: "airflow" },
  langfuse: {
    "app.kubernetes.io/name": "langfuse",
    "app.kubernetes.io/instance": "es1-langfuse",
    app: "web",
  },
  n8n: { "app.kubernetes.io/name": "n8n", "app.kubernetes.io/instance": "es1-n8n" },
  langflow: { "app.kubernetes.io/name": "langflow", "app.kubernetes.io/instance": "es1-langflow" },
  mlflow: { app: "mlflow", "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "es1-mlflow" },
};

/** The access charts the plan installs, located before anything is deployed. */
export function resolveAccessCharts(
  plan: AccessPlan,
  airgap: Pick<AirgapSettings, "charts">,
): { gatewayApiCrds?: ResolvedChart; envoyGateway?: ResolvedChart } {
  const out: { gatewayApiCrds?: ResolvedChart; envoyGateway?: ResolvedChart } = {};
  const errors: ConfigError[] = [];
  if (plan.installGatewayApiCrds) {
    if (airgap.charts.kind === "upstream")
      errors.push(
        new ConfigError(
          "es1:access.installGatewayApiCrds",
          "the Gateway API CRDs come as gateway-api-crds-1.6.1.tgz from a chart mirror (es1:airgap.charts; the project publishes YAML, not a chart): add it there, or set installGatewayApiCrds: false and apply the standard-channel CRDs yourself",
        ),
      );
    else
      try {
        out.gatewayApiCrds = resolveChart(ACCESS_CHARTS.gatewayApiCrds, airgap.charts);
      } catch (e) {
        errors.push(new ConfigError("es1:airgap.charts", (e as Error).message));
      }
  }
  if (plan.installEnvoyGateway)
    try {
      out.envoyGateway = resolveChart(ACCESS_CHARTS.envoyGateway, airgap.charts);
    } catch (e) {
      errors.push(new ConfigError("es1:airgap.charts", (e as Error).message));
    }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return out;
}

/** Envoy Gateway's values: the images through the one registry setting. */
export function envoyGatewayValues(
  airgap: Pick<AirgapSettings, "registry" | "imagePullSecrets">,
): JsonObject {
  return {
    global: {
      ...(airgap.registry ? { imageRegistry: airgap.registry } : {}),
      imagePullSecrets: airgap.imagePullSecrets.map((name) => ({ name })),
    },
    // Its CRDs (the Gateway API's are installed first, so Helm skips those it finds).
    crds: { enabled: true },
  };
}

/** The ClusterIssuer of es1:access.tls.issuer (acme, ca), or undefined. */
export function clusterIssuerSpec(
  plan: AccessPlan,
  access: AccessSettings,
  ingressClass: string,
): JsonObject | undefined {
  const t = access.tls;
  if (t.issuer === "ca" && t.caSecret) return { ca: { secretName: t.caSecret } };
  if (t.issuer !== "acme" || !t.acmeEmail) return undefined;
  const solver: JsonObject =
    plan.mode === "gateway"
      ? {
          gatewayHTTPRoute: {
            parentRefs: [{ name: SHARED_GATEWAY, namespace: GATEWAY_NAMESPACE, sectionName: "http" }],
          },
        }
      : { ingress: { ingressClassName: ingressClass } };
  return {
    acme: {
      server: t.acmeServer,
      email: t.acmeEmail,
      privateKeySecretRef: { name: `${CLUSTER_ISSUERS.acme}-account` },
      solvers: [{ http01: solver }],
    },
  };
}

/** The shared Gateway: plain HTTP (redirect, ACME) and an HTTPS listener per shared UI. */
export function sharedGatewaySpec(plan: AccessPlan): JsonObject {
  return {
    gatewayClassName: plan.gatewayClass,
    listeners: [
      { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
      ...plan.shared.map((s) => ({
        name: `https-${s.ui}`,
        protocol: "HTTPS",
        port: 443,
        hostname: s.host,
        tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: s.tlsSecret ?? "" }] },
        allowedRoutes: {
          namespaces: {
            from: "Selector",
            selector: { matchLabels: { "kubernetes.io/metadata.name": INFRASTRUCTURE_NAMESPACE } },
          },
        },
      })),
    ],
  };
}

/** A shared UI's HTTPRoute, on its own listener of the shared Gateway. */
export function sharedRouteSpec(s: SharedRoute): JsonObject {
  return {
    parentRefs: [{ name: SHARED_GATEWAY, namespace: GATEWAY_NAMESPACE, sectionName: `https-${s.ui}` }],
    hostnames: [s.host],
    rules: [{ backendRefs: [{ name: s.service, port: s.port }] }],
  };
}

export interface AccessArgs {
  plan: AccessPlan;
  settings: AccessSettings;
  airgap: AirgapSettings;
  cluster: Cluster;
  charts: ReturnType<typeof resolveAccessCharts>;
}

export interface SharedAccessArgs {
  /** es1-infrastructure (the shared UIs' routes, Ingresses and NetworkPolicies live there). */
  infrastructureNamespace: pulumi.Resource;
  /** The cert-manager release, when the stack runs it (ClusterIssuers and Certificates need its CRDs). */
  certManager?: pulumi.Resource;
}

/**
 * The stack's part of access, in two steps: the constructor installs what the cluster lacks
 * (Gateway API CRDs, Envoy Gateway, the GatewayClass) before the infrastructure, so cert-manager
 * finds the CRDs it watches; `expose` then adds the issuer and the shared UIs' routes.
 */
export class Access extends pulumi.ComponentResource {
  /** What releases wait for: the Gateway API CRDs and controller, when the program installs them. */
  readonly gatewayApi: pulumi.Resource[] = [];
  /** What customer platforms wait for (the CRDs, class and issuer their Gateways need). */
  readonly ready: pulumi.Resource[] = [];
  private readonly args: AccessArgs;
  private readonly ns?: k8s.core.v1.Namespace;
  private readonly labels = { "es1-role": "gateway", "app.kubernetes.io/part-of": "es1" };

  constructor(name: string, args: AccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:access:Access", name, {}, opts);
    this.args = args;
    const { plan, cluster } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const labels = this.labels;
    const gateway = plan.mode === "gateway";
    const needsNamespace =
      gateway && (plan.shared.length > 0 || plan.installEnvoyGateway || plan.installGatewayApiCrds);
    this.ns = needsNamespace
      ? new k8s.core.v1.Namespace(
          GATEWAY_NAMESPACE,
          { metadata: { name: GATEWAY_NAMESPACE, labels } },
          k8sOpts,
        )
      : undefined;
    const ns = this.ns;
    const crdDeps = this.gatewayApi;
    // es1:airgap.registryAuth: Envoy Gateway's pods pull with the same Secret as every other.
    const { registry, registryAuth } = args.airgap;
    const pull =
      ns && registry && registryAuth
        ? [
            registryPullSecret(
              "gateway-registry-pull-secret",
              { namespace: ns.metadata.name, registry, auth: registryAuth, labels },
              { ...k8sOpts, dependsOn: [ns] },
            ),
          ]
        : [];
    if (args.charts.gatewayApiCrds && ns)
      crdDeps.push(
        helmRelease(
          {
            name: "es1-gateway-api-crds",
            namespace: GATEWAY_NAMESPACE,
            chart: args.charts.gatewayApiCrds,
            values: {},
            timeoutSeconds: 300,
            provider: cluster.provider,
          },
          { parent: this, dependsOn: [ns] },
        ),
      );
    if (args.charts.envoyGateway && ns)
      crdDeps.push(
        helmRelease(
          {
            name: "es1-envoy-gateway",
            namespace: GATEWAY_NAMESPACE,
            chart: args.charts.envoyGateway,
            values: envoyGatewayValues(args.airgap),
            timeoutSeconds: 600,
            provider: cluster.provider,
          },
          { parent: this, dependsOn: [ns, ...pull, ...crdDeps] },
        ),
      );
    this.ready.push(...crdDeps);
    if (plan.gatewayClassController)
      this.ready.push(
        new k8s.apiextensions.CustomResource(
          "gateway-class",
          {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: plan.gatewayClass, labels },
            spec: { controllerName: plan.gatewayClassController },
          },
          { ...k8sOpts, dependsOn: crdDeps },
        ),
      );
  }

  /** The ClusterIssuer and the shared UIs' Gateway (or Ingresses), routes, certificates, policies. */
  expose(shared: SharedAccessArgs): void {
    const { plan, cluster } = this.args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const labels = this.labels;
    const gateway = plan.mode === "gateway";
    const ns = this.ns;
    const certDeps = shared.certManager ? [shared.certManager] : [];
    const issuer = clusterIssuerSpec(plan, this.args.settings, cluster.ingressClass);
    if (issuer && plan.clusterIssuer)
      this.ready.push(
        new k8s.apiextensions.CustomResource(
          "cluster-issuer",
          {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: plan.clusterIssuer, labels },
            spec: issuer,
          },
          { ...k8sOpts, dependsOn: certDeps },
        ),
      );

    if (plan.shared.length === 0) {
      this.registerOutputs({});
      return;
    }
    const infraDeps = [shared.infrastructureNamespace];
    if (gateway && ns) {
      const gw = new k8s.apiextensions.CustomResource(
        "shared-gateway",
        {
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "Gateway",
          metadata: { name: SHARED_GATEWAY, namespace: GATEWAY_NAMESPACE, labels },
          spec: sharedGatewaySpec(plan),
        },
        { ...k8sOpts, dependsOn: [ns, ...this.ready] },
      );
      new k8s.apiextensions.CustomResource(
        "shared-https-redirect",
        {
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name: "es1-https-redirect", namespace: GATEWAY_NAMESPACE, labels },
          spec: {
            parentRefs: [{ name: SHARED_GATEWAY, sectionName: "http" }],
            rules: [
              {
                filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }],
              },
            ],
          },
        },
        { ...k8sOpts, dependsOn: [gw] },
      );
      for (const s of plan.shared) {
        if (s.issued && plan.clusterIssuer)
          new k8s.apiextensions.CustomResource(
            `certificate-${s.ui}`,
            {
              apiVersion: "cert-manager.io/v1",
              kind: "Certificate",
              metadata: { name: s.tlsSecret ?? "", namespace: GATEWAY_NAMESPACE, labels },
              spec: {
                secretName: s.tlsSecret ?? "",
                dnsNames: [s.host],
                issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: plan.clusterIssuer },
              },
            },
            { ...k8sOpts, dependsOn: [ns, ...this.ready, ...certDeps] },
          );
        new k8s.apiextensions.CustomResource(
          `route-${s.ui}`,
          {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: {
              name: `es1-${s.ui}`,
              namespace: INFRASTRUCTURE_NAMESPACE,
              labels: { ...labels, "es1-ui": s.ui },
            },
            spec: sharedRouteSpec(s),
          },
          { ...k8sOpts, dependsOn: [...infraDeps, gw] },
        );
      }
    } else if (!gateway) {
      for (const s of plan.shared)
        new k8s.networking.v1.Ingress(
          `ingress-${s.ui}`,
          {
            metadata: {
              name: `es1-${s.ui}`,
              namespace: INFRASTRUCTURE_NAMESPACE,
              labels: { ...labels, "es1-ui": s.ui },
              annotations: {
                // Pulumi would wait for the controller's load balancer address: like the
                // customers' Ingresses (a Helm release), done once the API server has it.
                "pulumi.com/skipAwait": "true",
                ...cluster.ingressAnnotations,
                ...(s.issued && plan.clusterIssuer
                  ? { "cert-manager.io/cluster-issuer": plan.clusterIssuer }
                  : {}),
              },
            },
            spec: {
              ingressClassName: cluster.ingressClass,
              ...(s.tlsSecret ? { tls: [{ hosts: [s.host], secretName: s.tlsSecret }] } : {}),
              rules: [
                {
                  host: s.host,
                  http: {
                    paths: [
                      {
                        path: "/",
                        pathType: "Prefix",
                        backend: { service: { name: s.service, port: { number: s.port } } },
                      },
                    ],
                  },
                },
              ],
            },
          },
          { ...k8sOpts, dependsOn: [...infraDeps, ...certDeps] },
        );
    }
    // Each shared UI admits the gateway's (or the ingress controller's) traffic on its own port:
    // nothing else from outside es1-infrastructure (docs/access.md).
    for (const s of plan.shared)
      new k8s.networking.v1.NetworkPolicy(
        `from-gateway-${s.ui}`,
        {
          metadata: {
            name: `es1-${s.ui}-from-gateway`,
            namespace: INFRASTRUCTURE_NAMESPACE,
            labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
          },
          spec: {
            podSelector: { matchLabels: { ...SHARED_UI_PODS[s.ui] } },
            policyTypes: ["Ingress"],
            ingress: [
              { from: plan.peers.map(networkPolicyPeer), ports: [{ protocol: "TCP", port: s.podPort }] },
            ],
          },
        },
        { ...k8sOpts, dependsOn: infraDeps },
      );
    this.registerOutputs({});
  }
}
