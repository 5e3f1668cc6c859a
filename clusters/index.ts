import * as pulumi from "@pulumi/pulumi";
import { ClusterSettings } from "../config";
import { ExistingCluster } from "./existing";
import { Cluster } from "./types";

export * from "./types";

/** The cluster the stack deploys to, whichever provider `es1:cluster.provider` names. */
export function createCluster(settings: ClusterSettings, opts?: pulumi.ComponentResourceOptions): Cluster {
  switch (settings.provider) {
    case "existing":
      return new ExistingCluster("cluster", settings, opts).cluster;
  }
}
