import * as assert from "assert";
import * as os from "os";
import { ConfigErrors, parseSettings, SettingsSource } from "../../config";
import { storedInPlainText } from "../../config/stored";
import { runProgram } from "./harness";

// Issue 14 item 6: no secret in any message, and "stored encrypted" checked per entry.

const PASSWORD = "Scalar-Secret-Value-0123456789abcdef";

function problems(
  values: Record<string, unknown>,
  secretKeys: string[],
  plainEntries: string[] = [],
): string {
  const src: SettingsSource = {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: (k) => secretKeys.includes(k),
    isPlainEntry: (k) => plainEntries.includes(k),
  };
  try {
    parseSettings(src, { project: "es1-platform", stack: "test", cwd: os.tmpdir() });
  } catch (e) {
    assert.ok(e instanceof ConfigErrors);
    return e.message;
  }
  return "";
}

describe("secrets in stack config", () => {
  it("never repeats a scalar es1:secrets or es1:licenses value in the error", () => {
    const m = problems({ secrets: PASSWORD, licenses: PASSWORD }, ["secrets", "licenses"]);
    assert.match(
      m,
      /'es1:secrets': expected an object of credential names to values, got a string \(not shown/,
    );
    assert.match(m, /'es1:licenses': expected an object of customer names to licenses, got a string/);
    assert.ok(!m.includes(PASSWORD), m);
  });

  it("never shows a scalar es1:secrets value in any output of a run", async () => {
    await assert.rejects(
      runProgram({ "es1:secrets": PASSWORD }, { secretKeys: ["es1:secrets"] }),
      (e: Error) => {
        assert.match(e.message, /'es1:secrets'/);
        assert.ok(!e.message.includes(PASSWORD), e.message);
        return true;
      },
    );
  });

  it("refuses a plain-text entry beside an encrypted one, naming the entry, not its value", () => {
    const m = problems(
      { secrets: { postgresqlSuperuserPassword: PASSWORD, grafanaAdminPassword: `${PASSWORD}x` } },
      ["secrets"],
      ["secrets.grafanaAdminPassword"],
    );
    assert.match(m, /'es1:secrets\.grafanaAdminPassword': stored in plain text beside encrypted entries/);
    assert.ok(!m.includes("'es1:secrets.postgresqlSuperuserPassword'"), m);
    assert.ok(!m.includes(PASSWORD), m);
  });

  it("takes Langfuse project keys only encrypted, each entry too, for listed customers, naming keys not values", () => {
    const keys = { publicKey: "pk-lf-1234", secretKey: "sk-lf-5678" };
    const plainAll = problems({ customers: ["beam"], langfuseKeys: { beam: keys } }, []);
    assert.match(plainAll, /'es1:langfuseKeys': Langfuse keys must be stored encrypted/);
    const plainOne = problems(
      { customers: ["beam"], langfuseKeys: { beam: keys } },
      ["langfuseKeys"],
      ["langfuseKeys.beam.secretKey"],
    );
    assert.match(
      plainOne,
      /'es1:langfuseKeys\.beam\.secretKey': stored in plain text beside encrypted entries/,
    );
    const bad = problems(
      { customers: ["beam"], langfuseKeys: { beam: { publicKey: "sk-lf-swapped", extra: 1 }, nobody: keys } },
      ["langfuseKeys"],
    );
    assert.match(
      bad,
      /'es1:langfuseKeys\.beam\.publicKey': the value set is not valid; expected a Langfuse public key/,
    );
    assert.match(bad, /'es1:langfuseKeys\.beam\.secretKey': required/);
    assert.match(bad, /'es1:langfuseKeys\.beam\.extra': unknown key/);
    assert.match(bad, /'es1:langfuseKeys\.nobody': no customer 'nobody'/);
    const scalar = problems({ customers: ["beam"], langfuseKeys: PASSWORD }, ["langfuseKeys"]);
    assert.match(scalar, /'es1:langfuseKeys': expected an object/);
    for (const m of [plainAll, plainOne, bad, scalar])
      for (const v of ["pk-lf-1234", "sk-lf-5678", "sk-lf-swapped", PASSWORD]) assert.ok(!m.includes(v), m);
  });

  it("reads per entry from the stack settings file what was stored encrypted", () => {
    const file = [
      "config:",
      "  es1:secrets:",
      "    postgresqlSuperuserPassword:",
      "      secure: v1:abc",
      "    grafanaAdminPassword: plain-text-password",
      "  es1:licenses:",
      "    beam:",
      "      secure: v1:def",
      "",
    ].join("\n");
    assert.strictEqual(storedInPlainText(file, "es1:secrets", ["postgresqlSuperuserPassword"]), false);
    assert.strictEqual(storedInPlainText(file, "es1:secrets", ["grafanaAdminPassword"]), true);
    assert.strictEqual(storedInPlainText(file, "es1:licenses", ["beam"]), false);
    // Not in the file (set some other way): nothing is claimed.
    assert.strictEqual(storedInPlainText(file, "es1:licenses", ["rimbal"]), false);
    assert.strictEqual(storedInPlainText("", "es1:secrets", ["x"]), false);
  });
});
