import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import type { DeployedRecord } from "../platform/deployed";
import { PROJECT_ROOT } from "../lib/paths";

export const PROJECT_NAME = "es1-platform";

/** Passphrase of the `local` stack only: it guards a throwaway local cluster, nothing real. */
export const LOCAL_STACK_PASSPHRASE = "es1-local-insecure";

/** Where scripts/tools.sh puts the tools it builds. */
export function toolsBinDir(): string {
  const base =
    process.env.ES1_TOOLS_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "es1", "tools");
  return path.join(base, "bin");
}

export interface StackOptions {
  stackName: string;
  /** Pulumi backend; default: a file backend in `.pulumi-state/` of the project. */
  backendUrl?: string;
  /** Secrets passphrase; default: $PULUMI_CONFIG_PASSPHRASE, or the fixed one of the local stack. */
  passphrase?: string;
  /** Extra environment for the Pulumi CLI and its plugins. */
  env?: Record<string, string>;
  /**
   * Create the stack when it does not exist (default true). With false, a missing stack is a
   * StackNotFoundError: for commands that only read or remove what a stack already has.
   */
  create?: boolean;
  /**
   * Secrets provider of a stack this call creates (`pulumi stack init --secrets-provider`);
   * default $ES1_SECRETS_PROVIDER, else `passphrase`. An existing stack keeps its own.
   */
  secretsProvider?: string;
}

/** Settings that keep the Pulumi CLI from reaching out to the internet. */
export const OFFLINE_ENV: Record<string, string> = {
  PULUMI_SKIP_UPDATE_CHECK: "true",
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
};

function backendFor(opts: StackOptions): string {
  if (opts.backendUrl) return opts.backendUrl;
  if (process.env.PULUMI_BACKEND_URL) return process.env.PULUMI_BACKEND_URL;
  const dir = path.join(PROJECT_ROOT, ".pulumi-state");
  fs.mkdirSync(dir, { recursive: true });
  return `file://${dir}`;
}

function passphraseFor(opts: StackOptions): Record<string, string> {
  if (opts.passphrase !== undefined) return { PULUMI_CONFIG_PASSPHRASE: opts.passphrase };
  if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined || process.env.PULUMI_CONFIG_PASSPHRASE_FILE)
    return {};
  if (opts.stackName === "local") return { PULUMI_CONFIG_PASSPHRASE: LOCAL_STACK_PASSPHRASE };
  return {};
}

// `pulumi stack init/select` rewrite the global workspace.json and are not safe to run in
// parallel (pulumi/pulumi#8186); every other operation names its stack with --stack. Stack
// selection is therefore done one at a time in this process, and operations run concurrently.
let selection: Promise<unknown> = Promise.resolve();

/** Runs `task` after every task queued before it has settled: a mutex for stack selection. */
export function serialized<T>(task: () => Promise<T>): Promise<T> {
  const run = selection.then(task, task);
  selection = run.catch(() => undefined);
  return run;
}

/**
 * A stack of this project, run in-process (the program is the same function `pulumi up` runs,
 * and no language host is needed) with the project's Pulumi.yaml and Pulumi.<stack>.yaml.
 * Several stacks may be opened and driven concurrently from one process.
 */
export async function openStack(opts: StackOptions): Promise<Stack> {
  const bin = toolsBinDir();
  const envVars: Record<string, string> = {
    ...OFFLINE_ENV,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: backendFor(opts),
    ...passphraseFor(opts),
    ...opts.env,
  };
  const pulumiBin = fs.existsSync(path.join(bin, "pulumi")) ? path.dirname(bin) : undefined;
  const pulumiCommand = await PulumiCommand.get({ root: pulumiBin });
  const args = { stackName: opts.stackName, projectName: PROJECT_NAME, program: es1Program() };
  const wsOpts = {
    workDir: PROJECT_ROOT,
    envVars,
    pulumiCommand,
    secretsProvider: opts.secretsProvider ?? process.env.ES1_SECRETS_PROVIDER ?? "passphrase",
  };
  return serialized(() =>
    opts.create === false
      ? LocalWorkspace.selectStack(args, wsOpts)
      : LocalWorkspace.createOrSelectStack(args, wsOpts),
  );
}

/**
 * The program as the engine runs it in-process, told what the stack's last deployment recorded
 * (see platform/deployed.ts). The program (and with it every cloud provider's SDK) is loaded when
 * the engine runs it, so commands that never run it (outputs, a usage error) start quickly.
 */
export function es1Program(record?: DeployedRecord): PulumiFn {
  return async () => (await import("../program")).es1(record);
}

/** The file holding a stack's config: `Pulumi.<stack>.yaml` in the workspace directory. */
export function stackConfigFile(stack: Stack): string {
  const leaf = stack.name.split("/").pop() ?? stack.name;
  return path.join(stack.workspace.workDir, `Pulumi.${leaf}.yaml`);
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the workspace's Pulumi CLI for `stack` (its environment, directory and --stack), with
 * `input` on standard input: for what the SDK only offers through process arguments (a secret
 * passed as an argument is visible to every user of the machine while the command runs).
 */
export function runPulumi(stack: Stack, args: string[], input?: string): Promise<PulumiRun> {
  const ws = stack.workspace;
  if (!(ws instanceof LocalWorkspace)) throw new Error("runPulumi needs a LocalWorkspace stack");
  const env: NodeJS.ProcessEnv = { ...process.env, ...ws.envVars, PULUMI_AUTOMATION_API: "true" };
  return new Promise((resolve, reject) => {
    const child = spawn(ws.pulumiCommand.command, [...args, "--stack", stack.name, "--non-interactive"], {
      cwd: ws.workDir,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
