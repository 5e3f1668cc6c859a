// What the stack's last deployment says about each customer platform (its `customers` output),
// handed to the program by `es1`: a program alone cannot read its stack's state. With it the
// program refuses to lower a customer's platform version by accident, and leaves a customer whose
// license is refused exactly as deployed instead of stopping every other customer's deploy.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/errors";
import { NAMESPACE } from "../config/settings";

/** A customer as the stack's `customers` output recorded it (fields of older stacks may be missing). */
export interface DeployedPlatform {
  namespace?: string;
  release?: string;
  licenseId?: string;
  licenseExpires?: string;
  agents?: string[];
  notDeployed?: string[];
  platformVersion?: string;
}

/** What `es1 preview|up` tells the program about the last deployment. */
export interface DeployedRecord {
  /** Deployed customer platforms by name: the `customers` output before this run. */
  customers: Record<string, DeployedPlatform>;
  /** `--allow-downgrade`: lowering a customer's platform version is intended. */
  allowDowngrade?: boolean;
}

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Orders two platform versions as semantic versions (a pre-release before its release, build
 * metadata ignored): negative when a < b, 0 when equal, positive when a > b. Undefined when either
 * is not a version (nothing can be said).
 */
export function compareVersions(a: string, b: string): number | undefined {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) if (Number(x[i]) !== Number(y[i])) return Number(x[i]) - Number(y[i]);
  const [px, py] = [x[4], y[4]];
  if (px === undefined || py === undefined) return px === py ? 0 : px === undefined ? 1 : -1;
  const ix = px.split(".");
  const iy = py.split(".");
  for (let i = 0; i < Math.max(ix.length, iy.length); i++) {
    if (ix[i] === undefined) return -1;
    if (iy[i] === undefined) return 1;
    const [nx, ny] = [/^\d+$/.test(ix[i]), /^\d+$/.test(iy[i])];
    if (nx && ny && Number(ix[i]) !== Number(iy[i])) return Number(ix[i]) - Number(iy[i]);
    if (nx !== ny) return nx ? -1 : 1;
    if (ix[i] !== iy[i]) return ix[i] < iy[i] ? -1 : 1;
  }
  return 0;
}

/**
 * One error per customer whose planned platform version is lower than the deployed one, naming
 * the customer, both versions and the way to do it on purpose; [] with `allowDowngrade`.
 */
export function downgradeErrors(
  planned: Record<string, string>,
  record: DeployedRecord | undefined,
): ConfigError[] {
  if (record === undefined || record.allowDowngrade) return [];
  return Object.entries(planned).flatMap(([name, version]) => {
    const deployed = record.customers[name]?.platformVersion;
    if (deployed === undefined || (compareVersions(version, deployed) ?? 0) >= 0) return [];
    return [
      new ConfigError(
        `${NAMESPACE}:customers.${name}.platformVersion`,
        `customer '${name}' would go from platform version ${deployed} (deployed) down to ${version}; a ` +
          "downgrade after the newer version's database migrations can break the platform, so it is " +
          "refused: pass --allow-downgrade to es1 preview/up to do it on purpose",
      ),
    ];
  });
}

/**
 * Makes every resource of a held customer's platform keep the inputs of its last deployment: each
 * input the program gives is ignored in favour of the state's, so nothing is updated, replaced or
 * deleted (a resource the state lacks would still be created from the program's inputs).
 */
export const holdAsDeployed: pulumi.ResourceTransformation = (args) => ({
  props: args.props,
  opts: {
    ...args.opts,
    ignoreChanges: [...new Set([...(args.opts.ignoreChanges ?? []), ...Object.keys(args.props)])],
  },
});

/**
 * The warning for a customer whose license the gate refused: held back as deployed, or left out
 * when never deployed. Its first words are what `es1` reads back into its report
 * (automation/report.ts heldCustomer).
 */
export function heldWarning(
  customer: string,
  refusal: ConfigError,
  deployed: DeployedPlatform | undefined,
): string {
  if (deployed === undefined)
    return `customer '${customer}' is not deployed: ${refusal.key}: ${refusal.problem}`;
  return (
    `customer '${customer}' is held back: ${refusal.key}: ${refusal.problem}; its platform stays exactly as ` +
    `deployed (version ${deployed.platformVersion ?? "unknown"}) until a valid license is installed`
  );
}
