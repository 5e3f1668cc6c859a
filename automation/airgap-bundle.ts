// The air-gap bundle: `bundleArtifacts` copies images and Ollama models from their registries into an
// OCI image layout (digests kept, byte for byte) and, with the chart mirror, writes one archive with a
// manifest (digests and sizes) and a SHA256SUMS; `pushBundle` loads such an archive into the site's
// registry. Registries are spoken to over the distribution API with the same client as the chart
// mirror (automation/charts.ts): bearer-token handshake, plain HTTP for loopback hosts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  ChartsError,
  ChartsInputError,
  CHECKSUM_FILE,
  checkDigest,
  Http,
  httpFailure,
  parseChecksums,
  pushBlob,
  pushCharts,
  Registry,
  RegistryCredentials,
  sha256,
  TransportOptions,
} from "./charts";
import { parseImageRef, registryPath } from "./airgap-images";
import { appendInstaller, InstallerPart } from "./airgap-installer";

export const BUNDLE_FORMAT = "es1-airgap-bundle/1";
export const BUNDLE_MANIFEST = "bundle.json";
/** Directories inside a bundle. */
export const BUNDLE_CHARTS = "charts";
export const BUNDLE_OCI = "oci";
/** Annotations of the OCI layout's index.json entries. */
export const REF_ANNOTATION = "org.opencontainers.image.ref.name";
export const KIND_ANNOTATION = "io.es1.kind";
export const TARGET_ANNOTATION = "io.es1.target";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFEST_TYPES = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST]);

/** Where Ollama's library lives; a plain model name `llama3.2:1b` is `library/llama3.2:1b` there. */
export const OLLAMA_REGISTRY = "registry.ollama.ai";

export type ArtifactKind = "image" | "model";

/** One image or model in a bundle. */
export interface BundledArtifact {
  kind: ArtifactKind;
  /** What the installation names: an image reference, or a model as in es1:components.ollama.models. */
  name: string;
  /** Where it was copied from: `<host>/<repository>:<tag>` (after --override-registry). */
  source: string;
  /** Repository path and tag in the site registry, below its `<host>[/path]`. */
  target: string;
  /** Digest of its top manifest (an index for multi-platform images): kept by `airgap push`. */
  digest: string;
  mediaType: string;
  /** Bytes of every manifest and blob it consists of. */
  size: number;
}

export interface BundledChart {
  chart: string;
  version: string;
  file: string;
  sha256: string;
  size: number;
}

export interface BundleBlob {
  digest: string;
  size: number;
  /** False when an earlier bundle (the `base`) carries it: push that one first. */
  included: boolean;
}

/** bundle.json: what a bundle holds, with digests and sizes. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  stack: string;
  createdAt: string;
  /** The bundle this one is incremental against: blobs it carries are left out here. */
  base?: { file: string; manifestSha256: string };
  images: BundledArtifact[];
  models: BundledArtifact[];
  charts: BundledChart[];
  blobs: BundleBlob[];
  /** Bytes of the blobs in this bundle, and of those left to the base. */
  sizes: { included: number; omitted: number; charts: number };
  /** What `--include-installer` added under installer/ (parts and their entries). */
  installer?: { prefix: string; root: string; entries: number }[];
}

/** Where to reach a public registry instead (a proxy, or a local copy in tests): host → host[:port][/path]. */
export type RegistryOverrides = Readonly<Record<string, string>>;

export interface BundleOptions extends TransportOptions {
  stack: string;
  /** The archive to write (a tar file); `<out>.sha256` is written beside it. */
  out: string;
  images: readonly string[];
  /** Ollama models as es1:components.ollama.models names them. */
  models: readonly string[];
  /** A chart mirror directory (`es1 charts pull`): its SHA256SUMS-listed archives go in whole. */
  chartsDir: string;
  overrides?: RegistryOverrides;
  /** A previous bundle: blobs it holds (or left to its own base) are not copied again. */
  since?: string;
  credentials?: RegistryCredentials;
  /** Added under installer/ (es1 airgap bundle --include-installer). */
  installer?: readonly InstallerPart[];
  now?: () => Date;
}

export interface BundleResult {
  file: string;
  sha256: string;
  size: number;
  manifest: BundleManifest;
}

// ---------------------------------------------------------------------------------------------

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: unknown;
}

interface ManifestDoc {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

function parseManifest(body: Buffer, what: string): ManifestDoc {
  try {
    return JSON.parse(body.toString("utf8")) as ManifestDoc;
  } catch {
    throw new ChartsError(`${what}: the manifest is not JSON`);
  }
}

/** The media type of a manifest: its own field, else the Content-Type the registry sent. */
function mediaTypeOf(doc: ManifestDoc, contentType: string | null): string {
  return doc.mediaType ?? contentType?.split(";")[0].trim() ?? OCI_MANIFEST;
}

/** A model name as the Ollama library knows it: `llama3.2:1b` → library/llama3.2, tag 1b. */
export function modelSource(model: string): { host: string; path: string; tag: string } {
  const ref = parseImageRef(model.includes("/") ? model : `library/${model}`);
  if (!ref) throw new ChartsInputError(`Ollama model '${model}' is not a model name such as llama3.2:1b`);
  const explicitHost = ref.host !== "docker.io";
  return { host: explicitHost ? ref.host : OLLAMA_REGISTRY, path: ref.path, tag: ref.tag ?? "latest" };
}

/** Repository path and tag (or digest) below the site registry, as the program rewrites it. */
export function targetOf(kind: ArtifactKind, name: string): string {
  if (kind === "model") {
    const m = modelSource(name);
    return `${m.path}:${m.tag}`;
  }
  const ref = parseImageRef(name);
  if (!ref) throw new ChartsInputError(`'${name}' is not an image reference`);
  return `${ref.path}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Splits `path:tag`, `path@digest` or `path:tag@digest`. */
export function splitTarget(target: string): { repo: string; reference: string; tag?: string } {
  const at = target.indexOf("@");
  const beforeDigest = at >= 0 ? target.slice(0, at) : target;
  const colon = beforeDigest.lastIndexOf(":");
  const repo = colon > beforeDigest.lastIndexOf("/") ? beforeDigest.slice(0, colon) : beforeDigest;
  const tag = colon > beforeDigest.lastIndexOf("/") ? beforeDigest.slice(colon + 1) : undefined;
  return { repo, reference: at >= 0 ? target.slice(at + 1) : (tag ?? "latest"), tag };
}

/** host[:port][/path] of a registry location, validated. */
export function parseRegistryLocation(loc: string, what: string): { host: string; path: string } {
  const m =
    /^((?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?)(?:\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*))?\/?$/.exec(
      loc.replace(/^oci:\/\//, ""),
    );
  if (!m)
    throw new ChartsInputError(`${what} '${loc}' is not a registry location; use <host>[:<port>][/<path>]`);
  return { host: m[1], path: m[2] ?? "" };
}

class Sources {
  private readonly registries = new Map<string, Registry>();
  constructor(
    private readonly http: Http,
    private readonly opts: BundleOptions,
  ) {}

  /** The registry and repository a public `host/path` is fetched from. */
  locate(host: string, repoPath: string): { registry: Registry; repo: string; shown: string } {
    const override = this.opts.overrides?.[host];
    let h = host === "docker.io" ? "registry-1.docker.io" : host;
    let prefix = "";
    if (override !== undefined) {
      const loc = parseRegistryLocation(override, `--override-registry ${host}`);
      h = loc.host;
      prefix = loc.path;
    }
    const repo = prefix ? `${prefix}/${repoPath}` : repoPath;
    let registry = this.registries.get(h);
    if (!registry) {
      registry = new Registry(
        h,
        this.http,
        this.opts.plainHttp,
        override ? this.opts.credentials : undefined,
      );
      this.registries.set(h, registry);
    }
    return { registry, repo, shown: `${h}/${repo}` };
  }
}

/** Copies one artifact's manifests and blobs into the layout's blob directory. */
async function copyArtifact(
  kind: ArtifactKind,
  name: string,
  sources: Sources,
  blobsDir: string,
  known: Map<string, BundleBlob>,
  base: ReadonlySet<string>,
  http: Http,
): Promise<BundledArtifact> {
  const src =
    kind === "model"
      ? modelSource(name)
      : (() => {
          const ref = parseImageRef(name);
          if (!ref) throw new ChartsInputError(`'${name}' is not an image reference`);
          return { host: ref.host, path: registryPath(ref), tag: ref.tag, digest: ref.digest };
        })();
  const digestPin = "digest" in src ? src.digest : undefined;
  const reference = digestPin ?? src.tag ?? "latest";
  const { registry, repo, shown } = sources.locate(src.host, src.path);
  const what = `${kind} ${name} (from ${shown})`;
  let size = 0;

  const storeBlob = (digest: string, data: Buffer) => {
    const file = path.join(blobsDir, digest.replace(/^sha256:/, ""));
    if (!fs.existsSync(file)) fs.writeFileSync(file, data);
  };
  const note = (digest: string, bytes: number, included: boolean) => {
    size += bytes;
    if (!known.has(digest)) known.set(digest, { digest, size: bytes, included });
  };

  const fetchManifest = async (ref: string): Promise<{ body: Buffer; mediaType: string; digest: string }> => {
    const res = await registry.request(repo, "pull", "GET", `/v2/${repo}/manifests/${ref}`, {
      accept: MANIFEST_TYPES.join(", "),
    });
    if (res.status === 404) throw new ChartsError(`${what}: ${shown}:${ref} does not exist (HTTP 404)`);
    if (res.status !== 200) throw httpFailure(what, res.url, res);
    const digest = `sha256:${sha256(res.body)}`;
    if (ref.startsWith("sha256:")) checkDigest(res.body, ref, `${what} manifest ${ref}`);
    const doc = parseManifest(res.body, what);
    return { body: res.body, mediaType: mediaTypeOf(doc, res.headers.get("content-type")), digest };
  };

  const copyBlob = async (d: Descriptor) => {
    if (known.has(d.digest)) {
      size += known.get(d.digest)?.size ?? 0;
      return;
    }
    if (base.has(d.digest)) {
      note(d.digest, d.size ?? 0, false);
      return;
    }
    const res = await registry.request(repo, "pull", "GET", `/v2/${repo}/blobs/${d.digest}`);
    if (res.status !== 200) throw httpFailure(`${what}: blob ${d.digest}`, res.url, res);
    checkDigest(res.body, d.digest, `${what} blob ${d.digest}`);
    storeBlob(d.digest, res.body);
    note(d.digest, res.body.length, true);
  };

  const copyManifest = async (ref: string): Promise<{ digest: string; mediaType: string }> => {
    const m = await fetchManifest(ref);
    const doc = parseManifest(m.body, what);
    if (INDEX_TYPES.has(m.mediaType)) {
      for (const child of doc.manifests ?? []) await copyManifest(child.digest);
    } else {
      if (doc.config) await copyBlob(doc.config);
      for (const layer of doc.layers ?? []) await copyBlob(layer);
    }
    // Manifests are always stored: they are small and push walks them.
    storeBlob(m.digest, m.body);
    note(m.digest, m.body.length, true);
    return { digest: m.digest, mediaType: m.mediaType };
  };

  const top = await copyManifest(reference);
  http.log(`${kind} ${name}: ${top.digest}, ${size} bytes`);
  return {
    kind,
    name,
    source: `${shown}${digestPin ? `@${digestPin}` : `:${reference}`}`,
    target: targetOf(kind, name),
    digest: top.digest,
    mediaType: top.mediaType,
    size,
  };
}

function tar(args: string[], what: string): Buffer {
  const res = spawnSync("tar", args, { maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new ChartsError(`${what}: cannot run tar: ${res.error.message}`);
  if (res.status !== 0) throw new ChartsError(`${what}: tar failed: ${res.stderr.toString().trim()}`);
  return res.stdout;
}

/** bundle.json of a bundle archive, read without unpacking the rest. */
export function readBundleManifest(file: string): BundleManifest {
  if (!fs.existsSync(file)) throw new ChartsInputError(`bundle ${file} does not exist`);
  let doc: BundleManifest;
  try {
    doc = JSON.parse(
      tar(["-xOf", file, `./${BUNDLE_MANIFEST}`], `reading ${file}`).toString("utf8"),
    ) as BundleManifest;
  } catch (e) {
    if (e instanceof ChartsError)
      throw new ChartsInputError(`${file} is not an es1 airgap bundle: ${e.message}`);
    throw new ChartsInputError(`${file}: ${BUNDLE_MANIFEST} is not JSON`);
  }
  if (doc.format !== BUNDLE_FORMAT)
    throw new ChartsInputError(
      `${file} is not an es1 airgap bundle (format ${String(doc.format)}, want ${BUNDLE_FORMAT})`,
    );
  return doc;
}

/** Every file below `dir`, relative, sorted. */
function filesBelow(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) return filesBelow(dir, rel);
      return e.isFile() ? [rel] : [];
    })
    .sort();
}

function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

/** The chart archives of a mirror, checked against its SHA256SUMS, copied into `dest`. */
function copyCharts(from: string, dest: string): BundledChart[] {
  const sumsFile = path.join(from, CHECKSUM_FILE);
  if (!fs.existsSync(sumsFile))
    throw new ChartsInputError(
      `${from} has no ${CHECKSUM_FILE}; make the chart mirror with 'es1 charts pull'`,
    );
  const sums = parseChecksums(fs.readFileSync(sumsFile, "utf8"), sumsFile);
  fs.mkdirSync(dest, { recursive: true });
  const charts: BundledChart[] = [];
  for (const [file, expected] of sums) {
    const data = fs.readFileSync(path.join(from, file));
    if (sha256(data) !== expected)
      throw new ChartsError(`${path.join(from, file)} does not match ${CHECKSUM_FILE}`);
    fs.writeFileSync(path.join(dest, file), data);
    const m = /^(.+)-([^-]+(?:-[^-]+)*?)\.tgz$/.exec(file);
    charts.push({ chart: m?.[1] ?? file, version: m?.[2] ?? "", file, sha256: expected, size: data.length });
  }
  fs.copyFileSync(sumsFile, path.join(dest, CHECKSUM_FILE));
  return charts;
}

/**
 * Writes a bundle: the chart mirror, every image and model as an OCI image layout (`oci/`), the
 * manifest and SHA256SUMS, as one tar archive, plus `<out>.sha256`. Work happens in a directory
 * beside `out`; `out` is replaced only when everything was copied and verified.
 */
export async function bundleArtifacts(opts: BundleOptions): Promise<BundleResult> {
  const http = new Http(opts);
  const out = path.resolve(opts.out);
  const baseManifest = opts.since ? readBundleManifest(opts.since) : undefined;
  const base = new Set((baseManifest?.blobs ?? []).map((b) => b.digest));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.partial-`));
  try {
    const charts = copyCharts(opts.chartsDir, path.join(work, BUNDLE_CHARTS));
    const layout = path.join(work, BUNDLE_OCI);
    const blobsDir = path.join(layout, "blobs", "sha256");
    fs.mkdirSync(blobsDir, { recursive: true });
    const sources = new Sources(http, opts);
    const known = new Map<string, BundleBlob>();
    const artifacts: BundledArtifact[] = [];
    const wanted: [ArtifactKind, string][] = [
      ...[...new Set(opts.images)].sort().map((i): [ArtifactKind, string] => ["image", i]),
      ...[...new Set(opts.models)].sort().map((m): [ArtifactKind, string] => ["model", m]),
    ];
    // One at a time: blobs shared between images are fetched once.
    for (const [kind, name] of wanted)
      artifacts.push(await copyArtifact(kind, name, sources, blobsDir, known, base, http));

    fs.writeFileSync(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: artifacts.map((a) => ({
        mediaType: a.mediaType,
        digest: a.digest,
        size: fs.statSync(path.join(blobsDir, a.digest.replace(/^sha256:/, ""))).size,
        annotations: { [REF_ANNOTATION]: a.name, [KIND_ANNOTATION]: a.kind, [TARGET_ANNOTATION]: a.target },
      })),
    };
    fs.writeFileSync(path.join(layout, "index.json"), `${JSON.stringify(index, null, 2)}\n`);

    const blobs = [...known.values()].sort((a, b) => a.digest.localeCompare(b.digest));
    const sum = (list: BundleBlob[]) => list.reduce((n, b) => n + b.size, 0);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      stack: opts.stack,
      createdAt: (opts.now?.() ?? new Date()).toISOString(),
      ...(baseManifest && opts.since
        ? {
            base: {
              file: path.basename(opts.since),
              manifestSha256: sha256(JSON.stringify(baseManifest)),
            },
          }
        : {}),
      images: artifacts.filter((a) => a.kind === "image"),
      models: artifacts.filter((a) => a.kind === "model"),
      charts,
      blobs,
      sizes: {
        included: sum(blobs.filter((b) => b.included)),
        omitted: sum(blobs.filter((b) => !b.included)),
        charts: charts.reduce((n, c) => n + c.size, 0),
      },
      ...(opts.installer
        ? {
            installer: opts.installer.map((p) => ({
              prefix: p.prefix,
              root: p.root,
              entries: p.files.length,
            })),
          }
        : {}),
    };
    fs.writeFileSync(path.join(work, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const sums = new Map(filesBelow(work).map((f) => [f, sha256File(path.join(work, f))]));
    fs.writeFileSync(path.join(work, CHECKSUM_FILE), [...sums].map(([f, s]) => `${s}  ${f}\n`).join(""));
    const temp = `${work}.tar`;
    tar(["-cf", temp, "-C", work, "."], `writing ${out}`);
    // Large and already on disk: appended from where it lies; SHA256SUMS does not cover it.
    if (opts.installer) appendInstaller(temp, opts.installer);
    fs.renameSync(temp, out);
    const digest = sha256File(out);
    fs.writeFileSync(`${out}.sha256`, `${digest}  ${path.basename(out)}\n`);
    http.log(
      `${out}: ${artifacts.length} images and models, ${charts.length} charts, ${fs.statSync(out).size} bytes`,
    );
    return { file: out, sha256: digest, size: fs.statSync(out).size, manifest };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(`${work}.tar`, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// push

export interface PushBundleOptions extends TransportOptions {
  bundle: string;
  /** host[:port][/path] of the site registry. */
  registry: string;
  credentials?: RegistryCredentials;
}

export interface PushedArtifact {
  kind: ArtifactKind;
  name: string;
  /** `<registry>/<target>`: where the installation pulls it from. */
  ref: string;
  digest: string;
  /** True when the registry already had it at that digest (a resumed or repeated push). */
  present: boolean;
  blobsUploaded: number;
}

export interface PushBundleResult {
  registry: string;
  artifacts: PushedArtifact[];
  charts: { chart: string; version: string; ref: string; digest: string }[];
  /** `es1:airgap` settings that install from what was pushed. */
  settings: Record<string, string>;
}

/** A bundle's SHA256SUMS: `<sha256>  <relative path>` per file. */
function bundleChecksums(text: string, file: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const m = /^([0-9a-f]{64}) [ *]([^\s].*)$/.exec(line);
    if (!m || m[2].split("/").includes("..") || m[2].startsWith("/"))
      throw new ChartsError(`${file} line ${i + 1} is not '<sha256>  <file>': ${JSON.stringify(line)}`);
    sums.set(m[2], m[1]);
  });
  return sums;
}

/** Unpacks a bundle into `dir` and checks every file against its SHA256SUMS (and the archive's .sha256). */
export function unpackBundle(file: string, dir: string): BundleManifest {
  const manifest = readBundleManifest(file);
  const side = `${file}.sha256`;
  if (fs.existsSync(side)) {
    const want = fs.readFileSync(side, "utf8").split(/\s+/)[0];
    const got = sha256File(file);
    if (want !== got)
      throw new ChartsError(`${file}: checksum mismatch with ${side}: expected ${want}, got ${got}`);
  }
  tar(["-xf", file, "-C", dir, "--exclude=installer"], `unpacking ${file}`);
  const sumsFile = path.join(dir, CHECKSUM_FILE);
  if (!fs.existsSync(sumsFile)) throw new ChartsError(`${file} has no ${CHECKSUM_FILE}`);
  const sums = bundleChecksums(fs.readFileSync(sumsFile, "utf8"), sumsFile);
  const problems: string[] = [];
  for (const [f, expected] of sums) {
    const full = path.join(dir, f);
    if (!fs.existsSync(full)) problems.push(`${f}: listed in ${CHECKSUM_FILE} but missing`);
    else if (sha256File(full) !== expected) problems.push(`${f}: checksum mismatch`);
  }
  for (const f of filesBelow(dir))
    if (f !== CHECKSUM_FILE && !f.startsWith("installer/") && !sums.has(f))
      problems.push(`${f}: not listed in ${CHECKSUM_FILE}`);
  if (problems.length > 0) throw new ChartsError(`bundle ${file} is not intact:\n  ${problems.join("\n  ")}`);
  return manifest;
}

async function pushArtifact(
  a: BundledArtifact,
  blobsDir: string,
  registry: Registry,
  prefix: string,
  manifest: BundleManifest,
  log: (line: string) => void,
): Promise<PushedArtifact> {
  const { repo: targetRepo, reference, tag } = splitTarget(a.target);
  const repo = prefix ? `${prefix}/${targetRepo}` : targetRepo;
  const ref = `${registry.host}/${repo}${tag ? `:${tag}` : ""}${reference.startsWith("sha256:") ? `@${reference}` : ""}`;
  const what = `${a.kind} ${a.name} → ${ref}`;
  const file = (digest: string) => path.join(blobsDir, digest.replace(/^sha256:/, ""));

  // Resumable: an artifact whose tag already points at this digest is done.
  const head = await registry.request(repo, "pull,push", "HEAD", `/v2/${repo}/manifests/${reference}`, {
    accept: MANIFEST_TYPES.join(", "),
  });
  if (head.status === 200 && head.headers.get("docker-content-digest") === a.digest)
    return { kind: a.kind, name: a.name, ref, digest: a.digest, present: true, blobsUploaded: 0 };

  let uploaded = 0;
  const ensureBlob = async (digest: string) => {
    const h = await registry.request(repo, "pull,push", "HEAD", `/v2/${repo}/blobs/${digest}`);
    if (h.status === 200) return;
    if (!fs.existsSync(file(digest))) {
      const from = manifest.base
        ? ` (the bundle is incremental on ${manifest.base.file}: push that one first)`
        : "";
      throw new ChartsError(`${what}: blob ${digest} is neither in the bundle nor in the registry${from}`);
    }
    await pushBlob(registry, repo, fs.readFileSync(file(digest)), what);
    uploaded++;
  };
  const putManifest = async (digest: string, mediaType: string, at: string) => {
    const body = fs.readFileSync(file(digest));
    const res = await registry.request(
      repo,
      "pull,push",
      "PUT",
      `/v2/${repo}/manifests/${at}`,
      { "content-type": mediaType },
      body,
    );
    if (res.status !== 201) throw httpFailure(`${what}: manifest ${digest}`, res.url, res);
    const stored = res.headers.get("docker-content-digest");
    if (stored && stored !== digest)
      throw new ChartsError(`${what}: the registry stored manifest ${stored}, not ${digest}`);
  };
  const pushManifest = async (digest: string, mediaType: string, at: string): Promise<void> => {
    if (!fs.existsSync(file(digest)))
      throw new ChartsError(`${what}: manifest ${digest} is missing from the bundle`);
    const doc = parseManifest(fs.readFileSync(file(digest)), what);
    const type = mediaTypeOf(doc, mediaType);
    if (INDEX_TYPES.has(type)) {
      for (const child of doc.manifests ?? [])
        await pushManifest(child.digest, child.mediaType ?? OCI_MANIFEST, child.digest);
    } else {
      if (doc.config) await ensureBlob(doc.config.digest);
      for (const l of doc.layers ?? []) await ensureBlob(l.digest);
    }
    await putManifest(digest, type, at);
  };
  await pushManifest(a.digest, a.mediaType, reference);
  log(`${a.kind} ${a.name}: pushed to ${ref} (${a.digest}, ${uploaded} blobs uploaded)`);
  return { kind: a.kind, name: a.name, ref, digest: a.digest, present: false, blobsUploaded: uploaded };
}

/**
 * Loads a bundle into the site registry: the charts (OCI, as `es1 charts push`) under
 * `<registry>/charts`, every image and model at its path below `<registry>`, digests kept. Blobs and
 * manifests the registry already has are skipped, so a push that failed part way is run again to
 * finish. A failure names the artifact.
 */
export async function pushBundle(opts: PushBundleOptions): Promise<PushBundleResult> {
  const loc = parseRegistryLocation(opts.registry, "--registry");
  const base = loc.path ? `${loc.host}/${loc.path}` : loc.host;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-bundle-"));
  try {
    const manifest = unpackBundle(path.resolve(opts.bundle), dir);
    const http = new Http(opts);
    const charts = await pushCharts({
      ...opts,
      from: path.join(dir, BUNDLE_CHARTS),
      to: `oci://${base}/charts`,
    });
    const registry = new Registry(loc.host, http, opts.plainHttp, opts.credentials);
    const blobsDir = path.join(dir, BUNDLE_OCI, "blobs", "sha256");
    const artifacts: PushedArtifact[] = [];
    for (const a of [...manifest.images, ...manifest.models]) {
      try {
        artifacts.push(await pushArtifact(a, blobsDir, registry, loc.path, manifest, http.log));
      } catch (e) {
        if (e instanceof ChartsError && !e.message.startsWith(`${a.kind} ${a.name}`))
          throw new ChartsError(`${a.kind} ${a.name}: ${e.message}`);
        throw e;
      }
    }
    return {
      registry: base,
      artifacts,
      charts: charts.charts.map((c) => ({
        chart: c.chart,
        version: c.version,
        ref: c.ref,
        digest: c.digest,
      })),
      settings: { "es1:airgap.registry": base, "es1:airgap.charts": `oci://${base}/charts` },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
