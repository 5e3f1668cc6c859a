import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ExistingClusterSettings } from "../config";
import { Cluster, NODE_POOLS, PROVIDER_SETTINGS } from "./types";

/**
 * Adopts a cluster that already exists, from a kubeconfig file, a kubeconfig secret, or the
 * machine's own kubeconfig, optionally with a context.
 */
export class ExistingCluster extends pulumi.ComponentResource {
  readonly cluster: Cluster;

  constructor(name: string, args: ExistingClusterSettings, opts?: pulumi.ComponentResourceOptions) {
    super("es1:clusters:Existing", name, {}, opts);
    const kubeconfig = args.kubeconfig.kind === "ambient" ? undefined : args.kubeconfig.contents;
    const provider = new k8s.Provider(
      name,
      {
        kubeconfig,
        context: args.context,
        // A new token or certificate in the kubeconfig must not replace every resource.
        clusterIdentifier: `existing/${args.name}`,
        ...PROVIDER_SETTINGS,
      },
      { parent: this },
    );
    this.cluster = {
      cloud: "existing",
      name: args.name,
      provider,
      kubeconfig: pulumi.secret(kubeconfig ?? ""),
      context: args.context,
      storageClass: args.storageClass,
      ingressClass: args.ingressClass,
      ingressAnnotations: args.ingressAnnotations,
      // An adopted cluster is assumed to label and taint its pools the ES1 way (docs/clusters/existing.md).
      nodePools: NODE_POOLS,
    };
    this.registerOutputs({ storageClass: args.storageClass, ingressClass: args.ingressClass });
  }
}
