// Where the tests, the `local` stack and the bench get the real upstream chart archives: one
// directory mirror, chosen once, so what they install is always the chart users get.
//
//   1. $ES1_CHART_MIRROR, when set (a directory of `<chart>-<version>.tgz`);
//   2. ../shared/upstream-charts beside the project, when it exists (the build machines' copy);
//   3. otherwise a cache that `es1 charts pull` fills once, from each chart's upstream.
//
// `ts-node automation/chart-source.ts` prints the chosen directory (for shell scripts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CATALOG, RELEASES } from "../infrastructure/catalog";
import { mirrorProblem } from "../lib/charts";
import { PROJECT_ROOT } from "../lib/paths";

/** The environment variable that names a chart mirror directory. */
export const CHART_MIRROR_ENV = "ES1_CHART_MIRROR";

/** The shared copy of the upstream archives laid beside the project on build machines. */
export const SHARED_CHARTS = path.resolve(PROJECT_ROOT, "..", "shared", "upstream-charts");

/** The per-user cache of this project (tools, local clusters, charts). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "es1");
}

/** Where `es1 charts pull` puts the archives when no mirror is at hand. */
export function pulledChartsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "charts");
}

/**
 * The path the `local` stack's `es1:airgap.charts` names: a link to the chosen mirror, so the
 * stack file stays the same whichever source a machine has.
 */
export function localChartsLink(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "local-charts");
}

export type ChartSourceKind = "env" | "shared" | "pulled";

export interface ChartSource {
  kind: ChartSourceKind;
  dir: string;
}

/** Every pinned chart that `dir` lacks, one line each (empty when the mirror is complete). */
export function missingCharts(dir: string): string[] {
  return RELEASES.flatMap((key) => {
    const problem = mirrorProblem(dir, CATALOG[key].chart);
    return problem ? [`${CATALOG[key].chart.chart} ${CATALOG[key].chart.version}: ${problem}`] : [];
  });
}

function complete(kind: ChartSourceKind, dir: string, why: string): ChartSource {
  const missing = missingCharts(dir);
  if (missing.length > 0) {
    throw new Error(`the chart mirror ${dir} (${why}) lacks pinned charts:\n  ${missing.join("\n  ")}`);
  }
  return { kind, dir };
}

/**
 * The chart mirror to install from, pulling the pinned charts once when neither a named mirror
 * nor the shared copy exists. A mirror that lacks a pinned chart is an error, never skipped.
 */
export async function chartSource(env: NodeJS.ProcessEnv = process.env): Promise<ChartSource> {
  const named = env[CHART_MIRROR_ENV];
  if (named) {
    const dir = path.resolve(named);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`${CHART_MIRROR_ENV}=${named} is not a directory of chart archives`);
    }
    return complete("env", dir, `from ${CHART_MIRROR_ENV}`);
  }
  if (fs.existsSync(SHARED_CHARTS)) return complete("shared", SHARED_CHARTS, "the shared upstream charts");
  const dir = pulledChartsDir(env);
  if (missingCharts(dir).length > 0) {
    const { pullCharts } = await import("./charts");
    await pullCharts({ out: dir });
  }
  return complete("pulled", dir, "pulled by es1 charts pull");
}

/** Points the `local` stack's chart link at the chosen mirror; returns the link. */
export function linkLocalCharts(source: ChartSource, env: NodeJS.ProcessEnv = process.env): string {
  const link = localChartsLink(env);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  if (fs.existsSync(link) && !isLink(link)) {
    throw new Error(`${link} should be a link to the chart mirror, but something else is there; remove it`);
  }
  const current = isLink(link) ? fs.readlinkSync(link) : undefined;
  if (current !== source.dir) {
    fs.rmSync(link, { force: true });
    fs.symlinkSync(source.dir, link, "dir");
  }
  return link;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

if (require.main === module) {
  chartSource().then(
    (s) => process.stdout.write(`${s.dir}\n`),
    (e: unknown) => {
      process.stderr.write(`chart-source: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
