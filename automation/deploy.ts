// `npm run deploy -- [--stack <name>] [--preview] [--expect-no-changes]`: preview or update one
// stack of this project with the project's own tools (no Pulumi Cloud login needed).
import { execFileSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../lib/paths";
import { chartSource, linkLocalCharts } from "./chart-source";
import { openStack } from "./workspace";

const LOCAL_STACK = "local";

/**
 * The `local` stack needs the local cluster (Pulumi.local.yaml names its kubeconfig) and the
 * chart mirror link its `es1:airgap.charts` names: both made here, so a deploy is one command.
 */
async function prepareLocal(): Promise<void> {
  execFileSync("bash", [path.join(PROJECT_ROOT, "scripts", "cluster.sh"), "up"], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
  const source = await chartSource();
  const link = linkLocalCharts(source);
  process.stderr.write(`[deploy] charts: ${link} -> ${source.dir} (${source.kind})\n`);
}

async function main(argv: string[]): Promise<number> {
  let stackName = "local";
  let previewOnly = false;
  let expectNoChanges = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack" && argv[i + 1]) stackName = argv[++i];
    else if (a === "--preview") previewOnly = true;
    else if (a === "--expect-no-changes") expectNoChanges = true;
    else {
      process.stderr.write(
        `unknown argument '${a}'; usage: deploy [--stack <name>] [--preview] [--expect-no-changes]\n`,
      );
      return 2;
    }
  }
  if (stackName === LOCAL_STACK) await prepareLocal();
  const stack = await openStack({ stackName });
  const onOutput = (s: string) => process.stderr.write(s);
  if (previewOnly) {
    const r = await stack.preview({ onOutput, expectNoChanges, diff: false });
    process.stdout.write(`${JSON.stringify(r.changeSummary)}\n`);
  } else {
    const r = await stack.up({ onOutput, expectNoChanges });
    process.stdout.write(`${JSON.stringify(r.summary.resourceChanges ?? {})}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
