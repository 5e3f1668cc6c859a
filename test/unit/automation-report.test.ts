import * as assert from "assert";
import {
  CommandError,
  ConcurrentUpdateError,
  EngineEvent,
  OpType,
  OutputMap,
  Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { UsageError } from "../../automation/commands/common";
import { formatReport } from "../../automation/commands/stack";
import { runOperation } from "../../automation/operations";
import {
  ConfigSetError,
  errorMessages,
  EventCollector,
  exitCodeFor,
  exitCodeForMessages,
  hasChanges,
  maskOutputMap,
  maskSecrets,
  OperationReport,
  SECRET_SIG_KEY,
  SECRET_SIG_VALUE,
  UnexpectedChangesError,
  heldCustomer,
} from "../../automation/report";
import { serialized } from "../../automation/workspace";
import { ConfigError, ConfigErrors } from "../../config/errors";

const PREFIX = "urn:pulumi:ci::es1-platform::";
const NS = `${PREFIX}es1:infrastructure:Infrastructure$kubernetes:core/v1:Namespace::namespace`;
const SECRET = `${PREFIX}es1:infrastructure:Infrastructure$kubernetes:core/v1:Secret::postgresql-superuser`;
const RELEASE = `${PREFIX}es1:infrastructure:Infrastructure$kubernetes:helm.sh/v3:Release::es1-base`;
const STACK = `${PREFIX}pulumi:pulumi:Stack::es1-platform-ci`;

let seq = 0;
function step(kind: "pre" | "out", op: OpType, urn: string): EngineEvent {
  const type = urn.split("::")[2].split("$").pop() ?? "";
  const metadata = { op, urn, type, provider: "" };
  return kind === "pre"
    ? { sequence: seq++, timestamp: 0, resourcePreEvent: { metadata } }
    : { sequence: seq++, timestamp: 0, resOutputsEvent: { metadata } };
}
function both(op: OpType, urn: string): EngineEvent[] {
  return [step("pre", op, urn), step("out", op, urn)];
}
function diag(message: string, urn?: string): EngineEvent {
  return {
    sequence: seq++,
    timestamp: 0,
    diagnosticEvent: { urn, message, color: "never", severity: "error" },
  };
}
function failedOp(urn: string): EngineEvent {
  const type = urn.split("$").pop()?.split("::")[0] ?? "";
  return {
    sequence: seq++,
    timestamp: 0,
    resOpFailedEvent: { metadata: { op: "create", urn, type, provider: "" }, status: 1, steps: 0 },
  };
}
function summary(resourceChanges: Record<string, number>): EngineEvent {
  return {
    sequence: seq++,
    timestamp: 0,
    summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges, policyPacks: {} },
  };
}

/** An error of the SDK's class as the SDK would throw it (its constructor is internal). */
function sdkError<T extends Error>(cls: { prototype: T }, name: string, message: string): T {
  const e = Object.create(cls.prototype) as T;
  e.message = message;
  e.name = name;
  return e;
}

// The SDK's message for a failed CLI run: its exit, then the CLI's whole output.
const LOCKED_MESSAGE =
  "code: -2\n stdout: \n stderr: Command failed with exit code 255: pulumi up --yes --stack ci\n" +
  "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete " +
  "the lock file with `pulumi cancel`.\n  file:///s/.pulumi/locks/x.json: created by ci@h (pid 7)\n";

describe("automation report: change counts from engine events", function () {
  it("counts each resource once per operation, by type, like the engine's summary", function () {
    const c = new EventCollector();
    for (const e of [
      ...both("create", STACK),
      ...both("create", NS),
      step("out", "create", NS), // a component's outputs can be reported twice
      ...both("same", SECRET),
      ...both("update", RELEASE),
      summary({ create: 2, same: 1, update: 1 }),
    ])
      c.onEvent(e);
    assert.deepStrictEqual(c.changes(), {
      "kubernetes:core/v1:Namespace": { create: 1 },
      "kubernetes:core/v1:Secret": { same: 1 },
      "kubernetes:helm.sh/v3:Release": { update: 1 },
      "pulumi:pulumi:Stack": { create: 1 },
    });
    assert.deepStrictEqual(c.summary(), { create: 2, same: 1, update: 1 });
    assert.deepStrictEqual([c.failed(), c.errors()], [[], []]);
  });

  it("counts a replacement as one replace, and a refresh by its outcome", function () {
    const c = new EventCollector();
    for (const e of [
      step("pre", "create-replacement", RELEASE),
      step("pre", "replace", RELEASE),
      step("out", "create-replacement", RELEASE),
      step("out", "replace", RELEASE),
      step("pre", "delete-replaced", RELEASE),
      step("out", "delete-replaced", RELEASE),
      step("pre", "refresh", NS),
      step("out", "update", NS),
    ])
      c.onEvent(e);
    assert.deepStrictEqual(c.changes(), {
      "kubernetes:core/v1:Namespace": { update: 1 },
      "kubernetes:helm.sh/v3:Release": { replace: 1 },
    });
    // Without a summary event the totals are the sum of the counts.
    assert.deepStrictEqual(c.summary(), { update: 1, replace: 1 });
  });

  it("reports a failed resource with its own errors, and the other errors apart", function () {
    const c = new EventCollector();
    for (const e of [
      ...both("create", NS),
      step("pre", "create", RELEASE),
      diag("warning only\n", RELEASE),
      diag("release es1-base failed: timed out waiting for the condition\n", RELEASE),
      diag("release es1-base failed: timed out waiting for the condition\n", RELEASE),
      failedOp(RELEASE),
      diag("update failed\n"),
    ])
      c.onEvent(e);
    assert.deepStrictEqual(c.failed(), [
      {
        urn: RELEASE,
        type: "kubernetes:helm.sh/v3:Release",
        error: "warning only\nrelease es1-base failed: timed out waiting for the condition",
      },
    ]);
    assert.deepStrictEqual(c.errors(), ["update failed"]);
    assert.deepStrictEqual(c.changes()["kubernetes:helm.sh/v3:Release"], { create: 1 });
  });

  it("sees changes in anything but unchanged resources and reads", function () {
    assert.strictEqual(hasChanges({ same: 7 }), false);
    assert.strictEqual(hasChanges({ same: 7, read: 1 }), false);
    assert.strictEqual(hasChanges({}), false);
    assert.strictEqual(hasChanges({ same: 6, update: 1 }), true);
    assert.strictEqual(hasChanges({ delete: 1 }), true);
  });
});

describe("automation report: secrets are masked in outputs", function () {
  const envelope = (inner: Record<string, string>) => ({ [SECRET_SIG_KEY]: SECRET_SIG_VALUE, ...inner });

  it("masks secret outputs and secrets nested in plain outputs", function () {
    const outputs: OutputMap = {
      password: { value: "hunter2-hunter2", secret: true },
      kubeconfig: { value: { clusters: [{ token: "t0ps3cret" }] }, secret: true },
      endpoints: {
        value: {
          host: "db",
          auth: envelope({ plaintext: '"p4ssw0rd"' }),
          list: [envelope({ ciphertext: "v1:abc" })],
        },
        secret: false,
      },
      cloud: { value: "existing", secret: false },
      replicas: { value: 3, secret: false },
    };
    const masked = maskOutputMap(outputs);
    assert.deepStrictEqual(masked, {
      password: "[secret]",
      kubeconfig: "[secret]",
      endpoints: { host: "db", auth: "[secret]", list: ["[secret]"] },
      cloud: "existing",
      replicas: 3,
    });
    const text = JSON.stringify(masked);
    for (const leak of ["hunter2", "t0ps3cret", "p4ssw0rd", "v1:abc"]) assert.ok(!text.includes(leak), leak);
  });

  it("keeps the CLI's own mask and turns non-JSON leaves into null", function () {
    assert.deepStrictEqual(maskSecrets({ a: "[secret]", b: [1, true, null], c: undefined, d: NaN }), {
      a: "[secret]",
      b: [1, true, null],
      c: null,
      d: null,
    });
    assert.strictEqual(maskSecrets(envelope({ plaintext: "x" }), "<secret>"), "<secret>");
  });
});

describe("automation report: exit codes", function () {
  it("maps SDK errors, our errors and known messages to the documented codes", function () {
    const cases: [unknown, number][] = [
      [sdkError(ConcurrentUpdateError, "ConcurrentUpdateError", "x"), 3],
      [sdkError(CommandError, "CommandError", LOCKED_MESSAGE), 3],
      [new Error("[409] Conflict: Another update is currently in progress."), 3],
      [sdkError(StackNotFoundError, "StackNotFoundError", "e"), 2],
      [new Error("error: no stack named 'pipeline' found"), 2],
      [
        new ConfigErrors([
          new ConfigError("es1:environment", '"staging" is not allowed; use one of: dev, prod'),
        ]),
        2,
      ],
      [new ConfigError("es1:sizing", "bad"), 2],
      [new Error("error: Invalid stack configuration 'es1:environment': ..."), 2],
      [
        new Error(
          "error: constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE",
        ),
        2,
      ],
      [new UsageError("unknown option '--bogus'"), 2],
      [new ConfigSetError("cannot set es1:a[: invalid path"), 2],
      [new UnexpectedChangesError({ update: 1, same: 6 }), 4],
      [new Error("release es1-base failed: timed out"), 1],
      ["a string", 1],
    ];
    for (const [error, code] of cases) assert.strictEqual(exitCodeFor(error), code, String(error));
    assert.ok(sdkError(ConcurrentUpdateError, "ConcurrentUpdateError", "x") instanceof CommandError);
  });

  it("prefers what the events said over the CLI's generic failure", function () {
    assert.strictEqual(exitCodeForMessages(["Invalid stack configuration 'es1:sizing': bad"]), 2);
    assert.strictEqual(exitCodeForMessages(["the stack is currently locked by 1 lock(s)."]), 3);
    assert.strictEqual(exitCodeForMessages(["release failed"]), undefined);
  });

  it("shows a CLI failure by its error lines, not the whole command output", function () {
    const e = sdkError(CommandError, "CommandError", LOCKED_MESSAGE);
    assert.deepStrictEqual(errorMessages(e), [
      "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
    ]);
    assert.deepStrictEqual(errorMessages(new Error("plain")), ["plain"]);
  });
});

/** A Stack double that replays events and resolves or rejects like the SDK. */
function fakeStack(
  events: EngineEvent[],
  outcome: Error | Record<string, number>,
  outputs: OutputMap = {},
): Stack {
  type Opts = { onEvent?: (e: EngineEvent) => void };
  const run = async (opts?: Opts) => {
    for (const e of events) opts?.onEvent?.(e);
    if (outcome instanceof Error) throw outcome;
    return { changeSummary: outcome, summary: { resourceChanges: outcome }, stdout: "", stderr: "" };
  };
  const fake = {
    name: "ci",
    workspace: {},
    preview: run,
    up: run,
    refresh: run,
    destroy: run,
    outputs: async () => outputs,
    // Never deployed: nothing for the preflight checks to compare.
    exportStack: async () => ({ version: 3, deployment: {} }),
  };
  return fake as unknown as Stack;
}

const REPORT_KEYS = [
  "changes",
  "durationSeconds",
  "errors",
  "exitCode",
  "failed",
  "operation",
  "outputs",
  "stack",
  "status",
  "summary",
];

describe("automation report: the JSON document of an operation", function () {
  const created = [
    ...both("create", STACK),
    ...both("create", NS),
    ...both("create", RELEASE),
    summary({ create: 3 }),
  ];

  it("has the documented fields, JSON through and through", async function () {
    const r = await runOperation(
      fakeStack(created, { create: 3 }, { cloud: { value: "existing", secret: false } }),
      "up",
    );
    assert.deepStrictEqual(Object.keys(r).sort(), REPORT_KEYS);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(r)), r);
    assert.strictEqual(r.operation, "up");
    assert.strictEqual(r.stack, "ci");
    assert.strictEqual(r.status, "succeeded");
    assert.strictEqual(r.exitCode, 0);
    assert.deepStrictEqual(r.summary, { create: 3 });
    assert.deepStrictEqual(r.changes["kubernetes:helm.sh/v3:Release"], { create: 1 });
    assert.deepStrictEqual(r.outputs, { cloud: "existing" });
    assert.ok(typeof r.durationSeconds === "number" && r.durationSeconds >= 0);
    assert.match(formatReport(r), /^es1 up ci: succeeded in [\d.]+s \(exit 0\)\n {2}resources: create 3\n/);
  });

  it("masks secret outputs in the document", async function () {
    const r = await runOperation(
      fakeStack([], {}, { kubeconfig: { value: "apiVersion: v1 token", secret: true } }),
      "outputs",
    );
    assert.deepStrictEqual(r.outputs, { kubeconfig: "[secret]" });
    assert.ok(!JSON.stringify(r).includes("token"));
    assert.deepStrictEqual([r.summary, r.changes], [{}, {}]);
  });

  it("exits 4 when --expect-no-changes meets changes, 0 when nothing changes", async function () {
    const changed = await runOperation(fakeStack(created, { create: 3 }), "preview", {
      expectNoChanges: true,
    });
    assert.deepStrictEqual([changed.exitCode, changed.status], [4, "failed"]);
    assert.match(changed.errors[0], /--expect-no-changes.*create 3/);
    const same = await runOperation(
      fakeStack([...both("same", NS), summary({ same: 1 })], { same: 1 }),
      "preview",
      {
        expectNoChanges: true,
      },
    );
    assert.deepStrictEqual([same.exitCode, same.errors], [0, []]);
  });

  it("exits 2 with the key for a config error and 3 for a locked stack", async function () {
    const key =
      "Invalid stack configuration 'es1:environment': \"staging\" is not allowed; use one of: dev, prod";
    const cli = sdkError(
      CommandError,
      "CommandError",
      `code: -2\n stdout: \n stderr: Command failed\n    error: ${key}\n`,
    );
    const bad = await runOperation(fakeStack([...both("create", STACK), diag(`${key}\n`)], cli), "preview");
    assert.deepStrictEqual([bad.exitCode, bad.status, bad.errors], [2, "failed", [key]]);
    const locked = await runOperation(
      fakeStack([], sdkError(ConcurrentUpdateError, "ConcurrentUpdateError", LOCKED_MESSAGE)),
      "up",
    );
    assert.strictEqual(locked.exitCode, 3);
    assert.match(locked.errors[0], /currently locked/);
  });

  it("exits 1 with the failed resources when a deployment fails", async function () {
    const events = [
      ...both("create", NS),
      step("pre", "create", RELEASE),
      diag("timed out\n", RELEASE),
      failedOp(RELEASE),
    ];
    const r: OperationReport = await runOperation(
      fakeStack(events, sdkError(CommandError, "CommandError", "code: 255\n stderr: error: update failed\n")),
      "up",
    );
    assert.deepStrictEqual([r.exitCode, r.status], [1, "failed"]);
    assert.deepStrictEqual(r.failed, [
      { urn: RELEASE, type: "kubernetes:helm.sh/v3:Release", error: "timed out" },
    ]);
  });
});

describe("automation workspace: stack selection one at a time", function () {
  it("runs queued tasks in order, one after the other, even when one fails", async function () {
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      serialized(task("a", 15)),
      serialized(task("b", 1, true)),
      serialized(task("c", 1)),
    ]);
    assert.deepStrictEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    assert.deepStrictEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
  });
});

describe("automation report: customers held back for their license", function () {
  it("reports held customers from the program's warnings", function () {
    assert.deepStrictEqual(
      heldCustomer("customer 'beam' is held back: license of customer 'beam': expired\n"),
      {
        customer: "beam",
        key: "es1:licenses.beam",
        status: "held",
        reason: "license of customer 'beam': expired",
      },
    );
    assert.strictEqual(heldCustomer("customer 'beam': autogen is not deployed: license x"), undefined);
  });
});
