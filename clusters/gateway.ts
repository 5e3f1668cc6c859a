// What each cloud brings for Gateway API: its GatewayClass, whether the Gateway API CRDs must be
// installed, and where the data plane's traffic comes from (for NetworkPolicies). Pure data from
// the cluster settings, so the settings parse can check an access setup before anything runs.
import type { AccessPeer } from "../config/access";
import type { ClusterSettings } from "../config/cluster";

/** The namespace of the stack's shared Gateway (and of Envoy Gateway, when the program installs it). */
export const GATEWAY_NAMESPACE = "es1-gateway";

/** GatewayClasses the program creates itself, with the controller that serves each. */
export const OWN_GATEWAY_CLASSES: Record<string, string> = {
  // Envoy Gateway, installed by the program on existing clusters (es1:access.installEnvoyGateway).
  "es1-envoy": "gateway.envoyproxy.io/gatewayclass-controller",
  // The AWS Load Balancer Controller's ALB Gateway support (it ships no GatewayClass of its own).
  "es1-alb": "gateway.k8s.aws/alb",
};

/**
 * Google's load balancers reach the backends (network endpoint groups) from these ranges: the
 * front ends and the health checks (cloud.google.com/load-balancing/docs/health-check-concepts).
 */
export const GOOGLE_LB_RANGES = ["35.191.0.0/16", "130.211.0.0/22"] as const;

/** Envoy Gateway's proxy pods (labels its infrastructure provider gives every managed Envoy). */
export const ENVOY_PROXY_LABELS = {
  "app.kubernetes.io/name": "envoy",
  "app.kubernetes.io/component": "proxy",
  "app.kubernetes.io/managed-by": "envoy-gateway",
} as const;

export interface GatewayDefaults {
  /** GatewayClass every Gateway names unless es1:access.gatewayClass says otherwise. */
  gatewayClass: string;
  /** The cluster lacks the Gateway API CRDs unless the program installs them. */
  needsGatewayApiCrds: boolean;
  /** Where the data plane's traffic comes from; empty: unknown, es1:access.from must say. */
  peers: AccessPeer[];
}

/**
 * Per cloud: GKE's managed global external Application Load Balancer (the cluster enables the
 * Gateway API), AKS's Application Gateway for Containers (ALB controller add-on), the AWS Load
 * Balancer Controller on EKS, and on existing clusters Envoy Gateway when the program installs
 * it. Cloud load balancers reach pods from outside the cluster: from Google's ranges, or from
 * the nodes' network (ALB and AGC send from addresses in the VPC / VNet).
 */
export function gatewayDefaults(cluster: ClusterSettings, installEnvoyGateway: boolean): GatewayDefaults {
  switch (cluster.provider) {
    case "gke":
      return {
        gatewayClass: "gke-l7-global-external-managed",
        needsGatewayApiCrds: false,
        peers: GOOGLE_LB_RANGES.map((cidr) => ({ cidr })),
      };
    case "eks":
      return {
        gatewayClass: "es1-alb",
        needsGatewayApiCrds: true,
        peers: cluster.network.kind === "new" ? [{ cidr: cluster.network.cidr }] : [],
      };
    case "aks":
      return {
        gatewayClass: "azure-alb-external",
        needsGatewayApiCrds: false,
        peers: cluster.network.kind === "new" ? [{ cidr: cluster.network.cidr }] : [],
      };
    case "existing":
      return installEnvoyGateway
        ? {
            gatewayClass: "es1-envoy",
            needsGatewayApiCrds: true,
            peers: [{ namespace: GATEWAY_NAMESPACE, podLabels: { ...ENVOY_PROXY_LABELS } }],
          }
        : { gatewayClass: "", needsGatewayApiCrds: false, peers: [] };
  }
}
