// `es1 render`: what a stack would deploy, per Helm Release, for review and for the air-gap image
// list. Taken from the engine events of a preview, so it covers every Release the program
// registers, with the values exactly as Pulumi would pass them, minus every secret.
import * as fs from "fs";
import * as path from "path";
import { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";
import { RunOptions, runOperation } from "./operations";
import { EXIT_HELD, EXIT_SUCCESS, JsonValue, maskSecrets, OperationReport } from "./report";

export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** What a secret value (or a value derived from one) becomes in a rendered file. */
export const SECRET_PLACEHOLDER = "<secret>";
/** What a value that is only known once deployed becomes. */
export const UNKNOWN_PLACEHOLDER = "<unknown until deployed>";
export const INDEX_FILE = "index.json";

/** One Release as the preview sees it. */
export interface RenderedRelease {
  urn: string;
  /** Helm release name (the resource name when the program leaves it to Pulumi). */
  name: string;
  namespace: JsonValue;
  chart: JsonValue;
  version: JsonValue;
  /** `repositoryOpts.repo`, when the chart comes from a repository. */
  repository?: JsonValue;
  /** What the preview plans for it: create, update, same, replace, … */
  operation: OpType;
  values: JsonValue;
}

export interface RenderIndexEntry {
  name: string;
  namespace: JsonValue;
  chart: JsonValue;
  version: JsonValue;
  repository?: JsonValue;
  operation: OpType;
  urn: string;
  /** File name in the output directory. */
  file: string;
}

export interface RenderReport extends Omit<OperationReport, "operation"> {
  operation: "render";
  outDir: string;
  releases: RenderIndexEntry[];
}

const GONE: ReadonlySet<OpType> = new Set<OpType>([
  "delete",
  "delete-replaced",
  "discard",
  "discard-replaced",
]);

function field(inputs: Record<string, unknown>, key: string): JsonValue {
  return maskSecrets(inputs[key], SECRET_PLACEHOLDER, UNKNOWN_PLACEHOLDER);
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/**
 * Every Helm Release the preview would leave deployed, from its engine events: chart reference,
 * namespace and values, with secrets and unknowns replaced by placeholders.
 */
export function releasesFromEvents(events: readonly EngineEvent[]): RenderedRelease[] {
  const byUrn = new Map<string, RenderedRelease>();
  for (const e of events) {
    const meta = (e.resourcePreEvent ?? e.resOutputsEvent)?.metadata;
    if (!meta || meta.type !== RELEASE_TYPE) continue;
    if (GONE.has(meta.op)) {
      if (meta.op === "delete" || meta.op === "discard") byUrn.delete(meta.urn);
      continue;
    }
    const inputs = asObject(meta.new?.inputs as unknown);
    if (!inputs) continue;
    const name = field(inputs, "name");
    const repo = asObject(inputs.repositoryOpts);
    const release: RenderedRelease = {
      urn: meta.urn,
      name:
        typeof name === "string" && name !== "" && name !== UNKNOWN_PLACEHOLDER
          ? name
          : (meta.urn.split("::").pop() ?? meta.urn),
      namespace: field(inputs, "namespace"),
      chart: field(inputs, "chart"),
      version: field(inputs, "version"),
      operation: meta.op,
      values: inputs.values === undefined ? {} : field(inputs, "values"),
    };
    if (repo?.repo !== undefined && repo.repo !== "") release.repository = field(repo, "repo");
    byUrn.set(meta.urn, release);
  }
  return [...byUrn.values()].sort((a, b) => a.name.localeCompare(b.name) || a.urn.localeCompare(b.urn));
}

// ---------------------------------------------------------------------------------------------
// YAML (block style; every scalar that is not plainly safe is double-quoted JSON, which is YAML)

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()-]+)*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(v: string | number | boolean | null): string {
  if (v === null) return "null";
  if (typeof v !== "string") return String(v);
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

function isEmpty(v: JsonValue): boolean {
  return Array.isArray(v)
    ? v.length === 0
    : typeof v === "object" && v !== null && Object.keys(v).length === 0;
}

function block(v: JsonValue, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      if (typeof item !== "object" || item === null || isEmpty(item)) return [`${pad}- ${inline(item)}`];
      const lines = block(item, indent + 2);
      return [`${pad}- ${lines[0].slice(indent + 2)}`, ...lines.slice(1)];
    });
  }
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).flatMap(([k, item]) =>
      typeof item !== "object" || item === null || isEmpty(item)
        ? [`${pad}${scalar(k)}: ${inline(item)}`]
        : [`${pad}${scalar(k)}:`, ...block(item, indent + 2)],
    );
  }
  return [`${pad}${scalar(v)}`];
}

function inline(v: JsonValue): string {
  if (Array.isArray(v)) return "[]";
  if (typeof v === "object" && v !== null) return "{}";
  return scalar(v);
}

/** YAML text of a JSON value (a mapping or sequence at the top, or a single scalar). */
export function toYaml(value: JsonValue): string {
  if (typeof value !== "object" || value === null || isEmpty(value)) return `${inline(value)}\n`;
  return `${block(value, 0).join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------

function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** File names per release: `<name>.yaml`, or `<namespace>--<name>.yaml` where names collide. */
export function fileNames(releases: readonly RenderedRelease[]): string[] {
  const count = new Map<string, number>();
  for (const r of releases) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  return releases.map((r) =>
    (count.get(r.name) ?? 0) > 1 && typeof r.namespace === "string"
      ? `${safeFileName(r.namespace)}--${safeFileName(r.name)}.yaml`
      : `${safeFileName(r.name)}.yaml`,
  );
}

/**
 * Writes one `<release>.yaml` per release and `index.json` listing them into `outDir`; files a
 * previous render listed there are removed first, so a release that went away leaves no file.
 */
export function writeRender(
  outDir: string,
  stack: string,
  releases: readonly RenderedRelease[],
): RenderIndexEntry[] {
  fs.mkdirSync(outDir, { recursive: true });
  const indexPath = path.join(outDir, INDEX_FILE);
  if (fs.existsSync(indexPath)) {
    try {
      const old = JSON.parse(fs.readFileSync(indexPath, "utf8")) as { releases?: { file?: unknown }[] };
      for (const r of old.releases ?? [])
        if (typeof r.file === "string" && r.file === path.basename(r.file))
          fs.rmSync(path.join(outDir, r.file), { force: true });
    } catch {
      // Not ours: leave the directory's files alone and overwrite the index.
    }
  }
  const names = fileNames(releases);
  const entries = releases.map((r, i): RenderIndexEntry => {
    const doc: Record<string, JsonValue> = {
      name: r.name,
      namespace: r.namespace,
      chart: r.chart,
      version: r.version,
      ...(r.repository !== undefined ? { repository: r.repository } : {}),
      values: r.values,
    };
    const header =
      `# Helm release ${r.name} of stack ${stack}, as \`es1 render\` saw it in a preview (${r.operation}).\n` +
      `# Secret values read "${SECRET_PLACEHOLDER}"; values known only after deployment read "${UNKNOWN_PLACEHOLDER}".\n`;
    fs.writeFileSync(path.join(outDir, names[i]), header + toYaml(doc));
    const entry: RenderIndexEntry = {
      urn: r.urn,
      name: r.name,
      namespace: r.namespace,
      chart: r.chart,
      version: r.version,
      ...(r.repository !== undefined ? { repository: r.repository } : {}),
      operation: r.operation,
      file: names[i],
    };
    return entry;
  });
  fs.writeFileSync(indexPath, `${JSON.stringify({ stack, releases: entries }, null, 2)}\n`);
  return entries;
}

/** Previews the stack and writes what it would deploy per Release into `outDir`. */
export async function renderStack(
  stack: Stack,
  outDir: string,
  opts: RunOptions = {},
): Promise<RenderReport> {
  const events: EngineEvent[] = [];
  const preview = await runOperation(stack, "preview", {
    ...opts,
    expectNoChanges: false,
    onEvent: (e) => {
      events.push(e);
      opts.onEvent?.(e);
    },
  });
  const dir = path.resolve(outDir);
  // A held customer (exit 5) is rendered as it stays deployed.
  const ok = preview.exitCode === EXIT_SUCCESS || preview.exitCode === EXIT_HELD;
  const releases = ok ? writeRender(dir, stack.name, releasesFromEvents(events)) : [];
  return { ...preview, operation: "render", outDir: dir, releases };
}
