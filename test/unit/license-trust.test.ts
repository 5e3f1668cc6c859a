// The license trust anchor (issue 14 item 4): licenses are verified with the ES1 keys shipped in
// platform/chart/files/license-keys; keys from stack config (es1:licensePublicKeys) only on a
// stack that says it is for testing (es1:licenseTestKeys), which a prod stack refuses.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSettings } from "../../config";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair, SHIPPED_KEYS_DIR, shippedPublicKeys } from "../../platform/license";
import { gateLicenses } from "../../platform/license/deploy-gate";
import { ProgramFailed, runProgram } from "./harness";
import { testLicense } from "./cluster-helpers";

const TEST_KEY = generateKeyPair("test-trust");

const license = (customer: string, key = TEST_KEY): string => testLicense(customer, key);

describe("the license trust anchor", function () {
  this.timeout(60000);
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-trust-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const base = {
    "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
    "es1:customers": JSON.stringify(["beam"]),
    "es1:licenses": JSON.stringify({ beam: license("beam") }),
    "es1:licensePublicKeys": JSON.stringify({ [TEST_KEY.keyId]: TEST_KEY.publicKey }),
  };
  const failure = async (config: Record<string, string>): Promise<ProgramFailed> => {
    try {
      await runProgram(config, { secretKeys: ["es1:licenses"] });
    } catch (e) {
      assert.ok(e instanceof ProgramFailed, String(e));
      return e;
    }
    return assert.fail("expected the program to refuse the stack");
  };

  it("ships the keys of platform/chart/files/license-keys, one <keyId>.pub each", () => {
    const dir = path.join(PROJECT_ROOT, SHIPPED_KEYS_DIR);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".pub"));
    assert.ok(files.length > 0);
    const expected = Object.fromEntries(
      files.map((f) => [f.slice(0, -4), fs.readFileSync(path.join(dir, f), "utf8").trim()]),
    );
    assert.deepStrictEqual({ ...shippedPublicKeys() }, expected);
    for (const key of Object.values(expected)) assert.strictEqual(Buffer.from(key, "base64").length, 32);
  });

  it("a prod stack refuses operator-supplied license keys, naming both keys, before any resource", async () => {
    const failed = await failure({ ...base, "es1:environment": "prod", "es1:licenseTestKeys": "true" });
    assert.match(
      failed.message,
      /'es1:licenseTestKeys': a stack with es1:environment prod trusts only the ES1 keys shipped with the release/,
    );
    assert.deepStrictEqual(
      failed.registered.filter((r) => r.type.startsWith("kubernetes:")),
      [],
      "nothing of the cluster is registered",
    );
  });

  it("a stack not marked for testing refuses es1:licensePublicKeys and says what to do", async () => {
    for (const environment of ["dev", "prod"]) {
      const failed = await failure({ ...base, "es1:environment": environment });
      assert.match(
        failed.message,
        /'es1:licensePublicKeys': operator-supplied license keys are accepted only by a test stack: .*set es1:licenseTestKeys true/,
      );
    }
  });

  it("a test stack accepts a license signed by its test key; the chart mounts the test keys too", async () => {
    const run = await runProgram(
      { ...base, "es1:licenseTestKeys": "true" },
      { secretKeys: ["es1:licenses"] },
    );
    assert.strictEqual(run.outputs.customers.beam.licenseId.startsWith("beam-"), true);
    const cm = run.one("kubernetes:core/v1:ConfigMap", "beam-license-keys");
    assert.deepStrictEqual(cm.inputs.data, { [`${TEST_KEY.keyId}.pub`]: TEST_KEY.publicKey });
    assert.strictEqual((cm.inputs.metadata as { name: string }).name, "es1-license-test-keys");
    const values = run.one("kubernetes:helm.sh/v3:Release", "beam-platform").inputs.values as {
      license: Record<string, unknown>;
    };
    assert.strictEqual(values.license.testKeysConfigMap, "es1-license-test-keys");
    assert.ok(!("publicKeysConfigMap" in values.license), "no value names the shipped keys' ConfigMap");
  });

  it("by default the gate trusts exactly the shipped key ids: a test key's license is refused", () => {
    const s = parseSettings(
      {
        keys: () => ["customers", "licenses", "access"],
        get: (k) =>
          ({ customers: ["beam"], licenses: { beam: license("beam") }, access: { mode: "ingress" } })[k],
        isSecret: (k) => k === "licenses",
      },
      { project: "es1-platform", stack: "test", cwd: PROJECT_ROOT },
    );
    assert.deepStrictEqual(s.licensing.testKeys, {});
    const { licensed, refused } = gateLicenses(s.customers, s.licensing);
    assert.strictEqual(licensed.size, 0);
    const ids = Object.keys(shippedPublicKeys()).sort().join(", ");
    assert.strictEqual(
      refused[0]?.error.message,
      `Invalid stack configuration 'es1:licenses.beam': license of customer 'beam': signed with key '${TEST_KEY.keyId}', which is not a trusted key (trusted: ${ids})`,
    );
  });

  it("a test key may not take the id of a shipped key", async () => {
    const [shippedId] = Object.keys(shippedPublicKeys());
    const impostor = generateKeyPair(shippedId);
    const failed = await failure({
      ...base,
      "es1:licenseTestKeys": "true",
      "es1:licensePublicKeys": JSON.stringify({ [shippedId]: impostor.publicKey }),
      "es1:licenses": JSON.stringify({ beam: license("beam", impostor) }),
    });
    assert.match(
      failed.message,
      new RegExp(`'es1:licensePublicKeys\\.${shippedId}': '${shippedId}' is the id of a shipped ES1 key`),
    );
  });
});
