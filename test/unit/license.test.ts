import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as cli } from "../../automation/cli";
import { licenseCommand } from "../../automation/commands/license";
import {
  canonicalJson,
  draftLicense,
  featureGate,
  generateKeyPair,
  issueLicense,
  License,
  LicenseCheck,
  LicenseKeyError,
  LicenseRefused,
  MalformedLicenseError,
  shippedPublicKeys,
  verifyLicense,
} from "../../platform/license";
import { memoryIO } from "./command-io";

const k1 = generateKeyPair("es1-2026");
const k2 = generateKeyPair("es1-2027");
const trusted = { [k1.keyId]: k1.publicKey };

function license(over: Partial<License> = {}): License {
  return {
    version: 1,
    id: "lic-beam-1",
    customer: "beam",
    issuedAt: "2026-01-15",
    expiresAt: "2026-10-01",
    features: ["agents.crewai", "agents.router"],
    limits: { seats: 50 },
    keyId: k1.keyId,
    ...over,
  };
}

const NOW = new Date("2026-06-01T12:00:00Z");

function refused(r: LicenseCheck): LicenseRefused {
  assert.strictEqual(r.ok, false, `expected the license to be refused, got ${r.message}`);
  return r as LicenseRefused;
}

/** The envelope of a token as a plain object, to tamper with. */
function open(token: string): Record<string, string> {
  return JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Record<string, string>;
}
function seal(envelope: Record<string, string>): string {
  return Buffer.from(JSON.stringify(envelope)).toString("base64url");
}
/** A token over arbitrary payload bytes, correctly signed: for payloads issueLicense would refuse. */
function signRaw(payload: string, keyId = k1.keyId, privateKey = k1.privateKey): string {
  const bytes = Buffer.from(payload, "utf8");
  const signature = crypto.sign(null, bytes, crypto.createPrivateKey(privateKey));
  return seal({
    format: "es1-license",
    keyId,
    payload: bytes.toString("base64url"),
    signature: signature.toString("base64url"),
  });
}

describe("licenses", () => {
  const token = issueLicense(license(), k1.privateKey);

  it("is one base64url string whose envelope names the key before anything is verified", () => {
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    const env = open(token);
    assert.strictEqual(env.format, "es1-license");
    assert.strictEqual(env.keyId, "es1-2026");
    // The signed bytes are the canonical JSON of the license, carried verbatim.
    assert.strictEqual(Buffer.from(env.payload, "base64url").toString(), canonicalJson({ ...license() }));
    assert.strictEqual(Buffer.from(env.signature, "base64url").length, 64);
  });

  it("round-trips: a license verifies with its public key and comes back unchanged", () => {
    const r = verifyLicense(token, { publicKeys: trusted, customer: "beam", now: NOW });
    assert.ok(r.ok, r.message);
    assert.strictEqual(r.status, "valid");
    assert.deepStrictEqual(r.license, license());
    assert.strictEqual(r.validUntil.toISOString(), "2026-10-02T00:00:00.000Z");
    assert.strictEqual(r.daysLeft, 122);
  });

  it("writes canonical JSON: sorted keys, no whitespace, independent of insertion order", () => {
    assert.strictEqual(
      canonicalJson({ b: [2, { d: 1, c: "x" }], a: null }),
      '{"a":null,"b":[2,{"c":"x","d":1}]}',
    );
    assert.strictEqual(
      issueLicense(license({ features: ["agents.router", "agents.crewai", "agents.router"] }), k1.privateKey),
      token,
    );
  });

  it("refuses a tampered payload", () => {
    const env = open(token);
    const forged = Buffer.from(env.payload, "base64url").toString().replace('"seats":50', '"seats":500');
    const r = refused(
      verifyLicense(seal({ ...env, payload: Buffer.from(forged).toString("base64url") }), {
        publicKeys: trusted,
        now: NOW,
      }),
    );
    assert.strictEqual(r.reason, "bad-signature");
    assert.strictEqual(r.license, undefined, "nothing of an unverified payload is handed out");
  });

  it("refuses a tampered signature", () => {
    const env = open(token);
    const sig = Buffer.from(env.signature, "base64url");
    sig[10] ^= 0x01;
    const r = refused(
      verifyLicense(seal({ ...env, signature: sig.toString("base64url") }), {
        publicKeys: trusted,
        now: NOW,
      }),
    );
    assert.strictEqual(r.reason, "bad-signature");
    assert.match(r.message, /signature does not match key 'es1-2026'/);
  });

  it("refuses a license signed by another key under a trusted key id", () => {
    const forged = issueLicense(license(), k2.privateKey); // claims es1-2026, signed by es1-2027's key
    assert.strictEqual(
      refused(verifyLicense(forged, { publicKeys: trusted, now: NOW })).reason,
      "bad-signature",
    );
  });

  it("refuses a license signed with an unknown key id, naming it and the trusted ones", () => {
    const r = refused(
      verifyLicense(token, { publicKeys: { [k2.keyId]: k2.publicKey }, customer: "beam", now: NOW }),
    );
    assert.strictEqual(r.reason, "unknown-key");
    assert.strictEqual(r.keyId, "es1-2026");
    assert.strictEqual(
      r.message,
      "license of customer 'beam': signed with key 'es1-2026', which is not a trusted key (trusted: es1-2027)",
    );
  });

  it("refuses another customer's license", () => {
    const r = refused(verifyLicense(token, { publicKeys: trusted, customer: "polygraf", now: NOW }));
    assert.strictEqual(r.reason, "wrong-customer");
    assert.match(r.message, /^license of customer 'polygraf': the license is issued to customer 'beam'/);
  });

  it("refuses an expired license, naming the customer and the date; a date covers its whole day", () => {
    const opts = { publicKeys: trusted, customer: "beam" };
    const lastSecond = verifyLicense(token, { ...opts, now: new Date("2026-10-01T23:59:59Z") });
    assert.ok(lastSecond.ok);
    assert.strictEqual(lastSecond.daysLeft, 0);
    const r = refused(verifyLicense(token, { ...opts, now: new Date("2026-10-02T00:00:00Z") }));
    assert.strictEqual(r.reason, "expired");
    assert.strictEqual(r.message, "license of customer 'beam': expired on 2026-10-01 (license lic-beam-1)");
    assert.deepStrictEqual(r.license, license());
  });

  it("refuses a license before its notBefore", () => {
    const t = issueLicense(license({ notBefore: "2026-07-01" }), k1.privateKey);
    const r = refused(verifyLicense(t, { publicKeys: trusted, customer: "beam", now: NOW }));
    assert.strictEqual(r.reason, "not-yet-valid");
    assert.match(r.message, /^license of customer 'beam': not valid before 2026-07-01/);
    assert.ok(verifyLicense(t, { publicKeys: trusted, now: new Date("2026-07-01T00:00:00Z") }).ok);
  });

  it("warns, with the date, when a license expires within the window (default 30 days)", () => {
    const opts = { publicKeys: trusted, customer: "beam" };
    const soon = verifyLicense(token, { ...opts, now: new Date("2026-09-19T08:00:00Z") });
    assert.ok(soon.ok);
    assert.strictEqual(soon.status, "expiring");
    assert.strictEqual(soon.daysLeft, 12);
    assert.strictEqual(
      soon.message,
      "license lic-beam-1 of customer 'beam' expires on 2026-10-01, in 12 days: renew it",
    );
    assert.strictEqual(
      verifyLicense(token, { ...opts, now: new Date("2026-09-01T23:59:59Z") }).status,
      "valid",
    );
    assert.strictEqual(
      verifyLicense(token, { ...opts, now: new Date("2026-09-02T00:00:00Z") }).status,
      "expiring",
    );
    const narrow = verifyLicense(token, {
      ...opts,
      now: new Date("2026-09-19T08:00:00Z"),
      warnWithinDays: 7,
    });
    assert.strictEqual(narrow.status, "valid");
    assert.match(verifyLicense(token, { ...opts, now: new Date("2026-10-01T08:00:00Z") }).message, /today/);
  });

  it("accepts several key ids during a rotation, and refuses the retired one afterwards", () => {
    const old = token;
    const renewed = issueLicense(license({ keyId: k2.keyId, id: "lic-beam-2" }), k2.privateKey);
    const both = { [k1.keyId]: k1.publicKey, [k2.keyId]: k2.publicKey };
    assert.ok(verifyLicense(old, { publicKeys: both, now: NOW }).ok);
    assert.ok(verifyLicense(renewed, { publicKeys: both, now: NOW }).ok);
    const retired = { [k2.keyId]: k2.publicKey };
    assert.strictEqual(refused(verifyLicense(old, { publicKeys: retired, now: NOW })).reason, "unknown-key");
    assert.ok(verifyLicense(renewed, { publicKeys: retired, now: NOW }).ok);
  });

  it("accepts public keys as PEM, and licenses wrapped over lines or in padded base64", () => {
    const pem = crypto.createPublicKey(k1.privateKey).export({ format: "pem", type: "spki" }).toString();
    assert.ok(verifyLicense(token, { publicKeys: { [k1.keyId]: pem }, now: NOW }).ok);
    const wrapped = `\n  ${token.replace(/(.{64})/g, "$1\n  ")}\n`;
    assert.ok(verifyLicense(wrapped, { publicKeys: trusted, now: NOW }).ok);
    const padded = Buffer.from(token, "base64url").toString("base64");
    assert.ok(verifyLicense(padded, { publicKeys: trusted, now: NOW }).ok);
  });

  describe("malformed or missing", () => {
    const check = (t: string | undefined) =>
      refused(verifyLicense(t, { publicKeys: trusted, customer: "beam", now: NOW }));

    it("reports a missing license", () => {
      for (const t of [undefined, "", "  \n"]) {
        const r = check(t);
        assert.strictEqual(r.reason, "missing");
        assert.strictEqual(r.message, "license of customer 'beam': no license is configured");
      }
    });

    it("refuses text that is not base64, not JSON, or not an ES1 license", () => {
      assert.match(
        check("not base64!").message,
        /^license of customer 'beam': malformed: the license is not a base64/,
      );
      assert.match(check(Buffer.from("hello").toString("base64")).message, /does not decode to JSON/);
      assert.match(check(seal({ format: "jwt" })).message, /not an ES1 license/);
      assert.match(
        check(seal({ format: "es1-license", keyId: "k1", payload: "x" })).message,
        /'signature' is missing/,
      );
      for (const t of ["not base64!", "aGVsbG8", seal({ format: "jwt" })])
        assert.strictEqual(check(t).reason, "malformed");
    });

    it("refuses a correctly signed payload with missing, unknown or bad fields", () => {
      const good = { ...license() } as Record<string, unknown>;
      const without = (k: string) =>
        canonicalJson(Object.fromEntries(Object.entries(license()).filter(([f]) => f !== k)));
      const cases: [string, string][] = [
        [without("customer"), "field 'customer' is missing"],
        [without("expiresAt"), "field 'expiresAt' is missing"],
        [canonicalJson({ ...license(), unlimited: true }), "unknown field 'unlimited'"],
        [canonicalJson({ ...license(), version: 2 }), "unsupported license format version 2"],
        [canonicalJson({ ...license(), expiresAt: "2026-02-30" }), "field 'expiresAt' is \"2026-02-30\""],
        [canonicalJson({ ...license(), features: ["agents.router", "agents.crewai"] }), "not sorted"],
        [canonicalJson({ ...license(), limits: { seats: -1 } }), "limit 'seats' is -1"],
        [
          canonicalJson({ ...license(), keyId: "other" }),
          "the envelope names key 'es1-2026' but the payload key 'other'",
        ],
        [JSON.stringify(good, null, 2), "not in canonical form"],
        ["[1,2]", "not a JSON object"],
        ["{nope", "the payload is not JSON"],
      ];
      for (const [payload, want] of cases) {
        const r = check(signRaw(payload));
        assert.strictEqual(r.reason, "malformed", `${payload}: ${r.message}`);
        assert.ok(r.message.includes(want), `${r.message} should say ${want}`);
      }
    });
  });

  it("refuses to issue a malformed license or with a key that is not Ed25519", () => {
    assert.throws(
      () => issueLicense(license({ customer: "Beam Corp" }), k1.privateKey),
      MalformedLicenseError,
    );
    assert.throws(() => issueLicense(license({ expiresAt: "2025-01-01" }), k1.privateKey), /before issuedAt/);
    const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ecPem = ec.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    assert.throws(() => issueLicense(license(), ecPem), LicenseKeyError);
    assert.throws(
      () => issueLicense(license(), "garbage"),
      (e: Error) => !e.message.includes("garbage"),
    );
    assert.throws(() => verifyLicense(token, { publicKeys: { [k1.keyId]: "AAAA" } }), LicenseKeyError);
    assert.throws(() => generateKeyPair("../evil"), LicenseKeyError);
  });

  it("drafts a license with an id and issue time, features sorted and unique", () => {
    const l = draftLicense(
      { customer: "beam", expiresAt: "2027-12-31", features: ["agents.router", "agents.crewai"], keyId: "k" },
      new Date("2026-11-23T10:20:30.456Z"),
    );
    assert.match(l.id, /^beam-20261123-[0-9a-f]{6}$/);
    assert.strictEqual(l.issuedAt, "2026-11-23T10:20:30Z");
    assert.deepStrictEqual(l.features, ["agents.crewai", "agents.router"]);
    assert.deepStrictEqual(l.limits, {});
  });

  describe("feature gate of agent services", () => {
    it("allows the licensed services and gives the reason for each refused one", () => {
      const gate = featureGate(license(), ["crewai", "autogen", "router"]);
      assert.deepStrictEqual(gate.allowed, ["crewai", "router"]);
      assert.deepStrictEqual(gate.refused, [
        {
          service: "autogen",
          feature: "agents.autogen",
          reason: "license lic-beam-1 does not include agents.autogen",
        },
      ]);
    });

    it("refuses every agent service of a license without features; nothing requested, nothing refused", () => {
      const none = license({ features: [] });
      assert.deepStrictEqual(
        featureGate(none, ["router", "crewai"]).refused.map((r) => r.service),
        ["router", "crewai"],
      );
      assert.deepStrictEqual(featureGate(license(), []), { allowed: [], refused: [] });
    });
  });
});

// ---------------------------------------------------------------------------------------------

async function run(argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const c = memoryIO(opts);
  const code = await licenseCommand(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** YYYY-MM-DD, `days` from today (UTC). */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe("es1 license", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-license-"));
  const keys = path.join(dir, "keys");
  const keyFile = path.join(keys, "vendor-1.key");
  const pubFile = path.join(keys, "vendor-1.pub");
  let privateKey = "";
  const outputs: string[] = [];
  const record = <T extends { out: string; err: string }>(r: T): T => {
    outputs.push(r.out, r.err);
    return r;
  };

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    // Whatever the commands printed, none of it may be the private key.
    const secret = privateKey.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    assert.ok(secret.length > 40);
    for (const o of outputs)
      assert.ok(!o.replace(/\s+/g, "").includes(secret), "the private key was printed");
  });

  it("keygen writes <id>.key (0600) and <id>.pub, and refuses to overwrite them", async () => {
    const r = record(await run(["keygen", "--key-id", "vendor-1", "--out", keys]));
    assert.strictEqual(r.code, 0, r.err);
    privateKey = fs.readFileSync(keyFile, "utf8");
    assert.match(privateKey, /^-----BEGIN PRIVATE KEY-----/);
    assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
    const pub = fs.readFileSync(pubFile, "utf8").trim();
    assert.strictEqual(Buffer.from(pub, "base64").length, 32);
    assert.ok(r.out.includes(`es1:licensePublicKeys.vendor-1' '${pub}'`));
    assert.match(
      r.out,
      /trust it in a test stack \(never prod.*\n {2}pulumi config set es1:licenseTestKeys true\n/,
    );
    const again = record(await run(["keygen", "--key-id", "vendor-1", "--out", keys]));
    assert.strictEqual(again.code, 2);
    assert.match(again.err, /exists; refusing to overwrite/);
    assert.strictEqual(fs.readFileSync(keyFile, "utf8"), privateKey);
  });

  it("issue → verify round trip, from a key file and from the environment, by file and stdin", async () => {
    const expires = inDays(400);
    const args = [
      "issue",
      "--customer",
      "beam",
      "--expires",
      expires,
      "--features",
      "agents.crewai,agents.router",
    ];
    const issued = record(
      await run([...args, "--seats", "50", "--key-id", "vendor-1", "--private-key-file", keyFile]),
    );
    assert.strictEqual(issued.code, 0, issued.err);
    const token = issued.out.trim();
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.match(issued.err, /for customer 'beam': agents\.crewai, agents\.router; seats=50/);
    const licFile = path.join(dir, "beam.lic");
    fs.writeFileSync(licFile, issued.out);

    const verified = record(
      await run(["verify", licFile, "--public-key", `vendor-1=${pubFile}`, "--customer", "beam"]),
    );
    assert.strictEqual(verified.code, 0, verified.err);
    assert.match(verified.out, /^customer: +beam$/m);
    assert.match(verified.out, new RegExp(`^expires: +${expires}$`, "m"));
    assert.match(verified.out, /^limits: +seats=50$/m);
    assert.match(verified.out, /^status: +valid \(\d+ days left\)$/m);

    const fromEnv = record(
      await run([...args, "--key-id", "vendor-1", "--id", "beam-env"], {
        env: { ES1_LICENSE_PRIVATE_KEY: privateKey },
      }),
    );
    assert.strictEqual(fromEnv.code, 0, fromEnv.err);
    const json = record(
      await run(["verify", "-", `--public-key=vendor-1=${pubFile}`, "--json"], { stdin: fromEnv.out }),
    );
    assert.strictEqual(json.code, 0, json.err);
    const parsed = JSON.parse(json.out) as { status: string; license: { id: string; limits: object } };
    assert.strictEqual(parsed.status, "valid");
    assert.strictEqual(parsed.license.id, "beam-env");
    assert.deepStrictEqual(parsed.license.limits, {});
  });

  it("verify trusts the shipped ES1 keys, and a test key only when given", async () => {
    const issued = record(
      await run(
        ["issue", "--customer", "beam", "--expires", inDays(100), "--features", "", "--key-id", "vendor-1"],
        {
          env: { ES1_LICENSE_PRIVATE_KEY: privateKey },
        },
      ),
    );
    assert.strictEqual(issued.code, 0, issued.err);
    const shippedIds = Object.keys(shippedPublicKeys()).join(", ");
    const alone = record(await run(["verify", "-"], { stdin: issued.out }));
    assert.strictEqual(alone.code, 1);
    assert.match(alone.out, /^status: +invalid \(unknown-key\)$/m);
    assert.ok(alone.err.includes(`which is not a trusted key (trusted: ${shippedIds})`), alone.err);
    const given = record(
      await run(["verify", "-", "--public-key", `vendor-1=${pubFile}`], { stdin: issued.out }),
    );
    assert.strictEqual(given.code, 0, given.err);
  });

  it("verify exits 1 for an invalid license and warns about one expiring soon", async () => {
    const issued = record(
      await run(
        ["issue", "--customer", "beam", "--expires", inDays(10), "--features", "", "--key-id", "vendor-1"],
        { env: { ES1_LICENSE_PRIVATE_KEY: privateKey } },
      ),
    );
    assert.strictEqual(issued.code, 0, issued.err);
    const pk = ["--public-key", `vendor-1=${pubFile}`];
    const soon = record(await run(["verify", "-", ...pk], { stdin: issued.out }));
    assert.strictEqual(soon.code, 0);
    assert.match(soon.out, /^status: +expiring \(10 days left\)$/m);
    assert.match(soon.err, new RegExp(`^warning: .*customer 'beam' expires on ${inDays(10)}, in 10 days`));

    const other = record(await run(["verify", "-", ...pk, "--customer", "polygraf"], { stdin: issued.out }));
    assert.strictEqual(other.code, 1);
    assert.match(other.out, /^status: +invalid \(wrong-customer\)$/m);
    assert.match(other.err, /^license of customer 'polygraf': the license is issued to customer 'beam'/);

    const garbage = record(await run(["verify", "-", ...pk], { stdin: "garbage!" }));
    assert.strictEqual(garbage.code, 1);
    assert.match(garbage.out, /invalid \(malformed\)/);
  });

  it("exits 2 on usage and input errors, saying what is wrong", async () => {
    const env = { ES1_LICENSE_PRIVATE_KEY: privateKey };
    const base = ["issue", "--customer", "beam", "--expires", inDays(100), "--features", "agents.router"];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[...base, "--key-id", "vendor-1", "--colour", "red"], env, /unknown option '--colour'/],
      [
        [...base, "--key-id", "vendor-1"],
        {},
        /no private key: give --private-key-file <file> or set \$ES1_LICENSE_PRIVATE_KEY/,
      ],
      [
        [...base, "--key-id", "vendor-1", "--private-key-file", path.join(dir, "nope.key")],
        {},
        /cannot read the private key file .*ENOENT/,
      ],
      [
        [...base, "--key-id", "vendor-1"],
        { ES1_LICENSE_PRIVATE_KEY: "not a key" },
        /\$ES1_LICENSE_PRIVATE_KEY is not a PKCS#8 private key/,
      ],
      [
        [
          "issue",
          "--customer",
          "beam",
          "--expires",
          inDays(100),
          "--features",
          "agents.autogn",
          "--key-id",
          "vendor-1",
        ],
        env,
        /unknown feature 'agents\.autogn'; known: agents\.crewai/,
      ],
      [
        ["issue", "--customer", "beam", "--expires", "2020-01-01", "--features", "", "--key-id", "vendor-1"],
        env,
        /before issuedAt|expired/,
      ],
      [
        ["issue", "--customer", "Beam", "--expires", inDays(100), "--features", "", "--key-id", "vendor-1"],
        env,
        /not a DNS label/,
      ],
      [[...base, "--key-id", "vendor-1", "--seats", "many"], env, /--seats 'many' is not a positive integer/],
      [[...base, "--key-id"], env, /--key-id needs a value/],
      [["verify", "x.lic"], {}, /cannot read the license file 'x\.lic'/],
      [
        ["verify", "-", "--public-key", `${Object.keys(shippedPublicKeys())[0]}=${pubFile}`],
        {},
        /is the id of a shipped ES1 key .* with another key; a test key needs an id of its own/,
      ],
      [
        [...base, "--key-id", Object.keys(shippedPublicKeys())[0]],
        env,
        /is a shipped ES1 key \(platform\/chart\/files\/license-keys\) and the private key is not its pair/,
      ],
      [["verify", "-", "--public-key", "vendor-1"], {}, /is not <id>=<file>/],
      [["verify", "--public-key", `vendor-1=${pubFile}`], {}, /give a file, or - for stdin/],
      [["keygen", "--key-id", "a/b", "--out", keys], {}, /key id 'a\/b' is not valid/],
      [["rotate"], {}, /unknown subcommand 'rotate'/],
      [[], {}, /missing subcommand/],
    ];
    for (const [argv, e, want] of cases) {
      const r = record(await run(argv, { env: e }));
      assert.strictEqual(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, want);
    }
  });

  it("refuses to sign with a key that does not match its <id>.pub", async () => {
    const other = path.join(dir, "other");
    assert.strictEqual(record(await run(["keygen", "--key-id", "vendor-1", "--out", other])).code, 0);
    fs.copyFileSync(keyFile, path.join(other, "vendor-1.key.copy"));
    const r = record(
      await run([
        "issue",
        "--customer",
        "beam",
        "--expires",
        inDays(100),
        "--features",
        "",
        "--key-id",
        "vendor-1",
        "--private-key-file",
        path.join(other, "vendor-1.key.copy"),
      ]),
    );
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /does not belong to key id 'vendor-1'/);
    // Without an <id>.pub beside it, the key is not second-guessed.
    const noPub = ["--key-id", "vendor-2", "--private-key-file", keyFile];
    const ok = record(
      await run(["issue", "--customer", "beam", "--expires", inDays(100), "--features", "", ...noPub]),
    );
    assert.strictEqual(ok.code, 0, ok.err);
  });

  it("es1 dispatches license and refuses unknown commands", async () => {
    const help = memoryIO();
    assert.strictEqual(await cli(["license", "--help"], help.io), 0);
    assert.match(help.out(), /es1 license keygen --key-id <id> --out <dir>/);
    const unknown = memoryIO();
    assert.strictEqual(await cli(["deploy-everything"], unknown.io), 2);
    assert.match(unknown.err(), /^es1: unknown command 'deploy-everything'\n.*commands:\n.*\n {2}license /s);
    assert.strictEqual(await cli([], memoryIO().io), 2);
  });
});
