// The stack operations of the `es1` command as a typed library: open a stack of this project, set
// config for the run, preview / up / refresh / destroy / read outputs, and get an OperationReport
// (never an exception for a failed run: the report carries the exit code and the errors).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { EngineEvent, LocalWorkspace, OpMap, Stack } from "@pulumi/pulumi/automation";
import {
  ConfigSetError,
  errorMessages,
  EventCollector,
  EXIT_CHANGES,
  EXIT_FAILED,
  EXIT_HELD,
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
import { configuredSecrets, dataKeyProblems } from "./guards";
import {
  activeCluster,
  BackupOutcome,
  PRE_UPGRADE_TIMEOUT_SECONDS,
  preUpgradePolicy,
  riskyChanges,
  takeBackup,
} from "./backup";
import { platformClusterClient } from "./kube";
import { takeVeleroBackup, VolumeBackupsNotConfigured } from "./velero";
import { readState, revealed, StateResource } from "./state";
import type { DeployedPlatform, DeployedRecord } from "../platform/deployed";
import { PLATFORM_CHILDREN } from "../platform/values";
import { es1Program, openStack, runPulumi, stackConfigFile, StackOptions } from "./workspace";

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
  /** A preview reads its config from this file instead of `Pulumi.<stack>.yaml` (see previewConfig). */
  configFile?: string;
  /** Limit the operation to these URNs (with customers: to both). */
  targets?: string[];
  /** Let a customer's platform version go below the deployed one (`--allow-downgrade`). */
  allowDowngrade?: boolean;
  /** How long `up` waits for its pre-upgrade backup (default PRE_UPGRADE_TIMEOUT_SECONDS). */
  preUpgradeBackupTimeoutSeconds?: number;
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

/** A stack config file that a run reads instead of `Pulumi.<stack>.yaml`, and its removal. */
export interface TemporaryConfig {
  /** undefined when there was nothing to change: the run reads the stack's own file. */
  file?: string;
  dispose(): void;
}

/** `pulumi config <args> --config-file <file>` for the stack; throws with the CLI's message. */
async function configAt(stack: Stack, file: string, args: string[]): Promise<void> {
  const r = await runPulumi(stack, ["config", ...args, "--config-file", file]);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `pulumi config ${args[0]} exited ${r.code}`);
}

/**
 * `settings` applied to a copy of the stack's config file, for a run that must not change the
 * stack's config (preview, render): the copy gets exactly what applySettings would write, and the
 * stack's own file is never opened for writing, so even a killed run leaves it as it was.
 */
export async function previewConfig(
  stack: Stack,
  settings: ConfigSetting[],
  /** Keys (path syntax) left out of the copy, e.g. es1:airgap.registry for the public image names. */
  remove: readonly string[] = [],
): Promise<TemporaryConfig> {
  if (settings.length === 0 && remove.length === 0) return { dispose: () => undefined };
  const source = stackConfigFile(stack);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-config-"));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const file = path.join(dir, path.basename(source));
  try {
    if (fs.existsSync(source)) fs.copyFileSync(source, file);
    if (settings.some((s) => s.key.startsWith("es1:customers.")) && fs.existsSync(file)) {
      // As customersAsMap does on the stack's own file.
      const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
      const list = doc?.config?.["es1:customers"];
      if (Array.isArray(list) && list.length > 0) {
        await configAt(stack, file, ["rm", "es1:customers"]);
        await configAt(stack, file, [
          "set-all",
          "--path",
          ...list.flatMap((name) => ["--plaintext", `es1:customers.${String(name)}.enabled=true`]),
        ]);
      }
    }
    for (const key of remove) {
      // A key that is not set is already left out (`pulumi config rm` says "not found").
      await configAt(stack, file, ["rm", "--path", key]).catch((e: unknown) => {
        if (!/not found/i.test(errorMessages(e).join(" "))) throw e;
      });
    }
    if (settings.length > 0)
      await configAt(stack, file, [
        "set-all",
        "--path",
        ...settings.flatMap((s) => ["--plaintext", `${s.key}=${s.value}`]),
      ]);
  } catch (e) {
    dispose();
    throw new ConfigSetError(
      `cannot set ${settings.map((s) => s.key).join(", ")}: ${errorMessages(e).join("; ")}`,
    );
  }
  return { file, dispose };
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
 * What the stack's last deployment says about this run: what it forbids, one message per problem
 * (exit 2: a data key it would change), and the record the program checks versions and held
 * customers against. Only `preview` and `up` register resources and are checked.
 */
async function preflight(
  stack: Stack,
  operation: StackOperation,
  opts: RunOptions,
): Promise<{ problems: string[]; record?: DeployedRecord; resources: StateResource[] }> {
  if (operation !== "preview" && operation !== "up") return { problems: [], resources: [] };
  const resources = await readState(stack);
  const record = deployedRecord(resources, opts.allowDowngrade === true);
  if (resources.length === 0) return { problems: [], record, resources };
  const problems = dataKeyProblems(configuredSecrets(await stack.getAllConfig()), resources, stack.name);
  return { problems, record, resources };
}

type PreUpgrade = NonNullable<OperationReport["preUpgradeBackup"]>;
type Taken = NonNullable<PreUpgrade["backups"]>[number];

/**
 * Before an `up` that changes a stateful component's chart or major version: an on-demand backup
 * of each such component, waited for (docs/backup.md) — PostgreSQL's through its backup plugin,
 * Valkey's and Langfuse's (ClickHouse, its object store) through their Velero Schedules. Returns
 * what was done, and an error when a backup did not complete (the run must then change nothing).
 */
async function backupBeforeUpgrade(
  stack: Stack,
  resources: readonly StateResource[],
  opts: RunOptions,
): Promise<{ done?: PreUpgrade; error?: string }> {
  // A run limited to customers or URNs (es1 rollout's waves) leaves the shared releases alone.
  if ((opts.customers ?? []).length > 0 || (opts.targets ?? []).length > 0) return {};
  const changes = riskyChanges(resources);
  if (changes.length === 0) return {};
  const what = changes.map((c) => c.what);
  const say = (line: string) => opts.onOutput?.(`es1: pre-upgrade backup: ${line}\n`);
  const backupConfig = await structuredConfig(stack, "es1:backup");
  const policy = preUpgradePolicy(backupConfig);
  if (policy !== "take") {
    const skipped =
      policy === "skip"
        ? "es1:backup.beforeUpgrade is false"
        : "es1:backup is not set: this stack has no backups";
    say(`${what.join(", ")}: no backup taken (${skipped})`);
    return { done: { changes: what, skipped } };
  }
  const components = [...new Set(changes.map((c) => c.component))];
  say(`${what.join(", ")}: backing up ${components.join(", ")} first`);
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const api = platformClusterClient(revealed(root?.outputs?.platformCluster));
  // One deadline for every backup of this run.
  const deadline = Date.now() + (opts.preUpgradeBackupTimeoutSeconds ?? PRE_UPGRADE_TIMEOUT_SECONDS) * 1000;
  const wait = () => ({
    wait: true,
    timeoutSeconds: Math.max(0, Math.round((deadline - Date.now()) / 1000)),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: say,
  });
  const taken: (Taken & { outcome: BackupOutcome; error?: string })[] = [];
  const notCovered: string[] = [];
  for (const component of components) {
    let result: Awaited<ReturnType<typeof takeBackup>>;
    try {
      result =
        component === "postgresql"
          ? await takeBackup(api, { trigger: "pre-upgrade", cluster: activeCluster(backupConfig), ...wait() })
          : await takeVeleroBackup(api, component, "pre-upgrade", wait());
    } catch (e) {
      // Velero is off for it (es1:backup.volumes): said, not fatal, as beforeUpgrade: false is.
      if (!(e instanceof VolumeBackupsNotConfigured)) throw e;
      notCovered.push(component);
      say(`${component}: no Velero Schedule (es1:backup.volumes is off for it): no backup taken`);
      continue;
    }
    const { entry, outcome } = result;
    taken.push({
      component,
      name: entry.name,
      phase: entry.phase,
      outcome,
      ...(entry.error ? { error: entry.error } : {}),
    });
  }
  const done: PreUpgrade = {
    changes: what,
    ...(taken.length > 0 ? { backup: taken[0].name, phase: taken[0].phase } : {}),
    backups: taken.map(({ component, name, phase }) => ({ component, name, phase })),
    ...(notCovered.length > 0
      ? { skipped: `es1:backup.volumes does not back up ${notCovered.join(", ")}` }
      : {}),
  };
  const unfinished = taken.filter((t) => t.outcome !== "completed");
  if (unfinished.length === 0) return { done };
  return {
    done,
    error:
      `the backup before this upgrade (${what.join(", ")}) did not complete: ` +
      unfinished.map((t) => `Backup ${t.name} is ${t.phase}${t.error ? ` (${t.error})` : ""}`).join("; ") +
      "; nothing was changed. Fix the backup (docs/backup.md) and run es1 up again",
  };
}

/** The deployed customers as the stack resource's `customers` output recorded them. */
export function deployedRecord(resources: readonly StateResource[], allowDowngrade: boolean): DeployedRecord {
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const customers = revealed(root?.outputs?.customers);
  return {
    customers:
      typeof customers === "object" && customers !== null && !Array.isArray(customers)
        ? (customers as Record<string, DeployedPlatform>)
        : {},
    allowDowngrade,
  };
}

/** The report of a run preflight refused: nothing ran. */
async function refusedReport(
  stack: Stack,
  operation: StackOperation,
  errors: string[],
  start: number,
): Promise<OperationReport> {
  return {
    operation,
    stack: stack.name,
    status: "failed",
    exitCode: EXIT_USAGE,
    changes: {},
    summary: {},
    durationSeconds: seconds(start),
    outputs: await readOutputs(stack).catch(() => ({})),
    failed: [],
    errors,
  };
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
  const target = [...customerTargets(opts.customers ?? []), ...(opts.targets ?? [])];
  // A customer's dependents come along (a new platform needs them); URNs given as targets alone.
  const targets = target.length > 0 ? { target, targetDependents: (opts.customers ?? []).length > 0 } : {};
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
  let preUpgradeBackup: PreUpgrade | undefined;
  try {
    const checked = await preflight(stack, operation, opts);
    if (checked.problems.length > 0) return await refusedReport(stack, operation, checked.problems, start);
    const program = es1Program(checked.record);
    switch (operation) {
      case "preview": {
        const r = await stack.preview({
          ...common,
          program,
          diff: false,
          ...(opts.configFile !== undefined ? { configFile: opts.configFile } : {}),
        });
        summary = r.changeSummary;
        break;
      }
      case "up": {
        const pre = await backupBeforeUpgrade(stack, checked.resources, opts);
        preUpgradeBackup = pre.done;
        if (pre.error !== undefined) {
          const refused = await refusedReport(stack, operation, [pre.error], start);
          return { ...refused, exitCode: EXIT_FAILED, ...(pre.done ? { preUpgradeBackup: pre.done } : {}) };
        }
        const r = await stack.up({ ...common, program });
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
  const held = collector.held();
  if (exitCode === EXIT_SUCCESS && held.length > 0) exitCode = EXIT_HELD;

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
    // Held customers do not make the run fail: the rest of the stack deployed.
    status: exitCode === EXIT_SUCCESS || exitCode === EXIT_HELD ? "succeeded" : "failed",
    exitCode,
    changes: collector.changes(),
    summary,
    durationSeconds: operation === "outputs" ? seconds(start) : durationSeconds,
    outputs,
    failed: collector.failed(),
    errors,
    ...(held.length > 0 ? { customersHeld: held } : {}),
    ...(preUpgradeBackup ? { preUpgradeBackup } : {}),
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
  /**
   * Config for the run: `up` writes it to the stack's config first (see applySettings); a preview
   * reads it from a copy and leaves the stack's config as it was (see previewConfig).
   */
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
 * `es1 <operation>`, for pipelines that drive several stacks from one process. Only `up` keeps
 * the settings in the stack's config, and not when the program refuses them (exit 2).
 */
export async function stackOperation(run: StackRun): Promise<OperationReport> {
  const start = Date.now();
  let stack: Stack;
  let restore: () => void = () => undefined;
  let temporary: TemporaryConfig = { dispose: () => undefined };
  try {
    stack = await openStack({ ...run, create: createsStack(run.operation) });
    if (run.operation === "preview") temporary = await previewConfig(stack, run.settings ?? []);
    else restore = await applySettings(stack, run.settings ?? []);
  } catch (e) {
    return failedReport(run.operation, run.stackName, e, start);
  }
  try {
    const report = await runOperation(stack, run.operation, {
      ...run,
      ...(temporary.file !== undefined ? { configFile: temporary.file } : {}),
    });
    if (report.exitCode === EXIT_USAGE) restore();
    return report;
  } finally {
    temporary.dispose();
  }
}
