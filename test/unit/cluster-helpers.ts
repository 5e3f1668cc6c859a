import * as assert from "assert";
import * as os from "os";
import { ConfigErrors, parseSettings, Settings } from "../../config";
import { draftLicense, issueLicense } from "../../platform/license";
import { ProgramRun, RecordedResource, runProgram } from "./harness";

/** The value at a dotted path inside recorded inputs (`nodeConfig.labels`, `routes.0.cidrBlock`). */
export function at(v: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((cur, k) => {
    if (cur === undefined || cur === null || typeof cur !== "object") return undefined;
    return (cur as Record<string, unknown>)[k];
  }, v);
}

/** Runs the whole program on a cloud provider, as stack `stack`. */
export function runCluster(
  environment: "dev" | "prod",
  cluster: Record<string, unknown>,
  stack = `${String(cluster.provider)}-${environment}`,
): Promise<ProgramRun> {
  return runProgram({ "es1:environment": environment, "es1:cluster": JSON.stringify(cluster) }, { stack });
}

export const K8S_PROVIDER = "pulumi:providers:kubernetes";

/** The cluster's Kubernetes provider gets its kubeconfig as a secret and a stable identity. */
export function assertSecretKubeconfig(run: ProgramRun, clusterIdentifier: string): string {
  const provider = run.one(K8S_PROVIDER);
  assert.ok(provider.secretInputs.includes("kubeconfig"), "the kubeconfig reaches the provider as a secret");
  assert.strictEqual(provider.inputs.clusterIdentifier, clusterIdentifier);
  return String(provider.inputs.kubeconfig);
}

/** The recorded resources of a type, keyed by logical name. */
export function byName(run: ProgramRun, type: string): Record<string, RecordedResource> {
  return Object.fromEntries(run.byType(type).map((r) => [r.name, r]));
}

const stackId = { project: "es1-platform", stack: "test", cwd: os.tmpdir() };

/** Parses a stack config given as plain data (keys without `es1:`). */
export function settingsOf(values: Record<string, unknown>): Settings {
  return parseSettings(
    { keys: () => Object.keys(values), get: (k) => values[k], isSecret: () => false },
    stackId,
  );
}

/** The messages a config is refused with. */
export function refusals(values: Record<string, unknown>): string[] {
  try {
    settingsOf(values);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`);
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected the config to be refused");
}

/** Asserts a cluster config is refused with exactly one message matching `re`. */
export function assertRefused(cluster: Record<string, unknown>, re: RegExp, environment = "dev"): void {
  const messages = refusals({ environment, cluster });
  assert.strictEqual(messages.length, 1, messages.join("\n"));
  assert.match(messages[0], re);
}

/** A license for `customer` with `features` (every agent by default), signed with `key`, valid until 2099. */
export function testLicense(
  customer: string,
  key: { keyId: string; privateKey: string },
  features = ["agents.router", "agents.crewai", "agents.autogen"],
): string {
  return issueLicense(
    draftLicense({ customer, expiresAt: "2099-12-31", issuedAt: "2019-06-01", features, keyId: key.keyId }),
    key.privateKey,
  );
}

/** A license for `customer` with the agent router only, signed with `key`, valid until 2099. */
export function routerLicense(customer: string, key: { keyId: string; privateKey: string }): string {
  return testLicense(customer, key, ["agents.router"]);
}
