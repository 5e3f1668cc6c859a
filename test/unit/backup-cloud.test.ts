// The backup store the cloud cluster components create (clusters/*-backup.ts) when es1:backup
// names none of the site's: per cloud, the bucket or container, the one identity that may write
// it, bound to exactly the PostgreSQL clusters' service accounts, and an ObjectStore that signs
// with that identity instead of keys.
import * as assert from "assert";
import { storeOptions } from "../../clusters/backup-store";
import { COMPONENTS } from "../../config/sizing";
import { backupStoreRequest } from "../../infrastructure/backup";
import { at, byName, refusals, settingsOf } from "./cluster-helpers";
import { allStrings, ProgramRun, RecordedResource, runProgram } from "./harness";

const OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const KSA = "es1-infrastructure/es1-postgresql";

/** PostgreSQL only, so each run registers little: the store and its identity are what is looked at. */
const COMPONENTS_OFF = Object.fromEntries(
  COMPONENTS.filter((c) => c !== "postgresql").map((c) => [c, { enabled: false }]),
);

function runCloud(
  cluster: Record<string, unknown>,
  backup: Record<string, unknown> = {},
  environment = "prod",
): Promise<ProgramRun> {
  return runProgram(
    {
      "es1:environment": environment,
      "es1:cluster": JSON.stringify(cluster),
      "es1:components": JSON.stringify(COMPONENTS_OFF),
      // Velero off unless a test asks for it: these runs look at PostgreSQL's store and identity.
      "es1:backup": JSON.stringify({
        postgresql: { retentionDays: 14 },
        volumes: { enabled: false },
        ...backup,
      }),
    },
    { stack: "prod" },
  );
}

interface PgValues {
  cluster: {
    serviceAccountTemplate?: { metadata: { annotations: Record<string, string> } };
    additionalLabels?: Record<string, string>;
  };
}

function objectStoreSpec(run: ProgramRun): {
  configuration: Record<string, unknown>;
  retentionPolicy: string;
} {
  return (
    run.one(OBJECT_STORE).inputs as {
      spec: { configuration: Record<string, unknown>; retentionPolicy: string };
    }
  ).spec;
}

/** No Secret holds object store keys, and no resource names an access key. */
function assertNoKeys(run: ProgramRun): void {
  assert.deepStrictEqual(
    run.byType(SECRET).filter((s) => s.name === "es1-backup-object-store"),
    [],
  );
  for (const r of run.resources)
    assert.ok(
      !allStrings(r.inputs).some((s) =>
        /ACCESS_KEY_ID|ACCESS_SECRET_KEY|AZURE_STORAGE_KEY|APPLICATION_CREDENTIALS/.test(s),
      ),
      `${r.type} ${r.name} refers to a key`,
    );
}

function pgValues(run: ProgramRun, name = "es1-postgresql"): PgValues {
  return run.one(RELEASE, name).inputs.values as PgValues;
}

describe("backup store on GKE", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runCloud({ provider: "gke", project: "acme-es1", region: "europe-west1", name: "es1-prod" });
  });

  it("creates a private, versioned GCS bucket with a lifecycle rule from retention", () => {
    const bucket = run.one("gcp:storage/bucket:Bucket");
    const b = bucket.inputs;
    assert.strictEqual(b.name, "es1-es1-prod-backups-k3x9q2");
    assert.strictEqual(b.location, "europe-west1");
    assert.strictEqual(b.uniformBucketLevelAccess, true);
    assert.strictEqual(b.publicAccessPrevention, "enforced");
    assert.deepStrictEqual(b.versioning, { enabled: true });
    assert.deepStrictEqual(b.lifecycleRules, [
      { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 14, withState: "ARCHIVED" } },
      { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 7 } },
    ]);
  });

  it("grants a service account of its own on that bucket only, usable by exactly the PostgreSQL KSA", () => {
    const email = "es1-prod-backups@mock.iam.gserviceaccount.com";
    const grants = run.byType("gcp:storage/bucketIAMMember:BucketIAMMember").map((g) => g.inputs);
    assert.deepStrictEqual(
      grants.map((g) => [g.bucket, g.role, g.member]),
      [
        ["es1-es1-prod-backups-k3x9q2", "roles/storage.objectAdmin", `serviceAccount:${email}`],
        ["es1-es1-prod-backups-k3x9q2", "roles/storage.legacyBucketReader", `serviceAccount:${email}`],
      ],
    );
    const wi = byName(run, "gcp:serviceaccount/iAMMember:IAMMember");
    assert.deepStrictEqual(
      Object.values(wi).map((m) => [m.inputs.role, m.inputs.member]),
      [["roles/iam.workloadIdentityUser", `serviceAccount:acme-es1.svc.id.goog[${KSA}]`]],
    );
    // No project-level role for it: the node account's are the only ones.
    const projectRoles = run.byType("gcp:projects/iAMMember:IAMMember").map((m) => String(m.inputs.member));
    assert.ok(!projectRoles.some((m) => m.includes("backups")), projectRoles.join(", "));
  });

  it("points the ObjectStore at gs://<bucket>/<stack>/postgresql with the GKE identity, no keys", () => {
    assert.deepStrictEqual(objectStoreSpec(run), {
      retentionPolicy: "14d",
      configuration: {
        destinationPath: "gs://es1-es1-prod-backups-k3x9q2/prod/postgresql",
        googleCredentials: { gkeEnvironment: true },
        wal: { compression: "gzip", maxParallel: 2 },
        data: { compression: "gzip", jobs: 2 },
      },
    });
    assertNoKeys(run);
    assert.deepStrictEqual(pgValues(run).cluster.serviceAccountTemplate, {
      metadata: {
        annotations: { "iam.gke.io/gcp-service-account": "es1-prod-backups@mock.iam.gserviceaccount.com" },
      },
    });
    assert.strictEqual(pgValues(run).cluster.additionalLabels, undefined);
  });
});

describe("backup store on EKS", () => {
  const arn = "arn:aws:mock::123456789012:cluster-backups";
  let pod: ProgramRun;
  let irsa: ProgramRun;
  before(async () => {
    const eks = { provider: "eks", region: "eu-west-1", name: "es1-prod" };
    pod = await runCloud(eks);
    irsa = await runCloud({ ...eks, workloadIdentity: false }, { postgresql: { retentionDays: 14 } }, "dev");
  });

  it("creates an S3 bucket: public access blocked, ACLs off, encrypted, TLS only, versioned with a lifecycle rule", () => {
    const bucket = pod.one("aws:s3/bucket:Bucket");
    assert.strictEqual(bucket.inputs.bucket, "es1-es1-prod-backups-k3x9q2");
    assert.deepStrictEqual(pod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs, {
      bucket: "cluster-backups-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    assert.strictEqual(
      at(pod.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs, "rule.objectOwnership"),
      "BucketOwnerEnforced",
    );
    assert.strictEqual(
      at(
        pod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
          .inputs,
        "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
      ),
      "AES256",
    );
    const policy = JSON.parse(String(pod.one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy));
    assert.deepStrictEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
    assert.strictEqual(policy.Statement[0].Effect, "Deny");
    const rule = at(
      pod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs,
      "rules.0",
    ) as Record<string, unknown>;
    assert.deepStrictEqual(rule.noncurrentVersionExpiration, { noncurrentDays: 14 });
  });

  it("gives one role access to that bucket and its objects only, bound to exactly the PostgreSQL KSA", () => {
    const policies = byName(pod, "aws:iam/rolePolicy:RolePolicy");
    const access = JSON.parse(String(policies["cluster-backups-access"].inputs.policy));
    assert.deepStrictEqual(
      access.Statement.map((s: { Resource: string }) => s.Resource),
      [arn, `${arn}/*`],
    );
    assert.ok(!JSON.stringify(access).includes('"*"'), "no wildcard resource");
    assert.deepStrictEqual(
      pod
        .byType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        .filter((a) => a.name.includes("backups"))
        .map((a) => [a.inputs.namespace, a.inputs.serviceAccount, a.inputs.roleArn]),
      [["es1-infrastructure", "es1-postgresql", "arn:aws:mock::123456789012:cluster-backups-access"]],
    );
    // No managed policy is attached to it.
    const attached = pod.byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.name);
    assert.ok(!attached.some((n) => n.includes("backups")), attached.join(", "));
  });

  it("with IRSA: the trust names the cluster's OIDC provider and exactly the KSA, the KSA carries the role", () => {
    const role = byName(irsa, "aws:iam/role:Role")["cluster-backups-access"];
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy));
    const host = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
    assert.deepStrictEqual(trust.Statement[0].Condition.StringEquals, {
      [`${host}:sub`]: "system:serviceaccount:es1-infrastructure:es1-postgresql",
      [`${host}:aud`]: "sts.amazonaws.com",
    });
    assert.strictEqual(trust.Statement[0].Principal.Federated, "arn:aws:mock::123456789012:cluster-oidc");
    assert.deepStrictEqual(pgValues(irsa).cluster.serviceAccountTemplate, {
      metadata: {
        annotations: { "eks.amazonaws.com/role-arn": "arn:aws:mock::123456789012:cluster-backups-access" },
      },
    });
    // Pod Identity needs no annotation.
    assert.strictEqual(pgValues(pod).cluster.serviceAccountTemplate, undefined);
  });

  it("points the ObjectStore at s3://<bucket>/<stack>/postgresql, the regional endpoint, the inherited role", () => {
    assert.deepStrictEqual(objectStoreSpec(pod).configuration, {
      destinationPath: "s3://es1-es1-prod-backups-k3x9q2/prod/postgresql",
      endpointURL: "https://s3.eu-west-1.amazonaws.com",
      s3Credentials: { inheritFromIAMRole: true },
      wal: { compression: "gzip", maxParallel: 2 },
      data: { compression: "gzip", jobs: 2 },
    });
    assertNoKeys(pod);
  });
});

describe("backup store on AKS", () => {
  // A stack with a restored cluster: the store serves both clusters (one run covers both cases).
  let run: ProgramRun;
  before(async () => {
    const aks = { provider: "aks", region: "westeurope", name: "es1-prod" };
    run = await runCloud(aks, {
      postgresql: {
        retentionDays: 14,
        restore: { cluster: "es1-postgresql-r1", targetTime: "2026-12-01T10:00:00Z" },
      },
    });
  });

  it("creates a storage account (HTTPS, TLS 1.2, no public blobs, no shared keys) and a private container", () => {
    const a = run.one("azure-native:storage:StorageAccount").inputs;
    assert.strictEqual(a.accountName, "es1es1prodk3x9q2");
    assert.strictEqual(a.enableHttpsTrafficOnly, true);
    assert.strictEqual(a.minimumTlsVersion, "TLS1_2");
    assert.strictEqual(a.allowBlobPublicAccess, false);
    assert.strictEqual(a.allowSharedKeyAccess, false);
    assert.strictEqual(run.one("azure-native:storage:BlobContainer").inputs.publicAccess, "None");
    assert.strictEqual(
      run.one("azure-native:storage:BlobServiceProperties").inputs.isVersioningEnabled,
      true,
    );
    assert.strictEqual(
      at(
        run.one("azure-native:storage:ManagementPolicy").inputs,
        "policy.rules.0.definition.actions.version.delete.daysAfterCreationGreaterThan",
      ),
      14,
    );
  });

  it("assigns Storage Blob Data Contributor on the container only, to an identity federated with exactly the clusters' KSAs", () => {
    const roles = run
      .byType("azure-native:authorization:RoleAssignment")
      .filter((r) => String(r.inputs.roleDefinitionId).endsWith("ba92f5b4-2d11-453d-a403-e96b0029c9fe"));
    assert.deepStrictEqual(
      roles.map((r) => [r.inputs.scope, r.inputs.principalId]),
      [["cluster-backups-container-id", "cluster-backups-principal"]],
    );
    // Nothing else is granted to the backup identity.
    const toIdentity = run
      .byType("azure-native:authorization:RoleAssignment")
      .filter((r) => r.inputs.principalId === "cluster-backups-principal");
    assert.strictEqual(toIdentity.length, 1);
    const fics = run.byType("azure-native:managedidentity:FederatedIdentityCredential").map((f) => f.inputs);
    assert.deepStrictEqual(
      fics.map((f) => [f.resourceName, f.subject, f.issuer, f.audiences]),
      ["es1-postgresql", "es1-postgresql-r1"].map((ksa) => [
        "es1-prod-backups",
        `system:serviceaccount:es1-infrastructure:${ksa}`,
        "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
        ["api://AzureADTokenExchange"],
      ]),
    );
  });

  it("points the ObjectStore at the container with the inherited identity; the pods carry the workload-identity label", () => {
    assert.deepStrictEqual(objectStoreSpec(run).configuration, {
      destinationPath: "https://es1es1prodk3x9q2.blob.core.windows.net/es1-backups/prod/postgresql",
      azureCredentials: { inheritFromAzureAD: true },
      wal: { compression: "gzip", maxParallel: 2 },
      data: { compression: "gzip", jobs: 2 },
    });
    assertNoKeys(run);
    const pg = pgValues(run).cluster;
    assert.deepStrictEqual(pg.serviceAccountTemplate, {
      metadata: { annotations: { "azure.workload.identity/client-id": "cluster-backups-client" } },
    });
    assert.deepStrictEqual(pg.additionalLabels, { "azure.workload.identity/use": "true" });
    const operator = run.one(RELEASE, "es1-postgresql-operator").inputs.values as {
      config: { data: Record<string, string> };
    };
    assert.strictEqual(operator.config.data.INHERITED_LABELS, "azure.workload.identity/use");
  });

  it("the restored cluster recovers through the same identity, without keys", () => {
    const values = run.one(RELEASE, "es1-postgresql-r1").inputs.values as PgValues & {
      recovery: Record<string, unknown>;
    };
    assert.deepStrictEqual(values.recovery, {
      method: "plugin",
      clusterName: "es1-postgresql",
      pitrTarget: { time: "2026-12-01T10:00:00Z" },
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
      provider: "azure",
      destinationPath: "https://es1es1prodk3x9q2.blob.core.windows.net/es1-backups/prod/postgresql",
      azure: { inheritFromAzureAD: true },
      secret: { create: false, name: "" },
    });
    assert.strictEqual(
      values.cluster.serviceAccountTemplate?.metadata.annotations["azure.workload.identity/client-id"],
      "cluster-backups-client",
    );
  });
});

describe("es1:backup.objectStore on cloud and existing clusters", () => {
  const gke = { provider: "gke", project: "acme-es1", region: "europe-west1" };

  it("is optional on a cloud cluster (a prefix alone is allowed), required on an existing one", () => {
    assert.match(
      refusals({ cluster: { provider: "existing" }, backup: {} })[0],
      /'es1:backup.objectStore': is required: an existing cluster has no store of its own/,
    );
    const created = settingsOf({ cluster: gke, backup: { objectStore: { prefix: "team/a" } } }).backup;
    assert.deepStrictEqual([created?.objectStore, created?.prefix], [undefined, "team/a"]);
    assert.strictEqual(settingsOf({ cluster: gke, backup: {} }).backup?.prefix, "test");
    assert.match(
      refusals({ cluster: gke, backup: { objectStore: { prefix: "x", region: "eu" } } })[0],
      /'es1:backup.objectStore.region'/,
    );
  });

  it("asks for a store kept on delete and protected in prod, for PostgreSQL's clusters and Velero", () => {
    const request = (environment: string, backup: Record<string, unknown> = {}, postgresql = true) =>
      backupStoreRequest(
        settingsOf({
          environment,
          cluster: gke,
          backup,
          components: { ...COMPONENTS_OFF, postgresql: { enabled: postgresql } },
        }),
      );
    const PG = { namespace: "es1-infrastructure", name: "es1-postgresql" };
    const VELERO = { namespace: "es1-velero", name: "es1-velero-server" };
    assert.deepStrictEqual(request("prod"), { consumers: [PG, VELERO], retentionDays: 30, protect: true });
    assert.strictEqual(request("dev")?.protect, false);
    assert.deepStrictEqual(storeOptions({}, true), { protect: true, retainOnDelete: true });
    // Old versions are kept as long as the longer-kept kind of backup needs.
    assert.deepStrictEqual(
      request("prod", { postgresql: { retentionDays: 7 }, volumes: { retentionDays: 45 } })?.retentionDays,
      45,
    );
    assert.deepStrictEqual(request("prod", { volumes: { enabled: false } })?.consumers, [PG]);
    assert.deepStrictEqual(request("prod", {}, false)?.consumers, [VELERO]);
    assert.strictEqual(request("prod", { volumes: { enabled: false } }, false), undefined);
  });

  it("on GKE and AKS needs workload identity, naming the key", () => {
    assert.match(
      refusals({ cluster: { ...gke, workloadIdentity: false }, backup: {} })[0],
      /'es1:backup.objectStore': is required: the store gke creates is reached through workload identity/,
    );
  });

  it("a site's store with keys on a cloud cluster: no bucket is created, the Secret carries the keys", async () => {
    const run = await runProgram(
      {
        "es1:cluster": JSON.stringify(gke),
        "es1:components": JSON.stringify(COMPONENTS_OFF),
        "es1:backup": JSON.stringify({
          objectStore: {
            endpoint: "https://s3.onprem.example",
            bucket: "es1-backups",
            accessKeyId: "AKIAES1BACKUPTEST",
            secretAccessKey: "s3cr3t-backup-key-value",
          },
        }),
      },
      { secretKeys: ["es1:backup"] },
    );
    assert.deepStrictEqual(run.byType("gcp:storage/bucket:Bucket"), []);
    run.one(SECRET, "es1-backup-object-store");
    const s3 = objectStoreSpec(run).configuration.s3Credentials as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(s3), ["accessKeyId", "secretAccessKey"]);
    const byBackups = (r: RecordedResource) => r.name.includes("backups") && r.type.startsWith("gcp:");
    assert.deepStrictEqual(run.resources.filter(byBackups), []);
  });
});

describe("Velero on the store the cloud cluster made", () => {
  const VELERO_KSA = "es1-velero/es1-velero-server";
  interface VeleroValues {
    credentials: { useSecret: boolean; existingSecret?: string };
    serviceAccount: { server: { name: string; annotations: Record<string, string> } };
    podLabels: Record<string, string>;
    nodeAgent: { podLabels: Record<string, string> };
    initContainers: { image: string }[];
    configuration: {
      backupStorageLocation: {
        provider: string;
        bucket: string;
        prefix: string;
        credential?: unknown;
        config: Record<string, string>;
      }[];
    };
  }
  const velero = (run: ProgramRun) => run.one(RELEASE, "es1-velero").inputs.values as VeleroValues;
  const volumes = { volumes: { enabled: true, retentionDays: 21 } };
  const runs: Record<string, ProgramRun> = {};
  before(async () => {
    runs.gke = await runCloud(
      { provider: "gke", project: "acme-es1", region: "europe-west1", name: "es1-prod" },
      volumes,
    );
    runs.eks = await runCloud({ provider: "eks", region: "eu-west-1", name: "es1-prod" }, volumes);
    runs.aks = await runCloud({ provider: "aks", region: "westeurope", name: "es1-prod" }, volumes);
  });

  it("writes beside PostgreSQL through the cloud's plugin, signed by its workload identity, with no key Secret", () => {
    const expected = {
      gke: [
        "gcp",
        "es1-es1-prod-backups-k3x9q2",
        { serviceAccount: "es1-prod-backups@mock.iam.gserviceaccount.com" },
      ],
      eks: ["aws", "es1-es1-prod-backups-k3x9q2", { region: "eu-west-1" }],
      aks: [
        "azure",
        "es1-backups",
        { storageAccount: "es1es1prodk3x9q2", resourceGroup: "es1-prod-rg", useAAD: "true" },
      ],
    } as const;
    for (const [cloud, [provider, bucket, config]] of Object.entries(expected)) {
      const run = runs[cloud];
      const v = velero(run);
      const [bsl] = v.configuration.backupStorageLocation;
      assert.deepStrictEqual(
        [bsl.provider, bsl.bucket, bsl.prefix, bsl.config, bsl.credential],
        [provider, bucket, "prod/velero", config, undefined],
        cloud,
      );
      assert.deepStrictEqual(v.credentials, { useSecret: false }, cloud);
      assert.match(
        v.initContainers[0].image,
        new RegExp(`velero-plugin-for-(${provider === "azure" ? "microsoft-azure" : provider}):v1\\.14\\.`),
        cloud,
      );
      assert.deepStrictEqual(
        run.byType(SECRET).filter((s) => s.name === "es1-velero-object-store"),
        [],
        cloud,
      );
      assertNoKeys(run);
    }
  });

  it("makes Velero's service account a consumer of the store: GKE binding, EKS association, AKS federation and label", () => {
    const gke = runs.gke;
    assert.deepStrictEqual(
      Object.values(byName(gke, "gcp:serviceaccount/iAMMember:IAMMember")).map((m) => m.inputs.member),
      [KSA, VELERO_KSA].map((k) => `serviceAccount:acme-es1.svc.id.goog[${k}]`),
    );
    assert.deepStrictEqual(velero(gke).serviceAccount.server, {
      name: "es1-velero-server",
      annotations: { "iam.gke.io/gcp-service-account": "es1-prod-backups@mock.iam.gserviceaccount.com" },
      imagePullSecrets: [],
    });
    assert.deepStrictEqual(
      runs.eks
        .byType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        .filter((a) => a.name.includes("backups"))
        .map((a) => `${a.inputs.namespace}/${a.inputs.serviceAccount}`),
      [KSA, VELERO_KSA],
    );
    const aks = runs.aks;
    assert.deepStrictEqual(
      aks.byType("azure-native:managedidentity:FederatedIdentityCredential").map((f) => f.inputs.subject),
      [KSA, VELERO_KSA].map((k) => `system:serviceaccount:${k.replace("/", ":")}`),
    );
    const v = velero(aks);
    assert.deepStrictEqual(v.serviceAccount.server.annotations, {
      "azure.workload.identity/client-id": "cluster-backups-client",
    });
    // The server and the node-agent (kopia writes the volumes' data) both carry the label.
    assert.deepStrictEqual(v.podLabels, { "azure.workload.identity/use": "true" });
    assert.deepStrictEqual(v.nodeAgent.podLabels, { "azure.workload.identity/use": "true" });
  });

  it("keeps the store's old versions as long as the longer-kept backups", () => {
    const bucket = runs.gke.one("gcp:storage/bucket:Bucket").inputs as {
      lifecycleRules: { condition: { daysSinceNoncurrentTime?: number } }[];
    };
    assert.strictEqual(bucket.lifecycleRules[0].condition.daysSinceNoncurrentTime, 21);
  });
});
