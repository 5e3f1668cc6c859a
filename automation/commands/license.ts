// `es1 license keygen | issue | verify`: the vendor's side of licensing (and a check operators can
// run). The private key is read from a file or the environment and is never printed or written
// anywhere but the key file keygen creates.
import * as fs from "fs";
import * as path from "path";
import {
  draftLicense,
  generateKeyPair,
  issueLicense,
  isValidCustomerName,
  isValidId,
  KNOWN_FEATURES,
  License,
  LicenseCheck,
  LicenseKeyError,
  MalformedLicenseError,
  parsePrivateKey,
  parsePublicKeys,
  rawPublicKey,
  SHIPPED_KEYS_DIR,
  shippedPublicKeys,
  verifyLicense,
} from "../../platform/license";
import {
  Command,
  CommandIO,
  EXIT_INVALID,
  EXIT_OK,
  EXIT_USAGE,
  optional,
  parseArgs,
  readAll,
  required,
  UsageError,
} from "./common";

export const PRIVATE_KEY_ENV = "ES1_LICENSE_PRIVATE_KEY";

const USAGE: Record<string, string> = {
  keygen: "es1 license keygen --key-id <id> --out <dir>",
  issue:
    "es1 license issue --customer <name> --expires <YYYY-MM-DD> --features <f1,f2,...> [--seats <n>] [--id <id>]\n" +
    "                  [--not-before <YYYY-MM-DD>] --key-id <id> [--private-key-file <file>]\n" +
    `                  (without --private-key-file the key is read from $${PRIVATE_KEY_ENV})`,
  verify:
    "es1 license verify <file|-> [--public-key <id>=<file> ...] [--customer <name>]\n" +
    "                   [--warn-days <n>] [--json]\n" +
    `                   (trusts the ES1 keys shipped in ${SHIPPED_KEYS_DIR}, and each --public-key)`,
};

const HELP = `usage:
  ${USAGE.keygen}
  ${USAGE.issue}
  ${USAGE.verify}

exit codes: 0 ok, 1 the license is invalid, 2 usage or input error.
Known features: ${KNOWN_FEATURES.join(", ")}. See docs/licensing.md.
`;

export async function licenseCommand(argv: string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  const subcommands: Record<string, Command | undefined> = { keygen, issue, verify };
  const run = sub === undefined ? undefined : subcommands[sub];
  if (sub === undefined || run === undefined) {
    io.stderr.write(
      `es1 license: ${sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`}\n${HELP}`,
    );
    return EXIT_USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`usage: ${USAGE[sub]}\n`);
    return EXIT_OK;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`es1 license ${sub}: ${e.message}\nusage: ${USAGE[sub]}\n`);
      return EXIT_USAGE;
    }
    // Bad keys, bad license fields and unreadable files are input errors: say which, exit 2.
    if (e instanceof LicenseKeyError || e instanceof MalformedLicenseError || e instanceof InputError) {
      io.stderr.write(`es1 license ${sub}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/** A file that cannot be read or written; reported without a stack trace. */
class InputError extends Error {}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${what} '${file}': ${errorCode(e)}`);
  }
}

function errorCode(e: unknown): string {
  if (e instanceof Error && "code" in e && typeof e.code === "string") return e.code;
  return e instanceof Error ? e.message : String(e);
}

function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
}

// ---------------------------------------------------------------------------------------------

async function keygen(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, { values: ["key-id", "out"] });
  noPositionals(args.positionals);
  const keyId = required(args, "key-id");
  const outDir = path.resolve(required(args, "out"));
  if (!isValidId(keyId)) {
    throw new UsageError(`key id '${keyId}' is not valid: letters, digits, '.', '_', '-' (at most 64)`);
  }
  const keyFile = path.join(outDir, `${keyId}.key`);
  const pubFile = path.join(outDir, `${keyId}.pub`);
  // Both checked before either is written: a half-replaced pair would be worse than none.
  for (const f of [keyFile, pubFile]) {
    if (fs.existsSync(f))
      throw new InputError(`${f} exists; refusing to overwrite a key (choose another --key-id)`);
  }
  const pair = generateKeyPair(keyId);
  try {
    fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
    // `wx` fails if the file appeared meanwhile; 0600 because this is the signing key.
    fs.writeFileSync(keyFile, pair.privateKey, { mode: 0o600, flag: "wx" });
    fs.writeFileSync(pubFile, `${pair.publicKey}\n`, { mode: 0o644, flag: "wx" });
  } catch (e) {
    throw new InputError(`cannot write the key pair into '${outDir}': ${errorCode(e)}`);
  }
  const repo = enclosingGitRepo(outDir);
  if (repo !== undefined) {
    io.stderr.write(
      `warning: ${keyFile} is inside the git work tree ${repo}: move it somewhere safe and never commit it\n`,
    );
  }
  io.stdout.write(
    `private key: ${keyFile} (mode 0600; keep it offline, out of any repository or stack)\n` +
      `public key:  ${pubFile}\n` +
      `key id ${keyId}, public key ${pair.publicKey}\n` +
      `trust it in a test stack (never prod; real installations trust only the shipped ES1 keys):\n` +
      `  pulumi config set es1:licenseTestKeys true\n` +
      `  pulumi config set --path 'es1:licensePublicKeys.${keyId}' '${pair.publicKey}'\n` +
      `a vendor key is shipped instead: add ${pubFile} to ${SHIPPED_KEYS_DIR} in a release\n`,
  );
  return EXIT_OK;
}

function enclosingGitRepo(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, ".git"))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

async function issue(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ["customer", "expires", "features", "seats", "id", "not-before", "key-id", "private-key-file"],
  });
  noPositionals(args.positionals);
  const customer = required(args, "customer");
  if (!isValidCustomerName(customer)) {
    throw new UsageError(`customer '${customer}' is not a DNS label (lower-case letters, digits, '-')`);
  }
  const expiresAt = required(args, "expires");
  const featureList = optional(args, "features");
  if (featureList === undefined) throw new UsageError("--features is required (use --features '' for none)");
  const features = featureList
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
  const unknown = features.filter((f) => !KNOWN_FEATURES.includes(f));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown feature ${unknown.map((f) => `'${f}'`).join(", ")}; known: ${KNOWN_FEATURES.join(", ")}`,
    );
  }
  const limits: Record<string, number> = {};
  const seats = optional(args, "seats");
  if (seats !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(seats))
      throw new UsageError(`--seats '${seats}' is not a positive integer`);
    limits.seats = Number(seats);
  }
  const keyId = required(args, "key-id");
  const id = optional(args, "id");
  const notBefore = optional(args, "not-before");

  const keyFile = optional(args, "private-key-file");
  let keyText: string;
  let keySource: string;
  if (keyFile !== undefined) {
    keyText = readFile(keyFile, "the private key file");
    keySource = `private key file '${keyFile}'`;
  } else if (io.env[PRIVATE_KEY_ENV]) {
    keyText = io.env[PRIVATE_KEY_ENV] ?? "";
    keySource = `$${PRIVATE_KEY_ENV}`;
  } else {
    throw new UsageError(`no private key: give --private-key-file <file> or set $${PRIVATE_KEY_ENV}`);
  }
  const privateKey = parsePrivateKey(keyText, keySource);
  const publicKey = rawPublicKey(privateKey);
  if (keyFile !== undefined) checkSiblingPublicKey(keyFile, keyId, publicKey);
  const shipped = shippedPublicKeys()[keyId];
  if (shipped !== undefined && shipped !== publicKey) {
    throw new InputError(
      `key id '${keyId}' is a shipped ES1 key (${SHIPPED_KEYS_DIR}) and the private key is not its pair; ` +
        "licenses signed with it would not verify anywhere (a test key needs an id of its own)",
    );
  }

  let license: License;
  try {
    license = draftLicense({ customer, expiresAt, features, limits, keyId, id, notBefore });
  } catch (e) {
    if (e instanceof MalformedLicenseError) throw new UsageError(e.message);
    throw e;
  }
  const token = issueLicense(license, privateKey);
  // Verify what was just signed, as a deploy would: catches an already-expired date and proves
  // the token round-trips. A future notBefore is fine for a license issued in advance.
  const check = verifyLicense(token, { publicKeys: { [keyId]: publicKey }, customer });
  if (!check.ok && check.reason !== "not-yet-valid") {
    throw new UsageError(`refusing to issue: ${check.message}`);
  }
  io.stdout.write(`${token}\n`);
  io.stderr.write(`issued ${describe(license)}\n`);
  return EXIT_OK;
}

/** keygen writes `<id>.pub` next to `<id>.key`; if it is there it must match the key used to sign. */
function checkSiblingPublicKey(keyFile: string, keyId: string, publicKey: string): void {
  const pubFile = path.join(path.dirname(keyFile), `${keyId}.pub`);
  if (!fs.existsSync(pubFile)) return;
  if (readFile(pubFile, "the public key file").trim() !== publicKey) {
    throw new InputError(
      `the private key does not belong to key id '${keyId}' (${pubFile} holds another public key); ` +
        "licenses signed with it would not verify",
    );
  }
}

function describe(l: License): string {
  const limits = Object.entries(l.limits).map(([k, v]) => `${k}=${v}`);
  return (
    `license ${l.id} for customer '${l.customer}': ` +
    `${l.features.length > 0 ? l.features.join(", ") : "no features"}` +
    `${limits.length > 0 ? `; ${limits.join(", ")}` : ""}; ` +
    `${l.notBefore !== undefined ? `from ${l.notBefore} ` : ""}until ${l.expiresAt}; signed with key '${l.keyId}'`
  );
}

// ---------------------------------------------------------------------------------------------

async function verify(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ["customer", "warn-days"],
    repeatable: ["public-key"],
    booleans: ["json"],
  });
  if (args.positionals.length !== 1) {
    throw new UsageError(
      args.positionals.length === 0 ? "which license? give a file, or - for stdin" : "one license at a time",
    );
  }
  const [source] = args.positionals;
  const specs = args.values.get("public-key") ?? [];
  // The shipped ES1 keys always; --public-key adds keys (a test key), never replaces a shipped one.
  const shipped = shippedPublicKeys();
  const keys: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--public-key '${spec}' is not <id>=<file>`);
    const keyId = spec.slice(0, eq);
    if (keys[keyId] !== undefined) throw new UsageError(`key id '${keyId}' is given twice`);
    keys[keyId] = readFile(spec.slice(eq + 1), `public key file of '${keyId}'`);
  }
  const given = parsePublicKeys(keys);
  for (const [keyId, key] of given)
    if (shipped[keyId] !== undefined && rawPublicKey(key) !== shipped[keyId])
      throw new UsageError(
        `--public-key '${keyId}' is the id of a shipped ES1 key (${SHIPPED_KEYS_DIR}) with another key; a test key needs an id of its own`,
      );
  const publicKeys = new Map([...parsePublicKeys(shipped), ...given]);
  const warnDays = optional(args, "warn-days");
  if (warnDays !== undefined && !/^[0-9]{1,4}$/.test(warnDays)) {
    throw new UsageError(`--warn-days '${warnDays}' is not a number of days`);
  }
  const token = source === "-" ? await readAll(io.stdin) : readFile(source, "the license file");

  const result = verifyLicense(token, {
    publicKeys: Object.fromEntries(publicKeys),
    customer: optional(args, "customer"),
    warnWithinDays: warnDays === undefined ? undefined : Number(warnDays),
  });
  if (args.booleans.has("json")) io.stdout.write(`${JSON.stringify(asJson(result), null, 2)}\n`);
  else io.stdout.write(asText(result));
  if (result.status === "expiring") io.stderr.write(`warning: ${result.message}\n`);
  if (!result.ok) io.stderr.write(`${result.message}\n`);
  return result.ok ? EXIT_OK : EXIT_INVALID;
}

function asJson(r: LicenseCheck): Record<string, unknown> {
  return r.ok
    ? { status: r.status, daysLeft: r.daysLeft, message: r.message, license: r.license }
    : { status: r.status, reason: r.reason, message: r.message, keyId: r.keyId, license: r.license };
}

function asText(r: LicenseCheck): string {
  const rows: [string, string][] = [];
  const l = r.license;
  if (l !== undefined) {
    const limits = Object.entries(l.limits).map(([k, v]) => `${k}=${v}`);
    rows.push(
      ["license", l.id],
      ["customer", l.customer],
      ["key id", l.keyId],
      ["issued at", l.issuedAt],
      ["not before", l.notBefore ?? "-"],
      ["expires", l.expiresAt],
      ["features", l.features.join(", ") || "-"],
      ["limits", limits.join(", ") || "-"],
    );
  } else if (!r.ok && r.keyId !== undefined) {
    rows.push(["key id", r.keyId]);
  }
  rows.push(["status", r.ok ? `${r.status} (${r.daysLeft} days left)` : `invalid (${r.reason})`]);
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}\n`).join("");
}
