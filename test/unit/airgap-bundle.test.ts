// The air-gap bundle and its push, against registries kept in memory here (the distribution API
// subset es1 speaks), so a push can be made to fail part way. The e2e test
// (test/e2e/airgap.test.ts) does the same against go-containerregistry's registry and a deploy.
import * as assert from "assert";
import * as crypto from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BUNDLE_FORMAT,
  BundleManifest,
  bundleArtifacts,
  DOCKER_MANIFEST,
  modelSource,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBundle,
  readBundleManifest,
  splitTarget,
  targetOf,
} from "../../automation/airgap-bundle";
import { installerParts } from "../../automation/airgap-installer";
import { ChartsError } from "../../automation/charts";
import { main as cli } from "../../automation/cli";
import { memoryIO } from "./command-io";
import { PROJECT_ROOT } from "../../lib/paths";

const digestOf = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/** A registry in memory: blobs and manifests per repository, every request logged. */
export class MemoryRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { body: Buffer; type: string }>();
  readonly log: string[] = [];
  private uploads = 0;
  /** Fails blob uploads (HTTP 500) while it returns true for the upload's number (1, 2, …). */
  failUpload: (n: number) => boolean = () => false;

  constructor(readonly host: string) {}

  blob(repo: string, data: Buffer): string {
    const d = digestOf(data);
    this.blobs.set(`${repo}@${d}`, data);
    return d;
  }

  manifest(repo: string, ref: string, doc: unknown, type: string): { digest: string; size: number } {
    const body = Buffer.from(JSON.stringify(doc));
    const d = digestOf(body);
    this.manifests.set(`${repo}@${d}`, { body, type });
    this.manifests.set(`${repo}:${ref}`, { body, type });
    return { digest: d, size: body.length };
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    this.log.push(`${method} ${url.pathname}`);
    const body = init?.body ? Buffer.from(init.body as Buffer) : Buffer.alloc(0);
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    const uploads = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (uploads && method === "POST")
      return new Response(null, { status: 202, headers: { location: `/upload/${uploads[1]}` } });
    const upload = /^\/upload\/(.+)$/.exec(url.pathname);
    if (upload && method === "PUT") {
      if (this.failUpload(++this.uploads)) return new Response("disk full", { status: 500 });
      const d = url.searchParams.get("digest") ?? "";
      if (digestOf(body) !== d) return new Response("digest invalid", { status: 400 });
      this.blobs.set(`${upload[1]}@${d}`, body);
      return new Response(null, { status: 201 });
    }
    if (!m) return new Response("not found", { status: 404 });
    const [, repo, kind, ref] = m;
    if (kind === "blobs") {
      const b = this.blobs.get(`${repo}@${ref}`);
      if (!b) return new Response("blob unknown", { status: 404 });
      return new Response(method === "HEAD" ? null : b, { status: 200 });
    }
    const key = ref.startsWith("sha256:") ? `${repo}@${ref}` : `${repo}:${ref}`;
    if (method === "PUT") {
      const type = new Headers(init?.headers).get("content-type") ?? "";
      const d = digestOf(body);
      this.manifests.set(`${repo}@${d}`, { body, type });
      this.manifests.set(key, { body, type });
      return new Response(null, { status: 201, headers: { "docker-content-digest": d } });
    }
    const found = this.manifests.get(key);
    if (!found) return new Response("manifest unknown", { status: 404 });
    return new Response(method === "HEAD" ? null : found.body, {
      status: 200,
      headers: { "content-type": found.type, "docker-content-digest": digestOf(found.body) },
    });
  };
}

/** One registry per host, reached through a single fetch. */
function network(...registries: MemoryRegistry[]): typeof fetch {
  return async (input, init) => {
    const host = new URL(String(input)).host;
    const r = registries.find((x) => x.host === host);
    if (!r) throw new TypeError(`fetch failed: no route to ${host}`);
    return r.fetch(input, init);
  };
}

/** A small image: a config and one layer, pushed under `repo:tag`. */
function image(reg: MemoryRegistry, repo: string, tag: string, content: string, type = OCI_MANIFEST) {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", content }));
  const layer = Buffer.from(`layer of ${content}`);
  const doc = {
    schemaVersion: 2,
    mediaType: type,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: reg.blob(repo, config),
      size: config.length,
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: reg.blob(repo, layer),
        size: layer.length,
      },
    ],
  };
  return reg.manifest(repo, tag, doc, type);
}

function chartsMirror(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-bundle-charts-"));
  const data = fs.readFileSync(
    path.resolve(PROJECT_ROOT, "..", "shared", "upstream-charts", "valkey-0.11.0.tgz"),
  );
  fs.writeFileSync(path.join(dir, "valkey-0.11.0.tgz"), data);
  fs.writeFileSync(path.join(dir, "SHA256SUMS"), `${digestOf(data).slice(7)}  valkey-0.11.0.tgz\n`);
  return dir;
}

describe("es1 airgap bundle and push", function () {
  this.timeout(60000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-bundle-test-"));
  // The public side: Docker Hub, a second registry and Ollama's library.
  const hub = new MemoryRegistry("registry-1.docker.io");
  const quay = new MemoryRegistry("quay.io");
  const ollama = new MemoryRegistry("registry.ollama.ai");
  const charts = chartsMirror();
  const amd = image(hub, "valkey/valkey", "amd64-only", "valkey amd64");
  const arm = image(hub, "valkey/valkey", "arm64-only", "valkey arm64");
  const multi = hub.manifest(
    "valkey/valkey",
    "9.1.1",
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, ...amd, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: OCI_MANIFEST, ...arm, platform: { os: "linux", architecture: "arm64" } },
      ],
    },
    OCI_INDEX,
  );
  const prom = image(quay, "prometheus/prometheus", "v3.14.0", "prometheus", DOCKER_MANIFEST);
  const model = image(ollama, "library/llama3.2", "1b", "a model", DOCKER_MANIFEST);
  const fetchPublic = network(hub, quay, ollama);
  const first = path.join(work, "first.tar");
  let manifest: BundleManifest;

  it("maps names to where they come from and where they go", () => {
    assert.deepStrictEqual(modelSource("llama3.2:1b"), {
      host: "registry.ollama.ai",
      path: "library/llama3.2",
      tag: "1b",
    });
    assert.strictEqual(targetOf("model", "llama3.2:1b"), "library/llama3.2:1b");
    assert.strictEqual(targetOf("image", "docker.io/valkey/valkey:9.1.1"), "valkey/valkey:9.1.1");
    assert.deepStrictEqual(splitTarget("a/b:1"), { repo: "a/b", reference: "1", tag: "1" });
    const d = `sha256:${"0".repeat(64)}`;
    assert.deepStrictEqual(splitTarget(`a/b@${d}`), { repo: "a/b", reference: d, tag: undefined });
  });

  it("writes images (every platform of an index), models and charts with digests, sizes and checksums", async () => {
    const result = await bundleArtifacts({
      stack: "site",
      out: first,
      images: ["docker.io/valkey/valkey:9.1.1", "quay.io/prometheus/prometheus:v3.14.0"],
      models: ["llama3.2:1b"],
      chartsDir: charts,
      fetch: fetchPublic,
    });
    manifest = result.manifest;
    assert.strictEqual(manifest.format, BUNDLE_FORMAT);
    assert.deepStrictEqual(
      manifest.images.map((i) => [i.name, i.target, i.digest, i.mediaType]),
      [
        ["docker.io/valkey/valkey:9.1.1", "valkey/valkey:9.1.1", multi.digest, OCI_INDEX],
        [
          "quay.io/prometheus/prometheus:v3.14.0",
          "prometheus/prometheus:v3.14.0",
          prom.digest,
          DOCKER_MANIFEST,
        ],
      ],
    );
    assert.deepStrictEqual(
      manifest.models.map((m) => [m.name, m.target, m.digest]),
      [["llama3.2:1b", "library/llama3.2:1b", model.digest]],
    );
    assert.deepStrictEqual(
      manifest.charts.map((c) => [c.chart, c.version]),
      [["valkey", "0.11.0"]],
    );
    // 3 manifests + 2 × (config, layer) for valkey, 3 each for prometheus and the model.
    assert.strictEqual(manifest.blobs.length, 7 + 3 + 3);
    assert.ok(manifest.blobs.every((b) => b.included && b.size > 0));
    assert.strictEqual(
      manifest.sizes.included,
      manifest.blobs.reduce((n, b) => n + b.size, 0),
    );
    // The archive's own checksum beside it; inside, an OCI layout and a SHA256SUMS sha256sum accepts.
    assert.strictEqual(fs.readFileSync(`${first}.sha256`, "utf8"), `${result.sha256}  first.tar\n`);
    const dir = fs.mkdtempSync(path.join(work, "x-"));
    assert.strictEqual(spawnSync("tar", ["-xf", first, "-C", dir]).status, 0);
    assert.strictEqual(spawnSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: dir }).status, 0);
    const index = JSON.parse(fs.readFileSync(path.join(dir, "oci", "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    assert.deepStrictEqual(
      index.manifests.map((m) => m.digest),
      [multi.digest, prom.digest, model.digest],
    );
    assert.ok(
      fs.existsSync(path.join(dir, "oci", "blobs", "sha256", arm.digest.slice(7))),
      "the arm64 manifest",
    );
    assert.ok(fs.existsSync(path.join(dir, "charts", "valkey-0.11.0.tgz")));
  });

  it("an incremental bundle leaves out what the previous one carries", async () => {
    image(hub, "valkey/valkey", "9.1.2", "valkey 9.1.2");
    const next = path.join(work, "next.tar");
    const r = await bundleArtifacts({
      stack: "site",
      out: next,
      since: first,
      images: ["docker.io/valkey/valkey:9.1.1", "docker.io/valkey/valkey:9.1.2"],
      models: [],
      chartsDir: charts,
      fetch: fetchPublic,
    });
    const included = r.manifest.blobs.filter((b) => b.included).map((b) => b.digest);
    const omitted = r.manifest.blobs.filter((b) => !b.included).map((b) => b.digest);
    // The old image's layers and configs are left out; manifests always travel (they are small).
    assert.strictEqual(omitted.length, 4);
    assert.ok(included.includes(multi.digest));
    assert.strictEqual(included.length, 3 + 3);
    assert.strictEqual(r.manifest.base?.file, "first.tar");
    assert.ok(r.manifest.sizes.omitted > 0);
    assert.strictEqual(readBundleManifest(next).images.length, 2);
  });

  it("pushes to the site registry keeping every digest, resumes after a failure, and names what failed", async () => {
    const site = new MemoryRegistry("127.0.0.1:5999");
    site.failUpload = (n) => n === 5;
    await assert.rejects(
      pushBundle({ bundle: first, registry: "127.0.0.1:5999/es1", fetch: network(site) }),
      (e: Error) =>
        e instanceof ChartsError &&
        /^image docker\.io\/valkey\/valkey:9\.1\.1 → 127\.0\.0\.1:5999\/es1\/valkey\/valkey:9\.1\.1: uploading sha256:[0-9a-f]{64}: .* answered HTTP 500: disk full$/.test(
          e.message,
        ),
    );
    const uploadsBefore = site.log.filter((l) => l.startsWith("PUT /upload/")).length;
    site.failUpload = () => false;
    const r = await pushBundle({ bundle: first, registry: "127.0.0.1:5999/es1", fetch: network(site) });
    assert.deepStrictEqual(r.settings, {
      "es1:airgap.registry": "127.0.0.1:5999/es1",
      "es1:airgap.charts": "oci://127.0.0.1:5999/es1/charts",
    });
    assert.deepStrictEqual(
      r.artifacts.map((a) => [a.ref, a.digest, a.present]),
      [
        ["127.0.0.1:5999/es1/valkey/valkey:9.1.1", multi.digest, false],
        ["127.0.0.1:5999/es1/prometheus/prometheus:v3.14.0", prom.digest, false],
        ["127.0.0.1:5999/es1/library/llama3.2:1b", model.digest, false],
      ],
    );
    // The resumed run uploaded only what was missing: the failed blob, and the rest after it.
    const uploadsAfter = site.log.filter((l) => l.startsWith("PUT /upload/")).length - uploadsBefore;
    assert.strictEqual(
      uploadsBefore - 1 + uploadsAfter,
      4 + 1 + 2 + 2 + 1,
      "every blob uploaded once (chart config + layer, 4 valkey, 2 + 2)",
    );
    for (const [repo, tag, want] of [
      ["es1/valkey/valkey", "9.1.1", multi.digest],
      ["es1/prometheus/prometheus", "v3.14.0", prom.digest],
      ["es1/library/llama3.2", "1b", model.digest],
    ]) {
      const got = site.manifests.get(`${repo}:${tag}`);
      assert.ok(got, `${repo}:${tag}`);
      assert.strictEqual(digestOf(got.body), want);
    }
    assert.ok(site.manifests.has("es1/charts/valkey:0.11.0"));
    // Once more: everything is there, nothing is uploaded.
    const again = await pushBundle({ bundle: first, registry: "127.0.0.1:5999/es1", fetch: network(site) });
    assert.ok(again.artifacts.every((a) => a.present));
  });

  it("refuses an incremental bundle whose base was not pushed, naming the blob and the base", async () => {
    const site = new MemoryRegistry("127.0.0.1:5998");
    await assert.rejects(
      pushBundle({ bundle: path.join(work, "next.tar"), registry: "127.0.0.1:5998", fetch: network(site) }),
      /image docker\.io\/valkey\/valkey:9\.1\.1 → 127\.0\.0\.1:5998\/valkey\/valkey:9\.1\.1: blob sha256:[0-9a-f]{64} is neither in the bundle nor in the registry \(the bundle is incremental on first\.tar: push that one first\)/,
    );
  });

  it("adds the installer (project, node_modules with its links, tools, plugins) and push leaves it alone", async () => {
    const root = fs.mkdtempSync(path.join(work, "installer-"));
    const project = path.join(root, "project");
    fs.mkdirSync(path.join(project, "node_modules", "pkg"), { recursive: true });
    fs.mkdirSync(path.join(project, "node_modules", ".bin"));
    fs.writeFileSync(path.join(project, "package.json"), "{}");
    fs.writeFileSync(path.join(project, "node_modules", "pkg", "cli.js"), "cli");
    fs.symlinkSync("../pkg/cli.js", path.join(project, "node_modules", ".bin", "cli"));
    const versioned = path.join(root, "tools", "helm-3");
    const bin = path.join(root, "tools", "bin");
    fs.mkdirSync(versioned, { recursive: true });
    fs.mkdirSync(bin);
    for (const t of ["pulumi", "pulumi-language-nodejs", "helm", "node"]) {
      fs.writeFileSync(path.join(versioned, t), t);
      fs.symlinkSync(path.join(versioned, t), path.join(bin, t));
    }
    const plugins = path.join(root, "plugins");
    fs.mkdirSync(path.join(plugins, "resource-kubernetes-v4.25.0"), { recursive: true });
    fs.writeFileSync(path.join(plugins, "resource-kubernetes-v4.25.0", "pulumi-resource-kubernetes"), "k");
    const src = {
      projectRoot: project,
      toolsBin: bin,
      pluginsDir: plugins,
      plugins: [{ name: "kubernetes", version: "4.25.0" }],
      node: path.join(bin, "node"),
    };
    assert.throws(
      () => installerParts({ ...src, plugins: [{ name: "random", version: "9.9.9" }] }),
      /resource-random-v9\.9\.9 is missing/,
    );
    const out = path.join(work, "with-installer.tar");
    const r = await bundleArtifacts({
      stack: "site",
      out,
      images: ["quay.io/prometheus/prometheus:v3.14.0"],
      models: [],
      chartsDir: charts,
      installer: installerParts(src),
      fetch: fetchPublic,
    });
    assert.deepStrictEqual(
      r.manifest.installer?.map((p) => p.prefix),
      ["installer/es1", ...Array(4).fill("installer/tools/bin"), "installer/pulumi-plugins"],
    );
    const listing = spawnSync("tar", ["-tvf", out], { encoding: "utf8" }).stdout;
    assert.match(listing, /installer\/es1\/node_modules\/\.bin\/cli -> \.\.\/pkg\/cli\.js/);
    for (const f of [
      "installer/es1/package.json",
      "installer/tools/bin/helm",
      "installer/tools/bin/node",
      "installer/pulumi-plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes",
    ])
      assert.ok(listing.includes(f), f);
    const site = new MemoryRegistry("127.0.0.1:5996");
    const pushed = await pushBundle({ bundle: out, registry: "127.0.0.1:5996", fetch: network(site) });
    assert.strictEqual(pushed.artifacts.length, 1);
  });

  it("refuses a damaged bundle before uploading anything", async () => {
    const copy = path.join(work, "damaged.tar");
    fs.copyFileSync(first, copy);
    fs.writeFileSync(`${copy}.sha256`, `${"0".repeat(64)}  damaged.tar\n`);
    const site = new MemoryRegistry("127.0.0.1:5997");
    await assert.rejects(
      pushBundle({ bundle: copy, registry: "127.0.0.1:5997", fetch: network(site) }),
      /damaged\.tar: checksum mismatch with .*damaged\.tar\.sha256/,
    );
    assert.deepStrictEqual(site.log, []);
  });
});

describe("es1 airgap command line", function () {
  this.timeout(30000);
  const run = async (...argv: string[]) => {
    const c = memoryIO();
    return { code: await cli(["airgap", ...argv], c.io), out: c.out(), err: c.err() };
  };

  it("explains itself and refuses a wrong command line with exit 2, before touching any stack or registry", async () => {
    const help = await run("--help");
    assert.strictEqual(help.code, 0);
    assert.match(help.out, /es1 airgap images --stack/);
    assert.match(help.out, /--include-installer/);
    assert.strictEqual((await run()).code, 2);
    assert.match((await run("mirror")).err, /unknown subcommand 'mirror'/);
    const noStack = await run("images");
    assert.strictEqual(noStack.code, 2);
    assert.match(noStack.err, /--stack/);
    assert.match((await run("bundle", "--stack", "site")).err, /--out/);
    assert.match(
      (await run("bundle", "--stack", "site", "--out", "a.tar", "--since", "a.tar")).err,
      /--since names the bundle being written/,
    );
    assert.match(
      (await run("bundle", "--stack", "site", "--out", "a.tar", "--override-registry", "docker.io")).err,
      /--override-registry 'docker\.io' is not <from>=<to>/,
    );
    const push = await run(
      "push",
      "--bundle",
      "/nonexistent.tar",
      "--registry",
      "registry.internal:5000/es1",
      "--json",
    );
    assert.strictEqual(push.code, 2);
    assert.deepStrictEqual(JSON.parse(push.out), {
      command: "airgap push",
      status: "failed",
      exitCode: 2,
      errors: ["bundle /nonexistent.tar does not exist"],
    });
    assert.match(
      (await run("push", "--bundle", "x.tar", "--registry", "https://registry/")).err,
      /is not a registry location/,
    );
  });
});
