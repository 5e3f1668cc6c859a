// Runs preflight for a stack: its Settings parsed from its config exactly as the program parses
// them (outside the engine, so nothing is deployed and no state is touched), the cluster read with
// the kubeconfig those settings name, and the report.
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { NAMESPACE, parseSettings, Settings, SettingsSource } from "../config";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { PROJECT_ROOT } from "../lib/paths";
import { KubeAccess, kubeAccess, kubeconfigText } from "./kube";
import { ClusterFacts, evaluate, PreflightReport, unreachable, unreadable, verdict } from "./preflight";
import { readClusterFacts, readVersion } from "./preflight-cluster";
import { preflightNeeds } from "./preflight-needs";
import { errorMessages } from "./report";
import { PROJECT_NAME, runPulumi } from "./workspace";

/** One entry of `pulumi config --json`. */
interface ConfigEntry {
  value?: string;
  objectValue?: unknown;
  secret?: boolean;
}

/** A stack's config with secrets in plaintext (the run's own config file when given). */
export async function readStackConfig(
  stack: Stack,
  configFile?: string,
): Promise<Record<string, ConfigEntry>> {
  const r = await runPulumi(stack, [
    "config",
    "--show-secrets",
    "--json",
    ...(configFile !== undefined ? ["--config-file", configFile] : []),
  ]);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `pulumi config exited ${r.code}`);
  return JSON.parse(r.stdout || "{}") as Record<string, ConfigEntry>;
}

/** Stack config as the program's SettingsSource sees it (config/index.ts stackConfigSource). */
export function configSource(config: Record<string, ConfigEntry>): SettingsSource {
  const prefix = `${NAMESPACE}:`;
  return {
    keys: () =>
      Object.keys(config)
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length)),
    get: (key) => {
      const e = config[`${prefix}${key}`];
      if (e === undefined) return undefined;
      if (e.objectValue !== undefined) return e.objectValue;
      const raw = e.value;
      if (raw !== undefined && /^\s*[[{]/.test(raw)) {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          return raw;
        }
      }
      return raw;
    },
    isSecret: (key) => config[`${prefix}${key}`]?.secret === true,
  };
}

/** The kubeconfig an existing cluster's settings name, resolved to API access. */
export function existingClusterAccess(settings: Settings, config: Record<string, ConfigEntry>): KubeAccess {
  const cluster = settings.cluster;
  if (cluster.provider !== "existing") throw new Error("not an existing cluster");
  const source = cluster.kubeconfig;
  let kubeconfig: { text: string; dir: string };
  if (source.kind === "file")
    kubeconfig = { text: fs.readFileSync(source.path, "utf8"), dir: path.dirname(source.path) };
  else if (source.kind === "secret")
    kubeconfig = { text: config[`${NAMESPACE}:kubeconfig`]?.value ?? "", dir: PROJECT_ROOT };
  else kubeconfig = kubeconfigText("");
  return kubeAccess(kubeconfig.text, cluster.context, kubeconfig.dir);
}

function seconds(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

/**
 * Preflight of `stack` (its config, or `configFile` for a run with --set): exit 0 when every check
 * passes or only warns, 2 when one fails or the config is invalid. A stack that creates its own
 * cluster, or takes it from another stack, is skipped (exit 0): there is no cluster to check yet,
 * or it is the other stack's.
 */
export async function runPreflight(
  stack: Stack,
  opts: { configFile?: string } = {},
): Promise<PreflightReport> {
  const start = Date.now();
  const report = (
    rest: Omit<PreflightReport, "operation" | "stack" | "durationSeconds">,
  ): PreflightReport => ({
    operation: "preflight",
    stack: stack.name,
    durationSeconds: seconds(start),
    ...rest,
  });
  let settings: Settings;
  let config: Record<string, ConfigEntry>;
  try {
    config = await readStackConfig(stack, opts.configFile);
    settings = parseSettings(configSource(config), {
      project: PROJECT_NAME,
      stack: stack.name,
      cwd: PROJECT_ROOT,
    });
  } catch (e) {
    return report({ status: "failed", exitCode: 2, checks: [], errors: errorMessages(e) });
  }
  if (settings.cluster.provider !== "existing")
    return report({
      status: "skipped",
      exitCode: 0,
      checks: [],
      errors: [
        `the stack creates its cluster (${settings.cluster.provider}): preflight checks existing clusters`,
      ],
    });
  if (settings.infrastructureStack !== undefined)
    return report({
      status: "skipped",
      exitCode: 0,
      checks: [],
      errors: [
        `a customer-only stack deploys to the cluster of ${settings.infrastructureStack}: run es1 preflight on that stack`,
      ],
    });
  const needs = preflightNeeds(settings);
  const cluster: NonNullable<PreflightReport["cluster"]> = { name: settings.cluster.name };
  let access: KubeAccess;
  let version: ClusterFacts["version"];
  try {
    access = existingClusterAccess(settings, config);
    cluster.server = access.server;
    version = await readVersion(access);
  } catch (e) {
    const checks = unreachable(errorMessages(e).join("; "), cluster.server);
    return report({ ...verdict(checks), cluster, checks, errors: [] });
  }
  cluster.kubernetesVersion = version.gitVersion;
  try {
    const facts = await readClusterFacts(access, version, needs.access);
    const checks = evaluate(facts, needs, INFRASTRUCTURE_NAMESPACE);
    return report({ ...verdict(checks), cluster, checks, errors: [] });
  } catch (e) {
    // The server answered /version but not the lists: most often missing read rights.
    const checks = unreadable(errorMessages(e).join("; "));
    return report({ ...verdict(checks), cluster, checks, errors: [] });
  }
}
