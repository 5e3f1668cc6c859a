import { ConfigError, show } from "./errors";

/** Where raw config values come from: stack config in a program, a plain object in tests. */
export interface ConfigSource {
  /** The raw value of a top-level key (objects and arrays parsed), or undefined when unset. */
  get(key: string): unknown;
}

/** A plain JSON object (what `pulumi config set --path` builds). */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is PlainObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Why a key YAML left without a value is refused, naming the file when it is not stack
 * config. `primaryColor: #0b6e4f` is a comment, not a colour: taking the null as "unset" would
 * quietly deploy the default instead.
 */
export function noValue(file?: string): string {
  return (
    `the key has no value${file ? ` in ${file}` : ""}: YAML reads an empty value, or an unquoted one ` +
    `starting with '#', as null; quote the value (e.g. "#0b6e4f") or remove the key`
  );
}

/** Where the value of a config key may be null on purpose (a path below the key, e.g. ["acme"]). */
export type NullAllowed = (path: readonly string[]) => boolean;

/**
 * Calls `report` for every null inside `value` and returns a copy without them, so the parsers
 * downstream see those keys as unset and report nothing twice.
 */
export function withoutNulls(
  value: unknown,
  report: (path: string[]) => void,
  allowed: NullAllowed = () => false,
  at: string[] = [],
): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((v, i) => {
      const p = [...at, `[${i}]`];
      if (v === null && !allowed(p)) report(p);
      else out.push(withoutNulls(v, report, allowed, p));
    });
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: PlainObject = {};
  for (const [k, v] of Object.entries(value)) {
    const p = [...at, k];
    if (v === null && !allowed(p)) report(p);
    else out[k] = withoutNulls(v, report, allowed, p);
  }
  return out;
}

/** `a.b[0].c` from the segments withoutNulls reports. */
export function joinPath(base: string, path: readonly string[]): string {
  return path.reduce((acc, seg) => (seg.startsWith("[") || acc === "" ? acc + seg : `${acc}.${seg}`), base);
}

/**
 * Reads and checks config values, collecting every problem instead of stopping at the first,
 * with keys spelled the way a user sets them (`es1:cluster.provider`).
 */
export class Reader {
  readonly errors: ConfigError[] = [];

  constructor(
    private readonly source: ConfigSource,
    readonly namespace: string,
  ) {}

  key(path: string): string {
    return `${this.namespace}:${path}`;
  }

  fail(path: string, problem: string): void {
    this.errors.push(new ConfigError(this.key(path), problem));
  }

  /**
   * The value of a top-level key, undefined when unset. A key YAML left empty (null, or the empty
   * string Pulumi makes of a top-level null), and any null inside the value except where
   * `nullAllowed` says so, is refused (noValue) and read as unset.
   */
  raw(key: string, nullAllowed?: NullAllowed): unknown {
    const value = this.source.get(key);
    if (value === null || value === "") {
      this.fail(key, noValue());
      return undefined;
    }
    return withoutNulls(value, (p) => this.fail(joinPath(key, p), noValue()), nullAllowed);
  }

  /** A nested object (or top-level key); undefined when unset, `{}` after an error. */
  object(path: string, value: unknown): PlainObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) {
      this.fail(path, `expected an object, got ${show(value)}`);
      return {};
    }
    return value;
  }

  /**
   * A nested object that holds secrets: like object(), but a wrong value is never repeated in the
   * message (a password given where a map was expected is still a password).
   */
  secretObject(path: string, value: unknown, holds: string): PlainObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) {
      this.fail(
        path,
        `expected an object of ${holds}, got a ${Array.isArray(value) ? "list" : typeof value} (not shown: it may be a secret)`,
      );
      return {};
    }
    return value;
  }

  /** Refuses keys a section does not know, so typos do not pass silently. */
  knownKeys(path: string, obj: PlainObject, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        this.fail(
          path ? `${path}.${k}` : k,
          `unknown key; allowed keys${path ? ` of '${this.key(path)}'` : ""}: ${allowed.join(", ")}`,
        );
      }
    }
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null || value === "") return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.fail(path, `${show(value)} is not allowed; use one of: ${allowed.join(", ")}`);
    return fallback;
  }

  string(path: string, value: unknown, fallback: string, pattern?: { re: RegExp; says: string }): string {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || value === "") {
      this.fail(path, `expected a non-empty string, got ${show(value)}`);
      return fallback;
    }
    if (pattern && !pattern.re.test(value)) {
      this.fail(path, `${show(value)} is not valid: ${pattern.says}`);
      return fallback;
    }
    return value;
  }

  optionalString(path: string, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    return this.string(path, value, "") || undefined;
  }

  boolean(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    this.fail(path, `expected true or false, got ${show(value)}`);
    return fallback;
  }

  /** A whole number within bounds; `fallback` when unset. */
  integer(path: string, value: unknown, fallback: number, bounds: { min: number; max: number }): number {
    if (value === undefined || value === null) return fallback;
    const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      this.fail(path, `expected a whole number, got ${show(value)}`);
      return fallback;
    }
    if (n < bounds.min || n > bounds.max) {
      this.fail(path, `${n} is out of range; use ${bounds.min} to ${bounds.max}`);
      return fallback;
    }
    return n;
  }

  /** A list of non-empty strings (a YAML list); `[]` when unset. */
  stringList(path: string, value: unknown): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `expected a list of strings, got ${show(value)}`);
      return [];
    }
    const out: string[] = [];
    value.forEach((v, i) => {
      if (typeof v !== "string" || v === "")
        this.fail(`${path}[${i}]`, `expected a non-empty string, got ${show(v)}`);
      else out.push(v);
    });
    return out;
  }

  stringMap(path: string, value: unknown): Record<string, string> {
    const obj = this.object(path, value);
    if (!obj) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v !== "string") this.fail(`${path}.${k}`, `expected a string, got ${show(v)}`);
      else out[k] = v;
    }
    return out;
  }
}
