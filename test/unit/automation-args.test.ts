import * as assert from "assert";
import { main as cli } from "../../automation/cli";
import { UsageError } from "../../automation/commands/common";
import { parseStackArgs, STACK_COMMANDS, StackCommand } from "../../automation/commands/stack-args";
import { parseSetting, qualifyKey } from "../../automation/config-settings";
import { customerTargets } from "../../automation/operations";
import { memoryIO } from "./command-io";

function usageError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof UsageError && pattern.test(e.message));
}

describe("es1 stack commands: argument parsing", function () {
  it("reads every flag of up, in both --flag value and --flag=value forms", function () {
    const a = parseStackArgs("up", [
      "--stack",
      "gcp-prod",
      "--set",
      "es1:cluster.context=kwok-es1",
      "--set=environment=prod",
      "--yes",
      "--json",
      "--expect-no-changes",
      "--skip-preflight",
    ]);
    assert.deepStrictEqual(a, {
      command: "up",
      stack: "gcp-prod",
      settings: [
        { key: "es1:cluster.context", value: "kwok-es1" },
        { key: "es1:environment", value: "prod" },
      ],
      yes: true,
      json: true,
      expectNoChanges: true,
      customers: [],
      allowDowngrade: false,
      skipPreflight: true,
    });
    assert.throws(
      () => parseStackArgs("refresh", ["--stack", "s", "--skip-preflight"]),
      /unknown option '--skip-preflight'/,
    );
    assert.strictEqual(
      parseStackArgs("preview", ["--stack=org/es1-platform/dev"]).stack,
      "org/es1-platform/dev",
    );
  });

  it("defaults every boolean to false and settings to none", function () {
    for (const command of STACK_COMMANDS) {
      const argv = command === "render" ? ["--stack", "s", "--out", "d"] : ["--stack", "s"];
      const a = parseStackArgs(command, argv);
      assert.deepStrictEqual(
        [a.stack, a.settings, a.yes, a.json, a.expectNoChanges, a.allowDowngrade, a.skipPreflight],
        ["s", [], false, false, false, false, false],
        command,
      );
    }
  });

  it("takes --allow-downgrade on preview and up only", function () {
    for (const command of ["preview", "up"] as const)
      assert.strictEqual(parseStackArgs(command, ["--stack", "s", "--allow-downgrade"]).allowDowngrade, true);
    assert.throws(
      () => parseStackArgs("refresh", ["--stack", "s", "--allow-downgrade"]),
      /unknown option '--allow-downgrade'/,
    );
  });

  it("takes --out for render and --json everywhere", function () {
    const r = parseStackArgs("render", [
      "--stack",
      "local",
      "--out",
      "rendered",
      "--set",
      "sizing=minimal",
      "--json",
    ]);
    assert.strictEqual(r.out, "rendered");
    assert.deepStrictEqual(r.settings, [{ key: "es1:sizing", value: "minimal" }]);
    for (const command of STACK_COMMANDS) {
      const argv =
        command === "render" ? ["--stack", "s", "--out", "d", "--json"] : ["--stack", "s", "--json"];
      assert.strictEqual(parseStackArgs(command, argv).json, true, command);
    }
  });

  it("refuses flags a command does not take", function () {
    const wrong: [StackCommand, string[]][] = [
      ["preview", ["--yes"]],
      ["refresh", ["--set", "a=b"]],
      ["destroy", ["--set", "a=b"]],
      ["destroy", ["--expect-no-changes"]],
      ["outputs", ["--yes"]],
      ["outputs", ["--expect-no-changes"]],
      ["outputs", ["--out", "x"]],
      ["up", ["--out", "x"]],
      ["secrets init", ["--set", "a=b"]],
      ["render", ["--customer", "beam"]],
      ["up", ["-y"]],
      ["up", ["--bogus"]],
    ];
    for (const [command, extra] of wrong)
      usageError(() => parseStackArgs(command, ["--stack", "s", ...extra]), /unknown option/);
  });

  it("names each other mistake", function () {
    usageError(() => parseStackArgs("up", []), /--stack is required/);
    usageError(() => parseStackArgs("up", ["--stack"]), /--stack needs a value/);
    usageError(() => parseStackArgs("up", ["--stack", "--yes"]), /--stack needs a value/);
    usageError(() => parseStackArgs("up", ["--stack", "a", "--stack", "b"]), /more than once/);
    usageError(() => parseStackArgs("up", ["--stack", "a", "extra"]), /unexpected argument 'extra'/);
    usageError(() => parseStackArgs("up", ["--stack", "a b"]), /not a valid stack name/);
    usageError(() => parseStackArgs("up", ["--stack", "a/b/c/d"]), /not a valid stack name/);
    usageError(() => parseStackArgs("up", ["--stack", "a", "--set", "novalue"]), /--set needs key=value/);
    usageError(() => parseStackArgs("up", ["--stack", "a", "--set", "=x"]), /--set needs key=value/);
    usageError(() => parseStackArgs("up", ["--stack", "a", "--yes=true"]), /takes no value/);
    usageError(() => parseStackArgs("render", ["--stack", "a"]), /--out is required/);
  });

  it("qualifies --set keys like `pulumi config set` with the es1 namespace", function () {
    assert.strictEqual(qualifyKey("environment"), "es1:environment");
    assert.strictEqual(qualifyKey("cluster.context"), "es1:cluster.context");
    assert.strictEqual(qualifyKey("secrets[0]"), "es1:secrets[0]");
    assert.strictEqual(qualifyKey("kubernetes:context"), "kubernetes:context");
    assert.strictEqual(qualifyKey("es1:cluster.name"), "es1:cluster.name");
    assert.deepStrictEqual(parseSetting("es1:a=b=c"), { key: "es1:a", value: "b=c" });
    assert.deepStrictEqual(parseSetting("es1:a="), { key: "es1:a", value: "" });
    assert.strictEqual(parseSetting("a b=c"), undefined);
    assert.strictEqual(parseSetting("es1:=c"), undefined);
  });
});

describe("es1 stack commands: --customer and --platform-version", function () {
  it("limits an update to customers and writes their platform version into stack config", function () {
    const a = parseStackArgs("up", [
      "--stack",
      "prod",
      "--customer",
      "beam",
      "--customer=rimbal",
      "--platform-version",
      "1.5.0",
      "--yes",
    ]);
    assert.deepStrictEqual(a.customers, ["beam", "rimbal"]);
    assert.deepStrictEqual(a.settings, [
      { key: "es1:customers.beam.platformVersion", value: "1.5.0" },
      { key: "es1:customers.rimbal.platformVersion", value: "1.5.0" },
    ]);
  });

  it("refuses a version without customers, a bad version and a bad customer name", function () {
    assert.throws(
      () => parseStackArgs("up", ["--stack", "s", "--platform-version", "1.5.0"]),
      /needs --customer/,
    );
    assert.throws(
      () => parseStackArgs("up", ["--stack", "s", "--customer", "beam", "--platform-version", "latest"]),
      /'latest' is not a version/,
    );
    assert.throws(
      () => parseStackArgs("preview", ["--stack", "s", "--customer", "Beam"]),
      /not a customer name/,
    );
    assert.throws(() => parseStackArgs("outputs", ["--stack", "s", "--customer", "beam"]), /unknown option/);
  });

  it("targets exactly a customer's platform and its children, not a customer with a longer name", function () {
    const targets = customerTargets(["beam"]);
    const matches = (urn: string) =>
      targets.some((t) =>
        new RegExp(
          `^${t
            .split("**")
            .map((p) =>
              p
                .split("*")
                .map((q) => q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                .join("[^:]*"),
            )
            .join(".*")}$`,
        ).test(urn),
      );
    const urn = (type: string, name: string) => `urn:pulumi:prod::es1-platform::${type}::${name}`;
    assert.ok(matches(urn("es1:platform:CustomerPlatform", "beam")));
    assert.ok(matches(urn("es1:platform:CustomerPlatform$kubernetes:helm.sh/v3:Release", "beam-platform")));
    assert.ok(matches(urn("es1:platform:CustomerPlatform$kubernetes:core/v1:Secret", "beam-database")));
    assert.ok(
      !matches(urn("es1:platform:CustomerPlatform$kubernetes:helm.sh/v3:Release", "beam-eu-platform")),
    );
    assert.ok(!matches(urn("es1:infrastructure:Infrastructure$kubernetes:core/v1:Namespace", "namespace")));
  });
});

describe("es1 stack commands: refusals before any stack is opened", function () {
  it("refuses up and destroy without --yes when nobody can confirm (exit 2)", async function () {
    for (const command of ["up", "destroy"]) {
      const c = memoryIO();
      assert.strictEqual(await cli([command, "--stack", "s"], c.io), 2, command);
      assert.match(c.err(), /refusing to (deploy|destroy) without --yes: standard input is not a terminal/);
      assert.strictEqual(c.out(), "");
    }
  });

  it("writes exactly one JSON document for a usage error with --json", async function () {
    const c = memoryIO();
    assert.strictEqual(await cli(["preview", "--stack", "s", "--bogus", "--json"], c.io), 2);
    const doc = JSON.parse(c.out()) as Record<string, unknown>;
    assert.deepStrictEqual(
      [doc.operation, doc.stack, doc.status, doc.exitCode, doc.errors],
      ["preview", null, "failed", 2, ["unknown option '--bogus'"]],
    );
    const s = memoryIO();
    assert.strictEqual(await cli(["secrets", "init", "--json"], s.io), 2);
    assert.strictEqual((JSON.parse(s.out()) as { exitCode: number }).exitCode, 2);
  });

  it("refuses secrets rotate without one credential, without --yes, or for a data key", async function () {
    const none = memoryIO();
    assert.strictEqual(await cli(["secrets", "rotate", "--stack", "s", "--yes"], none.io), 2);
    assert.match(none.err(), /name the credential to rotate .*\nusage: es1 secrets rotate/);
    const noYes = memoryIO();
    assert.strictEqual(await cli(["secrets", "rotate", "--stack", "s", "redisDefaultPassword"], noYes.io), 2);
    assert.match(noYes.err(), /refusing to rotate without --yes/);
    const key = memoryIO();
    const argv = ["secrets", "rotate", "--stack", "s", "langfuseSalt", "--yes", "--json"];
    assert.strictEqual(await cli(argv, key.io), 2);
    const doc = JSON.parse(key.out()) as { operation: string; name: string; errors: string[] };
    assert.deepStrictEqual([doc.operation, doc.name], ["secrets rotate", "langfuseSalt"]);
    assert.match(doc.errors[0], /langfuseSalt is a data key: Langfuse hashes its API keys/);
  });

  it("prints usage for a bad flag, an unknown secrets subcommand, and help on request", async function () {
    const bad = memoryIO();
    assert.strictEqual(await cli(["outputs", "--stack", "s", "--yes"], bad.io), 2);
    assert.match(bad.err(), /unknown option '--yes'\nusage: es1 outputs --stack <name> \[--json\]/);
    const sub = memoryIO();
    assert.strictEqual(await cli(["secrets", "renew", "--stack", "s"], sub.io), 2);
    assert.match(sub.err(), /unknown subcommand 'renew'/);
    const help = memoryIO();
    assert.strictEqual(await cli(["up", "--help"], help.io), 0);
    assert.match(help.out(), /usage: es1 up --stack <name>/);
    assert.match(
      help.out(),
      /exit codes: 0 success, 1 deployment failed, 2 usage or config error, 3 stack locked/,
    );
    const top = memoryIO();
    assert.strictEqual(await cli(["help"], top.io), 0);
    for (const c of ["preview", "up", "refresh", "destroy", "outputs", "render", "secrets", "license"])
      assert.match(top.out(), new RegExp(`\\n  ${c} `), c);
  });
});
