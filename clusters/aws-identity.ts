// IAM roles for workloads of an EKS cluster: who may assume them (EKS Pod Identity, or IRSA
// through the cluster's OIDC provider, limited to named Kubernetes service accounts).
import * as iam from "@pulumi/aws/iam";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountSubject } from "./backup-store";
import { ServiceAccountRef } from "./types";

export function assumeRolePolicy(service: string, actions: string[] = ["sts:AssumeRole"]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }],
  });
}

/** A service account of kube-system (the add-ons'). */
export function kubeSystem(name: string): ServiceAccountRef {
  return { namespace: "kube-system", name };
}

/**
 * Trust policy of a workload's role: Pod Identity (no provider given: only the Pod Identity
 * associations made for it bind it), or IRSA through the cluster's OIDC provider, limited to
 * exactly these service accounts.
 */
export function workloadTrust(
  serviceAccounts: ServiceAccountRef[],
  oidcProvider: iam.OpenIdConnectProvider | undefined,
): pulumi.Input<string> {
  if (!oidcProvider) return assumeRolePolicy("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]);
  const host = oidcProvider.url.apply((u) => u.replace(/^https:\/\//, ""));
  const subjects = serviceAccounts.map(serviceAccountSubject);
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProvider.arn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: host.apply((h) => ({
            [`${h}:sub`]: subjects.length === 1 ? subjects[0] : subjects,
            [`${h}:aud`]: "sts.amazonaws.com",
          })),
        },
      },
    ],
  });
}
