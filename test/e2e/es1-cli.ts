// The `es1` command as a release pipeline runs it, and the licenses e2e customers deploy with.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/paths";
import { draftLicense, issueLicense, KeyPair } from "../../platform/license";

export interface Es1Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `es1 ...` as a CI job would: in `cwd`, with `env` added, standard input not a terminal. */
export function runEs1(cwd: string, env: Record<string, string>, ...args: string[]): Es1Run {
  const r = spawnSync(path.join(PROJECT_ROOT, "scripts/es1"), args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    input: "",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `es1 ...` in the background (as runEs1), so a test can act on the cluster while it runs. */
export function runEs1Async(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Es1Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, "scripts/es1"), args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `es1 ... --json`, checks the exit code and parses stdout as one JSON document. */
export function runEs1Json<T>(
  cwd: string,
  env: Record<string, string>,
  expectedExit: number,
  ...args: string[]
): T {
  const r = runEs1(cwd, env, ...args, "--json");
  assert.strictEqual(
    r.status,
    expectedExit,
    `es1 ${args.join(" ")}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
  );
  return JSON.parse(r.stdout) as T;
}

/**
 * Stack config that makes a stack a test stack trusting `key` (es1:licenseTestKeys): e2e stacks
 * sign their licenses with keys of their own, never with the shipped ES1 key.
 */
export function testKeyConfig(key: KeyPair): Record<string, string> {
  return { "es1:licenseTestKeys": "true", [`es1:licensePublicKeys.${key.keyId}`]: key.publicKey };
}

/** A license signed with `key`, issued in 2020, by default valid until 2099 with every agent. */
export function e2eLicense(
  key: KeyPair,
  customer: string,
  opts: { expiresAt?: string; features?: string[] } = {},
): string {
  return issueLicense(
    draftLicense({
      customer,
      issuedAt: "2020-01-01",
      expiresAt: opts.expiresAt ?? "2099-12-31",
      features: opts.features ?? ["agents.router", "agents.crewai", "agents.autogen"],
      keyId: key.keyId,
    }),
    key.privateKey,
  );
}
