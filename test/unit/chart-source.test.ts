import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CHART_MIRROR_ENV,
  chartSource,
  linkLocalCharts,
  localChartsLink,
  missingCharts,
  SHARED_CHARTS,
} from "../../automation/chart-source";
import { CATALOG, RELEASES } from "../../infrastructure/catalog";

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A mirror holding links to the real archives of the shared copy, minus `without`. */
function mirrorOf(without: string[] = []): string {
  const dir = tempDir("es1-mirror-");
  for (const key of RELEASES) {
    const { chart, version } = CATALOG[key].chart;
    if (without.includes(chart)) continue;
    const file = `${chart}-${version}.tgz`;
    fs.symlinkSync(path.join(SHARED_CHARTS, file), path.join(dir, file));
  }
  return dir;
}

describe("chart source of the tests and the local stack", () => {
  before(function () {
    // The build machines lay the real archives beside the project (CI too); the cases below
    // build mirrors out of them.
    assert.ok(fs.existsSync(SHARED_CHARTS), `${SHARED_CHARTS} is missing`);
  });

  it("takes $ES1_CHART_MIRROR first", async () => {
    const dir = mirrorOf();
    assert.deepStrictEqual(await chartSource({ [CHART_MIRROR_ENV]: dir }), { kind: "env", dir });
  });

  it("takes the shared upstream charts when no mirror is named", async () => {
    assert.deepStrictEqual(await chartSource({}), { kind: "shared", dir: SHARED_CHARTS });
  });

  it("refuses a named mirror that lacks a pinned chart, naming it and its version", async () => {
    const dir = mirrorOf(["valkey"]);
    await assert.rejects(chartSource({ [CHART_MIRROR_ENV]: dir }), (e: Error) => {
      assert.match(e.message, /lacks pinned charts/);
      assert.match(e.message, new RegExp(`valkey ${CATALOG.redis.chart.version}`));
      assert.doesNotMatch(e.message, /cloudnative-pg/);
      return true;
    });
    assert.deepStrictEqual(
      missingCharts(dir).map((m) => m.split(":")[0]),
      [`valkey ${CATALOG.redis.chart.version}`],
    );
  });

  it("refuses a named mirror that is not a directory", async () => {
    await assert.rejects(
      chartSource({ [CHART_MIRROR_ENV]: "/nonexistent/charts" }),
      /ES1_CHART_MIRROR=\/nonexistent\/charts is not a directory/,
    );
  });

  it("links the local stack's chart directory to the chosen mirror, and moves the link", () => {
    const env = { XDG_CACHE_HOME: tempDir("es1-cache-") };
    const a = mirrorOf();
    const b = mirrorOf();
    const link = linkLocalCharts({ kind: "env", dir: a }, env);
    assert.strictEqual(link, localChartsLink(env));
    assert.strictEqual(fs.readlinkSync(link), a);
    linkLocalCharts({ kind: "env", dir: b }, env);
    assert.strictEqual(fs.readlinkSync(link), b);
    fs.rmSync(link);
    fs.mkdirSync(link);
    assert.throws(() => linkLocalCharts({ kind: "env", dir: a }, env), /something else is there/);
  });
});
