import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// Plain JavaScript (it runs before ts-node can be loaded); typed here for the test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compiledRoot } = require("../../scripts/compiled.js") as {
  compiledRoot: (root: string) => string | undefined;
};

describe("compiled build selection (scripts/compiled.js)", function () {
  const T0 = new Date("2026-01-01T00:00:00Z");
  const later = (s: number) => new Date(T0.getTime() + s * 1000);
  let root: string;

  const touch = (rel: string, at: Date) => {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (!fs.existsSync(f))
      fs.writeFileSync(f, rel.endsWith(".json") ? '{"include":["*.ts","lib/**/*.ts"]}' : "");
    fs.utimesSync(f, at, at);
  };

  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "es1-compiled-"));
    touch("tsconfig.json", T0);
    touch("index.ts", T0);
    touch("lib/deep/paths.ts", T0);
  });

  it("runs the build when it is newer than every source", function () {
    touch("bin/.es1-build", later(10));
    assert.strictEqual(compiledRoot(root), path.join(root, "bin"));
  });

  it("runs the sources when there is no build, or a source or tsconfig.json changed after it", function () {
    assert.strictEqual(compiledRoot(root), undefined);
    touch("bin/.es1-build", later(10));
    touch("lib/deep/paths.ts", later(20));
    assert.strictEqual(compiledRoot(root), undefined, "a nested source changed");
    touch("lib/deep/paths.ts", T0);
    touch("tsconfig.json", later(20));
    assert.strictEqual(compiledRoot(root), undefined, "tsconfig.json changed");
  });

  it("ignores files tsconfig.json does not compile", function () {
    touch("bin/.es1-build", later(10));
    touch("customers/beam.yaml", later(20));
    touch("docs/notes.ts", later(20));
    assert.strictEqual(compiledRoot(root), path.join(root, "bin"));
  });
});
