import * as pulumi from "@pulumi/pulumi";
import { es1, StackOutputs } from "../../program";
import type { DeployedRecord } from "../../platform/deployed";
import { cloudInvoke, cloudOutputs } from "./cloud-mocks";

/** Pulumi's marker for a secret value on the wire. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs with secret markers removed. */
  inputs: Record<string, unknown>;
  /** Top-level input names that arrived as secrets. */
  secretInputs: string[];
}

function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] !== undefined) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** The value an Output resolves to (tests run in update mode, so outputs are known). */
export function valueOf<T>(o: pulumi.Output<T> | T): Promise<T> {
  return new Promise((resolve) =>
    pulumi.Output.isInstance(o) ? o.apply((v) => resolve(v)) : resolve(o as T),
  );
}

/** Resolves every Output inside a plain structure. */
export async function resolveDeep(v: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) return resolveDeep(await valueOf(v));
  if (Array.isArray(v)) return Promise.all(v.map(resolveDeep));
  if (typeof v === "object" && v !== null && !(v instanceof pulumi.Resource)) {
    const entries = await Promise.all(
      Object.entries(v).map(async ([k, x]) => [k, await resolveDeep(x)] as const),
    );
    return Object.fromEntries(entries);
  }
  return v;
}

export interface ProgramRun {
  resources: RecordedResource[];
  outputs: StackOutputs;
  byType(type: string): RecordedResource[];
  one(type: string, name?: string): RecordedResource;
}

export const PROJECT = "es1-platform";

/** The program threw; carries what it had registered by then. */
export class ProgramFailed extends Error {
  constructor(
    readonly cause: Error,
    readonly registered: RecordedResource[],
  ) {
    super(cause.message);
  }
}

/**
 * Runs the ES1 program under Pulumi mocks with the given stack config (full keys, values as
 * `pulumi config` stores them) and records every resource it registers.
 */
export async function runProgram(
  config: Record<string, string>,
  opts: {
    stack?: string;
    secretKeys?: string[];
    /** Outputs of other stacks, by stack name, for StackReferences (all given as secrets). */
    stackReferences?: Record<string, Record<string, unknown>>;
    /** What `es1` tells the program about the stack's last deployment. */
    record?: DeployedRecord;
  } = {},
): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretInputs = Object.entries(args.inputs)
          .filter(([, v]) => typeof v === "object" && v !== null && SECRET_SIG in (v as object))
          .map(([k]) => k);
        const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
        resources.push({ type: args.type, name: args.name, inputs, secretInputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
          state.result = `generated-${args.name}-0123456789abcdef`;
        }
        if (args.type === "pulumi:pulumi:StackReference") {
          const outputs = opts.stackReferences?.[String(inputs.name)];
          if (!outputs) throw new Error(`no stack ${String(inputs.name)} in this test`);
          state.outputs = outputs;
          state.secretOutputNames = Object.keys(outputs);
        }
        if (
          args.type === "kubernetes:core/v1:Secret" &&
          inputs.type === "kubernetes.io/service-account-token"
        ) {
          // What the token controller fills in (the provider waits for it).
          const b64 = (t: string) => Buffer.from(t).toString("base64");
          state.data = { token: b64(`token-of-${args.name}`), "ca.crt": b64("ca-of-the-cluster") };
        }
        if (args.type === "random:index/randomBytes:RandomBytes") {
          // 32 bytes as the provider renders them; "+/" shows that Fernet keys get URL-safe.
          const bytes = Buffer.alloc(32, 0xfb);
          state.base64 = bytes.toString("base64");
          state.hex = bytes.toString("hex");
        }
        Object.assign(state, cloudOutputs(args.type, args.name, inputs));
        return { id: `${args.name}-id`, state };
      },
      call: (args) => cloudInvoke(args.token, args.inputs) ?? args.inputs,
    },
    PROJECT,
    opts.stack ?? "test",
    false,
  );
  // Ingresses unless the test sets es1:access (the tests written before Gateway API expect them).
  const withAccess = Object.keys(config).some((k) => k.startsWith("es1:access"))
    ? config
    : { ...config, "es1:access": JSON.stringify({ mode: "ingress" }) };
  pulumi.runtime.setAllConfig(withAccess, opts.secretKeys ?? []);
  let outputs: StackOutputs;
  try {
    outputs = await es1(opts.record);
  } catch (e) {
    throw new ProgramFailed(e as Error, resources);
  }
  await resolveDeep(outputs);
  // Let registrations that no output depends on finish.
  await new Promise((r) => setTimeout(r, 50));
  const byType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    outputs,
    byType,
    one(type, name) {
      const found = byType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
      }
      return found[0];
    },
  };
}

/** Every string anywhere inside a value. */
export function allStrings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(allStrings);
  if (typeof v === "object" && v !== null) return Object.values(v).flatMap(allStrings);
  return [];
}
