// Customer-only stacks (docs/customers.md): the owning stack hands each switched-off customer its
// own access (output `customer-<name>`, a kubeconfig limited to its namespace); the customer-only
// stack reads that and nothing of the other customers.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { ConfigErrors, parseSettings } from "../../config";
import { DEPLOYER_RULES } from "../../platform/deploy-access";
import { generateKeyPair } from "../../platform/license";
import { CustomerStackAccess } from "../../program";
import { allStrings, resolveDeep, runProgram, valueOf } from "./harness";
import { testLicense } from "./cluster-helpers";

// A test key (es1:licenseTestKeys): the shipped ES1 key ids are refused for operator keys.
const KEY = generateKeyPair("test-2026");
const keys = { [KEY.keyId]: KEY.publicKey };
const license = (customer: string): string => testLicense(customer, KEY);

const INFRA = "acme/es1-platform/infra";
// The owning stack's admin credential: it must reach no customer-only stack.
const ADMIN_KEY = Buffer.from("ADMIN-CLIENT-KEY").toString("base64");
const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-owner-")), "kubeconfig");
fs.writeFileSync(
  kubeconfig,
  yaml.dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "kwok", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": "Q0E=" } },
    ],
    users: [{ name: "admin", user: { "client-key-data": ADMIN_KEY } }],
    contexts: [{ name: "kwok-es1", context: { cluster: "kwok", user: "admin" } }],
    "current-context": "kwok-es1",
  }),
);

interface KubeconfigShape {
  clusters: { cluster: Record<string, unknown> }[];
  users: { user: Record<string, unknown> }[];
  contexts: { context: { namespace: string } }[];
}

/** Cluster-scoped resources a namespaced deploy identity must never be granted. */
const CLUSTER_SCOPED = [
  "namespaces",
  "nodes",
  "persistentvolumes",
  "clusterroles",
  "clusterrolebindings",
  "customresourcedefinitions",
  "storageclasses",
  "gatewayclasses",
  "clusterissuers",
  "validatingwebhookconfigurations",
  "mutatingwebhookconfigurations",
  "priorityclasses",
];

describe("customer-only stacks", function () {
  // One owning stack for the whole file: beam and rimbal switched off there, data kept.
  let owner: Awaited<ReturnType<typeof runProgram>>;
  let ownerOutputs: Record<string, unknown>;
  before(async function () {
    owner = await runProgram({
      "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig, context: "kwok-es1" }),
      "es1:customers": JSON.stringify({ beam: { enabled: false }, rimbal: { enabled: false } }),
    });
    ownerOutputs = (await resolveDeep(owner.outputs)) as Record<string, unknown>;
  });

  const customerOnly = (outputs: Record<string, unknown>, customers = ["beam"]) =>
    runProgram(
      {
        "es1:infrastructureStack": INFRA,
        "es1:customers": JSON.stringify(customers),
        "es1:licenses": JSON.stringify(Object.fromEntries(customers.map((c) => [c, license(c)]))),
        "es1:licenseTestKeys": "true",
        "es1:licensePublicKeys": JSON.stringify(keys),
      },
      { secretKeys: ["es1:licenses"], stackReferences: { [INFRA]: outputs } },
    );

  it("the owning stack exports each switched-off customer's access as a secret output of its own", async () => {
    assert.ok(!owner.byType("kubernetes:helm.sh/v3:Release").some((r) => r.name.endsWith("-platform")));
    assert.ok(!("customerAccess" in owner.outputs), "no output with every customer's passwords");
    for (const c of ["beam", "rimbal"]) {
      const out = owner.outputs[`customer-${c}`];
      assert.ok(out, `no output customer-${c}`);
      assert.ok(await pulumi.isSecret(out), `customer-${c} is not secret`);
      const a: CustomerStackAccess = await valueOf(out);
      assert.strictEqual(a.namespace, `${c}-platform`);
      assert.match(a.database.password, new RegExp(`^generated-customer-${c}-database-password-`));
      assert.match(a.redis.password, new RegExp(`^generated-customer-${c}-redis-password-`));
      const other = c === "beam" ? "rimbal" : "beam";
      assert.deepStrictEqual(
        allStrings(a).filter((s) => s.includes(other)),
        [],
        `customer-${c} holds something of ${other}`,
      );
      // The kubeconfig: the cluster's server and CA, the customer's own token, nothing of the admin.
      const k = yaml.load(a.cluster.kubeconfig) as KubeconfigShape;
      assert.deepStrictEqual(k.clusters[0].cluster, {
        server: "https://127.0.0.1:6443",
        "certificate-authority-data": "Q0E=",
      });
      assert.deepStrictEqual(k.users[0].user, { token: `token-of-${c}-deployer-token` });
      assert.strictEqual(k.contexts[0].context.namespace, `${c}-platform`);
      assert.strictEqual(a.cluster.context, undefined);
      assert.ok(!a.cluster.kubeconfig.includes(ADMIN_KEY));
    }
  });

  it("the owning stack makes the namespace, quota, limits and a deploy identity bound in it", () => {
    const ns = owner.one("kubernetes:core/v1:Namespace", "beam-namespace");
    const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
    assert.strictEqual(labels["pod-security.kubernetes.io/enforce"], "restricted");
    owner.one("kubernetes:core/v1:ResourceQuota", "beam-quota");
    owner.one("kubernetes:core/v1:LimitRange", "beam-limits");
    const role = owner.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "beam-deployer");
    assert.strictEqual((role.inputs.metadata as { namespace: string }).namespace, "beam-platform");
    assert.deepStrictEqual(role.inputs.rules, DEPLOYER_RULES);
    const binding = owner.one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "beam-deployer");
    assert.deepStrictEqual(binding.inputs.subjects, [
      { kind: "ServiceAccount", name: "es1-deployer", namespace: "beam-platform" },
    ]);
    assert.deepStrictEqual((binding.inputs.roleRef as { kind: string }).kind, "Role");
    const token = owner.one("kubernetes:core/v1:Secret", "beam-deployer-token");
    assert.strictEqual(token.inputs.type, "kubernetes.io/service-account-token");
    assert.ok(
      !owner.resources.some((r) => /ClusterRole/.test(r.type)),
      "the deploy identity has no cluster-wide grant",
    );
  });

  it("the deploy Role grants nothing cluster-wide, no RBAC, no exec, no quota", () => {
    for (const rule of DEPLOYER_RULES) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs])
        assert.ok(!field.includes("*"), `wildcard in ${JSON.stringify(rule)}`);
      assert.ok(!rule.apiGroups.includes("rbac.authorization.k8s.io"), "RBAC objects allow escalation");
      assert.ok(!rule.apiGroups.includes("apiextensions.k8s.io"));
      for (const r of rule.resources) {
        assert.ok(!CLUSTER_SCOPED.includes(r), `${r} is cluster-scoped`);
        assert.ok(!r.includes("/"), `subresource ${r} (exec, proxy, ...)`);
        assert.ok(!["resourcequotas", "limitranges"].includes(r), "a tenant must not raise its own quota");
      }
      assert.ok(!rule.verbs.some((v) => ["escalate", "bind", "impersonate"].includes(v)));
    }
    // What the platform chart installs can be written: its templates' kinds.
    const kinds = fs
      .readdirSync(path.join(__dirname, "../../platform/chart/templates"))
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) =>
        [
          ...fs
            .readFileSync(path.join(__dirname, "../../platform/chart/templates", f), "utf8")
            .matchAll(/^kind: (\w+)/gm),
        ].map((m) => m[1]),
      );
    const writable = DEPLOYER_RULES.filter((r) => r.verbs.includes("create")).flatMap((r) => r.resources);
    for (const kind of new Set(kinds)) {
      const lower = kind.toLowerCase();
      const plural = /[^aeiou]y$/.test(lower)
        ? `${lower.slice(0, -1)}ies`
        : `${lower}${lower.endsWith("s") ? "es" : "s"}`;
      assert.ok(writable.includes(plural), `the chart's ${kind} is not writable`);
    }
  });

  it("deploys with the customer's own kubeconfig into the namespace the owning stack made", async () => {
    const run = await customerOnly(ownerOutputs);
    // Its platform and its own MLflow, from the chart the owning stack found.
    assert.deepStrictEqual(
      run
        .byType("kubernetes:helm.sh/v3:Release")
        .map((r) => [r.name, r.inputs.namespace, r.inputs.chart])
        .sort(),
      [
        ["beam-mlflow", "beam-platform", "mlflow"],
        ["beam-platform", "beam-platform", "./platform/chart"],
      ],
    );
    const mlflowDb = run.one("kubernetes:core/v1:Secret", "beam-mlflow-database");
    assert.ok(mlflowDb.secretInputs.includes("stringData"));
    assert.match(
      (mlflowDb.inputs.stringData as Record<string, string>).password,
      /^generated-customer-beam-mlflow-password-/,
    );
    assert.deepStrictEqual(
      run.byType("kubernetes:core/v1:PersistentVolumeClaim"),
      [],
      "the owning stack keeps its MLflow's volume",
    );
    assert.ok(owner.resources.some((r) => r.name === "beam-mlflow-artifacts"));
    assert.deepStrictEqual(run.byType("es1:infrastructure:Infrastructure"), []);
    for (const t of ["Namespace", "ResourceQuota", "LimitRange"])
      assert.deepStrictEqual(run.byType(`kubernetes:core/v1:${t}`), [], `the owning stack makes the ${t}`);
    const provider = run.one("pulumi:providers:kubernetes");
    assert.strictEqual(provider.inputs.clusterIdentifier, "existing/test");
    assert.strictEqual(provider.inputs.context, undefined);
    assert.ok(provider.secretInputs.includes("kubeconfig"));
    assert.match(String(provider.inputs.kubeconfig), /token: token-of-beam-deployer-token/);
    const db = run.one("kubernetes:core/v1:Secret", "beam-database");
    assert.ok(db.secretInputs.includes("stringData"));
    assert.match(
      (db.inputs.stringData as Record<string, string>).password,
      /^generated-customer-beam-database-password-/,
      "the password is the one the owning stack generated",
    );
    assert.strictEqual(run.outputs.infrastructure.namespace, "es1-infrastructure");
  });

  it("reads only its own customers' outputs, and its outputs hold nothing of other customers", async () => {
    // Were the program to read platformCluster or another customer's output, these would show.
    const poisoned = {
      ...ownerOutputs,
      platformCluster: { ...(ownerOutputs.platformCluster as object), kubeconfig: "ADMIN-KUBECONFIG" },
      customerAccess: { rimbal: { database: { password: "RIMBAL-OLD-OUTPUT" } } },
    };
    const run = await customerOnly(poisoned);
    const used = [
      ...run.resources.flatMap((r) => allStrings(r.inputs)),
      ...allStrings(await resolveDeep(run.outputs)),
    ];
    for (const marker of ["ADMIN-KUBECONFIG", "RIMBAL-OLD-OUTPUT", ADMIN_KEY, "rimbal"])
      assert.deepStrictEqual(
        used.filter((s) => s.includes(marker)),
        [],
        `${marker} reached the customer-only stack`,
      );
    const outputs = allStrings(await resolveDeep(run.outputs));
    assert.ok(
      outputs.some((s) => s.includes("token-of-beam-deployer-token")),
      "its own kubeconfig",
    );
    assert.deepStrictEqual(Object.keys(run.outputs.customers), ["beam"]);
    assert.ok(!Object.keys(run.outputs).some((k) => k.startsWith("customer-")));
  });

  it("one provider per customer, each with its own identity", async () => {
    const run = await customerOnly(ownerOutputs, ["beam", "rimbal"]);
    const providers = run.byType("pulumi:providers:kubernetes");
    assert.deepStrictEqual(
      providers.map((p) => [p.name, /token: (\S+)/.exec(String(p.inputs.kubeconfig))?.[1]]),
      [
        ["cluster", "token-of-beam-deployer-token"],
        ["cluster-rimbal", "token-of-rimbal-deployer-token"],
      ],
    );
  });

  it("refuses an owning stack from before per-customer outputs, and a customer it holds nothing for", async () => {
    const old = {
      infrastructure: ownerOutputs.infrastructure,
      platformCluster: ownerOutputs.platformCluster,
      customerAccess: { beam: {} },
    };
    await assert.rejects(
      customerOnly(old),
      /'es1:infrastructureStack': stack acme\/es1-platform\/infra was last deployed by an older installer and exports no per-customer access \('customer-beam'\): run `pulumi up` \(es1 up\) on acme\/es1-platform\/infra first/,
    );
    await assert.rejects(
      customerOnly(ownerOutputs, ["beam", "polygraf"]),
      /'es1:customers\.polygraf': stack acme\/es1-platform\/infra holds no database or Valkey user for 'polygraf'/,
    );
  });

  it("refuses the owning stack's keys in a customer-only stack", () => {
    const values: Record<string, unknown> = {
      infrastructureStack: INFRA,
      airgap: { registry: "mirror.example" },
      access: { mode: "ingress" },
    };
    let errors: string[] = [];
    try {
      parseSettings(
        { keys: () => Object.keys(values), get: (k) => values[k], isSecret: () => false },
        { project: "es1-platform", stack: "test", cwd: process.cwd() },
      );
    } catch (e) {
      assert.ok(e instanceof ConfigErrors, String(e));
      errors = e.errors.map((x) => x.message);
    }
    assert.ok(
      errors.some((x) => /'es1:airgap': belongs to the infrastructure stack/.test(x)),
      errors.join("\n"),
    );
    assert.ok(
      errors.some((x) => /'es1:customers': a customer-only stack needs at least one customer/.test(x)),
      errors.join("\n"),
    );
  });
});
