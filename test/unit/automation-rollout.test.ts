import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as cli } from "../../automation/cli";
import { UsageError } from "../../automation/commands/common";
import { parseRolloutArgs, parseWaves } from "../../automation/commands/rollout-args";
import { kubeAccess, kubeconfigText } from "../../automation/kube";
import { CustomerReadiness, workloadReadiness } from "../../automation/readiness";
import {
  DeployedCustomer,
  planProblems,
  RolloutPlan,
  RolloutStart,
  RolloutSteps,
  runWaves,
  WaveUpdate,
} from "../../automation/rollout";
import { ExitCode } from "../../automation/report";
import { memoryIO } from "./command-io";

function usageError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof UsageError && pattern.test(e.message));
}

describe("es1 rollout: arguments", function () {
  it("reads waves: `,` separates waves, `+` joins the customers of one wave", function () {
    assert.deepStrictEqual(parseWaves("beam,polygraf+rimbal"), [["beam"], ["polygraf", "rimbal"]]);
    assert.deepStrictEqual(parseWaves("beam"), [["beam"]]);
  });

  it("refuses empty names, non-DNS names and a customer in two waves", function () {
    usageError(() => parseWaves("beam,,rimbal"), /wave 2 has an empty customer name/);
    usageError(() => parseWaves("beam+"), /wave 1 has an empty customer name/);
    usageError(() => parseWaves("Beam"), /'Beam' is not a customer name/);
    usageError(() => parseWaves("beam,polygraf+beam"), /'beam' is in more than one wave/);
  });

  it("needs --stack, --platform-version and --waves; checks the version and the timeout", function () {
    const a = parseRolloutArgs([
      "--stack",
      "gcp-prod",
      "--platform-version",
      "1.4.2",
      "--waves=beam,polygraf+rimbal",
      "--rollback-on-failure",
      "--ready-timeout",
      "60",
      "--yes",
      "--json",
    ]);
    assert.deepStrictEqual(a, {
      stack: "gcp-prod",
      version: "1.4.2",
      waves: [["beam"], ["polygraf", "rimbal"]],
      rollbackOnFailure: true,
      readyTimeoutSeconds: 60,
      yes: true,
      json: true,
    });
    assert.strictEqual(
      parseRolloutArgs(["--stack", "s", "--platform-version", "1.0.0", "--waves", "a"]).readyTimeoutSeconds,
      300,
    );
    usageError(
      () => parseRolloutArgs(["--platform-version", "1.0.0", "--waves", "a"]),
      /--stack is required/,
    );
    usageError(() => parseRolloutArgs(["--stack", "s", "--waves", "a"]), /--platform-version is required/);
    usageError(
      () => parseRolloutArgs(["--stack", "s", "--platform-version", "1.0.0"]),
      /--waves is required/,
    );
    usageError(
      () => parseRolloutArgs(["--stack", "s", "--platform-version", "latest", "--waves", "a"]),
      /'latest' is not a version/,
    );
    usageError(
      () =>
        parseRolloutArgs([
          "--stack",
          "s",
          "--platform-version",
          "1.0.0",
          "--waves",
          "a",
          "--ready-timeout",
          "0",
        ]),
      /whole seconds from 1 to 3600/,
    );
    usageError(
      () =>
        parseRolloutArgs(["--stack", "s", "--platform-version", "1.0.0", "--waves", "a", "--customer", "a"]),
      /unknown option '--customer'/,
    );
  });

  it("exits 2 without --yes when nobody can confirm, with one JSON document under --json", async function () {
    const c = memoryIO();
    const argv = ["rollout", "--stack", "s", "--platform-version", "1.0.0", "--waves", "a"];
    assert.strictEqual(await cli(argv, c.io), 2);
    assert.match(c.err(), /refusing to roll out without --yes/);
    assert.strictEqual(c.out(), "");
    assert.strictEqual(await cli([...argv, "--json"], c.io), 2);
    const doc = JSON.parse(c.out()) as { operation: string; exitCode: number; errors: string[] };
    assert.strictEqual(doc.operation, "rollout");
    assert.strictEqual(doc.exitCode, 2);
    assert.match(doc.errors[0], /without --yes/);
  });
});

describe("es1 rollout: workload readiness", function () {
  const deployment = (over: { image?: string; generation?: number; status?: Record<string, unknown> }) => ({
    metadata: { name: "es1-platform-gateway", generation: over.generation ?? 2 },
    spec: {
      replicas: 2,
      template: {
        spec: { containers: [{ name: "gateway", image: over.image ?? "reg.local:5000/es1/gateway:1.2.0" }] },
      },
    },
    status: {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      ...over.status,
    },
  });

  it("is Ready when every replica runs the version and is available (registry ports are not tags)", function () {
    assert.deepStrictEqual(workloadReadiness("Deployment", deployment({}), "1.2.0"), {
      kind: "Deployment",
      name: "es1-platform-gateway",
      ready: true,
    });
    const pinned = deployment({ image: "reg.local:5000/es1/gateway:1.2.0@sha256:abcd" });
    assert.strictEqual(workloadReadiness("Deployment", pinned, "1.2.0").ready, true);
  });

  it("is not Ready at another version, mid-rollout, or with replicas unavailable, and says why", function () {
    const cases: [ReturnType<typeof deployment>, RegExp][] = [
      [
        deployment({ image: "reg.local:5000/es1/gateway:1.1.0" }),
        /runs gateway=.*:1\.1\.0, not version 1\.2\.0/,
      ],
      [deployment({ image: "reg.local:5000/es1/gateway" }), /not version 1\.2\.0/],
      [deployment({ generation: 3 }), /has not yet seen the latest spec/],
      [deployment({ status: { updatedReplicas: 1 } }), /1 of 2 replicas updated/],
      [deployment({ status: { replicas: 3 } }), /1 old replicas still running/],
      [deployment({ status: { availableReplicas: 0 } }), /0 of 2 replicas available/],
    ];
    for (const [d, reason] of cases) {
      const r = workloadReadiness("Deployment", d, "1.2.0");
      assert.strictEqual(r.ready, false);
      assert.match(r.reason ?? "", reason);
    }
  });

  it("checks a StatefulSet's revision and ready replicas", function () {
    const sts = deployment({ status: { currentRevision: "a", updateRevision: "b" } });
    assert.match(
      workloadReadiness("StatefulSet", sts, "1.2.0").reason ?? "",
      /rolling update has not finished/,
    );
    const notReady = deployment({ status: { currentRevision: "b", updateRevision: "b", readyReplicas: 1 } });
    assert.match(workloadReadiness("StatefulSet", notReady, "1.2.0").reason ?? "", /1 of 2 replicas ready/);
  });
});

/** Fake steps: a cluster where `broken` customers never become Ready and `updateExit` fails updates. */
function fakeSteps(opts: { broken?: string[]; updateExit?: Record<string, ExitCode> }) {
  const config: Record<string, string | undefined> = { polygraf: "1.1.0" };
  const calls: string[] = [];
  const steps: RolloutSteps = {
    setVersions(versions) {
      for (const [c, v] of Object.entries(versions)) config[c] = v;
      calls.push(
        `set ${Object.entries(versions)
          .map(([c, v]) => `${c}=${v ?? "-"}`)
          .join(" ")}`,
      );
      return Promise.resolve();
    },
    update(customers) {
      calls.push(`up ${customers.join("+")}`);
      const exitCode = customers.map((c) => opts.updateExit?.[c]).find((x) => x !== undefined) ?? 0;
      const u: WaveUpdate = {
        exitCode,
        durationSeconds: 1,
        summary: {},
        failed: exitCode === 1 ? [{ urn: `urn:${customers[0]}`, type: "Release", error: "timed out" }] : [],
        errors: exitCode === 0 ? [] : [`exit ${exitCode}`],
      };
      return Promise.resolve(u);
    },
    deployed() {
      return Promise.resolve(
        new Map(
          ["beam", "polygraf", "rimbal"].map((name): [string, DeployedCustomer] => [
            name,
            {
              name,
              namespace: `${name}-platform`,
              release: "es1-platform",
              platformVersion: config[name] ?? "1.0.0",
            },
          ]),
        ),
      );
    },
    verify(customers, versions) {
      calls.push(`verify ${customers.map((c) => `${c.name}@${versions[c.name]}`).join("+")}`);
      return Promise.resolve(
        customers.map((c): CustomerReadiness => ({
          customer: c.name,
          namespace: c.namespace,
          version: versions[c.name],
          // A broken customer is broken only at the new version.
          ready: !(opts.broken?.includes(c.name) && versions[c.name] === "2.0.0"),
          workloads: [],
        })),
      );
    },
    log: () => undefined,
  };
  return { steps, calls, config };
}

describe("es1 rollout: waves", function () {
  const start = (): RolloutStart => ({
    deployed: new Map(
      [
        ["beam", "1.0.0"],
        ["polygraf", "1.1.0"],
        ["rimbal", "1.0.0"],
      ].map(([name, v]): [string, DeployedCustomer] => [
        name,
        { name, namespace: `${name}-platform`, release: "es1-platform", platformVersion: v },
      ]),
    ),
    configured: { beam: undefined, polygraf: "1.1.0", rimbal: undefined },
  });
  const plan = (rollbackOnFailure: boolean): RolloutPlan => ({
    version: "2.0.0",
    waves: [["beam"], ["polygraf"], ["rimbal"]],
    rollbackOnFailure,
    readyTimeoutSeconds: 1,
  });

  it("moves every wave in order, checking each is Ready at the new version", async function () {
    const { steps, calls, config } = fakeSteps({});
    const r = await runWaves(plan(false), start(), steps);
    assert.strictEqual(r.exitCode, 0);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "succeeded", "succeeded"],
    );
    assert.deepStrictEqual(calls, [
      "set beam=2.0.0",
      "up beam",
      "verify beam@2.0.0",
      "set polygraf=2.0.0",
      "up polygraf",
      "verify polygraf@2.0.0",
      "set rimbal=2.0.0",
      "up rimbal",
      "verify rimbal@2.0.0",
    ]);
    assert.deepStrictEqual(config, { beam: "2.0.0", polygraf: "2.0.0", rimbal: "2.0.0" });
    assert.deepStrictEqual(r.waves[1].previousVersions, { polygraf: "1.1.0" });
  });

  it("stops at a wave whose update fails: later waves untouched, its config left for a retry", async function () {
    const { steps, calls, config } = fakeSteps({ updateExit: { polygraf: 1 } });
    const r = await runWaves(plan(false), start(), steps);
    assert.strictEqual(r.exitCode, 1);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "failed", "not-started"],
    );
    assert.ok(!calls.some((c) => c.includes("rimbal")), calls.join("\n"));
    assert.strictEqual(config.polygraf, "2.0.0");
    assert.ok(
      r.waves[1].errors.some((e) => /urn:polygraf: timed out/.test(e)),
      r.waves[1].errors.join("\n"),
    );
  });

  it("rolls a wave that is not Ready back to each customer's previous config", async function () {
    const { steps, calls, config } = fakeSteps({ broken: ["polygraf"] });
    const start0 = start();
    start0.configured.beam = undefined;
    const r = await runWaves({ ...plan(true), waves: [["beam"], ["polygraf", "rimbal"]] }, start0, steps);
    assert.strictEqual(r.exitCode, 1);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "rolled-back"],
    );
    assert.deepStrictEqual(calls.slice(3), [
      "set polygraf=2.0.0 rimbal=2.0.0",
      "up polygraf+rimbal",
      "verify polygraf@2.0.0+rimbal@2.0.0",
      // polygraf had a version in config, rimbal none: each gets exactly what it had.
      "set polygraf=1.1.0 rimbal=-",
      "up polygraf+rimbal",
      "verify polygraf@1.1.0+rimbal@1.0.0",
    ]);
    assert.deepStrictEqual(config, { beam: "2.0.0", polygraf: "1.1.0", rimbal: undefined });
    assert.match(r.waves[1].errors.join("\n"), /polygraf: not Ready at 2\.0\.0/);
  });

  it("deploys nothing more when the stack is locked or the program refuses, and puts the config back", async function () {
    const locked = fakeSteps({ updateExit: { beam: 3 } });
    const r = await runWaves(plan(true), start(), locked.steps);
    assert.strictEqual(r.exitCode, 3);
    assert.deepStrictEqual(locked.calls, ["set beam=2.0.0", "up beam", "set beam=-"]);
    assert.strictEqual(locked.config.beam, undefined);

    const refused = fakeSteps({ updateExit: { beam: 2 } });
    const r2 = await runWaves(plan(false), start(), refused.steps);
    assert.strictEqual(r2.exitCode, 2);
    assert.deepStrictEqual(refused.calls, ["set beam=2.0.0", "up beam", "set beam=-"]);
    assert.strictEqual(refused.config.beam, undefined);
  });

  it("refuses customers that are not deployed in the stack or named twice, before any change", function () {
    const problems = planProblems({ ...plan(false), waves: [["beam"], ["nordlys", "beam"]] }, start());
    assert.deepStrictEqual(problems, [
      "customer 'nordlys' has no platform in this stack (deployed: beam, polygraf, rimbal); deploy it with es1 up first",
      "customer 'beam' is in --waves more than once",
    ]);
  });
});

describe("es1 rollout: cluster access from the stack's kubeconfig", function () {
  const kubeconfig = (user: Record<string, unknown>) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "other",
      clusters: [
        {
          name: "c1",
          cluster: {
            server: "https://127.0.0.1:6443/",
            "certificate-authority-data": Buffer.from("CA").toString("base64"),
          },
        },
        { name: "c2", cluster: { server: "https://other:6443" } },
      ],
      users: [{ name: "u1", user }],
      contexts: [
        { name: "kwok-es1", context: { cluster: "c1", user: "u1" } },
        { name: "other", context: { cluster: "c2", user: "none" } },
      ],
    });

  it("uses the named context's server, CA and client certificate", function () {
    const a = kubeAccess(
      kubeconfig({
        "client-certificate-data": Buffer.from("CERT").toString("base64"),
        "client-key-data": Buffer.from("KEY").toString("base64"),
      }),
      "kwok-es1",
    );
    assert.strictEqual(a.server, "https://127.0.0.1:6443");
    assert.strictEqual(a.ca?.toString(), "CA");
    assert.strictEqual(a.cert?.toString(), "CERT");
    assert.strictEqual(a.key?.toString(), "KEY");
    assert.strictEqual(kubeAccess(kubeconfig({}), undefined).server, "https://other:6443");
  });

  it("runs an exec plugin (as GKE and EKS kubeconfigs have) and uses its token", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-exec-"));
    const plugin = path.join(dir, "plugin.js");
    fs.writeFileSync(
      plugin,
      "const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);\n" +
        "process.stdout.write(JSON.stringify({ kind: 'ExecCredential', status: { token: process.env.PREFIX + info.spec.interactive } }));\n",
    );
    const a = kubeAccess(
      kubeconfig({
        exec: {
          apiVersion: "client.authentication.k8s.io/v1beta1",
          command: process.execPath,
          args: [plugin],
          env: [{ name: "PREFIX", value: "tok-" }],
        },
      }),
      "kwok-es1",
    );
    assert.strictEqual(a.token, "tok-false");
  });

  it("reads the machine's kubeconfig for an ambient stack, with paths relative to that file", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-kubeconfig-"));
    fs.writeFileSync(path.join(dir, "ca.crt"), "FILE-CA");
    const file = path.join(dir, "config");
    fs.writeFileSync(
      file,
      JSON.stringify({
        "current-context": "here",
        clusters: [{ name: "c", cluster: { server: "https://k:6443", "certificate-authority": "ca.crt" } }],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "here", context: { cluster: "c", user: "u" } }],
      }),
    );
    const k = kubeconfigText("", { KUBECONFIG: `${file}${path.delimiter}/elsewhere` });
    const a = kubeAccess(k.text, undefined, k.dir);
    assert.strictEqual(a.ca?.toString(), "FILE-CA");
    assert.strictEqual(a.token, "t");
  });

  it("names a missing context or server", function () {
    assert.throws(() => kubeAccess(kubeconfig({}), "gone"), /no context 'gone'/);
  });
});
