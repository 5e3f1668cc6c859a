// The `es1` command as a release pipeline runs it: spawned, with the backend and passphrase in the
// environment, its stdout parsed as JSON and its exit code checked, against the local cluster.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { stackOperation } from "../../automation/operations";
import { OperationReport } from "../../automation/report";
import { RenderIndexEntry } from "../../automation/render";
import { SecretsInitReport } from "../../automation/secrets";
import { PROJECT_ROOT } from "../../lib/paths";
import { E2E_CLUSTER, eventually, getObject, mustGet } from "./kube";
import { SECRET_NAMES } from "../../config/credentials";
import { chartSource } from "../../automation/chart-source";
import { CATALOG } from "../../infrastructure/catalog";
import { Es1Run, runEs1, runEs1Json } from "./es1-cli";
import { componentsOnly, openE2eStack } from "./stack";

/** The pipeline tests are about the es1 command: PostgreSQL alone keeps them quick. */
const ONLY_POSTGRESQL = componentsOnly(["postgresql"]);
const RELEASES = ["es1-base", "es1-postgresql", "es1-postgresql-operator"];

const STACK = "pipeline";
const NS = "es1-infrastructure";
const STACK_FILE = path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`);
/** A second stack, previewed alongside the first from this process. */
const OTHER = `${STACK}-b`;

type Run = Es1Run;

describe("es1 command in a release pipeline (local cluster)", function () {
  let kubeconfig: string;
  let backend: string;
  let work: string;
  let env: Record<string, string>;
  let stack: Stack;
  let charts: string;

  /** Runs `es1 ...` as a CI job would: another directory, stdin not a terminal. */
  const es1 = (...args: string[]): Run => runEs1(work, env, ...args);
  const es1Json = <T = OperationReport>(expectedExit: number, ...args: string[]): T =>
    runEs1Json<T>(work, env, expectedExit, ...args);

  function superuserPassword(): string {
    const s = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "-n",
      NS,
      "secret",
      "es1-postgresql-superuser",
    );
    return Buffer.from(s.data.password, "base64").toString();
  }

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, ONLY_POSTGRESQL));
    charts = (await chartSource()).dir;
    work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-pipeline-job-"));
  });

  after(async function () {
    if (stack) {
      await stack.cancel().catch(() => undefined);
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(STACK).catch(() => undefined);
    }
    if (stack) await stack.workspace.removeStack(OTHER).catch(() => undefined);
    fs.rmSync(STACK_FILE, { force: true });
    fs.rmSync(path.join(PROJECT_ROOT, `Pulumi.${OTHER}.yaml`), { force: true });
    for (const dir of [backend, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("previews with --json: one document on stdout, creates counted per type; --set is not stored", function () {
    const before = fs.readFileSync(STACK_FILE);
    const r = es1("preview", "--stack", STACK, "--set", "sizing=minimal", "--json");
    assert.strictEqual(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as OperationReport;
    assert.deepStrictEqual(
      [doc.operation, doc.stack, doc.status, doc.exitCode],
      ["preview", STACK, "succeeded", 0],
    );
    assert.ok((doc.summary.create ?? 0) >= 5, JSON.stringify(doc.summary));
    assert.deepStrictEqual(doc.changes["kubernetes:helm.sh/v3:Release"], { create: RELEASES.length });
    assert.deepStrictEqual(doc.changes["kubernetes:core/v1:Namespace"], { create: 1 });
    assert.deepStrictEqual([doc.failed, doc.errors], [[], []]);
    assert.match(r.stderr, /Previewing update/, "human progress goes to stderr");
    assert.deepStrictEqual(fs.readFileSync(STACK_FILE), before, "preview changed the stack's config");
  });

  it("exits 2 for a bad flag, a stack that does not exist, and up without --yes", function () {
    const bad = es1("up", "--stack", STACK, "--bogus");
    assert.strictEqual(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /unknown option '--bogus'/);
    assert.strictEqual(bad.stdout, "");

    const missing = `missing-${process.pid}`;
    const doc = es1Json(2, "outputs", "--stack", missing);
    assert.match(doc.errors.join("\n"), new RegExp(`no stack named '${missing}' found`));
    assert.ok(
      !fs.existsSync(path.join(PROJECT_ROOT, `Pulumi.${missing}.yaml`)),
      "outputs created a stack file",
    );
    assert.strictEqual(
      es1("outputs", "--stack", missing).status,
      2,
      "outputs must not have created the stack",
    );

    const noYes = es1("up", "--stack", STACK);
    assert.strictEqual(noYes.status, 2);
    assert.match(noYes.stderr, /refusing to deploy without --yes/);
  });

  it("exits 2 naming the key for bad config given with --set, and keeps the stack file as it was", function () {
    const before = fs.readFileSync(STACK_FILE, "utf8");
    const doc = es1Json(2, "preview", "--stack", STACK, "--set", "es1:environment=staging");
    assert.strictEqual(doc.status, "failed");
    assert.match(
      doc.errors.join("\n"),
      /Invalid stack configuration 'es1:environment': "staging" is not allowed/,
    );
    assert.strictEqual(fs.readFileSync(STACK_FILE, "utf8"), before);
  });

  it("generates the stack's credentials into its config once, printing none", function () {
    // Every credential the program knows, those of switched-off components included: they are
    // kept for when a component comes back.
    const first = es1Json<SecretsInitReport>(0, "secrets", "init", "--stack", STACK);
    assert.deepStrictEqual([first.created, first.kept], [SECRET_NAMES, []]);
    const file = fs.readFileSync(STACK_FILE, "utf8");
    assert.match(file, /postgresqlSuperuserPassword:\n\s+secure: v1:/);
    assert.match(file, /airflowFernetKey:\n\s+secure: v1:/);
    const second = es1Json<SecretsInitReport>(0, "secrets", "init", "--stack", STACK);
    assert.deepStrictEqual([second.created, second.kept], [[], SECRET_NAMES]);
  });

  it("deploys with up --yes --json; outputs are there and no secret is; --set is stored", async function () {
    const r = es1("up", "--stack", STACK, "--set", "sizing=minimal", "--yes", "--json");
    assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const doc = JSON.parse(r.stdout) as OperationReport;
    assert.deepStrictEqual([doc.operation, doc.status], ["up", "succeeded"]);
    assert.ok((doc.summary.create ?? 0) >= 5, JSON.stringify(doc.summary));
    assert.deepStrictEqual(doc.changes["kubernetes:helm.sh/v3:Release"], { create: RELEASES.length });
    assert.ok(doc.durationSeconds > 0);
    assert.deepStrictEqual(doc.outputs.infrastructure, {
      namespace: NS,
      services: { postgresql: { host: `es1-postgresql-rw.${NS}.svc`, port: 5432 } },
      secrets: { postgresqlSuperuser: "es1-postgresql-superuser" },
    });
    assert.strictEqual(doc.outputs.cloud, "existing");
    assert.match(fs.readFileSync(STACK_FILE, "utf8"), /es1:sizing: minimal/);

    const password = superuserPassword();
    // The credential secrets init generated is the one deployed, and it was never printed.
    assert.strictEqual(
      (await stack.getConfig("es1:secrets.postgresqlSuperuserPassword", true)).value,
      password,
    );
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), "password printed by up");
  });

  it("has nothing to do afterwards: preview --expect-no-changes exits 0, a change exits 4", async function () {
    const same = es1("preview", "--stack", STACK, "--expect-no-changes");
    assert.strictEqual(same.status, 0, `${same.stdout}\n${same.stderr}`);
    assert.match(same.stdout, /^es1 preview pipeline: succeeded/);

    const changed = es1Json(
      4,
      "preview",
      "--stack",
      STACK,
      "--set",
      "es1:sizing=default",
      "--expect-no-changes",
    );
    // The profile shows in es1-base's install record and in the PostgreSQL cluster's size.
    assert.deepStrictEqual(changed.changes["kubernetes:helm.sh/v3:Release"], { update: 2, same: 1 });
    assert.match(changed.errors.join("\n"), /--expect-no-changes/);
  });

  it("drives two stacks concurrently from one process through the library", async function () {
    const common = { backendUrl: env.PULUMI_BACKEND_URL, passphrase: env.PULUMI_CONFIG_PASSPHRASE };
    const [deployed, fresh] = await Promise.all([
      stackOperation({ ...common, stackName: STACK, operation: "preview" }),
      stackOperation({
        ...common,
        stackName: OTHER,
        operation: "preview",
        settings: [
          { key: "es1:cluster.kubeconfig", value: kubeconfig },
          { key: "es1:cluster.context", value: `kwok-${E2E_CLUSTER}` },
          { key: "es1:airgap.charts", value: charts },
          ...Object.entries(ONLY_POSTGRESQL).map(([key, value]) => ({ key, value })),
        ],
      }),
    ]);
    assert.deepStrictEqual(
      [deployed.exitCode, Object.keys(deployed.summary)],
      [0, ["same"]],
      deployed.errors.join("\n"),
    );
    assert.strictEqual(fresh.exitCode, 0, fresh.errors.join("\n"));
    assert.deepStrictEqual(fresh.changes["kubernetes:helm.sh/v3:Release"], { create: RELEASES.length });
  });

  it("prints outputs with --json and refreshes without drift", function () {
    const out = es1Json(0, "outputs", "--stack", STACK);
    assert.deepStrictEqual([out.operation, out.exitCode, out.summary, out.changes], ["outputs", 0, {}, {}]);
    assert.deepStrictEqual(Object.keys(out.outputs).sort(), [
      "access",
      "cloud",
      "customers",
      "environment",
      "infrastructure",
      "ingressClass",
      "platformCluster",
      "storageClass",
      "urls",
    ]);
    // The contract for customer-only stacks carries a kubeconfig and passwords: masked.
    assert.strictEqual(out.outputs.platformCluster, "[secret]");
    assert.ok(!JSON.stringify(out).includes(superuserPassword()));

    const refresh = es1Json(0, "refresh", "--stack", STACK, "--expect-no-changes");
    assert.strictEqual(refresh.status, "succeeded");
    assert.deepStrictEqual(Object.keys(refresh.summary), ["same"]);
  });

  it("renders each release's chart and values with no secret", function () {
    const out = path.join(work, "rendered");
    const r = es1("render", "--stack", STACK, "--out", out);
    assert.strictEqual(r.status, 0, r.stderr);
    const index = JSON.parse(fs.readFileSync(path.join(out, "index.json"), "utf8")) as {
      stack: string;
      releases: RenderIndexEntry[];
    };
    assert.strictEqual(index.stack, STACK);
    assert.deepStrictEqual(index.releases.map((x) => x.name).sort(), RELEASES);
    const base = index.releases.find((x) => x.name === "es1-base");
    assert.deepStrictEqual(
      [base?.namespace, base?.chart, base?.file, base?.operation],
      [NS, "./infrastructure/charts/es1-base", "es1-base.yaml", "same"],
    );
    const pg = index.releases.find((x) => x.name === "es1-postgresql");
    const { chart, version } = CATALOG.postgresql.chart;
    assert.strictEqual(pg?.chart, path.join(charts, `${chart}-${version}.tgz`));
    for (const x of index.releases) {
      const rendered = fs.readFileSync(path.join(out, x.file), "utf8");
      assert.ok(!rendered.includes(superuserPassword()), `the superuser password is in ${x.file}`);
    }
    const text = fs.readFileSync(path.join(out, "es1-base.yaml"), "utf8");
    assert.match(text, /^name: es1-base$/m);
    assert.match(text, /^namespace: es1-infrastructure$/m);
    assert.match(text, /^version: "0\.1\.0"$/m);
    assert.match(text, /^values:\n {2}es1ChartChecksum: "[0-9a-f]{64}"$/m);
    assert.match(text, /^ {4}stack: pipeline$/m);
    assert.ok(!text.includes(superuserPassword()), "the superuser password is in the rendered values");
  });

  it("exits 3 while another update holds the stack's lock", function () {
    const lockDir = path.join(backend, ".pulumi", "locks", "organization", "es1-platform", STACK);
    fs.mkdirSync(lockDir, { recursive: true });
    const lock = path.join(lockDir, "held-by-another-job.json");
    fs.writeFileSync(
      lock,
      JSON.stringify({
        pid: 4242,
        username: "ci",
        hostname: "runner-2",
        timestamp: new Date().toISOString(),
      }),
    );
    try {
      const doc = es1Json(3, "up", "--stack", STACK, "--yes");
      assert.match(doc.errors.join("\n"), /the stack is currently locked by 1 lock/);
      assert.strictEqual(es1("destroy", "--stack", STACK, "--yes").status, 3);
    } finally {
      fs.rmSync(lock, { force: true });
    }
  });

  it("destroys with destroy --yes --json; the objects are gone", async function () {
    const doc = es1Json(0, "destroy", "--stack", STACK, "--yes");
    assert.strictEqual(doc.status, "succeeded");
    assert.ok((doc.summary.delete ?? 0) >= 5, JSON.stringify(doc.summary));
    assert.deepStrictEqual(doc.outputs, {});
    await eventually("namespace es1-infrastructure is gone", () => !getObject(kubeconfig, "namespace", NS));
    assert.ok(!getObject(kubeconfig, "priorityclass", "es1-infrastructure"));
  });
});
