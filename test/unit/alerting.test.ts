// es1:alerting: validation (key, what was wrong, what is allowed; never a secret value), the
// Alertmanager configuration it becomes, and how it reaches Alertmanager (a Secret, never values).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { AlertingSettings, ConfigErrors, parseSettings, Settings } from "../../config";
import {
  ALERTMANAGER_CONFIG_SECRET,
  alertmanagerConfig,
  ResolvedReceiver,
} from "../../infrastructure/observability/alerting";
import { JsonObject } from "../../lib/json";
import { PROJECT_ROOT } from "../../lib/paths";
import { allStrings, runProgram } from "./harness";

const SLACK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
const PAGERDUTY = "0123456789abcdef0123456789ABCDEF";
const HOOK = "https://hooks.example.com/es1?token=s3cr3t-token";
const SMTP_PASSWORD = "smtp-pa55word";

const ALERTING = {
  receivers: {
    oncall: { pagerduty: { routingKey: PAGERDUTY } },
    "ops-slack": { slack: { webhookUrl: SLACK, channel: "#es1-alerts" } },
    "ops-mail": {
      email: {
        to: ["ops@example.com", "es1@example.com"],
        from: "alertmanager@example.com",
        smarthost: "smtp.example.com:587",
        username: "alertmanager",
        password: SMTP_PASSWORD,
      },
    },
    "beam-hook": { webhook: { url: HOOK } },
  },
  routes: [
    { receiver: "oncall", severity: "critical" },
    { receiver: "beam-hook", customers: ["beam"] },
  ],
  defaultReceiver: "ops-slack",
};

function settings(values: Record<string, unknown>, secret = true): Settings {
  // Ingresses for the customers' domains (es1:access is not what these tests are about).
  if (!("access" in values)) values = { ...values, access: { mode: "ingress" } };
  return parseSettings(
    {
      keys: () => Object.keys(values),
      get: (k) => values[k],
      isSecret: (k) => secret && k === "alerting",
    },
    { project: "es1-platform", stack: "test", cwd: PROJECT_ROOT },
  );
}

function refusals(values: Record<string, unknown>, secret = true): string[] {
  try {
    settings(values, secret);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  return assert.fail("expected the config to be refused");
}

const withAlerting = (alerting: unknown) => ({ customers: ["beam"], alerting });

describe("es1:alerting: settings", () => {
  it("parses receivers of each kind, routes by severity and customer, the default receiver", () => {
    const a = settings(withAlerting(ALERTING)).alerting;
    assert.ok(a);
    assert.deepStrictEqual(Object.fromEntries(Object.entries(a.receivers).map(([n, r]) => [n, r.kind])), {
      oncall: "pagerduty",
      "ops-slack": "slack",
      "ops-mail": "email",
      "beam-hook": "webhook",
    });
    assert.deepStrictEqual(a.routes, [
      { receiver: "oncall", severity: "critical", customers: [], continue: true },
      { receiver: "beam-hook", customers: ["beam"], continue: true },
    ]);
    assert.strictEqual(a.defaultReceiver, "ops-slack");
    assert.strictEqual(settings({}).alerting, undefined);
  });

  it("refuses credentials stored in plaintext, naming how to store them", () => {
    assert.deepStrictEqual(refusals(withAlerting(ALERTING), false), [
      "Invalid stack configuration 'es1:alerting': receiver URLs, keys and passwords are credentials and must be stored encrypted: pulumi config set --secret --path es1:alerting.receivers.<name>.<kind>.<field> …",
    ]);
  });

  it("refuses a malformed credential without repeating it", () => {
    const messages = refusals(
      withAlerting({
        receivers: { s: { slack: { webhookUrl: "http://hooks.slack.com/leaky-secret" } } },
        defaultReceiver: "s",
      }),
    );
    assert.deepStrictEqual(messages, [
      "Invalid stack configuration 'es1:alerting.receivers.s.slack.webhookUrl': the value set is not valid; expected an https:// Slack incoming-webhook URL",
    ]);
    assert.ok(!messages.join("").includes("leaky-secret"));
    assert.match(
      refusals(
        withAlerting({ receivers: { p: { pagerduty: { routingKey: "short" } } }, defaultReceiver: "p" }),
      ).join(),
      /routingKey': the value set is not valid; expected a PagerDuty Events API v2 integration key/,
    );
  });

  it("names the key, what was wrong and what is allowed", () => {
    const cases: [unknown, string][] = [
      [
        { receivers: { x: { teams: { url: HOOK } } }, defaultReceiver: "x" },
        "'es1:alerting.receivers.x.teams': unknown key; allowed keys of 'es1:alerting.receivers.x': slack, email, pagerduty, webhook",
      ],
      [
        { receivers: { x: { slack: { webhookUrl: SLACK }, webhook: { url: HOOK } } }, defaultReceiver: "x" },
        "'es1:alerting.receivers.x': give exactly one of slack, email, pagerduty, webhook (got slack, webhook)",
      ],
      [
        { receivers: { x: { slack: {} } }, defaultReceiver: "x" },
        "'es1:alerting.receivers.x.slack.webhookUrl': is required: an https:// Slack incoming-webhook URL",
      ],
      [
        { receivers: { x: { slack: { webhookUrl: SLACK } } }, routes: [{ receiver: "y" }] },
        `'es1:alerting.routes[0].receiver': "y" is not a receiver of es1:alerting.receivers; receivers: x`,
      ],
      [
        { receivers: { x: { slack: { webhookUrl: SLACK } } }, routes: [{ receiver: "x", severity: "page" }] },
        `'es1:alerting.routes[0].severity': "page" is not allowed; use one of: critical, warning`,
      ],
      [
        {
          receivers: { x: { slack: { webhookUrl: SLACK } } },
          routes: [{ receiver: "x", customers: ["acme"] }],
        },
        `'es1:alerting.routes[0].customers[0]': "acme" is not a customer of this stack; customers: beam`,
      ],
      [
        { receivers: { x: { slack: { webhookUrl: SLACK } } } },
        "'es1:alerting': give routes, a defaultReceiver, or both: otherwise no alert reaches a receiver",
      ],
      [
        { receivers: { x: { email: { to: "ops@example.com", smarthost: "smtp" } } }, defaultReceiver: "x" },
        "'es1:alerting.receivers.x.email.from': is required",
      ],
      [
        { receivers: { X_1: { webhook: { url: HOOK } } }, defaultReceiver: "X_1" },
        "'es1:alerting.receivers.X_1': a receiver name is a lowercase letter",
      ],
      [
        { receivers: { x: { slack: { webhookUrl: SLACK, channel: "es1" } } }, defaultReceiver: "x" },
        `'es1:alerting.receivers.x.slack.channel': "es1" is not a channel`,
      ],
    ];
    for (const [alerting, want] of cases) {
      const got = refusals(withAlerting(alerting));
      assert.ok(
        got.some((m) => m.startsWith(`Invalid stack configuration ${want}`)),
        `${want}\n  got: ${got.join("\n  ")}`,
      );
    }
  });

  it("belongs to the infrastructure stack, not a customer-only one", () => {
    const got = refusals({
      infrastructureStack: "org/es1-platform/prod",
      customers: ["beam"],
      alerting: ALERTING,
    });
    assert.ok(
      got.some((m) =>
        m.startsWith("Invalid stack configuration 'es1:alerting': belongs to the infrastructure stack"),
      ),
    );
  });
});

describe("es1:alerting: the Alertmanager configuration", () => {
  const a = settings(withAlerting(ALERTING)).alerting as AlertingSettings;
  const resolved: Record<string, ResolvedReceiver> = {
    oncall: { kind: "pagerduty", routingKey: PAGERDUTY },
    "ops-slack": { kind: "slack", webhookUrl: SLACK, channel: "#es1-alerts" },
    "ops-mail": {
      kind: "email",
      to: ["ops@example.com"],
      from: "am@example.com",
      smarthost: "smtp.example.com:587",
      username: "am",
      password: SMTP_PASSWORD,
      requireTls: true,
    },
    "beam-hook": { kind: "webhook", url: HOOK },
  };
  const config = alertmanagerConfig(a, resolved) as {
    route: { receiver: string; routes: { receiver: string; matchers: string[]; continue: boolean }[] };
    receivers: JsonObject[];
    inhibit_rules: JsonObject[];
  };

  it("routes by severity and by customer, in order, the rest to the default receiver", () => {
    assert.strictEqual(config.route.receiver, "ops-slack");
    assert.deepStrictEqual(config.route.routes, [
      { receiver: "null", matchers: ['alertname=~"Watchdog|InfoInhibitor"'], continue: false },
      { receiver: "oncall", matchers: ['severity="critical"'], continue: true },
      { receiver: "beam-hook", matchers: ['customer=~"beam"'], continue: true },
    ]);
  });

  it("gives each receiver its kind's configuration, credentials included (this is the Secret's content)", () => {
    const by = Object.fromEntries(config.receivers.map((r) => [r.name as string, r]));
    assert.deepStrictEqual(Object.keys(by), ["null", "oncall", "ops-slack", "ops-mail", "beam-hook"]);
    assert.strictEqual((by.oncall.pagerduty_configs as JsonObject[])[0].routing_key, PAGERDUTY);
    assert.deepStrictEqual(
      [
        (by["ops-slack"].slack_configs as JsonObject[])[0].api_url,
        (by["ops-slack"].slack_configs as JsonObject[])[0].channel,
      ],
      [SLACK, "#es1-alerts"],
    );
    const mail = (by["ops-mail"].email_configs as JsonObject[])[0];
    assert.deepStrictEqual(
      [mail.to, mail.auth_password, mail.require_tls],
      ["ops@example.com", SMTP_PASSWORD, true],
    );
    assert.strictEqual((by["beam-hook"].webhook_configs as JsonObject[])[0].url, HOOK);
    // Parses as YAML the way Alertmanager reads it.
    assert.deepStrictEqual(yaml.load(yaml.dump(config)), config);
  });
});

describe("es1:alerting: in the program", () => {
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-alerting-")), "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
  const cluster = JSON.stringify({ provider: "existing", kubeconfig });
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const SECRET = "kubernetes:core/v1:Secret";
  const alertmanagerSpec = (values: unknown) =>
    ((values as JsonObject).alertmanager as JsonObject).alertmanagerSpec as JsonObject;

  it("writes Alertmanager's configuration into a Secret the monitoring release only names", async () => {
    const alerting = {
      receivers: ALERTING.receivers,
      routes: [{ receiver: "oncall", severity: "critical" }],
      defaultReceiver: "ops-mail",
    };
    const run = await runProgram(
      { "es1:cluster": cluster, "es1:alerting": JSON.stringify(alerting) },
      { secretKeys: ["es1:alerting"] },
    );
    const secret = run.one(SECRET, ALERTMANAGER_CONFIG_SECRET);
    assert.ok(secret.secretInputs.includes("stringData"), "the configuration is a Pulumi secret");
    const text = (secret.inputs.stringData as Record<string, string>)["alertmanager.yaml"];
    assert.ok(text.includes(PAGERDUTY) && text.includes(SMTP_PASSWORD));
    const monitoring = run.byType(RELEASE).find((r) => r.inputs.name === "es1-monitoring");
    assert.ok(monitoring);
    const spec = alertmanagerSpec(monitoring.inputs.values);
    assert.deepStrictEqual([spec.useExistingSecret, spec.configSecret], [true, ALERTMANAGER_CONFIG_SECRET]);
    for (const release of run.byType(RELEASE))
      for (const s of allStrings(release.inputs.values))
        for (const credential of [SLACK, PAGERDUTY, HOOK, SMTP_PASSWORD])
          assert.ok(
            !s.includes(credential),
            `release ${String(release.inputs.name)} has a receiver credential in its values`,
          );
  });

  it("without es1:alerting: no Secret, the chart's own configuration", async () => {
    const run = await runProgram({ "es1:cluster": cluster });
    assert.ok(!run.byType(SECRET).some((r) => r.name === ALERTMANAGER_CONFIG_SECRET));
    const monitoring = run.byType(RELEASE).find((r) => r.inputs.name === "es1-monitoring");
    assert.ok(monitoring);
    assert.strictEqual(alertmanagerSpec(monitoring.inputs.values).configSecret, undefined);
  });
});
