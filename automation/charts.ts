// The air-gap chart mirror: `pullCharts` fetches every chart the catalog pins, at its exact version,
// into a directory of `<chart>-<version>.tgz` with a `sha256sum -c` compatible SHA256SUMS (the
// directory mirror lib/charts.ts resolves); `pushCharts` uploads such a directory to an OCI
// registry as `helm push` would; `verifyMirror` checks one. Helm repositories are read through their
// index.yaml, OCI registries through the distribution API; Node's fetch, no Helm binary needed.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as yaml from "js-yaml";
import { CATALOG, RELEASES } from "../infrastructure/catalog";
import { UpstreamChart } from "../lib/charts";
import { Json, JsonObject } from "../lib/json";

/** The checksum file of a mirror: `<sha256>  <file>` per archive, as `sha256sum` writes it. */
export const CHECKSUM_FILE = "SHA256SUMS";
/** Environment variables `es1 charts push` reads registry credentials from (never from arguments). */
export const REGISTRY_USERNAME_ENV = "ES1_REGISTRY_USERNAME";
export const REGISTRY_PASSWORD_ENV = "ES1_REGISTRY_PASSWORD";

/** Media types of a Helm chart in an OCI registry (helm.sh/helm/v3 pkg/registry/constants.go). */
export const HELM_CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json";
export const HELM_CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/** What Helm before 3.8 wrote as the chart layer; still accepted on pull, as Helm does. */
const LEGACY_CHART_MEDIA_TYPE = "application/tar+gzip";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";

/** Something went wrong fetching, verifying or uploading: `es1 charts` exits 1. */
export class ChartsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChartsError";
  }
}

/** The request itself is wrong (unknown chart, bad location, a directory that is not a mirror): exit 2. */
export class ChartsInputError extends ChartsError {
  constructor(message: string) {
    super(message);
    this.name = "ChartsInputError";
  }
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** What every network operation shares; tests inject `fetch`. */
export interface TransportOptions {
  /**
   * OCI over plain HTTP. Unset: plain HTTP for loopback registries (localhost, 127.0.0.0/8, [::1]),
   * HTTPS for every other, as Docker treats local registries.
   */
  plainHttp?: boolean;
  /** Seconds one request (with its body) may take; default 300. */
  timeoutSeconds?: number;
  /** Progress, one line per call (es1 writes it to stderr). */
  log?: (line: string) => void;
  fetch?: typeof fetch;
}

export interface PullOptions extends TransportOptions {
  /** The mirror directory. It is replaced only when every chart was fetched and verified. */
  out: string;
  /** Chart names (as in the catalog) to mirror; default every chart the catalog pins. */
  charts?: readonly string[];
  /**
   * Upstream repository → where to fetch it instead (a Helm repository URL or an oci:// location),
   * for a proxy of the upstream repositories, or for tests on 127.0.0.1. Keys must be repositories
   * of the catalog.
   */
  repoOverrides?: Readonly<Record<string, string>>;
  /** The charts to choose from; default the pinned catalog (infrastructure/catalog.ts). */
  catalog?: readonly UpstreamChart[];
}

export interface MirroredChart {
  chart: string;
  version: string;
  /** Absolute path of the archive in the mirror. */
  file: string;
  sha256: string;
  /** Where the archive was downloaded from; for a reused one, where the earlier pull put it. */
  source: string;
  /** True when the archive already in the mirror matched its checksum and was kept. */
  reused: boolean;
}

export interface PullResult {
  dir: string;
  checksumFile: string;
  charts: MirroredChart[];
  downloaded: number;
  reused: number;
  warnings: string[];
}

export interface MirrorArchive {
  chart: string;
  version: string;
  file: string;
  sha256: string;
}

export interface PushOptions extends TransportOptions {
  /** A mirror directory (verified against its SHA256SUMS before anything is uploaded). */
  from: string;
  /** `oci://host[:port][/path]`: each chart goes to repository `<path>/<chart>`, tagged with its version. */
  to: string;
  credentials?: RegistryCredentials;
}

export interface PushedChart {
  chart: string;
  version: string;
  /** `oci://host/path/chart`: what `es1:airgap.charts: oci://host/path` resolves the chart to. */
  ref: string;
  tag: string;
  /** Digest of the manifest the tag now points to. */
  digest: string;
}

export interface PushResult {
  to: string;
  charts: PushedChart[];
}

// ---------------------------------------------------------------------------------------------
// Digests and the checksum file

export function sha256(data: Buffer | string): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** The archive's file name in a mirror: what lib/charts.ts mirrorCandidates() looks for. */
export function archiveName(c: { chart: string; version: string }): string {
  return `${c.chart}-${c.version}.tgz`;
}

/** Parses SHA256SUMS (text or `*` binary mode lines); a malformed line is named. */
export function parseChecksums(text: string, file: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m || m[2].includes("/")) {
      throw new ChartsError(`${file} line ${i + 1} is not '<sha256>  <archive>': ${JSON.stringify(line)}`);
    }
    sums.set(m[2], m[1]);
  });
  return sums;
}

function formatChecksums(sums: ReadonlyMap<string, string>): string {
  return [...sums.keys()]
    .sort()
    .map((f) => `${sums.get(f)}  ${f}\n`)
    .join("");
}

// ---------------------------------------------------------------------------------------------
// Chart archives: the Chart.yaml inside, and the config blob `helm push` makes of it

/** The entries of a tar stream, by path (ustar prefix, PAX `path` and GNU long names included). */
function tarEntries(tar: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const text = (b: Buffer) => b.toString("utf8").replace(/\0.*$/s, "");
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(text(header.subarray(124, 136)).trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(header.subarray(257, 263)).startsWith("ustar") ? text(header.subarray(345, 500)) : "";
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1] ?? longName;
    } else if (type === "L") {
      longName = text(body);
    } else if (type === "0" || type === "\0" || type === "7") {
      const name =
        longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
      out.set(name.replace(/^\.\//, ""), body);
      longName = undefined;
    } else if (type !== "g") {
      longName = undefined;
    }
  }
  return out;
}

/** Chart.yaml of a chart archive, every scalar a string (versions such as 1.10 stay as written). */
export function chartYaml(archive: Buffer, what: string): Record<string, unknown> {
  let entries: Map<string, Buffer>;
  try {
    entries = tarEntries(zlib.gunzipSync(archive));
  } catch (e) {
    throw new ChartsError(`${what} is not a gzip-compressed chart archive: ${(e as Error).message}`);
  }
  const file = [...entries.keys()].find((k) => /^[^/]+\/Chart\.yaml$/.test(k));
  if (file === undefined) throw new ChartsError(`${what} holds no <chart>/Chart.yaml`);
  let doc: unknown;
  try {
    doc = yaml.load((entries.get(file) ?? Buffer.alloc(0)).toString("utf8"), {
      schema: yaml.FAILSAFE_SCHEMA,
    });
  } catch (e) {
    throw new ChartsError(`${what}: ${file} is not YAML: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ChartsError(`${what}: ${file} is not a mapping`);
  }
  const meta = doc as Record<string, unknown>;
  if (typeof meta.name !== "string" || typeof meta.version !== "string") {
    throw new ChartsError(`${what}: ${file} lacks a name or a version`);
  }
  return meta;
}

/** The chart's name and version as its Chart.yaml says, checked against what it should be. */
function checkArchive(archive: Buffer, want: { chart: string; version: string }, what: string): void {
  const meta = chartYaml(archive, what);
  if (meta.name !== want.chart || meta.version !== want.version) {
    throw new ChartsError(
      `${what} holds chart ${String(meta.name)} ${String(meta.version)}, not ${want.chart} ${want.version}`,
    );
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function strList(v: unknown): string[] | undefined {
  const list = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  return list.length > 0 ? list : undefined;
}

function compact(o: Record<string, Json | undefined>): JsonObject {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, Json] => e[1] !== undefined));
}

function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v)
    ? v.filter((x): x is Record<string, unknown> => typeof x === "object" && x !== null)
    : [];
}

/**
 * Chart.yaml as the JSON of Helm's chart.Metadata (field order and omitempty as json.Marshal does):
 * the config blob of a chart in an OCI registry, which `helm pull` and the provider decode.
 */
export function helmConfig(meta: Record<string, unknown>): JsonObject {
  const maintainers = records(meta.maintainers).map((m) =>
    compact({ name: str(m.name), email: str(m.email), url: str(m.url) }),
  );
  const dependencies = records(meta.dependencies).map((d) =>
    compact({
      name: typeof d.name === "string" ? d.name : "",
      version: str(d.version),
      repository: typeof d.repository === "string" ? d.repository : "",
      condition: str(d.condition),
      tags: strList(d.tags),
      enabled: d.enabled === "true" ? true : undefined,
      "import-values": Array.isArray(d["import-values"]) ? (d["import-values"] as Json[]) : undefined,
      alias: str(d.alias),
    }),
  );
  const annotations =
    typeof meta.annotations === "object" && meta.annotations !== null
      ? Object.fromEntries(Object.entries(meta.annotations).map(([k, v]) => [k, String(v)]))
      : {};
  return compact({
    name: str(meta.name),
    home: str(meta.home),
    sources: strList(meta.sources),
    version: str(meta.version),
    description: str(meta.description),
    keywords: strList(meta.keywords),
    maintainers: maintainers.length > 0 ? maintainers : undefined,
    icon: str(meta.icon),
    // Helm's loader makes a Chart.yaml without apiVersion a v1 chart.
    apiVersion: str(meta.apiVersion) ?? "v1",
    condition: str(meta.condition),
    tags: str(meta.tags),
    appVersion: str(meta.appVersion),
    deprecated: meta.deprecated === "true" ? true : undefined,
    annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
    kubeVersion: str(meta.kubeVersion),
    dependencies: dependencies.length > 0 ? dependencies : undefined,
    type: str(meta.type),
  });
}

/** The manifest annotations `helm push` sets (without `created`, so a push is reproducible). */
function ociAnnotations(config: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  const chartAnnotations = (config.annotations ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(chartAnnotations)) out[k] = v;
  const set = (k: string, v: Json | undefined) => {
    if (typeof v === "string" && v !== "") out[k] = v;
  };
  set("org.opencontainers.image.description", config.description);
  set("org.opencontainers.image.title", config.name);
  set("org.opencontainers.image.version", config.version);
  set("org.opencontainers.image.url", config.home);
  set("org.opencontainers.image.source", Array.isArray(config.sources) ? config.sources[0] : undefined);
  const authors = records(config.maintainers)
    .map((m) => `${str(m.name) ?? ""}${str(m.email) ? ` (${str(m.email)})` : ""}`)
    .join(", ");
  set("org.opencontainers.image.authors", authors);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** An OCI tag cannot hold '+'; Helm writes semver build metadata with '_' instead. */
function ociTag(version: string): string {
  return version.replace(/\+/g, "_");
}

function causeOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "TimeoutError") return "timed out";
  const cause = (e as Error & { cause?: unknown }).cause;
  if (cause instanceof AggregateError && cause.errors.length > 0) return causeOf(cause.errors[0]);
  if (cause instanceof Error)
    return cause.message || ((cause as Error & { code?: string }).code ?? e.message);
  return e.message;
}

export class Http {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  readonly log: (line: string) => void;

  constructor(opts: TransportOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.timeoutMs = (opts.timeoutSeconds ?? 300) * 1000;
    this.log = opts.log ?? (() => undefined);
  }

  /**
   * A request whose body is read in full; a network failure names `what` and the URL. Reads (GET,
   * HEAD) are tried three times: a server may close a kept-alive connection just as it is reused.
   */
  async send(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: Buffer },
    what: string,
  ): Promise<{ status: number; headers: Headers; body: Buffer; url: string }> {
    const method = init.method ?? "GET";
    const attempts = method === "GET" || method === "HEAD" ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.fetchImpl(url, {
          method,
          headers: init.headers,
          body: init.body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const body = Buffer.from(await res.arrayBuffer());
        return { status: res.status, headers: res.headers, body, url: res.url || url };
      } catch (e) {
        const cause = causeOf(e);
        if (attempt >= attempts || cause === "timed out") {
          throw new ChartsError(`cannot reach ${what} (${url}): ${cause}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
      }
    }
  }
}

export function httpFailure(what: string, url: string, res: { status: number; body: Buffer }): ChartsError {
  const detail = res.body.toString("utf8").replace(/\s+/g, " ").trim().slice(0, 200);
  return new ChartsError(`${what}: ${url} answered HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
}

export function checkDigest(data: Buffer, expected: string, what: string): void {
  const [algorithm, hex] = expected.includes(":") ? expected.split(":", 2) : ["sha256", expected];
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new ChartsError(`${what}: digest ${expected} uses an algorithm es1 does not verify`);
  }
  const got = crypto.createHash(algorithm).update(data).digest("hex");
  if (got !== hex.toLowerCase()) {
    throw new ChartsError(`checksum mismatch for ${what}: expected ${algorithm} ${hex}, got ${got}`);
  }
}

// ---------------------------------------------------------------------------------------------
// OCI registries (distribution spec), with the token handshake registries such as ghcr.io want

interface OciLocation {
  host: string;
  /** Repository path below the host, without leading or trailing '/' ("" for none). */
  path: string;
}

const OCI_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `oci://host[:port][/path]`, or a ChartsInputError naming `what`. */
export function parseOciLocation(url: string, what: string): OciLocation {
  const m = /^oci:\/\/([^/\s]+?)(?:\/([^\s]*?))?\/*$/.exec(url);
  if (!m || !/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/.test(m[1])) {
    throw new ChartsInputError(`${what} '${url}' is not an OCI location; use oci://<host>[:<port>][/<path>]`);
  }
  const p = m[2] ?? "";
  if (p !== "" && !OCI_PATH.test(p)) {
    throw new ChartsInputError(
      `${what} '${url}': repository path '${p}' is not valid (lower-case letters, digits, '.', '_', '-', '/')`,
    );
  }
  return { host: m[1], path: p };
}

function isLoopback(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, "");
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function basicAuth(c: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

export class Registry {
  private readonly tokens = new Map<string, string>();
  private basic = false;
  readonly base: string;

  constructor(
    readonly host: string,
    private readonly http: Http,
    plainHttp: boolean | undefined,
    private readonly credentials?: RegistryCredentials,
  ) {
    this.base = `${(plainHttp ?? isLoopback(host)) ? "http" : "https"}://${host}`;
  }

  private authorization(repo: string): Record<string, string> {
    const token = this.tokens.get(repo);
    if (token !== undefined) return { authorization: `Bearer ${token}` };
    if (this.basic && this.credentials) return { authorization: basicAuth(this.credentials) };
    return {};
  }

  /** One registry request for `repo`; on 401 the challenge is answered once and the request repeated. */
  async request(
    repo: string,
    actions: "pull" | "pull,push",
    method: string,
    pathOrUrl: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<{ status: number; headers: Headers; body: Buffer; url: string }> {
    const url = new URL(pathOrUrl, this.base).toString();
    const what = `OCI registry ${this.host}`;
    let res = await this.http.send(
      url,
      { method, headers: { ...headers, ...this.authorization(repo) }, body },
      what,
    );
    if (res.status === 401) {
      await this.authenticate(repo, actions, res.headers.get("www-authenticate") ?? "");
      res = await this.http.send(
        url,
        { method, headers: { ...headers, ...this.authorization(repo) }, body },
        what,
      );
      if (res.status === 401 || res.status === 403) {
        throw new ChartsError(
          `OCI registry ${this.host} refused ${actions} on ${repo} ${this.credentials ? "with the given credentials" : `without credentials (set $${REGISTRY_USERNAME_ENV} and $${REGISTRY_PASSWORD_ENV})`}`,
        );
      }
    }
    return res;
  }

  private async authenticate(repo: string, actions: string, challenge: string): Promise<void> {
    const scheme = /^\s*(\w+)/.exec(challenge)?.[1]?.toLowerCase();
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (scheme === "basic") {
      if (!this.credentials) {
        throw new ChartsError(
          `OCI registry ${this.host} wants credentials: set $${REGISTRY_USERNAME_ENV} and $${REGISTRY_PASSWORD_ENV}`,
        );
      }
      this.basic = true;
      return;
    }
    if (scheme !== "bearer" || !params.realm) {
      throw new ChartsError(
        `OCI registry ${this.host} asks for authentication es1 cannot answer: '${challenge}'`,
      );
    }
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set("service", params.service);
    realm.searchParams.set("scope", `repository:${repo}:${actions}`);
    const headers: Record<string, string> = this.credentials
      ? { authorization: basicAuth(this.credentials) }
      : {};
    const res = await this.http.send(realm.toString(), { headers }, `the token service of ${this.host}`);
    if (res.status !== 200) {
      throw new ChartsError(
        `the token service of OCI registry ${this.host} (${realm.origin}${realm.pathname}) answered HTTP ${res.status} for ${actions} on ${repo}` +
          (this.credentials
            ? ""
            : ` (no credentials given: set $${REGISTRY_USERNAME_ENV} and $${REGISTRY_PASSWORD_ENV})`),
      );
    }
    let token: unknown;
    try {
      const doc = JSON.parse(res.body.toString("utf8")) as { token?: unknown; access_token?: unknown };
      token = doc.token ?? doc.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") {
      throw new ChartsError(`the token service of OCI registry ${this.host} returned no token`);
    }
    this.tokens.set(repo, token);
  }
}

/** Pulls `<repo>:<version>` and returns its chart archive, verified against the manifest's digest. */
async function pullOciChart(
  registry: Registry,
  repo: string,
  version: string,
  what: string,
): Promise<Buffer> {
  const ref = `oci://${registry.host}/${repo}:${ociTag(version)}`;
  const res = await registry.request(repo, "pull", "GET", `/v2/${repo}/manifests/${ociTag(version)}`, {
    accept: OCI_MANIFEST_MEDIA_TYPE,
  });
  if (res.status === 404) throw new ChartsError(`${what}: ${ref} does not exist (HTTP 404)`);
  if (res.status !== 200) throw httpFailure(what, ref, res);
  let manifest: { layers?: { mediaType?: string; digest?: string; size?: number }[] };
  try {
    manifest = JSON.parse(res.body.toString("utf8")) as typeof manifest;
  } catch {
    throw new ChartsError(`${what}: the manifest of ${ref} is not JSON`);
  }
  const layer = (manifest.layers ?? []).find(
    (l) => l.mediaType === HELM_CHART_MEDIA_TYPE || l.mediaType === LEGACY_CHART_MEDIA_TYPE,
  );
  if (!layer || typeof layer.digest !== "string") {
    throw new ChartsError(
      `${what}: ${ref} is not a Helm chart (no layer of media type ${HELM_CHART_MEDIA_TYPE})`,
    );
  }
  const blob = await registry.request(repo, "pull", "GET", `/v2/${repo}/blobs/${layer.digest}`);
  if (blob.status !== 200) throw httpFailure(what, `${ref} layer ${layer.digest}`, blob);
  checkDigest(blob.body, layer.digest, `${what} (layer ${layer.digest} of ${ref})`);
  return blob.body;
}

/** Uploads a blob unless the repository has it already (monolithic upload: POST, then PUT). */
export async function pushBlob(
  registry: Registry,
  repo: string,
  data: Buffer,
  what: string,
): Promise<string> {
  const digest = `sha256:${sha256(data)}`;
  const head = await registry.request(repo, "pull,push", "HEAD", `/v2/${repo}/blobs/${digest}`);
  if (head.status === 200) return digest;
  const start = await registry.request(repo, "pull,push", "POST", `/v2/${repo}/blobs/uploads/`);
  const location = start.headers.get("location");
  if (start.status !== 202 || !location) throw httpFailure(`${what}: starting an upload`, start.url, start);
  const target = new URL(location, registry.base);
  target.searchParams.set("digest", digest);
  const put = await registry.request(
    repo,
    "pull,push",
    "PUT",
    target.toString(),
    { "content-type": "application/octet-stream" },
    data,
  );
  if (put.status !== 201) throw httpFailure(`${what}: uploading ${digest}`, put.url, put);
  return digest;
}

// ---------------------------------------------------------------------------------------------
// Helm repositories

interface IndexEntry {
  version?: unknown;
  urls?: unknown;
  digest?: unknown;
}

/** The repository's index.yaml, fetched once per run however many of its charts are wanted. */
class HelmRepositories {
  private readonly indexes = new Map<string, Promise<Record<string, IndexEntry[]>>>();
  constructor(private readonly http: Http) {}

  index(repo: string): Promise<Record<string, IndexEntry[]>> {
    let known = this.indexes.get(repo);
    if (!known) {
      known = this.fetchIndex(repo);
      this.indexes.set(repo, known);
    }
    return known;
  }

  private async fetchIndex(repo: string): Promise<Record<string, IndexEntry[]>> {
    const url = new URL("index.yaml", `${repo}/`).toString();
    const res = await this.http.send(url, {}, `Helm repository ${repo}`);
    if (res.status !== 200) throw httpFailure(`Helm repository ${repo} has no usable index.yaml`, url, res);
    let doc: unknown;
    try {
      // Every scalar a string: an index's versions must not turn into numbers.
      doc = yaml.load(res.body.toString("utf8"), { schema: yaml.FAILSAFE_SCHEMA });
    } catch (e) {
      throw new ChartsError(`Helm repository ${repo}: ${url} is not YAML: ${(e as Error).message}`);
    }
    const entries = (doc as { entries?: unknown } | null)?.entries;
    if (typeof entries !== "object" || entries === null) {
      throw new ChartsError(`Helm repository ${repo}: ${url} has no 'entries'; is this a Helm repository?`);
    }
    return entries as Record<string, IndexEntry[]>;
  }

  async fetchChart(
    repo: string,
    c: UpstreamChart,
  ): Promise<{ data: Buffer; source: string; warning?: string }> {
    const what = `${c.chart} ${c.version}`;
    const entries = (await this.index(repo))[c.chart];
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new ChartsError(`${what}: Helm repository ${repo} has no chart named '${c.chart}'`);
    }
    const entry = entries.find((e) => e.version === c.version);
    if (!entry) {
      const versions = entries.map((e) => String(e.version)).slice(0, 8);
      throw new ChartsError(
        `${what}: version ${c.version} is not in ${repo}/index.yaml (it has ${versions.join(", ")}${entries.length > 8 ? ", …" : ""})`,
      );
    }
    const first = Array.isArray(entry.urls) ? entry.urls[0] : undefined;
    if (typeof first !== "string") throw new ChartsError(`${what}: ${repo}/index.yaml lists no URL for it`);
    // Relative URLs are relative to the repository, as Helm resolves them.
    const url = new URL(first, `${repo}/`).toString();
    const res = await this.http.send(url, {}, `Helm repository ${repo}`);
    if (res.status !== 200) throw httpFailure(`${what}: downloading the archive`, url, res);
    if (typeof entry.digest === "string" && entry.digest !== "") {
      checkDigest(res.body, entry.digest, `${archiveName(c)} from ${url}`);
      return { data: res.body, source: url };
    }
    return {
      data: res.body,
      source: url,
      warning: `${what}: ${repo}/index.yaml gives no digest; not verified`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// pull

/** Every chart of the pinned catalog, once each, in release order. */
export function catalogCharts(): UpstreamChart[] {
  const byName = new Map<string, UpstreamChart>();
  for (const key of RELEASES)
    if (!byName.has(CATALOG[key].chart.chart)) byName.set(CATALOG[key].chart.chart, CATALOG[key].chart);
  return [...byName.values()];
}

function normalizeRepo(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

function selectCharts(
  catalog: readonly UpstreamChart[],
  names: readonly string[] | undefined,
): UpstreamChart[] {
  if (names === undefined) return [...catalog];
  const known = new Map(catalog.map((c) => [c.chart, c]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ChartsInputError(
      `unknown chart ${unknown.map((n) => `'${n}'`).join(", ")}; the catalog pins: ${[...known.keys()].join(", ")}`,
    );
  }
  if (names.length === 0) throw new ChartsInputError("no chart selected");
  return [...new Set(names)].map((n) => known.get(n) as UpstreamChart);
}

function checkOverrides(
  catalog: readonly UpstreamChart[],
  overrides: Readonly<Record<string, string>> = {},
): Map<string, string> {
  const repos = new Set(catalog.map((c) => normalizeRepo(c.repo)));
  const out = new Map<string, string>();
  for (const [from, to] of Object.entries(overrides)) {
    const key = normalizeRepo(from);
    if (!repos.has(key)) {
      throw new ChartsInputError(
        `repository override '${from}' names no repository of the catalog; they are: ${[...repos].join(", ")}`,
      );
    }
    if (to.startsWith("oci://")) parseOciLocation(to, `the override of ${from}`);
    else if (!/^https?:\/\/[^/\s]+/.test(to)) {
      throw new ChartsInputError(`the override of ${from}, '${to}', is neither an http(s) URL nor oci://`);
    }
    out.set(key, normalizeRepo(to));
  }
  return out;
}

async function fetchChart(
  c: UpstreamChart,
  repo: string,
  helm: HelmRepositories,
  registries: (host: string) => Registry,
): Promise<{ data: Buffer; source: string; warning?: string }> {
  const what = `${c.chart} ${c.version}`;
  if (repo.startsWith("oci://")) {
    const loc = parseOciLocation(repo, `the repository of ${c.chart}`);
    const name = loc.path ? `${loc.path}/${c.chart}` : c.chart;
    const data = await pullOciChart(registries(loc.host), name, c.version, what);
    return { data, source: `oci://${loc.host}/${name}:${ociTag(c.version)}` };
  }
  return helm.fetchChart(repo, c);
}

/** What an existing `out` holds: nothing, or a mirror's checksums. Anything else is refused. */
function existingMirror(out: string): Map<string, string> | undefined {
  if (!fs.existsSync(out)) return undefined;
  if (!fs.statSync(out).isDirectory()) throw new ChartsInputError(`${out} exists and is not a directory`);
  const files = fs.readdirSync(out);
  if (files.length === 0) return undefined;
  const sumsFile = path.join(out, CHECKSUM_FILE);
  if (!files.includes(CHECKSUM_FILE)) {
    throw new ChartsInputError(
      `${out} is not empty and has no ${CHECKSUM_FILE}, so it is not a chart mirror; give a new or empty directory`,
    );
  }
  const sums = parseChecksums(fs.readFileSync(sumsFile, "utf8"), sumsFile);
  const foreign = files.filter((f) => f !== CHECKSUM_FILE && !sums.has(f));
  if (foreign.length > 0) {
    throw new ChartsInputError(
      `${out} holds files its ${CHECKSUM_FILE} does not list (${foreign.join(", ")}); it is replaced as a whole, so move them away first`,
    );
  }
  return sums;
}

/** Runs `work` over `items`, `width` at a time, and returns every result or every error. */
export async function pool<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        results[i] = await work(items[i]);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const input = errors.every((e) => e instanceof ChartsInputError);
    const message = `${errors.length} charts failed:\n  ${errors.map((e) => (e as Error).message).join("\n  ")}`;
    throw input ? new ChartsInputError(message) : new ChartsError(message);
  }
  return results;
}

/** Moves `from` to `to`, replacing what is there, with `to` missing for the shortest time possible. */
function replaceDir(from: string, to: string): void {
  if (!fs.existsSync(to)) {
    fs.renameSync(from, to);
    return;
  }
  const old = `${from}.old`;
  fs.renameSync(to, old);
  try {
    fs.renameSync(from, to);
  } catch (e) {
    fs.renameSync(old, to);
    throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Fetches the pinned charts into `out`: each at its exact version, verified against the digest its
 * repository publishes, then SHA256SUMS. Everything is written into a directory beside `out` and
 * moved into place only when all succeeded, so a failed pull leaves `out` as it was. Archives
 * already in `out` that match its SHA256SUMS are kept without touching the network: an existing
 * mirror is a cache.
 */
export async function pullCharts(opts: PullOptions): Promise<PullResult> {
  const http = new Http(opts);
  const catalog = opts.catalog ?? catalogCharts();
  const wanted = selectCharts(catalog, opts.charts);
  const overrides = checkOverrides(catalog, opts.repoOverrides);
  const out = path.resolve(opts.out);
  const existing = existingMirror(out);
  const warnings: string[] = [];

  const kept = new Map<string, string>();
  for (const c of wanted) {
    const file = archiveName(c);
    const listed = existing?.get(file);
    if (listed === undefined || !fs.existsSync(path.join(out, file))) continue;
    if (sha256(fs.readFileSync(path.join(out, file))) === listed) kept.set(file, listed);
    else warnings.push(`${path.join(out, file)} does not match ${CHECKSUM_FILE}; downloading it again`);
  }
  const result = (sums: Map<string, string>, sources: Map<string, string>): PullResult => {
    const charts = wanted.map((c) => {
      const file = archiveName(c);
      const reused = kept.has(file);
      return {
        chart: c.chart,
        version: c.version,
        file: path.join(out, file),
        sha256: sums.get(file) ?? "",
        source: sources.get(file) ?? path.join(out, file),
        reused,
      };
    });
    const reused = charts.filter((c) => c.reused).length;
    return {
      dir: out,
      checksumFile: path.join(out, CHECKSUM_FILE),
      charts,
      downloaded: charts.length - reused,
      reused,
      warnings,
    };
  };

  // A complete mirror of exactly this selection: nothing to fetch, nothing to rewrite.
  if (existing !== undefined && kept.size === wanted.length && existing.size === wanted.length) {
    http.log(`${out}: all ${wanted.length} charts present and matching ${CHECKSUM_FILE}`);
    return result(kept, new Map());
  }

  fs.mkdirSync(path.dirname(out), { recursive: true });
  const temp = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.partial-`));
  try {
    const helm = new HelmRepositories(http);
    const registries = new Map<string, Registry>();
    const registry = (host: string) => {
      const known = registries.get(host) ?? new Registry(host, http, opts.plainHttp);
      registries.set(host, known);
      return known;
    };
    const sums = new Map<string, string>();
    const sources = new Map<string, string>();
    await pool(wanted, 4, async (c) => {
      const file = archiveName(c);
      const target = path.join(temp, file);
      const known = kept.get(file);
      if (known !== undefined) {
        fs.copyFileSync(path.join(out, file), target);
        sums.set(file, known);
        return;
      }
      const repo = overrides.get(normalizeRepo(c.repo)) ?? normalizeRepo(c.repo);
      const got = await fetchChart(c, repo, helm, registry).catch((e: unknown) => {
        // Errors about a whole repository (unreachable, no index) say which chart needed it.
        const what = `${c.chart} ${c.version}`;
        if (!(e instanceof ChartsError) || e.message.startsWith(what)) throw e;
        throw new ChartsError(`${what}: ${e.message}`);
      });
      checkArchive(got.data, c, `${file} from ${got.source}`);
      fs.writeFileSync(target, got.data);
      sums.set(file, sha256(got.data));
      sources.set(file, got.source);
      if (got.warning) warnings.push(got.warning);
      http.log(`${c.chart} ${c.version}: ${got.data.length} bytes from ${got.source}, verified`);
    });
    fs.writeFileSync(path.join(temp, CHECKSUM_FILE), formatChecksums(sums));
    replaceDir(temp, out);
    const r = result(sums, sources);
    http.log(`${out}: ${r.downloaded} downloaded, ${r.reused} kept; ${CHECKSUM_FILE} written`);
    return r;
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// verify and push

interface LoadedArchive extends MirrorArchive {
  data: Buffer;
  meta: Record<string, unknown>;
}

/** Reads a mirror and checks it whole: every listed archive present and matching, none unlisted. */
function loadMirror(dir: string): LoadedArchive[] {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new ChartsInputError(`${dir} is not a directory`);
  }
  const sumsFile = path.join(root, CHECKSUM_FILE);
  if (!fs.existsSync(sumsFile)) {
    throw new ChartsInputError(
      `${root} has no ${CHECKSUM_FILE}; make the mirror with 'es1 charts pull' (or 'sha256sum *.tgz > ${CHECKSUM_FILE}')`,
    );
  }
  const sums = parseChecksums(fs.readFileSync(sumsFile, "utf8"), sumsFile);
  const problems: string[] = [];
  const archives: LoadedArchive[] = [];
  for (const [file, expected] of [...sums.entries()].sort()) {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) {
      problems.push(`${file}: listed in ${CHECKSUM_FILE} but missing`);
      continue;
    }
    const data = fs.readFileSync(full);
    const got = sha256(data);
    if (got !== expected) {
      problems.push(`${file}: checksum mismatch: expected sha256 ${expected}, got ${got}`);
      continue;
    }
    try {
      const meta = chartYaml(data, file);
      const chart = String(meta.name);
      const version = String(meta.version);
      if (archiveName({ chart, version }) !== file) {
        problems.push(
          `${file}: holds chart ${chart} ${version}, so it should be named ${archiveName({ chart, version })}`,
        );
        continue;
      }
      archives.push({ chart, version, file: full, sha256: got, data, meta });
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const unlisted = fs.readdirSync(root).filter((f) => f.endsWith(".tgz") && !sums.has(f));
  for (const f of unlisted) problems.push(`${f}: not listed in ${CHECKSUM_FILE}`);
  if (problems.length > 0)
    throw new ChartsError(`the chart mirror ${root} is not intact:\n  ${problems.join("\n  ")}`);
  if (archives.length === 0) throw new ChartsInputError(`the chart mirror ${root} lists no archives`);
  return archives;
}

/** Checks a mirror against its SHA256SUMS and each archive's Chart.yaml; throws naming every problem. */
export function verifyMirror(dir: string): MirrorArchive[] {
  return loadMirror(dir).map(({ chart, version, file, sha256: digest }) => ({
    chart,
    version,
    file,
    sha256: digest,
  }));
}

/**
 * Uploads every chart of a mirror to `oci://host/path/<chart>:<version>` as `helm push` does (config
 * blob = Chart.yaml as JSON, layer = the archive itself, byte for byte). The whole mirror is verified
 * first: a damaged mirror uploads nothing.
 */
export async function pushCharts(opts: PushOptions): Promise<PushResult> {
  const target = parseOciLocation(opts.to.replace(/\/+$/, ""), "--to");
  const archives = loadMirror(opts.from);
  const http = new Http(opts);
  const registry = new Registry(target.host, http, opts.plainHttp, opts.credentials);
  const pushed: PushedChart[] = [];
  for (const a of archives) {
    const repo = target.path ? `${target.path}/${a.chart}` : a.chart;
    const tag = ociTag(a.version);
    const ref = `oci://${target.host}/${repo}`;
    const what = `pushing ${path.basename(a.file)} to ${ref}:${tag}`;
    const config = helmConfig(a.meta);
    const configData = Buffer.from(JSON.stringify(config));
    const configDigest = await pushBlob(registry, repo, configData, what);
    const layerDigest = await pushBlob(registry, repo, a.data, what);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST_MEDIA_TYPE,
        config: { mediaType: HELM_CONFIG_MEDIA_TYPE, digest: configDigest, size: configData.length },
        layers: [{ mediaType: HELM_CHART_MEDIA_TYPE, digest: layerDigest, size: a.data.length }],
        annotations: ociAnnotations(config),
      }),
    );
    const digest = `sha256:${sha256(manifest)}`;
    const res = await registry.request(
      repo,
      "pull,push",
      "PUT",
      `/v2/${repo}/manifests/${tag}`,
      { "content-type": OCI_MANIFEST_MEDIA_TYPE },
      manifest,
    );
    if (res.status !== 201) throw httpFailure(what, res.url, res);
    const stored = res.headers.get("docker-content-digest");
    if (stored && stored !== digest) {
      throw new ChartsError(
        `${what}: the registry stored manifest ${stored}, not the ${digest} that was sent`,
      );
    }
    http.log(`${a.chart} ${a.version}: pushed to ${ref}:${tag} (${digest})`);
    pushed.push({ chart: a.chart, version: a.version, ref, tag, digest });
  }
  return { to: `oci://${target.host}${target.path ? `/${target.path}` : ""}`, charts: pushed };
}
