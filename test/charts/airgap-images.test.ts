// `es1 airgap images`: the image list comes from the real upstream charts (../shared/upstream-charts)
// rendered by helm template with the values the program gives each Release under Pulumi mocks.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  imageList,
  imagesInManifests,
  ImageUse,
  parseImageRef,
  releaseImages,
  releaseLabel,
  renderRelease,
  templateArgs,
} from "../../automation/airgap-images";
import type { RenderedRelease } from "../../automation/render";
import { REGISTRY_PULL_SECRET as PULL_SECRET } from "../../config/airgap";
import { SIZING_PROFILES } from "../../config/settings";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { runProgram } from "../unit/harness";
import { testLicense } from "../unit/cluster-helpers";

const SHARED = path.resolve(PROJECT_ROOT, "..", "shared", "upstream-charts");
const RELEASE = "kubernetes:helm.sh/v3:Release";
// A test key on a test stack (es1:licenseTestKeys): the shipped ES1 key ids are refused for it.
const KEY = generateKeyPair("test-2026");
const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-airgap-")), "kubeconfig");
fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");

const license = (customer: string): string => testLicense(customer, KEY);

/** Every Release the program registers for this config, as `es1 render` sees them. */
async function releasesFor(extra: Record<string, string>): Promise<RenderedRelease[]> {
  const run = await runProgram(
    {
      "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
      "es1:airgap": JSON.stringify({ charts: SHARED, ...JSON.parse(extra["es1:airgap"] ?? "{}") }),
      "es1:licenseTestKeys": "true",
      "es1:licensePublicKeys": JSON.stringify({ [KEY.keyId]: KEY.publicKey }),
      "es1:customers": JSON.stringify({ beam: {} }),
      "es1:licenses": JSON.stringify({ beam: license("beam") }),
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "es1:airgap")),
    },
    { secretKeys: ["es1:licenses", "es1:airgap", "es1:backup"] },
  );
  return run.byType(RELEASE).map((r) => ({
    urn: r.name,
    name: String(r.inputs.name ?? r.name),
    namespace: r.inputs.namespace as string,
    chart: r.inputs.chart as string,
    version: r.inputs.version as string,
    operation: "create",
    values: (r.inputs.values ?? {}) as RenderedRelease["values"],
  }));
}

/** Each config's image list once: the tests compare several renders of the same stack. */
const rendered = new Map<string, Promise<ImageUse[]>>();
function imagesFor(extra: Record<string, string>, registry?: string): Promise<ImageUse[]> {
  const key = JSON.stringify([extra, registry]);
  let known = rendered.get(key);
  if (!known) {
    known = releasesFor(extra).then((releases) => releaseImages(releases, registry));
    rendered.set(key, known);
  }
  return known;
}

const has = (list: readonly ImageUse[], pattern: RegExp) => list.some((i) => pattern.test(i.image));

describe("es1 airgap images: image references", () => {
  it("parses references as a runtime resolves them", () => {
    assert.deepStrictEqual(parseImageRef("nginx"), {
      raw: "nginx",
      host: "docker.io",
      path: "nginx",
      tag: "latest",
      digest: undefined,
    });
    const d = `sha256:${"a".repeat(64)}`;
    assert.deepStrictEqual(parseImageRef(`registry.internal:5000/es1/app:1.2@${d}`), {
      raw: `registry.internal:5000/es1/app:1.2@${d}`,
      host: "registry.internal:5000",
      path: "es1/app",
      tag: "1.2",
      digest: d,
    });
    assert.strictEqual(parseImageRef("{{ .Values.image }}"), undefined);
    assert.strictEqual(parseImageRef(""), undefined);
  });

  it("finds images in containers, init containers, operator resources, flags and settings", () => {
    const docs = [
      {
        kind: "Deployment",
        spec: {
          template: {
            spec: {
              initContainers: [{ name: "i", image: "busybox:1.36" }],
              containers: [
                {
                  name: "c",
                  image: "quay.io/prometheus-operator/prometheus-operator:v0.80.0",
                  args: [
                    "--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.80.0",
                    "--log-level=info",
                  ],
                  env: [
                    { name: "OPERATOR_IMAGE_NAME", value: "ghcr.io/cloudnative-pg/cloudnative-pg:1.25.0" },
                  ],
                },
              ],
            },
          },
        },
      },
      { kind: "Cluster", spec: { imageName: "ghcr.io/cloudnative-pg/postgresql:16" } },
      {
        kind: "KeeperCluster",
        spec: {
          containerTemplate: { image: { repository: "docker.io/clickhouse/clickhouse-keeper", tag: "25.3" } },
        },
      },
      {
        kind: "ConfigMap",
        data: { POSTGRES_IMAGE_NAME: "ghcr.io/cloudnative-pg/postgresql:16", other: "x:y" },
      },
    ];
    assert.deepStrictEqual(imagesInManifests(docs), [
      "busybox:1.36",
      "docker.io/clickhouse/clickhouse-keeper:25.3",
      "ghcr.io/cloudnative-pg/cloudnative-pg:1.25.0",
      "ghcr.io/cloudnative-pg/postgresql:16",
      "quay.io/prometheus-operator/prometheus-config-reloader:v0.80.0",
      "quay.io/prometheus-operator/prometheus-operator:v0.80.0",
    ]);
  });

  it("merges releases' images and maps each into the site registry as the program rewrites it", () => {
    const list = imageList(
      [
        { release: "a", images: ["quay.io/x/y:1", "nginx"] },
        { release: "b", images: ["quay.io/x/y:1"] },
      ],
      "registry.internal:5000/es1",
    );
    assert.deepStrictEqual(
      list.map((i) => [i.image, i.releases, i.mirror]),
      [
        ["docker.io/nginx:latest", ["a"], "registry.internal:5000/es1/nginx:latest"],
        ["quay.io/x/y:1", ["a", "b"], "registry.internal:5000/es1/x/y:1"],
      ],
    );
  });

  it("renders a repository chart at its version and a loopback OCI chart over plain HTTP", () => {
    const base: RenderedRelease = {
      urn: "u",
      name: "es1-redis",
      namespace: "es1-infrastructure",
      chart: "valkey",
      version: "0.11.0",
      repository: "https://valkey.io/valkey-helm/",
      operation: "create",
      values: {},
    };
    // The program's own charts are relative to the project, wherever `es1` runs.
    assert.strictEqual(
      templateArgs({ ...base, chart: "./infrastructure/charts/es1-base" }, "/v")[2],
      path.join(PROJECT_ROOT, "infrastructure/charts/es1-base"),
    );
    const args = templateArgs(base, "/v.json");
    assert.deepStrictEqual(args.slice(0, 10), [
      "template",
      "es1-redis",
      "valkey",
      "--values",
      "/v.json",
      "--namespace",
      "es1-infrastructure",
      "--version",
      "0.11.0",
      "--repo",
    ]);
    assert.ok(
      templateArgs(
        { ...base, chart: "oci://127.0.0.1:5000/charts/valkey", repository: undefined },
        "/v",
      ).includes("--plain-http"),
    );
  });
});

describe("es1 airgap images: every image of every release, from the rendered charts", function () {
  this.timeout(600000);

  for (const sizing of SIZING_PROFILES) {
    it(`lists the images of every release at sizing ${sizing}, operators' images included`, async function () {
      const releases = await releasesFor({ "es1:sizing": sizing });
      const images = await imagesFor({ "es1:sizing": sizing }, "registry.internal:5000/es1");
      const names = new Set(releases.map(releaseLabel));
      // Every release that runs something (CRDs and the base objects run nothing).
      for (const r of names)
        if (!/\/es1-(monitoring-crds|base)$/.test(r))
          assert.ok(
            images.some((i) => i.releases.includes(r)),
            `${r}: no image`,
          );
      for (const i of images) assert.ok(i.tag || i.digest, `${i.image} has neither tag nor digest`);
      // Started by operators later, not by the charts' own pods.
      assert.ok(has(images, /^ghcr\.io\/cloudnative-pg\/postgresql:16$/), "CNPG's PostgreSQL image");
      assert.ok(has(images, /^docker\.io\/clickhouse\/clickhouse-server:/), "ClickHouse");
      assert.ok(has(images, /^docker\.io\/clickhouse\/clickhouse-keeper:/), "Keeper");
      assert.ok(has(images, /prometheus-config-reloader:/), "Prometheus' config reloader");
      assert.ok(has(images, /^quay\.io\/prometheus\/prometheus:/), "Prometheus");
      assert.ok(has(images, /^quay\.io\/jetstack\/cert-manager-acmesolver:/), "cert-manager's ACME solver");
      // Hook Jobs and init containers.
      assert.ok(has(images, /cert-manager-startupapicheck:/), "cert-manager's startupapicheck hook");
      // The platform's own images, per customer version.
      assert.ok(
        images.some((i) => i.releases.some((r) => r.startsWith("beam-"))),
        "the customer's platform images",
      );
    });
  }

  it("with es1:airgap.registry set, every image of every release is in the registry, exactly where the list maps it, and every pod names the pull Secret", async function () {
    const registry = "registry.internal:5000/es1";
    // The optional releases too: the Barman Cloud plugin (es1:backup), the Gateway API CRDs and
    // Envoy Gateway (es1:access on an existing cluster).
    const optional = {
      "es1:sizing": "minimal",
      "es1:backup": JSON.stringify({
        objectStore: {
          endpoint: "https://s3.site.example:9000",
          bucket: "es1-backups",
          accessKeyId: "backup-key-id",
          secretAccessKey: "backup-secret-key",
        },
      }),
      "es1:access": JSON.stringify({
        installEnvoyGateway: true,
        baseDomain: "es1.example.com",
        tls: { issuer: "acme", acmeEmail: "ops@example.com" },
      }),
    };
    const upstream = await imagesFor(optional, registry);
    const airgap = { registry, registryAuth: { username: "robot", password: "token-value" } };
    const releases = await releasesFor({
      ...optional,
      "es1:airgap": JSON.stringify(airgap),
      "es1:components": JSON.stringify({ ollama: { models: ["llama3.2:1b", "acme/tuned:2"] } }),
    });
    for (const name of ["es1-postgresql-backup", "es1-envoy-gateway"])
      assert.ok(
        releases.some((r) => r.name === name),
        `${name} is rendered`,
      );
    const docsOf = new Map<RenderedRelease, unknown[]>();
    for (const r of releases) docsOf.set(r, await renderRelease(r));
    const mirrored = imageList(
      releases.map((r) => ({ release: releaseLabel(r), images: imagesInManifests(docsOf.get(r) ?? []) })),
    );
    const outside = mirrored.filter((i) => !i.image.startsWith(`${registry}/`));
    assert.deepStrictEqual(
      outside.map((i) => `${i.image} (${i.releases.join(", ")})`),
      [],
      "images outside the site registry",
    );
    assert.deepStrictEqual(
      mirrored.map((i) => i.image).sort(),
      [...new Set(upstream.map((i) => i.mirror ?? ""))].sort(),
    );
    // Ollama pulls its models from the site registry, where `es1 airgap push` put them.
    const ollama = releases.find((r) => r.name === "es1-ollama");
    const script = JSON.stringify(docsOf.get(ollama as RenderedRelease));
    const pulls = [...script.matchAll(/ollama pull +(\S+?)(?:\\n|\s)/g)].map((m) => m[1]);
    assert.deepStrictEqual(pulls, [`${registry}/library/llama3.2:1b`, `${registry}/acme/tuned:2`]);
    // es1:airgap.registryAuth: every pod a chart runs, and every operator resource whose pods an
    // operator starts, names the Secret the program writes; docs/airgap.md lists the exceptions.
    const missing: string[] = [];
    for (const r of releases) {
      const docs = docsOf.get(r) ?? [];
      // A pod may take its pull secrets from its ServiceAccount (cert-manager does so).
      const accounts = new Set(
        docs
          .map(
            (d) =>
              d as { kind?: string; metadata?: { name?: string }; imagePullSecrets?: { name?: string }[] },
          )
          .filter(
            (d) =>
              d.kind === "ServiceAccount" && (d.imagePullSecrets ?? []).some((x) => x.name === PULL_SECRET),
          )
          .map((d) => d.metadata?.name ?? ""),
      );
      for (const doc of docs)
        missing.push(...withoutPullSecret(doc, PULL_SECRET, accounts).map((p) => `${releaseLabel(r)} ${p}`));
    }
    assert.deepStrictEqual(missing.sort(), [
      "es1-infrastructure/es1-langfuse ClickHouseCluster/es1-langfuse",
      "es1-infrastructure/es1-langfuse KeeperCluster/es1-langfuse",
    ]);
  });
});

/** Kinds whose pods an operator starts, with their pull secrets in `spec.imagePullSecrets` (or none to set). */
const OPERATOR_KINDS = new Set([
  "Cluster",
  "Prometheus",
  "Alertmanager",
  "ThanosRuler",
  "ClickHouseCluster",
  "KeeperCluster",
]);

/** Places in one manifest that run containers without naming `secret` among their pull secrets. */
function withoutPullSecret(doc: unknown, secret: string, accounts: ReadonlySet<string>): string[] {
  const d = doc as {
    kind?: string;
    metadata?: { name?: string; annotations?: Record<string, string> };
    spec?: Record<string, unknown>;
  };
  if (d?.metadata?.annotations?.["helm.sh/hook"]?.startsWith("test")) return [];
  const names = (v: unknown) => (Array.isArray(v) ? v.map((x) => (x as { name?: string }).name) : []);
  const out: string[] = [];
  const where = `${d?.kind}/${d?.metadata?.name}`;
  if (d?.kind && OPERATOR_KINDS.has(d.kind)) {
    if (!names(d.spec?.imagePullSecrets).includes(secret)) out.push(where);
    return out;
  }
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, at));
    if (typeof v !== "object" || v === null) return;
    const o = v as Record<string, unknown>;
    const account = typeof o.serviceAccountName === "string" ? o.serviceAccountName : "default";
    if (Array.isArray(o.containers) && !names(o.imagePullSecrets).includes(secret) && !accounts.has(account))
      out.push(at);
    for (const x of Object.values(o)) walk(x, at);
  };
  walk(d?.spec, where);
  return out;
}
