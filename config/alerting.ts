// `es1:alerting`: where Alertmanager sends the alerts — receivers (Slack, e-mail, PagerDuty,
// webhook) and routes by severity and by customer. URLs, keys and passwords are credentials: they
// must be stored encrypted, stay Pulumi secrets, and reach Alertmanager only inside a Kubernetes
// Secret (infrastructure/observability/alerting.ts). Messages never repeat a secret value.
import * as pulumi from "@pulumi/pulumi";
import { show } from "./errors";
import { PlainObject, Reader } from "./reader";

export const RECEIVER_KINDS = ["slack", "email", "pagerduty", "webhook"] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

export const ALERT_SEVERITIES = ["critical", "warning"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface SlackReceiver {
  kind: "slack";
  /** Incoming-webhook URL (secret). */
  webhookUrl: pulumi.Output<string>;
  /** Channel to post to, when the webhook is not bound to one. */
  channel?: string;
}

export interface EmailReceiver {
  kind: "email";
  to: string[];
  from: string;
  /** `host:port` of the SMTP server. */
  smarthost: string;
  username?: string;
  /** SMTP password (secret). */
  password?: pulumi.Output<string>;
  requireTls: boolean;
}

export interface PagerDutyReceiver {
  kind: "pagerduty";
  /** Events API v2 integration (routing) key (secret). */
  routingKey: pulumi.Output<string>;
}

export interface WebhookReceiver {
  kind: "webhook";
  /** The URL alerts are POSTed to (secret: such URLs often carry a token). */
  url: pulumi.Output<string>;
}

export type Receiver = SlackReceiver | EmailReceiver | PagerDutyReceiver | WebhookReceiver;

export interface AlertRoute {
  receiver: string;
  /** Only alerts of this severity; all when unset. */
  severity?: AlertSeverity;
  /** Only alerts of these customers (the alerts' `customer` label); all when empty. */
  customers: string[];
  /** Later routes are tried too (an alert may go to several receivers); default true. */
  continue: boolean;
}

export interface AlertingSettings {
  receivers: Record<string, Receiver>;
  routes: AlertRoute[];
  /** Receiver of alerts no route takes; unset: they are dropped (Alertmanager's "null" receiver). */
  defaultReceiver?: string;
}

const RECEIVER_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const HTTPS_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;
const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const HOST_PORT = /^[A-Za-z0-9.-]+:[0-9]{1,5}$/;
const SLACK_CHANNEL = /^[#@][\w.-]{1,80}$/;
const PAGERDUTY_KEY = /^[A-Za-z0-9]{32}$/;

/** Fields holding credentials, by receiver kind. */
const SECRET_FIELDS: Record<ReceiverKind, readonly string[]> = {
  slack: ["webhookUrl"],
  email: ["password"],
  pagerduty: ["routingKey"],
  webhook: ["url"],
};

const FIELDS: Record<ReceiverKind, readonly string[]> = {
  slack: ["webhookUrl", "channel"],
  email: ["to", "from", "smarthost", "username", "password", "requireTls"],
  pagerduty: ["routingKey"],
  webhook: ["url"],
};

/** A credential field: present, a string of the expected form; its value is never shown. */
function credential(
  r: Reader,
  path: string,
  value: unknown,
  pattern: { re: RegExp; says: string },
  required: boolean,
): pulumi.Output<string> | undefined {
  if (value === undefined) {
    if (required)
      r.fail(path, `is required: ${pattern.says}, set with pulumi config set --secret --path es1:${path} …`);
    return undefined;
  }
  if (typeof value !== "string" || !pattern.re.test(value)) {
    r.fail(path, `the value set is not valid; expected ${pattern.says}`);
    return undefined;
  }
  return pulumi.secret(value);
}

function parseReceiver(r: Reader, name: string, value: unknown): Receiver | undefined {
  const path = `alerting.receivers.${name}`;
  if (!RECEIVER_NAME.test(name)) {
    r.fail(path, "a receiver name is a lowercase letter, then letters, digits or '-' (at most 63)");
    return undefined;
  }
  const o = r.secretObject(path, value, "one receiver kind to its settings") ?? {};
  const kinds = Object.keys(o).filter((k) =>
    (RECEIVER_KINDS as readonly string[]).includes(k),
  ) as ReceiverKind[];
  r.knownKeys(path, o, RECEIVER_KINDS);
  if (kinds.length !== 1) {
    r.fail(
      path,
      `give exactly one of ${RECEIVER_KINDS.join(", ")} (got ${kinds.length === 0 ? "none" : kinds.join(", ")})`,
    );
    return undefined;
  }
  const kind = kinds[0];
  const at = `${path}.${kind}`;
  const c: PlainObject = r.secretObject(at, o[kind], "receiver settings") ?? {};
  r.knownKeys(at, c, FIELDS[kind]);
  switch (kind) {
    case "slack": {
      const webhookUrl = credential(
        r,
        `${at}.webhookUrl`,
        c.webhookUrl,
        { re: HTTPS_URL, says: "an https:// Slack incoming-webhook URL" },
        true,
      );
      const channel = r.optionalString(`${at}.channel`, c.channel);
      if (channel !== undefined && !SLACK_CHANNEL.test(channel))
        r.fail(`${at}.channel`, `${show(channel)} is not a channel; use e.g. "#es1-alerts" or "@someone"`);
      return webhookUrl ? { kind, webhookUrl, ...(channel ? { channel } : {}) } : undefined;
    }
    case "email": {
      const to = typeof c.to === "string" ? [c.to] : r.stringList(`${at}.to`, c.to);
      if (to.length === 0) r.fail(`${at}.to`, "is required: one address or a list of them");
      to.forEach((a, i) => {
        if (!EMAIL.test(a))
          r.fail(
            `${at}.to${typeof c.to === "string" ? "" : `[${i}]`}`,
            `${show(a)} is not an e-mail address`,
          );
      });
      const from = r.string(`${at}.from`, c.from, "", {
        re: EMAIL,
        says: "an e-mail address such as alertmanager@example.com",
      });
      if (c.from === undefined)
        r.fail(`${at}.from`, "is required: the sender address, e.g. alertmanager@example.com");
      const smarthost = r.string(`${at}.smarthost`, c.smarthost, "", {
        re: HOST_PORT,
        says: "host:port of the SMTP server, e.g. smtp.example.com:587",
      });
      if (c.smarthost === undefined)
        r.fail(`${at}.smarthost`, "is required: host:port of the SMTP server, e.g. smtp.example.com:587");
      const username = r.optionalString(`${at}.username`, c.username);
      const password = credential(
        r,
        `${at}.password`,
        c.password,
        { re: /^\S.*$/, says: "the SMTP password" },
        username !== undefined,
      );
      return {
        kind,
        to,
        from,
        smarthost,
        ...(username !== undefined ? { username } : {}),
        ...(password ? { password } : {}),
        requireTls: r.boolean(`${at}.requireTls`, c.requireTls, true),
      };
    }
    case "pagerduty": {
      const routingKey = credential(
        r,
        `${at}.routingKey`,
        c.routingKey,
        { re: PAGERDUTY_KEY, says: "a PagerDuty Events API v2 integration key (32 letters and digits)" },
        true,
      );
      return routingKey ? { kind, routingKey } : undefined;
    }
    case "webhook": {
      const url = credential(
        r,
        `${at}.url`,
        c.url,
        { re: HTTP_URL, says: "an http:// or https:// URL" },
        true,
      );
      return url ? { kind, url } : undefined;
    }
  }
}

/**
 * Parses `es1:alerting` (unset: Alertmanager keeps the chart's configuration, which sends nowhere).
 * `customers` are the stack's, to check routes name real ones; `isSecret` says whether the key was
 * stored encrypted, which every credential in it requires.
 */
export function parseAlerting(
  r: Reader,
  customers: readonly string[],
  isSecret: (key: string) => boolean,
): AlertingSettings | undefined {
  const o = r.secretObject("alerting", r.raw("alerting"), "receivers and routes");
  if (o === undefined) return undefined;
  r.knownKeys("alerting", o, ["receivers", "routes", "defaultReceiver"]);
  const receiversRaw = r.secretObject("alerting.receivers", o.receivers, "receiver names to receivers") ?? {};
  const hasCredential = Object.values(receiversRaw).some(
    (v) =>
      typeof v === "object" &&
      v !== null &&
      Object.entries(v as PlainObject).some(
        ([kind, fields]) =>
          typeof fields === "object" &&
          fields !== null &&
          (SECRET_FIELDS[kind as ReceiverKind] ?? []).some((f) => (fields as PlainObject)[f] !== undefined),
      ),
  );
  if (hasCredential && !isSecret("alerting")) {
    r.fail(
      "alerting",
      "receiver URLs, keys and passwords are credentials and must be stored encrypted: pulumi config set --secret --path es1:alerting.receivers.<name>.<kind>.<field> …",
    );
    return undefined;
  }
  const receivers: Record<string, Receiver> = {};
  for (const [name, value] of Object.entries(receiversRaw)) {
    const rec = parseReceiver(r, name, value);
    if (rec) receivers[name] = rec;
  }
  const names = Object.keys(receiversRaw);
  if (names.length === 0)
    r.fail("alerting.receivers", "give at least one receiver (slack, email, pagerduty or webhook)");
  const known = (path: string, receiver: string): void => {
    if (!names.includes(receiver))
      r.fail(
        path,
        `${show(receiver)} is not a receiver of es1:alerting.receivers; receivers: ${names.join(", ") || "none"}`,
      );
  };
  const routes: AlertRoute[] = [];
  const list =
    o.routes === undefined
      ? []
      : Array.isArray(o.routes)
        ? o.routes
        : (r.fail("alerting.routes", `expected a list of routes, got ${show(o.routes)}`), []);
  list.forEach((raw, i) => {
    const path = `alerting.routes[${i}]`;
    const route = r.object(path, raw) ?? {};
    r.knownKeys(path, route, ["receiver", "severity", "customers", "continue"]);
    const receiver = r.string(`${path}.receiver`, route.receiver, "");
    if (route.receiver === undefined)
      r.fail(`${path}.receiver`, `is required: one of ${names.join(", ") || "the receivers"}`);
    else known(`${path}.receiver`, receiver);
    const severity =
      route.severity === undefined
        ? undefined
        : r.oneOf(`${path}.severity`, route.severity, ALERT_SEVERITIES, "critical");
    const routeCustomers = r.stringList(`${path}.customers`, route.customers);
    routeCustomers.forEach((c, j) => {
      if (!customers.includes(c))
        r.fail(
          `${path}.customers[${j}]`,
          `${show(c)} is not a customer of this stack; customers: ${customers.join(", ") || "none"}`,
        );
    });
    routes.push({
      receiver,
      ...(severity !== undefined ? { severity } : {}),
      customers: routeCustomers,
      continue: r.boolean(`${path}.continue`, route.continue, true),
    });
  });
  const defaultReceiver = r.optionalString("alerting.defaultReceiver", o.defaultReceiver);
  if (defaultReceiver !== undefined) known("alerting.defaultReceiver", defaultReceiver);
  if (routes.length === 0 && defaultReceiver === undefined)
    r.fail("alerting", "give routes, a defaultReceiver, or both: otherwise no alert reaches a receiver");
  return { receivers, routes, ...(defaultReceiver !== undefined ? { defaultReceiver } : {}) };
}
