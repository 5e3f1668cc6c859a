import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigErrors, SECRET_NAMES, SIZING, SIZING_PROFILES } from "../../config";
import { chartSource } from "../../automation/chart-source";
import { isProtected, plannedReleases } from "../../infrastructure";
import { CATALOG, RELEASES, ReleaseKey, resolveCharts } from "../../infrastructure/catalog";
import { SECRETS } from "../../infrastructure/layout";
import { VALUES, ValuesContext } from "../../infrastructure/values";
import { Json, JsonObject } from "../../lib/json";
import { volumeBackupTarget } from "../../infrastructure/velero";
import { allStrings, runProgram } from "./harness";
import { contextFrom, settingsFrom } from "./values-fixtures";

const MIRROR = { registry: "mirror.example:5000/es1", imagePullSecrets: ["mirror-pull"] };
const PUBLIC_REGISTRIES = /(^|\/)(docker\.io|quay\.io|ghcr\.io|registry\.k8s\.io|docker\.langfuse\.com)\//;

/** The value at a dotted path of a values tree. */
function at(values: JsonObject, dotted: string): Json | undefined {
  let v: Json | undefined = values;
  for (const part of dotted.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = v[part];
  }
  return v;
}

/** Velero's values need es1:backup's target; the other builders ignore it. */
function withVolumeBackups(ctx: ValuesContext): ValuesContext {
  return {
    ...ctx,
    volumeBackup: volumeBackupTarget(
      { endpoint: "https://s3.site.example", bucket: "es1-backups", region: "us-east-1" },
      "unit",
    ),
  };
}

/**
 * Every key that carries an image in our values, per release: the image keys of each chart
 * (see docs/components.md). With a mirror registry they must all point into it.
 */
const IMAGE_KEYS: Record<ReleaseKey, string[]> = {
  "postgresql-operator": ["image.repository", "config.data.POSTGRES_IMAGE_NAME"],
  "postgresql-backup": ["image.registry", "sidecarImage.registry"],
  postgresql: ["cluster.imageName"],
  redis: ["global.imageRegistry", "image.registry", "metrics.exporter.image.registry"],
  "monitoring-crds": [],
  monitoring: ["global.imageRegistry"],
  airflow: [
    "defaultAirflowRepository",
    "images.statsd.repository",
    "images.gitSync.repository",
    "images.redis.repository",
    "images.pgbouncer.repository",
    "images.pgbouncerExporter.repository",
  ],
  ollama: ["image.repository"],
  mlflow: [
    "image.repository",
    "initImages.dbchecker.repository",
    "initImages.mlflowDbMigration.repository",
    "initImages.iniFileInitializer.repository",
  ],
  n8n: ["image.repository", "taskRunners.external.image.repository"],
  langflow: ["image.repository"],
  "cert-manager": [
    "image.repository",
    "webhook.image.repository",
    "cainjector.image.repository",
    "acmesolver.image.repository",
    "startupapicheck.image.repository",
  ],
  "clickhouse-operator": ["manager.image.repository"],
  velero: ["image.repository", "kubectl.image.repository"],
  langfuse: [
    "langfuse.web.image.repository",
    "langfuse.worker.image.repository",
    "clickhouse.cluster.image.repository",
    "clickhouse.keeper.image.repository",
    "s3.image.registry",
  ],
};

function configProblems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    settingsFrom(values, secretKeys);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected the config to be refused");
}

describe("infrastructure values builders", () => {
  it("let MLflow accept the Host headers its clients send: its Service's names and its route's host", () => {
    const hosts = (ctx: ValuesContext) =>
      (VALUES.mlflow(ctx) as { serverAllowedHosts: string[] }).serverAllowedHosts;
    const internal = hosts(contextFrom({}));
    for (const h of [
      "es1-mlflow",
      "es1-mlflow.es1-infrastructure.svc:*",
      "es1-mlflow.es1-infrastructure.svc.cluster.local:80",
    ])
      assert.ok(
        internal.some((p) => p === h || (p.endsWith(":*") && h.startsWith(p.slice(0, -1)))),
        h,
      );
    assert.ok(!internal.includes("*"), "not every host");
    const routed = hosts(
      contextFrom({
        access: {
          mode: "ingress",
          baseDomain: "es1.example.com",
          tls: { issuer: "acme", acmeEmail: "ops@example.com" },
        },
      }),
    );
    assert.ok(routed.includes("mlflow.es1.example.com"), routed.join(","));
  });

  for (const profile of SIZING_PROFILES) {
    it(`build plain JSON for every release in the ${profile} profile, placed on the infrastructure pool`, () => {
      const ctx = contextFrom({ sizing: profile, components: { ollama: { gpu: false } } });
      for (const key of RELEASES) {
        const values = VALUES[key](withVolumeBackups(ctx));
        assert.deepStrictEqual(
          JSON.parse(JSON.stringify(values)),
          values,
          `${key} values are not plain JSON`,
        );
        const text = JSON.stringify(values);
        if (key !== "monitoring-crds")
          assert.match(text, /"es1-pool":"infrastructure"/, `${key} is not placed`);
        // Every volume a values tree asks for is on the cluster's StorageClass.
        for (const m of text.matchAll(/"(storageClass|storageClassName|className)":"([^"]*)"/g))
          assert.strictEqual(m[2], "fast-ssd", `${key} ${m[1]}`);
      }
    });
  }

  it("sizes PostgreSQL from the profile: instances, volume, resources", () => {
    for (const profile of SIZING_PROFILES) {
      const v = VALUES.postgresql(contextFrom({ sizing: profile }));
      const size = SIZING[profile].postgresql;
      assert.strictEqual(at(v, "cluster.instances"), size.replicas);
      assert.strictEqual(at(v, "cluster.storage.size"), size.storage);
      assert.deepStrictEqual(at(v, "cluster.resources.requests"), size.resources.requests);
    }
    assert.strictEqual(at(VALUES.postgresql(contextFrom({ sizing: "production" })), "cluster.instances"), 3);
  });

  it("applies per-component overrides on top of the profile", () => {
    const ctx = contextFrom({
      sizing: "minimal",
      components: {
        postgresql: { replicas: 5, storage: "500Gi", resources: { requests: { cpu: "2", memory: "8Gi" } } },
        airflow: { replicas: 7 },
      },
    });
    const pg = VALUES.postgresql(ctx);
    assert.strictEqual(at(pg, "cluster.instances"), 5);
    assert.strictEqual(at(pg, "cluster.storage.size"), "500Gi");
    assert.deepStrictEqual(at(pg, "cluster.resources"), {
      requests: { cpu: "2", memory: "8Gi" },
      limits: { memory: SIZING.minimal.postgresql.resources.limits.memory },
    });
    assert.strictEqual(at(VALUES.airflow(ctx), "workers.celery.replicas"), 7);
  });

  it("gives each application its own PostgreSQL role and database, kept when the application goes", () => {
    const all = VALUES.postgresql(contextFrom({}));
    assert.deepStrictEqual(
      (at(all, "cluster.roles") as JsonObject[]).map((r) => [r.name, at(r, "passwordSecret.name")]),
      ["airflow", "mlflow", "n8n", "langflow", "langfuse"].map((u) => [u, `es1-postgresql-${u}`]),
    );
    for (const db of at(all, "databases") as JsonObject[]) {
      assert.strictEqual(db.owner, db.name);
      assert.strictEqual(db.databaseReclaimPolicy, "retain");
    }
    assert.strictEqual(at(all, "cluster.superuserSecret"), SECRETS.postgresqlSuperuser);
    const some = VALUES.postgresql(contextFrom({ components: { airflow: { enabled: false } } }));
    assert.ok(!JSON.stringify(some).includes("airflow"));
  });

  it("runs Valkey persistent, without eviction, with one ACL user per consumer from one Secret", () => {
    const v = VALUES.redis(contextFrom({ components: { n8n: { enabled: false } } }));
    assert.match(String(at(v, "valkeyConfig")), /^maxmemory-policy noeviction$/m);
    assert.deepStrictEqual(at(v, "dataStorage.enabled"), true);
    assert.deepStrictEqual(at(v, "dataStorage.keepPvc"), true);
    assert.strictEqual(at(v, "auth.usersExistingSecret"), SECRETS.redisUsers);
    assert.deepStrictEqual(Object.keys(at(v, "auth.aclUsers") as JsonObject), [
      "default",
      "airflow",
      "langfuse",
    ]);
  });

  it("limits Airflow's and n8n's Valkey users to the key prefix each is set to use; Langfuse has none", () => {
    const ctx = contextFrom({});
    const users = at(VALUES.redis(ctx), "auth.aclUsers") as Record<string, { permissions: string }>;
    assert.match(users.airflow.permissions, /^~airflow:\* &\* \+@all -@admin /);
    assert.match(users.n8n.permissions, /^~n8n:\* &\* \+@all -@admin /);
    // Langfuse documents no key prefix for every key it writes: its user keeps every key.
    assert.match(users.langfuse.permissions, /^~\* &\* /);
    // The applications are told the same prefixes.
    assert.strictEqual(
      at(VALUES.airflow(ctx), "config.celery_broker_transport_options.global_keyprefix"),
      "airflow:",
    );
    const n8n = VALUES.n8n(ctx);
    for (const part of ["main", "worker"])
      assert.deepStrictEqual(at(n8n, `${part}.extraEnvVars`), {
        QUEUE_BULL_PREFIX: "n8n",
        N8N_REDIS_KEY_PREFIX: "n8n",
      });
  });

  it("points every application at the shared stores and our Secrets, never at bundled databases", () => {
    const ctx = contextFrom({});
    const airflow = VALUES.airflow(ctx);
    assert.deepStrictEqual([at(airflow, "postgresql.enabled"), at(airflow, "redis.enabled")], [false, false]);
    assert.strictEqual(at(airflow, "data.metadataSecretName"), SECRETS.airflowMetadata);
    assert.strictEqual(at(airflow, "data.brokerUrlSecretName"), SECRETS.airflowBroker);
    for (const k of ["fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"])
      assert.strictEqual(at(airflow, k), SECRETS.airflowKeys);
    const n8n = VALUES.n8n(ctx);
    assert.strictEqual(at(n8n, "externalPostgresql.host"), "es1-postgresql-rw.es1-infrastructure.svc");
    assert.strictEqual(at(n8n, "worker.mode"), "queue");
    assert.strictEqual(at(n8n, "existingEncryptionKeySecret"), SECRETS.n8nEncryptionKey);
    const langfuse = VALUES.langfuse(ctx);
    assert.deepStrictEqual([at(langfuse, "postgresql.deploy"), at(langfuse, "redis.deploy")], [false, false]);
    assert.strictEqual(at(langfuse, "langfuse.features.telemetryEnabled"), false);
    assert.strictEqual(at(langfuse, "redis.auth.existingSecret"), "es1-redis-langfuse");
    const monitoring = VALUES.monitoring(ctx);
    assert.strictEqual(at(monitoring, "crds.enabled"), false);
    assert.strictEqual(
      at(monitoring, "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues"),
      false,
    );
    assert.strictEqual(at(monitoring, "grafana.admin.existingSecret"), SECRETS.grafanaAdmin);
  });

  it("puts Ollama on the GPU pool when the cluster has one, unless told otherwise", () => {
    const gpu = VALUES.ollama(contextFrom({}));
    assert.strictEqual(at(gpu, "ollama.gpu.enabled"), true);
    assert.strictEqual(at(gpu, "nodeSelector.es1-pool"), "aiml");
    const cpu = VALUES.ollama(contextFrom({ components: { ollama: { gpu: false } } }));
    assert.strictEqual(at(cpu, "ollama.gpu.enabled"), false);
    assert.strictEqual(at(cpu, "nodeSelector.es1-pool"), "infrastructure");
    // An existing cluster may have no GPUs at all: only an explicit gpu: true asks for one.
    assert.strictEqual(at(VALUES.ollama(contextFrom({}, "existing")), "ollama.gpu.enabled"), false);
    const asked = VALUES.ollama(contextFrom({ components: { ollama: { gpu: true } } }, "existing"));
    assert.strictEqual(at(asked, "nodeSelector.es1-pool"), "aiml");
  });

  it("moves every image of every release to the mirror registry, through each chart's own keys", () => {
    const ctx = contextFrom({
      airgap: MIRROR,
      components: { ollama: { models: ["llama3.2:1b", "acme/coder:7b"] } },
    });
    for (const key of RELEASES) {
      const values = VALUES[key](withVolumeBackups(ctx));
      for (const k of IMAGE_KEYS[key]) {
        const v = at(values, k);
        assert.ok(
          typeof v === "string" && v.startsWith(MIRROR.registry),
          `${key} ${k} = ${JSON.stringify(v)}`,
        );
      }
      const left = allStrings(values).filter((s) => PUBLIC_REGISTRIES.test(s));
      assert.deepStrictEqual(left, [], `${key} still names a public registry`);
      const text = JSON.stringify(values);
      if (/[Pp]ullSecrets"/.test(text)) assert.match(text, /mirror-pull/, `${key} drops the pull secret`);
    }
    assert.deepStrictEqual(at(VALUES.ollama(ctx), "ollama.models.pull"), [
      "mirror.example:5000/es1/library/llama3.2:1b",
      "mirror.example:5000/es1/acme/coder:7b",
    ]);
  });

  it("keeps public images when no mirror registry is set", () => {
    const ctx = contextFrom({});
    for (const key of RELEASES) {
      const values = VALUES[key](withVolumeBackups(ctx));
      assert.ok(!JSON.stringify(values).includes("mirror.example"));
      for (const k of IMAGE_KEYS[key]) {
        if (k.endsWith("imageRegistry")) assert.strictEqual(at(values, k), undefined, `${key} ${k}`);
      }
    }
    assert.strictEqual(at(VALUES.airflow(ctx), "defaultAirflowRepository"), "docker.io/apache/airflow");
  });
});

describe("es1:components settings", () => {
  it("switches components off and plans no release for them", () => {
    const s = settingsFrom({
      components: { airflow: { enabled: false }, langfuse: { enabled: false }, ollama: { enabled: false } },
    });
    const planned = plannedReleases(s);
    for (const key of [
      "airflow",
      "langfuse",
      "cert-manager",
      "clickhouse-operator",
      "ollama",
    ] as ReleaseKey[])
      assert.ok(!planned.includes(key), key);
    assert.ok(planned.includes("postgresql") && planned.includes("n8n"));
    const noOperators = plannedReleases(
      settingsFrom({ components: { langfuse: { installOperators: false } } }),
    );
    assert.ok(noOperators.includes("langfuse") && !noOperators.includes("cert-manager"));
  });

  it("protects every release that keeps data in production stacks, and none in dev", () => {
    const prod = settingsFrom({ environment: "prod" });
    const kept = RELEASES.filter((k) => isProtected(k, prod));
    assert.deepStrictEqual(kept.sort(), [
      "airflow",
      "langflow",
      "langfuse",
      "mlflow",
      "monitoring",
      "monitoring-crds",
      "ollama",
      "postgresql",
      "redis",
    ]);
    assert.deepStrictEqual(
      RELEASES.filter((k) => isProtected(k, settingsFrom({}))),
      [],
    );
  });

  it("orders operators and CRDs before the releases that need them", () => {
    const order = plannedReleases(settingsFrom({}));
    const before = (a: ReleaseKey, b: ReleaseKey) =>
      assert.ok(order.indexOf(a) < order.indexOf(b), `${a} must come before ${b}: ${order.join(", ")}`);
    for (const k of [
      "postgresql-operator",
      "redis",
      "monitoring",
      "airflow",
      "mlflow",
      "n8n",
    ] as ReleaseKey[])
      before("monitoring-crds", k);
    before("postgresql-operator", "postgresql");
    for (const app of ["airflow", "mlflow", "n8n", "langflow", "langfuse"] as ReleaseKey[])
      before("postgresql", app);
    before("cert-manager", "clickhouse-operator");
    before("clickhouse-operator", "langfuse");
    // Every release but the backup plugin and Velero, which need es1:backup (test/unit/backup.test.ts).
    assert.deepStrictEqual(
      RELEASES.filter((k) => !order.includes(k)),
      ["postgresql-backup", "velero"],
    );
  });

  it("refuses a component whose store is switched off, naming both keys", () => {
    const problems = configProblems({ components: { postgresql: { enabled: false } } });
    for (const app of ["airflow", "mlflow", "n8n", "langflow", "langfuse"])
      assert.ok(
        problems.some((p) =>
          p.includes(
            `'es1:components.${app}.enabled': ${app} keeps its data in postgresql, which 'es1:components.postgresql.enabled'`,
          ),
        ),
        `${app}: ${problems.join("\n")}`,
      );
  });

  it("refuses bad sizes with the key, the value and what is allowed", () => {
    const problems = configProblems({
      components: {
        redis: { replicas: 2 },
        postgresql: { storage: "lots", resources: { requests: { cpu: "fast" } } },
        n8n: { storage: "5Gi" },
        ollama: { models: ["bad model!"] },
        kafka: {},
      },
    });
    const expect = [
      /'es1:components\.redis\.replicas': 2 is out of range; use 1 to 1/,
      /'es1:components\.postgresql\.storage': "lots" is not a Kubernetes quantity/,
      /'es1:components\.postgresql\.resources\.requests\.cpu': "fast" is not a Kubernetes quantity/,
      /'es1:components\.n8n\.storage': n8n keeps no volume of its own/,
      /'es1:components\.ollama\.models\[0\]': "bad model!" is not a model reference/,
      /'es1:components\.kafka': unknown key; allowed keys of 'es1:components': postgresql, redis/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re}\n${problems.join("\n")}`,
      );
  });

  it("refuses Ollama on a GPU pool a cloud cluster does not have", () => {
    const problems = configProblems({
      cluster: { provider: "gke", project: "p", region: "europe-west4" },
      components: { ollama: { gpu: true } },
    });
    assert.ok(
      problems.some((p) =>
        /'es1:components\.ollama\.gpu'.*'es1:cluster\.nodePools\.aiml' defines none/.test(p),
      ),
      problems.join("\n"),
    );
  });

  it("checks the format of configured keys without repeating them", () => {
    const problems = configProblems(
      { secrets: { airflowFernetKey: "not-a-fernet-key-but-long-enough", langfuseEncryptionKey: "xyz" } },
      ["secrets"],
    );
    assert.ok(problems.some((p) => /'es1:secrets\.airflowFernetKey'.*a Fernet key/.test(p)));
    assert.ok(problems.some((p) => /'es1:secrets\.langfuseEncryptionKey'.*64 lowercase hex digits/.test(p)));
    assert.ok(!problems.join("\n").includes("not-a-fernet-key"), "the message repeats the value");
  });
});

describe("infrastructure charts", () => {
  it("finds every pinned chart, at its pinned version, in the real upstream archives the tests install", async () => {
    const { dir } = await chartSource();
    const s = settingsFrom({ airgap: { charts: dir } });
    const charts = resolveCharts(RELEASES, s.airgap.charts);
    for (const key of RELEASES) {
      const chart = charts[key];
      assert.ok(chart && chart.kind === "mirrored", key);
      const { chart: name, version } = CATALOG[key].chart;
      const meta = execFileSync("tar", ["-xzOf", chart.path, `${name}/Chart.yaml`], { encoding: "utf8" });
      assert.match(meta, new RegExp(`^name: "?${name}"?$`, "m"), key);
      assert.match(meta, new RegExp(`^version: "?${version}"?$`, "m"), key);
    }
  });

  it("names every chart missing from a mirror in one error, before anything is deployed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-empty-mirror-"));
    const s = settingsFrom({ airgap: { charts: dir } });
    assert.throws(
      () => resolveCharts(plannedReleases(s), s.airgap.charts),
      (e: unknown) => {
        assert.ok(e instanceof ConfigErrors);
        assert.strictEqual(e.errors.length, plannedReleases(s).length);
        assert.match(e.message, /'es1:airgap\.charts': chart kube-prometheus-stack 88\.5\.3 is missing/);
        return true;
      },
    );
  });

  it("takes charts from their upstream repositories, or OCI when that is all they publish", () => {
    const charts = resolveCharts(RELEASES, settingsFrom({}).airgap.charts);
    assert.deepStrictEqual(charts.redis, {
      kind: "repo",
      chart: "valkey",
      version: "0.11.0",
      repo: "https://valkey.io/valkey-helm/",
    });
    assert.deepStrictEqual(charts["clickhouse-operator"], {
      kind: "oci",
      ref: "oci://ghcr.io/clickhouse/clickhouse-operator-helm",
      version: "0.0.5",
    });
  });
});

describe("infrastructure component under mocks", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-infra-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const cluster = JSON.stringify({ provider: "existing", kubeconfig });
  const T = {
    release: "kubernetes:helm.sh/v3:Release",
    secret: "kubernetes:core/v1:Secret",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  };

  it("keeps configured credentials out of every Release's values and marks every Secret's data secret", async () => {
    const configured: Record<string, string> = {};
    SECRET_NAMES.forEach((name, i) => {
      configured[name] =
        name === "airflowFernetKey"
          ? `${"A".repeat(42)}${i % 10}=`
          : name === "langfuseEncryptionKey"
            ? "0123456789abcdef".repeat(4)
            : `configured-${name}-${i}-value`;
    });
    const run = await runProgram(
      { "es1:cluster": cluster, "es1:secrets": JSON.stringify(configured) },
      {
        secretKeys: ["es1:secrets"],
      },
    );
    assert.strictEqual(run.byType("random:index/randomPassword:RandomPassword").length, 0);
    for (const rel of run.byType(T.release)) {
      const strings = allStrings(rel.inputs.values);
      for (const value of Object.values(configured))
        assert.ok(!strings.some((s) => s.includes(value)), `${rel.name} values hold a configured credential`);
    }
    for (const s of run.byType(T.secret))
      assert.ok(s.secretInputs.includes("stringData"), `${s.name} data not secret`);
    const broker = run.one(T.secret, SECRETS.airflowBroker).inputs.stringData as Record<string, string>;
    assert.strictEqual(
      broker.connection,
      "redis://airflow:configured-airflowRedisPassword-4-value@es1-redis.es1-infrastructure.svc:6379/0",
    );
  });

  it("generates URL-safe Fernet and hex keys in the formats their consumers require", async () => {
    const run = await runProgram({ "es1:cluster": cluster });
    const airflow = run.one(T.secret, SECRETS.airflowKeys).inputs.stringData as Record<string, string>;
    assert.match(airflow["fernet-key"], /^[A-Za-z0-9_-]{43}=$/);
    const langfuse = run.one(T.secret, SECRETS.langfuseKeys).inputs.stringData as Record<string, string>;
    assert.match(langfuse["encryption-key"], /^[0-9a-f]{64}$/);
  });

  it("creates nothing in the cluster for a switched-off component: no release, Secret, volume or endpoint", async () => {
    const run = await runProgram({
      "es1:cluster": cluster,
      "es1:components": JSON.stringify({
        airflow: { enabled: false },
        mlflow: { enabled: false },
        n8n: { enabled: false },
        langflow: { enabled: false },
        langfuse: { enabled: false },
        ollama: { enabled: false },
        monitoring: { enabled: false },
      }),
    });
    assert.deepStrictEqual(
      run
        .byType(T.release)
        .map((r) => r.name)
        .sort(),
      ["es1-base", "es1-postgresql", "es1-postgresql-operator", "es1-redis"],
    );
    for (const r of run.byType(T.secret)) {
      assert.ok(!/airflow|mlflow|n8n|langflow|langfuse|ollama|grafana|monitoring/.test(r.name), r.name);
    }
    assert.deepStrictEqual(run.byType(T.pvc), []);
    assert.deepStrictEqual(Object.keys(run.outputs.infrastructure.services), ["postgresql", "redis"]);
    // The users and passwords the PostgreSQL and Valkey releases are given are only those of what runs.
    const users = run.one(T.secret, SECRETS.redisUsers).inputs.stringData as Record<string, string>;
    assert.deepStrictEqual(Object.keys(users), ["default"]);
  });

  it("keeps a switched-off component's credentials in state, so its kept data stays readable", async () => {
    const on = await runProgram({ "es1:cluster": cluster });
    const off = await runProgram({
      "es1:cluster": cluster,
      "es1:components": JSON.stringify({ airflow: { enabled: false } }),
    });
    const ids = (run: typeof on) =>
      run.resources.filter((r) => r.type.startsWith("random:")).map((r) => `${r.type}::${r.name}`);
    assert.deepStrictEqual(ids(off).sort(), ids(on).sort());
    assert.ok(ids(off).includes("random:index/randomBytes:RandomBytes::airflow-fernet-key"));
  });

  it("exports where each service is and which Secrets hold what, never a value", async () => {
    const run = await runProgram({ "es1:cluster": cluster });
    const ep = run.outputs.infrastructure;
    assert.deepStrictEqual(ep.services.postgresql, {
      host: "es1-postgresql-rw.es1-infrastructure.svc",
      port: 5432,
    });
    assert.deepStrictEqual(ep.services.langfuse, {
      host: "es1-langfuse-web.es1-infrastructure.svc",
      port: 3000,
    });
    assert.deepStrictEqual(ep.secrets, {
      postgresqlSuperuser: "es1-postgresql-superuser",
      redisUsers: "es1-redis-users",
      grafanaAdmin: "es1-grafana-admin",
    });
  });
});
