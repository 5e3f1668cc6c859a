// es1:backup (config/backup.ts) and what it makes (infrastructure/backup.ts): PostgreSQL's
// continuous backup through CloudNativePG's Barman Cloud plugin into the site's object store.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { longestGapSeconds, parseCron, SECONDS_CRON } from "../../config/backup";
import { plannedReleases } from "../../infrastructure";
import { BACKUP_SECRET, OBJECT_STORE, SCHEDULED_BACKUP } from "../../infrastructure/backup";
import { VALUES } from "../../infrastructure/values";
import { VELERO_SECRET } from "../../infrastructure/velero";
import { alertRules } from "../../infrastructure/observability";
import { OTHER_EXPOSED_METRICS } from "../../infrastructure/observability/metrics";
import { PROJECT_ROOT } from "../../lib/paths";
import { allStrings, runProgram } from "./harness";
import { ACCESS_KEY, backupConfig, backupProblems as problems, SECRET_KEY } from "./backup-fixtures";
import { contextFrom, settingsFrom } from "./values-fixtures";

describe("es1:backup settings", () => {
  it("defaults: a daily base backup at 02:00, 30 days kept, under the stack's folder, backup before upgrades", () => {
    const s = settingsFrom({ backup: backupConfig() }, ["backup"]);
    const b = s.backup;
    assert.ok(b?.objectStore);
    assert.deepStrictEqual(
      [b.objectStore.endpoint, b.objectStore.bucket, b.objectStore.prefix, b.objectStore.region],
      ["https://s3.site.example:9000", "es1-backups", "test", "us-east-1"],
    );
    assert.deepStrictEqual(b.postgresql, {
      schedule: "0 0 2 * * *",
      retentionDays: 30,
      intervalSeconds: 86400,
    });
    assert.strictEqual(b.beforeUpgrade, true);
    assert.strictEqual(settingsFrom({}).backup, undefined);
  });

  it("refuses schedules that are not six-field cron, out of range, too frequent or too rare, naming the key", () => {
    const at = (schedule: string) => problems(backupConfig({ postgresql: { schedule } }));
    assert.match(
      at("0 2 * * *")[0],
      /'es1:backup.postgresql.schedule': "0 2 \* \* \*" is not a schedule: a schedule has 6 fields \(second, minute, hour/,
    );
    assert.match(at("0 0 25 * * *")[0], /hour '25' is outside 0-23/);
    assert.match(at("0 0 2 * * mon")[0], /day of week 'mon' is not a number/);
    assert.match(
      at("0 */5 * * * *")[0],
      /runs with up to 5 min between runs; a base backup runs at least once a week and at most once an hour/,
    );
    assert.match(at("0 0 2 1 * *")[0], /runs less often than once in 4 weeks/);
  });

  it("refuses retention out of bounds, or shorter than the schedule's interval", () => {
    assert.match(
      problems(backupConfig({ postgresql: { retentionDays: 0 } }))[0],
      /'es1:backup.postgresql.retentionDays': 0 is out of range; use 1 to 3650/,
    );
    assert.match(
      problems(backupConfig({ postgresql: { schedule: "0 0 2 * * 0", retentionDays: 3 } }))[0],
      /3 days keeps no base backup until the next one/,
    );
  });

  it("refuses bad bucket names and endpoint URLs, and missing or unencrypted credentials", () => {
    const store = (o: Record<string, unknown>) => ({
      objectStore: { ...(backupConfig().objectStore as object), ...o },
    });
    assert.match(
      problems(store({ bucket: "ES1_Backups" }))[0],
      /'es1:backup.objectStore.bucket': "ES1_Backups" is not a bucket name/,
    );
    assert.match(problems(store({ bucket: "192.168.1.2" }))[0], /is not a bucket name/);
    assert.match(
      problems(store({ endpoint: "s3.site.example" }))[0],
      /'es1:backup.objectStore.endpoint': "s3.site.example" is not an endpoint URL/,
    );
    assert.match(problems(store({ endpoint: "https://s3.site.example/es1-backups" }))[0], /without a path/);
    assert.match(problems(store({ prefix: "/prod/" }))[0], /'es1:backup.objectStore.prefix'/);
    const missing = problems({ objectStore: { endpoint: "https://s3.site.example", bucket: "es1-backups" } });
    assert.deepStrictEqual(missing.length, 2);
    assert.match(
      missing[0],
      /'es1:backup.objectStore.accessKeyId': is required: .*pulumi config set --secret/,
    );
    const plain = problems(backupConfig(), {}, false);
    assert.match(plain[0], /accessKeyId': is a credential and must be stored encrypted/);
    // The message never repeats a secret value.
    const bad = problems(store({ secretAccessKey: "short" })).join("\n");
    assert.match(bad, /secretAccessKey': the value set is not valid/);
    assert.ok(!bad.includes('short"'));
    assert.match(problems({})[0], /'es1:backup.objectStore': is required/);
    assert.match(problems(backupConfig({ velero: {} }))[0], /'es1:backup.velero': unknown key/);
  });

  it("lets a dev stack skip the backup before upgrades, never a prod stack", () => {
    assert.strictEqual(
      settingsFrom({ backup: backupConfig({ beforeUpgrade: false }) }, ["backup"]).backup?.beforeUpgrade,
      false,
    );
    assert.match(
      problems(backupConfig({ beforeUpgrade: false }), { environment: "prod" })[0],
      /'es1:backup.beforeUpgrade': a prod stack always takes a backup before a risky upgrade/,
    );
  });

  it("cron: longest gap between runs (both day fields restricted: either matches)", () => {
    const gap = (s: string) => {
      const f = parseCron(s, SECONDS_CRON);
      assert.ok(typeof f !== "string", String(f));
      return longestGapSeconds(f, true);
    };
    assert.strictEqual(gap("0 0 2 * * *"), 86400);
    assert.strictEqual(gap("0 30 */6 * * *"), 6 * 3600);
    assert.strictEqual(gap("0 0 3 * * 1,4"), 4 * 86400);
    assert.strictEqual(gap("0 0 0 31 2 *"), undefined);
  });
});

describe("PostgreSQL backups: releases and values", () => {
  it("plans the Barman Cloud plugin and cert-manager (for its certificates) only with es1:backup", () => {
    const off = plannedReleases(settingsFrom({ components: { langfuse: { enabled: false } } }));
    assert.ok(!off.includes("postgresql-backup") && !off.includes("cert-manager"), off.join(", "));
    const on = plannedReleases(
      settingsFrom({ backup: backupConfig(), components: { langfuse: { enabled: false } } }, ["backup"]),
    );
    const at = (k: string) => on.indexOf(k as never);
    assert.ok(at("cert-manager") >= 0 && at("cert-manager") < at("postgresql-backup"), on.join(", "));
    assert.ok(
      at("postgresql-operator") < at("postgresql-backup") && at("postgresql-backup") < at("postgresql"),
    );
  });

  it("the plugin's images move to the mirror registry; the Cluster names the plugin only with es1:backup", () => {
    const ctx = contextFrom(
      { backup: backupConfig(), airgap: { registry: "mirror.example:5000/es1" } },
      "gke",
      ["backup"],
    );
    const plugin = VALUES["postgresql-backup"](ctx);
    assert.deepStrictEqual(
      [plugin.image, plugin.sidecarImage],
      [
        { registry: "mirror.example:5000/es1", repository: "cloudnative-pg/plugin-barman-cloud" },
        { registry: "mirror.example:5000/es1", repository: "cloudnative-pg/plugin-barman-cloud-sidecar" },
      ],
    );
    const withBackup = JSON.stringify(VALUES.postgresql(ctx));
    assert.match(withBackup, /"plugins":\[\{"name":"barman-cloud.cloudnative-pg.io"/);
    assert.ok(!JSON.stringify(VALUES.postgresql(contextFrom({}))).includes("plugins"));
  });
});

describe("PostgreSQL backups under mocks", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-backup-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const cluster = JSON.stringify({ provider: "existing", kubeconfig });
  const CR = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore";

  it("writes the keys into a Secret only, points the ObjectStore and ScheduledBackup at it, with retention and schedule", async () => {
    const run = await runProgram(
      {
        "es1:cluster": cluster,
        "es1:backup": JSON.stringify(
          backupConfig({ postgresql: { schedule: "0 30 1 * * *", retentionDays: 14 } }),
        ),
      },
      { secretKeys: ["es1:backup"] },
    );
    const secret = run.one("kubernetes:core/v1:Secret", BACKUP_SECRET.name);
    assert.ok(secret.secretInputs.includes("stringData"));
    assert.deepStrictEqual(secret.inputs.stringData, {
      ACCESS_KEY_ID: ACCESS_KEY,
      ACCESS_SECRET_KEY: SECRET_KEY,
    });
    // Velero's Secret holds them too, as its credentials file (test/unit/volume-backups.test.ts).
    for (const r of run.resources.filter(
      (x) => x.name !== BACKUP_SECRET.name && x.name !== VELERO_SECRET.name,
    )) {
      const strings = allStrings(r.inputs);
      assert.ok(
        !strings.some((s) => s.includes(ACCESS_KEY) || s.includes(SECRET_KEY)),
        `${r.type} ${r.name} holds a key`,
      );
    }
    const store = run.one(CR, OBJECT_STORE).inputs as { spec: Record<string, unknown> };
    assert.deepStrictEqual(store.spec, {
      retentionPolicy: "14d",
      configuration: {
        destinationPath: "s3://es1-backups/test/postgresql",
        endpointURL: "https://s3.site.example:9000",
        s3Credentials: {
          accessKeyId: { name: BACKUP_SECRET.name, key: "ACCESS_KEY_ID" },
          secretAccessKey: { name: BACKUP_SECRET.name, key: "ACCESS_SECRET_KEY" },
        },
        wal: { compression: "gzip", maxParallel: 2 },
        data: { compression: "gzip", jobs: 2 },
      },
    });
    const scheduled = run.one("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", SCHEDULED_BACKUP)
      .inputs as {
      spec: Record<string, unknown>;
    };
    assert.deepStrictEqual(scheduled.spec, {
      schedule: "0 30 1 * * *",
      immediate: true,
      backupOwnerReference: "self",
      cluster: { name: "es1-postgresql" },
      method: "plugin",
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
    });
    const pg = run.one("kubernetes:helm.sh/v3:Release", "es1-postgresql").inputs as {
      values: { cluster: { plugins?: unknown } };
    };
    assert.deepStrictEqual(pg.values.cluster.plugins, [
      {
        name: "barman-cloud.cloudnative-pg.io",
        enabled: true,
        isWALArchiver: true,
        parameters: { barmanObjectName: OBJECT_STORE },
      },
    ]);
    run.one("kubernetes:helm.sh/v3:Release", "es1-postgresql-backup");
  });

  it("makes no backup object without es1:backup", async () => {
    const run = await runProgram({ "es1:cluster": cluster });
    assert.deepStrictEqual(run.byType(CR), []);
    assert.deepStrictEqual(run.byType("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"), []);
    const pg = run.one("kubernetes:helm.sh/v3:Release", "es1-postgresql").inputs as {
      values: { cluster: { plugins?: unknown } };
    };
    assert.strictEqual(pg.values.cluster.plugins, undefined);
  });
});

describe("PostgreSQL restore (es1:backup.postgresql.restore)", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-restore-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const cluster = JSON.stringify({ provider: "existing", kubeconfig });
  const RESTORE = { cluster: "es1-postgresql-r1", targetTime: "2026-12-01T10:03:01Z" };

  it("refuses a restore without a new cluster name or a UTC time, or onto the original", () => {
    const at = (restore: Record<string, unknown>) => problems(backupConfig({ postgresql: { restore } }));
    assert.match(
      at({ targetTime: RESTORE.targetTime })[0],
      /'es1:backup.postgresql.restore.cluster': is required/,
    );
    assert.match(at({ ...RESTORE, cluster: "es1-postgresql" })[0], /"es1-postgresql" is not allowed/);
    assert.match(at({ ...RESTORE, cluster: "pg2" })[0], /"pg2" is not allowed: es1-postgresql- and a suffix/);
    assert.match(at({ ...RESTORE, targetTime: "2026-12-01 10:00" })[0], /is not a UTC time in RFC 3339/);
    assert.match(at({ ...RESTORE, source: "es1-postgresql-r1" })[0], /is the cluster being created/);
  });

  it("bootstraps a new cluster from the object store and switches every consumer to it, keeping the original", async () => {
    const run = await runProgram(
      {
        "es1:cluster": cluster,
        "es1:backup": JSON.stringify(backupConfig({ postgresql: { restore: RESTORE } })),
      },
      { secretKeys: ["es1:backup"] },
    );
    const release = (name: string) =>
      run.one("kubernetes:helm.sh/v3:Release", name).inputs as { values: Record<string, unknown> };
    const original = release("es1-postgresql").values;
    const restored = release("es1-postgresql-r1").values;
    assert.strictEqual(original.fullnameOverride, "es1-postgresql");
    assert.strictEqual(original.mode, undefined);
    assert.strictEqual(restored.fullnameOverride, "es1-postgresql-r1");
    assert.strictEqual(restored.mode, "recovery");
    assert.deepStrictEqual(restored.recovery, {
      method: "plugin",
      clusterName: "es1-postgresql",
      pitrTarget: { time: RESTORE.targetTime },
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
      provider: "s3",
      endpointURL: "https://s3.site.example:9000",
      destinationPath: "s3://es1-backups/test/postgresql",
      secret: { create: false, name: BACKUP_SECRET.name },
    });
    // The same roles, databases and archiving as the original (its WAL goes under its own name).
    assert.deepStrictEqual(
      (restored.cluster as Record<string, unknown>).roles,
      (original.cluster as Record<string, unknown>).roles,
    );
    assert.deepStrictEqual(restored.databases, original.databases);
    // Consumers: the applications' values and Secrets, and the exported endpoint.
    const host = "es1-postgresql-r1-rw.es1-infrastructure.svc";
    assert.ok(JSON.stringify(release("es1-mlflow").values).includes(host));
    assert.ok(JSON.stringify(release("es1-n8n").values).includes(host));
    const metadata = run.one("kubernetes:core/v1:Secret", "es1-airflow-metadata").inputs.stringData as {
      connection: string;
    };
    assert.match(metadata.connection, new RegExp(`@${host}:5432/airflow$`));
    assert.deepStrictEqual(run.outputs.infrastructure.services.postgresql, { host, port: 5432 });
    const scheduled = run.one("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", SCHEDULED_BACKUP)
      .inputs as {
      spec: { cluster: unknown };
    };
    assert.deepStrictEqual(scheduled.spec.cluster, { name: "es1-postgresql-r1" });
    // CloudNativePG refuses a new cluster on a ScheduledBackup: a new object replaces it.
    assert.strictEqual(
      (scheduled as { metadata?: { name?: string } }).metadata?.name,
      "es1-postgresql-r1-scheduled",
    );
    // The restored cluster's pods are PostgreSQL to the namespace's policies, as the original's are.
    const policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "es1-postgresql").inputs as {
      spec: { podSelector: unknown };
    };
    assert.deepStrictEqual(policy.spec.podSelector, {
      matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }],
    });
  });
});

describe("the backup alert", () => {
  it("ES1PostgresBackupTooOld: only with backups, its limit the schedule's longest interval plus 2 h, a runbook, a known metric", () => {
    const rules = (interval?: number) =>
      alertRules({
        licenseWarningDays: 30,
        ...(interval !== undefined ? { backupIntervalSeconds: interval } : {}),
      })
        .flatMap((g) => g.rules)
        .filter((r) => r.alert === "ES1PostgresBackupTooOld");
    assert.deepStrictEqual(rules(), []);
    const [weekly] = rules(7 * 86400);
    assert.match(
      weekly.expr,
      /^time\(\) - max by \(namespace\) \(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp\{namespace="es1-infrastructure"\}\) > 612000$/,
    );
    assert.deepStrictEqual(weekly.labels, { severity: "warning", component: "postgresql" });
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs/operations.md"), "utf8");
    assert.ok(doc.includes("#### ES1PostgresBackupTooOld"));
    assert.ok(
      Object.values(OTHER_EXPOSED_METRICS)
        .flat()
        .includes("barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"),
    );
  });

  it("the program passes the schedule's interval to the rules", async () => {
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-alert-")), "kubeconfig");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
    const run = await runProgram(
      {
        "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
        "es1:backup": JSON.stringify(backupConfig({ postgresql: { schedule: "0 0 */6 * * *" } })),
      },
      { secretKeys: ["es1:backup"] },
    );
    const rule = run.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "es1-alerts").inputs as {
      spec: { groups: { rules: { alert: string; expr: string }[] }[] };
    };
    const backup = rule.spec.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === "ES1PostgresBackupTooOld");
    assert.match(backup?.expr ?? "", / > 28800$/);
  });
});
