// `es1 status` for one stack: what the stack deployed (its state: every Helm Release, the
// customers and the cluster it recorded), read in the cluster, judged, and with --wait read again
// until healthy or the time is up.
import { setTimeout as delay } from "timers/promises";
import { Stack } from "@pulumi/pulumi/automation";
import { COMPONENTS } from "../config/sizing";
import { CATALOG, RELEASES } from "../infrastructure/catalog";
import { INFRASTRUCTURE_NAMESPACE } from "../infrastructure/layout";
import { kubeAccess, KubeAccess, kubeconfigText, KubeReader, kubeRequest } from "./kube";
import { errorMessages } from "./report";
import { readState, revealed, StateResource } from "./state";
import {
  componentStatus,
  ComponentStatus,
  customerStatus,
  CustomerStatus,
  EXIT_STATUS_USAGE,
  licenseStatus,
  ReleaseStatus,
  StatusReport,
  verdictOf,
} from "./status";
import { readRelease } from "./status-cluster";
import { readVolumeUsage, usageOf } from "./status-volumes";

const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** A customer as the stack's `customers` output records it. */
interface DeployedCustomer {
  namespace: string;
  release: string;
  licenseId: string;
  licenseExpires: string;
  platformVersion?: string;
  held?: string;
}

/** What the stack deployed, from its state. */
export interface StatusTargets {
  /** Releases of the shared infrastructure (not a customer's), with their component. */
  releases: { component: string; name: string; namespace: string }[];
  customers: (DeployedCustomer & { customer: string })[];
  cluster?: { kubeconfig?: string; context?: string };
}

/** The component a shared release belongs to: `es1-<catalog key>` (CATALOG), `es1-base` is `base`. */
export function componentOf(release: string): string {
  const key = RELEASES.find((k) => `es1-${k}` === release);
  if (key !== undefined) return CATALOG[key].component;
  return release.replace(/^es1-/, "");
}

function str(v: unknown): string | undefined {
  const r = revealed(v);
  return typeof r === "string" ? r : undefined;
}

/** The releases, customers and cluster a stack's exported state records. */
export function statusTargets(resources: readonly StateResource[]): StatusTargets {
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const customersOut = revealed(root?.outputs?.customers);
  const customers =
    typeof customersOut === "object" && customersOut !== null && !Array.isArray(customersOut)
      ? Object.entries(customersOut as Record<string, DeployedCustomer>).map(([customer, c]) => ({
          customer,
          ...c,
        }))
      : [];
  const customerNamespaces = new Set(customers.map((c) => c.namespace));
  const releases = resources
    .filter((r) => r.type === RELEASE_TYPE)
    .map((r) => ({
      name: str(r.outputs?.name) ?? str(r.inputs?.name),
      namespace: str(r.outputs?.namespace) ?? str(r.inputs?.namespace),
    }))
    .filter(
      (r): r is { name: string; namespace: string } => r.name !== undefined && r.namespace !== undefined,
    )
    .filter((r) => !customerNamespaces.has(r.namespace))
    .map((r) => ({ ...r, component: componentOf(r.name) }));
  const cluster = revealed(root?.outputs?.platformCluster);
  return {
    releases,
    customers: customers.sort((a, b) => a.customer.localeCompare(b.customer)),
    ...(typeof cluster === "object" && cluster !== null
      ? { cluster: cluster as StatusTargets["cluster"] }
      : {}),
  };
}

const ORDER = ["base", ...COMPONENTS];

async function safeRead(
  access: KubeAccess,
  ref: { name: string; namespace: string },
): Promise<ReleaseStatus> {
  try {
    return await readRelease(access, ref);
  } catch (e) {
    const problem = `cannot read it: ${errorMessages(e).join("; ")}`;
    return {
      ...ref,
      status: "unknown",
      revision: 0,
      workloads: [],
      managed: [],
      healthy: false,
      problems: [problem],
    };
  }
}

/** One reading of every release and customer of `targets`. */
export async function readStatus(
  access: KubeAccess,
  targets: StatusTargets,
  opts: { now: Date; warnWithinDays: number },
): Promise<{ components: ComponentStatus[]; customers: CustomerStatus[] }> {
  // The namespaces the stack deploys into: es1-infrastructure (with shared components) and each
  // customer's. Their volume usage comes from Prometheus (status-volumes.ts) and never throws.
  const namespaces = [
    ...(targets.releases.some((r) => r.namespace === INFRASTRUCTURE_NAMESPACE)
      ? [INFRASTRUCTURE_NAMESPACE]
      : []),
    ...targets.customers.map((c) => c.namespace),
  ];
  const reader: KubeReader = { get: (p) => kubeRequest(access, "GET", p, undefined, 10_000) };
  const [shared, platforms, volumes] = await Promise.all([
    Promise.all(
      targets.releases.map(async (r) => ({ component: r.component, status: await safeRead(access, r) })),
    ),
    Promise.all(targets.customers.map((c) => safeRead(access, { name: c.release, namespace: c.namespace }))),
    readVolumeUsage(reader, namespaces, targets.releases),
  ]);
  const byComponent = new Map<string, ReleaseStatus[]>();
  for (const s of shared) byComponent.set(s.component, [...(byComponent.get(s.component) ?? []), s.status]);
  const components = [...byComponent.entries()]
    .sort(
      ([a], [b]) =>
        (ORDER.indexOf(a) === -1 ? 99 : ORDER.indexOf(a)) - (ORDER.indexOf(b) === -1 ? 99 : ORDER.indexOf(b)),
    )
    .map(([component, releases]) =>
      componentStatus(component, releases, usageOf(volumes, INFRASTRUCTURE_NAMESPACE, component)),
    );
  const customers = targets.customers.map((c, i) =>
    customerStatus(
      {
        customer: c.customer,
        namespace: c.namespace,
        ...(c.platformVersion ? { platformVersion: c.platformVersion } : {}),
      },
      licenseStatus(c, opts.now, opts.warnWithinDays),
      platforms[i],
      usageOf(volumes, c.namespace, ""),
    ),
  );
  return { components, customers };
}

function seconds(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

export interface StatusOptions {
  /** Read again until healthy, for at most this many seconds. */
  waitSeconds?: number;
  pollSeconds?: number;
  signal?: AbortSignal;
  /** One line per reading while waiting. */
  onProgress?: (line: string) => void;
}

/** `es1:licenseWarningDays` of the stack (default 30, as config/customers.ts). */
async function warningDays(stack: Stack): Promise<number> {
  const v = (await stack.getAllConfig())["es1:licenseWarningDays"]?.value;
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 30;
}

/** The status of a deployed stack; never throws. */
export async function stackStatus(stack: Stack, opts: StatusOptions = {}): Promise<StatusReport> {
  const start = Date.now();
  const report = (
    rest: Omit<StatusReport, "operation" | "stack" | "checkedAt" | "durationSeconds">,
  ): StatusReport => ({
    operation: "status",
    stack: stack.name,
    checkedAt: new Date().toISOString(),
    durationSeconds: seconds(start),
    ...rest,
  });
  let targets: StatusTargets;
  let access: KubeAccess;
  let warnWithinDays: number;
  try {
    targets = statusTargets(await readState(stack));
    if (targets.cluster === undefined)
      return report({
        status: "failed",
        exitCode: EXIT_STATUS_USAGE,
        components: [],
        customers: [],
        errors: [
          `stack ${stack.name} has no deployment with a platformCluster output: run es1 up on it first`,
        ],
      });
    const kubeconfig = kubeconfigText(targets.cluster.kubeconfig ?? "");
    access = kubeAccess(kubeconfig.text, targets.cluster.context, kubeconfig.dir);
    warnWithinDays = await warningDays(stack);
  } catch (e) {
    return report({
      status: "failed",
      exitCode: EXIT_STATUS_USAGE,
      components: [],
      customers: [],
      errors: errorMessages(e),
    });
  }
  const deadline = start + (opts.waitSeconds ?? 0) * 1000;
  for (;;) {
    let reading: { components: ComponentStatus[]; customers: CustomerStatus[] } = {
      components: [],
      customers: [],
    };
    const errors: string[] = [];
    try {
      reading = await readStatus(access, targets, { now: new Date(), warnWithinDays });
    } catch (e) {
      errors.push(...errorMessages(e));
    }
    const verdict = verdictOf(reading.components, reading.customers, errors);
    const done = verdict.exitCode === 0 || Date.now() >= deadline || opts.signal?.aborted === true;
    if (done)
      return report({
        ...verdict,
        ...(opts.waitSeconds !== undefined ? { waitedSeconds: seconds(start) } : {}),
        ...reading,
        errors,
      });
    const unhealthy = [
      ...reading.components.filter((c) => !c.healthy).map((c) => c.component),
      ...reading.customers.filter((c) => !c.healthy).map((c) => `customer ${c.customer}`),
    ];
    opts.onProgress?.(`not healthy yet (${unhealthy.join(", ") || errors.join("; ")}); reading again`);
    const pause = Math.min((opts.pollSeconds ?? 5) * 1000, Math.max(0, deadline - Date.now()));
    // Aborted (SIGTERM): the next round reports what it reads and stops.
    await delay(pause, undefined, { signal: opts.signal }).catch(() => undefined);
  }
}
