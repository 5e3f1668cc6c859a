import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  credentialResourceName,
  credentialSpec,
  isRotatable,
  SECRET_NAMES,
  SecretName,
} from "../../config/credentials";
import { configuredSecrets, dataKeyProblems, deployedDataKeys } from "../../automation/guards";
import { SECRET_SIG_KEY, SECRET_SIG_VALUE } from "../../automation/report";
import {
  readsSecret,
  RESTARTED_AT,
  restartReaders,
  rotationRefusal,
  secretsHolding,
} from "../../automation/rotate";
import { valuesInUse } from "../../automation/secrets";
import { deployedSecrets, generatedCredentials, revealed, StateResource } from "../../automation/state";
import { PROJECT_ROOT } from "../../lib/paths";
import { runProgram } from "./harness";

/** A value as `pulumi stack export --show-secrets` writes a secret. */
const secret = (v: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG_VALUE, plaintext: JSON.stringify(v) });
const urn = (type: string, name: string) =>
  `urn:pulumi:s::es1-platform::es1:infrastructure:Infrastructure$${type}::${name}`;

const PASSWORD = "random:index/randomPassword:RandomPassword";
const BYTES = "random:index/randomBytes:RandomBytes";
const SECRET = "kubernetes:core/v1:Secret";

function random(name: SecretName, outputs: Record<string, unknown>): StateResource {
  const type = credentialSpec(name).format === "password" ? PASSWORD : BYTES;
  return { urn: urn(type, credentialResourceName(name)), type, outputs };
}

function k8sSecret(
  name: string,
  stringData: Record<string, string>,
  namespace = "es1-infrastructure",
): StateResource {
  return {
    urn: urn(SECRET, name),
    type: SECRET,
    inputs: { metadata: { name, namespace }, stringData: secret(stringData) },
  };
}

// 32 bytes whose base64 has both characters Fernet replaces.
const BYTES_B64 = Buffer.alloc(32, 0xfb).toString("base64");
const FERNET = BYTES_B64.replace(/\+/g, "-").replace(/\//g, "_");

describe("es1 secrets: what a deployment holds", function () {
  this.timeout(30000);
  it("reads generated credentials as the program uses them, secret or not", function () {
    const got = generatedCredentials([
      random("redisDefaultPassword", { result: secret("pw-redis") }),
      random("airflowFernetKey", { base64: secret(BYTES_B64) }),
      random("langfuseEncryptionKey", { hex: "ab".repeat(32) }),
      // Its name before it moved under its component (an alias keeps it).
      {
        urn: urn(PASSWORD, "postgresql-superuser"),
        type: PASSWORD,
        outputs: { result: secret("pw-pg") },
      },
      // Ciphertext (an export without --show-secrets) is no value.
      random("grafanaAdminPassword", { result: { [SECRET_SIG_KEY]: SECRET_SIG_VALUE, ciphertext: "x" } }),
    ]);
    assert.deepStrictEqual(Object.fromEntries([...got].map(([k, v]) => [k, v.value])), {
      postgresqlSuperuserPassword: "pw-pg",
      redisDefaultPassword: "pw-redis",
      airflowFernetKey: FERNET,
      langfuseEncryptionKey: "ab".repeat(32),
    });
    assert.deepStrictEqual(revealed(secret({ a: 1 })), { a: 1 });
  });

  it("reads the Secrets Pulumi wrote with their values, from stringData or base64 data", function () {
    // The Kubernetes provider keeps stringData merged into data in the state.
    const asData: StateResource = {
      urn: urn(SECRET, "es1-redis-users"),
      type: SECRET,
      inputs: {
        metadata: { name: "es1-redis-users", namespace: "es1-infrastructure" },
        data: secret({ default: Buffer.from("p@ss").toString("base64") }),
      },
    };
    assert.deepStrictEqual(deployedSecrets([asData])[0].data, { default: "p@ss" });
    assert.deepStrictEqual(deployedSecrets([k8sSecret("es1-airflow-keys", { "fernet-key": "k" })]), [
      {
        urn: urn(SECRET, "es1-airflow-keys"),
        namespace: "es1-infrastructure",
        name: "es1-airflow-keys",
        data: { "fernet-key": "k" },
      },
    ]);
  });

  it("adopts each credential's value in use: a data key from its Secret, others as generated", function () {
    const inUse = valuesInUse([
      random("airflowFernetKey", { base64: BYTES_B64 }),
      k8sSecret("es1-airflow-keys", { "fernet-key": "set-by-config-once" }),
      random("redisDefaultPassword", { result: "pw" }),
    ]);
    assert.deepStrictEqual(inUse, { airflowFernetKey: "set-by-config-once", redisDefaultPassword: "pw" });
  });

  it("finds every data key's Secret and every generated credential as the program names them", async function () {
    // The program under mocks: its random resources and Secrets turned into an exported state.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-secrets-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
    const run = await runProgram({
      "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig, context: "kwok-es1" }),
    });
    const state: StateResource[] = run.resources.map((r) => ({
      urn: urn(r.type, r.name),
      type: r.type,
      inputs: r.inputs,
      outputs:
        r.type === PASSWORD
          ? { result: `generated-${r.name}-0123456789abcdef` }
          : r.type === BYTES
            ? { base64: BYTES_B64, hex: Buffer.alloc(32, 0xfb).toString("hex") }
            : {},
    }));
    const generated = generatedCredentials(state);
    assert.deepStrictEqual([...generated.keys()].sort(), [...SECRET_NAMES].sort());
    const keys = deployedDataKeys(state);
    const dataKeys = SECRET_NAMES.filter((n) => credentialSpec(n).kind === "data-key");
    assert.deepStrictEqual(Object.keys(keys).sort(), [...dataKeys].sort());
    for (const n of dataKeys) assert.strictEqual(keys[n], generated.get(n)?.value, n);
    assert.deepStrictEqual(dataKeyProblems({}, state, "s"), []);
  });
});

describe("es1 preview/up: data keys never change", function () {
  const state = [
    random("airflowFernetKey", { base64: BYTES_B64 }),
    k8sSecret("es1-airflow-keys", { "fernet-key": FERNET }),
    random("redisDefaultPassword", { result: "pw" }),
  ];

  it("accepts the deployed value, from config or from the state", function () {
    assert.deepStrictEqual(dataKeyProblems({}, state, "prod"), []);
    assert.deepStrictEqual(dataKeyProblems({ airflowFernetKey: FERNET }, state, "prod"), []);
    // A password is not a data key: a new one is allowed.
    assert.deepStrictEqual(dataKeyProblems({ redisDefaultPassword: "other" }, state, "prod"), []);
  });

  it("refuses another value in config, naming the key and what it protects", function () {
    const wrong = "x".repeat(43) + "=";
    const [p, ...rest] = dataKeyProblems({ airflowFernetKey: wrong }, state, "prod");
    assert.deepStrictEqual(rest, []);
    assert.match(p, /^Invalid stack configuration 'es1:secrets\.airflowFernetKey': differs from the value/);
    assert.match(p, /Airflow encrypts its connections and variables/);
    assert.match(p, /es1 secrets init --stack prod/);
    assert.ok(!p.includes(FERNET) && !p.includes(wrong), "the message shows a key");
  });

  it("is shown in docs/components.md as the code words it", function () {
    const [p] = dataKeyProblems({ airflowFernetKey: "x".repeat(43) + "=" }, state, "gcp-prod");
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs/components.md"), "utf8");
    assert.ok(doc.includes(`\n${p}\n`), `docs/components.md does not show:\n${p}`);
  });

  it("refuses a run that would generate a new key because config lost the deployed one", function () {
    // Set in config once (so never generated), then removed from config.
    const problems = dataKeyProblems({}, [k8sSecret("es1-airflow-keys", { "fernet-key": FERNET })], "prod");
    assert.strictEqual(problems.length, 1);
    assert.match(problems[0], /'es1:secrets\.airflowFernetKey': not set, .* would generate a new one/);
  });

  it("reads only es1:secrets values that are strings", function () {
    assert.deepStrictEqual(
      configuredSecrets({ "es1:secrets": { value: JSON.stringify({ airflowFernetKey: "k", bogus: "b" }) } }),
      { airflowFernetKey: "k" },
    );
    assert.deepStrictEqual(configuredSecrets({}), {});
  });
});

describe("es1 secrets rotate", function () {
  it("rotates passwords and session keys only, saying why not otherwise", function () {
    assert.strictEqual(rotationRefusal("redisDefaultPassword"), undefined);
    assert.strictEqual(rotationRefusal("airflowJwtSecret"), undefined);
    assert.match(rotationRefusal("airflowFernetKey") ?? "", /es1:secrets\.airflowFernetKey is a data key/);
    assert.match(rotationRefusal("grafanaAdminPassword") ?? "", /initial password/);
    assert.match(rotationRefusal("nope") ?? "", /'nope' is not a credential.*redisDefaultPassword/);
    for (const n of SECRET_NAMES) assert.strictEqual(isRotatable(n), rotationRefusal(n) === undefined, n);
  });

  it("finds the Secrets holding a value as it is, in a URL or in a JSON document", function () {
    const secrets = deployedSecrets([
      k8sSecret("es1-redis-users", { default: "p@ss", beam: "other" }),
      k8sSecret("es1-airflow-broker", { connection: "redis://airflow:p%40ss@h:6379/0" }),
      k8sSecret("es1-langfuse-s3", { cfg: JSON.stringify({ secretKey: "p@ss" }) }),
      k8sSecret("es1-grafana-admin", { "admin-password": "unrelated" }),
    ]);
    assert.deepStrictEqual(
      secretsHolding(secrets, "p@ss").map((s) => s.name),
      ["es1-redis-users", "es1-airflow-broker", "es1-langfuse-s3"],
    );
  });

  it("recognises a pod template reading a Secret through env, envFrom and volumes", function () {
    const name = "es1-redis-users";
    assert.ok(readsSecret({ containers: [{ env: [{ valueFrom: { secretKeyRef: { name } } }] }] }, name));
    assert.ok(readsSecret({ initContainers: [{ envFrom: [{ secretRef: { name } }] }] }, name));
    assert.ok(readsSecret({ volumes: [{ secret: { secretName: name } }] }, name));
    assert.ok(readsSecret({ volumes: [{ projected: { sources: [{ secret: { name } }] } }] }, name));
    assert.ok(!readsSecret({ containers: [{ envFrom: [{ secretRef: { name: "other" } }] }] }, name));
  });

  it("restarts exactly the workloads that read a rotated Secret", async function () {
    const patched: [string, unknown][] = [];
    const items: Record<string, unknown[]> = {
      deployments: [
        {
          metadata: { name: "reader" },
          spec: { template: { spec: { volumes: [{ secret: { secretName: "s1" } }] } } },
        },
        { metadata: { name: "bystander" }, spec: { template: { spec: { containers: [] } } } },
      ],
      statefulsets: [
        {
          metadata: { name: "valkey" },
          spec: { template: { spec: { containers: [{ envFrom: [{ secretRef: { name: "s1" } }] }] } } },
        },
      ],
      daemonsets: [],
    };
    const kube = {
      get: <T>(p: string) => Promise.resolve({ items: items[p.split("/").pop() ?? ""] } as T),
      patch: <T>(p: string, body: unknown) => {
        patched.push([p, body]);
        return Promise.resolve({} as T);
      },
    };
    const now = new Date("2026-12-01T10:00:00Z");
    const restarted = await restartReaders(kube, [{ namespace: "ns", name: "s1" }], now);
    assert.deepStrictEqual(restarted, ["Deployment ns/reader", "StatefulSet ns/valkey"]);
    assert.deepStrictEqual(
      patched.map(([p]) => p),
      ["/apis/apps/v1/namespaces/ns/deployments/reader", "/apis/apps/v1/namespaces/ns/statefulsets/valkey"],
    );
    assert.deepStrictEqual(patched[0][1], {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: "2026-12-01T10:00:00.000Z" } } } },
    });
  });
});
