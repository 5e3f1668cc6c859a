// Backups on the local cluster (docs/backup.md): PostgreSQL alone, with es1:backup pointing at an
// object store. No operator runs on the simulated cluster and nothing is written to any store:
// the test checks the objects the program and `es1 backup` create, and plays CloudNativePG's part
// by writing each Backup's status, as test/e2e/operations.test.ts does for the Cluster.
import * as assert from "assert";
import * as zlib from "zlib";
import { Stack } from "@pulumi/pulumi/automation";
import type { BackupReport } from "../../automation/commands/backup";
import type { OperationReport } from "../../automation/report";
import { CATALOG } from "../../infrastructure/catalog";
import { PROJECT_ROOT } from "../../lib/paths";
import { runEs1Async, runEs1Json } from "./es1-cli";
import { eventually, getObject, kubectl, mustGet } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-backup";
const NS = "es1-infrastructure";
const VELERO_NS = "es1-velero";

interface VeleroSchedule {
  schedule: string;
  template: {
    storageLocation: string;
    ttl: string;
    includedNamespaces: string[];
    defaultVolumesToFsBackup: boolean;
  };
}
const ACCESS_KEY = "AKIAE2EBACKUP";
const SECRET_KEY = "e2e-backup-secret-key";

interface Listed {
  items: { metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> } }[];
}

describe("backups: PostgreSQL through the Barman Cloud plugin and Valkey through Velero on the local cluster", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let env: Record<string, string>;
  const es1Json = <T>(exit: number, ...args: string[]): T => runEs1Json<T>(PROJECT_ROOT, env, exit, ...args);

  /** What CloudNativePG writes into a Backup's status once the plugin has finished it. */
  const complete = (name: string, phase = "completed") =>
    kubectl(
      kubeconfig,
      "patch",
      "backups.postgresql.cnpg.io",
      name,
      "-n",
      NS,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({
        status: {
          phase,
          method: "plugin",
          startedAt: "2026-12-01T10:00:00Z",
          stoppedAt: "2026-12-01T10:03:00Z",
          backupId: "20261201T100000",
        },
      }),
    );
  const backupsWith = (selector: string) =>
    mustGet<Listed>(kubeconfig, "backups.postgresql.cnpg.io", "-n", NS, "-l", selector).items;
  /** Revision of the latest Helm record of a release in es1-infrastructure. */
  const revision = (release: string) =>
    Math.max(
      ...mustGet<Listed>(kubeconfig, "secrets", "-n", NS, "-l", `owner=helm,name=${release}`).items.map((s) =>
        Number(s.metadata.labels?.version ?? 0),
      ),
    );
  const pgRevision = () => revision("es1-postgresql");
  /** What a Velero server writes once it has finished a backup (its CRDs have no status subresource). */
  const veleroCompleted = (name: string, at: string) =>
    kubectl(
      kubeconfig,
      "patch",
      "backups.velero.io",
      name,
      "-n",
      VELERO_NS,
      "--type=merge",
      "-p",
      JSON.stringify({ status: { phase: "Completed", completionTimestamp: at } }),
    );
  /** The stack's state as if an older installer had deployed `release` with chart `version`. */
  const deployedWithChart = async (release: string, version: string) => {
    const exported = (await stack.exportStack()) as unknown as {
      deployment: {
        resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
      };
    };
    const r = exported.deployment.resources.find(
      (x) => x.type === "kubernetes:helm.sh/v3:Release" && x.inputs?.name === release,
    );
    assert.ok(r?.inputs && r.outputs, `no release ${release} in the state`);
    r.inputs.version = version;
    r.outputs.version = version;
    await stack.importStack(exported as never);
  };

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      // Valkey: a component Velero backs up (es1:backup.volumes), on its own Schedule.
      ...componentsOnly(["postgresql", "redis"]),
      "es1:backup.objectStore.endpoint": "https://s3.site.example:9000",
      "es1:backup.objectStore.bucket": "es1-backups",
      "es1:backup.postgresql.schedule": "0 30 1 * * *",
      "es1:backup.postgresql.retentionDays": "14",
      "es1:backup.volumes.schedule": "15 3 * * *",
      "es1:backup.volumes.retentionDays": "10",
    }));
    for (const [k, value] of [
      ["accessKeyId", ACCESS_KEY],
      ["secretAccessKey", SECRET_KEY],
    ])
      await stack.setConfig(`es1:backup.objectStore.${k}`, { value, secret: true }, true);
    const up = es1Json<OperationReport>(0, "up", "--stack", STACK, "--yes");
    assert.strictEqual(up.status, "succeeded");
    assert.strictEqual(up.preUpgradeBackup, undefined, "a first install upgrades nothing");
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  it("installs the plugin, an ObjectStore at the bucket with the Secret's keys, the Cluster's plugin entry and a ScheduledBackup", function () {
    const releases = kubectl(kubeconfig, "get", "secrets", "-n", NS, "-l", "owner=helm", "-o", "name");
    assert.match(releases, /sh\.helm\.release\.v1\.es1-postgresql-backup\.v1/);
    assert.match(releases, /sh\.helm\.release\.v1\.es1-cert-manager\.v1/);
    mustGet(kubeconfig, "deployment", "es1-postgresql-backup", "-n", NS);
    const store = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "objectstores.barmancloud.cnpg.io",
      "es1-postgresql-backups",
      "-n",
      NS,
    );
    assert.deepStrictEqual(store.spec.retentionPolicy, "14d");
    assert.deepStrictEqual(store.spec.configuration, {
      destinationPath: `s3://es1-backups/${STACK}/postgresql`,
      endpointURL: "https://s3.site.example:9000",
      s3Credentials: {
        accessKeyId: { name: "es1-backup-object-store", key: "ACCESS_KEY_ID" },
        secretAccessKey: { name: "es1-backup-object-store", key: "ACCESS_SECRET_KEY" },
      },
      wal: { compression: "gzip", maxParallel: 2 },
      data: { compression: "gzip", jobs: 2 },
    });
    const secret = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "secret",
      "es1-backup-object-store",
      "-n",
      NS,
    );
    assert.strictEqual(Buffer.from(secret.data.ACCESS_KEY_ID, "base64").toString(), ACCESS_KEY);
    const cluster = mustGet<{ spec: { plugins?: unknown[] } }>(
      kubeconfig,
      "clusters.postgresql.cnpg.io",
      "es1-postgresql",
      "-n",
      NS,
    );
    assert.deepStrictEqual(cluster.spec.plugins, [
      {
        name: "barman-cloud.cloudnative-pg.io",
        enabled: true,
        isWALArchiver: true,
        parameters: { barmanObjectName: "es1-postgresql-backups" },
      },
    ]);
    const scheduled = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "scheduledbackups.postgresql.cnpg.io",
      "es1-postgresql-scheduled",
      "-n",
      NS,
    );
    assert.deepStrictEqual(
      [scheduled.spec.schedule, scheduled.spec.method, scheduled.spec.cluster],
      ["0 30 1 * * *", "plugin", { name: "es1-postgresql" }],
    );
    // No Helm release's values hold the keys: `helm get values` would show them.
    for (const ns of [NS, VELERO_NS]) {
      const all = kubectl(kubeconfig, "get", "secrets", "-n", ns, "-l", "owner=helm", "-o", "json");
      const items = (JSON.parse(all) as { items: { data: { release: string } }[] }).items;
      assert.ok(items.length > 0, `no Helm release in ${ns}`);
      for (const item of items) {
        const release = Buffer.from(Buffer.from(item.data.release, "base64").toString(), "base64");
        const text = zlib.gunzipSync(release).toString();
        assert.ok(!text.includes(ACCESS_KEY) && !text.includes(SECRET_KEY), "a release holds a key");
      }
    }
  });

  it("installs Velero from the real chart in its own privileged, closed namespace, a location in the same bucket and a Schedule for Valkey", function () {
    const ns = mustGet<{ metadata: { labels: Record<string, string> } }>(kubeconfig, "namespace", VELERO_NS);
    assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    const releases = kubectl(kubeconfig, "get", "secrets", "-n", VELERO_NS, "-l", "owner=helm", "-o", "name");
    assert.match(releases, /sh\.helm\.release\.v1\.es1-velero\.v1/);
    mustGet(kubeconfig, "deployment", "velero", "-n", VELERO_NS);
    mustGet(kubeconfig, "daemonset", "node-agent", "-n", VELERO_NS);
    const location = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "backupstoragelocations.velero.io",
      "es1-object-store",
      "-n",
      VELERO_NS,
    );
    assert.deepStrictEqual(
      [location.spec.provider, location.spec.objectStorage, location.spec.credential, location.spec.config],
      [
        "aws",
        { bucket: "es1-backups", prefix: `${STACK}/velero` },
        { name: "es1-velero-object-store", key: "cloud" },
        { region: "us-east-1", s3ForcePathStyle: "true", s3Url: "https://s3.site.example:9000" },
      ],
    );
    const secret = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "secret",
      "es1-velero-object-store",
      "-n",
      VELERO_NS,
    );
    assert.match(
      Buffer.from(secret.data.cloud, "base64").toString(),
      new RegExp(`aws_access_key_id=${ACCESS_KEY}`),
    );
    const schedules = mustGet<{ items: { metadata: { name: string }; spec: VeleroSchedule }[] }>(
      kubeconfig,
      "schedules.velero.io",
      "-n",
      VELERO_NS,
    ).items;
    assert.deepStrictEqual(
      schedules.map((x) => x.metadata.name),
      ["es1-redis"],
      "PostgreSQL is backed up by CloudNativePG, the other components are off",
    );
    const [redis] = schedules;
    assert.deepStrictEqual(
      [redis.spec.schedule, redis.spec.template.storageLocation, redis.spec.template.ttl],
      ["15 3 * * *", "es1-object-store", "240h0m0s"],
    );
    assert.deepStrictEqual(redis.spec.template.includedNamespaces, [NS]);
    assert.strictEqual(redis.spec.template.defaultVolumesToFsBackup, true);
    const policies = mustGet<{ items: { metadata: { name: string } }[] }>(
      kubeconfig,
      "networkpolicies",
      "-n",
      VELERO_NS,
    ).items.map((p) => p.metadata.name);
    assert.deepStrictEqual(policies.sort(), ["es1-default-deny", "es1-dns", "es1-velero"]);
  });

  it("es1 backup now --component redis asks Velero for a Backup from the Schedule, reported pending; es1 restore redis restores a completed one", function () {
    const now = es1Json<BackupReport>(
      0,
      "backup",
      "now",
      "--stack",
      STACK,
      "--component",
      "redis",
      "--no-wait",
    );
    assert.strictEqual(now.status, "pending");
    const [b] = now.backups;
    assert.deepStrictEqual([b.component, b.trigger, b.phase], ["redis", "on-demand", "pending"]);
    const schedule = mustGet<{ spec: VeleroSchedule }>(
      kubeconfig,
      "schedules.velero.io",
      "es1-redis",
      "-n",
      VELERO_NS,
    );
    const backup = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "backups.velero.io",
      b.name,
      "-n",
      VELERO_NS,
    );
    assert.deepStrictEqual(backup.spec, schedule.spec.template);
    const listed = es1Json<BackupReport>(0, "backup", "list", "--stack", STACK, "--component", "redis");
    assert.deepStrictEqual(
      listed.backups.map((x) => [x.component, x.name, x.phase]),
      [["redis", b.name, "pending"]],
    );
    veleroCompleted(b.name, "2026-12-01T10:05:00Z");
    const restored = es1Json<{ status: string; restore: { name: string; phase: string } }>(
      0,
      "restore",
      "redis",
      "--stack",
      STACK,
      "--backup",
      b.name,
      "--no-wait",
      "--yes",
      "--json",
    );
    assert.deepStrictEqual([restored.status, restored.restore.phase], ["pending", "pending"]);
    const restore = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "restores.velero.io",
      restored.restore.name,
      "-n",
      VELERO_NS,
    );
    assert.deepStrictEqual(restore.spec, {
      backupName: b.name,
      includedNamespaces: [NS],
      orLabelSelectors: [{ matchLabels: { "app.kubernetes.io/instance": "es1-redis" } }],
      restorePVs: true,
      existingResourcePolicy: "none",
    });
  });

  it("a second up changes nothing", function () {
    es1Json(0, "preview", "--stack", STACK, "--expect-no-changes");
  });

  it("es1 backup now --no-wait asks for a Backup and reports it pending; list shows it completed once the operator says so", function () {
    const now = es1Json<BackupReport>(0, "backup", "now", "--stack", STACK, "--no-wait");
    assert.strictEqual(now.status, "pending");
    const [b] = now.backups;
    assert.deepStrictEqual([b.component, b.trigger, b.phase], ["postgresql", "on-demand", "pending"]);
    const obj = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "backups.postgresql.cnpg.io",
      b.name,
      "-n",
      NS,
    );
    assert.deepStrictEqual(obj.spec, {
      cluster: { name: "es1-postgresql" },
      method: "plugin",
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
    });
    complete(b.name);
    const list = es1Json<BackupReport>(0, "backup", "list", "--stack", STACK);
    const listed = list.backups.find((x) => x.name === b.name);
    assert.deepStrictEqual(
      listed && [listed.phase, listed.startedAt, listed.stoppedAt, listed.backupId, listed.sizeBytes],
      ["completed", "2026-12-01T10:00:00Z", "2026-12-01T10:03:00Z", "20261201T100000", null],
    );
  });

  it("es1 backup now waits for the operator: exit 1 when the backup fails", async function () {
    const earlier = new Set(backupsWith("es1.io/backup-trigger=on-demand").map((x) => x.metadata.name));
    const run = runEs1Async(PROJECT_ROOT, env, "backup", "now", "--stack", STACK, "--json");
    let name = "";
    await eventually(
      "the on-demand Backup",
      () => {
        const fresh = backupsWith("es1.io/backup-trigger=on-demand").filter(
          (x) => !earlier.has(x.metadata.name),
        );
        if (fresh.length === 0) return false;
        name = fresh[0].metadata.name;
        return true;
      },
      // es1 starts, reads the stack's outputs, then creates the Backup: minutes on a loaded machine.
      300,
    );
    complete(name, "failed");
    const r = await run;
    assert.strictEqual(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as BackupReport;
    assert.deepStrictEqual(
      [report.status, report.backups[0].name, report.backups[0].phase],
      ["failed", name, "failed"],
    );
  });

  it("a new PostgreSQL chart version: es1 up takes a backup and waits for it before the release changes", async function () {
    // The deployed release as an older installer left it: its state says chart 0.8.0.
    await deployedWithChart("es1-postgresql", "0.8.0");
    const before = pgRevision();

    const up = runEs1Async(PROJECT_ROOT, env, "up", "--stack", STACK, "--yes", "--json");
    let name = "";
    await eventually(
      "the pre-upgrade Backup",
      () => {
        const found = backupsWith("es1.io/backup-trigger=pre-upgrade");
        if (found.length === 0) return false;
        name = found[0].metadata.name;
        return true;
      },
      300,
    );
    // es1 waits: the release has not changed while the backup runs.
    await new Promise((r) => setTimeout(r, 8000));
    assert.strictEqual(pgRevision(), before, "the release changed before the backup completed");
    complete(name);
    const r = await up;
    assert.strictEqual(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as OperationReport;
    assert.deepStrictEqual(report.preUpgradeBackup, {
      changes: [`es1-postgresql chart 0.8.0 -> ${CATALOG.postgresql.chart.version}`],
      backup: name,
      phase: "completed",
      backups: [{ component: "postgresql", name, phase: "completed" }],
    });
    assert.strictEqual(pgRevision(), before + 1, "the upgrade ran after the backup");
  });

  it("a new Valkey chart version: es1 up takes a Velero backup of Valkey and waits for it before the release changes", async function () {
    await deployedWithChart("es1-redis", "0.1.0");
    const before = revision("es1-redis");
    const up = runEs1Async(PROJECT_ROOT, env, "up", "--stack", STACK, "--yes", "--json");
    let name = "";
    await eventually(
      "the pre-upgrade Velero Backup",
      () => {
        const found = mustGet<Listed>(
          kubeconfig,
          "backups.velero.io",
          "-n",
          VELERO_NS,
          "-l",
          "es1.io/backup-trigger=pre-upgrade,es1.io/component=redis",
        ).items;
        if (found.length === 0) return false;
        name = found[0].metadata.name;
        return true;
      },
      300,
    );
    await new Promise((r) => setTimeout(r, 8000));
    assert.strictEqual(revision("es1-redis"), before, "Valkey's release changed before its backup completed");
    // No PostgreSQL backup: its release does not change.
    assert.deepStrictEqual(
      backupsWith("es1.io/backup-trigger=pre-upgrade").map((b) => b.metadata.name).length,
      1,
      "only the earlier PostgreSQL pre-upgrade backup",
    );
    veleroCompleted(name, "2026-12-01T11:05:00Z");
    const r = await up;
    assert.strictEqual(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as OperationReport;
    assert.deepStrictEqual(report.preUpgradeBackup, {
      changes: [`es1-redis chart 0.1.0 -> ${CATALOG.redis.chart.version}`],
      backup: name,
      phase: "Completed",
      backups: [{ component: "redis", name, phase: "Completed" }],
    });
    assert.strictEqual(revision("es1-redis"), before + 1, "the upgrade ran after the backup");
  });
  it("es1 restore postgresql --backup: a new cluster bootstrapped from the object store at the backup's end, consumers switched, the original kept", function () {
    const completed = es1Json<BackupReport>(0, "backup", "list", "--stack", STACK).backups.find(
      (b) => b.phase === "completed" && b.trigger === "on-demand",
    );
    assert.ok(completed?.stoppedAt, "a completed on-demand backup from the test above");
    const r = es1Json<OperationReport & { restore: Record<string, string> }>(
      0,
      "restore",
      "postgresql",
      "--stack",
      STACK,
      "--as",
      "es1-postgresql-r1",
      "--backup",
      completed.name,
      "--yes",
    );
    assert.deepStrictEqual(r.restore, {
      cluster: "es1-postgresql-r1",
      targetTime: "2026-12-01T10:03:01Z",
      backup: completed.name,
    });
    const restored = mustGet<{ spec: Record<string, unknown> }>(
      kubeconfig,
      "clusters.postgresql.cnpg.io",
      "es1-postgresql-r1",
      "-n",
      NS,
    );
    assert.deepStrictEqual(restored.spec.bootstrap, {
      recovery: {
        recoveryTarget: { targetTime: "2026-12-01T10:03:01Z" },
        database: "app",
        source: "pluginRecoveryCluster",
      },
    });
    assert.deepStrictEqual(restored.spec.externalClusters, [
      {
        name: "pluginRecoveryCluster",
        // enabled and isWALArchiver: the CRD's defaults.
        plugin: {
          enabled: true,
          isWALArchiver: false,
          name: "barman-cloud.cloudnative-pg.io",
          parameters: { barmanObjectName: "es1-postgresql-r1-recovery", serverName: "es1-postgresql" },
        },
      },
    ]);
    // The chart's ObjectStore for the recovery: the stack's bucket path and Secret.
    const source = mustGet<{ spec: { configuration: Record<string, unknown> } }>(
      kubeconfig,
      "objectstores.barmancloud.cnpg.io",
      "es1-postgresql-r1-recovery",
      "-n",
      NS,
    );
    assert.strictEqual(source.spec.configuration.destinationPath, `s3://es1-backups/${STACK}/postgresql`);
    assert.deepStrictEqual(source.spec.configuration.s3Credentials, {
      accessKeyId: { name: "es1-backup-object-store", key: "ACCESS_KEY_ID" },
      secretAccessKey: { name: "es1-backup-object-store", key: "ACCESS_SECRET_KEY" },
    });
    // The original is kept; backups and consumers now go to the restored cluster.
    mustGet(kubeconfig, "clusters.postgresql.cnpg.io", "es1-postgresql", "-n", NS);
    // A ScheduledBackup's cluster is immutable: the restored cluster's replaces the original's.
    assert.strictEqual(
      getObject(kubeconfig, "scheduledbackups.postgresql.cnpg.io", "es1-postgresql-scheduled", "-n", NS),
      undefined,
    );
    const scheduled = mustGet<{ spec: { cluster: unknown } }>(
      kubeconfig,
      "scheduledbackups.postgresql.cnpg.io",
      "es1-postgresql-r1-scheduled",
      "-n",
      NS,
    );
    assert.deepStrictEqual(scheduled.spec.cluster, { name: "es1-postgresql-r1" });
    const infra = r.outputs.infrastructure as { services: { postgresql: { host: string } } };
    assert.strictEqual(infra.services.postgresql.host, "es1-postgresql-r1-rw.es1-infrastructure.svc");
  });
});
