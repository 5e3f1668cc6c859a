// Command lines of the stack commands (`es1 preview|up|refresh|destroy|outputs|render`,
// `es1 secrets init`): which flags each takes, parsed strictly. Cheap to load: no Pulumi here.
import { ConfigSetting, parseSetting } from "../config-settings";
import { FlagSpec, optional, parseArgs, required, UsageError } from "./common";

export const STACK_COMMANDS = [
  "preview",
  "up",
  "refresh",
  "destroy",
  "outputs",
  "render",
  "secrets init",
] as const;
export type StackCommand = (typeof STACK_COMMANDS)[number];

const FLAGS: Record<StackCommand, FlagSpec> = {
  preview: {
    values: ["stack", "platform-version"],
    repeatable: ["set", "customer"],
    booleans: ["json", "expect-no-changes", "allow-downgrade", "skip-preflight"],
  },
  up: {
    values: ["stack", "platform-version"],
    repeatable: ["set", "customer"],
    booleans: ["json", "yes", "expect-no-changes", "allow-downgrade", "skip-preflight"],
  },
  refresh: { values: ["stack"], repeatable: ["customer"], booleans: ["json", "yes", "expect-no-changes"] },
  destroy: { values: ["stack"], repeatable: ["customer"], booleans: ["json", "yes"] },
  outputs: { values: ["stack"], booleans: ["json"] },
  render: { values: ["stack", "out"], repeatable: ["set"], booleans: ["json"] },
  "secrets init": { values: ["stack"], booleans: ["json"] },
};

export const USAGE: Record<StackCommand, string> = {
  preview:
    "es1 preview --stack <name> [--customer <c> ... [--platform-version <v>]] [--set key=value ...] [--allow-downgrade] [--skip-preflight] [--expect-no-changes] [--json]",
  up: "es1 up --stack <name> [--customer <c> ... [--platform-version <v>]] [--set key=value ...] [--allow-downgrade] [--skip-preflight] [--yes] [--expect-no-changes] [--json]",
  refresh: "es1 refresh --stack <name> [--customer <c> ...] [--yes] [--expect-no-changes] [--json]",
  destroy: "es1 destroy --stack <name> [--customer <c> ...] [--yes] [--json]",
  outputs: "es1 outputs --stack <name> [--json]",
  render: "es1 render --stack <name> --out <dir> [--set key=value ...] [--json]",
  "secrets init": "es1 secrets init --stack <name> [--json]",
};

export interface StackArgs {
  command: StackCommand;
  stack: string;
  /** `--set`, in the order given (a later value for the same key wins). */
  settings: ConfigSetting[];
  yes: boolean;
  json: boolean;
  expectNoChanges: boolean;
  /** `render --out`. */
  out?: string;
  /** `--customer`: limit the operation to these customers' platforms (targets and their dependents). */
  customers: string[];
  /** `--allow-downgrade`: a customer's platform version may go below the deployed one. */
  allowDowngrade: boolean;
  /** `--skip-preflight` (preview, up): do not check an existing cluster first (emergencies). */
  skipPreflight: boolean;
}

export const CUSTOMER_NAME = /^[a-z]([a-z0-9-]{0,52}[a-z0-9])?$/;
export const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

/** `name`, `org/name` or `org/project/name`, as Pulumi allows. */
export const STACK_NAME = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){0,2}$/;

/** Parses a stack command's arguments; every mistake is a UsageError naming it. */
export function parseStackArgs(command: StackCommand, argv: readonly string[]): StackArgs {
  const args = parseArgs(argv, FLAGS[command]);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const settings = (args.values.get("set") ?? []).map((text) => {
    const s = parseSetting(text);
    if (s === undefined)
      throw new UsageError(`--set needs key=value (e.g. es1:cluster.context=kwok-es1), got '${text}'`);
    return s;
  });
  const customers = args.values.get("customer") ?? [];
  for (const c of customers)
    if (!CUSTOMER_NAME.test(c))
      throw new UsageError(`--customer '${c}' is not a customer name (a DNS label)`);
  const version = optional(args, "platform-version");
  if (version !== undefined) {
    if (!VERSION.test(version))
      throw new UsageError(`--platform-version '${version}' is not a version such as 1.4.2`);
    if (customers.length === 0)
      throw new UsageError(
        "--platform-version needs --customer: say which customers move to the new version",
      );
    // Written to stack config like --set, so the stack remembers each customer's version.
    for (const c of customers) settings.push({ key: `es1:customers.${c}.platformVersion`, value: version });
  }
  const out = optional(args, "out");
  if (command === "render" && (out === undefined || out === "")) throw new UsageError("--out is required");
  return {
    command,
    stack,
    settings,
    yes: args.booleans.has("yes"),
    json: args.booleans.has("json"),
    expectNoChanges: args.booleans.has("expect-no-changes"),
    customers,
    allowDowngrade: args.booleans.has("allow-downgrade"),
    skipPreflight: args.booleans.has("skip-preflight"),
    ...(out !== undefined ? { out } : {}),
  };
}

/** Whether a command changes resources and so needs `--yes` (or a confirmation on a terminal). */
export function needsConfirmation(command: StackCommand): boolean {
  return command === "up" || command === "destroy";
}
