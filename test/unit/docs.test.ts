// The docs show the messages the code really prints and the settings it really deploys: every
// sample error and warning in a plain fenced block of these pages is produced here from the input
// that causes it, and must match it to the character. A new sample needs a case below.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigErrors, parseSettings, RESERVED_CUSTOMER_NAMES, Settings } from "../../config";
import { redisValues } from "../../infrastructure/values/redis";
import { PROJECT_ROOT } from "../../lib/paths";
import { draftLicense, generateKeyPair, issueLicense } from "../../platform/license";
import { heldWarning } from "../../platform/deployed";
import { checkLicenses, gateLicenses } from "../../platform/license/deploy-gate";
import { fencedBlocks, testBlocks } from "../markdown";
import { contextFrom } from "./values-fixtures";

const DOCS = ["README.md", "docs/customers.md", "docs/licensing.md", "docs/configuration.md"] as const;
type Doc = (typeof DOCS)[number];

/** A project directory with the given customer files (name → YAML) and an SVG for each. */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-docs-"));
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, "customers", name), { recursive: true });
    fs.writeFileSync(path.join(dir, "customers", `${name}.yaml`), body);
    for (const svg of ["logo.svg", "favicon.svg"])
      fs.writeFileSync(path.join(dir, "customers", name, svg), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  }
  return dir;
}

/** Settings of a stack config (keys without `es1:`), every key stored encrypted unless `plain`. */
function settings(values: Record<string, unknown>, cwd = os.tmpdir(), plain: string[] = []): Settings {
  return parseSettings(
    { keys: () => Object.keys(values), get: (k) => values[k], isSecret: (k) => !plain.includes(k) },
    { project: "es1-platform", stack: "test", cwd },
  );
}

/** The messages a config is refused with, one per problem. */
function refusals(values: Record<string, unknown>, cwd?: string, plain: string[] = []): string[] {
  try {
    settings(values, cwd, plain);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  return assert.fail("expected the config to be refused");
}

function only(messages: string[]): string {
  assert.strictEqual(messages.length, 1, messages.join("\n"));
  return messages[0];
}

const KEY = generateKeyPair("local-test");
const NOW = new Date("2026-11-23T12:00:00Z");

function license(customer: string, id: string, expiresAt: string, features: string[]): string {
  return issueLicense(
    draftLicense({ customer, id, expiresAt, issuedAt: "2025-10-01", features, keyId: KEY.keyId }),
    KEY.privateKey,
  );
}

/** What the deploy-time gate says about a test stack of customers beam and acme with these licenses. */
function gate(licenses: Record<string, string>) {
  const s = settings(
    {
      customers: ["beam", "acme"],
      licenses,
      licenseTestKeys: true,
      licensePublicKeys: { [KEY.keyId]: KEY.publicKey },
    },
    project({ beam: "displayName: Beam\n", acme: "displayName: Acme\n" }),
  );
  return checkLicenses(s.customers, s.licensing, NOW);
}

function gateMessage(...args: Parameters<typeof gate>): string {
  try {
    gate(...args);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.message;
  }
  return assert.fail("expected the gate to refuse");
}

/** Beam's warnings when its license ends soon and lacks AutoGen (acme's is fine). */
function beamWarnings(): string[] {
  const all = ["agents.crewai", "agents.router", "agents.autogen"];
  const licensed = gate({
    beam: license("beam", "beam-20251001-3fa2c1", "2026-12-10", all.slice(0, 2)),
    acme: license("acme", "acme-20251001-0a0b0c", "2030-12-31", all),
  });
  return licensed.get("beam")?.warnings ?? [];
}

/** Each sample the docs show, by page, from the input that makes the code print it. */
const CASES: Record<Doc, Record<string, () => string>> = {
  "README.md": {
    "a misspelt cluster provider": () => only(refusals({ cluster: { provider: "gcp" } })),
  },
  "docs/customers.md": {
    "an unknown key in the customer file": () =>
      only(refusals({ customers: ["acme"] }, project({ acme: "colour: red\n" }))),
    "a colour that is not #rrggbb": () =>
      only(
        refusals(
          { customers: { acme: { branding: { primaryColor: "blue" } } } },
          project({ acme: "displayName: Acme\n" }),
        ),
      ),
    "online license mode without its URL": () =>
      only(
        refusals(
          { customers: ["acme"] },
          project({ acme: 'license: { mode: online, onlineCidrs: ["203.0.113.10/32"] }\n' }),
        ),
      ),
    "a customer without a file": () => only(refusals({ customers: { acme: {} } }, project({}))),
    "an unquoted colour in the customer file": () =>
      only(refusals({ customers: ["acme"] }, project({ acme: "branding:\n  primaryColor: #0b6e4f\n" }))),
  },
  "docs/licensing.md": {
    "a test key's license on a stack that trusts only the shipped keys": () => {
      const s = settings(
        {
          customers: ["beam"],
          licenses: { beam: license("beam", "beam-20251001-3fa2c1", "2030-12-31", []) },
        },
        project({ beam: "displayName: Beam\n" }),
      );
      return only(gateLicenses(s.customers, s.licensing, NOW).refused.map((r) => r.error.message));
    },
    "operator keys on a stack that is not for testing": () =>
      only(refusals({ licensePublicKeys: { [KEY.keyId]: KEY.publicKey } })),
    "test keys on a prod stack": () =>
      only(
        refusals({
          environment: "prod",
          licenseTestKeys: true,
          licensePublicKeys: { [KEY.keyId]: KEY.publicKey },
        }),
      ),
    "two refused licenses": () =>
      gateMessage({ beam: license("beam", "beam-20251001-3fa2c1", "2026-10-01", ["agents.crewai"]) }),
    "the expiry warning": () => beamWarnings()[0],
    "a service the license lacks": () => beamWarnings()[1],
    "a deployed customer held back": () => {
      const s = settings(
        {
          customers: ["beam"],
          licenses: { beam: license("beam", "beam-20251001-3fa2c1", "2026-10-01", []) },
          licenseTestKeys: true,
          licensePublicKeys: { [KEY.keyId]: KEY.publicKey },
        },
        project({ beam: "displayName: Beam\n" }),
      );
      const [refused] = gateLicenses(s.customers, s.licensing, NOW).refused;
      return heldWarning("beam", refused.error, { platformVersion: "1.4.2" });
    },
  },
  "docs/configuration.md": {
    "an unquoted colour in stack config": () =>
      only(
        refusals(
          { customers: { acme: { branding: { primaryColor: null } } } },
          project({ acme: "displayName: Acme\n" }),
        ),
      ),
  },
};

/** The samples of a page: plain fenced blocks that hold a message, whole and line by line. */
function samples(doc: Doc): { whole: string; lines: string[]; line: number }[] {
  return fencedBlocks(doc)
    .filter(
      (b) => (b.info === "" || b.info === "text") && /Invalid stack configuration|^customer '/m.test(b.text),
    )
    .map((b) => ({ whole: b.text, lines: b.text.split("\n").filter((l) => l.trim() !== ""), line: b.line }));
}

function read(doc: string): string {
  return fs.readFileSync(path.join(PROJECT_ROOT, doc), "utf8");
}

describe("the docs show what the code does", () => {
  for (const doc of DOCS) {
    describe(doc, () => {
      const real = () => Object.entries(CASES[doc]).map(([why, make]) => ({ why, text: make() }));

      it("every sample message is the one the code prints", () => {
        const printed = real();
        for (const s of samples(doc)) {
          if (printed.some((r) => r.text === s.whole)) continue;
          for (const l of s.lines)
            assert.ok(
              printed.some((r) => r.text === l),
              `${doc}:${s.line}: no case of this test prints\n  ${l}\nthe code prints:\n  ${printed.map((r) => r.text).join("\n  ")}`,
            );
        }
      });

      it("every message of the cases is shown", () => {
        const shown = samples(doc).flatMap((s) => [s.whole, ...s.lines]);
        for (const r of real())
          assert.ok(shown.includes(r.text), `${doc} does not show ${r.why}:\n${r.text}`);
      });
    });
  }

  it("customers.md quotes the refusals of licenses as the code words them", () => {
    const text = read("docs/customers.md");
    // A license for a customer the stack does not list, stored without --secret.
    const p = refusals(
      { customers: ["acme"], licenses: { beam: "x" } },
      project({ acme: "displayName: Acme\n" }),
      ["licenses"],
    );
    for (const quoted of [
      "licenses must be stored encrypted: pulumi config set --secret --path es1:licenses.<customer> ...",
      "no customer 'acme' in es1:customers; remove the license or add the customer",
    ]) {
      const flat = text.replace(/\s*\n\s*/g, " ");
      assert.ok(flat.includes(quoted), `customers.md no longer quotes: ${quoted}`);
      const asPrinted = quoted.replace("'acme'", "'beam'");
      assert.ok(
        p.some((m) => m.includes(asPrinted)),
        `the code does not say: ${asPrinted}\n${p.join("\n")}`,
      );
    }
  });

  it("customers.md shows the Valkey ACL a customer gets", () => {
    const ctx = { ...contextFrom({}), customers: [{ name: "acme", state: "present" as const }] };
    const users = (redisValues(ctx).auth as { aclUsers: Record<string, { permissions: string }> }).aclUsers;
    const shown = users.acme.permissions.replace(/acme/g, "<name>");
    assert.ok(read("docs/customers.md").includes(`\`${shown}\``), `customers.md should show \`${shown}\``);
  });

  it("customers.md lists every reserved name", () => {
    const text = read("docs/customers.md");
    const i = text.indexOf("These names are");
    const listed = text.slice(i, text.indexOf("\n\n", i));
    for (const name of RESERVED_CUSTOMER_NAMES)
      assert.ok(listed.includes(`\`${name}\``), `'${name}' is not listed`);
  });

  it("customers.md's customer file with every key is valid", () => {
    const [block] = testBlocks("docs/customers.md", "customer-file");
    assert.ok(block, "customers.md has a block marked test:customer-file");
    // On the local stack's terms: Ingresses (es1:access.mode in Pulumi.local.yaml).
    const [acme] = settings(
      { customers: ["acme"], access: { mode: "ingress" } },
      project({ acme: block.text }),
    ).customers;
    assert.strictEqual(acme.branding.primaryColor, "#0b6e4f");
    assert.ok(acme.branding.logoSvg.startsWith("<svg"));
  });
});
