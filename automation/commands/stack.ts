// `es1 preview|up|refresh|destroy|outputs|render` and `es1 secrets init`: the stack operations for
// release pipelines. Human progress goes to stderr; stdout carries the result: a short summary, or
// with --json exactly one JSON document. Exit codes: automation/report.ts (docs/pipelines.md).
import { Stack } from "@pulumi/pulumi/automation";
import {
  applySettings,
  createsStack,
  failedReport,
  previewConfig,
  runOperation,
  TemporaryConfig,
} from "../operations";
import { RenderReport, renderStack } from "../render";
import {
  EXIT_FAILED,
  EXIT_HELD,
  EXIT_SUCCESS,
  EXIT_USAGE,
  exitCodeFor,
  errorMessages,
  JsonValue,
  OperationReport,
  StackOperation,
} from "../report";
import type { SecretsInitReport } from "../secrets";
import { openStack } from "../workspace";
import { Command, CommandIO, confirm, EXIT_OK, UsageError } from "./common";
import { ROTATE_USAGE } from "./secrets-rotate";
import { needsConfirmation, parseStackArgs, StackArgs, StackCommand, USAGE } from "./stack-args";

const EXIT_HELP = `exit codes: 0 success, 1 deployment failed, 2 usage or config error, 3 stack locked by another
update, 4 changes found with --expect-no-changes, 5 succeeded but a customer with a refused license
was held back as deployed. See docs/pipelines.md.
`;

function help(command: StackCommand): string {
  const notes: Partial<Record<StackCommand, string>> = {
    preview:
      "Shows what `up` would change. --expect-no-changes: exit 4 if anything would change.\n" +
      "A customer's platform version below the deployed one is refused unless --allow-downgrade.",
    up:
      "Deploys the stack. Without --yes it asks on a terminal and refuses to run otherwise (exit 2).\n" +
      "A customer's platform version below the deployed one is refused unless --allow-downgrade.",
    refresh:
      "Reads the real state of every resource into the stack state. --expect-no-changes: exit 4 on drift.",
    destroy: "Deletes every resource of the stack (the stack and its config remain). Needs --yes like up.",
    outputs: "Prints the stack outputs; secrets read [secret]. Never creates a stack.",
    render:
      "Previews the stack and writes, per Helm Release, <release>.yaml (chart, version, repository,\n" +
      "namespace, values; secrets replaced by <secret>) and index.json into --out.",
    "secrets init":
      "Puts every credential the stack needs that its config does not have into it (es1:secrets.<name>),\n" +
      "encrypted: the value the deployment already uses, or a new one where none has been used.\n" +
      "Values are never printed.",
  };
  const set =
    command === "preview" || command === "up" || command === "render"
      ? "--set key=value sets stack config for the run (path syntax, `es1:` when the key has no namespace) as\n" +
        "`pulumi config set --path` would. `up` keeps it in Pulumi.<stack>.yaml (not after a config error,\n" +
        "exit 2); preview and render read it from a copy and leave the file as it was.\n"
      : "";
  return `usage: ${USAGE[command]}\n\n${notes[command] ?? ""}\n${set}${EXIT_HELP}`;
}

function writeJson(io: CommandIO, doc: unknown): void {
  io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function show(v: JsonValue): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The human summary of a report (stdout without --json; its errors go to stderr). */
export function formatReport(r: OperationReport | RenderReport): string {
  const lines: string[] = [];
  const what = r.operation === "outputs" ? "outputs of" : r.operation;
  lines.push(`es1 ${what} ${r.stack ?? ""}: ${r.status} in ${r.durationSeconds}s (exit ${r.exitCode})`);
  if (r.operation !== "outputs") {
    const totals = Object.entries(r.summary).map(([op, n]) => `${op} ${n}`);
    if (totals.length > 0) lines.push(`  resources: ${totals.join(", ")}`);
    for (const [type, ops] of Object.entries(r.changes)) {
      const changed = Object.entries(ops).filter(([op]) => op !== "same");
      if (changed.length > 0) lines.push(`    ${type}: ${changed.map(([op, n]) => `${op} ${n}`).join(", ")}`);
    }
  }
  for (const f of r.failed) lines.push(`  failed: ${f.urn}\n    ${f.error.split("\n").join("\n    ")}`);
  const outputs = Object.entries(r.outputs);
  if (outputs.length > 0) {
    lines.push("  outputs:");
    for (const [k, v] of outputs) lines.push(`    ${k}: ${show(v)}`);
  }
  return `${lines.join("\n")}\n`;
}

function usageFailure(command: StackCommand, argv: readonly string[], io: CommandIO, e: UsageError): number {
  if (argv.includes("--json")) {
    if (command === "secrets init") {
      const report: SecretsInitReport = {
        operation: command,
        stack: null,
        status: "failed",
        exitCode: EXIT_USAGE,
        created: [],
        adopted: [],
        kept: [],
        warnings: [],
        errors: [e.message],
      };
      writeJson(io, report);
    } else writeJson(io, failedReport(command, null, e));
  } else {
    io.stderr.write(`es1 ${command}: ${e.message}\nusage: ${USAGE[command]}\n`);
  }
  return EXIT_USAGE;
}

/** Emits a report (JSON or human) and returns its exit code. */
function emit(args: StackArgs, io: CommandIO, report: OperationReport | RenderReport): number {
  if (args.json) writeJson(io, report);
  else {
    io.stdout.write(formatReport(report));
    if (report.exitCode !== EXIT_SUCCESS)
      for (const e of report.errors) io.stderr.write(`es1 ${args.command}: ${e}\n`);
  }
  return report.exitCode;
}

/**
 * Preview-and-ask before `up`/`destroy` when a person runs them without --yes. Returns a report to
 * stop with (declined or the preview failed), or undefined to go on.
 */
async function confirmOnTerminal(
  args: StackArgs,
  io: CommandIO,
  stack: Stack,
  progress: (s: string) => void,
): Promise<OperationReport | undefined> {
  const start = Date.now();
  if (args.command === "up") {
    const preview = await runOperation(stack, "preview", {
      onOutput: progress,
      signal: io.signal,
      customers: args.customers,
      allowDowngrade: args.allowDowngrade,
    });
    // A held customer (exit 5) stays as deployed; the rest may still be deployed.
    if (preview.exitCode !== EXIT_SUCCESS && preview.exitCode !== EXIT_HELD)
      return { ...preview, operation: "up" };
  } else {
    await stack.previewDestroy({ onOutput: progress, signal: io.signal, color: "never" });
  }
  const question =
    args.command === "up"
      ? `Deploy these changes to stack ${stack.name}?`
      : `Delete every resource of stack ${stack.name}?`;
  if (await confirm(io, question)) return undefined;
  return {
    ...failedReport(
      args.command as StackOperation,
      stack.name,
      new Error("declined; nothing was changed"),
      start,
    ),
    status: "cancelled",
    exitCode: EXIT_FAILED,
  };
}

async function runStackCommand(command: StackCommand, argv: string[], io: CommandIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(help(command));
    return EXIT_OK;
  }
  let args: StackArgs;
  try {
    args = parseStackArgs(command, argv);
    if (needsConfirmation(command) && !args.yes && !io.interactive)
      throw new UsageError(
        `refusing to ${command === "up" ? "deploy" : "destroy"} without --yes: standard input is not a ` +
          "terminal, so nobody can confirm",
      );
  } catch (e) {
    if (e instanceof UsageError) return usageFailure(command, argv, io, e);
    throw e;
  }
  const operation: StackOperation | "render" = command === "secrets init" ? "outputs" : command;
  const start = Date.now();

  let stack: Stack;
  let restore: () => void = () => undefined;
  // preview and render read --set and --platform-version from a copy of the stack's config: only
  // `up` keeps them (docs/pipelines.md).
  let temporary: TemporaryConfig = { dispose: () => undefined };
  try {
    stack = await openStack({
      stackName: args.stack,
      create: createsStack(command === "secrets init" ? "secrets" : operation),
    });
    if (command === "preview" || command === "render") temporary = await previewConfig(stack, args.settings);
    else restore = await applySettings(stack, args.settings);
  } catch (e) {
    if (command === "secrets init") return secretsFailure(args, io, e);
    return emit(args, io, failedReport(operation, args.stack, e, start));
  }
  try {
    return await runOpenStack(args, io, stack, restore, temporary.file);
  } finally {
    temporary.dispose();
  }
}

/** The part of runStackCommand after the stack is open and the run's config is in place. */
async function runOpenStack(
  args: StackArgs,
  io: CommandIO,
  stack: Stack,
  restore: () => void,
  configFile: string | undefined,
): Promise<number> {
  const { command } = args;
  const progress = (s: string) => io.stderr.write(s);
  const fromFile = configFile !== undefined ? { configFile } : {};

  if (command === "secrets init") return secretsInit(args, io, stack);

  // An existing cluster is checked before anything runs (docs/operations.md, preflight).
  if ((command === "up" || command === "preview") && !args.skipPreflight) {
    const refused = await (await import("./preflight")).preflightGate(stack, command, io, configFile);
    if (refused) {
      restore();
      return emit(args, io, refused);
    }
  }

  if (needsConfirmation(command) && !args.yes) {
    const stop = await confirmOnTerminal(args, io, stack, progress);
    if (stop) return emit(args, io, stop);
  }

  if (command === "render") {
    const rendered = await renderStack(stack, args.out ?? ".", {
      onOutput: progress,
      signal: io.signal,
      ...fromFile,
    });
    if (rendered.exitCode === EXIT_USAGE) restore();
    if (args.json || rendered.exitCode !== EXIT_SUCCESS) return emit(args, io, rendered);
    io.stdout.write(
      `es1 render ${args.stack}: ${rendered.releases.length} release(s) in ${rendered.outDir}\n` +
        rendered.releases.map((r) => `  ${r.file}  (${r.operation})\n`).join(""),
    );
    return EXIT_SUCCESS;
  }
  const report = await runOperation(stack, command as StackOperation, {
    onOutput: progress,
    signal: io.signal,
    expectNoChanges: args.expectNoChanges,
    customers: args.customers,
    allowDowngrade: args.allowDowngrade,
    ...fromFile,
  });
  if (report.exitCode === EXIT_USAGE) restore();
  return emit(args, io, report);
}

function secretsFailure(args: StackArgs, io: CommandIO, e: unknown): number {
  const exitCode = exitCodeFor(e);
  const report: SecretsInitReport = {
    operation: "secrets init",
    stack: args.stack,
    status: "failed",
    exitCode,
    created: [],
    adopted: [],
    kept: [],
    warnings: [],
    errors: errorMessages(e).map((m) => m.replace(/^error: /, "")),
  };
  if (args.json) writeJson(io, report);
  else for (const m of report.errors) io.stderr.write(`es1 secrets init: ${m}\n`);
  return exitCode;
}

async function secretsInit(args: StackArgs, io: CommandIO, stack: Stack): Promise<number> {
  let report: SecretsInitReport;
  try {
    // Loads the settings schema (config/): only for this command.
    const { initSecrets } = await import("../secrets");
    report = await initSecrets(stack);
  } catch (e) {
    return secretsFailure(args, io, e);
  }
  if (args.json) writeJson(io, report);
  else {
    io.stdout.write(
      `es1 secrets init ${report.stack}: adopted from the deployment ${report.adopted.join(", ") || "none"}; ` +
        `created ${report.created.join(", ") || "none"}; kept ${report.kept.join(", ") || "none"}\n`,
    );
    for (const w of report.warnings) io.stderr.write(`es1 secrets init: warning: ${w}\n`);
    for (const e of report.errors) io.stderr.write(`es1 secrets init: ${e}\n`);
  }
  return report.exitCode;
}

/** The `es1 <command>` handler of one stack command. */
export function stackCommand(command: StackCommand): Command {
  return (argv, io) => runStackCommand(command, argv, io);
}

/** `es1 secrets <subcommand>`: `init` and `rotate`. */
export const secretsCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === "init") return runStackCommand("secrets init", rest, io);
  if (sub === "rotate") return (await import("./secrets-rotate")).secretsRotateCommand(rest, io);
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout.write(help("secrets init"));
    return EXIT_OK;
  }
  io.stderr.write(
    `es1 secrets: ${sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`}\n` +
      `usage: ${USAGE["secrets init"]}\n       ${ROTATE_USAGE}\n`,
  );
  return EXIT_USAGE;
};
