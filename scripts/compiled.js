// Which code runs: the project compiled to bin/ (`npm run build`, also run by `npm ci`) when that
// build is newer than every TypeScript source and tsconfig.json, otherwise the sources through
// ts-node, so an edited checkout never runs stale JavaScript. Compiled, the program evaluates
// about twice as fast (docs/performance.md).
//
//   node scripts/compiled.js --build   build bin/ (removing the old one) and stamp it
//   node scripts/compiled.js --which   print bin/'s path and exit 0 if it is current, else exit 1
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..");
const STAMP = ".es1-build";

/** The directories tsconfig.json compiles ("config/**\/*.ts" → config; "*.ts" → the root, flat). */
function sourceDirs(root) {
  const include = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8")).include || [];
  return include.map((pattern) => {
    const dir = pattern.split("/").filter((p) => !p.includes("*"));
    return { dir: path.join(root, ...dir), deep: pattern.includes("**") };
  });
}

/** Whether any .ts file under `dir` (recursively when `deep`) changed after `since` (ms). */
function changedSince(dir, deep, since) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (deep && e.name !== "node_modules" && changedSince(p, deep, since)) return true;
    } else if (e.name.endsWith(".ts") && fs.statSync(p).mtimeMs > since) return true;
  }
  return false;
}

/** `root`/bin when it holds a build of the current sources, else undefined. */
function compiledRoot(root = ROOT) {
  const bin = path.join(root, "bin");
  let built;
  try {
    built = fs.statSync(path.join(bin, STAMP)).mtimeMs;
  } catch {
    return undefined;
  }
  if (fs.statSync(path.join(root, "tsconfig.json")).mtimeMs > built) return undefined;
  for (const { dir, deep } of sourceDirs(root)) if (changedSince(dir, deep, built)) return undefined;
  return bin;
}

/** Compiles into a fresh bin/; the stamp gets the start time, so a file edited meanwhile counts as newer. */
function build() {
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  if (!fs.existsSync(tsc)) {
    process.stderr.write(
      "build: typescript is not installed (npm ci); the sources will run through ts-node\n",
    );
    return 0;
  }
  const bin = path.join(ROOT, "bin");
  const stamp = path.join(bin, STAMP);
  const start = new Date();
  fs.rmSync(bin, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.json")], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (r.status !== 0) {
    fs.rmSync(bin, { recursive: true, force: true });
    return r.status || 1;
  }
  fs.writeFileSync(stamp, `${start.toISOString()}\n`);
  fs.utimesSync(stamp, start, start);
  return 0;
}

module.exports = { compiledRoot, ROOT };

if (require.main === module) {
  const arg = process.argv[2];
  if (arg === "--build") process.exitCode = build();
  else if (arg === "--which") {
    const bin = compiledRoot();
    if (bin) process.stdout.write(`${bin}\n`);
    process.exitCode = bin ? 0 : 1;
  } else {
    process.stderr.write("usage: node scripts/compiled.js --build | --which\n");
    process.exitCode = 2;
  }
}
