// `helm list` shows the platform version a customer runs: its release's chart carries that
// version as appVersion.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/paths";
import { chartChecksum } from "../../lib/release";
import { PLATFORM_CHART_DIR, platformChart } from "../../platform/chart-version";

// Versions no deploy uses: the tests remove the copies they make, and runs share copies by version.
const V = ["0.0.0-unit.1", "0.0.0-unit.2", "0.0.0-unit.3"];
const source = path.join(PROJECT_ROOT, PLATFORM_CHART_DIR);
const appVersionOf = (dir: string) =>
  /^appVersion:\s*"?([^"\s]+)"?$/m.exec(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8"))?.[1];

describe("the platform chart per platform version", () => {
  it("is platform/chart itself for the chart's own appVersion, or when no version is set", () => {
    const own = appVersionOf(source);
    assert.ok(own, "platform/chart has an appVersion");
    for (const v of [undefined, own]) {
      const chart = platformChart(v);
      assert.strictEqual(chart.path, `./${PLATFORM_CHART_DIR}`);
      assert.strictEqual(chart.appVersion, own);
    }
  });

  it("is a copy whose appVersion is the version, identical otherwise, at a path inside the project", () => {
    const chart = platformChart(V[0]);
    assert.match(
      chart.path,
      /^\.\/node_modules\/\.cache\/es1\/platform-chart\/0\.0\.0-unit\.1-[0-9a-f]{16}$/,
    );
    assert.strictEqual(chart.appVersion, V[0]);
    assert.strictEqual(chart.checksum, chartChecksum(source), "the values carry the source chart's checksum");
    const copy = path.join(PROJECT_ROOT, chart.path);
    assert.strictEqual(appVersionOf(copy), V[0]);
    const strip = (dir: string) =>
      fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8").replace(/^appVersion:.*$/m, "");
    assert.strictEqual(strip(copy), strip(source));
    fs.writeFileSync(path.join(copy, "Chart.yaml"), fs.readFileSync(path.join(source, "Chart.yaml")));
    assert.strictEqual(chartChecksum(copy), chartChecksum(source), "every other file is the same");
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it("reuses a copy written before, and writes one per version", () => {
    const a = platformChart(V[1]);
    const b = platformChart(V[1]);
    const c = platformChart(V[2]);
    assert.strictEqual(a.path, b.path);
    assert.notStrictEqual(a.path, c.path);
    assert.strictEqual(appVersionOf(path.join(PROJECT_ROOT, c.path)), V[2]);
    for (const x of [a, c]) fs.rmSync(path.join(PROJECT_ROOT, x.path), { recursive: true, force: true });
  });
});
