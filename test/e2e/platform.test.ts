import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { openStack } from "../../automation/workspace";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair, shippedPublicKeys } from "../../platform/license";
import { e2eLicense, testKeyConfig } from "./es1-cli";
import { getObject, helm, kubectl, kubectlWithInput, mustGet } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-platform";
const KEY = generateKeyPair("es1-e2e");
const FIRST = ["beam", "polygraf", "rimbal"];
const CUSTOMER_STACK = "e2e-platform-customers";

const license = (customer: string, expiresAt?: string): string => e2eLicense(KEY, customer, { expiresAt });

interface Deployment {
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
  status: { readyReplicas?: number };
}

describe("customer platforms on the local cluster", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let env: Record<string, string>;
  let customerStack: Stack | undefined;

  const revision = (customer: string): number =>
    (
      JSON.parse(helm(kubeconfig, "list", "-n", `${customer}-platform`, "-o", "json")) as {
        revision: string;
      }[]
    ).map((r) => Number(r.revision))[0];
  const addCustomer = async (name: string, token: string) => {
    await stack.setConfig(`es1:customers.${name}.enabled`, { value: "true" }, true);
    await stack.setConfig(`es1:licenses.${name}`, { value: token, secret: true }, true);
  };
  const deployments = (customer: string): Deployment[] =>
    mustGet<{ items: Deployment[] }>(kubeconfig, "-n", `${customer}-platform`, "deployments").items;
  /** Every container image of a customer's platform Deployments. */
  const images = (customer: string): string[] =>
    deployments(customer).flatMap((d) => d.spec.template.spec.containers.map((c) => c.image));

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      ...componentsOnly(["postgresql", "redis"]),
      // A release that cannot become Ready fails (and Helm rolls it back) in seconds, not minutes.
      "es1:platformTimeoutSeconds": "45",
      ...testKeyConfig(KEY),
    }));
    for (const c of FIRST) await addCustomer(c, license(c));
  });

  after(async function () {
    // The customer-only stack first: it deploys onto what the owning stack made.
    await discardStack(CUSTOMER_STACK, customerStack);
    await discardStack(STACK, stack, backend);
  });

  it("installs three customers, each platform Ready in its own restricted namespace", async function () {
    const t0 = Date.now();
    const up = await stack.up();
    process.stderr.write(`      three customers: ${Math.round((Date.now() - t0) / 1000)}s\n`);
    assert.strictEqual(up.summary.result, "succeeded");
    const expected: Record<string, string[]> = {
      beam: ["agent-router", "autogen", "crewai", "gateway", "manager-api", "manager-ui"],
      // Polygraf's file asks for no AutoGen.
      polygraf: ["agent-router", "crewai", "gateway", "manager-api", "manager-ui"],
      rimbal: ["agent-router", "autogen", "crewai", "gateway", "manager-api", "manager-ui"],
    };
    for (const c of FIRST) {
      const ns = mustGet<{ metadata: { labels: Record<string, string> } }>(
        kubeconfig,
        "namespace",
        `${c}-platform`,
      );
      assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
      const deps = deployments(c);
      assert.deepStrictEqual(
        deps.map((d) => d.metadata.name.replace("es1-platform-", "")).sort(),
        expected[c],
      );
      for (const d of deps)
        assert.strictEqual(
          d.status.readyReplicas ?? 0,
          d.spec.replicas ?? 1,
          `${c}/${d.metadata.name} is not Ready`,
        );
      for (const s of ["license", "database", "redis"])
        assert.ok(getObject(kubeconfig, "-n", `${c}-platform`, "secret", `${c}-${s}`));
    }
  });

  it("gives each customer its own database role and Valkey user", function () {
    const users = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "-n",
      "es1-infrastructure",
      "secret",
      "es1-redis-users",
    );
    for (const c of FIRST) {
      assert.ok(users.data[c], `no Valkey user ${c}`);
      const db = mustGet<{ data: Record<string, string> }>(
        kubeconfig,
        "-n",
        `${c}-platform`,
        "secret",
        `${c}-database`,
      );
      const role = mustGet<{ data: Record<string, string> }>(
        kubeconfig,
        "-n",
        "es1-infrastructure",
        "secret",
        `es1-postgresql-customer-${c}`,
      );
      assert.strictEqual(db.data.password, role.data.password, `${c}'s platform and its role disagree`);
      assert.strictEqual(Buffer.from(db.data.username, "base64").toString(), c);
    }
    const passwords = FIRST.map((c) => users.data[c]);
    assert.strictEqual(new Set(passwords).size, FIRST.length, "customers share a password");
  });

  it("mounts the shipped ES1 keys from the chart and this test stack's key beside them", function () {
    const shipped = Object.fromEntries(
      Object.entries(shippedPublicKeys()).map(([id, key]) => [`${id}.pub`, key]),
    );
    for (const c of FIRST) {
      const ns = `${c}-platform`;
      const chartKeys = mustGet<{
        data: Record<string, string>;
        metadata: { labels: Record<string, string> };
      }>(kubeconfig, "-n", ns, "configmap", "es1-platform-license-keys");
      assert.deepStrictEqual(chartKeys.data, shipped, `${c}: the chart's keys are the shipped ones`);
      assert.strictEqual(chartKeys.metadata.labels["app.kubernetes.io/managed-by"], "Helm");
      const testKeys = mustGet<{ data: Record<string, string> }>(
        kubeconfig,
        "-n",
        ns,
        "configmap",
        "es1-license-test-keys",
      );
      assert.deepStrictEqual(testKeys.data, { [`${KEY.keyId}.pub`]: KEY.publicKey });
      assert.ok(
        !getObject(kubeconfig, "-n", ns, "configmap", "es1-license-keys"),
        "the old installer ConfigMap",
      );
      const sources = mustGet<{
        spec: {
          template: {
            spec: { volumes: { name: string; projected?: { sources: { configMap: { name: string } }[] } }[] };
          };
        };
      }>(kubeconfig, "-n", ns, "deployment", "es1-platform-gateway")
        .spec.template.spec.volumes.find((v) => v.name === "license-keys")
        ?.projected?.sources.map((x) => x.configMap.name);
      assert.deepStrictEqual(sources, ["es1-platform-license-keys", "es1-license-test-keys"]);
    }
  });

  it("has nothing to do on a second up", async function () {
    const up = await stack.up();
    assert.deepStrictEqual(Object.keys(up.summary.resourceChanges ?? {}), ["same"]);
  });

  it("refuses a customer with an expired license at preview, changing nothing", async function () {
    await addCustomer("nordlys", license("nordlys", "2021-12-31"));
    await assert.rejects(stack.preview(), /license of customer 'nordlys': .*expired/);
    assert.ok(!getObject(kubeconfig, "namespace", "nordlys-platform"));
  });

  it("adds a fourth customer without touching the other three", async function () {
    const before = FIRST.map(revision);
    await stack.setConfig("es1:licenses.nordlys", { value: license("nordlys"), secret: true }, true);
    const up = await stack.up();
    assert.strictEqual(up.summary.result, "succeeded");
    assert.deepStrictEqual(FIRST.map(revision), before, "another customer's release was upgraded");
    assert.deepStrictEqual(
      deployments("nordlys")
        .map((d) => d.metadata.name)
        .sort(),
      [
        "es1-platform-agent-router",
        "es1-platform-gateway",
        "es1-platform-manager-api",
        "es1-platform-manager-ui",
      ],
    );
  });

  it("upgrades one customer with es1 up --customer --platform-version, touching no other", function () {
    const others = ["polygraf", "rimbal", "nordlys"];
    const before = { beam: revision("beam"), others: others.map(revision) };
    const r = spawnSync(
      path.join(PROJECT_ROOT, "scripts/es1"),
      ["up", "--stack", STACK, "--customer", "beam", "--platform-version", "1.1.0", "--yes", "--json"],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: "utf8", input: "" },
    );
    assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { changes: Record<string, Record<string, number>> };
    const releases = report.changes["kubernetes:helm.sh/v3:Release"];
    assert.strictEqual(releases.update, 1, JSON.stringify(report.changes));
    for (const op of ["create", "delete", "replace"])
      for (const [type, ops] of Object.entries(report.changes))
        assert.strictEqual(ops[op] ?? 0, 0, `${op} of ${type}`);
    assert.strictEqual(revision("beam"), before.beam + 1);
    assert.deepStrictEqual(others.map(revision), before.others);
    const beam = images("beam");
    assert.ok(beam.length > 0 && beam.every((i) => i.endsWith(":1.1.0")), beam.join(", "));
  });

  it("rolls out a version in waves; a wave that cannot become Ready stops it and is rolled back", async function () {
    const before = Object.fromEntries(["beam", "polygraf", "rimbal", "nordlys"].map((c) => [c, revision(c)]));
    const polygrafImages = images("polygraf");
    // Polygraf's namespace gets no room for one more pod, so its upgraded pods can never start
    // (a rolling update adds a pod before it removes one), as in a namespace out of quota.
    const running = kubectl(
      kubeconfig,
      "-n",
      "polygraf-platform",
      "get",
      "pods",
      "--field-selector=status.phase!=Succeeded,status.phase!=Failed",
      "-o",
      "name",
    )
      .split("\n")
      .filter((l) => l !== "").length;
    const quota = {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "e2e-no-room", namespace: "polygraf-platform" },
      spec: { hard: { pods: String(running) } },
    };
    kubectlWithInput(kubeconfig, JSON.stringify(quota), "apply", "-f", "-");
    try {
      const r = spawnSync(
        path.join(PROJECT_ROOT, "scripts/es1"),
        [
          "rollout",
          "--stack",
          STACK,
          "--platform-version",
          "1.2.0",
          "--waves",
          "beam,polygraf,rimbal",
          "--rollback-on-failure",
          "--ready-timeout",
          "20",
          "--yes",
          "--json",
        ],
        { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: "utf8", input: "" },
      );
      assert.strictEqual(r.status, 1, `${r.stdout}\n${r.stderr}`);
      const report = JSON.parse(r.stdout) as {
        status: string;
        waves: {
          customers: string[];
          status: string;
          previousVersions: Record<string, string>;
          readiness?: { customer: string; ready: boolean }[];
          rollback?: { readiness?: { ready: boolean; version: string }[] };
        }[];
        errors: string[];
      };
      assert.strictEqual(report.status, "failed");
      assert.deepStrictEqual(
        report.waves.map((w) => [w.customers.join("+"), w.status]),
        [
          ["beam", "succeeded"],
          ["polygraf", "rolled-back"],
          ["rimbal", "not-started"],
        ],
      );
      assert.deepStrictEqual(
        report.waves[0].readiness?.map((x) => x.ready),
        [true],
      );
      assert.deepStrictEqual(report.waves[1].previousVersions, { polygraf: "1.0.0" });
      assert.deepStrictEqual(
        report.waves[1].rollback?.readiness?.map((x) => [x.version, x.ready]),
        [["1.0.0", true]],
      );
      assert.ok(
        report.errors.some((e) => e.includes("polygraf")),
        report.errors.join("\n"),
      );

      // The first wave runs the new version, the failed one its old images, later waves are untouched.
      assert.strictEqual(revision("beam"), before.beam + 1);
      assert.ok(
        images("beam").every((i) => i.endsWith(":1.2.0")),
        images("beam").join(", "),
      );
      assert.deepStrictEqual(images("polygraf"), polygrafImages);
      for (const d of deployments("polygraf"))
        assert.strictEqual(d.status.readyReplicas ?? 0, d.spec.replicas ?? 1, `polygraf/${d.metadata.name}`);
      assert.strictEqual(revision("rimbal"), before.rimbal);
      assert.strictEqual(revision("nordlys"), before.nordlys);
      assert.ok(!images("rimbal").some((i) => i.endsWith(":1.2.0")));
      // The stack's config says so too: beam at 1.2.0, polygraf back to its file's (no override).
      const config = await stack.getAllConfig();
      const customers = JSON.parse(config["es1:customers"].value) as Record<
        string,
        { platformVersion?: string }
      >;
      assert.strictEqual(customers.beam.platformVersion, "1.2.0");
      assert.strictEqual(customers.polygraf.platformVersion, undefined);
      assert.strictEqual(customers.rimbal.platformVersion, undefined);
    } finally {
      kubectl(
        kubeconfig,
        "-n",
        "polygraf-platform",
        "delete",
        "resourcequota",
        "e2e-no-room",
        "--ignore-not-found",
      );
    }
  });

  it("removes one customer's platform and keeps its database", async function () {
    const before = ["beam", "rimbal", "nordlys"].map(revision);
    await stack.setConfig("es1:customers.polygraf.enabled", { value: "false" }, true);
    const up = await stack.up();
    assert.strictEqual(up.summary.result, "succeeded");
    // The namespace stays, moved (not replaced) to the deploy access a customer-only stack uses.
    assert.deepStrictEqual(up.summary.resourceChanges?.replace, undefined);
    assert.deepStrictEqual(JSON.parse(helm(kubeconfig, "list", "-n", "polygraf-platform", "-o", "json")), []);
    assert.deepStrictEqual(deployments("polygraf"), []);
    assert.ok(getObject(kubeconfig, "-n", "polygraf-platform", "rolebinding", "es1-deployer"));
    assert.ok(getObject(kubeconfig, "-n", "polygraf-platform", "resourcequota", "es1-platform"));
    assert.ok(!getObject(kubeconfig, "-n", "polygraf-platform", "secret", "polygraf-database"));
    assert.deepStrictEqual(["beam", "rimbal", "nordlys"].map(revision), before);
    const pg = JSON.parse(
      helm(kubeconfig, "get", "values", "es1-postgresql", "-n", "es1-infrastructure", "-o", "json"),
    ) as {
      databases: { name: string; ensure: string }[];
    };
    assert.deepStrictEqual(
      pg.databases.filter((d) => d.name === "polygraf").map((d) => d.ensure),
      ["present"],
    );
    assert.ok(
      getObject(kubeconfig, "-n", "es1-infrastructure", "secret", "es1-postgresql-customer-polygraf"),
    );
  });

  it("deploys a customer from a customer-only stack onto this stack's cluster and stores", async function () {
    // Polygraf's platform is off in the owning stack, which keeps its database and Valkey user.
    customerStack = await openStack({
      stackName: CUSTOMER_STACK,
      backendUrl: env.PULUMI_BACKEND_URL,
      passphrase: env.PULUMI_CONFIG_PASSPHRASE,
    });
    await customerStack.setAllConfig(
      {
        "es1:infrastructureStack": { value: `organization/es1-platform/${STACK}` },
        "es1:customers[0]": { value: "polygraf" },
        // Ingresses, as the owning stack (openE2eStack) uses.
        "es1:access.mode": { value: "ingress" },
        "es1:licenses.polygraf": { value: license("polygraf"), secret: true },
        "es1:licenseTestKeys": { value: "true" },
        [`es1:licensePublicKeys.${KEY.keyId}`]: { value: KEY.publicKey },
      },
      true,
    );
    const up = await customerStack.up();
    assert.strictEqual(up.summary.result, "succeeded");
    const deps = deployments("polygraf");
    assert.ok(deps.length >= 4);
    for (const d of deps)
      assert.strictEqual(d.status.readyReplicas ?? 0, d.spec.replicas ?? 1, d.metadata.name);
    const db = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "-n",
      "polygraf-platform",
      "secret",
      "polygraf-database",
    );
    const role = mustGet<{ data: Record<string, string> }>(
      kubeconfig,
      "-n",
      "es1-infrastructure",
      "secret",
      "es1-postgresql-customer-polygraf",
    );
    assert.strictEqual(db.data.password, role.data.password, "the customer-only stack has its own password");

    // It deployed with polygraf's identity alone, which reads no other namespace's Secrets.
    const own = (await stack.outputs())["customer-polygraf"];
    assert.ok(own?.secret, "customer-polygraf is a secret output");
    const scoped = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-polygraf-")), "kubeconfig");
    fs.writeFileSync(scoped, (own.value as { cluster: { kubeconfig: string } }).cluster.kubeconfig);
    const canI = (...args: string[]): string =>
      spawnSync("kubectl", ["--kubeconfig", scoped, "auth", "can-i", ...args], {
        encoding: "utf8",
      }).stdout.trim();
    assert.strictEqual(canI("create", "secrets", "-n", "polygraf-platform"), "yes");
    for (const ns of ["es1-infrastructure", "beam-platform", "rimbal-platform"])
      assert.strictEqual(
        canI("get", "secrets", "-n", ns),
        "no",
        `polygraf's identity reads Secrets in ${ns}`,
      );
    assert.strictEqual(canI("create", "namespaces"), "no");
    assert.strictEqual(canI("update", "resourcequotas", "-n", "polygraf-platform"), "no");
    assert.strictEqual(canI("create", "rolebindings", "-n", "polygraf-platform"), "no");
    const denied = spawnSync(
      "kubectl",
      ["--kubeconfig", scoped, "get", "secrets", "-n", "es1-infrastructure"],
      {
        encoding: "utf8",
      },
    );
    assert.notStrictEqual(denied.status, 0);
    assert.match(denied.stderr, /forbidden/i);
    // Its own outputs: its kubeconfig is polygraf's, and nothing names another customer.
    const outputs = await customerStack.outputs();
    const text = JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.value])));
    assert.ok(
      !/client-key|client-certificate/.test(text),
      "the owning stack's admin credential reached the customer-only stack",
    );
    for (const other of ["beam", "rimbal", "nordlys"])
      assert.ok(!text.includes(other), `the customer-only stack's outputs mention ${other}`);
    // The owning stack sees nothing to do: the platform is the other stack's.
    const owner = await stack.preview();
    assert.deepStrictEqual(Object.keys(owner.changeSummary), ["same"]);
  });
});
