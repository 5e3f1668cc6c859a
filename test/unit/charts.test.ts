import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigErrors, parseSettings, SettingsSource } from "../../config";
import { resolveChart, UpstreamChart } from "../../lib/charts";
import { chartInputs, localChart } from "../../lib/release";

const valkey: UpstreamChart = { chart: "valkey", repo: "https://valkey.io/valkey-helm/", version: "0.11.0" };

function mirrorDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "es1-mirror-"));
}

function settingsWith(airgap: unknown, cwd = os.tmpdir()) {
  const values: Record<string, unknown> = { airgap };
  const src: SettingsSource = {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: () => false,
  };
  return parseSettings(src, { project: "es1-platform", stack: "dev", cwd });
}

function airgapProblems(airgap: unknown): string[] {
  try {
    settingsWith(airgap);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors);
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected es1:airgap to be refused");
}

describe("chart resolver", () => {
  it("takes a chart from its upstream repository at the pinned version by default", () => {
    const chart = resolveChart(valkey, settingsWith(undefined).airgap.charts);
    assert.deepStrictEqual(chartInputs(chart, { a: 1 }), {
      chart: "valkey",
      version: "0.11.0",
      repositoryOpts: { repo: "https://valkey.io/valkey-helm/" },
      values: { a: 1 },
    });
  });

  it("takes every chart from one OCI registry when es1:airgap.charts is oci://", () => {
    const chart = resolveChart(
      valkey,
      settingsWith({ charts: "oci://registry.internal:5000/charts/" }).airgap.charts,
    );
    assert.deepStrictEqual(chartInputs(chart, {}), {
      chart: "oci://registry.internal:5000/charts/valkey",
      version: "0.11.0",
      values: {},
    });
  });

  it("takes a chart archive <chart>-<version>.tgz from a directory mirror", () => {
    const dir = mirrorDir();
    fs.writeFileSync(path.join(dir, "valkey-0.11.0.tgz"), "");
    const chart = resolveChart(valkey, settingsWith({ charts: dir }).airgap.charts);
    assert.deepStrictEqual(chartInputs(chart, {}), {
      chart: path.join(dir, "valkey-0.11.0.tgz"),
      values: {},
    });
  });

  it("takes a chart directory from the mirror only at the pinned version", () => {
    const dir = mirrorDir();
    fs.mkdirSync(path.join(dir, "valkey"));
    fs.writeFileSync(
      path.join(dir, "valkey", "Chart.yaml"),
      "apiVersion: v2\nname: valkey\nversion: 0.10.0\n",
    );
    const mirror = settingsWith({ charts: dir }).airgap.charts;
    assert.throws(() => resolveChart(valkey, mirror), /holds valkey 0\.10\.0, but 0\.11\.0 is pinned/);
    fs.writeFileSync(
      path.join(dir, "valkey", "Chart.yaml"),
      "apiVersion: v2\nname: valkey\nversion: 0.11.0\n",
    );
    assert.strictEqual(chartInputs(resolveChart(valkey, mirror), {}).chart, path.join(dir, "valkey"));
  });

  it("says which file a directory mirror lacks", () => {
    const dir = mirrorDir();
    assert.throws(
      () => resolveChart(valkey, settingsWith({ charts: dir }).airgap.charts),
      /valkey 0\.11\.0 is missing from es1:airgap\.charts: neither .*valkey-0\.11\.0\.tgz nor a chart directory/,
    );
  });

  it("gives charts of this repo a checksum of their files in the values", () => {
    const inputs = chartInputs(localChart("infrastructure/charts/es1-base"), { x: "y" });
    assert.strictEqual(inputs.chart, "./infrastructure/charts/es1-base");
    assert.strictEqual(inputs.version, undefined);
    const values = inputs.values as Record<string, unknown>;
    assert.strictEqual(values.x, "y");
    assert.match(String(values.es1ChartChecksum), /^[0-9a-f]{64}$/);
  });
});

describe("es1:airgap settings", () => {
  it("reads the registry and its pull secrets", () => {
    const s = settingsWith({ registry: "registry.internal:5000/es1", imagePullSecrets: ["mirror-pull"] });
    assert.strictEqual(s.airgap.registry, "registry.internal:5000/es1");
    assert.deepStrictEqual(s.airgap.imagePullSecrets, ["mirror-pull"]);
    assert.deepStrictEqual(s.airgap.charts, { kind: "upstream" });
  });

  it("resolves a mirror directory relative to the project", () => {
    const cwd = mirrorDir();
    fs.mkdirSync(path.join(cwd, "charts"));
    assert.deepStrictEqual(settingsWith({ charts: "charts" }, cwd).airgap.charts, {
      kind: "directory",
      dir: path.join(cwd, "charts"),
    });
  });

  it("refuses a chart mirror that does not exist", () => {
    assert.match(
      airgapProblems({ charts: "/nonexistent/charts" })[0],
      /'es1:airgap\.charts'.*is not a directory/,
    );
  });

  it("refuses a malformed registry, pull secret name or unknown key", () => {
    const msgs = airgapProblems({
      registry: "https://registry",
      imagePullSecrets: ["Bad_Name"],
      mirror: "x",
    });
    assert.ok(
      msgs.some((m) => /'es1:airgap\.mirror': unknown key/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(
      msgs.some((m) => /'es1:airgap\.registry'.*not a registry/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(
      msgs.some((m) => /'es1:airgap\.imagePullSecrets'.*"Bad_Name"/.test(m)),
      msgs.join("\n"),
    );
  });
});
