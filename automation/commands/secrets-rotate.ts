// `es1 secrets rotate --stack S <name>`: one credential replaced end to end (automation/rotate.ts).
// Progress on stderr; stdout carries a summary, or with --json the SecretsRotateReport.
import type { SecretsRotateReport } from "../rotate";
import { EXIT_FAILED, EXIT_USAGE, errorMessages, exitCodeFor } from "../report";
import { Command, confirm, EXIT_OK, parseArgs, required, UsageError } from "./common";
import { STACK_NAME } from "./stack-args";

export const ROTATE_USAGE = "es1 secrets rotate --stack <name> <credential> [--yes] [--json]";

const HELP = `usage: ${ROTATE_USAGE}

Replaces one credential (es1:secrets.<credential>) end to end: stores a new value encrypted in the
stack's config, updates only the Secrets that held the old value, and restarts the Deployments,
StatefulSets and DaemonSets that read them, so the old value stops being used. Passwords and
session keys only: data keys (airflowFernetKey, n8nEncryptionKey, langflowSecretKey, langfuseSalt,
langfuseEncryptionKey) and initial passwords are refused. Values are never printed.

exit codes: 0 rotated, 1 the update or a restart failed, 2 usage error or a credential that cannot
be rotated (nothing changed), 3 stack locked by another update. See docs/components.md#secrets.
`;

interface RotateArgs {
  stack: string;
  name: string;
  yes: boolean;
  json: boolean;
}

function parse(argv: readonly string[]): RotateArgs {
  const args = parseArgs(argv, { values: ["stack"], booleans: ["json", "yes"] });
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  if (args.positionals.length !== 1)
    throw new UsageError(
      args.positionals.length === 0
        ? "name the credential to rotate (e.g. redisDefaultPassword)"
        : `rotate one credential at a time, got ${args.positionals.join(", ")}`,
    );
  return { stack, name: args.positionals[0], yes: args.booleans.has("yes"), json: args.booleans.has("json") };
}

function failed(
  stack: string | null,
  name: string | null,
  exitCode: number,
  errors: string[],
): SecretsRotateReport {
  return {
    operation: "secrets rotate",
    stack,
    name,
    status: "failed",
    exitCode: exitCode === EXIT_USAGE ? EXIT_USAGE : exitCode === 3 ? 3 : EXIT_FAILED,
    secrets: [],
    restarted: [],
    warnings: [],
    errors,
  };
}

export const secretsRotateCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const write = (r: SecretsRotateReport): number => {
    if (argv.includes("--json")) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      if (r.status === "succeeded")
        io.stdout.write(
          `es1 secrets rotate ${r.stack ?? ""} ${r.name ?? ""}: rotated in ${r.secrets.join(", ")}; ` +
            `restarted ${r.restarted.join(", ") || "none"}\n`,
        );
      for (const w of r.warnings) io.stderr.write(`es1 secrets rotate: warning: ${w}\n`);
      for (const e of r.errors) io.stderr.write(`es1 secrets rotate: ${e}\n`);
    }
    return r.exitCode;
  };
  let args: RotateArgs;
  try {
    args = parse(argv);
    if (!args.yes && !io.interactive)
      throw new UsageError(
        "refusing to rotate without --yes: standard input is not a terminal, so nobody can confirm",
      );
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (argv.includes("--json")) return write(failed(null, null, EXIT_USAGE, [e.message]));
    io.stderr.write(`es1 secrets rotate: ${e.message}\nusage: ${ROTATE_USAGE}\n`);
    return EXIT_USAGE;
  }
  const { rotationRefusal, rotateSecret } = await import("../rotate");
  const refusal = rotationRefusal(args.name);
  if (refusal !== undefined) return write(failed(args.stack, args.name, EXIT_USAGE, [refusal]));
  const question = `Rotate ${args.name} in stack ${args.stack} and restart the workloads that read it?`;
  if (!args.yes && !(await confirm(io, question))) {
    io.stderr.write("es1 secrets rotate: declined; nothing was changed\n");
    return EXIT_FAILED;
  }
  try {
    const { openStack } = await import("../workspace");
    const stack = await openStack({ stackName: args.stack, create: false });
    return write(
      await rotateSecret(stack, args.name, { onOutput: (s) => io.stderr.write(s), signal: io.signal }),
    );
  } catch (e) {
    return write(failed(args.stack, args.name, exitCodeFor(e), errorMessages(e)));
  }
};
