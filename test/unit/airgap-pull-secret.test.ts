// es1:airgap.registryAuth: the pull Secret the program writes in every namespace it creates, and
// the checks on the setting. That every chart's pods name it is shown on the rendered charts in
// test/charts/airgap-images.test.ts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigErrors } from "../../config";
import { REGISTRY_PULL_SECRET } from "../../config/airgap";
import { dockerConfigJson } from "../../lib/pull-secret";
import { draftLicense, generateKeyPair, issueLicense } from "../../platform/license";
import { allStrings, runProgram } from "./harness";
import { settingsFrom } from "./values-fixtures";

const KEY = generateKeyPair("test-2026");
const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-pull-")), "kubeconfig");
fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
const cluster = { provider: "existing", kubeconfig };
const T = { secret: "kubernetes:core/v1:Secret", release: "kubernetes:helm.sh/v3:Release" };

function problems(airgap: unknown, secret: boolean): string[] {
  try {
    settingsFrom({ cluster, airgap }, secret ? ["airgap"] : []);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  return [];
}

describe("es1:airgap.registryAuth", function () {
  this.timeout(60000);
  it("is checked before anything is created: registry, user, an encrypted password", () => {
    const registry = "registry.internal:5000/es1";
    assert.deepStrictEqual(
      problems({ registry, registryAuth: { username: "robot", password: "t" } }, true),
      [],
    );
    const s = settingsFrom(
      { cluster, airgap: { registry, registryAuth: { username: "robot", password: "t" } } },
      ["airgap"],
    );
    assert.deepStrictEqual(s.airgap.imagePullSecrets, [REGISTRY_PULL_SECRET]);
    const msgs = (a: unknown, secret = true) => problems(a, secret).join("\n");
    assert.match(
      msgs({ registryAuth: { username: "robot", password: "t" } }),
      /'es1:airgap\.registryAuth': needs es1:airgap\.registry/,
    );
    assert.match(
      msgs({ registry, registryAuth: { username: "robot", password: "t" } }, false),
      /'es1:airgap\.registryAuth\.password': is a credential and must be stored encrypted: pulumi config set --secret/,
    );
    assert.match(
      msgs({ registry, registryAuth: { username: "robot" } }),
      /'es1:airgap\.registryAuth\.password': is required/,
    );
    assert.match(
      msgs({ registry, registryAuth: { username: "a:b", password: "t" } }),
      /'es1:airgap\.registryAuth\.username': is required: the registry user/,
    );
    assert.match(
      msgs({ registry, registryAuth: { username: "robot", password: "t", email: "x" } }),
      /'es1:airgap\.registryAuth\.email': unknown key/,
    );
    assert.match(
      msgs({
        registry,
        imagePullSecrets: [REGISTRY_PULL_SECRET],
        registryAuth: { username: "robot", password: "t" },
      }),
      /'es1:airgap\.imagePullSecrets': "es1-registry" is the Secret the program writes from registryAuth/,
    );
  });

  it("writes a dockerconfigjson for the registry's host, as kubectl create secret docker-registry does", () => {
    assert.deepStrictEqual(JSON.parse(dockerConfigJson("registry.internal:5000/es1", "robot", "p@ss")), {
      auths: {
        "registry.internal:5000": {
          username: "robot",
          password: "p@ss",
          auth: Buffer.from("robot:p@ss").toString("base64"),
        },
      },
    });
  });

  it("puts the Secret, as a secret, in the infrastructure namespace and every customer's, before the releases", async () => {
    const token = "site-registry-token-1234";
    const run = await runProgram(
      {
        "es1:cluster": JSON.stringify(cluster),
        "es1:airgap": JSON.stringify({
          registry: "registry.internal:5000/es1",
          registryAuth: { username: "robot", password: token },
        }),
        "es1:licenseTestKeys": "true",
        "es1:licensePublicKeys": JSON.stringify({ [KEY.keyId]: KEY.publicKey }),
        "es1:customers": JSON.stringify({ beam: {}, rimbal: {} }),
        "es1:licenses": JSON.stringify({
          beam: issueLicense(
            draftLicense({
              customer: "beam",
              expiresAt: "2099-12-31",
              issuedAt: "2019-06-01",
              features: ["agents.router"],
              keyId: KEY.keyId,
            }),
            KEY.privateKey,
          ),
          rimbal: issueLicense(
            draftLicense({
              customer: "rimbal",
              expiresAt: "2099-12-31",
              issuedAt: "2019-06-01",
              features: ["agents.router"],
              keyId: KEY.keyId,
            }),
            KEY.privateKey,
          ),
        }),
      },
      { secretKeys: ["es1:licenses", "es1:airgap"] },
    );
    const pulls = run
      .byType(T.secret)
      .filter((s) => (s.inputs.metadata as { name?: string }).name === REGISTRY_PULL_SECRET);
    assert.deepStrictEqual(pulls.map((s) => (s.inputs.metadata as { namespace?: string }).namespace).sort(), [
      "beam-platform",
      "es1-infrastructure",
      // node-exporter's own namespace (monitoring is on): its DaemonSet pulls from the registry too.
      "es1-node-exporter",
      "rimbal-platform",
    ]);
    for (const s of pulls) {
      assert.strictEqual(s.inputs.type, "kubernetes.io/dockerconfigjson");
      assert.ok(s.secretInputs.includes("stringData"), `${s.name}: data not secret`);
      const doc = JSON.parse((s.inputs.stringData as Record<string, string>)[".dockerconfigjson"]) as {
        auths: Record<string, { password: string }>;
      };
      assert.strictEqual(doc.auths["registry.internal:5000"].password, token);
    }
    // The token is nowhere but in those Secrets: not in any release's values.
    for (const r of run.byType(T.release))
      assert.ok(!allStrings(r.inputs.values).some((v) => v.includes(token)), r.name);
    // Every platform release names the Secret.
    const platform = run.byType(T.release).filter((r) => r.inputs.name === "es1-platform");
    assert.strictEqual(platform.length, 2);
    for (const r of platform) assert.ok(allStrings(r.inputs.values).includes(REGISTRY_PULL_SECRET));
  });
});
