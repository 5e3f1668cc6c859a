// `es1 rollout`: moves customers to a new platform version wave by wave. Each wave is an `up`
// limited to its customers (their platform version set in stack config), then a check that each
// customer's workloads are Ready at that version. The first failure stops the rollout: later waves
// are not touched, and with rollbackOnFailure the failed wave gets its previous version back.
import { Stack } from "@pulumi/pulumi/automation";
import { KubeClient, KubeReader, platformClusterClient } from "./kube";
import { applySettings, runOperation, structuredConfig } from "./operations";
import { customerReadiness, CustomerReadiness } from "./readiness";
import {
  errorMessages,
  EXIT_FAILED,
  EXIT_HELD,
  EXIT_SUCCESS,
  EXIT_USAGE,
  ExitCode,
  exitCodeFor,
  OperationReport,
} from "./report";
import { openStack, StackOptions } from "./workspace";

export interface RolloutPlan {
  version: string;
  /** Customers by wave, in order. */
  waves: string[][];
  rollbackOnFailure: boolean;
  /** How long to wait after a wave's update for its workloads to be Ready at the version. */
  readyTimeoutSeconds: number;
  /** `--allow-downgrade`: the version may be below a customer's deployed one. */
  allowDowngrade?: boolean;
}

/** An `up` of one wave (or of its rollback), as the report shows it. */
export interface WaveUpdate {
  exitCode: ExitCode;
  durationSeconds: number;
  summary: OperationReport["summary"];
  failed: OperationReport["failed"];
  errors: string[];
}

export type WaveStatus =
  | "succeeded"
  | "failed"
  | "rolled-back"
  | "rollback-failed"
  | "not-started"
  /** Stopped by SIGTERM (or SIGINT without a terminal). */
  | "cancelled";

export interface WaveReport {
  /** 1-based, in the order of --waves. */
  wave: number;
  customers: string[];
  status: WaveStatus;
  /** Each customer's platform version before the rollout. */
  previousVersions: Record<string, string>;
  update?: WaveUpdate;
  readiness?: CustomerReadiness[];
  rollback?: { update: WaveUpdate; readiness?: CustomerReadiness[] };
  errors: string[];
}

/** The one JSON document `es1 rollout --json` writes. */
export interface RolloutReport {
  operation: "rollout";
  stack: string | null;
  version: string | null;
  status: "succeeded" | "failed";
  exitCode: ExitCode;
  durationSeconds: number;
  waves: WaveReport[];
  errors: string[];
}

/** A deployed customer as the stack's `customers` output describes it. */
export interface DeployedCustomer {
  name: string;
  namespace: string;
  release: string;
  /** Deployed platform version; absent in stacks last updated before it was an output. */
  platformVersion?: string;
}

/** What the rollout does to a stack and its cluster; injected so the wave logic is tested alone. */
export interface RolloutSteps {
  /** Sets (a version) or removes (undefined) each customer's es1:customers.<c>.platformVersion. */
  setVersions(versions: Record<string, string | undefined>): Promise<void>;
  /** An `up` limited to these customers' platforms (a rollback lowers their version on purpose). */
  update(customers: string[], opts: { allowDowngrade: boolean }): Promise<WaveUpdate>;
  /** The customers' deployed platforms after an update (namespace, release, version). */
  deployed(): Promise<Map<string, DeployedCustomer>>;
  /** Waits until every customer is Ready at its version, or the time is up; the last reading. */
  verify(customers: DeployedCustomer[], versions: Record<string, string>): Promise<CustomerReadiness[]>;
  log(line: string): void;
  /** Whether the rollout was asked to stop (SIGTERM): no new step starts. */
  aborted?(): boolean;
}

export interface RolloutStart {
  deployed: Map<string, DeployedCustomer>;
  /** es1:customers.<c>.platformVersion as set in stack config before the rollout. */
  configured: Record<string, string | undefined>;
}

function seconds(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

/** The problems that stop a rollout before it changes anything (exit 2). */
export function planProblems(plan: RolloutPlan, start: RolloutStart): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of plan.waves.flat()) {
    if (seen.has(c)) problems.push(`customer '${c}' is in --waves more than once`);
    seen.add(c);
    if (!start.deployed.has(c))
      problems.push(
        `customer '${c}' has no platform in this stack (deployed: ${[...start.deployed.keys()].sort().join(", ") || "none"}); ` +
          "deploy it with es1 up first",
      );
  }
  return problems;
}

function waveFailure(w: WaveReport, readiness: CustomerReadiness[]): string[] {
  return readiness
    .filter((r) => !r.ready)
    .map(
      (r) =>
        `${r.customer}: not Ready at ${r.version}: ` +
        (r.error !== undefined
          ? `cannot read its workloads: ${r.error}`
          : r.workloads.length === 0
            ? "no workloads found"
            : r.workloads
                .filter((x) => !x.ready)
                .map((x) => `${x.kind} ${x.name} ${x.reason ?? ""}`.trim())
                .join("; ")),
    )
    .concat(w.errors);
}

/** Each customer of a wave back at the platform version its config had before the rollout. */
function previousConfig(w: WaveReport, start: RolloutStart): Record<string, string | undefined> {
  return Object.fromEntries(w.customers.map((c) => [c, start.configured[c]]));
}

/**
 * Runs the waves of `plan` with `steps`. Returns one report per wave (later waves after a failure
 * are `not-started`) and the exit code: that of a failed update (1, 2 or 3), 1 for workloads that
 * did not become Ready, for an error inside a wave and for a stop (SIGTERM). It never throws: a
 * wave that stops without its new version deployed gets its previous config back, so the stack's
 * config always says what runs (completed waves at the new version).
 */
export async function runWaves(
  plan: RolloutPlan,
  start: RolloutStart,
  steps: RolloutSteps,
): Promise<{ waves: WaveReport[]; exitCode: ExitCode }> {
  const waves: WaveReport[] = plan.waves.map((customers, i) => ({
    wave: i + 1,
    customers,
    status: "not-started",
    previousVersions: Object.fromEntries(
      customers.map((c) => [c, start.deployed.get(c)?.platformVersion ?? start.configured[c] ?? "unknown"]),
    ),
    errors: [],
  }));
  for (const w of waves) {
    if (steps.aborted?.()) {
      steps.log(`stopped before wave ${w.wave}`);
      return { waves, exitCode: EXIT_FAILED };
    }
    const state = { deployed: false };
    try {
      const exitCode = await runWave(plan, start, steps, w, waves.length, state);
      if (exitCode !== EXIT_SUCCESS) return { waves, exitCode };
    } catch (e) {
      w.status = steps.aborted?.() ? "cancelled" : "failed";
      w.errors.push(`wave ${w.wave} stopped: ${errorMessages(e).join("; ")}`);
      steps.log(`wave ${w.wave} stopped by an error; later waves are not started`);
      if (!state.deployed) {
        try {
          await steps.setVersions(previousConfig(w, start));
        } catch (again) {
          w.errors.push(`its config could not be put back: ${errorMessages(again).join("; ")}`);
        }
      }
      return { waves, exitCode: EXIT_FAILED };
    }
  }
  return { waves, exitCode: EXIT_SUCCESS };
}

/** One wave; `state.deployed` is set once its new version is deployed (its update succeeded). */
async function runWave(
  plan: RolloutPlan,
  start: RolloutStart,
  steps: RolloutSteps,
  w: WaveReport,
  count: number,
  state: { deployed: boolean },
): Promise<ExitCode> {
  // planProblems has checked that every customer of the plan is deployed.
  const before = (c: string): DeployedCustomer => start.deployed.get(c) as DeployedCustomer;
  steps.log(`wave ${w.wave}/${count}: ${w.customers.join(", ")} → ${plan.version}`);
  await steps.setVersions(Object.fromEntries(w.customers.map((c) => [c, plan.version])));
  w.update = await steps.update(w.customers, { allowDowngrade: plan.allowDowngrade === true });
  state.deployed = w.update.exitCode === EXIT_SUCCESS;
  if (steps.aborted?.() && !state.deployed) {
    // Stopped (SIGTERM) during the update: the Pulumi CLI cancelled it and released the lock.
    w.status = "cancelled";
    w.errors.push(...w.update.errors, "stopped during the wave's update");
    await steps.setVersions(previousConfig(w, start));
    return EXIT_FAILED;
  }
  let exitCode: ExitCode = w.update.exitCode;
  if (exitCode === EXIT_SUCCESS) {
    const deployed = await steps.deployed();
    w.readiness = await steps.verify(
      w.customers.map((c) => deployed.get(c) ?? before(c)),
      Object.fromEntries(w.customers.map((c) => [c, plan.version])),
    );
    if (w.readiness.some((r) => !r.ready)) exitCode = EXIT_FAILED;
  } else {
    w.errors.push(...w.update.errors, ...w.update.failed.map((f) => `${f.urn}: ${f.error}`));
  }
  if (exitCode === EXIT_SUCCESS) {
    w.status = "succeeded";
    steps.log(`wave ${w.wave}: Ready at ${plan.version}`);
    return EXIT_SUCCESS;
  }
  w.status = steps.aborted?.() ? "cancelled" : "failed";
  w.errors = waveFailure(w, w.readiness ?? []);
  steps.log(`wave ${w.wave} failed; later waves are not started`);
  // Only a failed deployment changed something to roll back (see below for 2 and 3).
  if (plan.rollbackOnFailure && exitCode === EXIT_FAILED && !steps.aborted?.()) {
    steps.log(`wave ${w.wave}: rolling back ${w.customers.join(", ")}`);
    await steps.setVersions(previousConfig(w, start));
    // Back to the version that ran before: a downgrade, on purpose.
    const update = await steps.update(w.customers, { allowDowngrade: true });
    w.rollback = { update };
    if (update.exitCode === EXIT_SUCCESS) {
      const deployed = await steps.deployed();
      const back = w.customers.map((c) => deployed.get(c) ?? before(c));
      w.rollback.readiness = await steps.verify(
        back,
        Object.fromEntries(back.map((d) => [d.name, d.platformVersion ?? w.previousVersions[d.name]])),
      );
    }
    const ok = update.exitCode === EXIT_SUCCESS && (w.rollback.readiness ?? []).every((r) => r.ready);
    w.status = ok ? "rolled-back" : "rollback-failed";
    if (!ok) w.errors.push(...update.errors, ...waveFailure(w, w.rollback.readiness ?? []));
    steps.log(`wave ${w.wave}: ${ok ? "rolled back" : "rollback failed"}`);
  } else if (exitCode !== EXIT_FAILED) {
    // Refused by the program (2) or locked by another update (3): nothing was deployed, so the
    // config goes back to what it was rather than leave a pending change for the next `up`.
    await steps.setVersions(previousConfig(w, start));
  }
  return exitCode;
}

// ---------------------------------------------------------------------------------------------
// The steps on a real stack

/** Reads the stack's `customers` output as deployed customers. */
function deployedFrom(outputs: Record<string, { value: unknown }>): Map<string, DeployedCustomer> {
  const customers = (outputs.customers?.value ?? {}) as Record<
    string,
    { namespace?: string; release?: string; platformVersion?: string }
  >;
  return new Map(
    Object.entries(customers).flatMap(([name, c]) =>
      c.namespace && c.release
        ? [
            [
              name,
              {
                name,
                namespace: c.namespace,
                release: c.release,
                ...(c.platformVersion ? { platformVersion: c.platformVersion } : {}),
              },
            ] as const,
          ]
        : [],
    ),
  );
}

/** es1:customers.<c>.platformVersion of each customer, from the stack's config. */
async function configuredVersions(
  stack: Stack,
  customers: string[],
): Promise<Record<string, string | undefined>> {
  const parsed = await structuredConfig(stack, "es1:customers");
  const map =
    typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, { platformVersion?: unknown } | null>)
      : {};
  return Object.fromEntries(
    customers.map((c) => {
      const v = map[c]?.platformVersion;
      return [c, typeof v === "string" ? v : undefined];
    }),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export interface RolloutOptions extends Omit<StackOptions, "create"> {
  plan: RolloutPlan;
  /** The Pulumi CLI's progress text of each update. */
  onOutput?: (text: string) => void;
  /** One line per rollout step (wave started, Ready, failed, rolled back). */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /** Seconds between readiness checks. */
  pollSeconds?: number;
}

/**
 * The result of a wave's `up` as the rollout sees it. A customer held back for a refused license
 * (exit 5) deployed nothing: refused (2) when it is in the wave, else the update succeeded.
 */
export function waveUpdateOf(r: OperationReport, customers: readonly string[]): WaveUpdate {
  const held = (r.customersHeld ?? []).filter((h) => customers.includes(h.customer));
  const exitCode: ExitCode =
    r.exitCode !== EXIT_HELD ? r.exitCode : held.length > 0 ? EXIT_USAGE : EXIT_SUCCESS;
  return {
    exitCode,
    durationSeconds: r.durationSeconds,
    summary: r.summary,
    failed: r.failed,
    errors: [...r.errors, ...held.map((h) => `${h.key}: customer '${h.customer}' is held back: ${h.reason}`)],
  };
}

/**
 * Waits until every customer is Ready at its version or the time is up, and returns the last
 * reading. The cluster credentials are fetched again first (an exec plugin's token may have
 * expired during the wave's update), and again on any 401 (KubeClient).
 */
export function verifier(
  kube: Pick<KubeClient, "renew"> & KubeReader,
  opts: { readyTimeoutSeconds: number; pollSeconds?: number; signal?: AbortSignal },
): RolloutSteps["verify"] {
  return async (customers, versions) => {
    kube.renew();
    const deadline = Date.now() + opts.readyTimeoutSeconds * 1000;
    for (;;) {
      const readings = await Promise.all(
        customers.map((c) =>
          customerReadiness(kube, c, versions[c.name]).catch((e: unknown): CustomerReadiness => ({
            customer: c.name,
            namespace: c.namespace,
            version: versions[c.name],
            ready: false,
            workloads: [],
            error: errorMessages(e).join("; "),
          })),
        ),
      );
      if (readings.every((r) => r.ready) || Date.now() >= deadline || opts.signal?.aborted) return readings;
      await sleep((opts.pollSeconds ?? 3) * 1000, opts.signal);
    }
  };
}

/** Opens the stack, checks the plan against what is deployed, and runs the waves. Never throws. */
export async function rollout(opts: RolloutOptions): Promise<RolloutReport> {
  const t0 = Date.now();
  const { plan } = opts;
  const report = (exitCode: ExitCode, waves: WaveReport[], errors: string[]): RolloutReport => ({
    operation: "rollout",
    stack: opts.stackName,
    version: plan.version,
    status: exitCode === EXIT_SUCCESS ? "succeeded" : "failed",
    exitCode,
    durationSeconds: seconds(t0),
    waves,
    errors,
  });

  let stack: Stack;
  let kube: KubeClient;
  let start: RolloutStart;
  try {
    stack = await openStack({ ...opts, create: false });
    const outputs = await stack.outputs();
    if (outputs.platformCluster === undefined)
      return report(
        EXIT_USAGE,
        [],
        [
          `stack ${opts.stackName} has no platformCluster output: run es1 up on it once with this installer version`,
        ],
      );
    kube = platformClusterClient(outputs.platformCluster.value);
    start = {
      deployed: deployedFrom(outputs),
      configured: await configuredVersions(stack, plan.waves.flat()),
    };
  } catch (e) {
    const code = exitCodeFor(e);
    return report(code === EXIT_SUCCESS ? EXIT_FAILED : code, [], errorMessages(e));
  }
  const problems = planProblems(plan, start);
  if (problems.length > 0) return report(EXIT_USAGE, [], problems);

  const steps: RolloutSteps = {
    async setVersions(versions) {
      const set = Object.entries(versions).filter((e): e is [string, string] => e[1] !== undefined);
      const unset = Object.keys(versions).filter((c) => versions[c] === undefined);
      await applySettings(
        stack,
        set.map(([c, v]) => ({ key: `es1:customers.${c}.platformVersion`, value: v })),
      );
      if (unset.length > 0)
        await stack.removeAllConfig(
          unset.map((c) => `es1:customers.${c}.platformVersion`),
          true,
        );
    },
    async update(customers, { allowDowngrade }) {
      const r = await runOperation(stack, "up", {
        customers,
        allowDowngrade,
        onOutput: opts.onOutput,
        signal: opts.signal,
      });
      return waveUpdateOf(r, customers);
    },
    deployed: async () => deployedFrom(await stack.outputs()),
    verify: verifier(kube, { ...plan, pollSeconds: opts.pollSeconds, signal: opts.signal }),
    log: (line) => opts.onProgress?.(line),
    aborted: () => opts.signal?.aborted === true,
  };
  const { waves, exitCode } = await runWaves(plan, start, steps);
  const errors = exitCode === EXIT_SUCCESS ? [] : waves.flatMap((w) => w.errors);
  if (opts.signal?.aborted) errors.push("stopped by a signal: later waves were not started");
  return report(exitCode, waves, errors);
}
