// np-guard netpol-analyzer over what a cluster holds: its namespaces, workloads and
// NetworkPolicies written to a directory, and the connections the analyzer allows between them.
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PROJECT_ROOT } from "../../lib/paths";
import { kubectl } from "./kube";
import type { Connection } from "./reachability";

/** A workload, namespace or NetworkPolicy as read back from the cluster. */
export interface ClusterObject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] } } };
}

const KINDS = ["namespaces", "deployments", "statefulsets", "daemonsets", "networkpolicies"];

/** The analyzer (scripts/tools.sh netpol builds it on request, cached after the first time). */
export function netpolicyBinary(): string {
  const tools = path.join(PROJECT_ROOT, "scripts/tools.sh");
  execFileSync("bash", [tools, "netpol"], { stdio: "inherit" });
  return path.join(execFileSync("bash", [tools, "bin"]).toString().trim(), "netpolicy");
}

/** Writes the cluster's namespaces, workloads and policies (kube-system's workloads left out) into `dir`. */
export function writeClusterObjects(kubeconfig: string, dir: string): ClusterObject[] {
  const objects: ClusterObject[] = [];
  for (const kind of KINDS) {
    const list = JSON.parse(kubectl(kubeconfig, "get", kind, "-A", "-o", "json")) as {
      items: ClusterObject[];
    };
    const items = list.items.filter(
      (o) => !o.metadata.namespace?.startsWith("kube-") || kind === "namespaces",
    );
    objects.push(...items);
    fs.writeFileSync(path.join(dir, `${kind}.yaml`), items.map((o) => yaml.dump(o)).join("---\n"));
  }
  return objects;
}

/** The connections the analyzer allows between what `dir` holds. */
export function allowedConnections(netpolicy: string, dir: string): Connection[] {
  const r = spawnSync(netpolicy, ["list", "--dirpath", dir, "-o", "json", "-q"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.strictEqual(r.status, 0, `netpolicy list failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Connection[];
}
