import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { main as cli } from "../../automation/cli";
import { UsageError } from "../../automation/commands/common";
import { parseRolloutArgs, parseWaves } from "../../automation/commands/rollout-args";
import { KubeClient, kubeAccess, kubeconfigText } from "../../automation/kube";
import { CustomerReadiness, workloadReadiness } from "../../automation/readiness";
import {
  DeployedCustomer,
  planProblems,
  RolloutPlan,
  RolloutStart,
  RolloutSteps,
  runWaves,
  verifier,
  waveUpdateOf,
  WaveUpdate,
} from "../../automation/rollout";
import { ExitCode, OperationReport } from "../../automation/report";
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
      allowDowngrade: false,
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

/**
 * Fake steps: a cluster where `broken` customers never become Ready, `updateExit` fails updates,
 * `throwOn` makes a step throw for a customer, and `abortAfterUpdateOf` is a SIGTERM during that
 * customer's update.
 */
function fakeSteps(opts: {
  broken?: string[];
  updateExit?: Record<string, ExitCode>;
  throwOn?: { step: "update" | "deployed"; customer: string };
  abortAfterUpdateOf?: string;
}) {
  const config: Record<string, string | undefined> = { polygraf: "1.1.0" };
  const calls: string[] = [];
  let aborted = false;
  let current: string[] = [];
  const steps: RolloutSteps = {
    aborted: () => aborted,
    setVersions(versions) {
      for (const [c, v] of Object.entries(versions)) config[c] = v;
      calls.push(
        `set ${Object.entries(versions)
          .map(([c, v]) => `${c}=${v ?? "-"}`)
          .join(" ")}`,
      );
      return Promise.resolve();
    },
    update(customers, { allowDowngrade }) {
      calls.push(`up ${customers.join("+")}${allowDowngrade ? " (downgrade allowed)" : ""}`);
      current = customers;
      if (opts.throwOn?.step === "update" && customers.includes(opts.throwOn.customer))
        return Promise.reject(new Error("pulumi: unexpected end of JSON input"));
      if (customers.includes(opts.abortAfterUpdateOf ?? "")) aborted = true;
      const exitCode = aborted
        ? 1
        : (customers.map((c) => opts.updateExit?.[c]).find((x) => x !== undefined) ?? 0);
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
      if (opts.throwOn?.step === "deployed" && current.includes(opts.throwOn.customer))
        return Promise.reject(new Error("cannot read the stack's outputs"));
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
      "up polygraf+rimbal (downgrade allowed)",
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

describe("es1 rollout: failures mid-wave", function () {
  const start = (): RolloutStart => ({
    deployed: new Map(
      ["beam", "polygraf", "rimbal"].map((name): [string, DeployedCustomer] => [
        name,
        { name, namespace: `${name}-platform`, release: "es1-platform", platformVersion: "1.0.0" },
      ]),
    ),
    configured: { beam: undefined, polygraf: "1.1.0", rimbal: undefined },
  });
  const plan: RolloutPlan = {
    version: "2.0.0",
    waves: [["beam"], ["polygraf"], ["rimbal"]],
    rollbackOnFailure: true,
    readyTimeoutSeconds: 1,
  };

  it("turns an error inside a wave's update into its report and puts that wave's config back", async function () {
    const { steps, calls, config } = fakeSteps({ throwOn: { step: "update", customer: "polygraf" } });
    const r = await runWaves(plan, start(), steps);
    assert.strictEqual(r.exitCode, 1);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "failed", "not-started"],
    );
    assert.match(r.waves[1].errors.join("\n"), /wave 2 stopped: pulumi: unexpected end of JSON input/);
    // The completed wave keeps the new version; the failed one is back at what it had.
    assert.deepStrictEqual(config, { beam: "2.0.0", polygraf: "1.1.0" });
    assert.ok(!calls.some((c) => c.includes("rimbal")), calls.join("\n"));
    // The report is plain data, written as one JSON document.
    assert.doesNotThrow(() => JSON.stringify(r));
  });

  it("keeps the config of a wave whose update deployed before an error: it says what runs", async function () {
    const { steps, config } = fakeSteps({ throwOn: { step: "deployed", customer: "polygraf" } });
    const r = await runWaves(plan, start(), steps);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "failed", "not-started"],
    );
    assert.match(r.waves[1].errors.join("\n"), /cannot read the stack's outputs/);
    assert.deepStrictEqual(config, { beam: "2.0.0", polygraf: "2.0.0" });
  });

  it("stops at SIGTERM during an update: wave cancelled, its config back, no rollback, no later wave", async function () {
    const { steps, calls, config } = fakeSteps({ abortAfterUpdateOf: "polygraf" });
    const r = await runWaves(plan, start(), steps);
    assert.strictEqual(r.exitCode, 1);
    assert.deepStrictEqual(
      r.waves.map((w) => w.status),
      ["succeeded", "cancelled", "not-started"],
    );
    assert.deepStrictEqual(calls.slice(3), ["set polygraf=2.0.0", "up polygraf", "set polygraf=1.1.0"]);
    assert.deepStrictEqual(config, { beam: "2.0.0", polygraf: "1.1.0" });
  });

  it("asks for a downgrade only when told to, and always for a rollback", async function () {
    const { steps, calls } = fakeSteps({ broken: ["beam"] });
    await runWaves({ ...plan, waves: [["beam"]], allowDowngrade: false }, start(), steps);
    assert.deepStrictEqual(
      calls.filter((c) => c.startsWith("up")),
      ["up beam", "up beam (downgrade allowed)"],
    );
    const forced = fakeSteps({});
    await runWaves({ ...plan, waves: [["beam"]], allowDowngrade: true }, start(), forced.steps);
    assert.deepStrictEqual(
      forced.calls.filter((c) => c.startsWith("up")),
      ["up beam (downgrade allowed)"],
    );
  });

  it("counts a customer held back for its license as refused only when it is in the wave", function () {
    const report: OperationReport = {
      operation: "up",
      stack: "s",
      status: "succeeded",
      exitCode: 5,
      changes: {},
      summary: { same: 3 },
      durationSeconds: 1,
      outputs: {},
      failed: [],
      errors: [],
      customersHeld: [
        { customer: "rimbal", key: "es1:licenses.rimbal", status: "held", reason: "expired on 2021-12-31" },
      ],
    };
    assert.strictEqual(waveUpdateOf(report, ["beam"]).exitCode, 0);
    const held = waveUpdateOf(report, ["rimbal"]);
    assert.strictEqual(held.exitCode, 2);
    assert.match(held.errors.join("\n"), /es1:licenses\.rimbal: customer 'rimbal' is held back: expired/);
  });
});

describe("es1 rollout: credentials that expire during the rollout", function () {
  /**
   * A cluster API that accepts only tokens issued since the last "expiry": every wave's update
   * takes long enough for the token used before it to expire (an EKS token lives 15 minutes).
   */
  let server: http.Server;
  let url: string;
  let issued = 0;
  let validFrom = 1;
  const requests: { token: string; status: number }[] = [];

  before(async function () {
    server = http.createServer((req, res) => {
      const token = (req.headers.authorization ?? "").replace(/^Bearer tok-/, "");
      const ok = Number(token) >= validFrom;
      requests.push({ token, status: ok ? 200 : 401 });
      res.writeHead(ok ? 200 : 401, { "Content-Type": "application/json" });
      if (!ok) {
        res.end(JSON.stringify({ kind: "Status", code: 401, message: "Unauthorized" }));
        return;
      }
      const ns = (req.url ?? "").split("/")[5];
      const items = (req.url ?? "").includes("/deployments")
        ? [
            {
              metadata: { name: "es1-platform-gateway", generation: 1 },
              spec: {
                replicas: 1,
                template: { spec: { containers: [{ name: "gateway", image: "r/gw:2.0.0" }] } },
              },
              status: {
                observedGeneration: 1,
                replicas: 1,
                updatedReplicas: 1,
                readyReplicas: 1,
                availableReplicas: 1,
              },
            },
          ]
        : [];
      res.end(JSON.stringify({ kind: "List", namespace: ns, items }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(function () {
    server.close();
  });

  it("fetches the credentials again for each wave, so a healthy wave is not reported failed", async function () {
    // What the kubeconfig's exec plugin does: a new token each time it runs.
    const kube = new KubeClient(() => ({ server: url, token: `tok-${++issued}` }));
    const fake = fakeSteps({});
    const steps: RolloutSteps = {
      ...fake.steps,
      update: async (customers, o) => {
        const r = await fake.steps.update(customers, o);
        validFrom = issued + 1; // every token issued so far expires during the update
        return r;
      },
      verify: verifier(kube, { readyTimeoutSeconds: 1, pollSeconds: 0.05 }),
    };
    const r = await runWaves(
      {
        version: "2.0.0",
        waves: [["beam"], ["polygraf"], ["rimbal"]],
        rollbackOnFailure: true,
        readyTimeoutSeconds: 1,
      },
      {
        deployed: new Map(
          ["beam", "polygraf", "rimbal"].map((name): [string, DeployedCustomer] => [
            name,
            { name, namespace: `${name}-platform`, release: "es1-platform", platformVersion: "1.0.0" },
          ]),
        ),
        configured: {},
      },
      steps,
    );
    assert.deepStrictEqual(
      r.waves.map((w) => [w.status, w.errors]),
      [
        ["succeeded", []],
        ["succeeded", []],
        ["succeeded", []],
      ],
    );
    assert.ok(
      requests.every((q) => q.status === 200),
      "a request went out with an expired token",
    );
    assert.strictEqual(issued, 3, "one fresh token per wave");
  });

  it("fetches them again when the API server answers 401, and retries once", async function () {
    const kube = new KubeClient(() => ({ server: url, token: `tok-${++issued}` }));
    await kube.get("/apis/apps/v1/namespaces/beam-platform/deployments");
    validFrom = issued + 1; // expires between two requests
    const before = requests.length;
    const list = await kube.get<{ items: unknown[] }>("/apis/apps/v1/namespaces/beam-platform/deployments");
    assert.strictEqual(list.items.length, 1);
    assert.deepStrictEqual(
      requests.slice(before).map((q) => q.status),
      [401, 200],
    );
    // A credential that cannot be renewed still fails, with the server's answer.
    const stuck = new KubeClient(() => ({ server: url, token: "tok-0" }));
    await assert.rejects(stuck.get("/apis/apps/v1/namespaces/x/deployments"), /HTTP 401/);
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
