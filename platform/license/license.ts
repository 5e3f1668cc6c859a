// Issuing and verifying licenses. Pure functions of their inputs (the clock is a parameter), so the
// deploy-time gate, the `es1 license` command and the tests all share one implementation.
import { KeyObject, randomBytes, sign, verify } from "crypto";
import {
  checkLicense,
  DAY_MS,
  decodeEnvelope,
  encodeEnvelope,
  endOf,
  Envelope,
  ENVELOPE_FORMAT,
  fromBase64,
  isDateOnly,
  License,
  LICENSE_FORMAT_VERSION,
  licenseBytes,
  MalformedLicenseError,
  startOf,
  toBase64Url,
} from "./format";
import { parsePrivateKey, parsePublicKey } from "./keys";

/** What the vendor decides when issuing; the rest (version, id, issue date) is filled in. */
export interface LicenseRequest {
  customer: string;
  expiresAt: string;
  features: readonly string[];
  limits?: Readonly<Record<string, number>>;
  keyId: string;
  /** Default: `<customer>-<yyyymmdd>-<6 hex digits>`. */
  id?: string;
  notBefore?: string;
  /** Default: `now`, to the second. */
  issuedAt?: string;
}

/** A complete, checked License from a request; throws MalformedLicenseError on a bad field. */
export function draftLicense(req: LicenseRequest, now: Date = new Date()): License {
  const stamp = now.toISOString().slice(0, 10).replace(/-/g, "");
  return checkLicense({
    version: LICENSE_FORMAT_VERSION,
    id: req.id ?? `${req.customer}-${stamp}-${randomBytes(3).toString("hex")}`,
    customer: req.customer,
    issuedAt: req.issuedAt ?? `${now.toISOString().slice(0, 19)}Z`,
    ...(req.notBefore === undefined ? {} : { notBefore: req.notBefore }),
    expiresAt: req.expiresAt,
    features: normalFeatures(req.features),
    limits: { ...(req.limits ?? {}) },
    keyId: req.keyId,
  });
}

function normalFeatures(features: readonly string[]): string[] {
  return [...new Set(features)].sort();
}

/**
 * Signs a license with the issuer's Ed25519 private key (PKCS#8 PEM, or a KeyObject) and returns the
 * license string. The payload is checked first, so a license that would not verify is never issued.
 */
export function issueLicense(license: License, privateKey: string | KeyObject): string {
  const checked = checkLicense({ ...license, features: normalFeatures(license.features) });
  const key = parsePrivateKey(privateKey);
  const bytes = licenseBytes(checked);
  return encodeEnvelope({
    format: ENVELOPE_FORMAT,
    keyId: checked.keyId,
    payload: toBase64Url(bytes),
    signature: toBase64Url(sign(null, bytes, key)),
  });
}

export type LicenseFailureReason =
  "missing" | "malformed" | "unknown-key" | "bad-signature" | "wrong-customer" | "expired" | "not-yet-valid";

export interface LicenseAccepted {
  ok: true;
  /** `expiring`: valid, but within the warning window — deploy, and warn with `message`. */
  status: "valid" | "expiring";
  license: License;
  /** Whole days from `now` until the license ends (0 on its last day). */
  daysLeft: number;
  /** The first instant the license is no longer valid. */
  validUntil: Date;
  /** One line for humans; for `expiring` the warning, with the date. */
  message: string;
}

export interface LicenseRefused {
  ok: false;
  status: "invalid";
  reason: LicenseFailureReason;
  /** `license of customer '<name>': <what is wrong>`. */
  message: string;
  /** The key id of the envelope, when it could be read. */
  keyId?: string;
  /** The license, only when its signature verified (wrong customer, expired, not yet valid). */
  license?: License;
}

export type LicenseCheck = LicenseAccepted | LicenseRefused;

export interface VerifyOptions {
  /** Trusted public keys by key id; several during a key rotation. */
  publicKeys: Readonly<Record<string, string | KeyObject>>;
  /** The customer the license must be issued to; omitted, any customer is accepted. */
  customer?: string;
  /** Default: the current time. */
  now?: Date;
  /** A license ending within this many days is `expiring`. Default 30. */
  warnWithinDays?: number;
}

/**
 * Verifies a license string. A license problem is a result (`ok: false` with a reason), never an
 * exception; only a trusted public key that cannot be parsed throws (LicenseKeyError), because that
 * is a mistake in the configuration, not in the license.
 */
export function verifyLicense(token: string | undefined | null, opts: VerifyOptions): LicenseCheck {
  const now = opts.now ?? new Date();
  const warnWithinDays = opts.warnWithinDays ?? 30;
  const refuse = (reason: LicenseFailureReason, what: string, extra: Partial<LicenseRefused> = {}) => {
    const subject = opts.customer ?? extra.license?.customer;
    const message = subject === undefined ? `license: ${what}` : `license of customer '${subject}': ${what}`;
    const refused: LicenseRefused = { ok: false, status: "invalid", reason, message, ...extra };
    return refused;
  };

  if (token === undefined || token === null || token.trim() === "") {
    return refuse("missing", "no license is configured");
  }

  let envelope: Envelope;
  let payloadBytes: Buffer;
  let signature: Buffer;
  try {
    envelope = decodeEnvelope(token);
    payloadBytes = fromBase64(envelope.payload, "the payload");
    signature = fromBase64(envelope.signature, "the signature");
  } catch (e) {
    if (e instanceof MalformedLicenseError) return refuse("malformed", `malformed: ${e.message}`);
    throw e;
  }
  const keyId = envelope.keyId;

  const trusted = Object.prototype.hasOwnProperty.call(opts.publicKeys, keyId)
    ? opts.publicKeys[keyId]
    : undefined;
  if (trusted === undefined) {
    const known = Object.keys(opts.publicKeys).sort().join(", ") || "none";
    return refuse(
      "unknown-key",
      `signed with key '${keyId}', which is not a trusted key (trusted: ${known})`,
      {
        keyId,
      },
    );
  }
  const publicKey = typeof trusted === "string" ? parsePublicKey(trusted, keyId) : trusted;
  // Exactly the bytes that travel in the envelope are verified; nothing is re-serialised before this.
  if (signature.length !== 64 || !verify(null, payloadBytes, publicKey, signature)) {
    return refuse(
      "bad-signature",
      `signature does not match key '${keyId}': the license was altered or forged`,
      {
        keyId,
      },
    );
  }

  let license: License;
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payloadBytes.toString("utf8"));
    } catch {
      throw new MalformedLicenseError("the payload is not JSON");
    }
    license = checkLicense(parsed);
    // Only canonical bytes are accepted: rules out duplicate keys and other parser ambiguities.
    if (!licenseBytes(license).equals(payloadBytes)) {
      throw new MalformedLicenseError("the payload is not in canonical form");
    }
    if (license.keyId !== keyId) {
      throw new MalformedLicenseError(
        `the envelope names key '${keyId}' but the payload key '${license.keyId}'`,
      );
    }
  } catch (e) {
    if (e instanceof MalformedLicenseError) return refuse("malformed", `malformed: ${e.message}`, { keyId });
    throw e;
  }

  if (opts.customer !== undefined && license.customer !== opts.customer) {
    return refuse(
      "wrong-customer",
      `the license is issued to customer '${license.customer}' (license ${license.id})`,
      {
        keyId,
        license,
      },
    );
  }
  if (license.notBefore !== undefined && now < startOf(license.notBefore)) {
    return refuse("not-yet-valid", `not valid before ${license.notBefore} (license ${license.id})`, {
      keyId,
      license,
    });
  }
  const validUntil = endOf(license.expiresAt);
  if (now >= validUntil) {
    return refuse("expired", `expired ${expiryPhrase(license.expiresAt)} (license ${license.id})`, {
      keyId,
      license,
    });
  }

  const daysLeft = Math.floor((validUntil.getTime() - now.getTime()) / DAY_MS);
  const subject = `license ${license.id} of customer '${license.customer}'`;
  if (validUntil.getTime() - now.getTime() <= warnWithinDays * DAY_MS) {
    return {
      ok: true,
      status: "expiring",
      license,
      daysLeft,
      validUntil,
      message: `${subject} expires ${expiryPhrase(license.expiresAt)}, ${inDays(daysLeft)}: renew it`,
    };
  }
  return {
    ok: true,
    status: "valid",
    license,
    daysLeft,
    validUntil,
    message: `${subject} is valid until ${license.expiresAt} (${daysLeft} days left)`,
  };
}

/** "on 2026-10-01" for a date (the license covered that whole day), "at <timestamp>" otherwise. */
function expiryPhrase(expiresAt: string): string {
  return isDateOnly(expiresAt) ? `on ${expiresAt}` : `at ${expiresAt}`;
}

function inDays(days: number): string {
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  return `in ${days} days`;
}
