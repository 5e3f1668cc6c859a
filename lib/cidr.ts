/** IPv4 CIDR blocks: enough arithmetic to check config and carve subnets out of a network. */
export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function toText(base: number, prefix: number): string {
  return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${prefix}`;
}

function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Parses `a.b.c.d/n`. Returns a reason instead of a Cidr when the text is not a network address
 * (including one with host bits set, which clouds refuse or silently truncate).
 */
export function parseCidr(text: string): Cidr | string {
  const m = CIDR_RE.exec(text);
  if (!m) return "expected an IPv4 CIDR block such as 10.0.0.0/16";
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return "expected an IPv4 CIDR block such as 10.0.0.0/16";
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const base = addr - (addr % size(prefix));
  if (base !== addr) return `host bits are set; the network address is ${toText(base, prefix)}`;
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return toText(c.base, c.prefix);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/** The index-th block of `newBits` more prefix bits inside `parent` (Terraform's cidrsubnet). */
export function subnet(parent: string, newBits: number, index: number): string {
  const p = parseCidr(parent);
  if (typeof p === "string") throw new Error(`${parent}: ${p}`);
  const prefix = p.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits) {
    throw new Error(`${parent} has no subnet ${index} of /${prefix}`);
  }
  return toText(p.base + index * size(prefix), prefix);
}

/** The n-th address of a block, e.g. a cluster DNS service IP inside the service range. */
export function hostAddress(block: string, n: number): string {
  const p = parseCidr(block);
  if (typeof p === "string") throw new Error(`${block}: ${p}`);
  return toText(p.base + n, 32).replace(/\/32$/, "");
}
