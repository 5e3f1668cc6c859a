// ES1 licenses: Ed25519-signed, offline-verifiable documents naming a customer, a validity period,
// licensed features and limits. Format and procedures: docs/licensing.md.
export {
  AGENT_SERVICES,
  canonicalJson,
  ENVELOPE_FORMAT,
  featureOf,
  isValidCustomerName,
  isValidFeature,
  isValidId,
  KNOWN_FEATURES,
  LICENSE_FORMAT_VERSION,
  MalformedLicenseError,
} from "./format";
export type { AgentService, Envelope, License } from "./format";
export {
  generateKeyPair,
  LicenseKeyError,
  parsePrivateKey,
  parsePublicKey,
  parsePublicKeys,
  rawPublicKey,
} from "./keys";
export type { KeyPair } from "./keys";
export { draftLicense, issueLicense, verifyLicense } from "./license";
export type {
  LicenseAccepted,
  LicenseCheck,
  LicenseFailureReason,
  LicenseRefused,
  LicenseRequest,
  VerifyOptions,
} from "./license";
export { featureGate } from "./gate";
export { SHIPPED_KEYS_DIR, shippedPublicKeys, trustedPublicKeys } from "./trusted-keys";
export type { FeatureGate, RefusedService } from "./gate";
