import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { compareVersions, DeployedRecord, downgradeErrors, holdAsDeployed } from "../../platform/deployed";
import { draftLicense, generateKeyPair, issueLicense } from "../../platform/license";
import { ProgramFailed, RecordedResource, runProgram } from "./harness";

const KEY = generateKeyPair("test-2026");

function license(customer: string, expiresAt = "2099-12-31"): string {
  return issueLicense(
    draftLicense({
      customer,
      issuedAt: "2019-06-01",
      expiresAt,
      features: ["agents.router"],
      keyId: KEY.keyId,
    }),
    KEY.privateKey,
  );
}

describe("platform versions: ordering and downgrades", function () {
  it("orders versions as semantic versions", function () {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0",
      "1.0.1",
      "1.2.0",
      "1.10.0",
      "2.0.0",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.ok((compareVersions(ordered[i], ordered[i + 1]) ?? 0) < 0, `${ordered[i]} < ${ordered[i + 1]}`);
      assert.ok((compareVersions(ordered[i + 1], ordered[i]) ?? 0) > 0, `${ordered[i + 1]} > ${ordered[i]}`);
    }
    assert.strictEqual(compareVersions("1.2.0+build.7", "1.2.0"), 0);
    assert.strictEqual(compareVersions("latest", "1.2.0"), undefined);
  });

  it("refuses a lower version than the deployed one, naming the customer and both versions", function () {
    const record: DeployedRecord = { customers: { beam: { platformVersion: "1.2.0" }, rimbal: {} } };
    const [e, ...rest] = downgradeErrors({ beam: "1.1.9", polygraf: "1.0.0", rimbal: "0.1.0" }, record);
    assert.deepStrictEqual(rest, [], "only beam has a deployed version to lower");
    assert.strictEqual(e.key, "es1:customers.beam.platformVersion");
    assert.match(
      e.message,
      /customer 'beam' would go from platform version 1\.2\.0 \(deployed\) down to 1\.1\.9/,
    );
    assert.match(e.message, /--allow-downgrade/);
    assert.deepStrictEqual(downgradeErrors({ beam: "1.2.0" }, record), []);
    assert.deepStrictEqual(downgradeErrors({ beam: "1.3.0" }, record), []);
    assert.deepStrictEqual(downgradeErrors({ beam: "1.0.0" }, { ...record, allowDowngrade: true }), []);
    assert.deepStrictEqual(downgradeErrors({ beam: "1.0.0" }, undefined), []);
  });
});

describe("the program with a record of the last deployment", function () {
  this.timeout(30000);
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-deployed-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const config = (over: { beamVersion?: string; beamExpires?: string; policy?: string } = {}) => ({
    "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
    "es1:licenseTestKeys": "true",
    "es1:licensePublicKeys": JSON.stringify({ [KEY.keyId]: KEY.publicKey }),
    "es1:customers": JSON.stringify({
      beam: over.beamVersion ? { platformVersion: over.beamVersion } : {},
      polygraf: { platformVersion: "1.3.0" },
    }),
    "es1:licenses": JSON.stringify({
      beam: license("beam", over.beamExpires),
      polygraf: license("polygraf"),
    }),
    ...(over.policy ? { "es1:licensePolicy": over.policy } : {}),
  });
  const deployed: DeployedRecord = {
    customers: {
      beam: {
        namespace: "beam-platform",
        release: "es1-platform",
        licenseId: "beam-2025",
        licenseExpires: "2025-12-31",
        agents: ["router"],
        notDeployed: [],
        platformVersion: "1.2.0",
      },
      polygraf: { platformVersion: "1.1.0" },
    },
  };
  const run = (c: Record<string, string>, record?: DeployedRecord) =>
    runProgram(c, { secretKeys: ["es1:licenses"], record });
  const failure = async (c: Record<string, string>, record?: DeployedRecord): Promise<string> => {
    try {
      await run(c, record);
    } catch (e) {
      assert.ok(e instanceof ProgramFailed, String(e));
      return e.message;
    }
    return assert.fail("expected the program to refuse the run");
  };
  /** The customer's resources as `type::name`, sorted. */
  const ids = (rs: RecordedResource[], customer: string) =>
    rs
      .filter((r) => r.name === customer || r.name.startsWith(`${customer}-`))
      .map((r) => `${r.type}::${r.name}`)
      .sort();

  it("refuses to lower a deployed customer's version at preview, unless allowed", async function () {
    const message = await failure(config({ beamVersion: "1.1.0" }), deployed);
    assert.match(
      message,
      /Invalid stack configuration 'es1:customers\.beam\.platformVersion': customer 'beam' would go from platform version 1\.2\.0 \(deployed\) down to 1\.1\.0/,
    );
    const allowed = await run(config({ beamVersion: "1.1.0" }), { ...deployed, allowDowngrade: true });
    assert.strictEqual(allowed.outputs.customers.beam.platformVersion, "1.1.0");
    // The chart's own version (1.0.0) is a downgrade too when 1.2.0 runs.
    assert.match(
      await failure(config(), deployed),
      /from platform version 1\.2\.0 \(deployed\) down to 1\.0\.0/,
    );
  });

  it("holds back a deployed customer whose license expired: same resources, deployed outputs, others deploy", async function () {
    const normal = await run(config({ beamVersion: "1.2.0" }), deployed);
    const held = await run(config({ beamVersion: "1.4.0", beamExpires: "2021-12-31" }), deployed);
    assert.deepStrictEqual(ids(held.resources, "beam"), ids(normal.resources, "beam"));
    assert.strictEqual(held.outputs.customers.beam.platformVersion, "1.2.0", "the deployed version is kept");
    assert.strictEqual(held.outputs.customers.beam.licenseId, "beam-2025");
    assert.match(held.outputs.customers.beam.held ?? "", /license of customer 'beam': .*expired/);
    assert.strictEqual(held.outputs.customers.polygraf.platformVersion, "1.3.0");
    assert.strictEqual(held.outputs.customers.polygraf.held, undefined);
  });

  it("leaves out a customer never deployed whose license is refused, and refuses the run when strict or unrecorded", async function () {
    const fresh = await run(config({ beamExpires: "2021-12-31" }), { customers: {} });
    assert.deepStrictEqual(ids(fresh.resources, "beam"), []);
    assert.deepStrictEqual(Object.keys(fresh.outputs.customers), ["polygraf"]);
    for (const [c, record] of [
      [config({ beamVersion: "1.2.0", beamExpires: "2021-12-31", policy: "strict" }), deployed],
      [config({ beamVersion: "1.2.0", beamExpires: "2021-12-31" }), undefined],
    ] as const)
      assert.match(await failure(c, record), /Invalid stack configuration 'es1:licenses\.beam': .*expired/);
    assert.match(
      await failure({ ...config(), "es1:licensePolicy": "lenient" }),
      /'es1:licensePolicy': "lenient" is not allowed; use one of: hold, strict/,
    );
  });

  it("keeps every input of a held resource as deployed", function () {
    const out = holdAsDeployed({
      type: "kubernetes:helm.sh/v3:Release",
      name: "beam-platform",
      props: { chart: "./c", values: {}, version: "0.1.0" },
      opts: { ignoreChanges: ["version"] } as pulumi.CustomResourceOptions,
      resource: {} as pulumi.Resource,
    });
    assert.deepStrictEqual([...((out?.opts as pulumi.CustomResourceOptions).ignoreChanges ?? [])].sort(), [
      "chart",
      "values",
      "version",
    ]);
  });
});
