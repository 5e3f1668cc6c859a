// The ES1 license format: the payload schema, its canonical bytes, the envelope that carries the
// signature, and the dates in it. No cryptography here (see keys.ts and license.ts), so a validator
// in another language can be written from this file and docs/licensing.md alone.

/** Version of the payload schema; a new meaning for any field means a new version. */
export const LICENSE_FORMAT_VERSION = 1;

/** The `format` marker of the envelope: tells an ES1 license from any other base64 JSON. */
export const ENVELOPE_FORMAT = "es1-license";

/** Agent services of the ES1 platform that a license can switch on, one feature each. */
export const AGENT_SERVICES = ["crewai", "autogen", "router"] as const;
export type AgentService = (typeof AGENT_SERVICES)[number];

/** The feature a license must list for an agent service to be deployed. */
export function featureOf(service: AgentService): string {
  return `agents.${service}`;
}

/** Features this version of the installer knows; `es1 license issue` refuses others (typos cost money). */
export const KNOWN_FEATURES: readonly string[] = AGENT_SERVICES.map(featureOf);

/** What a license says. Exactly these fields, no others: a signed document must be fully understood. */
export interface License {
  readonly version: typeof LICENSE_FORMAT_VERSION;
  /** Unique id of this license, quoted in messages and by support. */
  readonly id: string;
  /** The customer (a DNS label, as in `customers/<name>.yaml`) the license is issued to. */
  readonly customer: string;
  /** When it was issued: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.sss]Z`. Informational. */
  readonly issuedAt: string;
  /** Not valid before this: a date means from its first instant (UTC). */
  readonly notBefore?: string;
  /** Last validity: a date means through the end of that day (UTC), a timestamp that instant. */
  readonly expiresAt: string;
  /** Licensed features, sorted and unique, e.g. `agents.crewai`. */
  readonly features: readonly string[];
  /** Numeric limits, e.g. `{ seats: 50 }`: non-negative integers. */
  readonly limits: Readonly<Record<string, number>>;
  /** Id of the key that signed it; the envelope repeats it so it can be read before verifying. */
  readonly keyId: string;
}

/** The outer, unsigned layer: the payload bytes travel as they were signed, never re-serialised. */
export interface Envelope {
  readonly format: typeof ENVELOPE_FORMAT;
  readonly keyId: string;
  /** base64url of the canonical JSON bytes of the License. */
  readonly payload: string;
  /** base64url of the 64-byte Ed25519 signature over exactly those bytes. */
  readonly signature: string;
}

/** A license (or envelope) that cannot be read; `message` says what is wrong, for humans. */
export class MalformedLicenseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedLicenseError";
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON and base64

type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | CanonicalObject;
interface CanonicalObject {
  readonly [key: string]: CanonicalValue | undefined;
}

/**
 * Deterministic JSON: object keys sorted by code unit, no whitespace, `undefined` members left out.
 * Signer and verifier agree on bytes without agreeing on a serialiser.
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("non-finite number in JSON");
    return JSON.stringify(value);
  }
  if (isReadonlyArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const members = Object.keys(value)
    .sort()
    .flatMap((k) => {
      const v = value[k];
      return v === undefined ? [] : [`${JSON.stringify(k)}:${canonicalJson(v)}`];
    });
  return `{${members.join(",")}}`;
}

// Array.isArray narrows to any[] and loses readonly-ness; this keeps the element type.
function isReadonlyArray(v: CanonicalValue): v is readonly CanonicalValue[] {
  return Array.isArray(v);
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/**
 * Strict base64/base64url decoding (padding optional). Buffer.from silently skips invalid characters,
 * which would let garbage through, so the alphabet and length are checked first.
 */
export function fromBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.replace(/=+$/, "").length % 4 === 1 || text === "") {
    throw new MalformedLicenseError(`${what} is not a base64 string`);
  }
  return Buffer.from(text, "base64");
}

// ---------------------------------------------------------------------------------------------
// Dates

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether a license date is a calendar date (`YYYY-MM-DD`) rather than a UTC timestamp. */
export function isDateOnly(value: string): boolean {
  return DATE_RE.test(value);
}

/**
 * The instant a license date stands for, or undefined when it is not one of the two accepted forms
 * (a calendar date, or a UTC timestamp with `Z`: no offsets, so one instant has one spelling).
 */
export function parseLicenseDate(value: string): Date | undefined {
  const m = DATE_RE.exec(value) ?? TIMESTAMP_RE.exec(value);
  if (!m) return undefined;
  const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) return undefined;
  // Date() rolls 2026-02-30 over to March; a round trip catches it.
  if (d.toISOString().slice(0, 10) !== value.slice(0, 10)) return undefined;
  if (m.length > 4 && d.toISOString().slice(11, 19) !== value.slice(11, 19)) return undefined;
  return d;
}

/** First instant a `notBefore` admits. */
export function startOf(value: string): Date {
  const d = parseLicenseDate(value);
  if (!d) throw new MalformedLicenseError(`'${value}' is not a date`);
  return d;
}

/** First instant the license is no longer valid: a date-only `expiresAt` covers its whole day. */
export function endOf(value: string): Date {
  const d = startOf(value);
  return isDateOnly(value) ? new Date(d.getTime() + DAY_MS) : d;
}

// ---------------------------------------------------------------------------------------------
// Payload schema

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Ids become file names (`<keyId>.pub`) and ConfigMap keys: no slashes, no dots first. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FEATURE_RE = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/;
const LIMIT_RE = /^[a-z][A-Za-z0-9]{0,63}$/;

const REQUIRED = ["version", "id", "customer", "issuedAt", "expiresAt", "features", "limits", "keyId"];
const OPTIONAL = ["notBefore"];

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export function isValidCustomerName(name: string): boolean {
  return DNS_LABEL.test(name);
}

export function isValidFeature(feature: string): boolean {
  return FEATURE_RE.test(feature);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks that `value` is a complete, well-formed License and returns it typed. Throws
 * MalformedLicenseError naming the first field at fault. Used both before signing (no bad license
 * is ever issued) and after verifying.
 */
export function checkLicense(value: unknown): License {
  if (!isRecord(value)) throw new MalformedLicenseError("the payload is not a JSON object");
  for (const k of Object.keys(value)) {
    if (!REQUIRED.includes(k) && !OPTIONAL.includes(k)) {
      throw new MalformedLicenseError(`unknown field '${k}' in the payload`);
    }
  }
  for (const k of REQUIRED) {
    if (value[k] === undefined) throw new MalformedLicenseError(`field '${k}' is missing`);
  }
  const { version, id, customer, issuedAt, notBefore, expiresAt, features, limits, keyId } = value;
  if (version !== LICENSE_FORMAT_VERSION) {
    throw new MalformedLicenseError(
      `unsupported license format version ${JSON.stringify(version)} (this installer reads version ${LICENSE_FORMAT_VERSION})`,
    );
  }
  const str = (name: string, v: unknown, ok: (s: string) => boolean, allowed: string): string => {
    if (typeof v !== "string" || !ok(v)) {
      throw new MalformedLicenseError(`field '${name}' is ${JSON.stringify(v)}: expected ${allowed}`);
    }
    return v;
  };
  const date = (name: string, v: unknown): string =>
    str(name, v, (s) => parseLicenseDate(s) !== undefined, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");

  const license: License = {
    version: LICENSE_FORMAT_VERSION,
    id: str("id", id, isValidId, "letters, digits, '.', '_', '-' (at most 64)"),
    customer: str("customer", customer, isValidCustomerName, "a DNS label"),
    issuedAt: date("issuedAt", issuedAt),
    ...(notBefore === undefined ? {} : { notBefore: date("notBefore", notBefore) }),
    expiresAt: date("expiresAt", expiresAt),
    features: checkFeatures(features),
    limits: checkLimits(limits),
    keyId: str("keyId", keyId, isValidId, "letters, digits, '.', '_', '-' (at most 64)"),
  };
  if (endOf(license.expiresAt) <= startOf(license.issuedAt)) {
    throw new MalformedLicenseError(`expiresAt ${license.expiresAt} is before issuedAt ${license.issuedAt}`);
  }
  if (license.notBefore !== undefined && endOf(license.expiresAt) <= startOf(license.notBefore)) {
    throw new MalformedLicenseError(
      `expiresAt ${license.expiresAt} is before notBefore ${license.notBefore}`,
    );
  }
  return license;
}

function checkFeatures(v: unknown): string[] {
  if (!Array.isArray(v)) throw new MalformedLicenseError("field 'features' is not a list");
  const out: string[] = [];
  for (const f of v) {
    if (typeof f !== "string" || !isValidFeature(f)) {
      throw new MalformedLicenseError(
        `feature ${JSON.stringify(f)} is not a feature name like 'agents.crewai'`,
      );
    }
    out.push(f);
  }
  // Sorted and unique is part of the canonical form: one license, one byte string.
  const normal = [...new Set(out)].sort();
  if (normal.join("\n") !== out.join("\n")) {
    throw new MalformedLicenseError("field 'features' is not sorted and free of duplicates");
  }
  return out;
}

function checkLimits(v: unknown): Record<string, number> {
  if (!isRecord(v)) throw new MalformedLicenseError("field 'limits' is not an object");
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) {
    if (!LIMIT_RE.test(k))
      throw new MalformedLicenseError(`limit name '${k}' is not an identifier like 'seats'`);
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new MalformedLicenseError(
        `limit '${k}' is ${JSON.stringify(n)}: expected a non-negative integer`,
      );
    }
    out[k] = n;
  }
  return out;
}

/** The exact bytes that are signed: the canonical JSON of the License, UTF-8. */
export function licenseBytes(license: License): Buffer {
  return Buffer.from(canonicalJson(toCanonical(license)), "utf8");
}

function toCanonical(license: License): CanonicalObject {
  return { ...license, features: [...license.features], limits: { ...license.limits } };
}

// ---------------------------------------------------------------------------------------------
// Envelope

/** The license string: base64url (no padding) of the canonical JSON of the envelope. */
export function encodeEnvelope(envelope: Envelope): string {
  return toBase64Url(Buffer.from(canonicalJson({ ...envelope }), "utf8"));
}

/**
 * Reads the envelope of a license string without verifying anything. Whitespace is dropped first
 * because pasted licenses get wrapped; base64 and base64url are both accepted.
 */
export function decodeEnvelope(token: string): Envelope {
  const compact = token.replace(/\s+/g, "");
  const bytes = fromBase64(compact, "the license");
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new MalformedLicenseError("the license does not decode to JSON");
  }
  if (!isRecord(parsed)) throw new MalformedLicenseError("the license does not decode to a JSON object");
  if (parsed.format !== ENVELOPE_FORMAT) {
    throw new MalformedLicenseError(`not an ES1 license (format ${JSON.stringify(parsed.format)})`);
  }
  for (const k of ["keyId", "payload", "signature"]) {
    if (typeof parsed[k] !== "string") throw new MalformedLicenseError(`envelope field '${k}' is missing`);
  }
  const { keyId, payload, signature } = parsed as Record<string, string>;
  if (!isValidId(keyId)) throw new MalformedLicenseError(`key id ${JSON.stringify(keyId)} is not a valid id`);
  return { format: ENVELOPE_FORMAT, keyId, payload, signature };
}
