// The license trust anchor: the ES1 vendor's public keys, shipped with the project and rotated
// only by a release. They live in ONE place, platform/chart/files/license-keys/<keyId>.pub (one
// line: the base64 of the 32 raw Ed25519 key bytes, as `es1 license keygen` writes it), because
// the platform chart renders its runtime validator's ConfigMap from those files (.Files) and the
// deploy-time gate and `es1 license verify` read the same files here. Stack config cannot replace
// them; operator keys (`es1:licensePublicKeys`) are only for test stacks (`es1:licenseTestKeys`).
// Rotation: platform/chart/files/license-keys/README.md and docs/licensing.md.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/paths";
import { LicenseKeyError, parsePublicKeys } from "./keys";

/** The directory of the shipped public keys, relative to the project root (inside the chart). */
export const SHIPPED_KEYS_DIR = "platform/chart/files/license-keys";

let cache: Readonly<Record<string, string>> | undefined;

/**
 * The shipped public keys by key id, read from SHIPPED_KEYS_DIR and checked once. A missing or
 * unparsable key is a broken release, not a configuration mistake: it throws.
 */
export function shippedPublicKeys(): Readonly<Record<string, string>> {
  if (cache !== undefined) return cache;
  const dir = path.join(PROJECT_ROOT, SHIPPED_KEYS_DIR);
  const keys: Record<string, string> = {};
  for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith(".pub")) continue;
    keys[file.slice(0, -".pub".length)] = fs.readFileSync(path.join(dir, file), "utf8").trim();
  }
  try {
    parsePublicKeys(keys);
  } catch (e) {
    if (e instanceof LicenseKeyError) throw new Error(`${SHIPPED_KEYS_DIR}: ${e.message}`);
    throw e;
  }
  if (Object.keys(keys).length === 0) throw new Error(`${SHIPPED_KEYS_DIR} holds no <keyId>.pub`);
  cache = Object.freeze(keys);
  return cache;
}

/**
 * What licenses are verified with: the shipped keys and, on a test stack, its test keys. A test
 * key may not reuse a shipped key's id (the config parse refuses it; this is the last guard).
 */
export function trustedPublicKeys(testKeys: Readonly<Record<string, string>> = {}): Record<string, string> {
  const shipped = shippedPublicKeys();
  for (const id of Object.keys(testKeys))
    if (Object.prototype.hasOwnProperty.call(shipped, id))
      throw new LicenseKeyError(`test key id '${id}' is the id of a shipped ES1 key; choose another id`);
  return { ...shipped, ...testKeys };
}
