// es1 charts pull/push/verify against an HTTP server on 127.0.0.1 started here, serving a Helm
// repository made of real upstream archives (../shared/upstream-charts). The pull and push against a
// real OCI registry are in test/e2e/charts-mirror.test.ts; the small registry below only exercises
// the token handshake and digest checks, which the e2e registry (no auth) cannot.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { main as cli } from "../../automation/cli";
import {
  catalogCharts,
  ChartsError,
  ChartsInputError,
  chartYaml,
  CHECKSUM_FILE,
  helmConfig,
  HELM_CHART_MEDIA_TYPE,
  HELM_CONFIG_MEDIA_TYPE,
  parseChecksums,
  pullCharts,
  pushCharts,
  verifyMirror,
} from "../../automation/charts";
import { UpstreamChart } from "../../lib/charts";
import { PROJECT_ROOT } from "../../lib/paths";
import { memoryIO } from "./command-io";

const SHARED = path.resolve(PROJECT_ROOT, "..", "shared", "upstream-charts");
const archive = (file: string) => fs.readFileSync(path.join(SHARED, file));
const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

/** An HTTP server on 127.0.0.1: routes by exact path, a log of every request. */
class Server {
  readonly routes = new Map<string, Handler>();
  readonly requests: string[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      this.requests.push(`${req.method} ${url.pathname}`);
      const route = this.routes.get(url.pathname);
      if (route) route(req, Buffer.concat(chunks), res);
      else res.writeHead(404).end("not found");
    });
  });
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  file(p: string, data: Buffer | string): void {
    this.routes.set(p, (_q, _b, res) => res.writeHead(200).end(data));
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = await new Server().start();
  await s.stop();
  return s.port;
}

/** An index.yaml as `helm repo index` writes it (only the fields the pull reads, plus a few). */
function indexYaml(
  entries: Record<string, { version: string; url: string; data: Buffer; digest?: string }[]>,
): string {
  return yaml.dump({
    apiVersion: "v1",
    entries: Object.fromEntries(
      Object.entries(entries).map(([name, list]) => [
        name,
        list.map((e) => ({
          apiVersion: "v2",
          name,
          version: e.version,
          created: "2026-01-01T00:00:00Z",
          digest: e.digest ?? sha256(e.data),
          urls: [e.url],
        })),
      ]),
    ),
    generated: "2026-01-01T00:00:00Z",
  });
}

const VALKEY = archive("valkey-0.11.0.tgz");
const CLUSTER = archive("cluster-0.8.1.tgz");
const LANGFLOW = archive("langflow-1.1.2.tgz");

describe("es1 charts (chart mirror)", function () {
  let server: Server;
  let work: string;
  let catalog: UpstreamChart[];

  beforeEach(async function () {
    server = await new Server().start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-charts-unit-"));
    // Repository "repo": one relative URL, one absolute URL to another path; "other": a second repo.
    server.file(
      "/repo/index.yaml",
      indexYaml({
        valkey: [
          { version: "0.12.0", url: "valkey-0.12.0.tgz", data: Buffer.from("newer") },
          { version: "0.11.0", url: "archives/valkey-0.11.0.tgz", data: VALKEY },
        ],
        cluster: [{ version: "0.8.1", url: `${server.url}/elsewhere/cluster-0.8.1.tgz`, data: CLUSTER }],
      }),
    );
    server.file("/repo/archives/valkey-0.11.0.tgz", VALKEY);
    server.file("/elsewhere/cluster-0.8.1.tgz", CLUSTER);
    server.file(
      "/other/index.yaml",
      indexYaml({ langflow: [{ version: "1.1.2", url: "langflow-1.1.2.tgz", data: LANGFLOW }] }),
    );
    server.file("/other/langflow-1.1.2.tgz", LANGFLOW);
    catalog = [
      { chart: "valkey", repo: `${server.url}/repo`, version: "0.11.0" },
      { chart: "cluster", repo: `${server.url}/repo/`, version: "0.8.1" },
      { chart: "langflow", repo: `${server.url}/other`, version: "1.1.2" },
    ];
  });

  afterEach(async function () {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Everything in `work` (names), to prove nothing half-written was left beside the mirror. */
  const listing = () => fs.readdirSync(work).sort();

  describe("pull from a Helm repository", function () {
    it("fetches each pinned version byte for byte, resolving relative and absolute URLs, with a sha256sum file", async function () {
      const out = path.join(work, "mirror");
      const r = await pullCharts({ out, catalog });
      assert.deepStrictEqual(fs.readdirSync(out).sort(), [
        CHECKSUM_FILE,
        "cluster-0.8.1.tgz",
        "langflow-1.1.2.tgz",
        "valkey-0.11.0.tgz",
      ]);
      assert.ok(fs.readFileSync(path.join(out, "valkey-0.11.0.tgz")).equals(VALKEY));
      assert.ok(fs.readFileSync(path.join(out, "cluster-0.8.1.tgz")).equals(CLUSTER));
      assert.ok(fs.readFileSync(path.join(out, "langflow-1.1.2.tgz")).equals(LANGFLOW));
      // The format `sha256sum -c` reads: "<hex>  <file>", sorted.
      assert.strictEqual(
        fs.readFileSync(path.join(out, CHECKSUM_FILE), "utf8"),
        `${sha256(CLUSTER)}  cluster-0.8.1.tgz\n${sha256(LANGFLOW)}  langflow-1.1.2.tgz\n${sha256(VALKEY)}  valkey-0.11.0.tgz\n`,
      );
      assert.deepStrictEqual(
        r.charts.map((c) => [c.chart, c.version, c.reused, c.source]),
        [
          ["valkey", "0.11.0", false, `${server.url}/repo/archives/valkey-0.11.0.tgz`],
          ["cluster", "0.8.1", false, `${server.url}/elsewhere/cluster-0.8.1.tgz`],
          ["langflow", "1.1.2", false, `${server.url}/other/langflow-1.1.2.tgz`],
        ],
      );
      assert.strictEqual(r.downloaded, 3);
      // Each repository's index is read once, however many of its charts are wanted.
      assert.strictEqual(server.requests.filter((q) => q === "GET /repo/index.yaml").length, 1);
      assert.deepStrictEqual(listing(), ["mirror"]);
      assert.strictEqual(verifyMirror(out).length, 3);
    });

    it("pulls only --charts, and a second pull of a complete mirror makes no request at all", async function () {
      const out = path.join(work, "mirror");
      await pullCharts({ out, catalog, charts: ["valkey"] });
      assert.deepStrictEqual(fs.readdirSync(out).sort(), [CHECKSUM_FILE, "valkey-0.11.0.tgz"]);
      server.requests.length = 0;
      const again = await pullCharts({ out, catalog, charts: ["valkey"] });
      assert.deepStrictEqual(server.requests, []);
      assert.strictEqual(again.reused, 1);
      assert.strictEqual(again.downloaded, 0);
      assert.strictEqual(again.charts[0].sha256, sha256(VALKEY));
    });

    it("keeps the archives that match, downloads the missing and the damaged ones again", async function () {
      const out = path.join(work, "mirror");
      await pullCharts({ out, catalog, charts: ["valkey", "cluster"] });
      fs.appendFileSync(path.join(out, "cluster-0.8.1.tgz"), "x");
      server.requests.length = 0;
      const r = await pullCharts({ out, catalog });
      assert.deepStrictEqual(
        r.charts.map((c) => [c.chart, c.reused]),
        [
          ["valkey", true],
          ["cluster", false],
          ["langflow", false],
        ],
      );
      assert.ok(!server.requests.includes("GET /repo/archives/valkey-0.11.0.tgz"));
      assert.match(r.warnings.join("\n"), /cluster-0\.8\.1\.tgz does not match SHA256SUMS/);
      assert.ok(fs.readFileSync(path.join(out, "cluster-0.8.1.tgz")).equals(CLUSTER));
      assert.strictEqual(verifyMirror(out).length, 3);
      assert.deepStrictEqual(listing(), ["mirror"]);
    });

    it("a checksum mismatch names the archive, the expected and the actual digest, and writes nothing", async function () {
      server.file(
        "/repo/index.yaml",
        indexYaml({
          valkey: [
            { version: "0.11.0", url: "archives/valkey-0.11.0.tgz", data: VALKEY, digest: "ab".repeat(32) },
          ],
        }),
      );
      const out = path.join(work, "mirror");
      await assert.rejects(pullCharts({ out, catalog, charts: ["valkey"] }), (e: Error) => {
        assert.ok(e instanceof ChartsError && !(e instanceof ChartsInputError));
        assert.match(
          e.message,
          /checksum mismatch for valkey-0\.11\.0\.tgz from http:\/\/127\.0\.0\.1:\d+\/repo\/archives\/valkey-0\.11\.0\.tgz/,
        );
        assert.match(e.message, new RegExp(`expected sha256 ${"ab".repeat(32)}, got ${sha256(VALKEY)}`));
        return true;
      });
      assert.deepStrictEqual(listing(), []);
    });

    it("a failed pull leaves an existing mirror exactly as it was", async function () {
      const out = path.join(work, "mirror");
      await pullCharts({ out, catalog, charts: ["valkey"] });
      const before = fs.readFileSync(path.join(out, CHECKSUM_FILE), "utf8");
      server.routes.delete("/other/langflow-1.1.2.tgz");
      await assert.rejects(
        pullCharts({ out, catalog }),
        /langflow 1\.1\.2: downloading the archive: .*langflow-1\.1\.2\.tgz answered HTTP 404/,
      );
      assert.deepStrictEqual(fs.readdirSync(out).sort(), [CHECKSUM_FILE, "valkey-0.11.0.tgz"]);
      assert.strictEqual(fs.readFileSync(path.join(out, CHECKSUM_FILE), "utf8"), before);
      assert.deepStrictEqual(listing(), ["mirror"]);
    });

    it("a version missing from the index is named with the versions the index has", async function () {
      const wrong = catalog.map((c) => (c.chart === "valkey" ? { ...c, version: "0.10.9" } : c));
      await assert.rejects(
        pullCharts({ out: path.join(work, "m"), catalog: wrong, charts: ["valkey"] }),
        /valkey 0\.10\.9: version 0\.10\.9 is not in http:\/\/127\.0\.0\.1:\d+\/repo\/index\.yaml \(it has 0\.12\.0, 0\.11\.0\)/,
      );
      assert.deepStrictEqual(listing(), []);
    });

    it("a chart missing from the index, and an archive that holds another chart, are refused", async function () {
      const misplaced = [{ chart: "langflow", repo: `${server.url}/repo`, version: "1.1.2" }];
      await assert.rejects(
        pullCharts({ out: path.join(work, "m"), catalog: misplaced }),
        /langflow 1\.1\.2: Helm repository http:\/\/127\.0\.0\.1:\d+\/repo has no chart named 'langflow'/,
      );
      // The index's digest matches the bytes, but the bytes are Valkey's.
      server.file(
        "/other/index.yaml",
        indexYaml({ langflow: [{ version: "1.1.2", url: "langflow-1.1.2.tgz", data: VALKEY }] }),
      );
      server.file("/other/langflow-1.1.2.tgz", VALKEY);
      await assert.rejects(
        pullCharts({ out: path.join(work, "m"), catalog, charts: ["langflow"] }),
        /langflow-1\.1\.2\.tgz from .* holds chart valkey 0\.11\.0, not langflow 1\.1\.2/,
      );
      assert.deepStrictEqual(listing(), []);
    });

    it("an unreachable repository is named with its URL and the cause", async function () {
      const port = await closedPort();
      const gone = [{ chart: "valkey", repo: `http://127.0.0.1:${port}/charts`, version: "0.11.0" }];
      await assert.rejects(
        pullCharts({ out: path.join(work, "m"), catalog: gone }),
        new RegExp(
          `cannot reach Helm repository http://127\\.0\\.0\\.1:${port}/charts \\(http://127\\.0\\.0\\.1:${port}/charts/index\\.yaml\\): .*ECONNREFUSED`,
        ),
      );
      assert.deepStrictEqual(listing(), []);
    });

    it("reads again when the server drops a connection, as one may drop a kept-alive one", async function () {
      let served = 0;
      server.routes.set("/repo/archives/valkey-0.11.0.tgz", (req, _b, res) => {
        if (served++ === 0) req.socket.destroy();
        else res.writeHead(200).end(VALKEY);
      });
      const r = await pullCharts({ out: path.join(work, "mirror"), catalog, charts: ["valkey"] });
      assert.strictEqual(served, 2);
      assert.strictEqual(r.charts[0].sha256, sha256(VALKEY));
    });

    it("several failures are reported together", async function () {
      const wrong = catalog.map((c) => ({ ...c, version: "9.9.9" }));
      await assert.rejects(pullCharts({ out: path.join(work, "m"), catalog: wrong }), (e: Error) => {
        assert.match(e.message, /^3 charts failed:/);
        for (const c of ["valkey", "cluster", "langflow"])
          assert.match(e.message, new RegExp(`${c} 9\\.9\\.9: version`));
        return true;
      });
    });

    it("refuses an unknown chart (listing the catalog) and a directory that is not a mirror", async function () {
      await assert.rejects(
        pullCharts({ out: path.join(work, "m"), catalog, charts: ["valkey", "redis"] }),
        (e: Error) =>
          e instanceof ChartsInputError &&
          /unknown chart 'redis'; the catalog pins: valkey, cluster, langflow/.test(e.message),
      );
      const notMirror = path.join(work, "home");
      fs.mkdirSync(notMirror);
      fs.writeFileSync(path.join(notMirror, "notes.txt"), "mine");
      await assert.rejects(
        pullCharts({ out: notMirror, catalog }),
        (e: Error) => e instanceof ChartsInputError && /is not empty and has no SHA256SUMS/.test(e.message),
      );
      // A mirror with a file its SHA256SUMS does not list is not replaced either.
      const out = path.join(work, "mirror");
      await pullCharts({ out, catalog, charts: ["valkey"] });
      fs.writeFileSync(path.join(out, "README"), "mine");
      await assert.rejects(pullCharts({ out, catalog }), /does not list \(README\)/);
      assert.strictEqual(fs.readFileSync(path.join(notMirror, "notes.txt"), "utf8"), "mine");
      assert.strictEqual(fs.readFileSync(path.join(out, "README"), "utf8"), "mine");
    });

    it("fetches an upstream repository from an override, and refuses an override of no catalog repository", async function () {
      const upstream = [{ chart: "valkey", repo: "https://valkey.example/helm/", version: "0.11.0" }];
      const out = path.join(work, "mirror");
      const r = await pullCharts({
        out,
        catalog: upstream,
        repoOverrides: { "https://valkey.example/helm": `${server.url}/repo` },
      });
      assert.strictEqual(r.charts[0].source, `${server.url}/repo/archives/valkey-0.11.0.tgz`);
      await assert.rejects(
        pullCharts({ out, catalog: upstream, repoOverrides: { "https://other.example": server.url } }),
        (e: Error) =>
          e instanceof ChartsInputError &&
          /'https:\/\/other\.example' names no repository of the catalog; they are: https:\/\/valkey\.example\/helm/.test(
            e.message,
          ),
      );
      await assert.rejects(
        pullCharts({ out, catalog: upstream, repoOverrides: { "https://valkey.example/helm": "ftp://x" } }),
        /neither an http\(s\) URL nor oci:\/\//,
      );
    });
  });

  describe("pull from an OCI registry with a token handshake", function () {
    const repo = "clickhouse/valkey";
    let layerDigest: string;

    beforeEach(function () {
      const config = Buffer.from(JSON.stringify(helmConfig(chartYaml(VALKEY, "valkey"))));
      layerDigest = `sha256:${sha256(VALKEY)}`;
      const manifest = JSON.stringify({
        schemaVersion: 2,
        config: {
          mediaType: HELM_CONFIG_MEDIA_TYPE,
          digest: `sha256:${sha256(config)}`,
          size: config.length,
        },
        layers: [{ mediaType: HELM_CHART_MEDIA_TYPE, digest: layerDigest, size: VALKEY.length }],
      });
      // As ghcr.io: every registry call wants a bearer token the token service hands out anonymously.
      const guarded =
        (body: () => Buffer | string): Handler =>
        (req, _b, res) => {
          if (req.headers.authorization !== "Bearer anon-token") {
            res
              .writeHead(401, {
                "www-authenticate": `Bearer realm="${server.url}/token",service="stub",scope="repository:${repo}:pull"`,
              })
              .end();
          } else res.writeHead(200).end(body());
        };
      server.routes.set("/token", (req, _b, res) => {
        const q = new URL(req.url ?? "", "http://x").searchParams;
        const ok =
          q.get("service") === "stub" &&
          q.get("scope") === `repository:${repo}:pull` &&
          !req.headers.authorization;
        res.writeHead(ok ? 200 : 403).end(JSON.stringify({ token: "anon-token" }));
      });
      server.routes.set(
        `/v2/${repo}/manifests/0.11.0`,
        guarded(() => manifest),
      );
      server.routes.set(
        `/v2/${repo}/blobs/${layerDigest}`,
        guarded(() => VALKEY),
      );
    });

    it("answers the challenge, takes the chart layer and verifies its digest", async function () {
      const out = path.join(work, "mirror");
      const r = await pullCharts({
        out,
        catalog: [{ chart: "valkey", repo: `oci://127.0.0.1:${server.port}/clickhouse`, version: "0.11.0" }],
      });
      assert.ok(fs.readFileSync(path.join(out, "valkey-0.11.0.tgz")).equals(VALKEY));
      assert.strictEqual(r.charts[0].source, `oci://127.0.0.1:${server.port}/${repo}:0.11.0`);
      assert.deepStrictEqual(server.requests.filter((q) => q === "GET /token").length, 1);
    });

    it("a layer whose bytes do not match its digest is a checksum mismatch", async function () {
      server.routes.set(`/v2/${repo}/blobs/${layerDigest}`, (_req, _b, res) =>
        res.writeHead(200).end(CLUSTER),
      );
      await assert.rejects(
        pullCharts({
          out: path.join(work, "mirror"),
          catalog: [
            { chart: "valkey", repo: `oci://127.0.0.1:${server.port}/clickhouse`, version: "0.11.0" },
          ],
        }),
        new RegExp(
          `checksum mismatch for valkey 0\\.11\\.0 \\(layer ${layerDigest} of .*\\): expected sha256 ${sha256(VALKEY)}, got ${sha256(CLUSTER)}`,
        ),
      );
      assert.deepStrictEqual(listing(), []);
    });

    it("a missing tag is named", async function () {
      await assert.rejects(
        pullCharts({
          out: path.join(work, "mirror"),
          catalog: [{ chart: "valkey", repo: `oci://127.0.0.1:${server.port}/clickhouse`, version: "0.9.0" }],
        }),
        /valkey 0\.9\.0: oci:\/\/127\.0\.0\.1:\d+\/clickhouse\/valkey:0\.9\.0 does not exist \(HTTP 404\)/,
      );
    });
  });

  describe("verify and push", function () {
    let mirror: string;

    beforeEach(async function () {
      mirror = path.join(work, "mirror");
      await pullCharts({ out: mirror, catalog });
    });

    it("verifyMirror names a damaged, a missing and an unlisted archive", function () {
      fs.appendFileSync(path.join(mirror, "valkey-0.11.0.tgz"), "!");
      fs.rmSync(path.join(mirror, "langflow-1.1.2.tgz"));
      fs.copyFileSync(path.join(SHARED, "ollama-1.77.0.tgz"), path.join(mirror, "ollama-1.77.0.tgz"));
      assert.throws(
        () => verifyMirror(mirror),
        (e: Error) => {
          assert.match(e.message, /langflow-1\.1\.2\.tgz: listed in SHA256SUMS but missing/);
          assert.match(
            e.message,
            new RegExp(
              `valkey-0\\.11\\.0\\.tgz: checksum mismatch: expected sha256 ${sha256(VALKEY)}, got ${sha256(Buffer.concat([VALKEY, Buffer.from("!")]))}`,
            ),
          );
          assert.match(e.message, /ollama-1\.77\.0\.tgz: not listed in SHA256SUMS/);
          return true;
        },
      );
    });

    it("an archive named for another chart is refused", function () {
      fs.renameSync(path.join(mirror, "cluster-0.8.1.tgz"), path.join(mirror, "cluster-0.9.0.tgz"));
      const sums = fs
        .readFileSync(path.join(mirror, CHECKSUM_FILE), "utf8")
        .replace("cluster-0.8.1.tgz", "cluster-0.9.0.tgz");
      fs.writeFileSync(path.join(mirror, CHECKSUM_FILE), sums);
      assert.throws(
        () => verifyMirror(mirror),
        /cluster-0\.9\.0\.tgz: holds chart cluster 0\.8\.1, so it should be named cluster-0\.8\.1\.tgz/,
      );
    });

    it("push verifies the whole mirror before the first request", async function () {
      fs.appendFileSync(path.join(mirror, "langflow-1.1.2.tgz"), "!");
      server.routes.clear();
      server.requests.length = 0;
      await assert.rejects(
        pushCharts({ from: mirror, to: `oci://127.0.0.1:${server.port}/charts` }),
        /langflow-1\.1\.2\.tgz: checksum mismatch/,
      );
      assert.deepStrictEqual(server.requests, []);
    });

    it("push uploads config, layer and a tagged manifest, sending credentials only to the token service", async function () {
      const blobs = new Map<string, Buffer>();
      const manifests = new Map<string, { type: string; body: Buffer }>();
      const basic = `Basic ${Buffer.from("robot:s3cret").toString("base64")}`;
      const only = path.join(work, "only-valkey");
      await pullCharts({ out: only, catalog, charts: ["valkey"] });
      server.routes.clear();
      // A registry that wants a push token for the repository, got with Basic credentials.
      server.routes.set("/token", (req, _b, res) => {
        const scope = new URL(req.url ?? "", "http://x").searchParams.get("scope");
        const ok = req.headers.authorization === basic && scope === "repository:charts/valkey:pull,push";
        res.writeHead(ok ? 200 : 401).end(JSON.stringify({ access_token: "push-token" }));
      });
      const registryAuth = new Set<string>();
      const registry: Handler = (req, body, res) => {
        const url = new URL(req.url ?? "", "http://x");
        registryAuth.add(String(req.headers.authorization));
        if (req.headers.authorization !== "Bearer push-token") {
          res
            .writeHead(401, { "www-authenticate": `Bearer realm="${server.url}/token",service="stub"` })
            .end();
        } else if (req.method === "HEAD") {
          res.writeHead(blobs.has(url.pathname.split("/").pop() ?? "") ? 200 : 404).end();
        } else if (req.method === "POST") {
          res.writeHead(202, { location: "/v2/charts/valkey/blobs/uploads/u1?state=abc" }).end();
        } else if (url.pathname.endsWith("/uploads/u1") && req.method === "PUT") {
          const digest = url.searchParams.get("digest") ?? "";
          assert.strictEqual(url.searchParams.get("state"), "abc");
          assert.strictEqual(digest, `sha256:${sha256(body)}`);
          blobs.set(digest, body);
          res.writeHead(201).end();
        } else if (url.pathname === "/v2/charts/valkey/manifests/0.11.0" && req.method === "PUT") {
          manifests.set("0.11.0", { type: String(req.headers["content-type"]), body });
          res.writeHead(201, { "docker-content-digest": `sha256:${sha256(body)}` }).end();
        } else res.writeHead(400).end();
      };
      for (const p of [
        "/v2/charts/valkey/blobs/uploads/",
        "/v2/charts/valkey/blobs/uploads/u1",
        "/v2/charts/valkey/manifests/0.11.0",
      ])
        server.routes.set(p, registry);
      server.routes.set(`/v2/charts/valkey/blobs/sha256:${sha256(VALKEY)}`, registry);
      const config = Buffer.from(JSON.stringify(helmConfig(chartYaml(VALKEY, "valkey"))));
      server.routes.set(`/v2/charts/valkey/blobs/sha256:${sha256(config)}`, registry);

      const r = await pushCharts({
        from: only,
        to: `oci://127.0.0.1:${server.port}/charts/`,
        credentials: { username: "robot", password: "s3cret" },
      });
      assert.deepStrictEqual([...registryAuth].sort(), ["Bearer push-token", "undefined"]);
      const stored = manifests.get("0.11.0");
      assert.ok(stored);
      assert.strictEqual(stored.type, "application/vnd.oci.image.manifest.v1+json");
      const manifest = JSON.parse(stored.body.toString()) as {
        config: { mediaType: string; digest: string };
        layers: { mediaType: string; digest: string; size: number }[];
        annotations: Record<string, string>;
      };
      assert.strictEqual(manifest.config.mediaType, HELM_CONFIG_MEDIA_TYPE);
      assert.deepStrictEqual(manifest.layers, [
        { mediaType: HELM_CHART_MEDIA_TYPE, digest: `sha256:${sha256(VALKEY)}`, size: VALKEY.length },
      ]);
      assert.strictEqual(manifest.annotations["org.opencontainers.image.version"], "0.11.0");
      assert.ok(blobs.get(`sha256:${sha256(VALKEY)}`)?.equals(VALKEY));
      const configJson = JSON.parse(blobs.get(manifest.config.digest)?.toString() ?? "{}") as Record<
        string,
        unknown
      >;
      assert.strictEqual(configJson.name, "valkey");
      assert.strictEqual(configJson.version, "0.11.0");
      assert.deepStrictEqual(r.charts, [
        {
          chart: "valkey",
          version: "0.11.0",
          ref: `oci://127.0.0.1:${server.port}/charts/valkey`,
          tag: "0.11.0",
          digest: `sha256:${sha256(stored.body)}`,
        },
      ]);
      assert.strictEqual(r.to, `oci://127.0.0.1:${server.port}/charts`);
    });
  });

  describe("Chart.yaml as Helm's config blob", function () {
    it("keeps Helm's field order, strings as written, and leaves out empty fields", function () {
      const config = helmConfig({
        version: "1.10",
        name: "x",
        deprecated: "true",
        description: "",
        annotations: { a: "1" },
        dependencies: [{ name: "sub", repository: "", enabled: "false" }],
        unknownField: "dropped",
      });
      assert.deepStrictEqual(Object.keys(config), [
        "name",
        "version",
        "apiVersion",
        "deprecated",
        "annotations",
        "dependencies",
      ]);
      assert.strictEqual(config.version, "1.10");
      assert.strictEqual(config.apiVersion, "v1");
      assert.deepStrictEqual(config.dependencies, [{ name: "sub", repository: "" }]);
      assert.strictEqual(chartYaml(LANGFLOW, "langflow").version, "1.1.2");
    });

    it("parseChecksums names a malformed line", function () {
      assert.throws(() => parseChecksums(`${"a".repeat(64)}  ok.tgz\nnot a line\n`, "S"), /S line 2 is not/);
      assert.throws(() => parseChecksums(`${"a".repeat(64)}  ../x.tgz\n`, "S"), /S line 1/);
      assert.strictEqual(parseChecksums(`${"a".repeat(64)} *b.tgz\n`, "S").get("b.tgz"), "a".repeat(64));
    });
  });

  describe("the es1 charts command", function () {
    async function run(args: string[], env: Record<string, string> = {}) {
      const io = memoryIO({ env });
      const code = await cli(["charts", ...args], io.io);
      return { code, out: io.out(), err: io.err() };
    }

    it("prints help, and refuses a missing subcommand or flag with exit 2", async function () {
      const help = await run(["--help"]);
      assert.strictEqual(help.code, 0);
      assert.match(help.out, /es1 charts pull --out <dir>/);
      assert.strictEqual((await run([])).code, 2);
      const missing = await run(["pull"]);
      assert.strictEqual(missing.code, 2);
      assert.match(missing.err, /es1 charts pull: --out is required\nusage: es1 charts pull/);
      assert.strictEqual((await run(["push", "--from", work, "--to", "https://x"])).code, 2);
      assert.match(
        (await run(["pull", "--out", work, "--override-repo", "nonsense"])).err,
        /is not <upstream>=<url>/,
      );
    });

    it("pulls a catalog chart through --override-repo, exit 0, and one JSON document with --json", async function () {
      const valkey = catalogCharts().find((c) => c.chart === "valkey");
      assert.ok(valkey);
      server.file(
        "/valkey/index.yaml",
        indexYaml({ valkey: [{ version: valkey.version, url: "v.tgz", data: VALKEY }] }),
      );
      server.file("/valkey/v.tgz", VALKEY);
      const out = path.join(work, "mirror");
      const r = await run([
        "pull",
        "--out",
        out,
        "--charts",
        "valkey",
        "--override-repo",
        `${valkey.repo}=${server.url}/valkey`,
        "--json",
      ]);
      assert.strictEqual(r.code, 0, r.err);
      const doc = JSON.parse(r.out) as { status: string; charts: { chart: string; sha256: string }[] };
      assert.strictEqual(doc.status, "succeeded");
      assert.deepStrictEqual(
        doc.charts.map((c) => [c.chart, c.sha256]),
        [["valkey", sha256(VALKEY)]],
      );
      const verified = await run(["verify", "--dir", out]);
      assert.strictEqual(verified.code, 0);
      assert.match(verified.out, /1 archives match SHA256SUMS/);
    });

    it("exits 2 for an unknown chart and 1 for an unreachable repository, with --json on stdout", async function () {
      const unknown = await run(["pull", "--out", path.join(work, "m"), "--charts", "nope", "--json"]);
      assert.strictEqual(unknown.code, 2);
      const doc = JSON.parse(unknown.out) as { status: string; exitCode: number; errors: string[] };
      assert.deepStrictEqual([doc.status, doc.exitCode], ["failed", 2]);
      assert.match(doc.errors[0], /unknown chart 'nope'; the catalog pins: .*valkey/);
      const valkey = catalogCharts().find((c) => c.chart === "valkey");
      assert.ok(valkey);
      const port = await closedPort();
      const down = await run([
        "pull",
        "--out",
        path.join(work, "m"),
        "--charts",
        "valkey",
        "--override-repo",
        `${valkey.repo}=http://127.0.0.1:${port}`,
      ]);
      assert.strictEqual(down.code, 1);
      assert.match(down.err, /cannot reach Helm repository http:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/);
      assert.deepStrictEqual(listing(), []);
    });

    it("takes registry credentials from the environment only, both or neither, and never prints them", async function () {
      await pullCharts({ out: path.join(work, "mirror"), catalog, charts: ["valkey"] });
      const half = await run(
        ["push", "--from", path.join(work, "mirror"), "--to", `oci://127.0.0.1:${await closedPort()}/c`],
        {
          ES1_REGISTRY_USERNAME: "robot",
        },
      );
      assert.strictEqual(half.code, 2);
      assert.match(half.err, /set both \$ES1_REGISTRY_USERNAME and \$ES1_REGISTRY_PASSWORD/);
      const down = await run(
        ["push", "--from", path.join(work, "mirror"), "--to", `oci://127.0.0.1:${await closedPort()}/c`],
        {
          ES1_REGISTRY_USERNAME: "robot",
          ES1_REGISTRY_PASSWORD: "pa55-secret-word",
        },
      );
      assert.strictEqual(down.code, 1);
      assert.match(down.err, /cannot reach OCI registry 127\.0\.0\.1/);
      assert.ok(!`${down.out}${down.err}`.includes("pa55-secret-word"));
      assert.strictEqual(
        (
          await run([
            "push",
            "--from",
            path.join(work, "mirror"),
            "--to",
            "oci://127.0.0.1/c",
            "--password",
            "x",
          ])
        ).code,
        2,
      );
    });
  });
});
