// `es1 secrets rotate`: replaces one login or session credential end to end. A new value goes into
// the stack's config (encrypted), an update limited to the Secrets that hold the old value writes
// it, and the workloads that read those Secrets are restarted so they take it up. Data keys are
// never rotated (config/credentials.ts). Values are never printed.
import * as fs from "fs";
import { Stack } from "@pulumi/pulumi/automation";
import { credentialSpec, isRotatable, SECRET_NAMES, SecretName } from "../config/credentials";
import { KubeClient, platformClusterClient } from "./kube";
import { runOperation, RunOptions } from "./operations";
import { EXIT_FAILED, EXIT_SUCCESS, EXIT_USAGE, ExitCode, errorMessages, OperationReport } from "./report";
import { configuredSecrets } from "./guards";
import { generateCredential, SECRETS_KEY } from "./secrets";
import { deployedSecrets, DeployedSecret, generatedCredentials, readState } from "./state";
import { runPulumi, stackConfigFile } from "./workspace";

export interface SecretsRotateReport {
  operation: "secrets rotate";
  stack: string | null;
  /** The credential (es1:secrets.<name>); null when the command line was unusable. */
  name: string | null;
  status: "succeeded" | "failed";
  exitCode: ExitCode;
  /** `namespace/name` of each Secret that held the old value and holds the new one. */
  secrets: string[];
  /** `Kind namespace/name` of each workload restarted to read the new value. */
  restarted: string[];
  update?: Pick<
    OperationReport,
    "exitCode" | "durationSeconds" | "summary" | "changes" | "failed" | "errors"
  >;
  warnings: string[];
  errors: string[];
}

/** Why `name` cannot be rotated by es1 (exit 2), or undefined when it can. */
export function rotationRefusal(name: string): string | undefined {
  if (!(SECRET_NAMES as readonly string[]).includes(name))
    return `'${name}' is not a credential of this program; rotatable ones: ${SECRET_NAMES.filter(isRotatable).join(", ")}`;
  const spec = credentialSpec(name as SecretName);
  if (spec.kind === "data-key")
    return (
      `${SECRETS_KEY}.${name} is a data key: ${spec.protects ?? "it protects stored data"}; a new value would ` +
      "make that data unreadable, and es1 has no re-encryption path for it"
    );
  if (spec.kind === "initial")
    return (
      `${SECRETS_KEY}.${name} is an initial password: the application stored it on its first start and ` +
      "ignores later changes; change it in the application (docs/components.md#secrets)"
    );
  return undefined;
}

/** The Secrets among `secrets` holding `value` (as it is, or inside a URL or a JSON document). */
export function secretsHolding(secrets: readonly DeployedSecret[], value: string): DeployedSecret[] {
  const forms = [value, encodeURIComponent(value)];
  return secrets.filter((s) => Object.values(s.data).some((v) => forms.some((f) => v.includes(f))));
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: {
    secret?: { secretName?: string };
    projected?: { sources?: { secret?: { name?: string } }[] };
  }[];
}
interface Container {
  env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}

/** Whether a pod template reads the Secret `name`: env, envFrom, a secret or projected volume. */
export function readsSecret(spec: PodSpec, name: string): boolean {
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return (
    containers.some(
      (c) =>
        (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === name) ||
        (c.envFrom ?? []).some((e) => e.secretRef?.name === name),
    ) ||
    (spec.volumes ?? []).some(
      (v) =>
        v.secret?.secretName === name || (v.projected?.sources ?? []).some((p) => p.secret?.name === name),
    )
  );
}

const WORKLOADS = [
  { kind: "Deployment", resource: "deployments" },
  { kind: "StatefulSet", resource: "statefulsets" },
  { kind: "DaemonSet", resource: "daemonsets" },
] as const;

/** The annotation `kubectl rollout restart` sets: a new pod template, so every pod is replaced. */
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

/**
 * Restarts every Deployment, StatefulSet and DaemonSet that reads one of `secrets` (in the Secret's
 * namespace) by stamping its pod template; returns `Kind namespace/name` of each.
 */
export async function restartReaders(
  kube: Pick<KubeClient, "get" | "patch">,
  secrets: readonly { namespace: string; name: string }[],
  now: Date = new Date(),
): Promise<string[]> {
  const restarted: string[] = [];
  for (const namespace of [...new Set(secrets.map((s) => s.namespace))]) {
    const names = secrets.filter((s) => s.namespace === namespace).map((s) => s.name);
    for (const w of WORKLOADS) {
      const base = `/apis/apps/v1/namespaces/${namespace}/${w.resource}`;
      const list = await kube.get<{
        items: { metadata: { name: string }; spec: { template: { spec: PodSpec } } }[];
      }>(base);
      for (const item of list.items) {
        if (!names.some((n) => readsSecret(item.spec.template.spec, n))) continue;
        await kube.patch(`${base}/${item.metadata.name}`, {
          spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString() } } } },
        });
        restarted.push(`${w.kind} ${namespace}/${item.metadata.name}`);
      }
    }
  }
  return restarted;
}

export interface RotateOptions extends Pick<RunOptions, "onOutput" | "signal"> {
  /** The cluster client; default: from the stack's platformCluster output. */
  kube?: Pick<KubeClient, "get" | "patch">;
}

/** Rotates credential `name` of an open stack end to end; never throws for a failed run. */
export async function rotateSecret(
  stack: Stack,
  name: string,
  opts: RotateOptions = {},
): Promise<SecretsRotateReport> {
  const report: SecretsRotateReport = {
    operation: "secrets rotate",
    stack: stack.name,
    name,
    status: "failed",
    exitCode: EXIT_USAGE,
    secrets: [],
    restarted: [],
    warnings: [],
    errors: [],
  };
  const fail = (exitCode: ExitCode, ...errors: string[]) => ({ ...report, exitCode, errors });
  const refusal = rotationRefusal(name);
  if (refusal !== undefined) return fail(EXIT_USAGE, refusal);
  const secretName = name as SecretName;

  const resources = await readState(stack);
  const generated = generatedCredentials(resources).get(secretName);
  const old = configuredSecrets(await stack.getAllConfig())[secretName] ?? generated?.value;
  const holding = old === undefined ? [] : secretsHolding(deployedSecrets(resources), old);
  if (holding.length === 0)
    return fail(
      EXIT_USAGE,
      `no deployed Secret of stack ${stack.name} holds ${SECRETS_KEY}.${name}: is its component ` +
        `(${credentialSpec(secretName).component}) on and deployed?`,
    );
  report.secrets = holding.map((s) => `${s.namespace}/${s.name}`);

  // The new value is stored first, so the update writes it; the file comes back if nothing ran.
  const file = stackConfigFile(stack);
  const before = fs.readFileSync(file);
  const stored = await runPulumi(
    stack,
    ["config", "set", "--secret", "--path", `${SECRETS_KEY}.${name}`],
    generateCredential(credentialSpec(secretName).format),
  );
  if (stored.code !== 0)
    return fail(EXIT_FAILED, `cannot store ${SECRETS_KEY}.${name}: ${stored.stderr.trim()}`);

  // Only the Secrets that change, and the generated resource the config value replaces.
  const up = await runOperation(stack, "up", {
    onOutput: opts.onOutput,
    signal: opts.signal,
    targets: [...holding.map((s) => s.urn), ...(generated ? [generated.urn] : [])],
  });
  report.update = {
    exitCode: up.exitCode,
    durationSeconds: up.durationSeconds,
    summary: up.summary,
    changes: up.changes,
    failed: up.failed,
    errors: up.errors,
  };
  if (up.exitCode !== EXIT_SUCCESS) {
    // Refused (2) or locked (3): nothing was written, so the old value stays the configured one.
    // A failed update (1) may have written some Secrets: the new value stays for the next `up`.
    if (up.exitCode !== EXIT_FAILED) fs.writeFileSync(file, before);
    return fail(up.exitCode, ...up.errors, ...up.failed.map((f) => `${f.urn}: ${f.error}`));
  }
  try {
    const kube = opts.kube ?? platformClusterClient((await stack.outputs()).platformCluster?.value);
    report.restarted = await restartReaders(kube, holding);
  } catch (e) {
    return fail(
      EXIT_FAILED,
      `the Secrets hold the new value, but restarting the workloads that read them failed: ${errorMessages(e).join("; ")}; ` +
        `restart them (kubectl rollout restart) so they stop using the old one`,
    );
  }
  if (report.restarted.length === 0)
    report.warnings.push(
      `no Deployment, StatefulSet or DaemonSet reads ${report.secrets.join(", ")} directly; an operator ` +
        "(CloudNativePG for database roles) applies the new value itself",
    );
  return { ...report, status: "succeeded", exitCode: EXIT_SUCCESS };
}
