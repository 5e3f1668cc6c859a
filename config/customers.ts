import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { show } from "./errors";
import { isCidr } from "./network";
import { CustomerSso, parseCustomerSso, Secrecy } from "./sso";
import { LangfuseKeys, parseLangfuseKeys } from "./langfuse-keys";
import { isPlainObject, joinPath, noValue, PlainObject, Reader, withoutNulls } from "./reader";
import { shippedPublicKeys } from "../platform/license/trusted-keys";
import { Environment, SIZING_PROFILES, SizingProfile } from "./settings";

/** Where customer files live: `customers/<name>.yaml`, assets in `customers/<name>/`. */
export const CUSTOMERS_DIR = "customers";

/** Names a customer may not take: they collide with ES1's own namespaces or Kubernetes'. */
export const RESERVED_CUSTOMER_NAMES = [
  "es1",
  "es1-infrastructure",
  "infrastructure",
  "platform",
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "system",
  "admin",
  "monitoring",
  // Database roles and Valkey users of the shared components carry these names.
  "postgres",
  "airflow",
  "mlflow",
  "n8n",
  "langflow",
  "langfuse",
  // The CloudNativePG cluster chart's default application database and role.
  "app",
] as const;

/** `<name>-platform` must be a namespace name (63 characters at most). */
const CUSTOMER_NAME = /^[a-z]([a-z0-9-]{0,52}[a-z0-9])?$/;
const COLOUR = /^#[0-9a-fA-F]{6}$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const DURATION = /^[0-9]+(s|m|h)$/;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

export const LICENSE_MODES = ["offline", "online"] as const;
export type LicenseMode = (typeof LICENSE_MODES)[number];

export interface CustomerBranding {
  title: string;
  primaryColor: string;
  secondaryColor: string;
  footer: string;
  /** SVG documents (the files named in the customer file). */
  logoSvg: string;
  faviconSvg: string;
  /** Further theme settings passed to the UI as they are. */
  theme: Record<string, string>;
}

export interface CustomerSettings {
  name: string;
  displayName: string;
  /** Public host names of the gateway and the UI; absent means no Ingress. */
  domains: { gateway?: string; ui?: string };
  branding: CustomerBranding;
  /** Agent services the customer wants; the license decides what is deployed. */
  agents: { router: boolean; crewai: boolean; autogen: boolean };
  sizing: SizingProfile;
  license: {
    mode: LicenseMode;
    onlineUrl?: string;
    /** Addresses of the license server (online mode): the only place the platform's pods may reach outside. */
    onlineCidrs: string[];
    gracePeriod: string;
    /** The license string from `es1:licenses.<name>` (stored encrypted); undefined when missing. */
    token?: string;
  };
  /** Version of the platform's images (their tag) for this customer; default: the chart's appVersion. */
  platformVersion?: string;
  /** false: the platform is removed, the database and Valkey user stay. */
  enabled: boolean;
  /** With enabled false: also drop the customer's database and Valkey user. */
  purgeData: boolean;
  /** The platform UI signs users in with this OpenID Connect client (customer file `sso`). */
  sso?: CustomerSso;
  /** Its Langfuse project's keys (`es1:langfuseKeys.<name>`); without them it sends no traces. */
  langfuse?: LangfuseKeys;
}

const FILE_KEYS = [
  "displayName",
  "domains",
  "branding",
  "agents",
  "sizing",
  "license",
  "platformVersion",
  "enabled",
  "purgeData",
  "sso",
] as const;

/** Stack overrides merge into the customer file, object by object. */
function merge(base: PlainObject, over: PlainObject): PlainObject {
  const out: PlainObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? merge(base[k] as PlainObject, v) : v;
  }
  return out;
}

function readAsset(r: Reader, key: string, dir: string, file: unknown): string {
  if (typeof file !== "string" || !file.endsWith(".svg")) {
    r.fail(key, `expected the path of an .svg file under ${CUSTOMERS_DIR}/, got ${show(file)}`);
    return "";
  }
  const full = path.resolve(dir, file);
  if (!full.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(full)) {
    r.fail(key, `${show(file)} is not a file under ${CUSTOMERS_DIR}/`);
    return "";
  }
  const text = fs.readFileSync(full, "utf8");
  if (!/<svg[\s>]/.test(text)) r.fail(key, `${show(file)} is not an SVG document`);
  return text;
}

function parseCustomer(
  r: Reader,
  name: string,
  override: PlainObject,
  projectDir: string,
  licenses: PlainObject,
  ssoSecrets: PlainObject,
  secrecy: Secrecy,
): CustomerSettings | undefined {
  const key = `customers.${name}`;
  const dir = path.join(projectDir, CUSTOMERS_DIR);
  const file = path.join(dir, `${name}.yaml`);
  if (!fs.existsSync(file)) {
    r.fail(key, `no customer file ${CUSTOMERS_DIR}/${name}.yaml; create it (see docs/customers.md)`);
    return undefined;
  }
  let loaded: unknown;
  try {
    loaded = withoutNulls(yaml.load(fs.readFileSync(file, "utf8")), (p) =>
      r.fail(joinPath(key, p), noValue(`${CUSTOMERS_DIR}/${name}.yaml`)),
    );
  } catch (e) {
    r.fail(key, `${CUSTOMERS_DIR}/${name}.yaml is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
  if (!isPlainObject(loaded)) {
    r.fail(key, `${CUSTOMERS_DIR}/${name}.yaml must hold a mapping of customer settings`);
    return undefined;
  }
  r.knownKeys(key, override, FILE_KEYS);
  // Unknown keys are reported under the file's name; every other problem under the stack key.
  for (const k of Object.keys(loaded)) {
    if (!(FILE_KEYS as readonly string[]).includes(k))
      r.fail(key, `${CUSTOMERS_DIR}/${name}.yaml: unknown key '${k}'; allowed: ${FILE_KEYS.join(", ")}`);
  }
  const c = merge(loaded, override);

  const displayName = r.string(`${key}.displayName`, c.displayName, name);
  const domainsObj = r.object(`${key}.domains`, c.domains) ?? {};
  r.knownKeys(`${key}.domains`, domainsObj, ["gateway", "ui"]);
  const domains: CustomerSettings["domains"] = {};
  if ((domainsObj.gateway === undefined) !== (domainsObj.ui === undefined))
    r.fail(`${key}.domains`, "set both gateway and ui (the platform is exposed through both) or neither");
  for (const d of ["gateway", "ui"] as const) {
    const v = r.optionalString(`${key}.domains.${d}`, domainsObj[d]);
    if (v !== undefined && !DNS_NAME.test(v)) r.fail(`${key}.domains.${d}`, `${show(v)} is not a DNS name`);
    else if (v !== undefined) domains[d] = v;
  }

  const b = r.object(`${key}.branding`, c.branding) ?? {};
  r.knownKeys(`${key}.branding`, b, [
    "title",
    "primaryColor",
    "secondaryColor",
    "footer",
    "logo",
    "favicon",
    "theme",
  ]);
  const colour = (k: string, fallback: string) =>
    r.string(`${key}.branding.${k}`, b[k], fallback, { re: COLOUR, says: "a colour as #rrggbb" });
  const branding: CustomerBranding = {
    title: r.string(`${key}.branding.title`, b.title, displayName),
    primaryColor: colour("primaryColor", "#1f4e79"),
    secondaryColor: colour("secondaryColor", "#f2f2f2"),
    footer: r.string(`${key}.branding.footer`, b.footer, `${displayName} on ES1`),
    logoSvg: b.logo === undefined ? "" : readAsset(r, `${key}.branding.logo`, dir, b.logo),
    faviconSvg: b.favicon === undefined ? "" : readAsset(r, `${key}.branding.favicon`, dir, b.favicon),
    theme: r.stringMap(`${key}.branding.theme`, b.theme),
  };

  const a = r.object(`${key}.agents`, c.agents) ?? {};
  r.knownKeys(`${key}.agents`, a, ["router", "crewai", "autogen"]);
  const agents = {
    router: r.boolean(`${key}.agents.router`, a.router, true),
    crewai: r.boolean(`${key}.agents.crewai`, a.crewai, true),
    autogen: r.boolean(`${key}.agents.autogen`, a.autogen, true),
  };

  const l = r.object(`${key}.license`, c.license) ?? {};
  r.knownKeys(`${key}.license`, l, ["mode", "onlineUrl", "onlineCidrs", "gracePeriod"]);
  const mode = r.oneOf(`${key}.license.mode`, l.mode, LICENSE_MODES, "offline");
  const onlineUrl = r.optionalString(`${key}.license.onlineUrl`, l.onlineUrl);
  if (mode === "online" && onlineUrl === undefined)
    r.fail(
      `${key}.license.onlineUrl`,
      "required when license.mode is online (the validation service's https:// URL)",
    );
  if (onlineUrl !== undefined && !/^https:\/\/[^\s/]+/.test(onlineUrl))
    r.fail(`${key}.license.onlineUrl`, `${show(onlineUrl)} is not an https:// URL`);
  // The license server's addresses: the platform's NetworkPolicy lets its pods out to these only.
  const onlineCidrs = r.stringList(`${key}.license.onlineCidrs`, l.onlineCidrs);
  onlineCidrs.forEach((cidr, i) => {
    if (!isCidr(cidr))
      r.fail(`${key}.license.onlineCidrs[${i}]`, `${show(cidr)} is not a CIDR such as 203.0.113.10/32`);
  });
  if (mode === "online" && onlineCidrs.length === 0)
    r.fail(
      `${key}.license.onlineCidrs`,
      "required when license.mode is online: the license server's addresses (CIDRs), the only ones the platform may reach on TCP 443",
    );
  const gracePeriod = r.string(`${key}.license.gracePeriod`, l.gracePeriod, "72h", {
    re: DURATION,
    says: "a duration such as 72h, 30m or 3600s",
  });
  const token = licenses[name];

  const platformVersion = r.optionalString(`${key}.platformVersion`, c.platformVersion);
  if (platformVersion !== undefined && !VERSION.test(platformVersion))
    r.fail(`${key}.platformVersion`, `${show(platformVersion)} is not a platform version such as 1.4.2`);

  return {
    name,
    displayName,
    domains,
    branding,
    agents,
    sizing: r.oneOf(`${key}.sizing`, c.sizing, SIZING_PROFILES, "default"),
    license: {
      mode,
      onlineUrl,
      onlineCidrs,
      gracePeriod,
      token: typeof token === "string" ? token : undefined,
    },
    platformVersion: platformVersion && VERSION.test(platformVersion) ? platformVersion : undefined,
    enabled: r.boolean(`${key}.enabled`, c.enabled, true),
    purgeData: r.boolean(`${key}.purgeData`, c.purgeData, false),
    ...ssoOf(parseCustomerSso(r, key, c.sso, ssoSecrets[name], secrecy, isCidr)),
  };
}

function ssoOf(sso: CustomerSso | undefined): { sso?: CustomerSso } {
  return sso ? { sso } : {};
}

export interface LicenseSettings {
  /**
   * Operator-supplied public keys by key id (`es1:licensePublicKeys`), trusted beside the shipped
   * ES1 keys (platform/license/trusted-keys.ts). Always empty unless the stack is a test stack
   * (`es1:licenseTestKeys: true`, refused by prod stacks).
   */
  testKeys: Record<string, string>;
  /** A license ending within this many days deploys with a warning (`es1:licenseWarningDays`). */
  warnWithinDays: number;
  /**
   * What a refused license stops (`es1:licensePolicy`): `hold` only that customer's platform, left
   * as deployed while the rest of the stack deploys; `strict` the whole run.
   */
  policy: LicensePolicy;
}

export const LICENSE_POLICIES = ["hold", "strict"] as const;
export type LicensePolicy = (typeof LICENSE_POLICIES)[number];

/**
 * Parses `es1:customers` (a list of names, or a map of name to per-stack overrides of
 * customers/<name>.yaml), `es1:licenses`, `es1:licenseTestKeys` and `es1:licensePublicKeys`.
 */
export function parseCustomers(
  r: Reader,
  environment: Environment,
  projectDir: string,
  isSecret: (key: string) => boolean,
  isPlainEntry: (key: string) => boolean = () => false,
): { customers: CustomerSettings[]; licensing: LicenseSettings } {
  // `acme:` with nothing under it (map form) is "no overrides", as documented.
  const raw = r.raw("customers", (p) => p.length === 1);
  const entries: [string, PlainObject][] = [];
  if (Array.isArray(raw)) {
    const seen = new Set<string>();
    raw.forEach((v, i) => {
      if (typeof v !== "string") r.fail(`customers[${i}]`, `expected a customer name, got ${show(v)}`);
      else if (seen.has(v)) r.fail(`customers[${i}]`, `customer ${show(v)} is listed twice`);
      else {
        seen.add(v);
        entries.push([v, {}]);
      }
    });
  } else if (raw !== undefined && raw !== null) {
    const obj = r.object("customers", raw) ?? {};
    for (const [name, v] of Object.entries(obj)) {
      if (v === null || v === undefined || v === true) entries.push([name, {}]);
      else if (isPlainObject(v)) entries.push([name, v]);
      else r.fail(`customers.${name}`, `expected an object of overrides (or {}), got ${show(v)}`);
    }
  }

  const licenses = r.secretObject("licenses", r.raw("licenses"), "customer names to licenses") ?? {};
  if (Object.keys(licenses).length > 0 && !isSecret("licenses")) {
    r.fail(
      "licenses",
      "licenses must be stored encrypted: pulumi config set --secret --path es1:licenses.<customer> ...",
    );
  } else {
    // Each entry on its own: a plain license beside an encrypted one is still plain text.
    for (const name of Object.keys(licenses))
      if (isPlainEntry(`licenses.${name}`))
        r.fail(
          `licenses.${name}`,
          `stored in plain text beside encrypted entries; set it again with pulumi config set --secret --path es1:licenses.${name}`,
        );
  }
  for (const name of Object.keys(licenses)) {
    if (!entries.some(([n]) => n === name))
      r.fail(
        `licenses.${name}`,
        `no customer '${name}' in es1:customers; remove the license or add the customer`,
      );
  }
  // Client secrets of the customers' platform UIs (customer file `sso`), like licenses: encrypted.
  const ssoSecrets =
    r.secretObject("customerSsoSecrets", r.raw("customerSsoSecrets"), "customer names to client secrets") ??
    {};
  for (const name of Object.keys(ssoSecrets))
    if (!entries.some(([n]) => n === name))
      r.fail(
        `customerSsoSecrets.${name}`,
        `no customer '${name}' in es1:customers; remove the secret or add the customer`,
      );
  const secrecy: Secrecy = { isSecret, isPlainEntry };
  const testKeys = parseTestKeys(r, environment);
  const warnWithinDays = r.integer("licenseWarningDays", r.raw("licenseWarningDays"), 30, {
    min: 0,
    max: 365,
  });

  const customers: CustomerSettings[] = [];
  for (const [name, override] of entries) {
    if (!CUSTOMER_NAME.test(name)) {
      r.fail(
        `customers.${name}`,
        "a customer name must be a DNS label of at most 54 characters (lowercase letters, digits, '-', starting with a letter)",
      );
      continue;
    }
    if ((RESERVED_CUSTOMER_NAMES as readonly string[]).includes(name)) {
      r.fail(
        `customers.${name}`,
        `'${name}' is reserved; reserved names: ${RESERVED_CUSTOMER_NAMES.join(", ")}`,
      );
      continue;
    }
    const c = parseCustomer(r, name, override, projectDir, licenses, ssoSecrets, secrecy);
    if (c) customers.push(c);
  }
  const langfuseKeys = parseLangfuseKeys(
    r,
    entries.map(([n]) => n),
    isSecret,
    isPlainEntry,
  );
  for (const c of customers) if (langfuseKeys[c.name]) c.langfuse = langfuseKeys[c.name];
  // `<name>-mlflow` would take the PostgreSQL role and database of `<name>`'s own MLflow
  // (infrastructure/layout.ts, customerMlflowDatabase).
  for (const c of customers) {
    const other = c.name.replace(/-mlflow$/, "");
    if (other !== c.name && customers.some((x) => x.name === other))
      r.fail(
        `customers.${c.name}`,
        `'${c.name}' would take the database of the MLflow of customer '${other}' (${other.replace(/-/g, "_")}_mlflow); choose another name`,
      );
  }
  const policy = r.oneOf("licensePolicy", r.raw("licensePolicy"), LICENSE_POLICIES, "hold");
  return { customers, licensing: { testKeys, warnWithinDays, policy } };
}

/**
 * `es1:licensePublicKeys` (operator-supplied keys) only on a stack that says it is for testing
 * (`es1:licenseTestKeys: true`), which a prod stack refuses: licenses of a real installation are
 * verified with the keys that ship with the release, never with keys from stack config.
 */
function parseTestKeys(r: Reader, environment: Environment): Record<string, string> {
  const testing = r.boolean("licenseTestKeys", r.raw("licenseTestKeys"), false);
  const keys = r.stringMap("licensePublicKeys", r.raw("licensePublicKeys"));
  if (testing && environment === "prod") {
    r.fail(
      "licenseTestKeys",
      "a stack with es1:environment prod trusts only the ES1 keys shipped with the release; remove es1:licenseTestKeys (and es1:licensePublicKeys), or use a non-prod stack for test licenses",
    );
    return {};
  }
  if (Object.keys(keys).length > 0 && !testing) {
    r.fail(
      "licensePublicKeys",
      "operator-supplied license keys are accepted only by a test stack: licenses are verified with the ES1 keys shipped with the release (platform/chart/files/license-keys); remove es1:licensePublicKeys, or, on a non-prod stack that uses licenses you sign yourself, set es1:licenseTestKeys true (docs/licensing.md#test-keys)",
    );
    return {};
  }
  const shipped = shippedPublicKeys();
  for (const id of Object.keys(keys))
    if (Object.prototype.hasOwnProperty.call(shipped, id))
      r.fail(
        `licensePublicKeys.${id}`,
        `'${id}' is the id of a shipped ES1 key; give the test key another id (shipped: ${Object.keys(shipped).join(", ")})`,
      );
  return keys;
}
