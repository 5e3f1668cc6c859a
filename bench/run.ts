// `npm run bench`: how install and update time grow with customers, on the local simulated
// cluster with the real engine, against a sequential `helm upgrade --install --wait` loop of the
// same charts and values. Writes bench/results/results.{json,md}; docs/performance.md explains.
//
//   BENCH_SIZES=1,5,20  customers per installation      BENCH_RUNS=3  runs per figure
//   BENCH_EVAL=100      customers for the mocks-only evaluation
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { OpMap, Stack } from "@pulumi/pulumi/automation";
import { renderStack } from "../automation/render";
import { installOrder } from "../infrastructure";
import { RELEASES, releaseName } from "../infrastructure/catalog";
import { NODE_EXPORTER_NAMESPACE } from "../infrastructure/layout";
import { chartSource } from "../automation/chart-source";
import { openStack } from "../automation/workspace";
import { PROJECT_ROOT } from "../lib/paths";
import { draftLicense, generateKeyPair, issueLicense } from "../platform/license";
import { benchCustomers, removeBenchCustomers } from "./customers";

const SIZES = (process.env.BENCH_SIZES ?? "1,5,20").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? "3");
const EVAL_CUSTOMERS = Number(process.env.BENCH_EVAL ?? "100");
const CLUSTER = "es1-bench";
const OUT = path.join(PROJECT_ROOT, "bench", "results");
const KEY = generateKeyPair("bench");

function log(s: string): void {
  process.stderr.write(`[bench] ${s}\n`);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, cwd: PROJECT_ROOT });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const start = Date.now();
  const v = await f();
  return [(Date.now() - start) / 1000, v];
}

function license(customer: string): string {
  return issueLicense(
    draftLicense({
      customer,
      issuedAt: "2020-01-01",
      expiresAt: "2099-12-31",
      features: ["agents.router", "agents.crewai", "agents.autogen"],
      keyId: KEY.keyId,
    }),
    KEY.privateKey,
  );
}

interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function figure(xs: number[]): Figure {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: Math.round(mid * 10) / 10, min: s[0], max: s[s.length - 1], runs: xs };
}

function changed(summary: OpMap | undefined): string[] {
  return Object.entries(summary ?? {})
    .filter(([op, n]) => op !== "same" && (n ?? 0) > 0)
    .map(([op, n]) => `${op} ${n}`);
}

async function benchStack(name: string, kubeconfig: string, customers: string[]): Promise<Stack> {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), `es1-${name}-state-`));
  const stack = await openStack({ stackName: name, backendUrl: `file://${backend}`, passphrase: "bench" });
  await stack.setAllConfig(
    {
      "es1:environment": { value: "dev" },
      "es1:sizing": { value: "minimal" },
      "es1:cluster.provider": { value: "existing" },
      "es1:cluster.name": { value: name },
      "es1:cluster.kubeconfig": { value: kubeconfig },
      "es1:cluster.context": { value: `kwok-${CLUSTER}` },
      "es1:airgap.charts": { value: (await chartSource()).dir },
      // Licenses signed with a key of the bench's own: a test stack.
      "es1:licenseTestKeys": { value: "true" },
      [`es1:licensePublicKeys.${KEY.keyId}`]: { value: KEY.publicKey },
      ...Object.fromEntries(
        customers.flatMap((c) => [
          [`es1:customers.${c}.enabled`, { value: "true" }],
          [`es1:licenses.${c}`, { value: license(c), secret: true }],
        ]),
      ),
    },
    true,
  );
  return stack;
}

async function removeStack(stack: Stack): Promise<void> {
  await stack.destroy();
  await stack.workspace.removeStack(stack.name);
  fs.rmSync(path.join(PROJECT_ROOT, `Pulumi.${stack.name}.yaml`), { force: true });
}

interface RenderedEntry {
  name: string;
  namespace: string;
  chart: string;
  file: string;
}

/** The same charts and values installed one after another, as the seed plan's script did. */
function helmLoop(kubeconfig: string, renderDir: string, pulumiVolumes: string): number {
  const index = JSON.parse(fs.readFileSync(path.join(renderDir, "index.json"), "utf8")) as {
    releases: RenderedEntry[];
  };
  // Untimed preparation: values files, namespaces and the volumes the program owns (the loop's
  // script would have to create those too).
  const steps = index.releases.map((r) => {
    const doc = yaml.load(fs.readFileSync(path.join(renderDir, r.file), "utf8")) as { values: unknown };
    const values = path.join(renderDir, `${r.file}.values.json`);
    fs.writeFileSync(values, JSON.stringify(doc.values));
    const chart = r.chart.startsWith("./") ? path.join(PROJECT_ROOT, r.chart) : r.chart;
    return { ...r, chart, values };
  });
  // In the program's install order: es1-base, CRDs and operators, the rest, then the platforms.
  const order = ["es1-base", ...installOrder([...RELEASES]).map(releaseName)];
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  steps.sort((a, b) => rank(a.name) - rank(b.name));
  // The releases' namespaces, and node-exporter's own, which the program makes beside them.
  const namespaces = [
    ...new Set([
      ...steps.map((r) => r.namespace),
      ...(steps.some((r) => r.name === releaseName("monitoring")) ? [NODE_EXPORTER_NAMESPACE] : []),
    ]),
  ];
  for (const ns of namespaces) run("kubectl", ["--kubeconfig", kubeconfig, "create", "namespace", ns]);
  run("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", pulumiVolumes]);
  const start = Date.now();
  let seconds = 0;
  try {
    install(kubeconfig, steps);
    seconds = (Date.now() - start) / 1000;
  } finally {
    // Untimed cleanup, also after a failure, so the next run starts from an empty cluster.
    for (const r of [...steps].reverse())
      spawnSync("helm", ["--kubeconfig", kubeconfig, "uninstall", r.name, "-n", r.namespace, "--wait"]);
    for (const ns of namespaces)
      spawnSync("kubectl", [
        "--kubeconfig",
        kubeconfig,
        "delete",
        "namespace",
        ns,
        "--wait=true",
        "--timeout=300s",
      ]);
  }
  return seconds;
}

function install(
  kubeconfig: string,
  steps: { name: string; chart: string; namespace: string; values: string }[],
): void {
  for (const r of steps) {
    run("helm", [
      "--kubeconfig",
      kubeconfig,
      "upgrade",
      "--install",
      r.name,
      r.chart,
      "-n",
      r.namespace,
      "-f",
      r.values,
      "--wait",
      "--timeout",
      "10m",
    ]);
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  // A fresh cluster: what an interrupted run left behind (releases, namespaces) would fail the first install.
  run("bash", ["scripts/cluster.sh", "down"], { ES1_CLUSTER_NAME: CLUSTER });
  run("bash", ["scripts/cluster.sh", "up"], { ES1_CLUSTER_NAME: CLUSTER });
  const kubeconfig = run("bash", ["scripts/cluster.sh", "kubeconfig"], { ES1_CLUSTER_NAME: CLUSTER }).trim();
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    runs: RUNS,
    sizes: {},
  };
  const sizes = results.sizes as Record<string, Record<string, Figure | string[]>>;
  const max = Math.max(...SIZES);
  try {
    for (const n of SIZES) {
      const customers = benchCustomers(n);
      const t = {
        install: [] as number[],
        noopUp: [] as number[],
        preview: [] as number[],
        oneCustomer: [] as number[],
        helmLoop: [] as number[],
      };
      const notes: string[] = [];
      for (let i = 1; i <= RUNS; i++) {
        const stack = await benchStack(`bench-${n}-${i}`, kubeconfig, customers);
        const [install, up] = await timed(() => stack.up());
        if (up.summary.result !== "succeeded") throw new Error(`install of ${n} customers failed`);
        t.install.push(install);
        const [noop, again] = await timed(() => stack.up());
        if (changed(again.summary.resourceChanges).length > 0)
          notes.push(`run ${i}: no-op up changed ${changed(again.summary.resourceChanges).join(", ")}`);
        t.noopUp.push(noop);
        const [preview] = await timed(() => stack.preview());
        t.preview.push(preview);
        if (n === max) {
          await stack.setConfig(`es1:customers.${customers[0]}.platformVersion`, { value: "1.1.0" }, true);
          const [one, res] = await timed(() => stack.up());
          t.oneCustomer.push(one);
          notes.push(
            `run ${i}: one customer's version change: ${changed(res.summary.resourceChanges).join(", ")}`,
          );
        }
        const renderDir = path.join(OUT, `render-${n}`);
        if (i === 1) {
          await renderStack(stack, renderDir);
          fs.writeFileSync(
            path.join(renderDir, "volumes.json"),
            run("kubectl", [
              "--kubeconfig",
              kubeconfig,
              "get",
              "pvc",
              "-n",
              "es1-infrastructure",
              "-l",
              "es1-role=infrastructure",
              "-o",
              "json",
            ]),
          );
        }
        await removeStack(stack);
        log(`${n} customers, run ${i}: install ${install}s, no-op up ${noop}s, preview ${preview}s`);
      }
      // The PVC list as manifests to recreate (without cluster-assigned fields).
      const renderDir = path.join(OUT, `render-${n}`);
      const pvcs = JSON.parse(fs.readFileSync(path.join(renderDir, "volumes.json"), "utf8")) as {
        items: {
          metadata: { name: string; namespace: string; labels?: Record<string, string> };
          spec: Record<string, unknown>;
        }[];
      };
      const volumes = path.join(renderDir, "volumes-apply.json");
      fs.writeFileSync(
        volumes,
        JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: pvcs.items.map((p) => ({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: p.metadata.labels },
            spec: {
              accessModes: p.spec.accessModes,
              resources: p.spec.resources,
              storageClassName: p.spec.storageClassName,
            },
          })),
        }),
      );
      for (let i = 1; i <= RUNS; i++) {
        const s = helmLoop(kubeconfig, renderDir, volumes);
        t.helmLoop.push(s);
        log(`${n} customers, helm loop run ${i}: ${s}s`);
      }
      sizes[String(n)] = {
        install: figure(t.install),
        noopUp: figure(t.noopUp),
        preview: figure(t.preview),
        helmLoop: figure(t.helmLoop),
        ...(t.oneCustomer.length > 0 ? { oneCustomer: figure(t.oneCustomer) } : {}),
        notes,
      };
    }
    const evals: number[] = [];
    const rss: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const out = run("bash", ["scripts/run.sh", "bench/eval.ts", String(EVAL_CUSTOMERS)]);
      const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { seconds: number; maxRssMb: number };
      evals.push(r.seconds);
      rss.push(r.maxRssMb);
      log(`evaluation of ${EVAL_CUSTOMERS} customers under mocks: ${r.seconds}s, ${r.maxRssMb} MB`);
    }
    results.evaluation = { customers: EVAL_CUSTOMERS, seconds: figure(evals), maxRssMb: figure(rss) };
  } finally {
    removeBenchCustomers();
  }
  fs.writeFileSync(path.join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT, "results.md"), markdown(results));
  process.stdout.write(markdown(results));
}

function markdown(results: Record<string, unknown>): string {
  const sizes = results.sizes as Record<string, Record<string, Figure>>;
  const ns = Object.keys(sizes);
  const f = (x: Figure | undefined) => (x ? `${x.median} (${x.min}–${x.max})` : "—");
  const lines = [
    `Runs per figure: ${String(results.runs)}; seconds, median (min–max). ${JSON.stringify(results.machine)}`,
    "",
    "| customers | install | helm loop | install / loop | no-op up | preview | one customer's version change |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...ns.map((n) => {
      const s = sizes[n];
      const ratio = Math.round((s.install.median / s.helmLoop.median) * 100) / 100;
      return `| ${n} | ${f(s.install)} | ${f(s.helmLoop)} | ${ratio} | ${f(s.noopUp)} | ${f(s.preview)} | ${f(s.oneCustomer)} |`;
    }),
  ];
  if (ns.length > 1) {
    const [a, b] = [sizes[ns[0]], sizes[ns[ns.length - 1]]];
    lines.push(
      "",
      `install N=${ns[ns.length - 1]} / N=${ns[0]}: ${Math.round((b.install.median / a.install.median) * 100) / 100}; ` +
        `no-op up N=${ns[ns.length - 1]} / N=${ns[0]}: ${Math.round((b.noopUp.median / a.noopUp.median) * 100) / 100}`,
    );
  }
  const e = results.evaluation as { customers: number; seconds: Figure; maxRssMb: Figure } | undefined;
  if (e)
    lines.push(
      "",
      `Program evaluation under mocks, ${e.customers} customers: ${f(e.seconds)} s, peak ${f(e.maxRssMb)} MB`,
    );
  return `${lines.join("\n")}\n`;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
