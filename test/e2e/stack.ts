import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { chartSource } from "../../automation/chart-source";
import { openStack } from "../../automation/workspace";
import { COMPONENTS, ComponentName } from "../../config/sizing";
import { PROJECT_ROOT } from "../../lib/paths";
import { clusterUp, E2E_CLUSTER } from "./kube";

/** Config that switches every shared component off except `keep` (tests that are about something else). */
export function componentsOnly(keep: readonly ComponentName[]): Record<string, string> {
  return Object.fromEntries(
    COMPONENTS.filter((c) => !keep.includes(c)).map((c) => [`es1:components.${c}.enabled`, "false"]),
  );
}

/** A stack of this project on the e2e cluster, with its own throwaway file backend. */
export interface E2eStack {
  stack: Stack;
  kubeconfig: string;
  backend: string;
  /** Environment a spawned es1 / npm / pulumi command needs to reach the same stack. */
  env: Record<string, string>;
}

/** Brings the e2e cluster up and opens `stackName` on it, configured for the existing provider. */
export async function openE2eStack(
  stackName: string,
  extraConfig: Record<string, string> = {},
): Promise<E2eStack> {
  const kubeconfig = clusterUp();
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), `es1-${stackName}-state-`));
  const env = {
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: `${stackName}-only-passphrase`,
  };
  const stack = await openStack({
    stackName,
    backendUrl: env.PULUMI_BACKEND_URL,
    passphrase: env.PULUMI_CONFIG_PASSPHRASE,
  });
  const config: Record<string, string> = {
    "es1:environment": "dev",
    "es1:cluster.provider": "existing",
    "es1:cluster.name": stackName,
    "es1:cluster.kubeconfig": kubeconfig,
    "es1:cluster.context": `kwok-${E2E_CLUSTER}`,
    // The real upstream archives, through the directory mirror an air-gapped site uses.
    "es1:airgap.charts": (await chartSource()).dir,
    // Ingresses, as on the local stack, unless the test is about access (test/e2e/access.test.ts).
    "es1:access.mode": "ingress",
    ...extraConfig,
  };
  await stack.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, value]) => [k, { value }])),
    true,
  );
  return { stack, kubeconfig, backend, env };
}

/**
 * Destroys and removes a stack the tests made, with its stack file and (when given) its file
 * backend. Best effort: a teardown must not hide the failure that stopped a test.
 */
export async function discardStack(name: string, stack: Stack | undefined, backend?: string): Promise<void> {
  if (stack) {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(name).catch(() => undefined);
  }
  fs.rmSync(path.join(PROJECT_ROOT, `Pulumi.${name}.yaml`), { force: true });
  if (backend) fs.rmSync(backend, { recursive: true, force: true });
}
