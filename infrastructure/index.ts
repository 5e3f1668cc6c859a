import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../clusters";
import { Settings } from "../config";
import { credential } from "../lib/credentials";
import { helmRelease, localChart } from "../lib/release";
import { baseValues } from "./values/base";

export const INFRASTRUCTURE_NAMESPACE = "es1-infrastructure";

/**
 * Where the platform finds the shared infrastructure: names only, never secret values, so it can
 * be exported as stack outputs and read by customer-only stacks.
 */
export interface InfrastructureEndpoints {
  namespace: string;
  secrets: {
    /** basic-auth Secret (keys `username`, `password`) of the PostgreSQL superuser. */
    postgresqlSuperuser: string;
  };
}

export interface InfrastructureArgs {
  settings: Settings;
  cluster: Cluster;
}

/** Namespace es1-infrastructure, its credentials, and the shared releases in it. */
export class Infrastructure extends pulumi.ComponentResource {
  readonly endpoints: InfrastructureEndpoints;
  readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: InfrastructureArgs, opts?: pulumi.ComponentResourceOptions) {
    super("es1:infrastructure:Infrastructure", name, {}, opts);
    const { settings, cluster } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };

    this.namespace = new k8s.core.v1.Namespace(
      "namespace",
      {
        metadata: {
          name: INFRASTRUCTURE_NAMESPACE,
          labels: { "es1-role": "infrastructure", "app.kubernetes.io/part-of": "es1" },
        },
      },
      // Deleting the namespace deletes every database volume in it.
      { ...k8sOpts, protect: settings.protect },
    );
    const namespace = this.namespace.metadata.name;

    const superuserPassword = credential(
      "postgresql-superuser",
      settings.secrets.postgresqlSuperuserPassword,
      {
        parent: this,
      },
    );
    const superuserSecret = new k8s.core.v1.Secret(
      "postgresql-superuser",
      {
        metadata: { name: "es1-postgresql-superuser", namespace, labels: { "es1-role": "infrastructure" } },
        type: "kubernetes.io/basic-auth",
        stringData: { username: "postgres", password: superuserPassword },
      },
      k8sOpts,
    );

    helmRelease(
      {
        name: "es1-base",
        namespace,
        chart: localChart("infrastructure/charts/es1-base"),
        values: baseValues(settings, cluster.cloud),
        timeoutSeconds: 120,
        provider: cluster.provider,
      },
      { parent: this, dependsOn: [this.namespace] },
    );

    this.endpoints = {
      namespace: INFRASTRUCTURE_NAMESPACE,
      secrets: { postgresqlSuperuser: "es1-postgresql-superuser" },
    };
    this.registerOutputs({ endpoints: this.endpoints, superuserSecret: superuserSecret.metadata.name });
  }
}
