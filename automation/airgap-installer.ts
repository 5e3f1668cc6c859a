// `es1 airgap bundle --include-installer`: what the installer needs on a machine without registries,
// added to the bundle under installer/ from where it lies (no copy first): the project with its
// node_modules (and the compiled bin/ when present), Node.js, the Pulumi CLI and language host,
// Helm, and the provider plugins. docs/airgap.md and README say how to start from it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Files below `root`, archived as `<prefix>/<file>`. */
export interface InstallerPart {
  root: string;
  files: string[];
  prefix: string;
}

export interface InstallerSources {
  projectRoot: string;
  /** The tools' bin directory (scripts/tools.sh bin): its entries may be links into versioned dirs. */
  toolsBin: string;
  /** Pulumi's plugin cache (`~/.pulumi/plugins`). */
  pluginsDir: string;
  /** Provider plugins by name and version, as package.json pins them. */
  plugins: readonly { name: string; version: string }[];
  node?: string;
}

const TOOLS = ["pulumi", "pulumi-language-nodejs", "helm"];

/** The parts of the installer, each checked to exist; a missing one is named. */
export function installerParts(src: InstallerSources): InstallerPart[] {
  const tracked = spawnSync("git", ["ls-files", "-z"], { cwd: src.projectRoot, encoding: "utf8" });
  const files =
    tracked.status === 0
      ? tracked.stdout.split("\0").filter((f) => f !== "" && fs.existsSync(path.join(src.projectRoot, f)))
      : fs.readdirSync(src.projectRoot).filter((f) => !f.startsWith(".") && f !== "node_modules");
  for (const extra of ["node_modules", "bin"])
    if (fs.existsSync(path.join(src.projectRoot, extra))) files.push(extra);
  if (!files.includes("node_modules"))
    throw new Error(`${src.projectRoot} has no node_modules: run 'npm ci' there first`);
  const parts: InstallerPart[] = [{ root: src.projectRoot, files, prefix: "installer/es1" }];
  const binaries = [...TOOLS.map((t) => path.join(src.toolsBin, t)), src.node ?? process.execPath];
  for (const b of binaries) {
    if (!fs.existsSync(b)) throw new Error(`${b} is missing: build it with scripts/tools.sh`);
    const real = fs.realpathSync(b);
    parts.push({ root: path.dirname(real), files: [path.basename(real)], prefix: "installer/tools/bin" });
  }
  for (const p of src.plugins) {
    const dir = `resource-${p.name}-v${p.version}`;
    if (!fs.existsSync(path.join(src.pluginsDir, dir)))
      throw new Error(
        `provider plugin ${path.join(src.pluginsDir, dir)} is missing: run scripts/tools.sh providers`,
      );
    parts.push({ root: src.pluginsDir, files: [dir], prefix: "installer/pulumi-plugins" });
  }
  return parts;
}

/** The installer of this machine: this project, its tools and plugins. */
export function localInstaller(projectRoot: string, toolsBin: string): InstallerPart[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const plugins = ["kubernetes", "random"].map((name) => ({
    name,
    version: (pkg.dependencies?.[`@pulumi/${name}`] ?? "").replace(/^[^0-9]*/, ""),
  }));
  return installerParts({
    projectRoot,
    toolsBin,
    pluginsDir: path.join(process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins"),
    plugins,
  });
}

/** Appends the parts to a tar archive, each under its prefix; links inside stay links. */
export function appendInstaller(tarFile: string, parts: readonly InstallerPart[]): number {
  let count = 0;
  for (const p of parts) {
    const list = path.join(os.tmpdir(), `es1-installer-${process.pid}-${count}.txt`);
    fs.writeFileSync(list, p.files.join("\n") + "\n");
    try {
      // S: symbolic link targets are left as they are (node_modules/.bin links stay relative).
      const r = spawnSync(
        "tar",
        ["-rf", tarFile, "-C", p.root, `--transform=s,^,${p.prefix}/,S`, "-T", list],
        {
          encoding: "utf8",
        },
      );
      if (r.status !== 0) throw new Error(`adding ${p.root} to ${tarFile}: ${r.stderr.trim()}`);
    } finally {
      fs.rmSync(list, { force: true });
    }
    count++;
  }
  return count;
}
