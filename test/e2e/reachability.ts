// The isolation matrix a paying tenant relies on, checked against np-guard netpol-analyzer's list
// of allowed connections (`netpolicy list -o json`). Written from what docs/customers.md
// ("Isolation") promises, not from the policies, so a policy that opens a path fails the check
// with the path named.

/** One allowed connection as the analyzer prints it. */
export interface Connection {
  /** `namespace/name[Kind]`, or an address range `a.b.c.d-e.f.g.h` outside the pods. */
  src: string;
  dst: string;
  /** `All Connections`, or `TCP 5432,9187`, `TCP 53,UDP 53`, `TCP 1-65535`, ... */
  conn: string;
}

export interface Endpoint {
  namespace?: string;
  /** Workload name, without its kind. */
  name?: string;
  /** An address range (first and last address). */
  range?: [string, string];
}

export function parseEndpoint(s: string): Endpoint {
  const w = /^([^/]+)\/(.+)\[[A-Za-z]+\]$/.exec(s);
  if (w) return { namespace: w[1], name: w[2] };
  const r = /^([0-9a-fA-F.:]+)-([0-9a-fA-F.:]+)$/.exec(s);
  if (r) return { range: [r[1], r[2]] };
  throw new Error(`unrecognized endpoint in the analyzer's output: ${s}`);
}

/** A connection's ports per protocol; `all` when it allows every port of every protocol. */
export type Ports =
  { all: true } | { all: false; tcp: [number, number][]; udp: [number, number][]; other: boolean };

export function parsePorts(conn: string): Ports {
  if (/^All Connections$/i.test(conn.trim())) return { all: true };
  const out: Ports = { all: false, tcp: [], udp: [], other: false };
  // "TCP 53,8080-8081,UDP 53" or "TCP 53;UDP 53"
  let proto = "";
  for (const part of conn.split(/[,;]\s*/)) {
    const m = /^\s*(?:([A-Za-z]+)\s+)?(\d+)(?:-(\d+))?\s*$/.exec(part);
    const p = /^\s*([A-Za-z]+)\s*$/.exec(part);
    if (p) {
      proto = p[1].toUpperCase();
      if (proto !== "TCP" && proto !== "UDP") out.other = true;
      // A protocol alone: every port of it.
      (proto === "TCP" ? out.tcp : proto === "UDP" ? out.udp : []).push([1, 65535]);
      continue;
    }
    if (!m) throw new Error(`unrecognized connection in the analyzer's output: ${conn}`);
    if (m[1]) proto = m[1].toUpperCase();
    const range: [number, number] = [Number(m[2]), Number(m[3] ?? m[2])];
    if (proto === "TCP") out.tcp.push(range);
    else if (proto === "UDP") out.udp.push(range);
    else out.other = true;
  }
  return out;
}

function within(ranges: [number, number][], allowed: readonly number[]): boolean {
  return ranges.every(([a, b]) => {
    for (let p = a; p <= b; p++) if (!allowed.includes(p)) return false;
    return true;
  });
}

/** Whether `ports` allows nothing but the given TCP (and UDP) ports. */
export function onlyPorts(ports: Ports, tcp: readonly number[], udp: readonly number[] = []): boolean {
  return !ports.all && !ports.other && within(ports.tcp, tcp) && within(ports.udp, udp);
}

function ipv4(a: string): number {
  const p = a.split(".").map(Number);
  return p.length === 4 ? ((p[0] * 256 + p[1]) * 256 + p[2]) * 256 + p[3] : NaN;
}

/** Whether the range [first, last] lies inside one of the CIDRs (IPv4). */
export function rangeInside(range: [string, string], cidrs: readonly string[]): boolean {
  const [lo, hi] = [ipv4(range[0]), ipv4(range[1])];
  return cidrs.some((c) => {
    const [base, bits] = c.split("/");
    const size = 2 ** (32 - Number(bits));
    const start = Math.floor(ipv4(base) / size) * size;
    return lo >= start && hi <= start + size - 1;
  });
}

/** What the installation promises; workloads are matched by name (see startsWithAny). */
export interface Expectations {
  infrastructureNamespace: string;
  /** Customer platform namespaces. */
  customerNamespaces: string[];
  /** Prometheus' workload name(s) in the infrastructure namespace. */
  prometheus: string[];
  /** Per customer workload (`ns/name`), the ports Prometheus may scrape (metrics, http, license). */
  scrapePorts: Record<string, number[]>;
  /**
   * Shared stores, by workload name prefix: the ports customers may use (none: `[]`) and, per
   * workload name prefix of es1-infrastructure, the ports that workload may use. Nothing else gets in.
   */
  stores: Record<string, { customers: number[]; from: Record<string, number[]> }>;
  /** Services of es1-infrastructure customers may use: name prefix → ports. */
  customerServices: Record<string, number[]>;
  /** Addresses outside the pods each infrastructure workload (name prefix) may reach, with ports. */
  egress: { from: string[]; cidrs: string[]; ports: number[] }[];
  /** Addresses outside the cluster each customer namespace may reach (its online license server). */
  customerEgress: Record<string, { cidrs: string[]; ports: number[] }>;
  /** Addresses outside the pods that may reach workloads (name prefix) on ports (webhooks). */
  ingress: { to: string[]; cidrs: string[]; ports: number[] }[];
}

/**
 * Whether a workload name is one of `patterns`: a name, a name followed by `-…` (its pods), or, when
 * the pattern starts with `^`, a regular expression.
 */
const startsWithAny = (name: string | undefined, patterns: readonly string[]): boolean =>
  name !== undefined &&
  patterns.some((p) =>
    p.startsWith("^") ? new RegExp(p).test(name) : name === p || name.startsWith(`${p}-`),
  );

function tcpPorts(ports: Ports): number[] {
  return ports.all ? [] : ports.tcp.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
}

/**
 * Every allowed connection the expectations forbid, each named `src => dst (conn): why`. Empty
 * when the installation holds its promises.
 */
export function violations(conns: readonly Connection[], x: Expectations): string[] {
  const out: string[] = [];
  const infra = (e: Endpoint) => e.namespace === x.infrastructureNamespace;
  const customer = (e: Endpoint) => e.namespace !== undefined && x.customerNamespaces.includes(e.namespace);
  for (const c of conns) {
    const src = parseEndpoint(c.src);
    const dst = parseEndpoint(c.dst);
    const ports = parsePorts(c.conn);
    const no = (why: string) => out.push(`${c.src} => ${c.dst} (${c.conn}): ${why}`);
    if (customer(src) && customer(dst) && src.namespace !== dst.namespace) {
      no("one customer reaches another");
      continue;
    }
    if (customer(dst) && !customer(src)) {
      if (infra(src)) {
        if (!startsWithAny(src.name, x.prometheus))
          no("only Prometheus of the shared namespace reaches customers");
        else if (!onlyPorts(ports, x.scrapePorts[`${dst.namespace}/${dst.name}`] ?? []))
          no("Prometheus reaches a customer beyond its metrics ports");
      } else no("a customer platform is reachable from outside its namespace");
      continue;
    }
    if (infra(dst)) {
      const store = Object.entries(x.stores).find(([p]) => startsWithAny(dst.name, [p]));
      if (customer(src)) {
        const allowed = store
          ? store[1].customers
          : Object.entries(x.customerServices).find(([p]) => startsWithAny(dst.name, [p]))?.[1];
        if (!allowed || allowed.length === 0 || !onlyPorts(ports, allowed))
          no("a customer reaches a shared workload it does not use");
        continue;
      }
      if (src.range) {
        const rule = x.ingress.find((r) => startsWithAny(dst.name, r.to));
        if (!rule || !rangeInside(src.range, rule.cidrs) || !onlyPorts(ports, rule.ports))
          no("the shared namespace accepts a connection from outside the cluster");
        continue;
      }
      if (!infra(src)) {
        no("the shared namespace is reached from another namespace");
        continue;
      }
      if (store) {
        const allowed = Object.entries(store[1].from)
          .filter(([p]) => startsWithAny(src.name, [p]))
          .flatMap(([, p]) => p);
        if (allowed.length === 0 || !onlyPorts(ports, allowed))
          no(`${store[0]} is reached by a workload that is not its consumer, or beyond its ports`);
      }
      continue;
    }
    if (dst.range) {
      if (customer(src)) {
        const own = x.customerEgress[src.namespace ?? ""];
        if (!own || !rangeInside(dst.range, own.cidrs) || !onlyPorts(ports, own.ports))
          no("a customer reaches outside the cluster beyond its license server");
        continue;
      }
      // The union of every rule that names this source and covers this address range.
      const range = dst.range;
      const allowed = x.egress
        .filter((r) => startsWithAny(src.name, r.from) && rangeInside(range, r.cidrs))
        .flatMap((r) => r.ports);
      const ok = allowed.length > 0 && onlyPorts(ports, allowed);
      if (!ok)
        no(`egress outside the cluster no setting names (ports ${tcpPorts(ports).join(",") || c.conn})`);
    }
  }
  return out;
}
