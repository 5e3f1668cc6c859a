// `es1 preview|up|refresh|destroy|outputs|render` and `es1 secrets init`: the stack operations for
// release pipelines. Human progress goes to stderr; stdout carries the result: a short summary, or
// with --json exactly one JSON document. Exit codes: automation/report.ts (docs/pipelines.md).
import { Stack } from "@pulumi/pulumi/automation";
import { applySettings, createsStack, failedReport, runOperation } from "../operations";
import { RenderReport, renderStack } from "../render";
import {
  EXIT_FAILED,
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
import { Command, CommandIO, EXIT_OK, readLine, UsageError } from "./common";
import { needsConfirmation, parseStackArgs, StackArgs, StackCommand, USAGE } from "./stack-args";

const EXIT_HELP = `exit codes: 0 success, 1 deployment failed, 2 usage or config error, 3 stack locked by another
update, 4 changes found with --expect-no-changes. See docs/pipelines.md.
`;

function help(command: StackCommand): string {
  const notes: Partial<Record<StackCommand, string>> = {
    preview: "Shows what `up` would change. --expect-no-changes: exit 4 if anything would change.",
    up: "Deploys the stack. Without --yes it asks on a terminal and refuses to run otherwise (exit 2).",
    refresh:
      "Reads the real state of every resource into the stack state. --expect-no-changes: exit 4 on drift.",
    destroy: "Deletes every resource of the stack (the stack and its config remain). Needs --yes like up.",
    outputs: "Prints the stack outputs; secrets read [secret]. Never creates a stack.",
    render:
      "Previews the stack and writes, per Helm Release, <release>.yaml (chart, version, repository,\n" +
      "namespace, values; secrets replaced by <secret>) and index.json into --out.",
    "secrets init":
      "Generates every credential the stack needs that its config does not have (es1:secrets.<name>)\n" +
      "and stores it encrypted. Values are never printed.",
  };
  const set =
    command === "preview" || command === "up" || command === "render"
      ? "--set key=value writes stack config (path syntax, `es1:` when the key has no namespace) as\n" +
        "`pulumi config set --path` would; it stays in Pulumi.<stack>.yaml, except after a config error (exit 2).\n"
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

async function confirm(io: CommandIO, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const answer = (await readLine(io.stdin)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
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
    const preview = await runOperation(stack, "preview", { onOutput: progress, signal: io.signal });
    if (preview.exitCode !== EXIT_SUCCESS) return { ...preview, operation: "up" };
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
  const progress = (s: string) => io.stderr.write(s);
  const operation: StackOperation | "render" = command === "secrets init" ? "outputs" : command;
  const start = Date.now();

  let stack: Stack;
  let restore: () => void;
  try {
    stack = await openStack({
      stackName: args.stack,
      create: createsStack(command === "secrets init" ? "secrets" : operation),
    });
    restore = await applySettings(stack, args.settings);
  } catch (e) {
    if (command === "secrets init") return secretsFailure(args, io, e);
    return emit(args, io, failedReport(operation, args.stack, e, start));
  }

  if (command === "secrets init") return secretsInit(args, io, stack);

  if (needsConfirmation(command) && !args.yes) {
    const stop = await confirmOnTerminal(args, io, stack, progress);
    if (stop) return emit(args, io, stop);
  }

  if (command === "render") {
    const rendered = await renderStack(stack, args.out ?? ".", { onOutput: progress, signal: io.signal });
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
      `es1 secrets init ${report.stack}: created ${report.created.join(", ") || "none"}; ` +
        `kept ${report.kept.join(", ") || "none"}\n`,
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

/** `es1 secrets <subcommand>`: only `init` so far. */
export const secretsCommand: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === "init") return runStackCommand("secrets init", rest, io);
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout.write(help("secrets init"));
    return EXIT_OK;
  }
  io.stderr.write(
    `es1 secrets: ${sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`}\nusage: ${USAGE["secrets init"]}\n`,
  );
  return EXIT_USAGE;
};
