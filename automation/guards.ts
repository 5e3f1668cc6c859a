// Checks `es1 preview` and `es1 up` make against the stack's last deployment before the engine
// runs: what only the state knows (the data keys in use). A failed check refuses the run with
// exit 2 and names the key (docs/components.md#secrets), so no routine command loses data.
import { ConfigMap } from "@pulumi/pulumi/automation";
import { credentialSpec, SECRET_NAMES, SecretName } from "../config/credentials";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { deployedSecrets, generatedCredentials, StateResource } from "./state";

export const SECRETS_CONFIG_KEY = "es1:secrets";

/** The credentials set in stack config (`es1:secrets`), values decrypted; {} when none or unreadable. */
export function configuredSecrets(config: ConfigMap): Partial<Record<SecretName, string>> {
  const raw = config[SECRETS_CONFIG_KEY]?.value;
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    const v = (parsed as Record<string, unknown>)[name];
    if (typeof v === "string") out[name] = v;
  }
  return out;
}

/**
 * The value each data key has in the deployment: in its Secret where the component is deployed,
 * else as generated into the state (a component switched off keeps its key for when it returns).
 */
export function deployedDataKeys(resources: readonly StateResource[]): Partial<Record<SecretName, string>> {
  const generated = generatedCredentials(resources);
  const secrets = deployedSecrets(resources);
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    const spec = credentialSpec(name);
    if (spec.kind !== "data-key") continue;
    const where = spec.deployedIn;
    const inSecret = where
      ? secrets.find((s) => s.namespace === INFRASTRUCTURE_NAMESPACE && s.name === where.secret)?.data[
          where.key
        ]
      : undefined;
    const value = inSecret ?? generated.get(name)?.value;
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Why the run would change a key that encrypts or hashes data, one message per key; [] when none
 * would change. The run uses the configured value, else the generated one in the state, else a
 * new one: any of them other than the deployed value changes the key.
 */
export function dataKeyProblems(
  configured: Partial<Record<SecretName, string>>,
  resources: readonly StateResource[],
  stackName: string,
): string[] {
  const deployed = deployedDataKeys(resources);
  const generated = generatedCredentials(resources);
  const problems: string[] = [];
  for (const name of SECRET_NAMES) {
    const spec = credentialSpec(name);
    const current = deployed[name];
    if (spec.kind !== "data-key" || current === undefined) continue;
    const key = `${SECRETS_CONFIG_KEY}.${name}`;
    const set = configured[name];
    const planned = set ?? generated.get(name)?.value;
    if (planned === current) continue;
    const why =
      `${spec.protects ?? "it protects stored data"}: a new value makes that data unreadable, and es1 has ` +
      "no re-encryption path for it";
    problems.push(
      set !== undefined
        ? `Invalid stack configuration '${key}': differs from the value the deployed stack uses; ${why}. ` +
            `Put the deployed value back (remove ${key} and run es1 secrets init --stack ${stackName}, which adopts it)`
        : `Invalid stack configuration '${key}': not set, and the value the deployed stack uses is no longer ` +
            `in its config or state, so this run would generate a new one; ${why}. Run ` +
            `es1 secrets init --stack ${stackName}: it adopts the deployed value into config`,
    );
  }
  return problems;
}
