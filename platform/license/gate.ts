// Which agent services a license lets a customer platform deploy. A refused service is left out of
// the deployment (not a failed deploy): the customer keeps what they paid for, and the reason is reported.
import { AgentService, featureOf, License } from "./format";

export interface RefusedService {
  service: AgentService;
  /** The feature the license lacks, e.g. `agents.autogen`. */
  feature: string;
  /** `license <id> does not include agents.autogen`. */
  reason: string;
}

export interface FeatureGate {
  /** Requested services the license covers, in the order requested. */
  allowed: AgentService[];
  refused: RefusedService[];
}

/** Splits the requested agent services into those the license covers and those it does not. */
export function featureGate(license: License, services: readonly AgentService[]): FeatureGate {
  const licensed = new Set(license.features);
  const gate: FeatureGate = { allowed: [], refused: [] };
  for (const service of new Set(services)) {
    const feature = featureOf(service);
    if (licensed.has(feature)) gate.allowed.push(service);
    else gate.refused.push({ service, feature, reason: `license ${license.id} does not include ${feature}` });
  }
  return gate;
}
