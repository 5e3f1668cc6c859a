// Values YAML turns into null (`primaryColor: #0b6e4f` is a comment; `key:` is empty) are refused
// with a message that says to quote them, in customer files and in stack config alike.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ConfigErrors, parseSettings, Settings, SettingsSource } from "../../config";

const QUOTE_IT = /YAML reads an empty value, or an unquoted one starting with '#', as null; quote the value/;

/** A project directory holding customers/acme.yaml with `body`, and the beam sample's logo. */
function projectWith(body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-null-"));
  fs.mkdirSync(path.join(dir, "customers", "acme"), { recursive: true });
  fs.writeFileSync(path.join(dir, "customers", "acme.yaml"), body);
  fs.writeFileSync(
    path.join(dir, "customers", "acme", "logo.svg"),
    '<svg xmlns="http://www.w3.org/2000/svg"/>',
  );
  return dir;
}

/** Stack config as Pulumi hands it over: keys without `es1:`, objects parsed. */
function source(values: Record<string, unknown>): SettingsSource {
  return {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: () => true,
  };
}

/** The `es1:` keys of a Pulumi.<stack>.yaml text, parsed by YAML as Pulumi parses them. */
function stackFile(text: string): Record<string, unknown> {
  const doc = yaml.load(text) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^es1:/, ""), v]));
}

function parse(values: Record<string, unknown>, cwd = os.tmpdir()): Settings {
  return parseSettings(source(values), { project: "es1-platform", stack: "dev", cwd });
}

function problems(values: Record<string, unknown>, cwd = os.tmpdir()): string[] {
  try {
    parse(values, cwd);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`);
    return e.errors.map((x) => x.message);
  }
  return assert.fail("expected the config to be refused");
}

describe("values YAML reads as null", () => {
  describe("in a customer file", () => {
    it("refuses an unquoted colour (a comment to YAML), naming the key and the file, and says to quote it", () => {
      const dir = projectWith("displayName: Acme\nbranding:\n  primaryColor: #0b6e4f\n");
      const p = problems({ customers: ["acme"] }, dir);
      assert.strictEqual(p.length, 1, p.join("\n"));
      assert.match(p[0], /^Invalid stack configuration 'es1:customers\.acme\.branding\.primaryColor': /);
      assert.match(p[0], /the key has no value in customers\/acme\.yaml: /);
      assert.match(p[0], QUOTE_IT);
    });

    it("refuses an empty value anywhere in the file, each under its own key", () => {
      const dir = projectWith("displayName:\nbranding:\n  theme:\n    fontFamily:\nplatformVersion:\n");
      const p = problems({ customers: ["acme"] }, dir);
      assert.deepStrictEqual(
        p.map((m) => /'([^']+)'/.exec(m)?.[1]),
        [
          "es1:customers.acme.displayName",
          "es1:customers.acme.branding.theme.fontFamily",
          "es1:customers.acme.platformVersion",
        ],
        p.join("\n"),
      );
    });

    it("takes the quoted colour", () => {
      const dir = projectWith('branding:\n  primaryColor: "#0b6e4f"\n  logo: acme/logo.svg\n');
      const [acme] = parse({ customers: ["acme"], licensePublicKeys: {} }, dir).customers;
      assert.strictEqual(acme.branding.primaryColor, "#0b6e4f");
    });
  });

  describe("in stack config", () => {
    it("refuses an unquoted colour in a customer override, and says to quote it", () => {
      const dir = projectWith("displayName: Acme\n");
      const values = stackFile(
        ["config:", "  es1:customers:", "    acme:", "      branding:", "        primaryColor: #0b6e4f"].join(
          "\n",
        ),
      );
      const p = problems(values, dir);
      assert.strictEqual(p.length, 1, p.join("\n"));
      assert.match(
        p[0],
        /^Invalid stack configuration 'es1:customers\.acme\.branding\.primaryColor': the key has no value: /,
      );
      assert.match(p[0], QUOTE_IT);
    });

    it("refuses a top-level key left empty (Pulumi passes it as null or as an empty string)", () => {
      for (const empty of [null, ""]) {
        const p = problems({ environment: empty, sizing: "minimal" });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(p[0], /^Invalid stack configuration 'es1:environment': the key has no value: /);
      }
    });

    it("refuses empty values inside objects and lists, naming the path", () => {
      const values = stackFile(
        [
          "config:",
          "  es1:cluster:",
          "    provider: existing",
          "    context: # kwok-es1",
          "    ingressAnnotations:",
          "      cert-manager.io/cluster-issuer:",
          "  es1:airgap:",
          "    imagePullSecrets: [mirror, ]",
          "  es1:components:",
          "    redis:",
          "      storage:",
        ].join("\n"),
      );
      // `[mirror, ]` is a list of one in YAML: only the keys left empty are refused.
      const keys = problems(values).map((m) => /'([^']+)'/.exec(m)?.[1]);
      assert.deepStrictEqual(keys, [
        "es1:cluster.context",
        "es1:cluster.ingressAnnotations.cert-manager.io/cluster-issuer",
        "es1:components.redis.storage",
      ]);
    });

    it("keeps `name:` with nothing under it in the es1:customers map: no overrides, as documented", () => {
      const dir = projectWith("displayName: Acme\n");
      const values = stackFile(["config:", "  es1:customers:", "    acme:"].join("\n"));
      const s = parse({ ...values, licensePublicKeys: {} }, dir);
      assert.deepStrictEqual(
        s.customers.map((c) => [c.name, c.displayName]),
        [["acme", "Acme"]],
      );
    });
  });
});
