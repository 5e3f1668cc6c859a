// The command line of `es1 rollout`, parsed strictly. Cheap to load: no Pulumi here.
import { FlagSpec, optional, parseArgs, required, UsageError } from "./common";
import { CUSTOMER_NAME, STACK_NAME, VERSION } from "./stack-args";

const FLAGS: FlagSpec = {
  values: ["stack", "platform-version", "waves", "ready-timeout"],
  booleans: ["json", "yes", "rollback-on-failure", "allow-downgrade"],
};

export const ROLLOUT_USAGE =
  "es1 rollout --stack <name> --platform-version <v> --waves <c>[+<c>...][,<c>[+<c>...]...] " +
  "[--rollback-on-failure] [--allow-downgrade] [--ready-timeout <seconds>] [--yes] [--json]";

/** Default of --ready-timeout: the platform release has already waited for its workloads. */
export const DEFAULT_READY_TIMEOUT_SECONDS = 300;

export interface RolloutArgs {
  stack: string;
  version: string;
  /** Customers by wave: `,` separates waves, `+` joins customers of one wave. */
  waves: string[][];
  rollbackOnFailure: boolean;
  /** The version may be below a customer's deployed one. */
  allowDowngrade: boolean;
  readyTimeoutSeconds: number;
  yes: boolean;
  json: boolean;
}

/** `beam,polygraf+rimbal` → [["beam"], ["polygraf", "rimbal"]]; every mistake a UsageError. */
export function parseWaves(text: string): string[][] {
  const waves = text.split(",").map((w) => w.split("+").map((c) => c.trim()));
  const seen = new Set<string>();
  waves.forEach((wave, i) => {
    for (const c of wave) {
      if (c === "") throw new UsageError(`--waves '${text}': wave ${i + 1} has an empty customer name`);
      if (!CUSTOMER_NAME.test(c))
        throw new UsageError(`--waves: '${c}' is not a customer name (a DNS label)`);
      if (seen.has(c)) throw new UsageError(`--waves: customer '${c}' is in more than one wave`);
      seen.add(c);
    }
  });
  return waves;
}

export function parseRolloutArgs(argv: readonly string[]): RolloutArgs {
  const args = parseArgs(argv, FLAGS);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const version = required(args, "platform-version");
  if (!VERSION.test(version))
    throw new UsageError(`--platform-version '${version}' is not a version such as 1.4.2`);
  const waves = parseWaves(required(args, "waves"));
  const timeout = optional(args, "ready-timeout");
  let readyTimeoutSeconds = DEFAULT_READY_TIMEOUT_SECONDS;
  if (timeout !== undefined) {
    if (!/^[0-9]+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 3600)
      throw new UsageError(`--ready-timeout '${timeout}' must be whole seconds from 1 to 3600`);
    readyTimeoutSeconds = Number(timeout);
  }
  return {
    stack,
    version,
    waves,
    rollbackOnFailure: args.booleans.has("rollback-on-failure"),
    allowDowngrade: args.booleans.has("allow-downgrade"),
    readyTimeoutSeconds,
    yes: args.booleans.has("yes"),
    json: args.booleans.has("json"),
  };
}
