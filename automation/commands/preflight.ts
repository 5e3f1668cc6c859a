// `es1 preflight --stack S [--json]`: checks an existing cluster has what the stack needs (version,
// node pools and capacity, classes, operators, Pod Security, API rights) without deploying
// anything. `es1 up` and `es1 preview` run the same checks first (docs/operations.md).
import type { Stack } from "@pulumi/pulumi/automation";
import type { PreflightReport } from "../preflight";
import type { OperationReport } from "../report";
import { Command, CommandIO, EXIT_OK, EXIT_USAGE, parseArgs, required, UsageError } from "./common";
import { STACK_NAME } from "./stack-args";

export const PREFLIGHT_USAGE = "es1 preflight --stack <name> [--json]";

const HELP = `usage: ${PREFLIGHT_USAGE}

Checks the cluster of an existing-cluster stack (es1:cluster.provider: existing) against what the
stack's settings need: Kubernetes version, nodes with each ES1 pool's labels and taints and the
CPU and memory its sizing and customers request, GPUs for Ollama, the StorageClass (and volume
expansion), the IngressClass when customers have domains, operator CRDs owned by another release
(and the setting that adopts or skips them), Pod Security admission, and the API rights of the
stack's credentials. Reads only: nothing is deployed. es1 up and es1 preview run it first
(--skip-preflight skips it). A stack that creates its cluster (gke, eks, aks) is skipped.

exit codes: 0 every check passed (warnings allowed) or skipped, 2 a check failed, the config is
invalid or the command line is wrong. See docs/operations.md.
`;

function usageReport(message: string): PreflightReport {
  return {
    operation: "preflight",
    stack: null,
    status: "failed",
    exitCode: 2,
    durationSeconds: 0,
    checks: [],
    errors: [message],
  };
}

export const preflightCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  let stackName: string;
  const json = argv.includes("--json");
  try {
    const args = parseArgs(argv, { values: ["stack"], booleans: ["json"] });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    stackName = required(args, "stack");
    if (!STACK_NAME.test(stackName)) throw new UsageError(`'${stackName}' is not a valid stack name`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (json) io.stdout.write(`${JSON.stringify(usageReport(e.message), null, 2)}\n`);
    else io.stderr.write(`es1 preflight: ${e.message}\nusage: ${PREFLIGHT_USAGE}\n`);
    return EXIT_USAGE;
  }
  const [{ openStack }, { runPreflight }, { formatPreflight }, { errorMessages }] = await Promise.all([
    import("../workspace"),
    import("../preflight-run"),
    import("../preflight"),
    import("../report"),
  ]);
  let report: PreflightReport;
  try {
    report = await runPreflight(await openStack({ stackName }));
  } catch (e) {
    report = { ...usageReport(errorMessages(e).join("; ")), stack: stackName };
  }
  if (json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout.write(formatPreflight(report));
  return report.exitCode;
};

/**
 * The preflight `es1 up` and `es1 preview` run before anything else on an existing cluster (with
 * `configFile`, the run's config when --set gave any). Progress on stderr; returns the report to
 * stop with (exit 2, one error per failed check) or undefined to go on.
 */
export async function preflightGate(
  stack: Stack,
  operation: "up" | "preview",
  io: CommandIO,
  configFile?: string,
): Promise<OperationReport | undefined> {
  const start = Date.now();
  const [{ runPreflight }, { failureMessages }, { failedReport }] = await Promise.all([
    import("../preflight-run"),
    import("../preflight"),
    import("../operations"),
  ]);
  const report = await runPreflight(stack, configFile !== undefined ? { configFile } : {});
  // Settings the program refuses: it says so itself, in its own words (exit 2, nothing deployed).
  if (report.exitCode !== 0 && report.checks.length === 0) return undefined;
  const warned = report.checks.filter((c) => c.status === "warn");
  io.stderr.write(
    `es1 ${operation}: preflight ${report.status}` +
      (report.checks.length > 0 ? ` (${report.checks.length} checks, ${warned.length} warnings)` : "") +
      (report.status === "skipped" ? `: ${report.errors.join("; ")}` : "") +
      "\n",
  );
  for (const c of warned)
    io.stderr.write(`es1 ${operation}: preflight warning: ${c.title}: ${c.found}; ${c.fix ?? ""}\n`);
  if (report.exitCode === 0) return undefined;
  return {
    ...failedReport(operation, stack.name, new Error("preflight failed"), start),
    exitCode: EXIT_USAGE,
    errors: [...failureMessages(report), "nothing was deployed; --skip-preflight runs without these checks"],
  };
}
