// `es1 backup now|list` and the backup before a risky upgrade (automation/backup.ts), against a
// fake cluster that plays CloudNativePG's part: it writes the Backup's status.
import * as assert from "assert";
import {
  activeCluster,
  BackupApi,
  backupName,
  BackupsNotConfigured,
  CnpgBackup,
  listBackups,
  preUpgradePolicy,
  riskyChanges,
  takeBackup,
} from "../../automation/backup";
import { parseBackupArgs } from "../../automation/commands/backup";
import { UsageError } from "../../automation/commands/common";
import { KubeHttpError } from "../../automation/kube";
import { StateResource } from "../../automation/state";
import { CATALOG } from "../../infrastructure/catalog";
import { POSTGRES_MAJOR } from "../../infrastructure/values/postgresql";

const BACKUPS = "/apis/postgresql.cnpg.io/v1/namespaces/es1-infrastructure/backups";

/** A cluster with (or without) the ObjectStore; `phases` are what the operator reports on each read. */
function fakeCluster(opts: { objectStore?: boolean; phases?: (string | undefined)[]; items?: CnpgBackup[] }) {
  const created: CnpgBackup[] = [];
  let reads = 0;
  const api: BackupApi = {
    get<T>(path: string): Promise<T> {
      if (path.includes("/objectstores/")) {
        if (opts.objectStore === false) return Promise.reject(new KubeHttpError(404, "not found"));
        return Promise.resolve({} as T);
      }
      if (path.startsWith(`${BACKUPS}?`)) return Promise.resolve({ items: opts.items ?? [] } as T);
      const phase = opts.phases?.[Math.min(reads++, (opts.phases?.length ?? 1) - 1)];
      const b = created[created.length - 1];
      return Promise.resolve({
        ...b,
        status: phase
          ? {
              phase,
              ...(phase === "failed" ? { error: "can't connect to s3" } : { backupId: "20261201T020000" }),
            }
          : undefined,
      } as T);
    },
    post<T>(path: string, json: unknown): Promise<T> {
      assert.strictEqual(path, BACKUPS);
      created.push(json as CnpgBackup);
      return Promise.resolve(json as T);
    },
  };
  return { api, created };
}

const fast = { timeoutSeconds: 5, pollSeconds: 0.01, now: () => new Date("2026-12-01T10:11:12Z") };

describe("es1 backup now", () => {
  it("creates a plugin Backup of es1-postgresql, labelled on-demand, and waits until completed", async () => {
    const { api, created } = fakeCluster({ phases: [undefined, "started", "running", "completed"] });
    const lines: string[] = [];
    const r = await takeBackup(api, {
      trigger: "on-demand",
      wait: true,
      ...fast,
      onProgress: (l) => lines.push(l),
    });
    assert.strictEqual(r.outcome, "completed");
    assert.strictEqual(r.entry.name, "es1-postgresql-on-demand-20261201-101112");
    assert.strictEqual(r.entry.backupId, "20261201T020000");
    assert.deepStrictEqual(created[0].spec, {
      cluster: { name: "es1-postgresql" },
      method: "plugin",
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
    });
    assert.strictEqual(created[0].metadata.labels?.["es1.io/backup-trigger"], "on-demand");
    assert.deepStrictEqual(lines, [
      "created Backup es1-postgresql-on-demand-20261201-101112 (pending)",
      "Backup es1-postgresql-on-demand-20261201-101112: started",
      "Backup es1-postgresql-on-demand-20261201-101112: running",
      "Backup es1-postgresql-on-demand-20261201-101112: completed",
    ]);
  });

  it("reports a failed backup with the operator's error, and one still running at the timeout as pending", async () => {
    const failed = await takeBackup(fakeCluster({ phases: ["failed"] }).api, {
      trigger: "on-demand",
      wait: true,
      ...fast,
    });
    assert.deepStrictEqual([failed.outcome, failed.entry.error], ["failed", "can't connect to s3"]);
    const slow = await takeBackup(fakeCluster({ phases: ["running"] }).api, {
      trigger: "on-demand",
      wait: true,
      ...fast,
      timeoutSeconds: 0.05,
    });
    assert.deepStrictEqual([slow.outcome, slow.entry.phase], ["pending", "running"]);
  });

  it("with --no-wait returns the new Backup pending; refuses a stack without the ObjectStore", async () => {
    const r = await takeBackup(fakeCluster({}).api, { trigger: "on-demand", wait: false, ...fast });
    assert.deepStrictEqual([r.outcome, r.entry.phase], ["pending", "pending"]);
    const none = fakeCluster({ objectStore: false });
    await assert.rejects(
      takeBackup(none.api, { trigger: "on-demand", wait: false, ...fast }),
      BackupsNotConfigured,
    );
    assert.strictEqual(none.created.length, 0);
  });

  it("after a restore, backs up the cluster the consumers use (es1:backup.postgresql.restore.cluster)", async () => {
    assert.strictEqual(activeCluster(undefined), "es1-postgresql");
    const config = { objectStore: {}, postgresql: { restore: { cluster: "es1-postgresql-r1" } } };
    const { api, created } = fakeCluster({});
    const r = await takeBackup(api, {
      trigger: "on-demand",
      cluster: activeCluster(config),
      wait: false,
      ...fast,
    });
    assert.strictEqual(r.entry.name, "es1-postgresql-r1-on-demand-20261201-101112");
    assert.deepStrictEqual(
      [r.entry.cluster, created[0].spec?.cluster],
      ["es1-postgresql-r1", { name: "es1-postgresql-r1" }],
    );
  });

  it("names backups by trigger and UTC second", () => {
    assert.strictEqual(
      backupName("pre-upgrade", new Date("2027-01-02T03:04:05.678Z")),
      "es1-postgresql-pre-upgrade-20270102-030405",
    );
  });

  it("arguments: now/list, postgresql by default, the Velero components by name, timeout bounds", () => {
    assert.deepStrictEqual(parseBackupArgs(["now", "--stack", "s", "--no-wait", "--timeout", "60"]), {
      action: "now",
      stack: "s",
      components: ["postgresql"],
      json: false,
      wait: false,
      timeoutSeconds: 60,
    });
    assert.deepStrictEqual(
      parseBackupArgs(["now", "--stack", "s", "--component", "redis", "--component", "langfuse"]).components,
      ["redis", "langfuse"],
    );
    assert.deepStrictEqual(parseBackupArgs(["list", "--stack", "s"]).components, [
      "postgresql",
      "redis",
      "langfuse",
      "mlflow",
      "ollama",
      "monitoring",
      "langflow",
    ]);
    assert.throws(
      () => parseBackupArgs(["now", "--stack", "s", "--component", "airflow"]),
      /--component 'airflow' is not backed up; es1 backs up: postgresql, redis, langfuse/,
    );
    assert.throws(
      () => parseBackupArgs(["now", "--stack", "s", "--timeout", "0"]),
      /--timeout '0' is not allowed/,
    );
    assert.throws(() => parseBackupArgs(["list", "--stack", "s", "--no-wait"]), UsageError);
    assert.throws(() => parseBackupArgs(["restore"]), /unknown action 'restore'/);
  });
});

describe("es1 backup list", () => {
  it("lists the cluster's backups newest first, with trigger, phase and times; size not recorded", async () => {
    const { api } = fakeCluster({
      items: [
        {
          metadata: {
            name: "es1-postgresql-scheduled-20261130020000",
            creationTimestamp: "2026-11-30T02:00:00Z",
            labels: { "cnpg.io/scheduled-backup": "es1-postgresql-scheduled" },
          },
          status: {
            phase: "completed",
            startedAt: "2026-11-30T02:00:01Z",
            stoppedAt: "2026-11-30T02:04:00Z",
            backupId: "20261130T020001",
          },
        },
        {
          metadata: {
            name: "es1-postgresql-on-demand-20261201-101112",
            creationTimestamp: "2026-12-01T10:11:12Z",
            labels: { "es1.io/backup-trigger": "on-demand" },
          },
        },
      ],
    });
    const list = await listBackups(api);
    assert.deepStrictEqual(
      list.map((b) => [b.name, b.trigger, b.phase, b.stoppedAt ?? "-", b.sizeBytes]),
      [
        ["es1-postgresql-on-demand-20261201-101112", "on-demand", "pending", "-", null],
        ["es1-postgresql-scheduled-20261130020000", "scheduled", "completed", "2026-11-30T02:04:00Z", null],
      ],
    );
  });
});

describe("the backup before a risky upgrade", () => {
  const release = (name: string, version: string, values: Record<string, unknown> = {}): StateResource => ({
    urn: `urn:pulumi:s::es1-platform::kubernetes:helm.sh/v3:Release::${name}`,
    type: "kubernetes:helm.sh/v3:Release",
    inputs: { name, version, values },
  });
  const current = [
    release("es1-postgresql", CATALOG.postgresql.chart.version, { version: { postgresql: POSTGRES_MAJOR } }),
    release("es1-redis", CATALOG.redis.chart.version),
    release("es1-langfuse", CATALOG.langfuse.chart.version),
    release("es1-n8n", "0.0.1"),
  ];

  it("finds none when the stateful releases keep their chart and PostgreSQL its major version", () => {
    assert.deepStrictEqual(riskyChanges(current), []);
    assert.deepStrictEqual(riskyChanges([]), []);
  });

  it("finds a new chart version of PostgreSQL, Valkey or Langfuse (ClickHouse), and a new PostgreSQL major", () => {
    const changed = [
      release("es1-postgresql", "0.8.0", { version: { postgresql: "15" } }),
      release("es1-redis", "0.10.0"),
      release("es1-langfuse", "1.5.0"),
      release("es1-n8n", "0.0.1"),
    ];
    assert.deepStrictEqual(
      riskyChanges(changed).map((c) => `${c.component}: ${c.what}`),
      [
        `postgresql: es1-postgresql chart 0.8.0 -> ${CATALOG.postgresql.chart.version}`,
        `postgresql: PostgreSQL major version 15 -> ${POSTGRES_MAJOR}`,
        `redis: es1-redis chart 0.10.0 -> ${CATALOG.redis.chart.version}`,
        `langfuse: es1-langfuse chart 1.5.0 -> ${CATALOG.langfuse.chart.version}`,
      ],
    );
  });

  it("takes it when es1:backup is set, skips it when a dev stack says beforeUpgrade false", () => {
    assert.strictEqual(preUpgradePolicy(undefined), "not-configured");
    assert.strictEqual(preUpgradePolicy({ objectStore: {} }), "take");
    assert.strictEqual(preUpgradePolicy({ objectStore: {}, beforeUpgrade: false }), "skip");
    assert.strictEqual(preUpgradePolicy({ objectStore: {}, beforeUpgrade: "false" }), "skip");
  });
});
