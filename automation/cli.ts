// The `es1` command (scripts/es1 runs it through ts-node). Each subcommand is a module under
// automation/commands/ taking (argv, io) and returning its exit code, so tests drive it in memory.
import { Command, CommandIO, EXIT_OK, EXIT_USAGE } from "./commands/common";
import { licenseCommand } from "./commands/license";
import { STACK_COMMANDS, type StackCommand } from "./commands/stack-args";

// The stack commands load the Pulumi program and providers' SDKs: only when one of them runs.
function stack(command: StackCommand): Command {
  return async (argv, io) => (await import("./commands/stack")).stackCommand(command)(argv, io);
}

const COMMANDS: Record<string, { summary: string; run: Command } | undefined> = {
  airgap: {
    summary:
      "list a stack's images, bundle them with charts and models, push a bundle to a site registry (docs/airgap.md)",
    run: async (argv, io) => (await import("./commands/airgap")).airgapCommand(argv, io),
  },
  backup: {
    summary:
      "take an on-demand backup of a deployed stack and wait for it, or list its backups (docs/backup.md)",
    run: async (argv, io) => (await import("./commands/backup")).backupCommand(argv, io),
  },
  charts: {
    summary: "pull the pinned charts into a mirror directory, push one to an OCI registry (docs/airgap.md)",
    run: async (argv, io) => (await import("./commands/charts")).chartsCommand(argv, io),
  },
  license: {
    summary: "create signing keys, issue and verify ES1 licenses (docs/licensing.md)",
    run: licenseCommand,
  },
  preflight: {
    summary: "check an existing cluster has what the stack needs, deploying nothing (docs/operations.md)",
    run: async (argv, io) => (await import("./commands/preflight")).preflightCommand(argv, io),
  },
  preview: { summary: "show what `up` would change in a stack (docs/pipelines.md)", run: stack("preview") },
  up: { summary: "deploy a stack", run: stack("up") },
  refresh: { summary: "read the real state of a stack's resources into its state", run: stack("refresh") },
  destroy: { summary: "delete every resource of a stack", run: stack("destroy") },
  outputs: { summary: "print a stack's outputs (secrets masked)", run: stack("outputs") },
  status: {
    summary: "is every component and customer of a deployed stack healthy (docs/operations.md)",
    run: async (argv, io) => (await import("./commands/status")).statusCommand(argv, io),
  },
  render: {
    summary: "write each Helm release's chart and values (no secrets) for review",
    run: stack("render"),
  },
  rollout: {
    summary: "move customers to a platform version in waves, checking each is Ready",
    run: async (argv, io) => (await import("./commands/rollout")).rolloutCommand(argv, io),
  },
  restore: {
    summary:
      "restore PostgreSQL into a new cluster and switch every consumer to it, or another component through Velero (docs/backup.md)",
    run: async (argv, io) => (await import("./commands/restore")).restoreCommand(argv, io),
  },
  secrets: {
    summary:
      "secrets init: adopt or generate the credentials a stack's config lacks; secrets rotate: replace one",
    run: async (argv, io) => (await import("./commands/stack")).secretsCommand(argv, io),
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c?.summary ?? ""}\n`);
  return `usage: es1 <command> [arguments]  (es1 <command> --help for its arguments)\n\ncommands:\n${rows.join("")}`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`es1: unknown command '${name}'\n${usage()}`);
    return EXIT_USAGE;
  }
  return command.run(rest, io);
}

if (require.main === module) {
  // SIGTERM (a cancelled CI job): cancel the running Pulumi operation cleanly, so it releases the
  // stack lock. SIGINT from a terminal reaches the Pulumi CLI directly, which does the same. A second
  // signal ends the process at once.
  const abort = new AbortController();
  let signals = 0;
  const stackCommands = [...STACK_COMMANDS.map((c) => c.split(" ")[0]), "airgap", "rollout", "backup"];
  for (const sig of stackCommands.includes(process.argv[2] ?? "") ? (["SIGINT", "SIGTERM"] as const) : []) {
    process.on(sig, () => {
      if (++signals > 1) process.exit(130);
      process.stderr.write(`es1: ${sig}: stopping the running operation (again to exit now)\n`);
      if (sig === "SIGTERM") abort.abort();
      else if (process.stdin.isTTY !== true) abort.abort();
    });
  }
  const io: CommandIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    interactive: process.stdin.isTTY === true,
    signal: abort.signal,
  };
  main(process.argv.slice(2), io).then(
    // exitCode rather than exit(): a piped stdout is flushed asynchronously and exit() would cut it.
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(
        `es1: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
