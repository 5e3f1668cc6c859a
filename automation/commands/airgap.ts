// `es1 airgap images | bundle | push`: an air-gapped site end to end (docs/airgap.md). Progress goes
// to stderr; stdout carries a short summary or, with --json, exactly one JSON document, also on
// failure. Registry credentials come from the environment only and are never printed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSetting } from "../config-settings";
import { bundleArtifacts, pushBundle, RegistryOverrides } from "../airgap-bundle";
import { ImageUse, releaseImages } from "../airgap-images";
import {
  archiveName,
  catalogCharts,
  ChartsError,
  ChartsInputError,
  CHECKSUM_FILE,
  pullCharts,
  sha256,
} from "../charts";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { previewConfig, runOperation, structuredConfig } from "../operations";
import { releasesFromEvents, RenderedRelease } from "../render";
import { EXIT_HELD, EXIT_SUCCESS } from "../report";
import { PROJECT_ROOT } from "../../lib/paths";
import { openStack, toolsBinDir } from "../workspace";
import { STACK_NAME } from "./stack-args";
import { credentials } from "./charts";
import {
  Command,
  CommandIO,
  EXIT_INVALID,
  EXIT_OK,
  EXIT_USAGE,
  optional,
  parseArgs,
  ParsedArgs,
  required,
  selectSubcommand,
  UsageError,
} from "./common";

const USAGE: Record<Sub, string> = {
  images: "es1 airgap images --stack <name> [--set key=value ...] [--json]",
  bundle:
    "es1 airgap bundle --stack <name> --out <file.tar> [--since <previous.tar>] [--charts <mirror dir>]\n" +
    "                  [--override-registry <host>=<host>[:<port>][/<path>] ...] [--override-repo <upstream>=<url> ...]\n" +
    "                  [--include-installer] [--set key=value ...] [--plain-http] [--json]",
  push: "es1 airgap push --bundle <file.tar> --registry <host>[:<port>][/<path>] [--plain-http] [--json]",
};

const HELP = `usage:
  ${USAGE.images}
  ${USAGE.bundle}
  ${USAGE.push}

images  every container image the stack would run: each Helm release the program registers is
        rendered with its values (helm template, hooks included) and every image its manifests
        name is listed (containers, init containers, operator images such as CloudNativePG's
        PostgreSQL and ClickHouse/Keeper), with where it is pulled from once es1:airgap.registry is set.
bundle  one tar archive with the chart mirror, every image and Ollama model (es1:components.ollama.models)
        as an OCI image layout (digests kept), bundle.json (digests, sizes) and ${CHECKSUM_FILE}, plus
        <file>.sha256. --since leaves out blobs a previous bundle carries. --override-registry fetches a
        public registry's images from elsewhere (a proxy, a local copy).
        --include-installer adds installer/: this project with node_modules, Node.js, Pulumi, Helm
        and the provider plugins, to run es1 where no registry is reachable (docs/airgap.md).
push    checks the bundle, then loads its charts (<registry>/charts), images and models into the site
        registry, digests kept, and prints the es1:airgap settings to use. Run it again to resume.
        Credentials, when the registry wants them: $ES1_REGISTRY_USERNAME and $ES1_REGISTRY_PASSWORD.

exit codes: 0 ok, 1 a render, download, upload or check failed, 2 usage or input error. See docs/airgap.md.
`;

type Sub = "images" | "bundle" | "push";

export async function airgapCommand(argv: string[], io: CommandIO): Promise<number> {
  const selected = selectSubcommand("airgap", argv, io, HELP, USAGE);
  if (typeof selected === "number") return selected;
  const { sub, rest } = selected;
  const json = rest.includes("--json");
  const subcommands: Record<Sub, Command> = { images, bundle, push };
  try {
    return await subcommands[sub](rest, io);
  } catch (e) {
    const usage = e instanceof UsageError;
    const known = usage || e instanceof ChartsError || e instanceof AirgapError;
    if (!known) throw e;
    const code = usage || e instanceof ChartsInputError ? EXIT_USAGE : EXIT_INVALID;
    const message = (e as Error).message;
    if (json)
      writeJson(io, { command: `airgap ${sub}`, status: "failed", exitCode: code, errors: [message] });
    else io.stderr.write(`es1 airgap ${sub}: ${message}\n${usage ? `usage: ${USAGE[sub]}\n` : ""}`);
    return code;
  }
}

/** The stack's render failed (its config, the cluster, a chart): exit 1 with the reasons. */
class AirgapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AirgapError";
  }
}

function writeJson(io: CommandIO, doc: unknown): void {
  io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function progress(io: CommandIO): (line: string) => void {
  return (line) => io.stderr.write(`es1 airgap: ${line}\n`);
}

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
}

function pairs(args: ParsedArgs, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of args.values.get(flag) ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--${flag} '${spec}' is not <from>=<to>`);
    out[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return out;
}

function stackName(args: ParsedArgs): string {
  const stack = required(args, "stack");
  if (!STACK_NAME.test(stack)) throw new UsageError(`'${stack}' is not a valid stack name`);
  return stack;
}

export interface StackImages {
  stack: string;
  /** es1:airgap.registry as the stack sets it. */
  registry?: string;
  /** es1:airgap.charts when it is a directory. */
  chartsDir?: string;
  releases: RenderedRelease[];
  images: ImageUse[];
  /** Ollama models the ollama release pulls (es1:components.ollama.models). */
  models: string[];
}

function ollamaModels(releases: readonly RenderedRelease[]): string[] {
  const out = new Set<string>();
  for (const r of releases) {
    const v = r.values as { ollama?: { models?: { pull?: unknown } } } | null;
    const pull = typeof v === "object" && v !== null ? v.ollama?.models?.pull : undefined;
    if (Array.isArray(pull)) for (const m of pull) if (typeof m === "string") out.add(m);
  }
  return [...out].sort();
}

/**
 * Renders the stack with its public image names (es1:airgap.registry left out of a copy of its
 * config) and collects every image of every release.
 */
export async function stackImages(name: string, argSettings: string[], io: CommandIO): Promise<StackImages> {
  const settings = argSettings.map((text) => {
    const s = parseSetting(text);
    if (s === undefined) throw new UsageError(`--set needs key=value, got '${text}'`);
    return s;
  });
  const stack = await openStack({ stackName: name, create: false }).catch((e: unknown) => {
    throw new ChartsInputError(`cannot open stack ${name}: ${(e as Error).message}`);
  });
  const airgap = (await structuredConfig(stack, "es1:airgap")) as
    { registry?: unknown; charts?: unknown } | undefined;
  // The public image names: without the registry, and without its credentials (refused alone).
  const temporary = await previewConfig(stack, settings, ["es1:airgap.registry", "es1:airgap.registryAuth"]);
  try {
    const events: EngineEvent[] = [];
    const report = await runOperation(stack, "preview", {
      expectNoChanges: false,
      onOutput: (s) => io.stderr.write(s),
      onEvent: (e) => events.push(e),
      signal: io.signal,
      ...(temporary.file ? { configFile: temporary.file } : {}),
    });
    if (report.exitCode !== EXIT_SUCCESS && report.exitCode !== EXIT_HELD) {
      const err = report.exitCode === EXIT_USAGE ? ChartsInputError : AirgapError;
      throw new err(`rendering stack ${name} failed:\n  ${report.errors.join("\n  ")}`);
    }
    const releases = releasesFromEvents(events);
    const registry = typeof airgap?.registry === "string" ? airgap.registry : undefined;
    progress(io)(`rendering ${releases.length} releases with helm template`);
    let images: ImageUse[];
    try {
      images = await releaseImages(releases, registry);
    } catch (e) {
      throw new AirgapError((e as Error).message);
    }
    const charts =
      typeof airgap?.charts === "string" && !airgap.charts.startsWith("oci://") ? airgap.charts : undefined;
    return {
      stack: name,
      ...(registry ? { registry } : {}),
      ...(charts ? { chartsDir: charts } : {}),
      releases,
      images,
      models: ollamaModels(releases),
    };
  } finally {
    temporary.dispose();
  }
}

async function images(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, { values: ["stack"], repeatable: ["set"], booleans: ["json"] });
  noPositionals(args);
  const found = await stackImages(stackName(args), args.values.get("set") ?? [], io);
  if (args.booleans.has("json")) {
    writeJson(io, {
      command: "airgap images",
      status: "succeeded",
      exitCode: EXIT_OK,
      stack: found.stack,
      ...(found.registry ? { registry: found.registry } : {}),
      images: found.images,
      models: found.models,
      releases: found.releases.map((r) => ({
        name: r.name,
        namespace: r.namespace,
        chart: r.chart,
        version: r.version,
      })),
      errors: [],
    });
  } else {
    io.stdout.write(
      found.images.map((i) => `${i.image}${i.mirror ? `  ->  ${i.mirror}` : ""}\n`).join("") +
        found.models.map((m) => `model ${m}\n`).join(""),
    );
  }
  return EXIT_OK;
}

/**
 * A chart mirror made of the catalog's archives in the stack's chart directory (archives only),
 * with its SHA256SUMS, in `dest`.
 */
function mirrorFromDirectory(dir: string, dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  const lines: string[] = [];
  for (const c of catalogCharts()) {
    const file = archiveName(c);
    const from = path.join(dir, file);
    if (!fs.existsSync(from))
      throw new ChartsInputError(
        `${dir} (es1:airgap.charts) has no ${file}; give a mirror with --charts <dir>`,
      );
    const data = fs.readFileSync(from);
    fs.writeFileSync(path.join(dest, file), data);
    lines.push(`${sha256(data)}  ${file}\n`);
  }
  fs.writeFileSync(path.join(dest, CHECKSUM_FILE), lines.sort().join(""));
}

async function bundle(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ["stack", "out", "since", "charts"],
    repeatable: ["set", "override-registry", "override-repo"],
    booleans: ["plain-http", "json", "include-installer"],
  });
  noPositionals(args);
  const name = stackName(args);
  const out = required(args, "out");
  const since = optional(args, "since");
  if (since !== undefined && path.resolve(since) === path.resolve(out))
    throw new UsageError("--since names the bundle being written; give the previous bundle");
  const overrides: RegistryOverrides = pairs(args, "override-registry");
  const repoOverrides = pairs(args, "override-repo");
  const creds = credentials(io.env);
  const plainHttp = args.booleans.has("plain-http") ? true : undefined;
  const log = progress(io);

  const found = await stackImages(name, args.values.get("set") ?? [], io);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "es1-airgap-bundle-"));
  try {
    let chartsDir = optional(args, "charts");
    if (
      chartsDir === undefined &&
      found.chartsDir !== undefined &&
      fs.existsSync(path.join(found.chartsDir, CHECKSUM_FILE))
    )
      chartsDir = found.chartsDir;
    else if (chartsDir === undefined && found.chartsDir !== undefined) {
      chartsDir = path.join(temp, "charts");
      mirrorFromDirectory(found.chartsDir, chartsDir);
    } else if (chartsDir === undefined) {
      chartsDir = path.join(temp, "charts");
      await pullCharts({ out: chartsDir, repoOverrides, plainHttp, log });
    }
    const installer = args.booleans.has("include-installer")
      ? (await import("../airgap-installer")).localInstaller(PROJECT_ROOT, toolsBinDir())
      : undefined;
    const result = await bundleArtifacts({
      stack: name,
      out,
      images: found.images.map((i) => i.image),
      models: found.models,
      chartsDir,
      overrides,
      ...(installer ? { installer } : {}),
      ...(since ? { since } : {}),
      ...(creds ? { credentials: creds } : {}),
      plainHttp,
      log,
    });
    if (args.booleans.has("json")) {
      writeJson(io, {
        command: "airgap bundle",
        status: "succeeded",
        exitCode: EXIT_OK,
        ...result,
        errors: [],
      });
    } else {
      const m = result.manifest;
      io.stdout.write(
        `${result.file}: ${m.images.length} images, ${m.models.length} models, ${m.charts.length} charts; ` +
          `${result.size} bytes (blobs ${m.sizes.included} bytes${m.base ? `, ${m.sizes.omitted} bytes left to ${m.base.file}` : ""}); ` +
          `sha256 ${result.sha256}\n`,
      );
    }
    return EXIT_OK;
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

async function push(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, { values: ["bundle", "registry"], booleans: ["plain-http", "json"] });
  noPositionals(args);
  const result = await pushBundle({
    bundle: required(args, "bundle"),
    registry: required(args, "registry"),
    plainHttp: args.booleans.has("plain-http") ? true : undefined,
    credentials: credentials(io.env),
    log: progress(io),
  });
  if (args.booleans.has("json")) {
    writeJson(io, { command: "airgap push", status: "succeeded", exitCode: EXIT_OK, ...result, errors: [] });
  } else {
    const present = result.artifacts.filter((a) => a.present).length;
    io.stdout.write(
      `${result.registry}: ${result.charts.length} charts, ${result.artifacts.length} images and models ` +
        `(${present} already there)\nset these es1:airgap settings:\n` +
        Object.entries(result.settings)
          .map(([k, v]) => `  pulumi config set --path ${k} ${v}\n`)
          .join(""),
    );
  }
  return EXIT_OK;
}
