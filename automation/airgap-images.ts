// `es1 airgap images`: every container image an installation runs, from what would really be
// deployed. Each Helm Release the preview registers (`es1 render`'s releases, with the program's
// values) is rendered with `helm template` (hooks included), and every image reference is taken
// from the manifests: containers, init containers, ephemeral containers, operator resources
// (CloudNativePG's `imageName`, Prometheus/Alertmanager `image`, ClickHouse `image.repository` +
// `tag`), operator flags naming images (`--prometheus-config-reloader=`, `--acme-http01-solver-image=`)
// and operator settings (`POSTGRES_IMAGE_NAME`). Nothing here is a hand-kept list.
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { PROJECT_ROOT } from "../lib/paths";
import type { RenderedRelease } from "./render";

/** A parsed image reference, normalised as a container runtime resolves it. */
export interface ImageRef {
  /** The reference as the manifests wrote it. */
  raw: string;
  /** Registry host a runtime pulls from (`docker.io` for Docker Hub short names). */
  host: string;
  /** Repository path at that host, as written (Docker Hub's implicit `library/` not added). */
  path: string;
  tag?: string;
  digest?: string;
}

/** An image the installation runs, and which releases run it. */
export interface ImageUse {
  /** Full reference: `<host>/<path>[:<tag>][@<digest>]`. */
  image: string;
  host: string;
  path: string;
  tag?: string;
  digest?: string;
  /** Helm releases (`<namespace>/<name>`) whose manifests name it. */
  releases: string[];
  /** Where the installation pulls it from once `es1:airgap.registry` is set: `<registry>/<path>…`. */
  mirror?: string;
}

const REF =
  /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** Parses an image reference; undefined when `raw` is not one (templates left unrendered, empty). */
export function parseImageRef(raw: string): ImageRef | undefined {
  const ref = raw.trim();
  if (!REF.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  // As image() in infrastructure/values/context.ts: a first part with '.' or ':' (or localhost) is a host.
  const first = rest.split("/")[0];
  const isHost = rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const host = isHost ? first : "docker.io";
  const p = isHost ? rest.slice(first.length + 1) : rest;
  // A runtime pulls a reference without tag or digest as :latest.
  return { raw: ref, host, path: p, tag: tag ?? (digest ? undefined : "latest"), digest };
}

export function formatRef(r: { host: string; path: string; tag?: string; digest?: string }): string {
  return `${r.host}/${r.path}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The repository a runtime really asks the host for (Docker Hub puts single names under library/). */
export function registryPath(r: { host: string; path: string }): string {
  return r.host === "docker.io" && !r.path.includes("/") ? `library/${r.path}` : r.path;
}

/** Where an image lives in the site registry: the path after its public host, as image() maps it. */
export function mirrorRef(registry: string, r: ImageRef): string {
  return `${registry}/${r.path}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** Flags of operators that name the images they start. */
const IMAGE_FLAG = /^--(?:[a-z0-9-]*image[a-z0-9-]*|prometheus-config-reloader)=(.+)$/;
/** Settings (env vars, ConfigMap keys) that name an image an operator starts. */
const IMAGE_SETTING = /(?:^|_)IMAGE(?:_NAME)?$/;

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A `helm test` hook: run only by `helm test`, never by an install or upgrade. */
function isTestHook(doc: unknown): boolean {
  const hook = asRecord(asRecord(asRecord(doc)?.metadata)?.annotations)?.["helm.sh/hook"];
  return typeof hook === "string" && hook.split(",").some((h) => h.trim().startsWith("test"));
}

/** Every image reference in rendered Kubernetes manifests (any kind, any depth), `helm test` pods aside. */
export function imagesInManifests(docs: readonly unknown[]): string[] {
  const found = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string" && parseImageRef(v)) found.add(v.trim());
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    const o = asRecord(v);
    if (!o) return;
    for (const [k, item] of Object.entries(o)) {
      if ((k === "image" || k === "imageName") && typeof item === "string") add(item);
      else if (k === "image" && asRecord(item)) {
        // An operator resource's image as repository + tag (ClickHouse, Keeper).
        const i = asRecord(item) ?? {};
        if (typeof i.repository === "string" && i.repository !== "") {
          const repo =
            typeof i.registry === "string" && i.registry !== ""
              ? `${i.registry}/${i.repository}`
              : i.repository;
          const tag = typeof i.tag === "string" && i.tag !== "" ? `:${i.tag}` : "";
          const digest = typeof i.digest === "string" && i.digest !== "" ? `@${i.digest}` : "";
          add(`${repo}${tag}${digest}`);
        }
      } else if ((k === "args" || k === "command") && Array.isArray(item)) {
        for (const a of item) if (typeof a === "string") add(IMAGE_FLAG.exec(a)?.[1]);
      } else if (k === "env" && Array.isArray(item)) {
        for (const e of item) {
          const env = asRecord(e);
          if (env && typeof env.name === "string" && IMAGE_SETTING.test(env.name)) add(env.value);
        }
      } else if (k === "data" && o.kind === "ConfigMap" && asRecord(item)) {
        for (const [key, value] of Object.entries(asRecord(item) ?? {}))
          if (IMAGE_SETTING.test(key)) add(value);
      }
      walk(item);
    }
  };
  for (const d of docs) if (!isTestHook(d)) walk(d);
  return [...found].sort();
}

/** APIs of the operators a stack installs alongside the charts that check for them. */
const OPERATOR_APIS = [
  "monitoring.coreos.com/v1",
  "postgresql.cnpg.io/v1",
  "cert-manager.io/v1",
  "clickhouse.com/v1alpha1/ClickHouseCluster",
  "clickhouse.com/v1alpha1/KeeperCluster",
];

/** The `helm template` command line of one rendered release. */
export function templateArgs(r: RenderedRelease, valuesFile: string): string[] {
  if (typeof r.chart !== "string" || r.chart === "") throw new Error(`release ${r.name} has no chart`);
  // The program names its own charts relative to the project (where Pulumi runs it), not to the
  // directory `es1` was started in.
  const chart = /^\.\.?\//.test(r.chart) ? path.resolve(PROJECT_ROOT, r.chart) : r.chart;
  const args = ["template", r.name, chart, "--values", valuesFile];
  if (typeof r.namespace === "string" && r.namespace !== "") args.push("--namespace", r.namespace);
  // A local chart (a directory or archive) is taken as it is; a repository or OCI chart at its version.
  const local = fs.existsSync(chart);
  if (!local && typeof r.version === "string" && r.version !== "") args.push("--version", r.version);
  if (typeof r.repository === "string" && r.repository !== "") args.push("--repo", r.repository);
  if (/^oci:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?\//.test(r.chart)) args.push("--plain-http");
  // Templates that look for the operators' APIs see them, as on the cluster the stack installs.
  for (const api of OPERATOR_APIS) args.push("--api-versions", api);
  return args;
}

/** Renders one release's chart with its values and returns its manifests. */
export async function renderRelease(r: RenderedRelease, helm = "helm"): Promise<unknown[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-images-"));
  try {
    const values = path.join(dir, "values.json");
    fs.writeFileSync(values, JSON.stringify(r.values ?? {}));
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(helm, templateArgs(r, values), { maxBuffer: 256 * 1024 * 1024 }, (e, out, err) => {
        if (!e) resolve(out);
        else if ((e as NodeJS.ErrnoException).code === "ENOENT")
          reject(
            new Error(`cannot run ${helm} for release ${r.name}: not found (bash scripts/tools.sh helm)`),
          );
        else
          reject(
            new Error(
              `helm template of release ${r.name} (${String(r.chart)}) failed: ${err.trim() || e.message}`,
            ),
          );
      }),
    );
    return yaml.loadAll(stdout).filter((d) => d !== null && d !== undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The images of every release, merged: one entry per reference, with the releases that use it and,
 * when `registry` is given, the reference in it.
 */
export function imageList(
  perRelease: ReadonlyArray<{ release: string; images: readonly string[] }>,
  registry?: string,
): ImageUse[] {
  const byImage = new Map<string, ImageUse>();
  for (const { release, images } of perRelease) {
    for (const raw of images) {
      const ref = parseImageRef(raw);
      if (!ref) continue;
      const key = formatRef(ref);
      const use = byImage.get(key) ?? {
        image: key,
        host: ref.host,
        path: ref.path,
        ...(ref.tag ? { tag: ref.tag } : {}),
        ...(ref.digest ? { digest: ref.digest } : {}),
        releases: [],
        ...(registry ? { mirror: mirrorRef(registry, ref) } : {}),
      };
      if (!use.releases.includes(release)) use.releases.push(release);
      byImage.set(key, use);
    }
  }
  return [...byImage.values()].sort((a, b) => a.image.localeCompare(b.image));
}

/** `<namespace>/<name>`: release names repeat across namespaces (every customer's platform). */
export function releaseLabel(r: { name: string; namespace: unknown }): string {
  return typeof r.namespace === "string" && r.namespace !== "" ? `${r.namespace}/${r.name}` : r.name;
}

/** Every image of every release of a render: `helm template` each (two at a time), collect, merge. */
export async function releaseImages(
  releases: readonly RenderedRelease[],
  registry?: string,
  helm = "helm",
): Promise<ImageUse[]> {
  const perRelease: { release: string; images: string[] }[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < releases.length; i = next++)
      perRelease[i] = {
        release: releaseLabel(releases[i]),
        images: imagesInManifests(await renderRelease(releases[i], helm)),
      };
  };
  await Promise.all([lane(), lane()]);
  return imageList(perRelease, registry);
}
