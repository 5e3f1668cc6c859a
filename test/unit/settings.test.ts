import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, ExistingClusterSettings, parseSettings, Settings, SettingsSource } from "../../config";
import { valueOf } from "./harness";

/** A stack config as plain data: keys without the es1: prefix, and which of them are encrypted. */
function source(values: Record<string, unknown>, secretKeys: string[] = []): SettingsSource {
  return {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: (k) => secretKeys.includes(k),
  };
}

const id = { project: "es1-platform", stack: "dev", cwd: os.tmpdir() };

/** Settings of a stack on the default `existing` provider, which these tests exercise. */
type ExistingStack = Settings & { cluster: ExistingClusterSettings };

function parse(values: Record<string, unknown>, secretKeys: string[] = []): ExistingStack {
  return parseSettings(source(values, secretKeys), id) as ExistingStack;
}

/** The messages of the ConfigErrors a config produces. */
function problems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    parse(values, secretKeys);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`);
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected the config to be refused");
}

describe("Settings", () => {
  it("defaults to a dev stack on the machine's own kubeconfig", () => {
    const s = parse({});
    assert.strictEqual(s.environment, "dev");
    assert.strictEqual(s.sizing, "default");
    assert.strictEqual(s.protect, false);
    assert.deepStrictEqual(s.cluster.kubeconfig, { kind: "ambient" });
    assert.strictEqual(s.cluster.name, "dev");
    assert.strictEqual(s.cluster.storageClass, "standard");
    assert.strictEqual(s.cluster.ingressClass, "nginx");
  });

  it("makes prod stacks protected and sized for production", () => {
    const s = parse({ environment: "prod" });
    assert.strictEqual(s.protect, true);
    assert.strictEqual(s.sizing, "production");
    assert.strictEqual(parse({ environment: "prod", sizing: "minimal" }).sizing, "minimal");
  });

  it("refuses an unknown cluster provider, naming the key, the value and the allowed ones", () => {
    const [msg] = problems({ cluster: { provider: "openshift" } });
    assert.match(msg, /'es1:cluster\.provider'/);
    assert.match(msg, /"openshift"/);
    assert.match(msg, /use one of: existing/);
  });

  it("waits 600 s for a customer platform by default and takes 10 to 3600", () => {
    assert.strictEqual(parse({}).platformTimeoutSeconds, 600);
    assert.strictEqual(parse({ platformTimeoutSeconds: 45 }).platformTimeoutSeconds, 45);
    const msgs = problems({ platformTimeoutSeconds: 5 });
    assert.strictEqual(msgs.length, 1, msgs.join("\n"));
    assert.match(msgs[0], /'es1:platformTimeoutSeconds'.*10.*3600/);
  });

  it("refuses an unknown environment and sizing profile", () => {
    const msgs = problems({ environment: "production", sizing: "huge" });
    assert.strictEqual(msgs.length, 2, msgs.join("\n"));
    assert.match(msgs[0], /'es1:environment'.*"production".*dev, prod/);
    assert.match(msgs[1], /'es1:sizing'.*"huge".*minimal, default, production/);
  });

  it("refuses unknown keys at the top level and inside cluster", () => {
    const msgs = problems({ clustr: {}, cluster: { storageclass: "gp3" } });
    assert.ok(
      msgs.some((m) => /'es1:clustr': unknown key/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(
      msgs.some((m) => /'es1:cluster\.storageclass': unknown key.*storageClass/.test(m)),
      msgs.join("\n"),
    );
  });

  it("refuses a cluster value that is not an object", () => {
    assert.match(problems({ cluster: "existing" })[0], /'es1:cluster': expected an object, got "existing"/);
  });

  it("refuses a cluster name that is not a DNS label", () => {
    assert.match(problems({ cluster: { name: "My_Cluster" } })[0], /'es1:cluster\.name'.*DNS label/);
  });

  it("reads a kubeconfig file relative to the project and keeps its contents secret", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-settings-"));
    fs.writeFileSync(path.join(dir, "kc.yaml"), "apiVersion: v1\nkind: Config\n");
    const s = parseSettings(source({ cluster: { kubeconfig: "kc.yaml", context: "kwok-es1" } }), {
      ...id,
      cwd: dir,
    }) as ExistingStack;
    assert.strictEqual(s.cluster.kubeconfig.kind, "file");
    assert.strictEqual(s.cluster.context, "kwok-es1");
    if (s.cluster.kubeconfig.kind !== "file") return;
    assert.strictEqual(s.cluster.kubeconfig.path, path.join(dir, "kc.yaml"));
    assert.strictEqual(await pulumi.isSecret(s.cluster.kubeconfig.contents), true);
    assert.match(await valueOf(s.cluster.kubeconfig.contents), /kind: Config/);
  });

  it("says which kubeconfig file it cannot read", () => {
    assert.match(
      problems({ cluster: { kubeconfig: "/nonexistent/kubeconfig" } })[0],
      /'es1:cluster\.kubeconfig': cannot read kubeconfig file "\/nonexistent\/kubeconfig" \(ENOENT\)/,
    );
  });

  it("takes kubeconfig contents only from an encrypted config value", async () => {
    assert.match(problems({ kubeconfig: "apiVersion: v1" })[0], /'es1:kubeconfig'.*must be stored encrypted/);
    const s = parse({ kubeconfig: "apiVersion: v1" }, ["kubeconfig"]);
    assert.strictEqual(s.cluster.kubeconfig.kind, "secret");
  });

  it("refuses a kubeconfig path and kubeconfig contents together", () => {
    assert.match(
      problems({ kubeconfig: "apiVersion: v1", cluster: { kubeconfig: "/tmp/x" } }, ["kubeconfig"])[0],
      /either 'es1:cluster\.kubeconfig'.*or 'es1:kubeconfig'/,
    );
  });

  it("takes configured credentials as secrets and checks them", async () => {
    const good = parse({ secrets: { postgresqlSuperuserPassword: "a-long-enough-password" } }, ["secrets"]);
    const pw = good.secrets.postgresqlSuperuserPassword;
    assert.ok(pulumi.Output.isInstance(pw));
    assert.strictEqual(await pulumi.isSecret(pw), true);

    assert.match(
      problems({ secrets: { postgresqlSuperuserPassword: "short" } }, ["secrets"])[0],
      /'es1:secrets\.postgresqlSuperuserPassword': the value set is not valid; expected at least 16 characters/,
    );
    assert.match(
      problems({ secrets: { postgresqlSuperuserPassword: "a-long-enough-password" } })[0],
      /'es1:secrets'.*must be stored encrypted/,
    );
    assert.match(
      problems({ secrets: { grafana: "a-long-enough-password" } }, ["secrets"])[0],
      /'es1:secrets\.grafana': unknown key/,
    );
  });

  it("reports every problem at once", () => {
    const err = (() => {
      try {
        parse({ environment: "qa", cluster: { provider: "kind", ingressClass: "" } });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigErrors);
    assert.match(err.message, /3 problems/);
  });
});
