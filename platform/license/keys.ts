// Ed25519 keys of the license issuer.
//
// Public key: base64 of the 32 raw key bytes (one line, 44 characters) — it goes into stack config
// and a ConfigMap, where a PEM block is awkward. PEM (SPKI) is accepted too.
// Private key: PKCS#8 PEM, what OpenSSL reads (`openssl pkey -in k.key -pubout`). Also accepted as
// the base64 of the PKCS#8 DER on one line, for environment variables that cannot hold newlines.
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from "crypto";
import { isValidId } from "./format";

export interface KeyPair {
  keyId: string;
  /** base64 of the 32-byte raw Ed25519 public key. */
  publicKey: string;
  /** PKCS#8 PEM. Secret: never log it, never commit it, never put it into a stack. */
  privateKey: string;
}

/** A public or private key that cannot be used; the message never contains key material. */
export class LicenseKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LicenseKeyError";
  }
}

export function generateKeyPair(keyId: string): KeyPair {
  if (!isValidId(keyId)) {
    throw new LicenseKeyError(`key id '${keyId}' is not valid: letters, digits, '.', '_', '-' (at most 64)`);
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    keyId,
    publicKey: rawPublicKey(publicKey),
    privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** base64 of the raw 32 bytes of an Ed25519 public key (JWK's `x`, re-encoded). */
export function rawPublicKey(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const { x } = pub.export({ format: "jwk" });
  if (typeof x !== "string") throw new LicenseKeyError("not an Ed25519 key");
  return Buffer.from(x, "base64url").toString("base64");
}

/** Parses a public key given as raw base64 (or base64url) of 32 bytes, or as SPKI PEM. */
export function parsePublicKey(text: string, keyId: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith("-----BEGIN")) {
      key = createPublicKey({ key: trimmed, format: "pem" });
    } else {
      const raw = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : Buffer.alloc(0);
      if (raw.length !== 32) throw new Error("wrong length");
      key = createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
        format: "jwk",
      });
    }
  } catch {
    throw new LicenseKeyError(
      `public key '${keyId}' is not an Ed25519 public key (expected the base64 of 32 bytes, or a PEM block)`,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new LicenseKeyError(
      `public key '${keyId}' is a ${key.asymmetricKeyType ?? "unknown"} key, not Ed25519`,
    );
  }
  return key;
}

/** Parses every trusted public key up front, so a bad one is reported by its id, not at first use. */
export function parsePublicKeys(keys: Readonly<Record<string, string | KeyObject>>): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const [keyId, key] of Object.entries(keys)) {
    if (!isValidId(keyId)) throw new LicenseKeyError(`public key id '${keyId}' is not a valid id`);
    out.set(
      keyId,
      typeof key === "string"
        ? parsePublicKey(key, keyId)
        : checkEd25519(key, `public key '${keyId}'`, "public"),
    );
  }
  return out;
}

/** Parses a private key given as PKCS#8 PEM, or as one line of base64 PKCS#8 DER. */
export function parsePrivateKey(text: string | KeyObject, source = "the private key"): KeyObject {
  if (typeof text !== "string") return checkEd25519(text, source, "private");
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith("-----BEGIN")
      ? createPrivateKey({ key: trimmed, format: "pem" })
      : createPrivateKey({ key: Buffer.from(trimmed, "base64"), format: "der", type: "pkcs8" });
  } catch {
    // Never echo the input: it may be a private key with a typo in it.
    throw new LicenseKeyError(`${source} is not a PKCS#8 private key (PEM, or base64 DER on one line)`);
  }
  return checkEd25519(key, source, "private");
}

function checkEd25519(key: KeyObject, name: string, type: "public" | "private"): KeyObject {
  if (key.type !== type || key.asymmetricKeyType !== "ed25519") {
    throw new LicenseKeyError(`${name} is not an Ed25519 ${type} key`);
  }
  return key;
}
