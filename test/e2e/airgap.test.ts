// An air-gapped site end to end, all on 127.0.0.1 (docs/airgap.md): a "public" registry holding small
// images this test makes under the real names `es1 airgap images` lists (and an Ollama model), `es1
// airgap bundle` from it, an empty "site" registry, `es1 airgap push` into it, and a deploy with
// es1:airgap.registry, es1:airgap.registryAuth and es1:airgap.charts pointing at the site registry.
// Every image of every pod must be in the site registry (HEAD of its manifest), every namespace the
// stack made must hold the pull Secret. Nothing is downloaded.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { Stack } from "@pulumi/pulumi/automation";
import type { BundleManifest, PushBundleResult } from "../../automation/airgap-bundle";
import type { ImageUse } from "../../automation/airgap-images";
import { catalogCharts, Http, pushBlob, Registry } from "../../automation/charts";
import { REGISTRY_PULL_SECRET } from "../../config/airgap";
import { runEs1Json } from "./es1-cli";
import { kubectl } from "./kube";
import { allowedConnections, netpolicyBinary, writeClusterObjects } from "./netpol";
import { parseEndpoint } from "./reachability";
import { startRegistry } from "./registry";
import { componentsOnly, discardStack, E2eStack, openE2eStack } from "./stack";

const STACK = "e2e-airgap";
const NS = "es1-infrastructure";
const MODEL = "smollm:135m";

interface Reported {
  images: ImageUse[];
  models: string[];
}

/** A one-file tar (ustar), gzip-compressed: the layer of a generated image. */
function layer(name: string, content: string): { gz: Buffer; diffId: string } {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("0", 156);
  header.write("ustar\u000000", 257);
  header.fill(" ", 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const tar = Buffer.concat([
    header,
    body,
    Buffer.alloc((512 - (body.length % 512)) % 512),
    Buffer.alloc(1024),
  ]);
  return {
    gz: zlib.gzipSync(tar),
    diffId: `sha256:${crypto.createHash("sha256").update(tar).digest("hex")}`,
  };
}

/** Pushes a small image (a config and one layer naming it) as `repo:tag`; returns its manifest digest. */
async function makeImage(registry: Registry, repo: string, tag: string): Promise<string> {
  const l = layer("es1-test-image", `${repo}:${tag}\n`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [l.diffId] },
      config: {},
    }),
  );
  const what = `making ${repo}:${tag}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: await pushBlob(registry, repo, config, what),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: await pushBlob(registry, repo, l.gz, what),
          size: l.gz.length,
        },
      ],
    }),
  );
  const res = await registry.request(
    repo,
    "pull,push",
    "PUT",
    `/v2/${repo}/manifests/${tag}`,
    {
      "content-type": "application/vnd.oci.image.manifest.v1+json",
    },
    manifest,
  );
  assert.strictEqual(res.status, 201, `${what}: HTTP ${res.status}`);
  return `sha256:${crypto.createHash("sha256").update(manifest).digest("hex")}`;
}

/** The digest a registry serves for `repo:reference` (HEAD), or undefined when it has none. */
async function headManifest(port: number, repo: string, reference: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/${repo}/manifests/${reference}`, {
    method: "HEAD",
    headers: {
      accept: [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
      ].join(", "),
    },
  });
  return res.status === 200 ? (res.headers.get("docker-content-digest") ?? undefined) : undefined;
}

/** `host:port/path:tag` → [path, tag] below a registry `host:port`. */
function repoAndTag(ref: string, host: string): [string, string] {
  const rest = ref.slice(host.length + 1).split("@")[0];
  const colon = rest.lastIndexOf(":");
  return colon > rest.lastIndexOf("/") ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, "latest"];
}

interface PodList {
  items: {
    metadata: { name: string };
    spec: {
      containers: { image: string }[];
      initContainers?: { image: string }[];
      imagePullSecrets?: { name: string }[];
      serviceAccountName?: string;
    };
  }[];
}

describe("air-gapped site: es1 airgap images, bundle, push, and a deploy from the site registry", function () {
  let work: string;
  let pub: Awaited<ReturnType<typeof startRegistry>>;
  let site: Awaited<ReturnType<typeof startRegistry>>;
  let e: E2eStack | undefined;
  let stack: Stack | undefined;
  let siteBase: string;
  let listed: Reported;
  const publicDigests = new Map<string, string>();
  const bundleFile = () => path.join(work, "site-bundle.tar");

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "es1-airgap-e2e-"));
    pub = await startRegistry();
    site = await startRegistry();
    siteBase = `127.0.0.1:${site.port}/es1`;
    e = await openE2eStack(STACK, {
      ...componentsOnly(["redis", "ollama"]),
      // Path syntax: a list element (a JSON string here would be stored as one string).
      "es1:components.ollama.models[0]": MODEL,
      "es1:airgap.registry": siteBase,
      "es1:airgap.registryAuth.username": "robot",
    });
    stack = e.stack;
    // A credential: encrypted in the stack's config, as the program insists.
    await stack.setConfig(
      "es1:airgap.registryAuth.password",
      { value: "site-registry-token", secret: true },
      true,
    );
  });

  after(async function () {
    await discardStack(STACK, stack, e?.backend);
    pub?.proc.kill();
    site?.proc.kill();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("lists every image the stack runs, with its place in the site registry, and the Ollama model", async function () {
    listed = runEs1Json<Reported>(work, e?.env ?? {}, 0, "airgap", "images", "--stack", STACK);
    const names = listed.images.map((i) => i.image);
    assert.ok(
      names.some((n) => /^docker\.io\/valkey\/valkey:/.test(n)),
      names.join("\n"),
    );
    assert.ok(
      names.some((n) => /^docker\.io\/ollama\/ollama:/.test(n)),
      names.join("\n"),
    );
    for (const i of listed.images)
      assert.ok(i.mirror?.startsWith(`${siteBase}/`), `${i.image} → ${i.mirror}`);
    assert.deepStrictEqual(listed.models, [MODEL]);

    // The "public" side: each image under its real name, below a directory per upstream host.
    const registry = new Registry(`127.0.0.1:${pub.port}`, new Http({}), true);
    for (const i of listed.images)
      publicDigests.set(i.image, await makeImage(registry, `${i.host}/${i.path}`, i.tag ?? "latest"));
    publicDigests.set(MODEL, await makeImage(registry, "registry.ollama.ai/library/smollm", "135m"));
  });

  it("bundles charts, images and the model with their digests, sizes and checksums", async function () {
    const hosts = [...new Set([...listed.images.map((i) => i.host), "registry.ollama.ai"])];
    const overrides = hosts.flatMap((h) => ["--override-registry", `${h}=127.0.0.1:${pub.port}/${h}`]);
    const t0 = Date.now();
    const r = runEs1Json<{ manifest: BundleManifest; sha256: string; size: number }>(
      work,
      e?.env ?? {},
      0,
      "airgap",
      "bundle",
      "--stack",
      STACK,
      "--out",
      bundleFile(),
      ...overrides,
    );
    console.log(`      bundle: ${r.size} bytes in ${Date.now() - t0} ms`);
    const m = r.manifest;
    assert.deepStrictEqual(
      m.images.map((i) => [i.name, i.digest]).sort(),
      listed.images.map((i) => [i.image, publicDigests.get(i.image)]).sort(),
    );
    assert.deepStrictEqual(
      m.models.map((x) => [x.name, x.target, x.digest]),
      [[MODEL, "library/smollm:135m", publicDigests.get(MODEL)]],
    );
    assert.deepStrictEqual(
      m.charts.map((c) => `${c.chart}-${c.version}`).sort(),
      catalogCharts()
        .map((c) => `${c.chart}-${c.version}`)
        .sort(),
    );
    const check = spawnSync("sha256sum", ["-c", `${path.basename(bundleFile())}.sha256`], {
      cwd: work,
      encoding: "utf8",
    });
    assert.strictEqual(check.status, 0, check.stderr);
  });

  it("pushes the bundle into the empty site registry keeping every digest, and again changes nothing", async function () {
    const push = () =>
      runEs1Json<PushBundleResult>(
        work,
        {},
        0,
        "airgap",
        "push",
        "--bundle",
        bundleFile(),
        "--registry",
        siteBase,
      );
    const r = push();
    assert.deepStrictEqual(r.settings, {
      "es1:airgap.registry": siteBase,
      "es1:airgap.charts": `oci://${siteBase}/charts`,
    });
    for (const i of listed.images) {
      const [repo, tag] = repoAndTag(i.mirror ?? "", `127.0.0.1:${site.port}`);
      assert.strictEqual(await headManifest(site.port, repo, tag), publicDigests.get(i.image), i.mirror);
    }
    assert.strictEqual(await headManifest(site.port, "es1/library/smollm", "135m"), publicDigests.get(MODEL));
    const again = push();
    assert.ok(
      again.artifacts.every((a) => a.present),
      "a second push finds everything in place",
    );
  });

  it("deploys from the site registry: every pod's image is there, every namespace has the pull Secret", async function () {
    assert.ok(stack && e);
    await stack.setConfig("es1:airgap.charts", { value: `oci://${siteBase}/charts` }, true);
    const seen = site.log.length;
    const up = await stack.up();
    assert.strictEqual(up.summary.result, "succeeded");
    assert.match(
      site.log.slice(seen).join("\n"),
      /GET \/v2\/es1\/charts\/valkey\/manifests\//,
      "charts came from the site registry",
    );

    const pods = JSON.parse(kubectl(e.kubeconfig, "get", "pods", "-n", NS, "-o", "json")) as PodList;
    assert.ok(pods.items.length > 0);
    const mirrors = new Set(listed.images.map((i) => i.mirror));
    for (const pod of pods.items) {
      for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
        assert.ok(
          c.image.startsWith(`${siteBase}/`),
          `${pod.metadata.name}: ${c.image} is outside the site registry`,
        );
        assert.ok(mirrors.has(c.image), `${pod.metadata.name}: ${c.image} is missing from es1 airgap images`);
        const [repo, tag] = repoAndTag(c.image, `127.0.0.1:${site.port}`);
        assert.ok(
          await headManifest(site.port, repo, tag),
          `${pod.metadata.name}: ${c.image} is not in the site registry`,
        );
      }
      assert.ok(
        (pod.spec.imagePullSecrets ?? []).some((s) => s.name === REGISTRY_PULL_SECRET),
        `${pod.metadata.name} does not name ${REGISTRY_PULL_SECRET}`,
      );
    }
    const secret = JSON.parse(
      kubectl(e.kubeconfig, "get", "secret", REGISTRY_PULL_SECRET, "-n", NS, "-o", "json"),
    ) as {
      type: string;
      data: Record<string, string>;
    };
    assert.strictEqual(secret.type, "kubernetes.io/dockerconfigjson");
    const auths = (
      JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString()) as {
        auths: Record<string, unknown>;
      }
    ).auths;
    assert.deepStrictEqual(Object.keys(auths), [`127.0.0.1:${site.port}`]);

    // No NetworkPolicy the stack made lets a workload reach outside the cluster.
    const policies = JSON.parse(kubectl(e.kubeconfig, "get", "networkpolicies", "-n", NS, "-o", "json")) as {
      items: { metadata: { name: string }; spec: { egress?: { to?: { ipBlock?: unknown }[] }[] } }[];
    };
    for (const p of policies.items)
      for (const rule of p.spec.egress ?? []) {
        assert.ok((rule.to ?? []).length > 0, `${p.metadata.name}: an egress rule open to every destination`);
        assert.ok(
          (rule.to ?? []).every((peer) => peer.ipBlock === undefined),
          `${p.metadata.name}: egress to an IP block`,
        );
      }
    // And the reachability analysis (netpol-analyzer, as test/e2e/isolation.test.ts runs it): no
    // workload of the stack may open a connection to any address outside the pods.
    const dir = fs.mkdtempSync(path.join(work, "netpol-"));
    writeClusterObjects(e.kubeconfig, dir);
    const outward = allowedConnections(netpolicyBinary(), dir).filter(
      (c) => parseEndpoint(c.src).namespace === NS && parseEndpoint(c.dst).range !== undefined,
    );
    assert.deepStrictEqual(
      outward.map((c) => `${c.src} => ${c.dst} (${c.conn})`),
      [],
      "connections to outside the cluster",
    );
    const second = await stack.preview({ diff: false });
    assert.deepStrictEqual(
      Object.entries(second.changeSummary).filter(([op, n]) => op !== "same" && n > 0),
      [],
      "a second run changes nothing",
    );
  });
});
