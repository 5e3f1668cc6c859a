import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigErrors, parseSettings, SettingsSource } from "../../config";
import { draftLicense, generateKeyPair, issueLicense } from "../../platform/license";
import { checkLicenses } from "../../platform/license/deploy-gate";
import { PROJECT_ROOT } from "../../lib/paths";
import { PLATFORM_SIZING } from "../../platform/sizing";
import { allStrings, ProgramFailed, runProgram } from "./harness";

// Test keys: a test stack (es1:licenseTestKeys) trusts them beside the shipped ES1 keys.
const KEY = generateKeyPair("test-2026");
const OTHER_KEY = generateKeyPair("test-2026");
const ALL_AGENTS = ["agents.router", "agents.crewai", "agents.autogen"];

function license(
  customer: string,
  opts: { expiresAt?: string; features?: string[]; key?: typeof KEY; issuedAt?: string } = {},
): string {
  const key = opts.key ?? KEY;
  return issueLicense(
    draftLicense({
      customer,
      expiresAt: opts.expiresAt ?? "2099-12-31",
      issuedAt: opts.issuedAt ?? "2019-06-01",
      features: opts.features ?? ALL_AGENTS,
      keyId: key.keyId,
    }),
    key.privateKey,
  );
}

function settings(values: Record<string, unknown>, secretKeys: string[] = ["licenses"], cwd = PROJECT_ROOT) {
  // Ingresses, as these tests were written for (test/unit/access.test.ts covers the gateway).
  if (!("access" in values)) values = { ...values, access: { mode: "ingress" } };
  const src: SettingsSource = {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: (k) => secretKeys.includes(k),
  };
  return parseSettings(src, { project: "es1-platform", stack: "test", cwd });
}

function problems(values: Record<string, unknown>, secretKeys?: string[], cwd?: string): string[] {
  try {
    settings(values, secretKeys, cwd);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected the config to be refused");
}

const keys = { [KEY.keyId]: KEY.publicKey };

describe("customers in stack config", () => {
  it("reads each customer from customers/<name>.yaml with the stack's overrides on top", () => {
    const s = settings({
      customers: { beam: {}, polygraf: { sizing: "production", branding: { title: "Polygraf (EU)" } } },
      licenseTestKeys: true,
      licensePublicKeys: keys,
    });
    const [beam, polygraf] = s.customers;
    assert.strictEqual(beam.displayName, "Beam");
    assert.match(beam.branding.logoSvg, /^<svg/);
    assert.deepStrictEqual(beam.domains, { gateway: "api.beam.example.com", ui: "app.beam.example.com" });
    assert.strictEqual(polygraf.sizing, "production");
    assert.strictEqual(polygraf.branding.title, "Polygraf (EU)");
    assert.strictEqual(polygraf.branding.primaryColor, "#6a1b9a", "fields not overridden come from the file");
    assert.deepStrictEqual(polygraf.agents, { router: true, crewai: true, autogen: false });
  });

  it("refuses bad, reserved and repeated names, and a customer without a file", () => {
    const p = problems({ customers: ["Beam", "es1", "airflow", "rimbal", "rimbal", "nobody"] });
    const expect = [
      /'es1:customers\.Beam': a customer name must be a DNS label/,
      /'es1:customers\.es1': 'es1' is reserved/,
      /'es1:customers\.airflow': 'airflow' is reserved/,
      /'es1:customers\[4\]': customer "rimbal" is listed twice/,
      /'es1:customers\.nobody': no customer file customers\/nobody\.yaml/,
    ];
    for (const re of expect)
      assert.ok(
        p.some((x) => re.test(x)),
        `${re}\n${p.join("\n")}`,
      );
  });

  it("refuses a customer named after another's MLflow database (<name>-mlflow beside <name>)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-customers-"));
    fs.mkdirSync(path.join(dir, "customers"));
    for (const c of ["acme", "acme-mlflow"])
      fs.writeFileSync(path.join(dir, "customers", `${c}.yaml`), `displayName: ${c}\n`);
    const p = problems({ customers: ["acme", "acme-mlflow"] }, undefined, dir);
    assert.deepStrictEqual(p.length, 1, p.join("\n"));
    assert.match(
      p[0],
      /'es1:customers\.acme-mlflow': 'acme-mlflow' would take the database of the MLflow of customer 'acme'/,
    );
  });

  it("checks customer files: colours, domains, license mode, assets, unknown keys", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "es1-customers-"));
    fs.mkdirSync(path.join(dir, "customers"));
    fs.writeFileSync(
      path.join(dir, "customers", "acme.yaml"),
      [
        "displayName: Acme",
        "colour: red",
        "domains: { gateway: not_a_host }",
        "branding: { primaryColor: red, logo: ../../etc/passwd.svg }",
        "license: { mode: online }",
      ].join("\n"),
    );
    const p = problems({ customers: ["acme"] }, [], dir);
    const expect = [
      /customers\/acme\.yaml: unknown key 'colour'/,
      /'es1:customers\.acme\.domains\.gateway': "not_a_host" is not a DNS name/,
      /'es1:customers\.acme\.branding\.primaryColor': "red" is not valid: a colour as #rrggbb/,
      /'es1:customers\.acme\.branding\.logo': "\.\.\/\.\.\/etc\/passwd\.svg" is not a file under customers\//,
      /'es1:customers\.acme\.license\.onlineUrl': required when license\.mode is online/,
    ];
    for (const re of expect)
      assert.ok(
        p.some((x) => re.test(x)),
        `${re}\n${p.join("\n")}`,
      );
  });

  it("takes licenses only from encrypted config, and only for listed customers", () => {
    const p = problems({ customers: ["beam"], licenses: { beam: "x", rimbal: "y" } }, []);
    assert.ok(
      p.some((x) => /'es1:licenses': licenses must be stored encrypted/.test(x)),
      p.join("\n"),
    );
    assert.ok(
      p.some((x) => /'es1:licenses\.rimbal': no customer 'rimbal' in es1:customers/.test(x)),
      p.join("\n"),
    );
  });

  it("needs PostgreSQL and Valkey while there are customers", () => {
    const p = problems({
      customers: ["beam"],
      components: {
        postgresql: { enabled: false },
        airflow: { enabled: false },
        mlflow: { enabled: false },
        n8n: { enabled: false },
        langflow: { enabled: false },
        langfuse: { enabled: false },
      },
    });
    assert.ok(
      p.some((x) => /'es1:components\.postgresql\.enabled': customer platforms keep their data/.test(x)),
    );
  });
});

describe("deploy-time license gate", () => {
  const now = new Date("2026-11-23T12:00:00Z");
  function gate(customers: Record<string, unknown>, licenses: Record<string, string>, publicKeys = keys) {
    const s = settings({ customers, licenses, licenseTestKeys: true, licensePublicKeys: publicKeys });
    return checkLicenses(s.customers, s.licensing, now);
  }
  function refusals(customers: Record<string, unknown>, licenses: Record<string, string>): string[] {
    try {
      gate(customers, licenses);
    } catch (e) {
      assert.ok(e instanceof ConfigErrors);
      return e.errors.map((x) => x.message);
    }
    assert.fail("expected a license to be refused");
  }

  it("refuses every bad license at once, naming the customer and the reason", () => {
    const p = refusals(
      { beam: {}, polygraf: {}, rimbal: {} },
      {
        beam: license("beam", { expiresAt: "2026-01-31" }),
        polygraf: license("rimbal"),
        rimbal: license("rimbal", { key: OTHER_KEY }),
      },
    );
    assert.strictEqual(p.length, 3, p.join("\n"));
    assert.match(p[0], /'es1:licenses\.beam': license of customer 'beam': .*expired/);
    assert.match(p[1], /'es1:licenses\.polygraf': license of customer 'polygraf': .*rimbal/);
    assert.match(p[2], /'es1:licenses\.rimbal': license of customer 'rimbal': .*signature does not match/);
  });

  it("refuses a customer without a license, and a test key's license where the key is not trusted", () => {
    assert.match(
      refusals({ beam: {} }, {})[0],
      /'es1:licenses\.beam': license of customer 'beam': no license is configured/,
    );
    assert.throws(
      () => gate({ beam: {} }, { beam: license("beam") }, {}),
      /'es1:licenses\.beam': .*signed with key 'test-2026', which is not a trusted key \(trusted: es1-2026\)/,
    );
  });

  it("deploys only the agent services the license covers, and says why the others are left out", () => {
    const result = gate(
      { beam: {} },
      { beam: license("beam", { features: ["agents.router", "agents.crewai"] }) },
    );
    const beam = result.get("beam");
    assert.ok(beam);
    assert.deepStrictEqual(beam.agents, ["router", "crewai"]);
    assert.deepStrictEqual(beam.warnings, [
      `customer 'beam': autogen is not deployed: license ${beam.license.id} does not include agents.autogen`,
    ]);
  });

  it("warns about a license that ends within the window, with its date", () => {
    const beam = gate({ beam: {} }, { beam: license("beam", { expiresAt: "2026-12-10" }) }).get("beam");
    assert.ok(beam);
    assert.match(beam.warnings.join("\n"), /customer 'beam': .*2026-12-10/);
  });

  it("ignores customers whose platform is switched off", () => {
    assert.strictEqual(gate({ beam: { enabled: false } }, {}).size, 0);
  });
});

describe("customer platforms under mocks", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-platform-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const base = {
    "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }),
    "es1:licenseTestKeys": "true",
    "es1:licensePublicKeys": JSON.stringify(keys),
  };
  const licenses = {
    beam: license("beam"),
    polygraf: license("polygraf", { features: ["agents.router", "agents.crewai"] }),
    rimbal: license("rimbal"),
  };
  const run3 = (customers: unknown) =>
    runProgram(
      { ...base, "es1:customers": JSON.stringify(customers), "es1:licenses": JSON.stringify(licenses) },
      { secretKeys: ["es1:licenses"] },
    );
  const T = {
    ns: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    release: "kubernetes:helm.sh/v3:Release",
    quota: "kubernetes:core/v1:ResourceQuota",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  };
  const valuesOf = (run: Awaited<ReturnType<typeof run3>>, name: string) =>
    run.one(T.release, name).inputs.values as Record<string, Record<string, unknown>>;

  it("gives each customer a restricted namespace, its Secrets and one release of the platform chart", async () => {
    const run = await run3({ beam: {}, polygraf: {}, rimbal: {} });
    for (const c of ["beam", "polygraf", "rimbal"]) {
      const ns = run
        .byType(T.ns)
        .find((n) => (n.inputs.metadata as { name: string }).name === `${c}-platform`);
      assert.ok(ns, `${c} namespace`);
      const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
      assert.strictEqual(labels["es1-role"], "platform");
      assert.strictEqual(labels["es1-customer"], c);
      assert.strictEqual(labels["pod-security.kubernetes.io/enforce"], "restricted");
      const rel = run.one(T.release, `${c}-platform`);
      assert.deepStrictEqual([rel.inputs.name, rel.inputs.chart], ["es1-platform", "./platform/chart"]);
      for (const s of ["license", "database", "redis"])
        assert.ok(
          run
            .byType(T.secret)
            .some(
              (x) =>
                (x.inputs.metadata as { name: string }).name === `${c}-${s}` &&
                x.secretInputs.includes("stringData"),
            ),
          `${c}-${s}`,
        );
    }
    assert.strictEqual(run.byType(T.quota).length, 3);
    assert.deepStrictEqual(Object.keys(run.outputs.customers).sort(), ["beam", "polygraf", "rimbal"]);
  });

  it("wires each platform to its own database and keys, with no secret in the values", async () => {
    const run = await run3({ beam: {}, polygraf: {}, rimbal: {} });
    const beam = valuesOf(run, "beam-platform");
    assert.deepStrictEqual(beam.database, { secretName: "beam-database" });
    assert.strictEqual((beam.license as Record<string, unknown>).secretName, "beam-license");
    const polygraf = valuesOf(run, "polygraf-platform").services as Record<string, { enabled: boolean }>;
    assert.deepStrictEqual(
      [polygraf.agentRouter.enabled, polygraf.crewai.enabled, polygraf.autogen.enabled],
      [true, true, false],
    );
    const dbUrl = (run.one(T.secret, "beam-database").inputs.stringData as Record<string, string>).url;
    for (const rel of run.byType(T.release))
      assert.ok(
        !allStrings(rel.inputs.values).some((s) => s.includes("generated-")),
        `${rel.name} holds a credential`,
      );
    assert.match(dbUrl, /^postgresql:\/\/\w+:generated-customer-\w+-database-password-/);

    const pg = valuesOf(run, "es1-postgresql");
    const roles = (pg.cluster as { roles: { name: string; passwordSecret?: { name: string } }[] }).roles;
    assert.deepStrictEqual(roles.find((r) => r.name === "beam")?.passwordSecret, {
      name: "es1-postgresql-customer-beam",
    });
    assert.ok(
      JSON.stringify(pg.cluster).includes("host beam all all reject"),
      "other roles are refused at beam's database",
    );
    const acl = (valuesOf(run, "es1-redis").auth as { aclUsers: Record<string, { permissions: string }> })
      .aclUsers;
    assert.match(acl.polygraf.permissions, /^~polygraf:\* &polygraf:\* /);
    assert.ok(run.byType(T.netpol).some((n) => n.name === "es1-postgresql"));
  });

  it("removes a switched-off customer's platform but keeps its database and Valkey user", async () => {
    const run = await run3({ beam: {}, polygraf: { enabled: false }, rimbal: {} });
    assert.ok(!run.byType(T.release).some((r) => r.name === "polygraf-platform"));
    assert.ok(!run.resources.some((r) => r.name === "polygraf-database"), "its Secrets go with the platform");
    // The namespace stays, for a customer-only stack to deploy into (test/unit/customer-only.test.ts).
    assert.ok(
      run.resources.some((r) => r.type === "es1:platform:CustomerDeployAccess" && r.name === "polygraf"),
    );
    const dbs = (
      valuesOf(run, "es1-postgresql").databases as unknown as { name: string; ensure: string }[]
    ).filter((d) => d.name === "polygraf");
    assert.deepStrictEqual(
      dbs.map((d) => d.ensure),
      ["present"],
    );
    const acl = (valuesOf(run, "es1-redis").auth as { aclUsers: Record<string, unknown> }).aclUsers;
    assert.ok(acl.polygraf);
  });

  it("drops the database and Valkey user only when purgeData says so", async () => {
    const run = await run3({ beam: {}, polygraf: { enabled: false, purgeData: true }, rimbal: {} });
    const db = (
      valuesOf(run, "es1-postgresql").databases as unknown as {
        name: string;
        ensure: string;
        databaseReclaimPolicy: string;
      }[]
    ).find((d) => d.name === "polygraf");
    assert.deepStrictEqual([db?.ensure, db?.databaseReclaimPolicy], ["absent", "delete"]);
    assert.ok(
      !run.byType(T.ns).some((n) => (n.inputs.metadata as { name: string }).name === "polygraf-platform"),
      "a purged customer keeps no namespace",
    );
    const acl = (valuesOf(run, "es1-redis").auth as { aclUsers: Record<string, unknown> }).aclUsers;
    assert.strictEqual(acl.polygraf, undefined);
  });

  it("gives each customer an MLflow of its own: its database, volume and policy, its URL in the platform", async () => {
    const run = await run3({
      beam: {},
      polygraf: { enabled: false },
      rimbal: { enabled: false, purgeData: true },
    });
    const rel = run.one(T.release, "beam-mlflow");
    assert.deepStrictEqual(
      [rel.inputs.name, rel.inputs.namespace, rel.inputs.chart],
      ["beam-mlflow", "beam-platform", "mlflow"],
    );
    const v = rel.inputs.values as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepStrictEqual(v.backendStore.existingDatabaseSecret, {
      name: "beam-mlflow-database",
      usernameKey: "username",
      passwordKey: "password",
    });
    assert.strictEqual(v.backendStore.postgres.database, "beam_mlflow");
    // MLflow 3.5+ refuses Host headers other than localhost and private IPs unless allowed: the
    // platform names its own Service.
    assert.ok(
      (v.serverAllowedHosts as unknown as string[]).includes("beam-mlflow.beam-platform.svc.cluster.local:*"),
    );
    // Its namespace enforces the restricted Pod Security level, which asks for a seccomp profile.
    assert.deepStrictEqual(v.podSecurityContext, { seccompProfile: { type: "RuntimeDefault" } });
    assert.ok(
      !allStrings(rel.inputs.values).some((x) => x.includes("generated-")),
      "no password in its values",
    );
    const secret = run.one(T.secret, "beam-mlflow-database");
    assert.strictEqual((secret.inputs.metadata as { namespace: string }).namespace, "beam-platform");
    assert.match(
      (secret.inputs.stringData as { password: string }).password,
      /^generated-customer-beam-mlflow-password-/,
    );
    assert.ok(secret.secretInputs.includes("stringData"), "the password is a secret");
    const claim = run.one("kubernetes:core/v1:PersistentVolumeClaim", "beam-mlflow-artifacts");
    assert.strictEqual((claim.inputs.metadata as { namespace: string }).namespace, "beam-platform");
    // Its platform talks to it, not to the shared MLflow.
    const infra = valuesOf(run, "beam-platform").infrastructure as Record<string, string>;
    assert.strictEqual(infra.mlflowUrl, "http://beam-mlflow.beam-platform.svc:80");
    const pol = run.one(T.netpol, "beam-mlflow-network").inputs.spec as {
      ingress: { from: Record<string, unknown>[] }[];
      egress: { to: Record<string, unknown>[] }[];
    };
    assert.deepStrictEqual(pol.ingress[0].from, [{ podSelector: {} }], "its own namespace's pods");
    assert.ok(
      pol.ingress
        .slice(1)
        .every((r) => JSON.stringify(r.from).includes('"app.kubernetes.io/name":"prometheus"')),
    );
    assert.ok(JSON.stringify(pol.egress).includes("cnpg.io/cluster"), "it reaches PostgreSQL");
    // The database of each customer's MLflow is its own role's, kept while the customer is in the
    // stack (polygraf, switched off: its volume too), dropped when its data is purged (rimbal).
    const pg = valuesOf(run, "es1-postgresql");
    const dbs = pg.databases as unknown as { name: string; owner: string; ensure: string }[];
    assert.deepStrictEqual(
      dbs.filter((d) => d.name.endsWith("_mlflow")).map((d) => [d.name, d.owner, d.ensure]),
      [
        ["beam_mlflow", "beam_mlflow", "present"],
        ["polygraf_mlflow", "polygraf_mlflow", "present"],
        ["rimbal_mlflow", "rimbal_mlflow", "absent"],
      ],
    );
    assert.ok(JSON.stringify(pg.cluster).includes("host beam_mlflow all all reject"));
    assert.ok(
      !run.byType(T.release).some((r) => r.name === "polygraf-mlflow"),
      "no MLflow while its platform is off",
    );
    assert.ok(
      run.resources.some((r) => r.name === "polygraf-mlflow-artifacts"),
      "its volume stays",
    );
    assert.ok(!run.resources.some((r) => r.name.startsWith("rimbal-mlflow")));
  });

  it("sends a customer's traces to Langfuse only with its own project's keys, read from a Secret", async () => {
    const PK = "pk-lf-beam-0123456789";
    const SK = "sk-lf-beam-9876543210";
    const run = await runProgram(
      {
        ...base,
        "es1:customers": JSON.stringify(["beam", "polygraf"]),
        "es1:licenses": JSON.stringify({ beam: licenses.beam, polygraf: licenses.polygraf }),
        "es1:langfuseKeys": JSON.stringify({ beam: { publicKey: PK, secretKey: SK } }),
      },
      { secretKeys: ["es1:licenses", "es1:langfuseKeys"] },
    );
    const secret = run.one(T.secret, "beam-langfuse");
    assert.deepStrictEqual(
      [(secret.inputs.metadata as { name: string; namespace: string }).name, secret.inputs.stringData],
      ["es1-langfuse-project", { publicKey: PK, secretKey: SK }],
    );
    assert.ok(secret.secretInputs.includes("stringData"), "the keys are secrets");
    const beam = valuesOf(run, "beam-platform");
    assert.deepStrictEqual(beam.langfuse, { secretName: "es1-langfuse-project" });
    assert.strictEqual(
      beam.infrastructure.langfuseUrl,
      "http://es1-langfuse-web.es1-infrastructure.svc:3000",
    );
    // Polygraf has no project: no Secret, no host.
    assert.ok(!run.resources.some((r) => r.name === "polygraf-langfuse"));
    const polygraf = valuesOf(run, "polygraf-platform");
    assert.deepStrictEqual(
      [polygraf.infrastructure.langfuseUrl, polygraf.langfuse],
      ["", { secretName: "" }],
    );
    // The keys appear in no values and no output.
    for (const r of run.byType(T.release))
      assert.ok(!allStrings(r.inputs.values).some((x) => x.includes(PK) || x.includes(SK)), r.name);
    assert.ok(!allStrings(run.outputs).some((x) => x.includes(SK) || x.includes(PK)));
    // Langfuse admits only the pods the chart labels as its clients (those with keys).
    const web = run.one(T.netpol, "es1-langfuse-web").inputs.spec as { ingress: { from: unknown[] }[] };
    const platformRule = web.ingress
      .flatMap((r) => r.from)
      .find((f) => JSON.stringify(f).includes("es1-role"));
    assert.deepStrictEqual(platformRule, {
      namespaceSelector: { matchLabels: { "es1-role": "platform" } },
      podSelector: { matchLabels: { "es1-langfuse-client": "true" } },
    });
  });

  it("registers nothing when a customer's license is refused", async () => {
    await assert.rejects(
      runProgram(
        {
          ...base,
          "es1:customers": JSON.stringify(["beam"]),
          "es1:licenses": JSON.stringify({ beam: license("beam", { expiresAt: "2020-01-01" }) }),
        },
        { secretKeys: ["es1:licenses"] },
      ),
      (e: unknown) => {
        assert.ok(e instanceof ProgramFailed);
        assert.match(e.message, /'es1:licenses\.beam': license of customer 'beam': .*expired/);
        assert.deepStrictEqual(e.registered, []);
        return true;
      },
    );
  });
});

describe("customer namespace quota", () => {
  /** A CPU or memory quantity in cores or bytes. */
  const qty = (q: string): number => {
    const m = /^([0-9.]+)(m|Mi|Gi)?$/.exec(q);
    assert.ok(m, q);
    const scale: Record<string, number> = { m: 1e-3, Mi: 2 ** 20, Gi: 2 ** 30 };
    return Number(m[1]) * (m[2] ? scale[m[2]] : 1);
  };

  it("holds every service at its most replicas, each with the license sidecar, and the customer's own MLflow", () => {
    // The chart's license-watch sidecar (platform/chart/values.yaml license.resources).
    const sidecar = { cpu: "10m", memory: "32Mi", limit: "64Mi" };
    for (const [profile, size] of Object.entries(PLATFORM_SIZING)) {
      // Four scaled services up to maxReplicas, CrewAI and AutoGen at replicas.
      const pods = 4 * (size.maxReplicas ?? size.replicas) + 2 * size.replicas;
      const r = size.resources as { requests: { cpu: string; memory: string }; limits: { memory: string } };
      const m = size.mlflow.resources;
      const need = {
        "requests.cpu": pods * (qty(r.requests.cpu) + qty(sidecar.cpu)) + qty(m.requests.cpu),
        "requests.memory": pods * (qty(r.requests.memory) + qty(sidecar.memory)) + qty(m.requests.memory),
        "limits.memory": pods * (qty(r.limits.memory) + qty(sidecar.limit)) + qty(m.limits.memory),
        pods: pods + 1,
      };
      for (const [k, v] of Object.entries(need))
        assert.ok(qty(size.quota[k]) >= v, `${profile}: ${k} ${size.quota[k]} < ${v}`);
    }
  });
});
