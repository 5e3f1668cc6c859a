// `es1 backup now|list`: an on-demand backup of a deployed stack, waited for; the backups the
// cluster records, per component (automation/backup.ts, docs/backup.md).
import type { BackupComponent, BackupEntry, BackupOutcome } from "../backup";
import { VOLUME_COMPONENTS } from "../../config/backup";
import { EXIT_FAILED, EXIT_USAGE, notCompletedMessage } from "../report";
import { Command, EXIT_OK, optional, parseArgs, required, UsageError } from "./common";
import { STACK_NAME } from "./stack-args";

/** What --component takes (automation/backup.ts BACKUP_COMPONENTS). */
const COMPONENT_NAMES: readonly BackupComponent[] = ["postgresql", ...VOLUME_COMPONENTS];

export const BACKUP_USAGE =
  "es1 backup now --stack <name> [--component <c>]... [--timeout <seconds>] [--no-wait] [--json]\n" +
  "       es1 backup list --stack <name> [--component <c>]... [--json]";

/** Longest --timeout: a day (a base backup of a large database takes hours). */
export const MAX_BACKUP_TIMEOUT_SECONDS = 86400;
const DEFAULT_TIMEOUT_SECONDS = 3600;

const HELP = `usage: ${BACKUP_USAGE}

components: postgresql (a base backup through CloudNativePG's Barman Cloud plugin), and through
      Velero ${VOLUME_COMPONENTS.join(", ")} (a Backup from the component's Schedule: its objects
      and volumes), all into es1:backup's object store.
now:  asks the stack's cluster for an on-demand backup of each component given (default:
      postgresql) and waits until the operator reports it completed or failed, for up to --timeout
      seconds (default ${DEFAULT_TIMEOUT_SECONDS}) in all. --no-wait returns once the backups are
      asked for (reported pending).
list: the backups the cluster records (of the components given; default all), newest first:
      component, name, trigger (scheduled, on-demand, pre-upgrade), phase, start and end time,
      size and progress where recorded.

exit codes: 0 completed (or asked for, with --no-wait; listed, for list), 1 a backup failed or did
not finish in time, or the cluster could not be read, 2 usage error, unknown stack, or no backups
configured. See docs/backup.md.
`;

export interface BackupArgs {
  action: "now" | "list";
  stack: string;
  /** The components given; `now` defaults to postgresql, `list` to all. */
  components: BackupComponent[];
  json: boolean;
  wait: boolean;
  timeoutSeconds: number;
}

export function parseBackupArgs(argv: readonly string[]): BackupArgs {
  const [action, ...rest] = argv;
  if (action !== "now" && action !== "list")
    throw new UsageError(
      action === undefined ? "say now or list" : `unknown action '${action}'; use now or list`,
    );
  const args = parseArgs(rest, {
    values: ["stack", ...(action === "now" ? ["timeout"] : [])],
    repeatable: ["component"],
    booleans: ["json", ...(action === "now" ? ["no-wait"] : [])],
  });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  const given = args.values.get("component") ?? (action === "now" ? ["postgresql"] : COMPONENT_NAMES);
  const components = given.map((c): BackupComponent => {
    const known = COMPONENT_NAMES.find((k) => k === c);
    if (known === undefined)
      throw new UsageError(
        `--component '${c}' is not backed up; es1 backs up: ${COMPONENT_NAMES.join(", ")}`,
      );
    return known;
  });
  const timeout = optional(args, "timeout");
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  if (timeout !== undefined) {
    timeoutSeconds = /^[0-9]+$/.test(timeout) ? Number(timeout) : NaN;
    if (
      !Number.isInteger(timeoutSeconds) ||
      timeoutSeconds < 1 ||
      timeoutSeconds > MAX_BACKUP_TIMEOUT_SECONDS
    )
      throw new UsageError(
        `--timeout '${timeout}' is not allowed; give whole seconds from 1 to ${MAX_BACKUP_TIMEOUT_SECONDS}`,
      );
  }
  return {
    action,
    stack,
    components: [...new Set(components)],
    json: args.booleans.has("json"),
    wait: !args.booleans.has("no-wait"),
    timeoutSeconds,
  };
}

/** The one JSON document `es1 backup ... --json` writes. */
export interface BackupReport {
  operation: "backup now" | "backup list";
  stack: string | null;
  status: "succeeded" | "pending" | "failed";
  exitCode: number;
  durationSeconds: number;
  backups: BackupEntry[];
  errors: string[];
}

function table(r: BackupReport): string {
  const head = `es1 ${r.operation} ${r.stack ?? ""}: ${r.status} (exit ${r.exitCode})\n`;
  const rows = r.backups.map(
    (b) =>
      `  ${b.component.padEnd(11)} ${(b.cluster ?? "-").padEnd(20)} ${b.name.padEnd(48)} ${b.trigger.padEnd(11)} ${b.phase.padEnd(10)} ` +
      `${b.startedAt ?? "-"} -> ${b.stoppedAt ?? "-"}  size ${b.sizeBytes ?? "not recorded"}` +
      `${b.progress ? `  items ${b.progress.itemsBackedUp}/${b.progress.totalItems}` : ""}` +
      `${b.error ? `  (${b.error})` : ""}\n`,
  );
  return head + rows.join("") + r.errors.map((e) => `  error: ${e}\n`).join("");
}

export const backupCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const start = Date.now();
  const seconds = () => Math.round((Date.now() - start) / 100) / 10;
  let args: BackupArgs;
  try {
    args = parseBackupArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const report: BackupReport = {
      operation: argv[0] === "list" ? "backup list" : "backup now",
      stack: null,
      status: "failed",
      exitCode: EXIT_USAGE,
      durationSeconds: 0,
      backups: [],
      errors: [e.message],
    };
    if (argv.includes("--json")) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else io.stderr.write(`es1 backup: ${e.message}\nusage: ${BACKUP_USAGE}\n`);
    return EXIT_USAGE;
  }
  const [{ openStack }, { platformClusterClient }, backup, velero, { errorMessages, exitCodeFor }] =
    await Promise.all([
      import("../workspace"),
      import("../kube"),
      import("../backup"),
      import("../velero"),
      import("../report"),
    ]);
  const operation = args.action === "now" ? "backup now" : "backup list";
  let report: BackupReport;
  try {
    const stack = await openStack({ stackName: args.stack, create: false });
    const platformCluster = (await stack.outputs()).platformCluster;
    if (platformCluster === undefined)
      throw new UsageError(`stack ${args.stack} has no platformCluster output: run es1 up on it first`);
    const api = platformClusterClient(platformCluster.value);
    if (args.action === "list") {
      report = {
        operation,
        stack: args.stack,
        status: "succeeded",
        exitCode: EXIT_OK,
        durationSeconds: seconds(),
        backups: [
          ...(args.components.includes("postgresql") ? await backup.listBackups(api) : []),
          ...(await velero.listVeleroBackups(api)).filter((b) => args.components.includes(b.component)),
        ],
        errors: [],
      };
    } else {
      const { structuredConfig } = await import("../operations");
      const deadline = Date.now() + args.timeoutSeconds * 1000;
      const wait = () => ({
        wait: args.wait,
        // One --timeout for every component given.
        timeoutSeconds: Math.max(0, Math.round((deadline - Date.now()) / 1000)),
        ...(io.signal ? { signal: io.signal } : {}),
        onProgress: (line: string) => io.stderr.write(`es1 backup now: ${line}\n`),
      });
      const taken: { entry: BackupEntry; outcome: BackupOutcome }[] = [];
      for (const component of args.components)
        taken.push(
          component === "postgresql"
            ? await backup.takeBackup(api, {
                trigger: "on-demand",
                // After a restore: the cluster the consumers use.
                cluster: backup.activeCluster(await structuredConfig(stack, "es1:backup")),
                ...wait(),
              })
            : await velero.takeVeleroBackup(api, component, "on-demand", wait()),
        );
      const outcome: BackupOutcome = taken.some((t) => t.outcome === "failed")
        ? "failed"
        : taken.some((t) => t.outcome === "pending")
          ? "pending"
          : "completed";
      const ok = outcome === "completed" || (!args.wait && outcome === "pending");
      report = {
        operation,
        stack: args.stack,
        status: outcome === "completed" ? "succeeded" : outcome,
        exitCode: ok ? EXIT_OK : EXIT_FAILED,
        durationSeconds: seconds(),
        backups: taken.map((t) => t.entry),
        errors: ok
          ? []
          : taken
              .filter((t) => t.outcome !== "completed")
              .map(({ entry, outcome: o }) =>
                notCompletedMessage("Backup", entry, o === "failed", args.timeoutSeconds),
              ),
      };
    }
  } catch (e) {
    const usage =
      e instanceof UsageError ||
      e instanceof backup.BackupsNotConfigured ||
      e instanceof velero.VolumeBackupsNotConfigured ||
      exitCodeFor(e) === EXIT_USAGE;
    report = {
      operation,
      stack: args.stack,
      status: "failed",
      exitCode: usage ? EXIT_USAGE : EXIT_FAILED,
      durationSeconds: seconds(),
      backups: [],
      errors: errorMessages(e),
    };
  }
  io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : table(report));
  return report.exitCode;
};
