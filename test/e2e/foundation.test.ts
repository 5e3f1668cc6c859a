import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { OFFLINE_ENV, toolsBinDir } from "../../automation/workspace";
import { PROJECT_ROOT } from "../../lib/paths";
import { eventually, getObject, helm, kubectl, mustGet } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e";
const NS = "es1-infrastructure";

interface Secret {
  type: string;
  data: Record<string, string>;
}

/** Runs the README's deploy command against the e2e stack, as a user would. */
function deployCommand(
  env: Record<string, string>,
  ...args: string[]
): { status: number | null; output: string } {
  const r = spawnSync("npm", ["run", "-s", "deploy", "--", "--stack", STACK, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe("ES1 on the local cluster: deploy, converge, destroy", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let env: Record<string, string>;

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      // Every component is installed by the infrastructure tests; here PostgreSQL carries the credential.
      ...componentsOnly(["postgresql"]),
    }));
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  it("deploys with the README's deploy command", function () {
    const r = deployCommand(env);
    assert.strictEqual(r.status, 0, r.output);
  });

  it("leaves namespace, generated credential, release and chart objects in the cluster", function () {
    const ns = getObject<{ metadata: { labels: Record<string, string> } }>(kubeconfig, "namespace", NS);
    assert.ok(ns, "namespace es1-infrastructure exists");
    assert.strictEqual(ns.metadata.labels["es1-role"], "infrastructure");

    const secret = getObject<Secret>(kubeconfig, "-n", NS, "secret", "es1-postgresql-superuser");
    assert.ok(secret, "the superuser Secret exists");
    assert.strictEqual(secret.type, "kubernetes.io/basic-auth");
    const password = Buffer.from(secret.data.password, "base64").toString();
    assert.match(password, /^[A-Za-z0-9]{32}$/);
    assert.strictEqual(Buffer.from(secret.data.username, "base64").toString(), "postgres");

    const releases = JSON.parse(helm(kubeconfig, "list", "-n", NS, "-o", "json")) as {
      name: string;
      status: string;
    }[];
    assert.deepStrictEqual(releases.map((r) => [r.name, r.status]).sort(), [
      ["es1-base", "deployed"],
      ["es1-postgresql", "deployed"],
      ["es1-postgresql-operator", "deployed"],
    ]);
    for (const pc of ["es1-infrastructure", "es1-platform"])
      assert.ok(getObject(kubeconfig, "priorityclass", pc), pc);
    assert.ok(getObject(kubeconfig, "-n", NS, "limitrange", "es1-defaults"));
    const record = getObject<{ data: Record<string, string> }>(
      kubeconfig,
      "-n",
      NS,
      "configmap",
      "es1-install",
    );
    assert.strictEqual(record?.data.stack, STACK);

    // Helm keeps values and manifests in its own Secrets: the password must be in neither.
    for (const { name } of releases) {
      const values = helm(kubeconfig, "get", "values", name, "-n", NS, "--all", "-o", "json");
      const manifest = helm(kubeconfig, "get", "manifest", name, "-n", NS);
      assert.ok(!values.includes(password) && !manifest.includes(password), `password leaked into ${name}`);
    }
  });

  it("has nothing to do on a second run (preview --expect-no-changes, then up)", async function () {
    const preview = deployCommand(env, "--preview", "--expect-no-changes");
    assert.strictEqual(preview.status, 0, preview.output);
    // The Pulumi CLI running the project as a program sees the same: no changes.
    const cli = spawnSync(
      "pulumi",
      ["preview", "--stack", STACK, "--expect-no-changes", "--non-interactive"],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          ...OFFLINE_ENV,
          ...env,
          PATH: `${toolsBinDir()}${path.delimiter}${process.env.PATH}`,
        },
        encoding: "utf8",
      },
    );
    assert.strictEqual(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
    const up = await stack.up();
    const changes = up.summary.resourceChanges ?? {};
    process.stderr.write(`      second up: ${JSON.stringify(changes)}\n`);
    assert.deepStrictEqual(
      Object.keys(changes),
      ["same"],
      `second up changed something: ${JSON.stringify(changes)}`,
    );
  });

  it("keeps the generated password across updates", function () {
    const before = mustGet<Secret>(kubeconfig, "-n", NS, "secret", "es1-postgresql-superuser").data.password;
    const r = deployCommand(env);
    assert.strictEqual(r.status, 0, r.output);
    const after = mustGet<Secret>(kubeconfig, "-n", NS, "secret", "es1-postgresql-superuser").data.password;
    assert.strictEqual(after, before);
  });

  it("removes everything it made on destroy", async function () {
    const r = await stack.destroy();
    assert.strictEqual(r.summary.result, "succeeded");
    await eventually("namespace es1-infrastructure is gone", () => !getObject(kubeconfig, "namespace", NS));
    for (const pc of ["es1-infrastructure", "es1-platform"])
      assert.ok(!getObject(kubeconfig, "priorityclass", pc), pc);
    assert.match(kubectl(kubeconfig, "get", "namespaces", "-o", "name"), /namespace\/default/);
  });
});
