// The cloud part of backups (docs/backup.md): names and rules every cloud's backup store shares.
// Each cloud's store and identity live next to its cluster (gke-backup.ts, eks-backup.ts,
// aks-backup.ts); the Kubernetes part (ObjectStore, ServiceAccount annotations) is
// infrastructure/backup.ts.
import * as random from "@pulumi/random";
import * as pulumi from "@pulumi/pulumi";
import { ServiceAccountRef } from "./types";

/** Days an unfinished multipart upload (an interrupted base backup) is kept before it is removed. */
export const ABORT_UPLOADS_AFTER_DAYS = 7;

/**
 * A random suffix for the store's globally unique name: bucket and storage account names are
 * global, so the cluster's name alone could be taken by anyone. Fixed once created.
 */
export function storeSuffix(name: string, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
  return new random.RandomString(
    `${name}-backups`,
    { length: 6, upper: false, special: false, numeric: true, lower: true },
    opts,
  ).result;
}

/** `es1-<cluster>-backups-<suffix>`: a valid S3 and GCS bucket name (3–63 lower-case letters, digits, '-'). */
export function bucketName(cluster: string, suffix: string): string {
  const base = cluster
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40)
    .replace(/-+$/, "");
  return `es1-${base}-backups-${suffix}`;
}

/** `es1<cluster>` and the suffix: a storage account name (3–24 lower-case letters and digits). */
export function storageAccountName(cluster: string, suffix: string): string {
  return `es1${cluster
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .slice(0, 15)}${suffix}`;
}

/** The subject of a service account's token, as AWS and Azure federation name it. */
export function serviceAccountSubject(sa: ServiceAccountRef): string {
  return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

/** Options of the store itself: kept when the stack or es1:backup goes, protected in production. */
export function storeOptions(
  o: pulumi.CustomResourceOptions,
  protect: boolean,
): pulumi.CustomResourceOptions {
  return { ...o, protect, retainOnDelete: true };
}
