import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT } from "../lib/paths";
import { es1 } from "../program";

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

/**
 * A stack of this project, run in-process (the program is the same function `pulumi up` runs,
 * and no language host is needed) with the project's Pulumi.yaml and Pulumi.<stack>.yaml.
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
  return LocalWorkspace.createOrSelectStack(
    { stackName: opts.stackName, projectName: PROJECT_NAME, program: async () => es1() },
    { workDir: PROJECT_ROOT, envVars, pulumiCommand, secretsProvider: "passphrase" },
  );
}
