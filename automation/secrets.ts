// `es1 secrets init`: for teams that keep every credential in stack config. Generates each
// credential the program knows (config/credentials.ts) that the stack's config does not
// have yet and stores it encrypted as `es1:secrets.<name>`. Values never leave this process except
// on the Pulumi CLI's standard input; they are never printed.
import * as crypto from "crypto";
import { Stack } from "@pulumi/pulumi/automation";
import { CREDENTIALS, CredentialFormat, SECRET_NAMES, SecretName } from "../config/credentials";
import { NAMESPACE } from "../config/settings";
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
  /** Credentials generated and stored by this run. */
  created: string[];
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

/** Whether the stack's state already holds generated passwords (which config values would replace). */
async function generatedPasswordsInState(stack: Stack): Promise<number> {
  const r = await runPulumi(stack, ["stack", "export"]);
  if (r.code !== 0) return 0;
  const state = JSON.parse(r.stdout) as { deployment?: { resources?: { type?: string }[] } };
  return (state.deployment?.resources ?? []).filter(
    (x) =>
      x.type === "random:index/randomPassword:RandomPassword" ||
      x.type === "random:index/randomBytes:RandomBytes",
  ).length;
}

/** Generates and stores every missing credential of `names` (default: all the program knows). */
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
    kept: [],
    warnings: [],
    errors: [],
  };
  const present = new Set(configuredSecretNames(await stack.getAllConfig()));
  for (const name of names) {
    if (present.has(name)) {
      report.kept.push(name);
      continue;
    }
    const r = await runPulumi(
      stack,
      ["config", "set", "--secret", "--path", `${SECRETS_KEY}.${name}`],
      generateCredential(CREDENTIALS[name].format),
    );
    if (r.code !== 0) {
      report.status = "failed";
      report.exitCode = 1;
      report.errors.push(`cannot store ${SECRETS_KEY}.${name}: ${r.stderr.trim()}`);
      break;
    }
    report.created.push(name);
  }
  if (report.created.length > 0 && (await generatedPasswordsInState(stack)) > 0) {
    report.warnings.push(
      "this stack is already deployed with generated credentials; the next `up` replaces them with the " +
        `new config values (${report.created.join(", ")}): rotate them in the services that use them`,
    );
  }
  return report;
}
