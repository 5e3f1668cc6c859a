// `es1 secrets init`: for teams that keep every credential in stack config. Puts each credential
// the program knows (config/credentials.ts) that the stack's config does not have yet into it,
// encrypted as `es1:secrets.<name>`: the value a deployment already uses, or a new one. Values
// never leave this process except on the Pulumi CLI's standard input; they are never printed.
import * as crypto from "crypto";
import { Stack } from "@pulumi/pulumi/automation";
import { CREDENTIALS, CredentialFormat, SECRET_NAMES, SecretName } from "../config/credentials";
import { NAMESPACE } from "../config/settings";
import { deployedDataKeys } from "./guards";
import { generatedCredentials, readState, StateResource } from "./state";
import { runPulumi } from "./workspace";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random credential: letters and digits only (it may end up in connection URLs and config
 * files), uniformly drawn from the OS CSPRNG; 32 characters is about 190 bits.
 */
export function generateSecret(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[crypto.randomInt(ALPHABET.length)];
  return out;
}

/** A credential in the format its consumer expects (see config/credentials.ts). */
export function generateCredential(format: CredentialFormat): string {
  switch (format) {
    case "password":
      return generateSecret();
    case "fernet":
      // Fernet keys are 32 random bytes in URL-safe base64 with its padding.
      return `${crypto.randomBytes(32).toString("base64url")}=`;
    case "hex256":
      return crypto.randomBytes(32).toString("hex");
  }
}

export const SECRETS_KEY = `${NAMESPACE}:secrets`;

export interface SecretsInitReport {
  operation: "secrets init";
  /** null when the command line was unusable. */
  stack: string | null;
  status: "succeeded" | "failed";
  exitCode: number;
  /** Credentials no deployment has used yet, generated and stored by this run. */
  created: string[];
  /** Credentials the deployment already uses, copied from its state into config unchanged. */
  adopted: string[];
  /** Credentials the stack's config already had, left as they were. */
  kept: string[];
  warnings: string[];
  errors: string[];
}

/** Names of the credentials set in a stack config map's `es1:secrets` (values are not kept). */
export function configuredSecretNames(config: Record<string, { value: string }>): string[] {
  const entry = config[SECRETS_KEY];
  if (entry === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`${SECRETS_KEY} is not an object; set credentials with --path ${SECRETS_KEY}.<name>`);
  return Object.keys(parsed);
}

/**
 * The value each credential has in the deployment, for those it has: a data key as its Secret
 * holds it, every other as @pulumi/random generated it into the state.
 */
export function valuesInUse(resources: readonly StateResource[]): Partial<Record<SecretName, string>> {
  const generated = generatedCredentials(resources);
  const out: Partial<Record<SecretName, string>> = deployedDataKeys(resources);
  for (const [name, g] of generated) out[name] ??= g.value;
  return out;
}

/** Stores one credential encrypted in the stack's config; the value goes over standard input. */
async function storeSecret(stack: Stack, name: SecretName, value: string): Promise<string | undefined> {
  const r = await runPulumi(stack, ["config", "set", "--secret", "--path", `${SECRETS_KEY}.${name}`], value);
  return r.code === 0 ? undefined : `cannot store ${SECRETS_KEY}.${name}: ${r.stderr.trim()}`;
}

/**
 * Puts every credential of `names` (default: all the program knows) that the stack's config lacks
 * into it: the value the deployment already uses when there is one (a deployed stack keeps its
 * credentials, and its data stays readable), a new one only for what no deployment has used.
 */
export async function initSecrets(
  stack: Stack,
  names: readonly SecretName[] = SECRET_NAMES,
): Promise<SecretsInitReport> {
  const report: SecretsInitReport = {
    operation: "secrets init",
    stack: stack.name,
    status: "succeeded",
    exitCode: 0,
    created: [],
    adopted: [],
    kept: [],
    warnings: [],
    errors: [],
  };
  const present = new Set(configuredSecretNames(await stack.getAllConfig()));
  const inUse = valuesInUse(await readState(stack));
  for (const name of names) {
    if (present.has(name)) {
      report.kept.push(name);
      continue;
    }
    const adopted = inUse[name];
    const failure = await storeSecret(stack, name, adopted ?? generateCredential(CREDENTIALS[name].format));
    if (failure !== undefined) {
      report.status = "failed";
      report.exitCode = 1;
      report.errors.push(failure);
      break;
    }
    (adopted !== undefined ? report.adopted : report.created).push(name);
  }
  return report;
}
