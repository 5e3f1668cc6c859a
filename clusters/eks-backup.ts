// EKS's backup store: an S3 bucket of the stack's, private, encrypted, TLS only, written only by
// an IAM role of its own that exactly the consumers' Kubernetes service accounts may assume
// (EKS Pod Identity associations, or IRSA through the cluster's OIDC provider).
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { EksClusterSettings } from "../config";
import { workloadTrust } from "./aws-identity";
import { ABORT_UPLOADS_AFTER_DAYS, bucketName, storeOptions, storeSuffix } from "./backup-store";
import { BackupStoreRequest, CloudBackupStore } from "./types";

/** The regional S3 endpoint (it also routes through a VPC gateway endpoint of the region). */
export function s3Endpoint(region: string): string {
  return `https://s3.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** What the backup role may do: list the bucket, read, write and delete its objects; nothing else. */
export function s3BackupPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: bucketArn,
      },
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        Resource: `${bucketArn}/*`,
      },
    ],
  });
}

/** Refuses every request to the bucket that does not come over TLS. */
export function tlsOnlyPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TLSOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

export function s3BackupStore(
  name: string,
  args: EksClusterSettings,
  request: BackupStoreRequest,
  cluster: eks.Cluster,
  identity: { podIdentityAgent?: eks.Addon; oidcProvider?: iam.OpenIdConnectProvider },
  o: pulumi.CustomResourceOptions,
): CloudBackupStore {
  const suffix = storeSuffix(name, o);
  const bucket = new s3.Bucket(
    `${name}-backups`,
    { bucket: suffix.apply((s) => bucketName(args.name, s)), forceDestroy: false },
    storeOptions(o, request.protect),
  );
  const publicAccess = new s3.BucketPublicAccessBlock(
    `${name}-backups`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    o,
  );
  const settings: pulumi.Resource[] = [
    publicAccess,
    // ACLs off: the bucket's policies alone decide.
    new s3.BucketOwnershipControls(
      `${name}-backups`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      o,
    ),
    new s3.BucketServerSideEncryptionConfiguration(
      `${name}-backups`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      o,
    ),
    // After the public access block: S3 refuses the two changed at once.
    new s3.BucketPolicy(
      `${name}-backups`,
      { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) },
      { ...o, dependsOn: [publicAccess] },
    ),
  ];
  // Barman Cloud's retention deletes old backups; a deleted or overwritten object stays a
  // noncurrent version for retentionDays more, then the lifecycle rule removes it.
  const versioning = new s3.BucketVersioning(
    `${name}-backups`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    o,
  );
  settings.push(
    versioning,
    new s3.BucketLifecycleConfiguration(
      `${name}-backups`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "es1-backups-retention",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: request.retentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_UPLOADS_AFTER_DAYS },
          },
        ],
      },
      { ...o, dependsOn: [versioning] },
    ),
  );

  const role = new iam.Role(
    `${name}-backups-access`,
    { assumeRolePolicy: workloadTrust(request.consumers, identity.oidcProvider) },
    o,
  );
  const access = new iam.RolePolicy(
    `${name}-backups-access`,
    { role: role.name, policy: bucket.arn.apply(s3BackupPolicy) },
    o,
  );
  // With Pod Identity the role binds to exactly the associations made here.
  const agent = identity.podIdentityAgent;
  const bindings = agent
    ? request.consumers.map(
        (sa) =>
          new eks.PodIdentityAssociation(
            `${name}-backups-${sa.namespace}-${sa.name}`,
            {
              clusterName: cluster.name,
              namespace: sa.namespace,
              serviceAccount: sa.name,
              roleArn: role.arn,
            },
            { ...o, dependsOn: [agent] },
          ),
      )
    : [];
  return {
    kind: "s3",
    bucket: bucket.bucket,
    url: pulumi.interpolate`s3://${bucket.bucket}`,
    endpoint: s3Endpoint(args.region),
    region: args.region,
    serviceAccountAnnotations: agent ? {} : { "eks.amazonaws.com/role-arn": role.arn },
    velero: { provider: "aws", config: { region: args.region } },
    podLabels: {},
    ready: [...settings, access, ...bindings],
  };
}
