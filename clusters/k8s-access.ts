import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_SETTINGS } from "./types";

/** A client-go exec credential plugin: the CLI that hands kubectl (and Pulumi) a fresh token. */
export interface ExecCredential {
  command: string;
  args: string[];
  /** Shown by kubectl when the command is missing. */
  installHint: string;
  provideClusterInfo?: boolean;
}

/**
 * A kubeconfig (JSON, which every kubeconfig reader accepts) whose user gets short-lived tokens
 * from a cloud CLI, so no long-lived credential is stored. Always a secret.
 */
export function execKubeconfig(args: {
  name: string;
  server: pulumi.Input<string>;
  caData: pulumi.Input<string>;
  exec: ExecCredential;
}): pulumi.Output<string> {
  const { name, exec } = args;
  return pulumi.secret(
    pulumi.all([args.server, args.caData]).apply(([server, caData]) =>
      JSON.stringify(
        {
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name, cluster: { server, "certificate-authority-data": caData } }],
          users: [
            {
              name,
              user: {
                exec: {
                  apiVersion: "client.authentication.k8s.io/v1beta1",
                  command: exec.command,
                  args: exec.args,
                  installHint: exec.installHint,
                  provideClusterInfo: exec.provideClusterInfo ?? false,
                  interactiveMode: "Never",
                },
              },
            },
          ],
          contexts: [{ name, context: { cluster: name, user: name } }],
          "current-context": name,
        },
        null,
        2,
      ),
    ),
  );
}

/**
 * The Kubernetes provider of a cloud cluster. `clusterIdentifier` is the cloud's cluster ID, so a
 * refreshed token or certificate in the kubeconfig never replaces what is deployed through it;
 * `dependsOn` holds the node pools and add-ons, so nothing is deployed before nodes can run it.
 */
export function clusterProvider(
  name: string,
  args: { kubeconfig: pulumi.Output<string>; clusterId: pulumi.Input<string> },
  opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): k8s.Provider {
  return new k8s.Provider(
    name,
    { kubeconfig: args.kubeconfig, clusterIdentifier: args.clusterId, ...PROVIDER_SETTINGS },
    opts,
  );
}
