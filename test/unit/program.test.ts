import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { allStrings, ProgramFailed, runProgram } from "./harness";

const kubeconfigDir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-program-"));
const kubeconfigPath = path.join(kubeconfigDir, "kubeconfig");
fs.writeFileSync(kubeconfigPath, "apiVersion: v1\nkind: Config\nclusters: []\n");

const localConfig = {
  "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig: kubeconfigPath, context: "kwok-es1" }),
};

const T = {
  provider: "pulumi:providers:kubernetes",
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  release: "kubernetes:helm.sh/v3:Release",
  password: "random:index/randomPassword:RandomPassword",
};

describe("ES1 program on an existing cluster", () => {
  it("connects through a kubernetes provider with a stable cluster identity and a secret kubeconfig", async () => {
    const run = await runProgram(localConfig, { stack: "local" });
    const provider = run.one(T.provider);
    assert.strictEqual(provider.inputs.clusterIdentifier, "existing/local");
    assert.strictEqual(provider.inputs.context, "kwok-es1");
    assert.match(String(provider.inputs.kubeconfig), /kind: Config/);
    assert.ok(
      provider.secretInputs.includes("kubeconfig"),
      "the kubeconfig reaches the provider as a secret",
    );
    assert.strictEqual(run.outputs.cloud, "existing");
    assert.strictEqual(run.outputs.storageClass, "standard");
  });

  it("creates namespace es1-infrastructure under its exact name", async () => {
    const run = await runProgram(localConfig);
    const ns = run.one(T.namespace, "namespace");
    assert.deepStrictEqual((ns.inputs.metadata as { name: string }).name, "es1-infrastructure");
    assert.strictEqual(run.outputs.infrastructure.namespace, "es1-infrastructure");
  });

  it("generates the PostgreSQL superuser password once and stores it only in a Kubernetes Secret", async () => {
    const run = await runProgram(localConfig);
    const pw = run.one(T.password, "postgresql-superuser-password");
    assert.strictEqual(pw.inputs.length, 32);
    const secret = run.one(T.secret, "es1-postgresql-superuser");
    assert.ok(secret.secretInputs.includes("stringData"), "the Secret's data is a Pulumi secret");
    const data = secret.inputs.stringData as Record<string, string>;
    assert.strictEqual(data.password, "generated-postgresql-superuser-password-0123456789abcdef");
    assert.strictEqual((secret.inputs.metadata as { name: string }).name, "es1-postgresql-superuser");
    assert.strictEqual(run.outputs.infrastructure.secrets.postgresqlSuperuser, "es1-postgresql-superuser");
  });

  it("uses a password from stack config instead of generating one", async () => {
    const run = await runProgram(
      {
        ...localConfig,
        "es1:secrets": JSON.stringify({ postgresqlSuperuserPassword: "from-config-0123456789" }),
      },
      { secretKeys: ["es1:secrets"] },
    );
    assert.ok(!run.byType(T.password).some((p) => p.name === "postgresql-superuser-password"));
    const data = run.one(T.secret, "es1-postgresql-superuser").inputs.stringData as Record<string, string>;
    assert.strictEqual(data.password, "from-config-0123456789");
  });

  it("installs the es1-base chart of this repo as a named, bounded, atomic Release", async () => {
    const run = await runProgram(localConfig, { stack: "local" });
    const rel = run.one(T.release, "es1-base");
    assert.strictEqual(rel.inputs.name, "es1-base");
    assert.strictEqual(rel.inputs.namespace, "es1-infrastructure");
    assert.strictEqual(rel.inputs.chart, "./infrastructure/charts/es1-base");
    assert.strictEqual(rel.inputs.atomic, true);
    assert.strictEqual(rel.inputs.cleanupOnFail, true);
    assert.strictEqual(rel.inputs.maxHistory, 5);
    assert.strictEqual(rel.inputs.createNamespace, false);
    const values = rel.inputs.values as Record<string, unknown>;
    assert.match(String(values.es1ChartChecksum), /^[0-9a-f]{64}$/);
    assert.deepStrictEqual((values.install as Record<string, unknown>).stack, "local");
  });

  it("puts no secret into any Release's values", async () => {
    const run = await runProgram(localConfig);
    // Every generated credential: mocked passwords all contain "generated-", mocked bytes "+7/7".
    const secrets = run
      .byType(T.secret)
      .flatMap((s) => Object.values(s.inputs.stringData as Record<string, string>));
    assert.ok(secrets.length > 20);
    for (const rel of run.byType(T.release)) {
      assert.deepStrictEqual(rel.secretInputs, [], `${rel.name} has secret inputs`);
      const strings = allStrings(rel.inputs.values);
      for (const s of strings) {
        assert.ok(!/generated-|\+\/v7|-_v7|fbfbfbfb/.test(s), `${rel.name} values hold a credential: ${s}`);
        for (const secret of secrets) {
          if (secret.length >= 16) assert.ok(!s.includes(secret), `${rel.name} values hold a Secret's value`);
        }
      }
    }
  });

  it("registers no resource at all when the config is invalid", async () => {
    await assert.rejects(runProgram({ "es1:cluster": JSON.stringify({ provider: "gcp" }) }), (e: unknown) => {
      assert.ok(e instanceof ProgramFailed);
      assert.match(e.message, /'es1:cluster\.provider': "gcp" is not allowed; use one of: existing/);
      assert.deepStrictEqual(e.registered, []);
      return true;
    });
  });
});
