import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/paths";

/**
 * The kwok cluster the e2e tier runs on: its own, so a developer's `local` deploy is untouched.
 * `ES1_E2E_CLUSTER` names another, so two test runs on one machine do not share namespaces.
 */
export const E2E_CLUSTER = process.env.ES1_E2E_CLUSTER || "es1-e2e";

const env = { ...process.env, ES1_CLUSTER_NAME: E2E_CLUSTER };

// Real charts make large objects (Helm's release Secrets of CRD charts run to megabytes): room for
// them, instead of spawnSync's 1 MiB that cuts the output off with an empty error.
const maxBuffer = 256 * 1024 * 1024;

/** Brings the e2e cluster up (idempotent) and returns its kubeconfig path. */
export function clusterUp(): string {
  execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/cluster.sh"), "up"], { env, stdio: "inherit" });
  return clusterKubeconfig();
}

export function clusterKubeconfig(): string {
  return execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/cluster.sh"), "kubeconfig"], { env })
    .toString()
    .trim();
}

/** kubectl against the e2e cluster; throws with kubectl's message on failure. */
export function kubectl(kubeconfig: string, ...args: string[]): string {
  return kubectlWithInput(kubeconfig, undefined, ...args);
}

/** helm against the cluster of `kubeconfig`; throws with helm's message when it fails. */
export function helm(kubeconfig: string, ...args: string[]): string {
  const r = spawnSync("helm", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", maxBuffer });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`helm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** kubectl with `input` on its standard input (for `apply -f -`). */
export function kubectlWithInput(kubeconfig: string, input: string | undefined, ...args: string[]): string {
  const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    input,
    maxBuffer,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** An object as JSON, or undefined when it does not exist. */
export function getObject<T = Record<string, unknown>>(kubeconfig: string, ...args: string[]): T | undefined {
  const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "get", ...args, "-o", "json"], {
    encoding: "utf8",
    maxBuffer,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(" ")}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

/** An object that must exist; fails the test with what was missing otherwise. */
export function mustGet<T = Record<string, unknown>>(kubeconfig: string, ...args: string[]): T {
  const o = getObject<T>(kubeconfig, ...args);
  if (o === undefined) throw new Error(`expected ${args.join(" ")} to exist`);
  return o;
}

/** Waits until `check` holds, polling every second; fails the test after `seconds`. */
export async function eventually(what: string, check: () => boolean, seconds = 120): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${seconds}s waiting until ${what}`);
}
