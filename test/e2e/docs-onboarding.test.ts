// docs/customers.md's onboarding path, run block by block as a reader runs it: one bash shell state
// carried from block to block, from the checkout, with the doc's own commands. The test's stack,
// backend and cluster are its own: after the doc's step 0 (whose values are checked against what
// `npm run deploy` uses) it points PULUMI_BACKEND_URL, the passphrase and STACK at them, and
// HOME at a temporary directory, so the path's key pair and license never touch the real ones.
// On the way it checks the outputs the doc shows and that es1-redis-users is updated in place.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { LOCAL_STACK_PASSPHRASE } from "../../automation/workspace";
import { PROJECT_ROOT } from "../../lib/paths";
import { FencedBlock, testBlocks } from "../markdown";
import { E2E_CLUSTER, getObject, mustGet } from "./kube";
import { componentsOnly, discardStack, E2eStack, openE2eStack } from "./stack";

const DOC = "docs/customers.md";
const STACK = "e2e-docs";
const CUSTOMER_FILES = [
  path.join(PROJECT_ROOT, "customers", "acme.yaml"),
  path.join(PROJECT_ROOT, "customers", "acme"),
];
const REPLACING_OPS = ["replace", "create-replacement", "delete-replaced", "discard-replaced"];

interface BlockRun {
  stdout: string;
  stderr: string;
}

/** Every Secret operation an `es1 up` summary reports (`    kubernetes:core/v1:Secret: update 1, create 3`). */
function secretOps(stdout: string): string[] {
  return [...stdout.matchAll(/^\s+kubernetes:core\/v1:Secret: (.*)$/gm)].flatMap((m) =>
    m[1].split(", ").map((op) => op.split(" ")[0]),
  );
}

/** The `es1 up` runs of a block changed Secrets, and replaced none. */
function assertNothingReplaced(out: BlockRun): void {
  const ops = secretOps(out.stdout);
  assert.ok(ops.length > 0, `es1 up reports the Secrets it changed:\n${out.stdout}`);
  for (const op of ops) assert.ok(!REPLACING_OPS.includes(op), `a Secret was replaced:\n${out.stdout}`);
}

/** The last JSON object a block printed (the output of its last command). */
function lastJson(stdout: string): unknown {
  const start = stdout.lastIndexOf("\n{\n");
  return JSON.parse(stdout.slice(start + 1));
}

describe("docs/customers.md: the onboarding path, command by command", function () {
  // Each block needs the ones before it.
  this.bail(true);
  const blocks = testBlocks(DOC, "local-path");
  let e: E2eStack | undefined;
  let home: string;
  let shellState: string;
  let usersUid: string;

  const usersSecret = () =>
    mustGet<{ metadata: { uid: string } }>(
      e?.kubeconfig ?? "",
      "-n",
      "es1-infrastructure",
      "secret",
      "es1-redis-users",
    );

  /** Runs a block in bash with the shell state the blocks before it left, and keeps its own. */
  function run(block: FencedBlock): BlockRun {
    const script = [
      "set -euo pipefail",
      `source ${JSON.stringify(shellState)}`,
      `cd ${JSON.stringify(PROJECT_ROOT)}`,
      block.text,
      `export -p > ${JSON.stringify(shellState)}`,
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env: baseEnv(), timeout: 900_000 });
    assert.strictEqual(
      r.status,
      0,
      `${DOC}:${block.line} (${block.heading}) failed:\n${block.text}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
    return { stdout: r.stdout, stderr: r.stderr };
  }

  /** The environment the first block starts from: the test's, with HOME of its own. */
  function baseEnv(): NodeJS.ProcessEnv {
    const realHome = os.homedir();
    return {
      ...process.env,
      HOME: home,
      // Where the tools, the local clusters and Pulumi's plugins are: the real ones.
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME || path.join(realHome, ".cache"),
      PULUMI_HOME: process.env.PULUMI_HOME || path.join(realHome, ".pulumi"),
      // `npm run cluster -- kubeconfig` of step 0 names this test's cluster.
      ES1_CLUSTER_NAME: E2E_CLUSTER,
    };
  }

  /** Values of the shell state, as the next block would see them. */
  function shellValues(...exprs: string[]): string[] {
    const r = spawnSync(
      "bash",
      ["-c", `source ${JSON.stringify(shellState)}; printf '%s\\n' ${exprs.join(" ")}`],
      {
        encoding: "utf8",
        env: baseEnv(),
      },
    );
    return r.stdout.split("\n").slice(0, exprs.length);
  }

  /** The engine's own count of the last `updates` updates holds no replacement of any resource. */
  async function assertEngineReplacedNothing(updates: number, when: string): Promise<void> {
    for (const update of (await e?.stack.history(updates)) ?? [])
      assert.deepStrictEqual(
        Object.keys(update.resourceChanges ?? {}).filter((op) => REPLACING_OPS.includes(op)),
        [],
        `the engine replaced resources ${when}: ${JSON.stringify(update.resourceChanges)}`,
      );
  }

  /** What the doc's blocks under a step must show; keyed by the start of the step's heading. */
  const checks: Record<string, (out: BlockRun, block: FencedBlock) => Promise<void> | void> = {
    "0.": () => {
      // The exports are those `npm run deploy` uses for the local stack, on the PATH the doc sets.
      const [backend, passphrase, kubeconfig, stack, es1, pulumi] = shellValues(
        '"$PULUMI_BACKEND_URL"',
        '"$PULUMI_CONFIG_PASSPHRASE"',
        '"$KUBECONFIG"',
        '"$STACK"',
        '"$(command -v es1)"',
        '"$(command -v pulumi)"',
      );
      assert.strictEqual(backend, `file://${PROJECT_ROOT}/.pulumi-state`);
      assert.strictEqual(passphrase, LOCAL_STACK_PASSPHRASE);
      assert.strictEqual(kubeconfig, e?.kubeconfig);
      assert.strictEqual(stack, "local");
      assert.strictEqual(es1, path.join(PROJECT_ROOT, "scripts", "es1"));
      assert.match(pulumi, /\/es1\/tools\/bin\/pulumi$/);
      // From here on, this test's stack and backend instead of the local stack's.
      fs.appendFileSync(
        shellState,
        Object.entries({ ...e?.env, STACK })
          .map(([k, v]) => `export ${k}=${JSON.stringify(v)}\n`)
          .join(""),
      );
    },
    "4.": async (out, block) => {
      if (block.text.includes("es1 preview")) {
        // The engine's plan for the deploy: es1-redis-users gains acme's key by an update.
        usersUid = usersSecret().metadata.uid;
        const ops: string[] = [];
        await e?.stack.preview({
          onEvent: (ev: EngineEvent) => {
            const m = ev.resourcePreEvent?.metadata;
            if (m?.urn.endsWith("::es1-redis-users")) ops.push(m.op);
          },
        });
        assert.deepStrictEqual(ops, ["update"]);
        return;
      }
      assertNothingReplaced(out);
      await assertEngineReplacedNothing(1, "when acme was added");
      assert.strictEqual(
        usersSecret().metadata.uid,
        usersUid,
        "es1-redis-users is the same object, updated in place",
      );
      assert.match(
        out.stderr + out.stdout,
        /autogen is not deployed: license acme-\d{8}-[0-9a-f]{6} does not include agents\.autogen/,
      );
    },
    "5.": (out) => {
      assert.match(
        out.stdout,
        /\bes1-platform\s+acme-platform\s+\d+\s.*\bdeployed\s+es1-platform-\S+\s+1\.0\.0\b/,
      );
      assert.match(out.stdout, /permissions: ~acme:\* &acme:\* \+@all -@dangerous -@admin -scan -randomkey/);
      // The customers output is the one the doc shows, but for the license id issued today.
      const [sample] = testBlocks(DOC, "customers-output");
      const anyId = (text: string) => text.replace(/acme-\d{8}-[0-9a-f]{6}/g, "acme-<id>");
      assert.deepStrictEqual(
        JSON.parse(anyId(JSON.stringify(lastJson(out.stdout)))),
        JSON.parse(anyId(sample.text)),
      );
    },
    "6.": (out) => {
      // Acme's release alone, upgraded; helm list shows the new version.
      assert.match(out.stdout, /^\s+kubernetes:helm\.sh\/v3:Release: update 1$/m);
      assert.match(out.stdout, /\bdeployed\s+es1-platform-\S+\s+1\.1\.0\b/);
      const images = [...out.stdout.matchAll(/ghcr\.io\/[^\s,]+/g)].map((m) => m[0]);
      assert.ok(images.length > 0 && images.every((i) => i.endsWith(":1.1.0")), images.join("\n"));
    },
    "7.": async (out, block) => {
      if (block.text.startsWith("rm ")) {
        for (const f of CUSTOMER_FILES) assert.ok(!fs.existsSync(f), `${f} is removed`);
        return;
      }
      assertNothingReplaced(out);
      // Its three updates: platform off, data purged, customer out.
      await assertEngineReplacedNothing(3, "while acme was removed");
      assert.strictEqual(getObject(e?.kubeconfig ?? "", "namespace", "acme-platform"), undefined);
      assert.strictEqual(usersSecret().metadata.uid, usersUid, "es1-redis-users outlived acme's removal");
      const users = mustGet<{ data: Record<string, string> }>(
        e?.kubeconfig ?? "",
        "-n",
        "es1-infrastructure",
        "secret",
        "es1-redis-users",
      );
      assert.ok(!("acme" in users.data), "acme's Valkey user is gone from es1-redis-users");
    },
  };

  before(async function () {
    assert.ok(blocks.length >= 8, `${DOC} has the blocks of its path (test:local-path)`);
    for (const f of CUSTOMER_FILES)
      assert.ok(!fs.existsSync(f), `${f} exists; the path writes it, so this test will not run over it`);
    home = fs.mkdtempSync(path.join(os.tmpdir(), "es1-docs-home-"));
    shellState = path.join(home, ".path-state.sh");
    fs.writeFileSync(shellState, "");
    // What `npm run deploy` leaves before the path starts: the shared stores a customer needs.
    e = await openE2eStack(STACK, componentsOnly(["postgresql", "redis"]));
    await e.stack.up({ onOutput: (s) => process.stderr.write(s) });
  });

  after(async function () {
    await discardStack(STACK, e?.stack, e?.backend);
    for (const f of CUSTOMER_FILES) fs.rmSync(f, { recursive: true, force: true });
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  for (const block of blocks) {
    it(`${block.heading} (${DOC}:${block.line}): ${block.text.split("\n")[0]}`, async function () {
      const out = run(block);
      const step = Object.keys(checks).find((k) => block.heading.startsWith(k));
      if (step) await checks[step](out, block);
    });
  }
});
