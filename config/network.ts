// `es1:network`: the addresses outside the cluster's pod network that es1-infrastructure's
// NetworkPolicies may reach (infrastructure/network.ts). Nothing outside is reachable unless named
// here: the Kubernetes API and the nodes for the pods that need them, and per component the
// external endpoints a site allows (an OIDC issuer, a model registry, receivers of alerts, ...).
import { show } from "./errors";
import { Reader } from "./reader";
import { COMPONENTS, ComponentName } from "./sizing";

/** Who an egress rule opens for: a component, or Velero (es1-velero: volume backups). */
export const EGRESS_COMPONENTS = [...COMPONENTS, "velero"] as const;
export type EgressComponent = ComponentName | "velero";

/** One external endpoint a component may reach. */
export interface EgressRule {
  /** The rule's name in es1:network.egress (what it is for). */
  name: string;
  component: EgressComponent;
  cidr: string;
  ports: number[];
}

export interface NetworkSettings {
  /** Where the Kubernetes API server answers (operators, cert-manager, Prometheus' discovery). */
  apiServerCidrs: string[];
  /** The nodes' addresses (Prometheus scrapes kubelets and node-exporter on the host network). */
  nodeCidrs: string[];
  egress: EgressRule[];
}

/** Unset: anywhere, but only on the API's ports (443, 6443) and only for the pods that need it. */
export const ANYWHERE = "0.0.0.0/0";

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|\d?\d)$/;
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Whether `s` is an IPv4 or IPv6 CIDR. */
export function isCidr(s: string): boolean {
  return IPV4_CIDR.test(s) || IPV6_CIDR.test(s);
}

function cidrs(r: Reader, path: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const list = r.stringList(path, value);
  list.forEach((c, i) => {
    if (!isCidr(c)) r.fail(`${path}[${i}]`, `${show(c)} is not a CIDR such as 10.0.0.0/16 or 172.16.0.2/32`);
  });
  if (Array.isArray(value) && value.length === 0)
    r.fail(path, "is empty; leave it unset or name at least one CIDR");
  return list;
}

/** Parses `es1:network`. */
export function parseNetwork(r: Reader): NetworkSettings {
  const obj = r.object("network", r.raw("network")) ?? {};
  r.knownKeys("network", obj, ["apiServerCidrs", "nodeCidrs", "egress"]);
  const egress: EgressRule[] = [];
  const rules = r.object("network.egress", obj.egress) ?? {};
  for (const [name, raw] of Object.entries(rules)) {
    const path = `network.egress.${name}`;
    if (!NAME.test(name)) r.fail(path, "rule names are lower-case letters, digits and '-'");
    const rule = r.object(path, raw) ?? {};
    r.knownKeys(path, rule, ["component", "cidr", "ports"]);
    if (rule.component === undefined)
      r.fail(`${path}.component`, `required; one of: ${EGRESS_COMPONENTS.join(", ")}`);
    const component = r.oneOf(`${path}.component`, rule.component, EGRESS_COMPONENTS, "ollama");
    const cidr = r.string(`${path}.cidr`, rule.cidr, "");
    if (cidr === "")
      r.fail(`${path}.cidr`, "required: the CIDR the component may reach, such as 203.0.113.10/32");
    else if (!isCidr(cidr)) r.fail(`${path}.cidr`, `${show(cidr)} is not a CIDR such as 203.0.113.10/32`);
    const ports: number[] = [];
    if (!Array.isArray(rule.ports) || rule.ports.length === 0)
      r.fail(`${path}.ports`, "required: a list of TCP ports, such as [443]");
    else
      rule.ports.forEach((p, i) =>
        ports.push(r.integer(`${path}.ports[${i}]`, p, 0, { min: 1, max: 65535 })),
      );
    egress.push({ name, component, cidr, ports });
  }
  return {
    apiServerCidrs: cidrs(r, "network.apiServerCidrs", obj.apiServerCidrs, [ANYWHERE]),
    nodeCidrs: cidrs(r, "network.nodeCidrs", obj.nodeCidrs, [ANYWHERE]),
    egress,
  };
}
