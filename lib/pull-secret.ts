// es1:airgap.registryAuth as Kubernetes sees it: a `kubernetes.io/dockerconfigjson` Secret in a
// namespace the program creates, which every chart and operator-created pod names in its
// imagePullSecrets (config/airgap.ts adds its name to es1:airgap.imagePullSecrets).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { REGISTRY_PULL_SECRET, RegistryAuth } from "../config/airgap";

/** The host (and port) a runtime matches a pull against: `es1:airgap.registry` without its path. */
export function registryHost(registry: string): string {
  return registry.split("/")[0];
}

/** The `.dockerconfigjson` document for one registry login, as `kubectl create secret docker-registry` writes it. */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [registryHost(registry)]: { username, password, auth } } });
}

/** The pull Secret in `namespace`; its data is a Pulumi secret. */
export function registryPullSecret(
  resourceName: string,
  args: {
    namespace: pulumi.Input<string>;
    registry: string;
    auth: RegistryAuth;
    labels?: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const { registry, auth } = args;
  return new k8s.core.v1.Secret(
    resourceName,
    {
      metadata: {
        name: REGISTRY_PULL_SECRET,
        namespace: args.namespace,
        labels: args.labels ?? { "app.kubernetes.io/part-of": "es1" },
      },
      type: "kubernetes.io/dockerconfigjson",
      stringData: {
        ".dockerconfigjson": pulumi.secret(
          auth.password.apply((p) => dockerConfigJson(registry, auth.username, p)),
        ),
      },
    },
    opts,
  );
}
