import * as fs from "fs";
import * as path from "path";
import { LocalChart, localChart } from "../lib/release";
import { PROJECT_ROOT } from "../lib/paths";

/** The platform chart of this repository. */
export const PLATFORM_CHART_DIR = "platform/chart";

/** Where copies of the chart for other platform versions are written (ignored, rebuilt at will). */
export const VERSIONED_CHARTS_DIR = "node_modules/.cache/es1/platform-chart";

/**
 * The platform chart for one platform version. `helm list` shows a release's APP VERSION from its
 * chart's Chart.yaml, and Helm has no flag to set it at install, so a customer whose
 * `platformVersion` differs from the chart's appVersion is installed from a copy of
 * platform/chart whose appVersion says that version; the chart is otherwise the same.
 */
export function platformChart(version: string | undefined): LocalChart {
  const chart = localChart(PLATFORM_CHART_DIR);
  if (version === undefined || version === chart.appVersion) return chart;
  // Named by version and content: a directory, once written, never changes, so concurrent runs
  // (tests, a deploy) share it without locks.
  const rel = `${VERSIONED_CHARTS_DIR}/${version}-${chart.checksum.slice(0, 16)}`;
  const dest = path.join(PROJECT_ROOT, rel);
  if (!fs.existsSync(dest)) writeCopy(path.join(PROJECT_ROOT, PLATFORM_CHART_DIR), dest, version);
  // The checksum stays the source chart's: the version alone already changes the values.
  return { kind: "local", path: `./${rel}`, checksum: chart.checksum, appVersion: version };
}

function writeCopy(src: string, dest: string, version: string): void {
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  fs.cpSync(src, tmp, { recursive: true });
  const chartYaml = path.join(tmp, "Chart.yaml");
  const text = fs.readFileSync(chartYaml, "utf8");
  if (!/^appVersion:.*$/m.test(text)) throw new Error(`${PLATFORM_CHART_DIR}/Chart.yaml has no appVersion`);
  fs.writeFileSync(chartYaml, text.replace(/^appVersion:.*$/m, `appVersion: ${JSON.stringify(version)}`));
  try {
    fs.renameSync(tmp, dest);
  } catch (e) {
    // Another run wrote the same copy first.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dest)) throw e;
  }
}
