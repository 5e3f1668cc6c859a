import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, show } from "./errors";
import { ConfigSource, Reader } from "./reader";

/** The config namespace of every ES1 key: `es1:cluster`, `es1:environment`, ... */
export const NAMESPACE = "es1";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const SIZING_PROFILES = ["minimal", "default", "production"] as const;
export type SizingProfile = (typeof SIZING_PROFILES)[number];

/** Cluster providers this version can deploy to. */
export const CLUSTER_PROVIDERS = ["existing"] as const;
export type ClusterProviderName = (typeof CLUSTER_PROVIDERS)[number];

/** Where the kubeconfig of an existing cluster comes from. */
export type KubeconfigSource =
  | { kind: "file"; path: string; contents: pulumi.Output<string> }
  | { kind: "secret"; contents: pulumi.Output<string> }
  /** The machine's own kubeconfig ($KUBECONFIG or ~/.kube/config), as kubectl would use it. */
  | { kind: "ambient" };

export interface ExistingClusterSettings {
  provider: "existing";
  /** Stable identity of the cluster: a new kubeconfig for the same name never replaces resources. */
  name: string;
  kubeconfig: KubeconfigSource;
  context?: string;
  storageClass: string;
  ingressClass: string;
  ingressAnnotations: Record<string, string>;
}

export type ClusterSettings = ExistingClusterSettings;

/** Secret values given in stack config (`es1:secrets`), by credential name. */
export type ConfiguredSecrets = Record<string, pulumi.Output<string>>;

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
}

/** Top-level keys of the es1 namespace; anything else is a typo. */
export const TOP_LEVEL_KEYS = ["environment", "sizing", "cluster", "kubeconfig", "secrets"] as const;

/** Credential names `es1:secrets` may set. */
export const SECRET_NAMES = ["postgresqlSuperuserPassword"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const DNS_LABEL = {
  re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  says: "use lower-case letters, digits and '-' (a DNS label, at most 63 characters)",
};

export interface SettingsSource extends ConfigSource {
  /** All keys set in the namespace (without the namespace prefix). */
  keys(): string[];
  /** Whether a key was stored encrypted (`pulumi config set --secret`). */
  isSecret(key: string): boolean;
}

export interface StackIdentity {
  project: string;
  stack: string;
  /** Base for relative kubeconfig paths: the project directory. */
  cwd: string;
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

function parseCluster(r: Reader, src: SettingsSource, id: StackIdentity): ClusterSettings {
  const obj = r.object("cluster", r.raw("cluster")) ?? {};
  const provider = r.oneOf("cluster.provider", obj.provider ?? "existing", CLUSTER_PROVIDERS, "existing");
  r.knownKeys("cluster", obj, [
    "provider",
    "name",
    "kubeconfig",
    "context",
    "storageClass",
    "ingressClass",
    "ingressAnnotations",
  ]);

  const kubeconfigPath = r.optionalString("cluster.kubeconfig", obj.kubeconfig);
  const kubeconfigSecret = r.raw("kubeconfig");
  let kubeconfig: KubeconfigSource = { kind: "ambient" };
  if (kubeconfigPath !== undefined && kubeconfigSecret !== undefined) {
    r.fail(
      "kubeconfig",
      `set either '${r.key("cluster.kubeconfig")}' (a file path) or '${r.key("kubeconfig")}' (the contents, as a secret), not both`,
    );
  } else if (kubeconfigSecret !== undefined) {
    if (typeof kubeconfigSecret !== "string" || kubeconfigSecret.trim() === "") {
      r.fail("kubeconfig", "expected the contents of a kubeconfig file");
    } else if (!src.isSecret("kubeconfig")) {
      r.fail(
        "kubeconfig",
        "a kubeconfig holds credentials and must be stored encrypted: pulumi config set --secret es1:kubeconfig < file",
      );
    } else {
      kubeconfig = { kind: "secret", contents: pulumi.secret(kubeconfigSecret) };
    }
  } else if (kubeconfigPath !== undefined) {
    const resolved = path.resolve(id.cwd, expandHome(kubeconfigPath));
    let contents: string | undefined;
    try {
      contents = fs.readFileSync(resolved, "utf8");
    } catch (e) {
      r.fail(
        "cluster.kubeconfig",
        `cannot read kubeconfig file ${show(kubeconfigPath)} (${(e as NodeJS.ErrnoException).code ?? String(e)}); ` +
          "give the path of a readable kubeconfig file",
      );
    }
    if (contents !== undefined)
      kubeconfig = { kind: "file", path: resolved, contents: pulumi.secret(contents) };
  }

  return {
    provider,
    name: r.string("cluster.name", obj.name, id.stack, DNS_LABEL),
    kubeconfig,
    context: r.optionalString("cluster.context", obj.context),
    storageClass: r.string("cluster.storageClass", obj.storageClass, "standard"),
    ingressClass: r.string("cluster.ingressClass", obj.ingressClass, "nginx"),
    ingressAnnotations: r.stringMap("cluster.ingressAnnotations", obj.ingressAnnotations),
  };
}

function parseSecrets(r: Reader, src: SettingsSource): ConfiguredSecrets {
  const obj = r.object("secrets", r.raw("secrets"));
  if (!obj) return {};
  r.knownKeys("secrets", obj, SECRET_NAMES);
  if (!src.isSecret("secrets")) {
    r.fail(
      "secrets",
      "credentials must be stored encrypted: pulumi config set --secret --path es1:secrets.<name> ...",
    );
    return {};
  }
  const out: ConfiguredSecrets = {};
  for (const name of SECRET_NAMES) {
    const v = obj[name];
    if (v === undefined) continue;
    if (typeof v !== "string" || v.length < 16) {
      r.fail(`secrets.${name}`, "expected a string of at least 16 characters");
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
  const cluster = parseCluster(r, src, id);
  const secrets = parseSecrets(r, src);
  if (r.errors.length > 0) throw new ConfigErrors(r.errors);
  return {
    project: id.project,
    stack: id.stack,
    environment,
    sizing,
    protect: environment === "prod",
    cluster,
    secrets,
  };
}
