// Day-2 operations a pipeline runs on a deployed stack, through the `es1` command as a CI job runs
// it: preview and render leave config alone, credentials are adopted and rotated without losing
// data, a downgrade needs asking for, and one customer's license holds back only that customer.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { SECRET_NAMES } from "../../config/credentials";
import { OperationReport } from "../../automation/report";
import { SecretsRotateReport } from "../../automation/rotate";
import { SecretsInitReport } from "../../automation/secrets";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { e2eLicense, runEs1, runEs1Json, testKeyConfig } from "./es1-cli";
import { helm, mustGet } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-day2";
const STACK_FILE = path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`);
const KEY = generateKeyPair("es1-day2");
const CUSTOMERS = ["beam", "polygraf"];
const NS = "es1-infrastructure";

const license = (customer: string, expiresAt?: string) =>
  e2eLicense(KEY, customer, { expiresAt, features: ["agents.router"] });

interface SecretObject {
  metadata: { name: string; namespace: string };
  data?: Record<string, string>;
}

interface Workload {
  metadata: { name: string };
  spec: { template: { metadata?: { annotations?: Record<string, string> } } };
}

describe("day-2 operations on a deployed stack (local cluster)", function () {
  let stack: Stack;
  let kubeconfig: string;
  let backend: string;
  let env: Record<string, string>;
  let work: string;

  const es1 = (...args: string[]) => runEs1(work, env, ...args);
  const es1Json = <T = OperationReport>(expectedExit: number, ...args: string[]): T =>
    runEs1Json<T>(work, env, expectedExit, ...args);

  /** Every Secret Pulumi wrote (not Helm's release records), by namespace/name, with its data. */
  function secrets(): Map<string, Record<string, string>> {
    const namespaces = [NS, ...CUSTOMERS.map((c) => `${c}-platform`)];
    const out = new Map<string, Record<string, string>>();
    for (const ns of namespaces) {
      // Helm's release records are large and not Pulumi's: left out of the listing.
      const list = mustGet<{ items: SecretObject[] }>(
        kubeconfig,
        "-n",
        ns,
        "secrets",
        "--field-selector=type!=helm.sh/release.v1",
      );
      for (const s of list.items) out.set(`${ns}/${s.metadata.name}`, s.data ?? {});
    }
    return out;
  }

  /** Every container image of a customer's platform Deployments. */
  const images = (customer: string): string[] =>
    mustGet<{ items: { spec: { template: { spec: { containers: { image: string }[] } } } }[] }>(
      kubeconfig,
      "-n",
      `${customer}-platform`,
      "deployments",
    ).items.flatMap((d) => d.spec.template.spec.containers.map((c) => c.image));

  const revision = (customer: string): number =>
    Number(
      (
        JSON.parse(helm(kubeconfig, "list", "-n", `${customer}-platform`, "-o", "json")) as {
          revision: string;
        }[]
      )[0].revision,
    );

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      ...componentsOnly(["postgresql", "redis"]),
      "es1:platformTimeoutSeconds": "45",
      ...testKeyConfig(KEY),
    }));
    for (const c of CUSTOMERS) {
      await stack.setConfig(`es1:customers.${c}.enabled`, { value: "true" }, true);
      await stack.setConfig(`es1:licenses.${c}`, { value: license(c), secret: true }, true);
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-day2-job-"));
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(`      deployed in ${Math.round((Date.now() - t0) / 1000)}s\n`);
    assert.strictEqual(up.summary.result, "succeeded");
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("previews and renders with --set and --platform-version, leaving Pulumi.<stack>.yaml byte-identical", function () {
    const before = fs.readFileSync(STACK_FILE);
    const sized = es1Json(0, "preview", "--stack", STACK, "--set", "sizing=default");
    // The setting took effect: the profile changes es1-base and the PostgreSQL cluster.
    assert.ok(
      (sized.changes["kubernetes:helm.sh/v3:Release"]?.update ?? 0) >= 2,
      JSON.stringify(sized.changes),
    );
    const upgrade = es1Json(
      0,
      "preview",
      "--stack",
      STACK,
      "--customer",
      "beam",
      "--platform-version",
      "1.1.0",
    );
    assert.strictEqual(
      upgrade.changes["kubernetes:helm.sh/v3:Release"]?.update,
      1,
      JSON.stringify(upgrade.changes),
    );
    const out = path.join(work, "rendered");
    const rendered = es1("render", "--stack", STACK, "--out", out, "--set", "sizing=default");
    assert.strictEqual(rendered.status, 0, rendered.stderr);
    assert.deepStrictEqual(
      fs.readFileSync(STACK_FILE),
      before,
      "preview or render changed the stack's config",
    );
    // Nothing was stored: the deployed stack has nothing to do.
    es1Json(0, "preview", "--stack", STACK, "--expect-no-changes");
  });

  it("adopts every credential into config with secrets init: no Secret changes, a second up has nothing to do", function () {
    const before = secrets();
    const init = es1Json<SecretsInitReport>(0, "secrets", "init", "--stack", STACK);
    // Every credential is generated into the state, those of switched-off components included.
    assert.deepStrictEqual([init.adopted, init.created, init.kept], [SECRET_NAMES, [], []]);

    const up = es1Json(0, "up", "--stack", STACK, "--yes");
    for (const [type, ops] of Object.entries(up.changes)) {
      // The generated values leave the state (config holds them now); nothing else changes.
      const changed = Object.keys(ops).filter((op) => op !== "same");
      if (type.startsWith("random:")) assert.deepStrictEqual(changed, ["delete"], type);
      else if (type !== "pulumi:pulumi:Stack")
        assert.deepStrictEqual(changed, [], `${type}: ${JSON.stringify(ops)}`);
    }
    assert.deepStrictEqual(secrets(), before, "a Secret's value changed");
    const again = es1Json(0, "up", "--stack", STACK, "--yes", "--expect-no-changes");
    assert.deepStrictEqual(Object.keys(again.summary), ["same"]);
  });

  it("rotates one password: only its Secret changes, its readers restart, nothing is left to do", function () {
    const before = secrets();
    const r = es1Json<SecretsRotateReport>(
      0,
      "secrets",
      "rotate",
      "--stack",
      STACK,
      "redisDefaultPassword",
      "--yes",
    );
    assert.deepStrictEqual(r.secrets, [`${NS}/es1-redis-users`]);
    assert.ok(r.restarted.length > 0, "no reader restarted");
    const after = secrets();
    for (const [name, data] of before) {
      if (name !== `${NS}/es1-redis-users`) assert.deepStrictEqual(after.get(name), data, `${name} changed`);
    }
    const users = {
      old: before.get(`${NS}/es1-redis-users`) ?? {},
      now: after.get(`${NS}/es1-redis-users`) ?? {},
    };
    assert.notStrictEqual(users.now.default, users.old.default, "the default password is the same");
    for (const k of Object.keys(users.old).filter((k) => k !== "default"))
      assert.strictEqual(users.now[k], users.old[k], `Valkey user ${k} changed`);
    // Each reader's pod template carries the restart stamp.
    for (const w of r.restarted) {
      const [kind, ref] = w.split(" ");
      const [ns, name] = ref.split("/");
      const obj = mustGet<Workload>(kubeconfig, "-n", ns, kind.toLowerCase(), name);
      assert.ok(
        obj.spec.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"],
        `${w} not restarted`,
      );
    }
    es1Json(0, "preview", "--stack", STACK, "--expect-no-changes");
    // Data keys are never rotated.
    const refused = es1Json<SecretsRotateReport>(
      2,
      "secrets",
      "rotate",
      "--stack",
      STACK,
      "airflowFernetKey",
      "--yes",
    );
    assert.match(refused.errors.join("\n"), /airflowFernetKey is a data key/);
  });

  it("refuses a downgrade at preview and up, naming both versions; --allow-downgrade performs it", function () {
    const upgrade = ["--stack", STACK, "--customer", "beam", "--platform-version"];
    es1Json(0, "up", ...upgrade, "1.1.0", "--yes");
    const before = fs.readFileSync(STACK_FILE);
    const preview = es1Json(2, "preview", ...upgrade, "1.0.0");
    const refusal =
      /Invalid stack configuration 'es1:customers\.beam\.platformVersion': customer 'beam' would go from platform version 1\.1\.0 \(deployed\) down to 1\.0\.0/;
    assert.match(preview.errors.join("\n"), refusal);
    const up = es1Json(2, "up", ...upgrade, "1.0.0", "--yes");
    assert.match(up.errors.join("\n"), refusal);
    assert.deepStrictEqual(
      fs.readFileSync(STACK_FILE),
      before,
      "a refused up kept the lower version in config",
    );
    const revision0 = revision("beam");
    const down = es1Json(0, "up", ...upgrade, "1.0.0", "--allow-downgrade", "--yes");
    assert.strictEqual(
      (down.outputs.customers as Record<string, { platformVersion: string }>).beam.platformVersion,
      "1.0.0",
    );
    assert.strictEqual(revision("beam"), revision0 + 1);
    assert.ok(
      images("beam").every((i) => i.endsWith(":1.0.0")),
      images("beam").join(", "),
    );
  });

  it("holds back only the customer whose license expired: another's version change deploys, its release stays", async function () {
    await stack.setConfig(
      "es1:licenses.polygraf",
      { value: license("polygraf", "2021-12-31"), secret: true },
      true,
    );
    const polygraf = { revision: revision("polygraf"), images: images("polygraf") };
    const beam = revision("beam");
    // One customer's upgrade, then a full run that would also change the held customer's version.
    const one = es1Json(
      5,
      "up",
      "--stack",
      STACK,
      "--customer",
      "beam",
      "--platform-version",
      "1.1.0",
      "--yes",
    );
    const all = es1Json(
      5,
      "up",
      "--stack",
      STACK,
      "--set",
      "es1:customers.polygraf.platformVersion=1.1.0",
      "--yes",
    );
    for (const r of [one, all]) {
      assert.strictEqual(r.status, "succeeded");
      assert.deepStrictEqual(
        (r.customersHeld ?? []).map((h) => [h.customer, h.key, h.status]),
        [["polygraf", "es1:licenses.polygraf", "held"]],
      );
      assert.match(r.customersHeld?.[0].reason ?? "", /expired on 2021-12-31/);
    }
    assert.strictEqual(revision("beam"), beam + 1, "beam's upgrade did not deploy");
    assert.ok(
      images("beam").every((i) => i.endsWith(":1.1.0")),
      images("beam").join(", "),
    );
    assert.strictEqual(revision("polygraf"), polygraf.revision, "the held customer's release changed");
    assert.deepStrictEqual(images("polygraf"), polygraf.images);
    const customers = all.outputs.customers as Record<string, { platformVersion: string; held?: string }>;
    assert.strictEqual(customers.polygraf.platformVersion, "1.0.0", "the output shows the version that runs");
    assert.match(customers.polygraf.held ?? "", /expired/);
    // A strict stack refuses the whole run instead.
    const strict = es1Json(2, "preview", "--stack", STACK, "--set", "licensePolicy=strict");
    assert.match(strict.errors.join("\n"), /Invalid stack configuration 'es1:licenses\.polygraf': .*expired/);
  });
});
