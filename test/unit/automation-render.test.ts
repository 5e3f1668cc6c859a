import * as assert from "assert";
import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import {
  fileNames,
  RELEASE_TYPE,
  releasesFromEvents,
  RenderedRelease,
  toYaml,
  writeRender,
} from "../../automation/render";
import { JsonValue, SECRET_SIG_KEY, SECRET_SIG_VALUE, UNKNOWN_VALUE } from "../../automation/report";
import { configuredSecretNames, generateSecret } from "../../automation/secrets";

// js-yaml (a dev dependency without bundled types): a real YAML parser to check our writer against.
const yaml = createRequire(__filename)("js-yaml") as { load(text: string): unknown };

const PREFIX = "urn:pulumi:ci::es1-platform::es1:infrastructure:Infrastructure$";
let seq = 0;

function releaseEvent(
  name: string,
  op: OpType,
  inputs: Record<string, unknown> | undefined,
  kind: "pre" | "out" = "pre",
  type = RELEASE_TYPE,
): EngineEvent {
  const urn = `${PREFIX}${type}::${name}`;
  const state = inputs && { type, urn, id: "", parent: "", inputs, outputs: {}, provider: "" };
  const metadata = { op, urn, type, provider: "", ...(state ? { new: state } : {}) };
  return kind === "pre"
    ? { sequence: seq++, timestamp: 0, resourcePreEvent: { metadata } }
    : { sequence: seq++, timestamp: 0, resOutputsEvent: { metadata } };
}

const secret = (inner: Record<string, string>) => ({ [SECRET_SIG_KEY]: SECRET_SIG_VALUE, ...inner });

describe("es1 render: releases from preview events", function () {
  it("takes chart, version, repository, namespace and values of every Release, secrets replaced", function () {
    const events = [
      releaseEvent("postgresql", "create", {
        name: "postgresql",
        namespace: "es1-infrastructure",
        chart: "postgresql",
        version: "16.7.4",
        repositoryOpts: { repo: "https://charts.bitnami.com/bitnami", password: secret({ ciphertext: "x" }) },
        values: {
          auth: { existingSecret: "es1-postgresql-superuser", password: secret({ plaintext: '"hunter2"' }) },
          extra: [{ token: "[secret]" }],
          host: UNKNOWN_VALUE,
        },
      }),
      releaseEvent("postgresql", "create", { name: "postgresql" }, "out"),
      releaseEvent("es1-base", "same", {
        name: "es1-base",
        namespace: "es1-infrastructure",
        chart: "./infrastructure/charts/es1-base",
        version: "0.1.0",
        values: secret({ ciphertext: "whole values secret" }),
      }),
      releaseEvent("namespace", "create", { metadata: { name: "x" } }, "pre", "kubernetes:core/v1:Namespace"),
    ];
    const [base, pg] = releasesFromEvents(events);
    assert.deepStrictEqual(base, {
      urn: `${PREFIX}${RELEASE_TYPE}::es1-base`,
      name: "es1-base",
      namespace: "es1-infrastructure",
      chart: "./infrastructure/charts/es1-base",
      version: "0.1.0",
      operation: "same",
      values: "<secret>",
    });
    // The last event with inputs wins: the outputs event above carries fewer inputs.
    assert.strictEqual(pg.name, "postgresql");
    assert.deepStrictEqual(pg.values, {});
  });

  it("masks nested secrets and unknowns in values and keeps the repository", function () {
    const [pg] = releasesFromEvents([
      releaseEvent("postgresql", "update", {
        name: "postgresql",
        namespace: "es1-infrastructure",
        chart: "postgresql",
        version: "16.7.4",
        repositoryOpts: { repo: "https://charts.bitnami.com/bitnami", password: secret({ ciphertext: "x" }) },
        values: {
          auth: { existingSecret: "es1-postgresql-superuser", password: secret({ plaintext: '"hunter2"' }) },
          extra: [{ token: "[secret]" }],
          host: UNKNOWN_VALUE,
        },
      }),
    ]);
    assert.strictEqual(pg.repository, "https://charts.bitnami.com/bitnami");
    assert.strictEqual(pg.operation, "update");
    assert.deepStrictEqual(pg.values, {
      auth: { existingSecret: "es1-postgresql-superuser", password: "<secret>" },
      extra: [{ token: "<secret>" }],
      host: "<unknown until deployed>",
    });
    assert.ok(!JSON.stringify(pg).includes("hunter2"));
  });

  it("leaves out releases being deleted and names unnamed ones by resource", function () {
    const rs = releasesFromEvents([
      releaseEvent("old", "delete", undefined),
      releaseEvent("gone", "create", { name: "gone" }),
      releaseEvent("gone", "delete", undefined),
      releaseEvent("replaced", "create-replacement", { name: "replaced", chart: "c" }),
      releaseEvent("replaced", "delete-replaced", undefined),
      releaseEvent("auto", "create", { chart: "c", name: UNKNOWN_VALUE }),
    ]);
    assert.deepStrictEqual(
      rs.map((r) => [r.name, r.operation]),
      [
        ["auto", "create"],
        ["replaced", "create-replacement"],
      ],
    );
  });
});

describe("es1 render: files", function () {
  const tricky: JsonValue = {
    plain: "nginx",
    quotedWords: ["true", "no", "null", "~", "Yes", "ON"],
    numbers: ["0.1.0", "123", "1e3", "0x1F", ".5"],
    punctuation: [
      "a: b",
      "#comment",
      "- item",
      "x #y",
      "{a}",
      "[b]",
      "*ref",
      "&anchor",
      "!tag",
      "%d",
      "@at",
      "`tick`",
    ],
    spaces: [" lead", "trail ", "two  spaces", ""],
    multiline: "line 1\nline 2\n",
    unicode: "żółw 🐢",
    "key with: colon": 1,
    "": "empty key",
    nested: [{ a: 1, b: [true, null, { c: "d" }] }, [], {}, [1, [2, 3]]],
    empty: {},
    none: [],
    n: -1.5,
    t: false,
  };

  it("writes YAML that parses back to the same data", function () {
    assert.deepStrictEqual(yaml.load(toYaml(tricky)), tricky);
    assert.deepStrictEqual(yaml.load(toYaml({})), {});
    assert.deepStrictEqual(yaml.load(toYaml([])), []);
    assert.strictEqual(
      toYaml({ image: { repository: "nginx", tag: "1.27" } }),
      'image:\n  repository: nginx\n  tag: "1.27"\n',
    );
  });

  it("names files by release, and by namespace too where names collide", function () {
    const r = (name: string, namespace: string): RenderedRelease => ({
      urn: `${namespace}/${name}`,
      name,
      namespace,
      chart: "c",
      version: "1",
      operation: "create",
      values: {},
    });
    assert.deepStrictEqual(
      fileNames([
        r("es1-base", "es1-infrastructure"),
        r("platform", "beam"),
        r("platform", "rimbal"),
        r("a/b", "x"),
      ]),
      ["es1-base.yaml", "beam--platform.yaml", "rimbal--platform.yaml", "a_b.yaml"],
    );
  });

  it("writes one file per release and an index, replacing a previous render", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-render-"));
    try {
      const base: RenderedRelease = {
        urn: "u1",
        name: "es1-base",
        namespace: "es1-infrastructure",
        chart: "./infrastructure/charts/es1-base",
        version: "0.1.0",
        operation: "create",
        values: { install: { stack: "ci" }, password: "<secret>" },
      };
      writeRender(dir, "ci", [
        base,
        { ...base, urn: "u2", name: "old", repository: "https://charts.example" },
      ]);
      fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
      const entries = writeRender(dir, "ci", [base]);
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["es1-base.yaml", "index.json", "notes.txt"]);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")), {
        stack: "ci",
        releases: entries,
      });
      assert.deepStrictEqual(entries, [
        {
          urn: "u1",
          name: "es1-base",
          namespace: "es1-infrastructure",
          chart: "./infrastructure/charts/es1-base",
          version: "0.1.0",
          operation: "create",
          file: "es1-base.yaml",
        },
      ]);
      assert.deepStrictEqual(yaml.load(fs.readFileSync(path.join(dir, "es1-base.yaml"), "utf8")), {
        name: "es1-base",
        namespace: "es1-infrastructure",
        chart: "./infrastructure/charts/es1-base",
        version: "0.1.0",
        values: { install: { stack: "ci" }, password: "<secret>" },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("es1 secrets init: generated values and what the config has", function () {
  it("generates 32 random letters and digits", function () {
    const values = new Set(Array.from({ length: 200 }, () => generateSecret()));
    assert.strictEqual(values.size, 200);
    for (const v of values) assert.match(v, /^[A-Za-z0-9]{32}$/);
    assert.match(generateSecret(48), /^[A-Za-z0-9]{48}$/);
  });

  it("reads the credential names set under es1:secrets", function () {
    assert.deepStrictEqual(configuredSecretNames({}), []);
    assert.deepStrictEqual(
      configuredSecretNames({
        "es1:environment": { value: "dev" },
        "es1:secrets": { value: '{"postgresqlSuperuserPassword":"x","other":"y"}' },
      }),
      ["postgresqlSuperuserPassword", "other"],
    );
    assert.throws(
      () => configuredSecretNames({ "es1:secrets": { value: "plain" } }),
      /es1:secrets is not an object/,
    );
  });
});
