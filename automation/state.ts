// What a stack's deployment holds, read from its state (`pulumi stack export --show-secrets`):
// the credentials @pulumi/random generated and the Kubernetes Secrets Pulumi wrote, with their
// values. Values stay in this process: they are compared and copied into encrypted config, never
// printed. Pure functions over the exported deployment, so they are unit-tested without a stack.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { credentialResourceName, credentialSpec, SECRET_NAMES, SecretName } from "../config/credentials";
import { SECRET_SIG_KEY, SECRET_SIG_VALUE } from "./report";
import { runPulumi } from "./workspace";

/** One resource of an exported deployment. */
export interface StateResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/**
 * The value inside Pulumi's secret envelope: `plaintext` (JSON text, with --show-secrets) or
 * `value`; anything else (ciphertext) is undefined. Plain values are returned as they are.
 */
export function revealed(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG_KEY] !== SECRET_SIG_VALUE) return v;
  if (typeof o.plaintext === "string") {
    try {
      return JSON.parse(o.plaintext) as unknown;
    } catch {
      return undefined;
    }
  }
  return "value" in o ? o.value : undefined;
}

/** A string value, secret or not; undefined for anything else. */
function text(v: unknown): string | undefined {
  const r = revealed(v);
  return typeof r === "string" ? r : undefined;
}

/** The resource name at the end of a URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";

/** Earlier names of a credential's random resource (kept by aliases in the program). */
const FORMER_NAMES: Partial<Record<SecretName, string>> = {
  postgresqlSuperuserPassword: "postgresql-superuser",
};

/** A credential @pulumi/random generated and the deployment uses. */
export interface GeneratedCredential {
  name: SecretName;
  urn: string;
  /** The value as the program hands it to its consumers (lib/credentials.ts). */
  value: string;
}

/**
 * Every catalog credential generated into the state, with the value the program derives from it:
 * a password's `result`, a Fernet key from the bytes' base64 (URL-safe), a hex key's `hex`.
 */
export function generatedCredentials(
  resources: readonly StateResource[],
): Map<SecretName, GeneratedCredential> {
  const out = new Map<SecretName, GeneratedCredential>();
  for (const name of SECRET_NAMES) {
    const names = [credentialResourceName(name), FORMER_NAMES[name]];
    const r = resources.find(
      (x) => (x.type === RANDOM_PASSWORD || x.type === RANDOM_BYTES) && names.includes(urnName(x.urn)),
    );
    if (r === undefined) continue;
    const o = r.outputs ?? {};
    let value: string | undefined;
    switch (credentialSpec(name).format) {
      case "password":
        value = text(o.result);
        break;
      case "fernet":
        value = text(o.base64)?.replace(/\+/g, "-").replace(/\//g, "_");
        break;
      case "hex256":
        value = text(o.hex);
        break;
    }
    if (value !== undefined) out.set(name, { name, urn: r.urn, value });
  }
  return out;
}

/** A Kubernetes Secret Pulumi wrote, with the values it was given (`stringData`). */
export interface DeployedSecret {
  urn: string;
  namespace: string;
  name: string;
  data: Record<string, string>;
}

/** The string values of a map, each revealed and mapped through `decode`. */
function stringValues(map: unknown, decode: (v: string) => string = (v) => v): Record<string, string> {
  const out: Record<string, string> = {};
  const m = revealed(map);
  if (typeof m === "object" && m !== null)
    for (const [k, v] of Object.entries(m)) {
      const t = text(v);
      if (t !== undefined) out[k] = decode(t);
    }
  return out;
}

/**
 * Every `kubernetes:core/v1:Secret` of the deployment with its values in plain text, from its
 * inputs (`stringData`, or base64 `data`, where the Kubernetes provider may merge stringData) and
 * its outputs.
 */
export function deployedSecrets(resources: readonly StateResource[]): DeployedSecret[] {
  return resources.flatMap((r) => {
    if (r.type !== "kubernetes:core/v1:Secret") return [];
    const inputs = (revealed(r.inputs) ?? {}) as Record<string, unknown>;
    const meta = (revealed(inputs.metadata) ?? {}) as Record<string, unknown>;
    const base64 = (v: string) => Buffer.from(v, "base64").toString("utf8");
    const outputs = (revealed(r.outputs) ?? {}) as Record<string, unknown>;
    // What the program gave wins over what the cluster returned (the same, after an update).
    const data = {
      ...stringValues(outputs.data, base64),
      ...stringValues(inputs.data, base64),
      ...stringValues(inputs.stringData),
    };
    const name = text(meta.name);
    const namespace = text(meta.namespace);
    return name && namespace ? [{ urn: r.urn, namespace, name, data }] : [];
  });
}

/**
 * The stack's resources with every secret in plain text, or [] for a stack never deployed.
 * Throws when the state cannot be read (a wrong passphrase, an unreachable backend).
 */
export async function readState(stack: Stack): Promise<StateResource[]> {
  if (!(stack.workspace instanceof LocalWorkspace)) {
    // Another Workspace: the SDK's export, whose secrets stay encrypted (no value to compare).
    const exported = (await stack.exportStack()) as { deployment?: { resources?: StateResource[] | null } };
    return exported.deployment?.resources ?? [];
  }
  const r = await runPulumi(stack, ["stack", "export", "--show-secrets"]);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `pulumi stack export exited ${r.code}`);
  const state = JSON.parse(r.stdout || "{}") as { deployment?: { resources?: StateResource[] | null } };
  return state.deployment?.resources ?? [];
}
