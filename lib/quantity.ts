// Kubernetes resource quantities ("250m", "2", "512Mi", "1.5Gi", "1e3") as numbers, for capacity
// arithmetic (preflight) and display. The API server's canonical forms are all covered.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The value of a quantity in its base unit (cores, bytes, devices); undefined when malformed. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) ? text : undefined;
  if (text === undefined) return undefined;
  const m =
    /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? "";
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** CPU cores as people write them: "250m", "1.5". */
export function formatCpu(cores: number): string {
  if (cores < 1) return `${Math.round(cores * 1000)}m`;
  return `${Math.round(cores * 100) / 100}`;
}

/** Bytes in binary units: "512Mi", "12.5Gi". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["Ti", 2 ** 40],
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10}${unit}`;
  }
  return `${Math.round(bytes)}`;
}
