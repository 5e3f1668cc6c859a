// es1 preflight: what a stack needs (from Settings) and each check's verdict on fixture cluster
// data shaped as the API server returns it (the local kwok cluster's nodes and classes).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NODE_POOLS } from "../../clusters/types";
import { parseSettings, Settings } from "../../config";
import { CATALOG } from "../../infrastructure/catalog";
import { PROJECT_ROOT } from "../../lib/paths";
import {
  checkAccess,
  checkGpu,
  checkGatewayClass,
  checkIngressClass,
  checkKubernetesVersion,
  checkOperator,
  checkPodSecurity,
  checkPool,
  checkStorageClass,
  ClusterFacts,
  evaluate,
  failureMessages,
  formatPreflight,
  NodeFacts,
  PreflightReport,
  verdict,
} from "../../automation/preflight";
import {
  OPERATOR_CRDS,
  PoolNeed,
  preflightNeeds,
  SUPPORTED_KUBERNETES,
} from "../../automation/preflight-needs";
import { configSource } from "../../automation/preflight-run";
import { SHARED_CHARTS } from "../../automation/chart-source";

function settings(values: Record<string, unknown>): Settings {
  // Ingresses unless a test says otherwise (the GatewayClass checks set es1:access).
  if (!("access" in values)) values = { ...values, access: { mode: "ingress" } };
  return parseSettings(
    { keys: () => Object.keys(values), get: (k) => values[k], isSecret: () => false },
    { project: "es1-platform", stack: "test", cwd: PROJECT_ROOT },
  );
}

/** A node of the local kwok cluster (scripts/cluster.sh): 16 CPU, 64Gi, the pool's placement. */
function node(name: string, pool: keyof typeof NODE_POOLS, extra: Partial<NodeFacts> = {}): NodeFacts {
  return {
    name,
    labels: { ...NODE_POOLS[pool].labels, "kubernetes.io/hostname": name },
    taints: NODE_POOLS[pool].taints.map((t) => ({ ...t })),
    unschedulable: false,
    allocatable: {
      cpu: "16",
      memory: "64Gi",
      pods: "110",
      ...(pool === "aiml" ? { "nvidia.com/gpu": "1" } : {}),
    },
    ...extra,
  };
}

function kwok(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    version: { gitVersion: "v1.36.4", major: "1", minor: "36" },
    nodes: [
      node("es1-system-0", "system"),
      node("es1-infrastructure-0", "infrastructure"),
      node("es1-platform-0", "platform"),
      node("es1-platform-1", "platform"),
      node("es1-aiml-0", "aiml"),
    ],
    storageClasses: [
      {
        name: "standard",
        provisioner: "es1.local/kwok-volumes",
        allowVolumeExpansion: true,
        isDefault: true,
      },
    ],
    ingressClasses: ["nginx"],
    crds: [],
    podSecurity: { enforced: true, detail: "on" },
    access: [],
    ...overrides,
  };
}

const NS = "es1-infrastructure";

function pool(needs: { pools: PoolNeed[] }, name: string): PoolNeed {
  const p = needs.pools.find((x) => x.pool === name);
  assert.ok(p, `expected pool ${name} among ${needs.pools.map((x) => x.pool).join(", ")}`);
  return p;
}

describe("preflight: what a stack needs", () => {
  it("the local stack (minimal, every component, no customer): the infrastructure pool with the sizing's requests", () => {
    const needs = preflightNeeds(settings({ sizing: "minimal" }));
    assert.deepStrictEqual(
      needs.pools.map((p) => p.pool),
      ["infrastructure"],
    );
    const infra = pool(needs, "infrastructure");
    // minimal: 0.1+0.05+0.1+0.1+0.25+0.05+0.05+0.1+0.1 cores; 256+64+512+512+1024+256+256+512+512 Mi.
    assert.ok(Math.abs(infra.total.cpu - 0.9) < 1e-9, String(infra.total.cpu));
    assert.strictEqual(infra.total.memory, 3904 * 2 ** 20);
    assert.deepStrictEqual([infra.largestPod.what, infra.largestPod.memory], ["ollama", 2 ** 30]);
    assert.deepStrictEqual(needs.storageClass, { name: "standard", volumes: true });
    assert.strictEqual(needs.ingressClass, undefined);
    assert.deepStrictEqual(
      needs.operators.map((o) => [o.release, o.mode]),
      [
        ["es1-postgresql-operator", "install"],
        ["es1-monitoring-crds", "install"],
        ["es1-cert-manager", "install"],
        ["es1-clickhouse-operator", "install"],
      ],
    );
    assert.deepStrictEqual(needs.namespaces, ["es1-infrastructure", "es1-node-exporter"]);
    assert.deepStrictEqual(needs.kubernetes, SUPPORTED_KUBERNETES);
  });

  it("replicas multiply the requests; a switched-off component needs nothing", () => {
    const needs = preflightNeeds(
      settings({
        sizing: "minimal",
        components: { postgresql: { replicas: 3 }, ollama: { enabled: false } },
      }),
    );
    const infra = pool(needs, "infrastructure");
    assert.ok(infra.workloads.includes("postgresql ×3"), infra.workloads.join(", "));
    assert.ok(!infra.workloads.includes("ollama"));
    assert.ok(Math.abs(infra.total.cpu - (0.9 - 0.25 + 0.2)) < 1e-9, String(infra.total.cpu));
  });

  it("customers need the platform pool (services × replicas with the license sidecar) and, with domains, the IngressClass", () => {
    // beam: production sizing, every agent, domains; nordlys: router only, no domains.
    const needs = preflightNeeds(settings({ sizing: "minimal", customers: ["beam", "nordlys"] }));
    const platform = pool(needs, "platform");
    // beam: sizing default, 2 replicas of 6 services; each pod 100m/256Mi plus the sidecar's 10m/32Mi.
    // With MLflow on, each customer's own MLflow too (beam's: 100m/512Mi, the largest pod's memory).
    assert.deepStrictEqual(platform.workloads, [
      "customer beam ×12",
      "customer beam MLflow",
      "customer nordlys ×4",
      "customer nordlys MLflow",
    ]);
    assert.deepStrictEqual(platform.largestPod, {
      cpu: 0.1,
      memory: 512 * 2 ** 20,
      what: "customer beam MLflow",
    });
    assert.deepStrictEqual(needs.ingressClass, { name: "nginx", customers: ["beam"] });
    assert.deepStrictEqual(needs.namespaces, [
      "es1-infrastructure",
      "es1-node-exporter",
      "beam-platform",
      "nordlys-platform",
    ]);
    assert.ok(needs.access.some((a) => a.namespace === "beam-platform" && a.resource === "resourcequotas"));
  });

  it("Ollama on the GPU pool needs the aiml pool and one GPU", () => {
    const needs = preflightNeeds(settings({ sizing: "minimal", components: { ollama: { gpu: true } } }));
    const aiml = pool(needs, "aiml");
    assert.deepStrictEqual([aiml.gpus, aiml.workloads], [1, ["ollama"]]);
    assert.ok(!pool(needs, "infrastructure").workloads.includes("ollama"));
  });

  it("installOperators false: cert-manager and ClickHouse must be present in the cluster", () => {
    const needs = preflightNeeds(settings({ components: { langfuse: { installOperators: false } } }));
    const present = needs.operators.filter((o) => o.mode === "present");
    assert.deepStrictEqual(
      present.map((o) => [o.release, o.setting]),
      [
        ["es1-cert-manager", "es1:components.langfuse.installOperators"],
        ["es1-clickhouse-operator", "es1:components.langfuse.installOperators"],
      ],
    );
  });
});

describe("preflight: the checks", () => {
  const local = preflightNeeds(settings({ sizing: "minimal", customers: ["beam"] }));

  it("the normal local cluster passes every check", () => {
    const checks = evaluate(kwok(), local, NS);
    assert.deepStrictEqual(
      checks.filter((c) => c.status !== "pass").map((c) => `${c.id}: ${c.status}`),
      [],
    );
    assert.deepStrictEqual(verdict(checks), { status: "passed", exitCode: 0 });
  });

  it("a node's pool label removed: the pool fails, naming the pool and the label", () => {
    const facts = kwok();
    delete facts.nodes[1].labels["es1-pool"];
    const checks = evaluate(facts, local, NS);
    const failed = checks.filter((c) => c.status === "fail");
    assert.deepStrictEqual(
      failed.map((c) => c.id),
      ["pool/infrastructure"],
    );
    assert.match(failed[0].found, /no node carries label es1-pool=infrastructure/);
    assert.match(failed[0].fix ?? "", /kubectl label node <node> es1-pool=infrastructure/);
    assert.match(failed[0].fix ?? "", /kubectl taint node <node> es1-pool=infrastructure:NoSchedule/);
    assert.deepStrictEqual(verdict(checks), { status: "failed", exitCode: 2 });
    assert.match(
      failureMessages({ checks, errors: [] } as unknown as PreflightReport)[0],
      /^preflight pool\/infrastructure: .*es1-pool=infrastructure/,
    );
  });

  it("a GPU node missing only its second label is named with what it lacks", () => {
    const facts = kwok();
    delete facts.nodes[4].labels["nvidia.com/gpu.present"];
    const aiml = pool(preflightNeeds(settings({ components: { ollama: { gpu: true } } })), "aiml");
    const c = checkPool(facts, aiml);
    assert.strictEqual(c.status, "fail");
    assert.match(c.found, /es1-aiml-0 lacks nvidia\.com\/gpu\.present=true/);
  });

  it("cordoned nodes, or taints the workloads do not tolerate, leave the pool unusable", () => {
    const infra = pool(local, "infrastructure");
    const cordoned = kwok();
    cordoned.nodes[1].unschedulable = true;
    assert.match(checkPool(cordoned, infra).found, /es1-infrastructure-0 is cordoned/);
    const tainted = kwok();
    tainted.nodes[1].taints.push({ key: "dedicated", value: "gpu", effect: "NoSchedule" });
    const c = checkPool(tainted, infra);
    assert.strictEqual(c.status, "fail");
    assert.match(c.found, /do not tolerate: dedicated=gpu:NoSchedule/);
    // PreferNoSchedule only prefers: the node is still usable.
    const soft = kwok();
    soft.nodes[1].taints.push({ key: "x", effect: "PreferNoSchedule" });
    assert.strictEqual(checkPool(soft, infra).status, "pass");
  });

  it("too little allocatable CPU or memory in the pool fails with how much is short", () => {
    const facts = kwok();
    facts.nodes[1].allocatable = { cpu: "500m", memory: "2Gi" };
    const c = checkPool(facts, pool(local, "infrastructure"));
    assert.strictEqual(c.status, "fail");
    assert.match(c.fix ?? "", /400m CPU and 1\.8Gi memory short/);
  });

  it("a pod larger than any node fails even when the pool's total suffices", () => {
    const facts = kwok();
    facts.nodes[1].allocatable = { cpu: "4", memory: "900Mi" };
    facts.nodes.push(
      node("es1-infrastructure-1", "infrastructure", { allocatable: { cpu: "4", memory: "900Mi" } }),
    );
    facts.nodes.push(
      node("es1-infrastructure-2", "infrastructure", { allocatable: { cpu: "4", memory: "900Mi" } }),
    );
    facts.nodes.push(
      node("es1-infrastructure-3", "infrastructure", { allocatable: { cpu: "4", memory: "900Mi" } }),
    );
    facts.nodes.push(
      node("es1-infrastructure-4", "infrastructure", { allocatable: { cpu: "4", memory: "900Mi" } }),
    );
    const c = checkPool(facts, pool(local, "infrastructure"));
    assert.strictEqual(c.status, "fail");
    assert.match(c.fix ?? "", /^ollama requests 250m CPU, 1Gi memory per pod/);
  });

  it("a pool node without the pool's taint is a warning (other workloads may land there)", () => {
    const facts = kwok();
    facts.nodes[1].taints = [];
    const c = checkPool(facts, pool(local, "infrastructure"));
    assert.strictEqual(c.status, "warn");
    assert.match(c.fix ?? "", /kubectl taint node <node> es1-pool=infrastructure:NoSchedule/);
  });

  it("GPUs: the aiml pool must advertise nvidia.com/gpu", () => {
    const aiml = pool(preflightNeeds(settings({ components: { ollama: { gpu: true } } })), "aiml");
    assert.strictEqual(checkGpu(kwok(), aiml).status, "pass");
    const facts = kwok();
    delete facts.nodes[4].allocatable["nvidia.com/gpu"];
    const c = checkGpu(facts, aiml);
    assert.strictEqual(c.status, "fail");
    assert.match(c.fix ?? "", /NVIDIA device plugin/);
  });

  it("StorageClass: missing fails and lists the cluster's classes; no volume expansion warns", () => {
    const missing = checkStorageClass(kwok({ storageClasses: [] }), local);
    assert.strictEqual(missing.status, "fail");
    assert.match(missing.found, /no StorageClass 'standard'; the cluster has: none/);
    assert.match(missing.fix ?? "", /es1:cluster\.storageClass/);
    const fixed = checkStorageClass(
      kwok({
        storageClasses: [
          { name: "standard", provisioner: "p", allowVolumeExpansion: false, isDefault: false },
        ],
      }),
      local,
    );
    assert.strictEqual(fixed.status, "warn");
    assert.match(fixed.fix ?? "", /allowVolumeExpansion: true/);
  });

  it("GatewayClass: needed in gateway mode; present on the cluster, or created by the program", () => {
    const gateway = (access: Record<string, unknown>) =>
      preflightNeeds(
        settings({
          customers: { beam: {} },
          access: { baseDomain: "es1.example.com", tls: { issuer: "ca", caSecret: "ca" }, ...access },
        }),
      );
    const named = gateway({ gatewayClass: "istio", from: [{ cidr: "10.0.0.0/8" }] });
    assert.strictEqual(named.ingressClass, undefined, "no Ingress in gateway mode");
    assert.deepStrictEqual(named.gatewayClass?.routes.slice(0, 2), ["beam", "grafana"]);
    const none = checkGatewayClass(kwok(), named);
    assert.strictEqual(none.status, "fail");
    assert.match(none.found, /no Gateway API on the cluster/);
    const other = checkGatewayClass(kwok({ gatewayClasses: ["eg"] }), named);
    assert.match(other.found, /no GatewayClass 'istio'; the cluster has: eg/);
    assert.strictEqual(checkGatewayClass(kwok({ gatewayClasses: ["istio"] }), named).status, "pass");
    const envoy = checkGatewayClass(kwok(), gateway({ installEnvoyGateway: true }));
    assert.strictEqual(envoy.status, "pass");
    assert.match(envoy.found, /created by the program, with the Gateway API CRDs/);
    assert.strictEqual(checkGatewayClass(kwok(), preflightNeeds(settings({}))).status, "skip");
  });

  it("IngressClass: needed only when a customer has domains", () => {
    assert.strictEqual(
      checkIngressClass(kwok({ ingressClasses: [] }), preflightNeeds(settings({}))).status,
      "skip",
    );
    const c = checkIngressClass(kwok({ ingressClasses: ["traefik"] }), local);
    assert.strictEqual(c.status, "fail");
    assert.match(c.found, /no IngressClass 'nginx'; the cluster has: traefik/);
    assert.match(c.needed, /Ingresses of beam/);
  });

  it("operator CRDs owned by another release fail with the setting that skips them and how to adopt them", () => {
    const certManager = local.operators.find((o) => o.release === "es1-cert-manager");
    assert.ok(certManager);
    const foreign = kwok({
      crds: [
        {
          name: "certificates.cert-manager.io",
          labels: { "app.kubernetes.io/managed-by": "Helm" },
          annotations: {
            "meta.helm.sh/release-name": "cert-manager",
            "meta.helm.sh/release-namespace": "cert-manager",
          },
        },
      ],
    });
    const c = checkOperator(foreign, certManager, NS);
    assert.deepStrictEqual([c.id, c.status], ["crds/cert-manager", "fail"]);
    assert.match(c.found, /certificates\.cert-manager\.io \(Helm release cert-manager\/cert-manager\)/);
    assert.match(c.fix ?? "", /set es1:components\.langfuse\.installOperators to false/);
    assert.match(c.fix ?? "", /meta\.helm\.sh\/release-name=es1-cert-manager/);
    const own = kwok({
      crds: [
        {
          name: "certificates.cert-manager.io",
          labels: {},
          annotations: {
            "meta.helm.sh/release-name": "es1-cert-manager",
            "meta.helm.sh/release-namespace": NS,
          },
        },
      ],
    });
    assert.strictEqual(checkOperator(own, certManager, NS).status, "pass");
    const monitoring = local.operators.find((o) => o.release === "es1-monitoring-crds");
    assert.ok(monitoring);
    const kubectlMade = checkOperator(
      kwok({ crds: [{ name: "servicemonitors.monitoring.coreos.com", labels: {}, annotations: {} }] }),
      monitoring,
      NS,
    );
    assert.match(kubectlMade.found, /no Helm release/);
    assert.match(kubectlMade.fix ?? "", /es1:components\.monitoring\.enabled to false/);
  });

  it("operators the stack does not install must be in the cluster", () => {
    const needs = preflightNeeds(settings({ components: { langfuse: { installOperators: false } } }));
    const clickhouse = needs.operators.find((o) => o.release === "es1-clickhouse-operator");
    assert.ok(clickhouse);
    const c = checkOperator(kwok(), clickhouse, NS);
    assert.strictEqual(c.status, "fail");
    assert.match(c.fix ?? "", /set es1:components\.langfuse\.installOperators to true/);
    const crds = OPERATOR_CRDS["clickhouse-operator"].map((name) => ({ name, labels: {}, annotations: {} }));
    assert.strictEqual(checkOperator(kwok({ crds }), clickhouse, NS).status, "pass");
  });

  it("Kubernetes version: below the range fails, above it warns, GKE's '30+' minor parses", () => {
    const v = (minor: string) =>
      checkKubernetesVersion(kwok({ version: { gitVersion: `v1.${minor}`, major: "1", minor } }), local)
        .status;
    assert.deepStrictEqual(
      [v("28"), v("29"), v("33+"), v("36"), v("40")],
      ["fail", "pass", "pass", "pass", "warn"],
    );
  });

  it("Pod Security: off fails, unprobeable warns", () => {
    assert.strictEqual(
      checkPodSecurity(kwok({ podSecurity: { enforced: false, detail: "accepted" } }), local).status,
      "fail",
    );
    assert.strictEqual(checkPodSecurity(kwok({ podSecurity: { error: "HTTP 403" } }), local).status, "warn");
  });

  it("API rights: every denied right is named with kubectl auth can-i", () => {
    const facts = kwok({
      access: local.access.map((need) => ({ need, allowed: need.resource !== "customresourcedefinitions" })),
    });
    const c = checkAccess(facts);
    assert.strictEqual(c.status, "fail");
    assert.match(c.found, /create customresourcedefinitions\.apiextensions\.k8s\.io/);
    assert.match(c.fix ?? "", /kubectl auth can-i create customresourcedefinitions\.apiextensions\.k8s\.io/);
  });

  it("the human report says found, needed and fix for each failure", () => {
    const checks = evaluate(kwok({ storageClasses: [] }), local, NS);
    const text = formatPreflight({
      operation: "preflight",
      stack: "local",
      ...verdict(checks),
      durationSeconds: 1,
      checks,
      errors: [],
    });
    assert.match(text, /^es1 preflight local: failed \(exit 2\)/);
    assert.match(text, /FAIL {2}StorageClass 'standard': no StorageClass/);
    assert.match(text, /needed: StorageClass standard/);
    assert.match(text, /fix: set es1:cluster\.storageClass/);
  });
});

describe("preflight: stack config as the program reads it", () => {
  it("takes structured values from objectValue or JSON text, and knows which keys are secret", () => {
    const src = configSource({
      "es1:cluster": { value: '{"provider":"existing"}', objectValue: { provider: "existing", name: "x" } },
      "es1:sizing": { value: "minimal" },
      "es1:customers": { value: '["beam"]' },
      "es1:kubeconfig": { value: "apiVersion: v1", secret: true },
      "other:key": { value: "v" },
    });
    assert.deepStrictEqual(src.keys().sort(), ["cluster", "customers", "kubeconfig", "sizing"]);
    assert.deepStrictEqual(src.get("cluster"), { provider: "existing", name: "x" });
    assert.deepStrictEqual(src.get("customers"), ["beam"]);
    assert.strictEqual(src.get("sizing"), "minimal");
    assert.deepStrictEqual([src.isSecret("kubeconfig"), src.isSecret("sizing")], [true, false]);
  });
});

describe("preflight: facts kept true to the charts", () => {
  const archives = fs.existsSync(SHARED_CHARTS) ? SHARED_CHARTS : undefined;

  /** The template files of an unpacked chart archive, without the cert-manager sub-chart ES1 switches off. */
  function templatesOf(archive: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-preflight-chart-"));
    spawnSync("tar", ["-xzf", archive, "-C", dir]);
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\/templates\/.*\.yaml$/.test(p) && !/\/charts\/cert-manager\//.test(p))
          out.push(fs.readFileSync(p, "utf8"));
      }
    };
    walk(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
  }

  for (const key of Object.keys(OPERATOR_CRDS) as (keyof typeof OPERATOR_CRDS)[]) {
    it(`${key}: OPERATOR_CRDS lists exactly the CRDs its pinned chart templates`, function () {
      if (!archives) this.skip();
      const chart = CATALOG[key].chart;
      const names = new Set<string>();
      for (const text of templatesOf(path.join(archives, `${chart.chart}-${chart.version}.tgz`)))
        for (const doc of text.split(/^---/m))
          if (/^kind: CustomResourceDefinition/m.test(doc)) {
            const m = /^ {2}name: "?([a-z0-9.-]+)"?\s*$/m.exec(doc);
            if (m) names.add(m[1]);
          }
      assert.deepStrictEqual([...names].sort(), [...OPERATOR_CRDS[key]].sort());
    });
  }

  it("the supported minimum is the highest kubeVersion floor of the charts installed", function () {
    if (!archives) this.skip();
    const floors = fs
      .readdirSync(archives)
      .filter((f) => Object.values(CATALOG).some((e) => f === `${e.chart.chart}-${e.chart.version}.tgz`))
      .map(
        (f) =>
          spawnSync("tar", ["-xzOf", path.join(archives, f), "--wildcards", "*/Chart.yaml"], {
            encoding: "utf8",
          }).stdout,
      )
      .concat(fs.readFileSync(path.join(PROJECT_ROOT, "platform/chart/Chart.yaml"), "utf8"))
      .map((y) => /^kubeVersion: *['"]?(?:>=|\^)? *([0-9]+\.[0-9]+)/m.exec(y)?.[1])
      .filter((v): v is string => v !== undefined)
      .map((v) => v.split(".").map(Number) as [number, number]);
    const max = floors.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a));
    assert.strictEqual(max.join("."), SUPPORTED_KUBERNETES.min);
  });

  it("the newest tested version is the local test cluster's", () => {
    const env = fs.readFileSync(path.join(PROJECT_ROOT, "scripts/versions.env"), "utf8");
    const kube = /^KUBE_VERSION=([0-9]+\.[0-9]+)/m.exec(env)?.[1];
    assert.strictEqual(kube, SUPPORTED_KUBERNETES.newestTested);
  });
});
