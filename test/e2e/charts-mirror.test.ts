// The air-gap chart mirror end to end, all on 127.0.0.1: a Helm repository indexed by the real
// `helm repo index` over the shared upstream archives, and go-containerregistry's registry (built by
// scripts/tools.sh). `es1 charts pull` fetches the whole catalog from them (upstream repositories
// mapped with --override-repo), `es1 charts push` uploads it, `helm pull` gets the same bytes back,
// and the Pulumi engine installs Valkey from `es1:airgap.charts: oci://127.0.0.1:<port>/charts`
// through the Helm inside the Kubernetes provider.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { Stack } from "@pulumi/pulumi/automation";
import { catalogCharts, CHECKSUM_FILE } from "../../automation/charts";
import { PROJECT_ROOT } from "../../lib/paths";
import { runEs1Async } from "./es1-cli";
import { helm } from "./kube";
import { startRegistry } from "./registry";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const SHARED = path.resolve(PROJECT_ROOT, "..", "shared", "upstream-charts");
const STACK = "e2e-charts-mirror";
const NS = "es1-infrastructure";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd?: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", input: "" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `es1 ...` as a separate process, awaited: the Helm repository is served by this process, which a
 * synchronous spawn would stop from answering.
 */
function es1(...args: string[]): Promise<Run> {
  return runEs1Async(process.cwd(), {}, ...args);
}

function ok(r: Run, what: string): Run {
  assert.strictEqual(r.status, 0, `${what}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** A static file server on 127.0.0.1 (the Helm repository), counting the requests it serves. */
async function serveDir(
  dir: string,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const p = path.join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    requests.push(`${req.method} ${req.url}`);
    if (!p.startsWith(dir) || !fs.existsSync(p) || !fs.statSync(p).isFile()) res.writeHead(404).end();
    else res.writeHead(200).end(fs.readFileSync(p));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A throwaway CA and a certificate for 127.0.0.1 it signed, made with openssl. */
function privateCa(dir: string): { ca: string; key: string; cert: string } {
  fs.mkdirSync(dir);
  const f = (name: string) => path.join(dir, name);
  fs.writeFileSync(
    f("server.ext"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  const ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem")];
  ca.push("-days", "2", "-subj", "/CN=es1 e2e private CA", "-addext", "basicConstraints=critical,CA:TRUE");
  ok(run("openssl", [...ca, "-addext", "keyUsage=critical,keyCertSign,cRLSign"]), "openssl (CA)");
  ok(
    run("openssl", [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      f("server.key"),
      "-out",
      f("server.csr"),
      "-subj",
      "/CN=127.0.0.1",
    ]),
    "openssl (request)",
  );
  ok(
    run("openssl", [
      "x509",
      "-req",
      "-in",
      f("server.csr"),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f("server.pem"),
      "-days",
      "2",
      "-extfile",
      f("server.ext"),
    ]),
    "openssl (certificate)",
  );
  return { ca: f("ca.pem"), key: f("server.key"), cert: f("server.pem") };
}

/** TLS in front of a plain TCP port, as a site's load balancer terminates TLS before its registry. */
async function tlsFront(
  key: string,
  cert: string,
  port: number,
): Promise<{ port: number; sessions: () => number; close: () => void }> {
  let sessions = 0;
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (socket) => {
    sessions++;
    const upstream = net.connect(port, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions: () => sessions,
    close: () => server.close(),
  };
}

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("es1 charts pull and push with a Helm repository and an OCI registry on 127.0.0.1", function () {
  const charts = catalogCharts();
  let work: string;
  let repo: Awaited<ReturnType<typeof serveDir>>;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let mirror: string;
  /** --override-repo flags mapping every upstream repository of the catalog to the local ones. */
  let overrides: string[];
  let stack: Stack | undefined;
  let backend: string | undefined;

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-charts-e2e-"));
    mirror = path.join(work, "mirror");
    const repoDir = path.join(work, "repo");
    fs.mkdirSync(repoDir);
    for (const f of fs.readdirSync(SHARED).filter((f) => f.endsWith(".tgz"))) {
      fs.copyFileSync(path.join(SHARED, f), path.join(repoDir, f));
    }
    // Relative URLs and sha256 digests, as a published Helm repository has them.
    ok(run("helm", ["repo", "index", repoDir]), "helm repo index");
    repo = await serveDir(repoDir);
    registry = await startRegistry();
    // The one chart published only to OCI goes into the registry the way its upstream publishes it.
    const upstreamOci = charts.filter((c) => c.repo.startsWith("oci://"));
    assert.ok(upstreamOci.length > 0, "the catalog has an OCI chart, so the OCI pull is exercised");
    for (const c of upstreamOci) {
      ok(
        run("helm", [
          "push",
          path.join(SHARED, `${c.chart}-${c.version}.tgz`),
          `oci://127.0.0.1:${registry.port}/upstream`,
          "--plain-http",
        ]),
        `helm push ${c.chart}`,
      );
    }
    const repos = [...new Set(charts.map((c) => c.repo))];
    overrides = repos.flatMap((r) => [
      "--override-repo",
      `${r}=${r.startsWith("oci://") ? `oci://127.0.0.1:${registry.port}/upstream` : repo.url}`,
    ]);
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
    registry?.proc.kill();
    await repo?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("pulls every pinned chart byte for byte, with a SHA256SUMS that sha256sum -c accepts", async function () {
    const r = ok(await es1("charts", "pull", "--out", mirror, ...overrides, "--json"), "es1 charts pull");
    const doc = JSON.parse(r.stdout) as { downloaded: number; charts: { chart: string; source: string }[] };
    assert.strictEqual(doc.downloaded, charts.length);
    const files = charts.map((c) => `${c.chart}-${c.version}.tgz`);
    assert.deepStrictEqual(fs.readdirSync(mirror).sort(), [...files, CHECKSUM_FILE].sort());
    for (const f of files) {
      assert.ok(
        fs.readFileSync(path.join(mirror, f)).equals(fs.readFileSync(path.join(SHARED, f))),
        `${f} differs`,
      );
    }
    const oci = doc.charts.find((c) => c.chart === "clickhouse-operator-helm");
    assert.match(oci?.source ?? "", new RegExp(`^oci://127\\.0\\.0\\.1:${registry.port}/upstream/`));
    const check = ok(run("sha256sum", ["-c", CHECKSUM_FILE], mirror), "sha256sum -c");
    assert.strictEqual(check.stdout.trim().split("\n").length, charts.length);
    assert.deepStrictEqual(
      fs.readdirSync(work).sort(),
      ["mirror", "repo"],
      "nothing half-written is left beside the mirror",
    );
  });

  it("serves a second pull from the mirror itself, without a request", async function () {
    const before = repo.requests.length;
    const r = ok(
      await es1("charts", "pull", "--out", mirror, ...overrides, "--json"),
      "second es1 charts pull",
    );
    const doc = JSON.parse(r.stdout) as { reused: number; downloaded: number };
    assert.deepStrictEqual([doc.reused, doc.downloaded], [charts.length, 0]);
    assert.strictEqual(repo.requests.length, before);
  });

  it("refuses bad input clearly and leaves no half-written mirror", async function () {
    const fresh = path.join(work, "fresh");
    const unknown = await es1("charts", "pull", "--out", fresh, "--charts", "valkey,redis");
    assert.strictEqual(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /unknown chart 'redis'; the catalog pins: .*valkey/);

    const valkey = charts.find((c) => c.chart === "valkey");
    assert.ok(valkey);
    const port = await closedPort();
    const down = await es1(
      "charts",
      "pull",
      "--out",
      fresh,
      ...overrides,
      "--override-repo",
      `${valkey.repo}=http://127.0.0.1:${port}/charts`,
    );
    assert.strictEqual(down.status, 1, down.stderr);
    assert.match(
      down.stderr,
      new RegExp(`cannot reach Helm repository http://127\\.0\\.0\\.1:${port}/charts .*ECONNREFUSED`),
    );
    // Every other chart was fetched, but the mirror is all or nothing.
    assert.ok(!fs.existsSync(fresh));

    // The same failure on an existing mirror that lacks Valkey leaves it exactly as it was.
    const partial = path.join(work, "partial");
    ok(await es1("charts", "pull", "--out", partial, "--charts", "cluster", ...overrides), "pull cluster");
    const sums = fs.readFileSync(path.join(partial, CHECKSUM_FILE), "utf8");
    const again = await es1(
      "charts",
      "pull",
      "--out",
      partial,
      "--charts",
      "cluster,valkey",
      ...overrides,
      "--override-repo",
      `${valkey.repo}=http://127.0.0.1:${port}/charts`,
    );
    assert.strictEqual(again.status, 1);
    assert.strictEqual(fs.readFileSync(path.join(partial, CHECKSUM_FILE), "utf8"), sums);
    assert.deepStrictEqual(fs.readdirSync(partial).sort(), [CHECKSUM_FILE, "cluster-0.8.1.tgz"]);
    assert.deepStrictEqual(fs.readdirSync(work).sort(), ["mirror", "partial", "repo"]);
    fs.rmSync(partial, { recursive: true });
  });

  it("pushes the mirror to the registry, and helm pull gets every archive back byte for byte", async function () {
    const to = `oci://127.0.0.1:${registry.port}/charts`;
    const r = ok(await es1("charts", "push", "--from", mirror, "--to", to, "--json"), "es1 charts push");
    const doc = JSON.parse(r.stdout) as { charts: { chart: string; ref: string; tag: string }[] };
    assert.strictEqual(doc.charts.length, charts.length);
    const back = path.join(work, "back");
    fs.mkdirSync(back);
    for (const c of charts) {
      ok(
        run("helm", ["pull", `${to}/${c.chart}`, "--version", c.version, "--plain-http", "-d", back]),
        `helm pull ${c.chart}`,
      );
      const f = `${c.chart}-${c.version}.tgz`;
      assert.ok(
        fs.readFileSync(path.join(back, f)).equals(fs.readFileSync(path.join(mirror, f))),
        `${f} differs`,
      );
    }
    // What Helm reads from the config blob is the chart's own metadata.
    const shown = ok(
      run("helm", ["show", "chart", `${to}/valkey`, "--version", "0.11.0", "--plain-http"]),
      "helm show",
    );
    assert.match(shown.stdout, /^name: valkey$/m);
    // A second push of the same mirror changes no tag: the manifests are reproducible.
    const again = JSON.parse(
      ok(await es1("charts", "push", "--from", mirror, "--to", to, "--json"), "push again").stdout,
    ) as {
      charts: { digest: string }[];
    };
    assert.deepStrictEqual(
      again.charts.map((c) => c.digest),
      (JSON.parse(r.stdout) as { charts: { digest: string }[] }).charts.map((c) => c.digest),
    );
  });

  it("refuses to push a mirror whose archive was altered, naming it, and leaves the registry untouched", async function () {
    const tampered = path.join(work, "tampered");
    fs.cpSync(mirror, tampered, { recursive: true });
    const victim = path.join(tampered, "valkey-0.11.0.tgz");
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length - 10] ^= 0xff;
    fs.writeFileSync(victim, bytes);
    const r = await es1(
      "charts",
      "push",
      "--from",
      tampered,
      "--to",
      `oci://127.0.0.1:${registry.port}/tampered`,
    );
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /valkey-0\.11\.0\.tgz: checksum mismatch: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
    const res = await fetch(`http://127.0.0.1:${registry.port}/v2/_catalog`);
    const catalog = (await res.json()) as { repositories: string[] };
    assert.ok(catalog.repositories.some((name) => name.startsWith("charts/")));
    assert.deepStrictEqual(
      catalog.repositories.filter((name) => name.startsWith("tampered")),
      [],
    );
  });

  it("installs Valkey from es1:airgap.charts = oci://127.0.0.1:<port>/charts through the provider's Helm", async function () {
    let kubeconfig: string;
    ({ stack, kubeconfig, backend } = await openE2eStack(STACK, {
      ...componentsOnly(["redis"]),
      "es1:airgap.charts": `oci://127.0.0.1:${registry.port}/charts`,
    }));
    const seen = registry.log.length;
    const up = await stack.up();
    assert.strictEqual(up.summary.result, "succeeded");
    const releases = JSON.parse(helm(kubeconfig, "list", "-n", NS, "-o", "json")) as {
      name: string;
      chart: string;
      status: string;
    }[];
    const valkey = releases.find((r) => r.name === "es1-redis");
    assert.deepStrictEqual(valkey && [valkey.chart, valkey.status], ["valkey-0.11.0", "deployed"]);
    // The provider fetched the chart from this registry (plain HTTP, see docs/airgap.md).
    const fetched = registry.log.slice(seen).join("\n");
    assert.match(fetched, /GET \/v2\/charts\/valkey\/manifests\/0\.11\.0/);
    assert.match(fetched, /GET \/v2\/charts\/valkey\/blobs\/sha256:/);
    const down = await stack.destroy();
    assert.strictEqual(down.summary.result, "succeeded");
    assert.ok(!helm(kubeconfig, "list", "-n", NS, "-q").includes("es1-redis"));
  });

  it("installs from the registry behind TLS of a private CA once the engine trusts the CA (SSL_CERT_FILE)", async function () {
    assert.ok(stack, "the previous test opened the stack");
    const certs = privateCa(path.join(work, "tls"));
    const front = await tlsFront(certs.key, certs.cert, registry.port);
    try {
      await stack.setConfig("es1:airgap.charts", { value: `oci://127.0.0.1:${front.port}/charts` }, true);
      // Untrusted, the provider's Helm refuses the certificate (and does not fall back to plain HTTP).
      // An `up`, not a preview: the provider loads the chart only once the namespace is known.
      await assert.rejects(stack.up(), /x509: certificate signed by unknown authority/);
      const seen = registry.log.length;
      const sessions = front.sessions();
      process.env.SSL_CERT_FILE = certs.ca;
      try {
        const up = await stack.up();
        assert.strictEqual(up.summary.result, "succeeded");
      } finally {
        delete process.env.SSL_CERT_FILE;
      }
      assert.match(registry.log.slice(seen).join("\n"), /GET \/v2\/charts\/valkey\/manifests\/0\.11\.0/);
      assert.ok(front.sessions() > sessions, "the chart came through the TLS front");
      assert.strictEqual((await stack.destroy()).summary.result, "succeeded");
    } finally {
      front.close();
    }
  });
});
