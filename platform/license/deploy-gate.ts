// The deploy-time license gate: every enabled customer's license is verified before the program
// registers a single resource. A refused license stops the run naming the customer and the reason;
// agent services the license does not cover are left out, and the reason is reported.
import { ConfigError, ConfigErrors } from "../../config/errors";
import { NAMESPACE } from "../../config/settings";
import type { CustomerSettings, LicenseSettings } from "../../config/customers";
import { AgentService, License } from "./format";
import { featureGate, RefusedService } from "./gate";
import { LicenseKeyError } from "./keys";
import { verifyLicense } from "./license";

export interface LicensedCustomer {
  customer: CustomerSettings;
  license: License;
  /** Agent services to deploy: requested and licensed. */
  agents: AgentService[];
  /** Requested services the license does not cover. */
  refused: RefusedService[];
  /** Warnings to show (an expiring license, refused services). */
  warnings: string[];
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
  const errors: ConfigError[] = [];
  const out = new Map<string, LicensedCustomer>();
  const enabled = customers.filter((c) => c.enabled);
  if (enabled.length > 0 && Object.keys(licensing.publicKeys).length === 0) {
    throw new ConfigErrors([
      new ConfigError(
        `${NAMESPACE}:licensePublicKeys`,
        "no trusted ES1 public key is configured, so no customer license can be verified; set es1:licensePublicKeys.<keyId> (docs/licensing.md)",
      ),
    ]);
  }
  for (const c of enabled) {
    let check;
    try {
      check = verifyLicense(c.license.token, {
        publicKeys: licensing.publicKeys,
        customer: c.name,
        now,
        warnWithinDays: licensing.warnWithinDays,
      });
    } catch (e) {
      if (!(e instanceof LicenseKeyError)) throw e;
      throw new ConfigErrors([new ConfigError(`${NAMESPACE}:licensePublicKeys`, e.message)]);
    }
    if (!check.ok) {
      // The message names the customer already: "license of customer '<name>': <reason>".
      errors.push(new ConfigError(`${NAMESPACE}:licenses.${c.name}`, check.message));
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
  if (errors.length > 0) throw new ConfigErrors(errors);
  return out;
}
