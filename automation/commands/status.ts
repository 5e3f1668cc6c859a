// `es1 status --stack S [--wait SECONDS] [--json]`: is every shared component and every customer
// of a deployed stack healthy? A table for people, one JSON document for pipelines (docs/operations.md).
import type { StatusReport } from "../status";
import { Command, EXIT_OK, EXIT_USAGE, optional, parseArgs, required, UsageError } from "./common";
import { STACK_NAME } from "./stack-args";

export const STATUS_USAGE = "es1 status --stack <name> [--wait <seconds>] [--json]";

/** Longest --wait: an hour, as es1:platformTimeoutSeconds. */
export const MAX_WAIT_SECONDS = 3600;

const HELP = `usage: ${STATUS_USAGE}

Reads what the stack deployed (its state) in the cluster, read-only: per shared component and per
customer, each Helm release's status and revision (from Helm's release Secrets; no helm binary
needed), its Deployments, StatefulSets and DaemonSets ready/desired, the resources operators
manage (CloudNativePG Cluster, ClickHouse) with their status, last successful backup where backups
are configured, each customer's license expiry, and how full each PersistentVolumeClaim is where
the stack's Prometheus answers (over 80 % warns, over 95 % is unhealthy; no metrics is never
unhealthy). --wait SECONDS reads again every 5 s until healthy or the time is up. Never creates a
stack.

exit codes: 0 healthy, 1 unhealthy (or the cluster could not be read), 2 usage error, unknown stack
or no deployment. See docs/operations.md.
`;

export interface StatusArgs {
  stack: string;
  json: boolean;
  waitSeconds?: number;
}

export function parseStatusArgs(argv: readonly string[]): StatusArgs {
  const args = parseArgs(argv, { values: ["stack", "wait"], booleans: ["json"] });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const wait = optional(args, "wait");
  let waitSeconds: number | undefined;
  if (wait !== undefined) {
    waitSeconds = /^[0-9]+$/.test(wait) ? Number(wait) : NaN;
    if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > MAX_WAIT_SECONDS)
      throw new UsageError(
        `--wait '${wait}' is not allowed; give whole seconds from 1 to ${MAX_WAIT_SECONDS}`,
      );
  }
  return { stack, json: args.booleans.has("json"), ...(waitSeconds !== undefined ? { waitSeconds } : {}) };
}

function usageReport(stack: string | null, message: string): StatusReport {
  return {
    operation: "status",
    stack,
    status: "failed",
    exitCode: 2,
    checkedAt: new Date().toISOString(),
    durationSeconds: 0,
    components: [],
    customers: [],
    errors: [message],
  };
}

export const statusCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  let args: StatusArgs;
  try {
    args = parseStatusArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (argv.includes("--json"))
      io.stdout.write(`${JSON.stringify(usageReport(null, e.message), null, 2)}\n`);
    else io.stderr.write(`es1 status: ${e.message}\nusage: ${STATUS_USAGE}\n`);
    return EXIT_USAGE;
  }
  const [{ openStack }, { stackStatus }, { formatStatus }, { errorMessages, exitCodeFor }] =
    await Promise.all([
      import("../workspace"),
      import("../status-run"),
      import("../status"),
      import("../report"),
    ]);
  let report: StatusReport;
  try {
    const stack = await openStack({ stackName: args.stack, create: false });
    report = await stackStatus(stack, {
      ...(args.waitSeconds !== undefined ? { waitSeconds: args.waitSeconds } : {}),
      signal: io.signal,
      onProgress: (line) => io.stderr.write(`es1 status: ${line}\n`),
    });
  } catch (e) {
    // An unknown stack or a missing passphrase: the invocation, not the installation.
    const code = exitCodeFor(e);
    report = { ...usageReport(args.stack, errorMessages(e).join("; ")), exitCode: code === 2 ? 2 : 1 };
  }
  if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout.write(formatStatus(report));
  return report.exitCode;
};
