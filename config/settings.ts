import * as pulumi from "@pulumi/pulumi";
import { planAccess } from "../access/plan";
import { AccessSettings, parseAccess } from "./access";
import { AirgapSettings, parseAirgap } from "./airgap";
import { AlertingSettings, parseAlerting } from "./alerting";
import { BackupSettings, parseBackup } from "./backup";
import { ClusterSettings, parseCluster } from "./cluster";
import { ComponentsSettings, parseComponents } from "./components";
import { CustomerSettings, LicenseSettings, parseCustomers } from "./customers";
import { CREDENTIAL_FORMATS, CREDENTIALS, SECRET_NAMES, SecretName } from "./credentials";
import { ConfigErrors } from "./errors";
import { NetworkSettings, parseNetwork } from "./network";
import { ConfigSource, Reader } from "./reader";

/** The config namespace of every ES1 key: `es1:cluster`, `es1:environment`, ... */
export const NAMESPACE = "es1";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const SIZING_PROFILES = ["minimal", "default", "production"] as const;
export type SizingProfile = (typeof SIZING_PROFILES)[number];

/** Secret values given in stack config (`es1:secrets`), by credential name. */
export type ConfiguredSecrets = Partial<Record<SecretName, pulumi.Output<string>>>;

/** Everything the program needs from stack config, parsed and checked once. */
export interface Settings {
  project: string;
  stack: string;
  environment: Environment;
  sizing: SizingProfile;
  /** Stateful resources are protected from deletion (production stacks). */
  protect: boolean;
  cluster: ClusterSettings;
  secrets: ConfiguredSecrets;
  airgap: AirgapSettings;
  components: ComponentsSettings;
  /** What es1-infrastructure's NetworkPolicies may reach outside the pod network (es1:network). */
  network: NetworkSettings;
  /** How users reach the platforms and the shared UIs (es1:access): gateway or ingress, hosts, TLS. */
  access: AccessSettings;
  /** Alertmanager's receivers and routes (es1:alerting); unset: the chart's configuration. */
  alerting?: AlertingSettings;
  /** Backups to the site's object store (es1:backup, docs/backup.md); unset: none. */
  backup?: BackupSettings;
  /** The customers of this stack (es1:customers), each merged from customers/<name>.yaml. */
  customers: CustomerSettings[];
  licensing: LicenseSettings;
  /**
   * A customer-only stack: the stack (`org/project/stack`) that owns the cluster and the shared
   * infrastructure, read through a StackReference. Unset: this stack owns them.
   */
  infrastructureStack?: string;
  /**
   * How long a customer platform's install or upgrade waits for its workloads to be Ready before
   * it fails and Helm rolls it back (`es1:platformTimeoutSeconds`).
   */
  platformTimeoutSeconds: number;
}

/** Bounds of `es1:platformTimeoutSeconds`: long enough for image pulls, short enough to fail a wave. */
export const PLATFORM_TIMEOUT_SECONDS = { default: 600, min: 10, max: 3600 } as const;

/** Top-level keys of the es1 namespace; anything else is a typo. */
export const TOP_LEVEL_KEYS = [
  "environment",
  "sizing",
  "cluster",
  "kubeconfig",
  "secrets",
  "airgap",
  "components",
  "customers",
  "licenses",
  "licensePublicKeys",
  "licenseTestKeys",
  "licenseWarningDays",
  "licensePolicy",
  "langfuseKeys",
  "infrastructureStack",
  "platformTimeoutSeconds",
  "alerting",
  "network",
  "access",
  "backup",
  "customerSsoSecrets",
] as const;

export interface SettingsSource extends ConfigSource {
  /** All keys set in the namespace (without the namespace prefix). */
  keys(): string[];
  /** Whether a key was stored encrypted (`pulumi config set --secret`). */
  isSecret(key: string): boolean;
  /**
   * Whether one entry of a structured key (`secrets.postgresqlSuperuserPassword`) is known to be
   * stored in plain text even though the key as a whole reads as encrypted.
   */
  isPlainEntry?(key: string): boolean;
}

export interface StackIdentity {
  project: string;
  stack: string;
  /** Base for relative kubeconfig paths: the project directory. */
  cwd: string;
}

function parseSecrets(r: Reader, src: SettingsSource): ConfiguredSecrets {
  const obj = r.secretObject("secrets", r.raw("secrets"), "credential names to values");
  if (!obj) return {};
  r.knownKeys("secrets", obj, SECRET_NAMES);
  if (!src.isSecret("secrets")) {
    r.fail(
      "secrets",
      "credentials must be stored encrypted: pulumi config set --secret --path es1:secrets.<name> ...",
    );
    return {};
  }
  // Each entry on its own: a plain value beside an encrypted one is still plain text in the file.
  const plain = Object.keys(obj).filter((name) => src.isPlainEntry?.(`secrets.${name}`));
  for (const name of plain)
    r.fail(
      `secrets.${name}`,
      `stored in plain text beside encrypted entries; set it again with pulumi config set --secret --path es1:secrets.${name}`,
    );
  if (plain.length > 0) return {};
  const out: ConfiguredSecrets = {};
  for (const name of SECRET_NAMES) {
    const v = obj[name];
    if (v === undefined) continue;
    const format = CREDENTIAL_FORMATS[CREDENTIALS[name].format];
    // The message never repeats the value: it is a secret, even when malformed.
    if (typeof v !== "string" || !format.re.test(v)) {
      r.fail(`secrets.${name}`, `the value set is not valid; expected ${format.says}`);
    } else {
      out[name] = pulumi.secret(v);
    }
  }
  return out;
}

/**
 * Parses and checks the whole `es1` config namespace. Throws ConfigErrors naming every bad key,
 * the bad value and what is allowed; runs before any resource is registered.
 */
export function parseSettings(src: SettingsSource, id: StackIdentity): Settings {
  const r = new Reader(src, NAMESPACE);
  for (const key of src.keys()) {
    const top = key.split(".")[0];
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(top)) {
      r.fail(key, `unknown key; the ${NAMESPACE} keys are: ${TOP_LEVEL_KEYS.join(", ")}`);
    }
  }
  const environment = r.oneOf("environment", r.raw("environment"), ENVIRONMENTS, "dev");
  const sizing = r.oneOf(
    "sizing",
    r.raw("sizing"),
    SIZING_PROFILES,
    environment === "prod" ? "production" : "default",
  );
  const cluster = parseCluster(r, src, id, environment);
  const secrets = parseSecrets(r, src);
  const airgap = parseAirgap(r, id.cwd, (k) => src.isSecret(k));
  const components = parseComponents(r, sizing);
  const network = parseNetwork(r);
  const { customers, licensing } = parseCustomers(
    r,
    environment,
    id.cwd,
    (k) => src.isSecret(k),
    (k) => src.isPlainEntry?.(k) ?? false,
  );
  const alerting = parseAlerting(
    r,
    customers.map((c) => c.name),
    (k) => src.isSecret(k),
  );
  const access = parseAccess(r, cluster.provider === "existing", {
    isSecret: (k) => src.isSecret(k),
    isPlainEntry: (k) => src.isPlainEntry?.(k) ?? false,
  });
  if (r.errors.length === 0) {
    const { problems } = planAccess({
      access,
      cluster,
      components,
      customers,
    });
    for (const [key, problem] of problems) r.fail(key, problem);
  }
  const backup = parseBackup(r, id.stack, environment, (k) => src.isSecret(k), cluster);
  const platformTimeoutSeconds = r.integer(
    "platformTimeoutSeconds",
    r.raw("platformTimeoutSeconds"),
    PLATFORM_TIMEOUT_SECONDS.default,
    PLATFORM_TIMEOUT_SECONDS,
  );
  const infrastructureStack = r.optionalString("infrastructureStack", r.raw("infrastructureStack"));
  if (infrastructureStack !== undefined) {
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(infrastructureStack))
      r.fail(
        "infrastructureStack",
        `${JSON.stringify(infrastructureStack)} is not a stack name such as org/es1-platform/gcp-prod`,
      );
    for (const owned of ["components", "airgap", "secrets", "alerting", "network", "backup"]) {
      if (src.keys().some((k) => k.split(".")[0] === owned))
        r.fail(
          owned,
          `belongs to the infrastructure stack ${infrastructureStack}, not to a customer-only stack`,
        );
    }
    if (access.sso)
      r.fail(
        "access.sso",
        `the shared UIs' single sign-on belongs to the infrastructure stack ${infrastructureStack}; a customer's platform UI takes sso from its customer file`,
      );
    // es1:cluster is not checked: Pulumi.yaml gives every stack a project-wide value; a
    // customer-only stack ignores it and uses the cluster of the infrastructure stack.
    if (customers.length === 0) r.fail("customers", "a customer-only stack needs at least one customer");
  }
  if (customers.length > 0) {
    for (const store of ["postgresql", "redis"] as const) {
      if (!components[store].enabled)
        r.fail(
          `components.${store}.enabled`,
          `customer platforms keep their data in ${store}, and es1:customers lists ${customers.length}; leave ${store} on`,
        );
    }
  }
  if (!infrastructureStack && !components.langfuse.enabled)
    for (const c of customers.filter((x) => x.langfuse))
      r.fail(
        `langfuseKeys.${c.name}`,
        "Langfuse is off in this stack (es1:components.langfuse.enabled false): remove the keys or switch it on",
      );
  if (components.ollama.gpu === true && cluster.provider !== "existing" && !cluster.nodePools.aiml) {
    r.fail(
      "components.ollama.gpu",
      `Ollama is asked to run on the GPU pool, but '${r.key("cluster.nodePools.aiml")}' defines none; add the pool or set gpu to false`,
    );
  }
  if (r.errors.length > 0) throw new ConfigErrors(r.errors);
  return {
    project: id.project,
    stack: id.stack,
    environment,
    sizing,
    protect: environment === "prod",
    cluster,
    secrets,
    airgap,
    components,
    network,
    customers,
    licensing,
    access,
    platformTimeoutSeconds,
    ...(alerting ? { alerting } : {}),
    ...(backup ? { backup } : {}),
    ...(infrastructureStack ? { infrastructureStack } : {}),
  };
}
