import * as pulumi from "@pulumi/pulumi";
import { ClusterSettings } from "../config";
import type { AddonSources } from "./addons";
import { AksCluster } from "./aks";
import { EksCluster } from "./eks";
import { ExistingCluster } from "./existing";
import { GkeCluster } from "./gke";
import { BackupStoreRequest, Cluster } from "./types";

export * from "./types";

/**
 * The cluster the stack deploys to, whichever provider `es1:cluster.provider` names, with the
 * add-ons it lacks (clusters/addons.ts) from `addons`' chart source and registry. A cloud
 * cluster also makes the object store for backups when `backupStore` asks for one.
 */
export function createCluster(
  settings: ClusterSettings,
  addons: AddonSources,
  backupStore?: BackupStoreRequest,
  opts?: pulumi.ComponentResourceOptions,
): Cluster {
  switch (settings.provider) {
    case "existing":
      return new ExistingCluster("cluster", settings, opts).cluster;
    case "gke":
      return new GkeCluster("cluster", settings, opts, backupStore).cluster;
    case "eks":
      return new EksCluster("cluster", settings, addons, opts, backupStore).cluster;
    case "aks":
      return new AksCluster("cluster", settings, opts, backupStore).cluster;
  }
}
