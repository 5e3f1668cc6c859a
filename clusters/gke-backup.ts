// GKE's backup store: a GCS bucket of the stack's, written only by a Google service account of
// its own that exactly the consumers' Kubernetes service accounts may act as (Workload Identity).
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as storage from "@pulumi/gcp/storage";
import * as pulumi from "@pulumi/pulumi";
import { GkeClusterSettings } from "../config";
import { ABORT_UPLOADS_AFTER_DAYS, bucketName, storeOptions, storeSuffix } from "./backup-store";
import { BackupStoreRequest, CloudBackupStore } from "./types";

/**
 * Bucket-level roles of the backup identity: objects read, written and deleted (retention), and
 * the bucket's own metadata read — Barman Cloud checks that the bucket exists before each upload,
 * which objectAdmin alone does not allow (storage.buckets.get).
 */
export const GCS_BACKUP_ROLES = ["roles/storage.objectAdmin", "roles/storage.legacyBucketReader"];

/** The Workload Identity member of a Kubernetes service account of the cluster. */
export function workloadIdentityMember(project: string, namespace: string, name: string): string {
  return `serviceAccount:${project}.svc.id.goog[${namespace}/${name}]`;
}

export function gcsBackupStore(
  name: string,
  args: GkeClusterSettings,
  request: BackupStoreRequest,
  labels: Record<string, string>,
  cluster: pulumi.Resource,
  o: pulumi.CustomResourceOptions,
): CloudBackupStore {
  const suffix = storeSuffix(name, o);
  const bucket = new storage.Bucket(
    `${name}-backups`,
    {
      name: suffix.apply((s) => bucketName(args.name, s)),
      location: args.region,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      // Barman Cloud's retention deletes old backups; a deleted or overwritten object stays a
      // noncurrent version for retentionDays more, then the lifecycle rule removes it.
      versioning: { enabled: true },
      lifecycleRules: [
        {
          action: { type: "Delete" },
          condition: { daysSinceNoncurrentTime: request.retentionDays, withState: "ARCHIVED" },
        },
        {
          action: { type: "AbortIncompleteMultipartUpload" },
          condition: { age: ABORT_UPLOADS_AFTER_DAYS },
        },
      ],
      forceDestroy: false,
      labels,
    },
    storeOptions(o, request.protect),
  );
  const accountId = `${args.name.slice(0, 22).replace(/-+$/, "")}-backups`;
  const account = new serviceaccount.Account(
    `${name}-backups`,
    { accountId, displayName: `ES1 backups of ${args.name}` },
    o,
  );
  // On the bucket only: no project-level role.
  const grants: pulumi.Resource[] = GCS_BACKUP_ROLES.map(
    (role) =>
      new storage.BucketIAMMember(
        `${name}-backups-${role.split("/")[1].replace(/\./g, "-")}`,
        { bucket: bucket.name, role, member: account.member },
        o,
      ),
  );
  // Exactly the consumers' Kubernetes service accounts may act as it.
  for (const sa of request.consumers) {
    grants.push(
      new serviceaccount.IAMMember(
        `${name}-backups-${sa.namespace}-${sa.name}`,
        {
          serviceAccountId: account.name,
          role: "roles/iam.workloadIdentityUser",
          member: workloadIdentityMember(args.project, sa.namespace, sa.name),
        },
        // The cluster creates the Workload Identity pool the member belongs to.
        { ...o, dependsOn: [cluster] },
      ),
    );
  }
  return {
    kind: "google",
    bucket: bucket.name,
    url: pulumi.interpolate`gs://${bucket.name}`,
    region: args.region,
    serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": account.email },
    // The Google account also signs Velero's download URLs (`velero backup logs`).
    velero: { provider: "gcp", config: { serviceAccount: account.email } },
    podLabels: {},
    ready: grants,
  };
}
