// The deploy-time license gate: every enabled customer's license is verified before the program
// registers a single resource. A refused license stops the run naming the customer and the reason;
// agent services the license does not cover are left out, and the reason is reported.
import { ConfigError, ConfigErrors } from "../../config/errors";
import { NAMESPACE } from "../../config/settings";
import type { CustomerSettings, LicenseSettings } from "../../config/customers";
import type { DeployedPlatform } from "../deployed";
import { AGENT_SERVICES, AgentService, featureOf, License, LICENSE_FORMAT_VERSION } from "./format";
import { featureGate, RefusedService } from "./gate";
import { LicenseKeyError, parsePublicKeys } from "./keys";
import { verifyLicense } from "./license";
import { trustedPublicKeys } from "./trusted-keys";

export interface LicensedCustomer {
  customer: CustomerSettings;
  license: License;
  /** Agent services to deploy: requested and licensed. */
  agents: AgentService[];
  /** Requested services the license does not cover. */
  refused: RefusedService[];
  /** Warnings to show (an expiring license, refused services). */
  warnings: string[];
  /**
   * Why the customer is held back (its license was refused): its platform is re-registered as
   * deployed and nothing of it changes (platform/deployed.ts).
   */
  held?: string;
}

/**
 * A held-back customer as the program registers it: its deployed version, services and license
 * as the last deployment recorded them. Its inputs are ignored in favour of the state's anyway;
 * these keep the outputs (and any resource the state lacks) as they were.
 */
export function heldLicense(
  customer: CustomerSettings,
  deployed: DeployedPlatform,
  reason: string,
): LicensedCustomer {
  const agents = AGENT_SERVICES.filter((a) => (deployed.agents ?? []).includes(a));
  return {
    customer: { ...customer, platformVersion: deployed.platformVersion ?? customer.platformVersion },
    license: {
      version: LICENSE_FORMAT_VERSION,
      id: deployed.licenseId ?? "unknown",
      customer: customer.name,
      issuedAt: "unknown",
      expiresAt: deployed.licenseExpires ?? "unknown",
      features: agents.map(featureOf),
      limits: {},
      keyId: "unknown",
    },
    agents,
    refused: [],
    warnings: [],
    held: reason,
  };
}

function requested(c: CustomerSettings): AgentService[] {
  return (["router", "crewai", "autogen"] as const).filter((s) => c.agents[s]);
}

/**
 * Verifies the licenses of the enabled customers. Throws ConfigErrors (every refused license at
 * once) when one is missing, malformed, forged, signed by an untrusted key, for another customer,
 * expired or not yet valid.
 */
export function checkLicenses(
  customers: readonly CustomerSettings[],
  licensing: LicenseSettings,
  now: Date = new Date(),
): Map<string, LicensedCustomer> {
  const gate = gateLicenses(customers, licensing, now);
  if (gate.refused.length > 0) throw new ConfigErrors(gate.refused.map((r) => r.error));
  return gate.licensed;
}

/** A customer whose license the gate refused, with the error naming es1:licenses.<customer>. */
export interface RefusedCustomer {
  customer: CustomerSettings;
  error: ConfigError;
}

/**
 * Verifies the licenses of the enabled customers: those that pass with what their license allows,
 * and those refused with why. Throws ConfigErrors only for what concerns every customer (a test
 * key that cannot be parsed).
 */
export function gateLicenses(
  customers: readonly CustomerSettings[],
  licensing: LicenseSettings,
  now: Date = new Date(),
): { licensed: Map<string, LicensedCustomer>; refused: RefusedCustomer[] } {
  const refused: RefusedCustomer[] = [];
  const out = new Map<string, LicensedCustomer>();
  const enabled = customers.filter((c) => c.enabled);
  let publicKeys: Record<string, string>;
  try {
    // The shipped ES1 keys, and a test stack's own keys (es1:licenseTestKeys): never keys that
    // stack config could substitute for the vendor's.
    publicKeys = trustedPublicKeys(licensing.testKeys);
    parsePublicKeys(publicKeys);
  } catch (e) {
    if (!(e instanceof LicenseKeyError)) throw e;
    throw new ConfigErrors([new ConfigError(`${NAMESPACE}:licensePublicKeys`, e.message)]);
  }
  for (const c of enabled) {
    const check = verifyLicense(c.license.token, {
      publicKeys,
      customer: c.name,
      now,
      warnWithinDays: licensing.warnWithinDays,
    });
    if (!check.ok) {
      // The message names the customer already: "license of customer '<name>': <reason>".
      refused.push({ customer: c, error: new ConfigError(`${NAMESPACE}:licenses.${c.name}`, check.message) });
      continue;
    }
    const gate = featureGate(check.license, requested(c));
    const warnings = [
      ...(check.status === "expiring" ? [`customer '${c.name}': ${check.message}`] : []),
      ...gate.refused.map((r) => `customer '${c.name}': ${r.service} is not deployed: ${r.reason}`),
    ];
    out.set(c.name, {
      customer: c,
      license: check.license,
      agents: gate.allowed,
      refused: gate.refused,
      warnings,
    });
  }
  return { licensed: out, refused };
}
