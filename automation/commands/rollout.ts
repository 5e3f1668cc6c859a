// `es1 rollout`: a platform version, customer by customer in waves (automation/rollout.ts).
// Progress on stderr; stdout carries a summary, or with --json the RolloutReport.
import type { RolloutReport } from "../rollout";
import { EXIT_USAGE } from "../report";
import { Command, CommandIO, EXIT_OK, readLine, UsageError } from "./common";
import { parseRolloutArgs, ROLLOUT_USAGE, RolloutArgs } from "./rollout-args";

const HELP = `usage: ${ROLLOUT_USAGE}

Moves customers' platforms to --platform-version in waves: \`,\` separates waves, \`+\` joins the
customers of one wave (beam,polygraf+rimbal is beam first, then polygraf and rimbal together).
Each wave sets es1:customers.<c>.platformVersion in stack config, runs an update limited to those
customers, then checks their Deployments and StatefulSets are Ready at the version (for up to
--ready-timeout seconds, default 300). The first failure stops the rollout: later waves are not
touched. With --rollback-on-failure the failed wave gets its previous version back (config and
cluster); without it the failed wave's config keeps the new version, so the next \`es1 up\` retries.
An error inside a wave, or SIGTERM, stops the rollout with its report written and the stack's config
saying what runs (a wave whose update did not finish gets its previous version back). A version
below a customer's deployed one is refused unless --allow-downgrade.

exit codes: 0 every wave Ready, 1 a wave failed, 2 usage or config error (nothing changed),
3 stack locked by another update. See docs/pipelines.md.
`;

function summary(r: RolloutReport): string {
  const lines = [
    `es1 rollout ${r.stack ?? ""} → ${r.version ?? ""}: ${r.status} in ${r.durationSeconds}s (exit ${r.exitCode})`,
  ];
  for (const w of r.waves) {
    const from = w.customers.map((c) => `${c} ${w.previousVersions[c]}`).join(", ");
    lines.push(`  wave ${w.wave} [${from}]: ${w.status}`);
    for (const e of w.errors) lines.push(`    ${e.split("\n").join("\n    ")}`);
  }
  return `${lines.join("\n")}\n`;
}

function usageReport(e: UsageError): RolloutReport {
  return {
    operation: "rollout",
    stack: null,
    version: null,
    status: "failed",
    exitCode: EXIT_USAGE,
    durationSeconds: 0,
    waves: [],
    errors: [e.message],
  };
}

async function confirmed(io: CommandIO, args: RolloutArgs): Promise<boolean> {
  const plan = args.waves.map((w, i) => `wave ${i + 1}: ${w.join(" + ")}`).join("; ");
  io.stderr.write(`Roll out ${args.version} on stack ${args.stack} (${plan})? [y/N] `);
  const answer = (await readLine(io.stdin)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

export const rolloutCommand: Command = async (argv, io) => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  let args: RolloutArgs;
  try {
    args = parseRolloutArgs(argv);
    if (!args.yes && !io.interactive)
      throw new UsageError(
        "refusing to roll out without --yes: standard input is not a terminal, so nobody can confirm",
      );
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (argv.includes("--json")) io.stdout.write(`${JSON.stringify(usageReport(e), null, 2)}\n`);
    else io.stderr.write(`es1 rollout: ${e.message}\nusage: ${ROLLOUT_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (!args.yes && !(await confirmed(io, args))) {
    io.stderr.write("es1 rollout: declined; nothing was changed\n");
    return 1;
  }
  const { rollout } = await import("../rollout");
  const report = await rollout({
    stackName: args.stack,
    plan: {
      version: args.version,
      waves: args.waves,
      rollbackOnFailure: args.rollbackOnFailure,
      allowDowngrade: args.allowDowngrade,
      readyTimeoutSeconds: args.readyTimeoutSeconds,
    },
    onOutput: (s) => io.stderr.write(s),
    onProgress: (line) => io.stderr.write(`es1 rollout: ${line}\n`),
    signal: io.signal,
  });
  if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    io.stdout.write(summary(report));
    if (report.waves.length === 0) for (const e of report.errors) io.stderr.write(`es1 rollout: ${e}\n`);
  }
  return report.exitCode;
};
