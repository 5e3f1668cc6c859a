// `es1 restore postgresql`: a new PostgreSQL cluster from the object store, at a point in time or
// at the end of a named backup, that every consumer is switched to through stack config
// (es1:backup.postgresql.restore); the original cluster is kept (docs/backup.md#restore-postgresql).
import type { OperationReport } from "../report";
import type { RestoreEntry } from "../velero";
import { VOLUME_COMPONENTS, VolumeComponent } from "../../config/backup";
import { EXIT_FAILED, EXIT_USAGE, notCompletedMessage } from "../report";
import { Command, confirm, EXIT_OK, optional, parseArgs, required, UsageError } from "./common";
import { STACK_NAME } from "./stack-args";

export const RESTORE_USAGE =
  "es1 restore postgresql --stack <name> --as <es1-postgresql-suffix> (--time <RFC 3339 UTC> | --backup <Backup name>) [--source <cluster>] [--yes] [--json]\n" +
  `       es1 restore <${VOLUME_COMPONENTS.join("|")}> --stack <name> --backup <Velero Backup name> [--timeout <seconds>] [--no-wait] [--yes] [--json]`;

const HELP = `usage: ${RESTORE_USAGE}

Sets es1:backup.postgresql.restore in the stack's config and runs es1 up: a new CloudNativePG
cluster named --as is bootstrapped from the source cluster's (default es1-postgresql) base
backups and WAL in es1:backup's object store, recovered up to --time, or to the end of the
completed Backup --backup (its stoppedAt plus one second); every application and customer is
switched to it; the source cluster is kept (docs/backup.md says how to remove it). Asks before
running unless --yes.

exit codes: those of es1 up (0 succeeded, 1 failed, 2 usage or config error: the stack's config is
left as it was).

es1 restore <component> (${VOLUME_COMPONENTS.join(", ")}): creates a Velero Restore of the
component's objects and volumes in es1-infrastructure from one of its completed backups
(es1 backup list --component <component>) and waits until Velero reports it completed or failed,
for up to --timeout seconds (default 3600; --no-wait: return once asked for). Objects that exist
are left as they are: remove the component's volumes first (docs/backup.md, the runbook).
exit codes: 0 completed (--no-wait: asked for), 1 failed or not done in time, 2 usage, unknown
stack, or a backup that is not the component's or not completed.
`;

export interface VolumeRestoreArgs {
  component: VolumeComponent;
  stack: string;
  backup: string;
  timeoutSeconds: number;
  wait: boolean;
  yes: boolean;
  json: boolean;
}

export function parseVolumeRestoreArgs(
  component: VolumeComponent,
  rest: readonly string[],
): VolumeRestoreArgs {
  const args = parseArgs(rest, {
    values: ["stack", "backup", "timeout"],
    booleans: ["yes", "json", "no-wait"],
  });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const timeout = optional(args, "timeout") ?? "3600";
  const timeoutSeconds = /^[0-9]+$/.test(timeout) ? Number(timeout) : NaN;
  if (!(timeoutSeconds >= 1 && timeoutSeconds <= 86400))
    throw new UsageError(`--timeout '${timeout}' is not allowed; give whole seconds from 1 to 86400`);
  return {
    component,
    stack,
    backup: required(args, "backup"),
    timeoutSeconds,
    wait: !args.booleans.has("no-wait"),
    yes: args.booleans.has("yes"),
    json: args.booleans.has("json"),
  };
}

/** The one JSON document `es1 restore <component> --json` writes. */
export interface VolumeRestoreReport {
  operation: "restore";
  component: VolumeComponent;
  stack: string;
  status: "succeeded" | "pending" | "failed";
  exitCode: number;
  restore?: RestoreEntry;
  errors: string[];
}

/** `es1 restore <component>`: a Velero Restore of one component (automation/velero.ts). */
const volumeRestore = async (
  component: VolumeComponent,
  rest: readonly string[],
  io: Parameters<Command>[1],
): Promise<number> => {
  let args: VolumeRestoreArgs;
  try {
    args = parseVolumeRestoreArgs(component, rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`es1 restore: ${e.message}\nusage: ${RESTORE_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (!args.yes) {
    const question = `Restore ${component} of stack ${args.stack} from Velero Backup ${args.backup}?`;
    if (io.interactive !== true || !(await confirm(io, question))) {
      io.stderr.write("es1 restore: not confirmed (give --yes to run without asking); nothing changed\n");
      return EXIT_USAGE;
    }
  }
  const [{ openStack }, { platformClusterClient }, velero, { errorMessages, exitCodeFor }] =
    await Promise.all([import("../workspace"), import("../kube"), import("../velero"), import("../report")]);
  let report: VolumeRestoreReport;
  try {
    const stack = await openStack({ stackName: args.stack, create: false });
    const platformCluster = (await stack.outputs()).platformCluster;
    if (platformCluster === undefined)
      throw new UsageError(`stack ${args.stack} has no platformCluster output: run es1 up on it first`);
    const { entry, outcome } = await velero.restoreVolumes(
      platformClusterClient(platformCluster.value),
      component,
      args.backup,
      {
        wait: args.wait,
        timeoutSeconds: args.timeoutSeconds,
        ...(io.signal ? { signal: io.signal } : {}),
        onProgress: (line) => io.stderr.write(`es1 restore: ${line}\n`),
      },
    );
    const ok = outcome === "completed" || (!args.wait && outcome === "pending");
    report = {
      operation: "restore",
      component,
      stack: args.stack,
      status: outcome === "completed" ? "succeeded" : outcome,
      exitCode: ok ? EXIT_OK : EXIT_FAILED,
      restore: entry,
      errors: ok ? [] : [notCompletedMessage("Restore", entry, outcome === "failed", args.timeoutSeconds)],
    };
  } catch (e) {
    const usage =
      e instanceof UsageError ||
      e instanceof velero.NotRestorable ||
      e instanceof velero.VolumeBackupsNotConfigured ||
      exitCodeFor(e) === EXIT_USAGE;
    report = {
      operation: "restore",
      component,
      stack: args.stack,
      status: "failed",
      exitCode: usage ? EXIT_USAGE : EXIT_FAILED,
      errors: errorMessages(e),
    };
  }
  if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const r = report.restore;
    io.stdout.write(
      `es1 restore ${component} ${args.stack}: ${report.status} (exit ${report.exitCode})` +
        `${r ? `  Restore ${r.name} of ${r.backup}: ${r.phase}` : ""}\n`,
    );
    for (const e of report.errors) io.stderr.write(`es1 restore: ${e}\n`);
  }
  return report.exitCode;
};

export interface RestoreArgs {
  stack: string;
  cluster: string;
  source?: string;
  time?: string;
  backup?: string;
  yes: boolean;
  json: boolean;
}

export function parseRestoreArgs(argv: readonly string[]): RestoreArgs {
  const [what, ...rest] = argv;
  if (what !== "postgresql")
    throw new UsageError(
      what === undefined
        ? `say what to restore: postgresql, ${VOLUME_COMPONENTS.join(", ")}`
        : `es1 restore restores postgresql, ${VOLUME_COMPONENTS.join(", ")}; '${what}' is none of them (docs/backup.md)`,
    );
  const args = parseArgs(rest, {
    values: ["stack", "as", "time", "backup", "source"],
    booleans: ["yes", "json"],
  });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const time = optional(args, "time");
  const backup = optional(args, "backup");
  if ((time === undefined) === (backup === undefined)) throw new UsageError("give one of --time or --backup");
  const source = optional(args, "source");
  return {
    stack,
    cluster: required(args, "as"),
    ...(source !== undefined ? { source } : {}),
    ...(time !== undefined ? { time } : {}),
    ...(backup !== undefined ? { backup } : {}),
    yes: args.booleans.has("yes"),
    json: args.booleans.has("json"),
  };
}

/** The instant a named backup restores to: one second after it stopped (Backup status times are whole seconds). */
export function afterBackup(stoppedAt: string): string {
  return new Date(Date.parse(stoppedAt) + 1000).toISOString().replace(/\.000Z$/, "Z");
}

export const restoreCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const volume = VOLUME_COMPONENTS.find((c) => c === argv[0]);
  if (volume !== undefined) return volumeRestore(volume, argv.slice(1), io);
  let args: RestoreArgs;
  try {
    args = parseRestoreArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`es1 restore: ${e.message}\nusage: ${RESTORE_USAGE}\n`);
    return EXIT_USAGE;
  }
  const [{ openStack }, { platformClusterClient }, { stackOperation, failedReport }, { backupEntry }] =
    await Promise.all([
      import("../workspace"),
      import("../kube"),
      import("../operations"),
      import("../backup"),
    ]);
  const emit = (report: OperationReport & { restore?: Record<string, string> }): number => {
    if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      io.stdout.write(`es1 restore postgresql ${args.stack}: ${report.status} (exit ${report.exitCode})\n`);
      for (const e of report.errors) io.stderr.write(`es1 restore: ${e}\n`);
    }
    return report.exitCode;
  };
  let targetTime = args.time;
  try {
    if (args.backup !== undefined) {
      // The Backup's end, as CloudNativePG recorded it.
      const stack = await openStack({ stackName: args.stack, create: false });
      const api = platformClusterClient((await stack.outputs()).platformCluster?.value);
      const { INFRASTRUCTURE_NAMESPACE } = await import("../../infrastructure/layout");
      const entry = backupEntry(
        await api.get(
          `/apis/postgresql.cnpg.io/v1/namespaces/${INFRASTRUCTURE_NAMESPACE}/backups/${args.backup}`,
        ),
      );
      if (entry.phase !== "completed" || entry.stoppedAt === undefined)
        throw new UsageError(
          `Backup ${args.backup} is ${entry.phase}: only a completed backup can be restored`,
        );
      targetTime = afterBackup(entry.stoppedAt);
    }
  } catch (e) {
    const report = failedReport("up", args.stack, e);
    return emit({ ...report, exitCode: e instanceof UsageError ? EXIT_USAGE : report.exitCode });
  }
  const restore = {
    cluster: args.cluster,
    targetTime: targetTime ?? "",
    ...(args.source !== undefined ? { source: args.source } : {}),
  };
  if (!args.yes) {
    const question = `Restore PostgreSQL of stack ${args.stack} to ${restore.targetTime} into new cluster ${args.cluster}, and switch every consumer to it?`;
    if (io.interactive !== true || !(await confirm(io, question))) {
      io.stderr.write("es1 restore: not confirmed (give --yes to run without asking); nothing changed\n");
      return EXIT_USAGE;
    }
  }
  const report = await stackOperation({
    operation: "up",
    stackName: args.stack,
    settings: Object.entries(restore).map(([k, value]) => ({
      key: `es1:backup.postgresql.restore.${k}`,
      value,
    })),
    onOutput: (s) => io.stderr.write(s),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  return emit({ ...report, restore: { ...restore, ...(args.backup ? { backup: args.backup } : {}) } });
};
