// The `es1` command (scripts/es1 runs it through ts-node). Each subcommand is a module under
// automation/commands/ taking (argv, io) and returning its exit code, so tests drive it in memory.
import { Command, CommandIO, EXIT_OK, EXIT_USAGE } from "./commands/common";
import { licenseCommand } from "./commands/license";

const COMMANDS: Record<string, { summary: string; run: Command } | undefined> = {
  license: {
    summary: "create signing keys, issue and verify ES1 licenses (docs/licensing.md)",
    run: licenseCommand,
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
  const io: CommandIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
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
