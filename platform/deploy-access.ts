// What a customer-only stack may do on the cluster: one customer's namespace, and there only what
// the platform chart and the program put in it. The owning stack creates the namespace (cluster
// scope: its Pod Security labels), the quota and limits (a tenant must not raise its own), and a
// ServiceAccount bound to DEPLOYER_RULES; the kubeconfig of its token is the customer's only way in.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { kubeconfigText } from "../automation/kube";
import type { CustomerSettings } from "../config/customers";
import { customerObjects } from "./values";
import { customerMlflowClaim } from "./mlflow";
import { PLATFORM_SIZING } from "./sizing";

/** A namespaced RBAC rule (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface DeployerRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"];
const READ = ["get", "list", "watch"];

/**
 * The Role of a customer's deploy identity: the kinds of platform/chart/templates, the Secrets
 * (the program's and Helm's release records) and ConfigMaps the program writes, read access to
 * what Helm's wait and `es1 rollout` / `es1 status` look at. No RBAC objects (no escalation), no pods/exec, nothing cluster-wide.
 */
export const DEPLOYER_RULES: readonly DeployerRule[] = [
  { apiGroups: [""], resources: ["secrets", "configmaps", "services", "serviceaccounts"], verbs: WRITE },
  { apiGroups: [""], resources: ["pods", "events", "endpoints", "persistentvolumeclaims"], verbs: READ },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: WRITE },
  { apiGroups: ["apps"], resources: ["replicasets", "statefulsets", "daemonsets"], verbs: READ },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"], verbs: WRITE },
  { apiGroups: ["gateway.networking.k8s.io"], resources: ["gateways", "httproutes"], verbs: WRITE },
  { apiGroups: ["cert-manager.io"], resources: ["certificates", "issuers"], verbs: WRITE },
  { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors", "podmonitors"], verbs: WRITE },
];

/** Names of a customer's deploy identity in its namespace. */
export const DEPLOYER = { account: "es1-deployer", token: "es1-deployer-token" } as const;

/**
 * The customer's namespace (restricted Pod Security), quota and limits, and with MLflow on the
 * volume of its MLflow's artifacts. Created by whichever of CustomerPlatform and
 * CustomerDeployAccess the owning stack has for the customer; `movedFrom` is the other's type, so
 * switching a customer's platform off or on moves them without a replacement.
 */
export function customerNamespace(
  c: CustomerSettings,
  opts: {
    parent: pulumi.Resource;
    provider: k8s.Provider;
    movedFrom: string;
    /** The StorageClass of the MLflow artifact volume; absent with MLflow off. */
    mlflowStorageClass?: string;
  },
): k8s.core.v1.Namespace {
  const names = customerObjects(c.name);
  const labels = { "es1-role": "platform", "es1-customer": c.name, "app.kubernetes.io/part-of": "es1" };
  const aliases = [{ parent: pulumi.createUrn(c.name, opts.movedFrom) }];
  const k8sOpts = { parent: opts.parent, provider: opts.provider, aliases };
  const ns = new k8s.core.v1.Namespace(
    `${c.name}-namespace`,
    {
      metadata: {
        name: names.namespace,
        labels: {
          ...labels,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    },
    k8sOpts,
  );
  const inNs = { ...k8sOpts, dependsOn: [ns] };
  const meta = { name: "es1-platform", namespace: ns.metadata.name, labels };
  new k8s.core.v1.ResourceQuota(
    `${c.name}-quota`,
    { metadata: meta, spec: { hard: PLATFORM_SIZING[c.sizing].quota } },
    inNs,
  );
  new k8s.core.v1.LimitRange(
    `${c.name}-limits`,
    {
      metadata: meta,
      spec: {
        limits: [
          { type: "Container", defaultRequest: { cpu: "25m", memory: "64Mi" }, default: { memory: "256Mi" } },
        ],
      },
    },
    inNs,
  );
  if (opts.mlflowStorageClass !== undefined) customerMlflowClaim(c, opts.mlflowStorageClass, inNs);
  return ns;
}

/** Where the API server is, from an admin kubeconfig (its `context`, or its current one). */
export function apiServer(
  kubeconfig: string,
  context?: string,
): { server: string; caData?: string; insecure?: boolean } {
  interface Config {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: {
      name: string;
      cluster?: {
        server?: string;
        "certificate-authority-data"?: string;
        "insecure-skip-tls-verify"?: boolean;
      };
    }[];
  }
  const config = (yaml.load(kubeconfig) ?? {}) as Config;
  const ctxName = context ?? config["current-context"];
  const clusterName = config.contexts?.find((c) => c.name === ctxName)?.context?.cluster;
  const cluster = config.clusters?.find((c) => c.name === clusterName)?.cluster;
  // Empty when the kubeconfig names none: warned about where it is used.
  if (cluster === undefined) return { server: "" };
  return {
    server: cluster.server ?? "",
    ...(cluster["certificate-authority-data"] ? { caData: cluster["certificate-authority-data"] } : {}),
    ...(cluster["insecure-skip-tls-verify"] ? { insecure: true } : {}),
  };
}

/** A kubeconfig for one ServiceAccount token, its namespace the default. */
export function scopedKubeconfig(args: {
  customer: string;
  server: { server: string; caData?: string; insecure?: boolean };
  /** The token Secret's ca.crt (base64), used when the admin kubeconfig names no CA. */
  caData?: string;
  token: string;
  namespace: string;
}): string {
  const name = `es1-${args.customer}`;
  const caData = args.server.caData ?? args.caData;
  return yaml.dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: args.server.server,
          ...(caData ? { "certificate-authority-data": caData } : {}),
          ...(args.server.insecure ? { "insecure-skip-tls-verify": true } : {}),
        },
      },
    ],
    users: [{ name, user: { token: args.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: args.namespace } }],
    "current-context": name,
  });
}

export interface CustomerDeployAccessArgs {
  customer: CustomerSettings;
  provider: k8s.Provider;
  /** The owning stack's admin kubeconfig (secret) and context: only the server and CA are taken. */
  kubeconfig: pulumi.Output<string>;
  context?: string;
  /** With MLflow on: the StorageClass of the customer's MLflow artifact volume, kept here. */
  mlflowStorageClass?: string;
}

/**
 * For a customer whose platform another stack deploys (`enabled: false` in the owning stack, data
 * kept): its namespace, quota and limits, and a deploy identity limited to that namespace.
 */
export class CustomerDeployAccess extends pulumi.ComponentResource {
  readonly namespace: string;
  /** A kubeconfig of the deploy identity (secret). */
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: CustomerDeployAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:platform:CustomerDeployAccess", name, {}, opts);
    const c = args.customer;
    this.namespace = customerObjects(c.name).namespace;
    const ns = customerNamespace(c, {
      parent: this,
      provider: args.provider,
      movedFrom: "es1:platform:CustomerPlatform",
      mlflowStorageClass: args.mlflowStorageClass,
    });
    const k8sOpts = { parent: this, provider: args.provider, dependsOn: [ns] };
    const labels = { "es1-customer": c.name, "app.kubernetes.io/part-of": "es1" };
    const meta = (objName: string) => ({ name: objName, namespace: this.namespace, labels });
    const account = new k8s.core.v1.ServiceAccount(
      `${c.name}-deployer`,
      { metadata: meta(DEPLOYER.account) },
      k8sOpts,
    );
    const role = new k8s.rbac.v1.Role(
      `${c.name}-deployer`,
      { metadata: meta(DEPLOYER.account), rules: DEPLOYER_RULES.map((r) => ({ ...r })) },
      k8sOpts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${c.name}-deployer`,
      {
        metadata: meta(DEPLOYER.account),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: DEPLOYER.account },
        subjects: [{ kind: "ServiceAccount", name: DEPLOYER.account, namespace: this.namespace }],
      },
      { ...k8sOpts, dependsOn: [role, account] },
    );
    // A long-lived token: the token controller fills it in, and the provider waits for it.
    const token = new k8s.core.v1.Secret(
      `${c.name}-deployer-token`,
      {
        metadata: {
          ...meta(DEPLOYER.token),
          annotations: { "kubernetes.io/service-account.name": DEPLOYER.account },
        },
        type: "kubernetes.io/service-account-token",
      },
      { ...k8sOpts, dependsOn: [account], additionalSecretOutputs: ["data"] },
    );
    this.kubeconfig = pulumi.secret(
      pulumi.all([args.kubeconfig, token.data]).apply(([admin, data]) => {
        const t = data?.token;
        if (!t) throw new Error(`the token Secret ${this.namespace}/${DEPLOYER.token} has no token yet`);
        const server = apiServer(admin === "" ? ambientKubeconfig() : admin, args.context);
        if (server.server === "")
          pulumi.log.warn(
            `the cluster's kubeconfig names no API server for context '${args.context ?? ""}': the kubeconfig of ${c.name}'s deploy identity has none either`,
            this,
          );
        return scopedKubeconfig({
          customer: c.name,
          server,
          caData: data["ca.crt"],
          token: Buffer.from(t, "base64").toString("utf8"),
          namespace: this.namespace,
        });
      }),
    );
    this.registerOutputs({ namespace: this.namespace });
  }
}

/** The machine's kubeconfig (KUBECONFIG or ~/.kube/config), for a stack on the ambient one. */
function ambientKubeconfig(): string {
  try {
    return kubeconfigText("").text;
  } catch {
    return "";
  }
}
