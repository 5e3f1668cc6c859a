// The stack operations of the `es1` command as a typed library: open a stack of this project, set
// config for the run, preview / up / refresh / destroy / read outputs, and get an OperationReport
// (never an exception for a failed run: the report carries the exit code and the errors).
import * as fs from "fs";
import { EngineEvent, LocalWorkspace, OpMap, Stack } from "@pulumi/pulumi/automation";
import {
  ConfigSetError,
  errorMessages,
  EventCollector,
  EXIT_CHANGES,
  EXIT_FAILED,
  EXIT_SUCCESS,
  EXIT_USAGE,
  exitCodeFor,
  exitCodeForMessages,
  hasChanges,
  JsonValue,
  maskOutputMap,
  maskSecrets,
  OperationReport,
  StackOperation,
  UnexpectedChangesError,
} from "./report";
import { ConfigSetting } from "./config-settings";
import { PLATFORM_CHILDREN } from "../platform/values";
import { openStack, runPulumi, stackConfigFile, StackOptions } from "./workspace";

export interface RunOptions {
  /** Exit 4 (and status failed) when the operation finds or makes changes. */
  expectNoChanges?: boolean;
  /** The CLI's human progress text (the `es1` command writes it to stderr). */
  onOutput?: (text: string) => void;
  /** Every engine event, after the report has seen it. */
  onEvent?: (event: EngineEvent) => void;
  /** Aborting sends the Pulumi CLI SIGINT: it stops cleanly and releases the stack lock. */
  signal?: AbortSignal;
  /** Limit the operation to these customers' platforms (see customerTargets). */
  customers?: string[];
}

/** A config value that is a list or an object (the CLI hands those over as JSON), else undefined. */
export async function structuredConfig(stack: Stack, key: string): Promise<unknown> {
  const raw = (await stack.getAllConfig())[key]?.value;
  if (raw === undefined || !/^\s*[[{]/.test(raw)) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites `es1:customers` given as a list of names into the map form (`<name>: {enabled: true}`),
 * the same customers, so per-customer keys such as `es1:customers.beam.platformVersion` can be set.
 */
async function customersAsMap(stack: Stack): Promise<void> {
  const parsed = await structuredConfig(stack, "es1:customers");
  if (!Array.isArray(parsed) || parsed.length === 0) return;
  await stack.removeConfig("es1:customers");
  await stack.setAllConfig(
    Object.fromEntries(parsed.map((name) => [`es1:customers.${String(name)}.enabled`, { value: "true" }])),
    true,
  );
}

/**
 * Writes settings into the stack's config (`Pulumi.<stack>.yaml`), as `pulumi config set --path`
 * would: they persist after the run. Returns a function that puts the file back as it was, for a
 * run the program refused because of its configuration.
 */
export async function applySettings(stack: Stack, settings: ConfigSetting[]): Promise<() => void> {
  if (settings.length === 0) return () => undefined;
  const file = stackConfigFile(stack);
  const before = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  const restore = () => {
    if (before === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, before);
  };
  try {
    if (settings.some((s) => s.key.startsWith("es1:customers."))) await customersAsMap(stack);
    await stack.setAllConfig(
      Object.fromEntries(settings.map((s) => [s.key, { value: s.value, secret: false }])),
      true,
    );
  } catch (e) {
    restore();
    throw new ConfigSetError(
      `cannot set ${settings.map((s) => s.key).join(", ")}: ${errorMessages(e).join("; ")}`,
    );
  }
  return restore;
}

/**
 * The stack's outputs with every secret masked. A local workspace reads them with
 * `pulumi stack output --json`, which masks secrets at any depth, so no secret value enters this
 * process; another Workspace through the SDK's outputs(), masked here.
 */
export async function readOutputs(stack: Stack): Promise<Record<string, JsonValue>> {
  if (!(stack.workspace instanceof LocalWorkspace)) return maskOutputMap(await stack.outputs());
  const r = await runPulumi(stack, ["stack", "output", "--json"]);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `pulumi stack output exited ${r.code}`);
  const masked = maskSecrets(JSON.parse(r.stdout || "{}") as unknown);
  return typeof masked === "object" && masked !== null && !Array.isArray(masked) ? masked : {};
}

/**
 * URN patterns of a customer's platform: its CustomerPlatform component and every child, whose
 * names all start with the customer's name. Globs reach resources not created yet too.
 */
export function customerTargets(customers: readonly string[]): string[] {
  // Exact child names: `beam-*` would also take customer `beam-eu`'s resources.
  return customers.flatMap((c) => [
    `**::es1:platform:CustomerPlatform::${c}`,
    ...PLATFORM_CHILDREN.map((child) => `**::es1:platform:CustomerPlatform$**::${c}-${child}`),
  ]);
}

function seconds(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

/**
 * Runs one operation on an open stack and reports it. Engine failures, a locked stack, a config
 * error and unexpected changes come back as a report with a non-zero exit code.
 */
export async function runOperation(
  stack: Stack,
  operation: StackOperation,
  opts: RunOptions = {},
): Promise<OperationReport> {
  const collector = new EventCollector();
  const onEvent = (e: EngineEvent) => {
    collector.onEvent(e);
    opts.onEvent?.(e);
  };
  const targets =
    opts.customers && opts.customers.length > 0
      ? { target: customerTargets(opts.customers), targetDependents: true }
      : {};
  const common = {
    onOutput: opts.onOutput,
    onEvent,
    signal: opts.signal,
    color: "never" as const,
    ...targets,
  };
  const start = Date.now();
  let thrown: unknown;
  let summary: OpMap = {};
  try {
    switch (operation) {
      case "preview": {
        const r = await stack.preview({ ...common, diff: false });
        summary = r.changeSummary;
        break;
      }
      case "up": {
        const r = await stack.up(common);
        summary = r.summary.resourceChanges ?? {};
        break;
      }
      case "refresh": {
        const r = await stack.refresh(common);
        summary = r.summary.resourceChanges ?? {};
        break;
      }
      case "destroy": {
        const r = await stack.destroy(common);
        summary = r.summary.resourceChanges ?? {};
        break;
      }
      case "outputs":
        break;
    }
  } catch (e) {
    thrown = e;
  }
  const durationSeconds = seconds(start);
  // The SDK's totals come from the stack history; a failed run has none, its events do.
  if (operation !== "outputs" && Object.keys(summary).length === 0) summary = collector.summary();

  const errors = collector.errors();
  let exitCode = thrown === undefined ? EXIT_SUCCESS : exitCodeFor(thrown);
  if (thrown !== undefined) {
    // The events say why more precisely than the CLI's exit (e.g. the program's config error).
    exitCode = exitCodeForMessages(errors) ?? exitCode;
    for (const m of errorMessages(thrown))
      if (!errors.some((x) => x.includes(m) || m.includes(x))) errors.push(m);
  } else if (opts.expectNoChanges && operation !== "outputs" && hasChanges(summary)) {
    exitCode = EXIT_CHANGES;
    errors.push(new UnexpectedChangesError(summary).message);
  }

  let outputs: Record<string, JsonValue> = {};
  try {
    outputs = await readOutputs(stack);
  } catch (e) {
    if (operation === "outputs") {
      exitCode = exitCodeFor(e) === EXIT_USAGE ? EXIT_USAGE : EXIT_FAILED;
      errors.push(...errorMessages(e));
    }
  }
  return {
    operation,
    stack: stack.name,
    status: exitCode === EXIT_SUCCESS ? "succeeded" : "failed",
    exitCode,
    changes: collector.changes(),
    summary,
    durationSeconds: operation === "outputs" ? seconds(start) : durationSeconds,
    outputs,
    failed: collector.failed(),
    errors,
  };
}

/**
 * Whether a command creates its stack when it does not exist (preview, up, render, secrets init);
 * the others only read or remove what a stack has, so a missing stack is an error (exit 2).
 */
export function createsStack(operation: StackOperation | "render" | "secrets"): boolean {
  return operation === "preview" || operation === "up" || operation === "render" || operation === "secrets";
}

export interface StackRun extends RunOptions, Omit<StackOptions, "create"> {
  operation: StackOperation;
  /** Config for the run, written to the stack's config first (see applySettings). */
  settings?: ConfigSetting[];
}

/** A report for a run that could not start (no such stack, bad --set). */
export function failedReport(
  operation: OperationReport["operation"],
  stack: string | null,
  error: unknown,
  start = Date.now(),
): OperationReport {
  const exitCode = exitCodeFor(error);
  return {
    operation,
    stack,
    status: "failed",
    exitCode: exitCode === EXIT_SUCCESS ? EXIT_FAILED : exitCode,
    changes: {},
    summary: {},
    durationSeconds: seconds(start),
    outputs: {},
    failed: [],
    errors: errorMessages(error).map((m) => m.replace(/^error: /, "")),
  };
}

/**
 * Opens a stack, applies `settings`, runs the operation and reports it: the whole of
 * `es1 <operation>`, for pipelines that drive several stacks from one process. A run that the
 * program refuses for its configuration (exit 2) leaves the stack's config file as it was.
 */
export async function stackOperation(run: StackRun): Promise<OperationReport> {
  const start = Date.now();
  let stack: Stack;
  let restore: () => void;
  try {
    stack = await openStack({ ...run, create: createsStack(run.operation) });
    restore = await applySettings(stack, run.settings ?? []);
  } catch (e) {
    return failedReport(run.operation, run.stackName, e, start);
  }
  const report = await runOperation(stack, run.operation, run);
  if (report.exitCode === EXIT_USAGE) restore();
  return report;
}
