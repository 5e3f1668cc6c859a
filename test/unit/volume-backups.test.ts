// es1:backup.volumes (config/backup.ts) and what it makes (infrastructure/velero.ts): Velero in
// es1-velero, a Schedule per component, the closed namespace; `es1 backup now|list` and
// `es1 restore <component>` against a fake cluster (automation/velero.ts).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { plannedReleases } from "../../infrastructure";
import { veleroPolicies } from "../../infrastructure/network";
import { VALUES } from "../../infrastructure/values";
import { VELERO_SECRET } from "../../infrastructure/velero";
import { BackupApi } from "../../automation/backup";
import { KubeHttpError } from "../../automation/kube";
import {
  listVeleroBackups,
  NotRestorable,
  restoreVolumes,
  takeVeleroBackup,
  VeleroObject,
  VolumeBackupsNotConfigured,
} from "../../automation/velero";
import { parseVolumeRestoreArgs } from "../../automation/commands/restore";
import { allStrings, runProgram } from "./harness";
import { ACCESS_KEY, backupConfig, backupProblems, SECRET_KEY } from "./backup-fixtures";
import { contextFrom, settingsFrom } from "./values-fixtures";

function problems(volumes: unknown): string[] {
  return backupProblems(backupConfig({ volumes }));
}

describe("es1:backup.volumes settings", () => {
  it("defaults: on with es1:backup, daily at 03:00, 30 days, every component but Ollama", () => {
    const v = settingsFrom({ backup: backupConfig() }, ["backup"]).backup?.volumes;
    assert.deepStrictEqual(v, {
      enabled: true,
      schedule: "0 3 * * *",
      retentionDays: 30,
      intervalSeconds: 86400,
      components: {
        redis: true,
        langfuse: true,
        mlflow: true,
        ollama: false,
        monitoring: true,
        langflow: true,
      },
    });
  });

  it("refuses schedules that are not five-field cron, too frequent or too rare, naming the key", () => {
    assert.match(
      problems({ schedule: "0 0 3 * * *" })[0],
      /'es1:backup.volumes.schedule': "0 0 3 \* \* \*" is not a schedule: a schedule has 5 fields \(minute, hour/,
    );
    assert.match(problems({ schedule: "0 24 * * *" })[0], /hour '24' is outside 0-23/);
    assert.match(
      problems({ schedule: "*/10 * * * *" })[0],
      /runs with up to 10 min between runs; a volume backup runs at least once a week and at most once an hour/,
    );
  });

  it("refuses retention out of bounds or shorter than the schedule's interval, unknown components, non-booleans", () => {
    assert.match(
      problems({ retentionDays: 4000 })[0],
      /'es1:backup.volumes.retentionDays': 4000 is out of range; use 1 to 3650/,
    );
    assert.match(
      problems({ schedule: "0 3 * * 0", retentionDays: 2 })[0],
      /'es1:backup.volumes.retentionDays': 2 days keeps no volume backup until the next one/,
    );
    assert.match(
      problems({ components: { airflow: true } })[0],
      /'es1:backup.volumes.components.airflow': unknown key/,
    );
    assert.match(problems({ components: { redis: "yes" } })[0], /'es1:backup.volumes.components.redis'/);
    assert.match(problems({ keep: 3 })[0], /'es1:backup.volumes.keep': unknown key/);
  });

  it("plans Velero only with es1:backup and volumes on", () => {
    assert.ok(!plannedReleases(settingsFrom({})).includes("velero"));
    assert.ok(plannedReleases(settingsFrom({ backup: backupConfig() }, ["backup"])).includes("velero"));
    assert.ok(
      !plannedReleases(
        settingsFrom({ backup: backupConfig({ volumes: { enabled: false } }) }, ["backup"]),
      ).includes("velero"),
    );
  });
});

describe("Velero values", () => {
  it("a BackupStorageLocation at <prefix>/velero in the same bucket, credentials by Secret, images through the mirror", () => {
    const ctx = contextFrom(
      {
        backup: backupConfig(),
        airgap: { registry: "mirror.example:5000/es1", imagePullSecrets: ["mirror-pull"] },
      },
      "gke",
      ["backup"],
    );
    const v = VALUES.velero(ctx) as Record<string, unknown> & {
      configuration: { backupStorageLocation: unknown[]; volumeSnapshotLocation: unknown[] };
      initContainers: { image: string }[];
      credentials: unknown;
    };
    assert.deepStrictEqual(v.configuration.backupStorageLocation, [
      {
        name: "es1-object-store",
        provider: "aws",
        bucket: "es1-backups",
        prefix: "test/velero",
        default: true,
        accessMode: "ReadWrite",
        credential: { name: VELERO_SECRET.name, key: "cloud" },
        config: { region: "us-east-1", s3ForcePathStyle: "true", s3Url: "https://s3.site.example:9000" },
      },
    ]);
    assert.deepStrictEqual(v.configuration.volumeSnapshotLocation, []);
    assert.deepStrictEqual(v.credentials, { useSecret: true, existingSecret: VELERO_SECRET.name });
    assert.strictEqual(v.deployNodeAgent, true);
    assert.strictEqual(v.snapshotsEnabled, false);
    assert.strictEqual(
      v.initContainers[0].image,
      "mirror.example:5000/es1/velero/velero-plugin-for-aws:v1.14.2",
    );
    assert.deepStrictEqual(v.image, {
      repository: "mirror.example:5000/es1/velero/velero",
      imagePullSecrets: ["mirror-pull"],
    });
    const text = JSON.stringify(v);
    assert.ok(!text.includes(ACCESS_KEY) && !text.includes(SECRET_KEY), "values hold a key");
  });
});

describe("volume backups under mocks", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-velero-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");

  it("Velero in its own privileged, closed namespace; a Schedule per chosen component with the schedule and TTL from config; keys in a Secret only", async () => {
    const run = await runProgram(
      {
        "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
        "es1:components": JSON.stringify({ mlflow: { enabled: false } }),
        "es1:network": JSON.stringify({
          egress: { store: { component: "velero", cidr: "10.20.0.15/32", ports: [9000] } },
        }),
        "es1:backup": JSON.stringify(
          backupConfig({
            volumes: {
              schedule: "30 4 * * *",
              retentionDays: 7,
              components: { langflow: false, ollama: true },
            },
          }),
        ),
      },
      { secretKeys: ["es1:backup"] },
    );
    const ns = run.one("kubernetes:core/v1:Namespace", "velero-namespace").inputs as {
      metadata: { name: string; labels: Record<string, string> };
    };
    assert.strictEqual(ns.metadata.name, "es1-velero");
    assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    const release = run.one("kubernetes:helm.sh/v3:Release", "es1-velero").inputs as Record<string, unknown>;
    assert.deepStrictEqual(
      [release.namespace, release.chart, release.version, release.atomic, release.createNamespace],
      ["es1-velero", "velero", "12.1.0", true, false],
    );
    const secret = run.one("kubernetes:core/v1:Secret", VELERO_SECRET.name);
    assert.ok(secret.secretInputs.includes("stringData"));
    assert.deepStrictEqual(secret.inputs.stringData, {
      cloud: `[default]\naws_access_key_id=${ACCESS_KEY}\naws_secret_access_key=${SECRET_KEY}\n`,
    });
    for (const r of run.resources.filter((x) => x.type !== "kubernetes:core/v1:Secret"))
      assert.ok(
        !allStrings(r.inputs).some((s) => s.includes(ACCESS_KEY) || s.includes(SECRET_KEY)),
        `${r.type} ${r.name} holds a key`,
      );
    const schedules = run.byType("kubernetes:velero.io/v1:Schedule").map(
      (r) =>
        r.inputs as {
          metadata: { name: string; namespace: string };
          spec: { schedule: string; template: Record<string, unknown> };
        },
    );
    assert.deepStrictEqual(schedules.map((s) => s.metadata.name).sort(), [
      "es1-langfuse",
      "es1-monitoring",
      "es1-ollama",
      "es1-redis",
    ]);
    const redis = schedules.find((s) => s.metadata.name === "es1-redis");
    assert.deepStrictEqual(redis && [redis.metadata.namespace, redis.spec], [
      "es1-velero",
      {
        schedule: "30 4 * * *",
        useOwnerReferencesInBackup: false,
        template: {
          includedNamespaces: ["es1-infrastructure"],
          orLabelSelectors: [{ matchLabels: { "app.kubernetes.io/instance": "es1-redis" } }],
          defaultVolumesToFsBackup: true,
          snapshotVolumes: false,
          storageLocation: "es1-object-store",
          ttl: "168h0m0s",
          metadata: {
            labels: {
              "es1-role": "infrastructure",
              "app.kubernetes.io/part-of": "es1",
              "app.kubernetes.io/component": "backup",
              "es1.io/component": "redis",
            },
          },
        },
      },
    ]);
    const langfuse = schedules.find((s) => s.metadata.name === "es1-langfuse");
    assert.deepStrictEqual(langfuse?.spec.template.orLabelSelectors, [
      { matchLabels: { "app.kubernetes.io/instance": "es1-langfuse" } },
      { matchExpressions: [{ key: "clickhouse.com/role", operator: "Exists" }] },
    ]);
    const policies = run
      .byType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .map((r) => r.inputs as { metadata: { name: string; namespace: string } })
      .filter((p) => p.metadata.namespace === "es1-velero")
      .map((p) => p.metadata.name);
    assert.deepStrictEqual(policies.sort(), ["es1-default-deny", "es1-dns", "es1-velero"]);
  });

  it("Velero's pods reach the API server and the object store rules for velero, nothing else", () => {
    const net = settingsFrom({
      network: {
        apiServerCidrs: ["10.0.0.1/32"],
        egress: {
          store: { component: "velero", cidr: "10.20.0.15/32", ports: [9000] },
          models: { component: "ollama", cidr: "203.0.113.7/32", ports: [443] },
        },
      },
    }).network;
    const velero = veleroPolicies(net).find((p) => p.name === "es1-velero");
    assert.deepStrictEqual(velero?.spec, {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.0.0.1/32" } }],
          ports: [
            { port: 443, protocol: "TCP" },
            { port: 6443, protocol: "TCP" },
          ],
        },
        { to: [{ ipBlock: { cidr: "10.20.0.15/32" } }], ports: [{ port: 9000, protocol: "TCP" }] },
      ],
    });
  });
});

const V = "/apis/velero.io/v1/namespaces/es1-velero";
const TEMPLATE = { includedNamespaces: ["es1-infrastructure"], ttl: "720h0m0s" };

/** A cluster with Velero's objects; `phases`: what Velero reports on each read of the newest object. */
function fakeVelero(opts: { schedule?: boolean; phases?: string[]; backups?: VeleroObject[] }) {
  const created: { path: string; body: VeleroObject & { spec: Record<string, unknown> } }[] = [];
  let reads = 0;
  const api: BackupApi = {
    get<T>(p: string): Promise<T> {
      if (p.includes("/schedules/"))
        return opts.schedule === false
          ? Promise.reject(new KubeHttpError(404, "not found"))
          : Promise.resolve({ spec: { template: TEMPLATE } } as T);
      if (p.startsWith(`${V}/backups?`)) return Promise.resolve({ items: opts.backups ?? [] } as T);
      if (p === `${V}/podvolumebackups`)
        return Promise.resolve({
          items: [
            {
              metadata: { labels: { "velero.io/backup-name": "es1-redis-20261201030000" } },
              status: { progress: { totalBytes: 1000 } },
            },
            {
              metadata: { labels: { "velero.io/backup-name": "es1-redis-20261201030000" } },
              status: { progress: { totalBytes: 24 } },
            },
          ],
        } as T);
      const known = (opts.backups ?? []).find((b) => p === `${V}/backups/${b.metadata.name}`);
      if (known) return Promise.resolve(known as T);
      if (p.startsWith(`${V}/backups/`) && created.length === 0)
        return Promise.reject(new KubeHttpError(404, "no"));
      const phase = opts.phases?.[Math.min(reads++, (opts.phases?.length ?? 1) - 1)];
      return Promise.resolve({ ...created[created.length - 1].body, status: phase ? { phase } : {} } as T);
    },
    post<T>(p: string, json: unknown): Promise<T> {
      created.push({ path: p, body: json as VeleroObject & { spec: Record<string, unknown> } });
      return Promise.resolve(json as T);
    },
  };
  return { api, created };
}

const fast = {
  wait: true,
  timeoutSeconds: 5,
  pollSeconds: 0.01,
  now: () => new Date("2026-12-01T10:11:12Z"),
};

describe("es1 backup now|list and es1 restore for Velero's components", () => {
  it("now: a Backup with the Schedule's template, labelled on-demand, waited for until Completed", async () => {
    const { api, created } = fakeVelero({ phases: ["New", "InProgress", "Completed"] });
    const { entry, outcome } = await takeVeleroBackup(api, "redis", "on-demand", fast);
    assert.strictEqual(outcome, "completed");
    assert.deepStrictEqual(
      [created[0].path, created[0].body.metadata.name],
      [`${V}/backups`, "es1-redis-on-demand-20261201-101112"],
    );
    assert.deepStrictEqual(created[0].body.spec, TEMPLATE);
    assert.deepStrictEqual(created[0].body.metadata.labels?.["es1.io/component"], "redis");
    assert.deepStrictEqual(
      [entry.component, entry.trigger, entry.phase],
      ["redis", "on-demand", "Completed"],
    );
  });

  it("now: pending without a Velero server (no status), failed on PartiallyFailed; not configured without a Schedule", async () => {
    const pending = await takeVeleroBackup(fakeVelero({}).api, "redis", "on-demand", {
      ...fast,
      wait: false,
    });
    assert.deepStrictEqual([pending.outcome, pending.entry.phase], ["pending", "pending"]);
    const failed = await takeVeleroBackup(
      fakeVelero({ phases: ["PartiallyFailed"] }).api,
      "mlflow",
      "on-demand",
      fast,
    );
    assert.strictEqual(failed.outcome, "failed");
    await assert.rejects(
      takeVeleroBackup(fakeVelero({ schedule: false }).api, "ollama", "on-demand", fast),
      (e: Error) =>
        e instanceof VolumeBackupsNotConfigured &&
        /no Velero Schedule es1-ollama in es1-velero/.test(e.message),
    );
  });

  it("list: per component, scheduled or on-demand, with progress and the volumes' bytes", async () => {
    const { api } = fakeVelero({
      backups: [
        {
          metadata: {
            name: "es1-redis-20261201030000",
            creationTimestamp: "2026-12-01T03:00:00Z",
            labels: { "es1.io/component": "redis", "velero.io/schedule-name": "es1-redis" },
          },
          status: {
            phase: "Completed",
            startTimestamp: "2026-12-01T03:00:01Z",
            completionTimestamp: "2026-12-01T03:02:00Z",
            expiration: "2026-12-31T03:00:01Z",
            progress: { itemsBackedUp: 12, totalItems: 12 },
          },
        },
        {
          metadata: {
            name: "es1-langfuse-on-demand-20261201-101112",
            creationTimestamp: "2026-12-01T10:11:12Z",
            labels: { "es1.io/component": "langfuse", "es1.io/backup-trigger": "on-demand" },
          },
        },
      ],
    });
    const list = await listVeleroBackups(api);
    assert.deepStrictEqual(
      list.map((b) => [b.component, b.trigger, b.phase, b.sizeBytes, b.progress?.itemsBackedUp]),
      [
        ["langfuse", "on-demand", "pending", null, undefined],
        ["redis", "scheduled", "Completed", 1024, 12],
      ],
    );
    assert.deepStrictEqual(
      await listVeleroBackups({ ...api, get: () => Promise.reject(new KubeHttpError(404, "no")) }),
      [],
    );
  });

  it("restore: a Restore of the component's namespace and labels from its completed backup; refuses another's or an unfinished one", async () => {
    const done: VeleroObject = {
      metadata: { name: "es1-redis-20261201030000", labels: { "es1.io/component": "redis" } },
      status: { phase: "Completed" },
    };
    const { api, created } = fakeVelero({ backups: [done] });
    const r = await restoreVolumes(api, "redis", done.metadata.name, { ...fast, wait: false });
    assert.deepStrictEqual(
      [r.outcome, r.entry.name, r.entry.backup],
      ["pending", "es1-redis-restore-20261201-101112", done.metadata.name],
    );
    assert.deepStrictEqual(
      [created[0].path, created[0].body.spec],
      [
        `${V}/restores`,
        {
          backupName: done.metadata.name,
          includedNamespaces: ["es1-infrastructure"],
          orLabelSelectors: [{ matchLabels: { "app.kubernetes.io/instance": "es1-redis" } }],
          restorePVs: true,
          existingResourcePolicy: "none",
        },
      ],
    );
    await assert.rejects(
      restoreVolumes(api, "langfuse", done.metadata.name, fast),
      /is of redis, not of langfuse/,
    );
    const running = fakeVelero({ backups: [{ ...done, status: { phase: "InProgress" } }] }).api;
    await assert.rejects(restoreVolumes(running, "redis", done.metadata.name, fast), NotRestorable);
    assert.throws(() => parseVolumeRestoreArgs("redis", ["--stack", "s"]), /--backup/);
  });
});
