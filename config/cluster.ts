import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { POOL_NAMES, PoolName } from "../clusters/types";
import { Cidr, cidrsOverlap, parseCidr } from "../lib/cidr";
import {
  AKS_CATALOG,
  BasePoolName,
  CloudCatalog,
  EKS_CATALOG,
  GKE_CATALOG,
  PoolSize,
} from "./cluster-catalog";
import { show } from "./errors";
import { PlainObject, Reader } from "./reader";
import type { Environment, SettingsSource, StackIdentity } from "./settings";

/** Cluster providers this version can deploy to (`existing` first: it is the default). */
export const CLUSTER_PROVIDERS = ["existing", "gke", "eks", "aks"] as const;
export type ClusterProviderName = (typeof CLUSTER_PROVIDERS)[number];
export type CloudProviderName = Exclude<ClusterProviderName, "existing">;

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

export type NodePoolSettings = PoolSize;

export interface GpuNodePoolSettings extends NodePoolSettings {
  /** GPU model in the cloud's own naming (`nvidia-l4`, `nvidia-t4`, ...). */
  acceleratorType: string;
  /** GPUs per node (GKE attaches them explicitly; EKS and AKS get them with the machine type). */
  acceleratorCount: number;
}

export interface NodePoolsSettings {
  system: NodePoolSettings;
  infrastructure: NodePoolSettings;
  platform: NodePoolSettings;
  /** Only when `es1:cluster.nodePools.aiml` is set. */
  aiml?: GpuNodePoolSettings;
}

/** Who can reach the Kubernetes API. */
export interface EndpointSettings {
  /** The API has no public address. */
  private: boolean;
  /** CIDRs allowed to reach the API (public ones for a public endpoint; VPN/peered ranges for a private one). */
  authorizedNetworks: string[];
  /** Pulumi runs from inside the cluster's network (bastion host, VPN, self-hosted runner). */
  bastion: boolean;
}

export interface SecretsEncryptionSettings {
  enabled: boolean;
  /** A key of the user's; without it the component creates one. */
  keyId?: string;
  /** AKS: the Key Vault holding keyId, so the cluster identity can be granted access to it. */
  keyVaultId?: string;
}

export interface CloudClusterBase {
  name: string;
  environment: Environment;
  region: string;
  zones: string[];
  kubernetesVersion: string;
  privateNodes: boolean;
  endpoint: EndpointSettings;
  workloadIdentity: boolean;
  secretsEncryption: SecretsEncryptionSettings;
  deletionProtection: boolean;
  /** Cost-allocation tags for every cloud resource: `es1-stack`, `es1-environment` and the configured ones. */
  tags: Record<string, string>;
  nodePools: NodePoolsSettings;
  storageClass: string;
  ingressClass: string;
  ingressAnnotations: Record<string, string>;
}

export type GkeNetworkSettings =
  | { kind: "new"; cidr: string; podsCidr: string; servicesCidr: string; nat: boolean }
  | {
      kind: "existing";
      network: string;
      subnetwork: string;
      podsRangeName: string;
      servicesRangeName: string;
    };

export const GKE_RELEASE_CHANNELS = ["rapid", "regular", "stable", "extended", "none"] as const;
export type GkeReleaseChannel = (typeof GKE_RELEASE_CHANNELS)[number];

export interface GkeClusterSettings extends CloudClusterBase {
  provider: "gke";
  project: string;
  /** Control plane and nodes across the region's zones, or a zonal cluster in the first zone. */
  regional: boolean;
  releaseChannel: GkeReleaseChannel;
  network: GkeNetworkSettings;
}

export type EksNetworkSettings =
  | { kind: "new"; cidr: string; nat: boolean; natPerZone: boolean }
  | { kind: "existing"; vpcId: string; privateSubnetIds: string[]; publicSubnetIds: string[] };

export interface EksClusterSettings extends CloudClusterBase {
  provider: "eks";
  /** AWS account the stack must deploy to; a mismatch of credentials stops the run. */
  accountId?: string;
  /** IAM roles/users given cluster-admin through access entries. */
  adminPrincipals: string[];
  network: EksNetworkSettings;
}

export const AKS_NETWORK_POLICIES = ["cilium", "calico", "azure"] as const;
export const AKS_TIERS = ["free", "standard", "premium"] as const;
export const AKS_OUTBOUND_TYPES = [
  "loadBalancer",
  "userAssignedNATGateway",
  "userDefinedRouting",
  "none",
] as const;
export type AksOutboundType = (typeof AKS_OUTBOUND_TYPES)[number];

export type AksNetworkSettings = { podsCidr: string; servicesCidr: string } & (
  | { kind: "new"; cidr: string; nat: boolean }
  | { kind: "existing"; subnetId: string; outboundType: AksOutboundType }
);

export interface AksClusterSettings extends CloudClusterBase {
  provider: "aks";
  subscriptionId?: string;
  resourceGroup: string;
  networkPolicy: (typeof AKS_NETWORK_POLICIES)[number];
  tier: (typeof AKS_TIERS)[number];
  /** Entra ID groups made cluster admins; setting any turns on Entra ID auth and turns off local accounts. */
  entraAdminGroupIds: string[];
  network: AksNetworkSettings;
}

export type CloudClusterSettings = GkeClusterSettings | EksClusterSettings | AksClusterSettings;
export type ClusterSettings = ExistingClusterSettings | CloudClusterSettings;

const DNS_LABEL = {
  re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  says: "use lower-case letters, digits and '-' (a DNS label, at most 63 characters)",
};

const EXISTING_KEYS = [
  "provider",
  "name",
  "kubeconfig",
  "context",
  "storageClass",
  "ingressClass",
  "ingressAnnotations",
] as const;

const CLOUD_KEYS = [
  "provider",
  "name",
  "region",
  "zones",
  "kubernetesVersion",
  "network",
  "privateNodes",
  "endpoint",
  "workloadIdentity",
  "secretsEncryption",
  "deletionProtection",
  "tags",
  "nodePools",
  "storageClass",
  "ingressClass",
  "ingressAnnotations",
] as const;

/** The keys of `es1:cluster` each cloud provider reads (documented in docs/clusters/<provider>.md). */
export const CLUSTER_KEYS: Record<CloudProviderName, readonly string[]> = {
  gke: [...CLOUD_KEYS, "project", "regional", "releaseChannel"],
  eks: [...CLOUD_KEYS, "accountId", "adminPrincipals"],
  aks: [...CLOUD_KEYS, "subscriptionId", "resourceGroup", "networkPolicy", "tier", "entraAdminGroupIds"],
};

const CATALOGS: Record<CloudProviderName, CloudCatalog> = {
  gke: GKE_CATALOG,
  eks: EKS_CATALOG,
  aks: AKS_CATALOG,
};

/** Tags ES1 sets itself on every cloud resource. */
export const COST_TAG_KEYS = ["es1-stack", "es1-environment"] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path from config: `~` is the home directory, relative paths are relative to the project. */
export function configPath(cwd: string, p: string): string {
  return path.resolve(cwd, p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p);
}

/**
 * Parses `es1:cluster`. Cloud providers get their defaults from the environment's sizing profile;
 * every invalid combination is reported with the keys involved.
 */
export function parseCluster(
  r: Reader,
  src: SettingsSource,
  id: StackIdentity,
  environment: Environment,
): ClusterSettings {
  const obj = r.object("cluster", r.raw("cluster")) ?? {};
  const providerValid =
    obj.provider === undefined || (CLUSTER_PROVIDERS as readonly unknown[]).includes(obj.provider);
  const provider = r.oneOf("cluster.provider", obj.provider ?? "existing", CLUSTER_PROVIDERS, "existing");
  if (provider !== "existing") return parseCloudCluster(new ClusterReader(r, obj, provider), id, environment);
  // With a misspelt provider the other keys cannot be judged; the provider error says enough.
  if (providerValid) r.knownKeys("cluster", obj, EXISTING_KEYS);
  return parseExistingCluster(r, obj, src, id);
}

function parseExistingCluster(
  r: Reader,
  obj: PlainObject,
  src: SettingsSource,
  id: StackIdentity,
): ExistingClusterSettings {
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
    const resolved = configPath(id.cwd, kubeconfigPath);
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
    provider: "existing",
    name: r.string("cluster.name", obj.name, id.stack, DNS_LABEL),
    kubeconfig,
    context: r.optionalString("cluster.context", obj.context),
    storageClass: r.string("cluster.storageClass", obj.storageClass, "standard"),
    ingressClass: r.string("cluster.ingressClass", obj.ingressClass, "nginx"),
    ingressAnnotations: r.stringMap("cluster.ingressAnnotations", obj.ingressAnnotations),
  };
}

/** A Reader positioned on `es1:cluster` of one cloud provider, with the checks all clouds share. */
class ClusterReader {
  readonly catalog: CloudCatalog;

  constructor(
    readonly r: Reader,
    readonly obj: PlainObject,
    readonly provider: CloudProviderName,
  ) {
    this.catalog = CATALOGS[provider];
  }

  /** `cluster.<rel>` spelled as the user sets it. */
  key(rel: string): string {
    return this.r.key(`cluster.${rel}`);
  }

  fail(rel: string, problem: string): void {
    this.r.fail(`cluster.${rel}`, problem);
  }

  /** A nested section of `es1:cluster`, refusing keys it does not know. */
  section(rel: string, value: unknown, allowed: readonly string[]): PlainObject {
    const o = this.r.object(`cluster.${rel}`, value) ?? {};
    this.r.knownKeys(`cluster.${rel}`, o, allowed);
    return o;
  }

  /**
   * A CIDR block given as text, or the fallback when unset. After an error the text is the
   * fallback and `block` is undefined, so overlap checks skip it.
   */
  cidr(rel: string, value: unknown, fallback: string): { text: string; block?: Cidr } {
    if (value === undefined || value === null) return { text: fallback, block: parseCidr(fallback) as Cidr };
    if (typeof value !== "string") {
      this.fail(rel, `expected a CIDR block such as 10.0.0.0/16, got ${show(value)}`);
      return { text: fallback };
    }
    const block = parseCidr(value);
    if (typeof block === "string") {
      this.fail(rel, `${show(value)} is not valid: ${block}`);
      return { text: fallback };
    }
    return { text: value, block };
  }

  /** Checks that no two of the named blocks overlap. */
  disjoint(blocks: [string, { block?: Cidr }][]): void {
    for (let i = 0; i < blocks.length; i++) {
      for (let j = i + 1; j < blocks.length; j++) {
        const [ka, { block: a }] = blocks[i];
        const [kb, { block: b }] = blocks[j];
        if (a && b && cidrsOverlap(a, b)) {
          this.fail(ka, `overlaps '${this.key(kb)}'; the node, pod and service ranges must not overlap`);
        }
      }
    }
  }
}

function parseCloudCluster(
  c: ClusterReader,
  id: StackIdentity,
  environment: Environment,
): CloudClusterSettings {
  const { r, obj, provider, catalog } = c;
  r.knownKeys("cluster", obj, CLUSTER_KEYS[provider]);

  const name = r.string("cluster.name", obj.name, id.stack, DNS_LABEL);
  if (provider === "gke" && !/^[a-z][-a-z0-9]{0,38}[a-z0-9]$/.test(name)) {
    c.fail("name", `${show(name)} is not valid for GKE: start with a letter, at most 40 characters`);
  }
  const region = parseRegion(c);
  const regional = provider === "gke" ? r.boolean("cluster.regional", obj.regional, true) : true;
  const zones = parseZones(c, region, environment, regional, isExistingNetwork(obj.network));
  const kubernetesVersion = r.string(
    "cluster.kubernetesVersion",
    obj.kubernetesVersion,
    catalog.defaultKubernetesVersion,
    catalog.kubernetesVersion,
  );
  const privateNodes = r.boolean("cluster.privateNodes", obj.privateNodes, true);
  const endpoint = parseEndpoint(c, privateNodes);
  const base: CloudClusterBase = {
    name,
    environment,
    region,
    zones,
    kubernetesVersion,
    privateNodes,
    endpoint,
    workloadIdentity: r.boolean("cluster.workloadIdentity", obj.workloadIdentity, true),
    secretsEncryption: parseSecretsEncryption(c, region, environment),
    deletionProtection: r.boolean(
      "cluster.deletionProtection",
      obj.deletionProtection,
      environment === "prod",
    ),
    tags: parseTags(c, id.stack, environment),
    nodePools: parseNodePools(c, environment),
    storageClass: r.oneOf(
      "cluster.storageClass",
      obj.storageClass,
      catalog.storageClasses,
      catalog.storageClasses[0],
    ),
    ingressClass: r.string("cluster.ingressClass", obj.ingressClass, "nginx"),
    ingressAnnotations: r.stringMap("cluster.ingressAnnotations", obj.ingressAnnotations),
  };

  switch (provider) {
    case "gke":
      return {
        ...base,
        provider,
        project: requiredString(c, "project", obj.project, {
          re: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
          says: "the ID of the Google Cloud project to create the cluster in (6 to 30 lower-case letters, digits and '-')",
        }),
        regional,
        releaseChannel: r.oneOf(
          "cluster.releaseChannel",
          obj.releaseChannel,
          GKE_RELEASE_CHANNELS,
          environment === "prod" ? "stable" : "regular",
        ),
        network: parseGkeNetwork(c, region),
      };
    case "eks":
      return {
        ...base,
        provider,
        accountId: parseAccountId(c),
        adminPrincipals: parseList(
          c,
          "adminPrincipals",
          /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/,
          "an IAM role or user ARN",
        ),
        network: parseEksNetwork(c, environment),
      };
    case "aks":
      return {
        ...base,
        provider,
        subscriptionId: parseGuid(c, "subscriptionId"),
        resourceGroup: r.string("cluster.resourceGroup", obj.resourceGroup, `${name}-rg`, {
          re: /^[-\w.()]{1,89}[-\w()]$/,
          says: "use at most 90 letters, digits and -_.() (not ending in '.')",
        }),
        networkPolicy: r.oneOf("cluster.networkPolicy", obj.networkPolicy, AKS_NETWORK_POLICIES, "cilium"),
        tier: r.oneOf("cluster.tier", obj.tier, AKS_TIERS, environment === "prod" ? "standard" : "free"),
        entraAdminGroupIds: parseList(c, "entraAdminGroupIds", GUID, "an Entra ID group object ID (a GUID)"),
        network: parseAksNetwork(c),
      };
  }
}

function parseRegion(c: ClusterReader): string {
  const { re, example } = c.catalog.region;
  if (c.obj.region === undefined || c.obj.region === null) {
    c.fail("region", `required: the ${c.catalog.cloud} region to create the cluster in, e.g. ${example}`);
    return "";
  }
  return c.r.string("cluster.region", c.obj.region, "", { re, says: `use a region name such as ${example}` });
}

/** What a zone of each cloud looks like: GKE `europe-west1-b`, EKS `eu-west-1a`, AKS `1`..`3`. */
const ZONES: Record<
  CloudProviderName,
  { valid(zone: string, region: string): boolean; example(region: string): string }
> = {
  gke: { valid: (z, r) => new RegExp(`^${r}-[a-z]$`).test(z), example: (r) => `${r}-b` },
  eks: { valid: (z, r) => new RegExp(`^${r}[a-z]$`).test(z), example: (r) => `${r}a` },
  aks: { valid: (z) => ["1", "2", "3"].includes(z), example: () => "1" },
};

function parseZones(
  c: ClusterReader,
  region: string,
  environment: Environment,
  regional: boolean,
  existingNetwork: boolean,
): string[] {
  const { r, obj, provider } = c;
  // AKS zones are numbers, which YAML hands over as such.
  const raw = Array.isArray(obj.zones)
    ? obj.zones.map((z: unknown) => (typeof z === "number" ? String(z) : z))
    : obj.zones;
  let zones = r.stringList("cluster.zones", raw);
  if (raw === undefined || raw === null) {
    // EKS subnets of a new VPC go into these zones; two keep a dev stack's NAT and subnets few.
    if (provider === "eks" && region && !existingNetwork) {
      zones = (environment === "prod" ? ["a", "b", "c"] : ["a", "b"]).map((l) => region + l);
    }
    if (provider === "aks" && environment === "prod") zones = ["1", "2", "3"];
  }
  if (new Set(zones).size !== zones.length) c.fail("zones", `${show(zones)} lists a zone twice`);
  const form = ZONES[provider];
  for (const [i, zone] of zones.entries()) {
    if (!region || form.valid(zone, region)) continue;
    c.fail(
      `zones[${i}]`,
      provider === "aks"
        ? `${show(zone)} is not an Azure availability zone; use 1, 2 or 3`
        : `zone ${show(zone)} is not in region ${show(region)} ('${c.key("region")}'); ` +
            `zones there look like ${form.example(region)}`,
    );
  }
  if (provider === "gke" && !regional && zones.length === 0) {
    c.fail("zones", `a zonal cluster ('${c.key("regional")}: false') needs its zone: list at least one`);
  }
  if (provider === "eks" && existingNetwork && raw !== undefined) {
    c.fail(
      "zones",
      `the zones come from the subnets of the existing network ('${c.key("network.existing")}'); remove this key`,
    );
  } else if (provider === "eks" && !existingNetwork && region && zones.length < 2) {
    c.fail("zones", "EKS needs subnets in at least two availability zones: list two or more");
  }
  return zones;
}

function isExistingNetwork(network: unknown): boolean {
  return typeof network === "object" && network !== null && "existing" in network;
}

function parseEndpoint(c: ClusterReader, privateNodes: boolean): EndpointSettings {
  const o = c.section("endpoint", c.obj.endpoint, ["private", "authorizedNetworks", "bastion"]);
  const isPrivate = c.r.boolean("cluster.endpoint.private", o.private, false);
  const bastion = c.r.boolean("cluster.endpoint.bastion", o.bastion, false);
  const authorizedNetworks = c.r.stringList("cluster.endpoint.authorizedNetworks", o.authorizedNetworks);
  authorizedNetworks.forEach((n, i) => c.cidr(`endpoint.authorizedNetworks[${i}]`, n, n));
  if (isPrivate && !privateNodes) {
    c.fail(
      "endpoint.private",
      `a private API endpoint needs private nodes; remove '${c.key("privateNodes")}: false'`,
    );
  }
  if (isPrivate && c.provider === "aks" && authorizedNetworks.length > 0) {
    c.fail(
      "endpoint.authorizedNetworks",
      `AKS does not support authorized IP ranges on a private cluster ('${c.key("endpoint.private")}: true'); ` +
        `reach it from inside the VNet with '${c.key("endpoint.bastion")}: true'`,
    );
  } else if (isPrivate && authorizedNetworks.length === 0 && !bastion) {
    c.fail(
      "endpoint.private",
      "a private API endpoint is reachable only from inside the cluster's network, so Pulumi would have no path to it: " +
        `list the VPN or peered ranges Pulumi runs from in '${c.key("endpoint.authorizedNetworks")}', ` +
        `or set '${c.key("endpoint.bastion")}: true' when it runs on a host inside the network`,
    );
  }
  if (bastion && !isPrivate) {
    c.fail("endpoint.bastion", `applies only to a private endpoint ('${c.key("endpoint.private")}: true')`);
  }
  return { private: isPrivate, authorizedNetworks, bastion };
}

function parseSecretsEncryption(
  c: ClusterReader,
  region: string,
  environment: Environment,
): SecretsEncryptionSettings {
  const allowed = c.provider === "aks" ? ["enabled", "keyId", "keyVaultId"] : ["enabled", "keyId"];
  const o = c.section("secretsEncryption", c.obj.secretsEncryption, allowed);
  const enabled = c.r.boolean("cluster.secretsEncryption.enabled", o.enabled, environment === "prod");
  const keyId = c.r.optionalString("cluster.secretsEncryption.keyId", o.keyId);
  const keyVaultId = c.r.optionalString("cluster.secretsEncryption.keyVaultId", o.keyVaultId);
  if (!enabled && (keyId || keyVaultId)) {
    c.fail("secretsEncryption.keyId", `a key is given but '${c.key("secretsEncryption.enabled")}' is false`);
  }
  if (keyId && region) {
    const problem = {
      gke: () => {
        const m = /^projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.exec(keyId);
        if (!m) return "expected projects/<project>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>";
        return m[1] === region
          ? undefined
          : `the key is in ${show(m[1])}; GKE needs a key in the cluster's region ${show(region)}`;
      },
      eks: () => {
        const m = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[0-9a-f-]+$/.exec(keyId);
        if (!m) return "expected a KMS key ARN: arn:aws:kms:<region>:<account>:key/<id>";
        return m[1] === region
          ? undefined
          : `the key is in ${show(m[1])}; EKS needs a key in the cluster's region ${show(region)}`;
      },
      aks: () =>
        /^https:\/\/[a-z0-9-]+\.vault\.azure\.net\/keys\/[^/]+\/[0-9a-f]{32}$/.test(keyId)
          ? undefined
          : "expected a versioned Key Vault key URL: https://<vault>.vault.azure.net/keys/<name>/<version>",
    }[c.provider]();
    if (problem) c.fail("secretsEncryption.keyId", `${show(keyId)} is not valid: ${problem}`);
  }
  if (c.provider === "aks" && enabled && Boolean(keyId) !== Boolean(keyVaultId)) {
    c.fail(
      keyId ? "secretsEncryption.keyVaultId" : "secretsEncryption.keyId",
      `give '${c.key("secretsEncryption.keyId")}' and '${c.key("secretsEncryption.keyVaultId")}' together ` +
        "(the cluster identity is granted Key Vault Crypto User on that vault), or neither to let ES1 create both",
    );
  }
  if (
    keyVaultId &&
    !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i.test(
      keyVaultId,
    )
  ) {
    c.fail(
      "secretsEncryption.keyVaultId",
      `${show(keyVaultId)} is not valid: expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>`,
    );
  }
  return { enabled, keyId, keyVaultId };
}

function parseTags(c: ClusterReader, stack: string, environment: Environment): Record<string, string> {
  const given = c.r.stringMap("cluster.tags", c.obj.tags);
  for (const [k, v] of Object.entries(given)) {
    if ((COST_TAG_KEYS as readonly string[]).includes(k)) {
      c.fail(`tags.${k}`, `ES1 sets ${COST_TAG_KEYS.join(" and ")} itself; choose another key`);
    } else if (
      c.provider === "gke" &&
      (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || !/^[a-z0-9_-]{0,63}$/.test(v))
    ) {
      c.fail(
        `tags.${k}`,
        `${show(k)}: ${show(v)} is not a valid GCP label: keys start with a lower-case letter; keys and values use ` +
          "lower-case letters, digits, '-' and '_', at most 63 characters",
      );
    }
  }
  return { ...given, "es1-stack": stack, "es1-environment": environment };
}

function parseNodePools(c: ClusterReader, environment: Environment): NodePoolsSettings {
  const o = c.r.object("cluster.nodePools", c.obj.nodePools) ?? {};
  for (const k of Object.keys(o)) {
    if (!(POOL_NAMES as readonly string[]).includes(k)) {
      c.fail(`nodePools.${k}`, `unknown node pool; the ES1 pools are: ${POOL_NAMES.join(", ")}`);
    }
  }
  const defaults = c.catalog.pools[environment];
  const pool = (name: BasePoolName) => parsePool(c, name, o[name], defaults[name]);
  return {
    system: pool("system"),
    infrastructure: pool("infrastructure"),
    platform: pool("platform"),
    aiml: o.aiml === undefined || o.aiml === null ? undefined : parseGpuPool(c, o.aiml, environment),
  };
}

const POOL_KEYS = ["machineType", "diskType", "diskSizeGb", "minNodes", "maxNodes"] as const;

function parsePool(
  c: ClusterReader,
  name: PoolName,
  value: unknown,
  defaults: PoolSize,
  extraKeys: readonly string[] = [],
): NodePoolSettings {
  const rel = `nodePools.${name}`;
  const o = c.section(rel, value, [...POOL_KEYS, ...extraKeys]);
  const { r, catalog } = c;
  const minNodes = r.integer(`cluster.${rel}.minNodes`, o.minNodes, defaults.minNodes, {
    min: name === "system" ? 1 : 0,
    max: 1000,
  });
  const maxNodes = r.integer(`cluster.${rel}.maxNodes`, o.maxNodes, defaults.maxNodes, { min: 1, max: 1000 });
  if (minNodes > maxNodes) {
    c.fail(
      `${rel}.minNodes`,
      `${minNodes} is more than '${c.key(`${rel}.maxNodes`)}' (${maxNodes}); ` +
        "raise maxNodes or lower minNodes (defaults come from the environment's profile)",
    );
  }
  return {
    machineType: r.string(
      `cluster.${rel}.machineType`,
      o.machineType,
      defaults.machineType,
      catalog.machineType,
    ),
    diskType: r.oneOf(`cluster.${rel}.diskType`, o.diskType, catalog.diskTypes, defaults.diskType),
    diskSizeGb: r.integer(`cluster.${rel}.diskSizeGb`, o.diskSizeGb, defaults.diskSizeGb, catalog.diskSizeGb),
    minNodes,
    maxNodes,
  };
}

function parseGpuPool(c: ClusterReader, value: unknown, environment: Environment): GpuNodePoolSettings {
  const o = c.r.object("cluster.nodePools.aiml", value) ?? {};
  const accelerators = Object.keys(c.catalog.accelerators);
  let acceleratorType = "";
  if (o.acceleratorType === undefined || o.acceleratorType === null) {
    c.fail(
      "nodePools.aiml.acceleratorType",
      `required: the aiml pool is the GPU pool and needs its GPU model; use one of: ${accelerators.join(", ")}`,
    );
  } else {
    acceleratorType = c.r.oneOf(
      "cluster.nodePools.aiml.acceleratorType",
      o.acceleratorType,
      accelerators,
      "",
    );
  }
  const accelerator = c.catalog.accelerators[acceleratorType];
  const defaults: PoolSize = {
    ...c.catalog.gpuPool[environment],
    machineType: accelerator?.machineType ?? "",
  };
  // GKE attaches GPUs to a machine explicitly; on EKS and AKS the machine type brings them.
  const extra = c.provider === "gke" ? ["acceleratorType", "acceleratorCount"] : ["acceleratorType"];
  const pool = parsePool(c, "aiml", value, defaults, extra);
  if (accelerator && typeof o.machineType === "string" && !accelerator.machineTypes.test(pool.machineType)) {
    c.fail(
      "nodePools.aiml.machineType",
      `${show(pool.machineType)} does not carry ${acceleratorType} ('${c.key("nodePools.aiml.acceleratorType")}'); ` +
        `use a machine type like ${accelerator.machineType} or leave it unset`,
    );
  }
  const acceleratorCount = c.r.integer(
    "cluster.nodePools.aiml.acceleratorCount",
    o.acceleratorCount,
    accelerator?.count ?? 1,
    {
      min: 1,
      max: 16,
    },
  );
  return { ...pool, acceleratorType, acceleratorCount };
}

function parseList(c: ClusterReader, rel: string, re: RegExp, what: string): string[] {
  const list = c.r.stringList(`cluster.${rel}`, c.obj[rel]);
  list.forEach((v, i) => {
    if (!re.test(v)) c.fail(`${rel}[${i}]`, `${show(v)} is not valid: expected ${what}`);
  });
  return list;
}

function parseAccountId(c: ClusterReader): string | undefined {
  const v = c.obj.accountId;
  if (v === undefined || v === null) return undefined;
  // YAML reads an unquoted account ID as a number.
  const text = typeof v === "number" ? String(v) : v;
  return (
    c.r.string("cluster.accountId", text, "", {
      re: /^\d{12}$/,
      says: "an AWS account ID is 12 digits (quote it in YAML)",
    }) || undefined
  );
}

function parseGuid(c: ClusterReader, rel: string): string | undefined {
  return c.r.string(`cluster.${rel}`, c.obj[rel], "", { re: GUID, says: "expected a GUID" }) || undefined;
}

/** Splits `network` into the new-network keys and the `existing` section, refusing a mix of both. */
function networkSections(
  c: ClusterReader,
  newKeys: readonly string[],
  existingKeys: readonly string[],
): { o: PlainObject; existing?: PlainObject } {
  const o = c.section("network", c.obj.network, [...newKeys, "existing"]);
  if (o.existing === undefined || o.existing === null) return { o };
  const existing = c.section("network.existing", o.existing, existingKeys);
  for (const k of newKeys) {
    if (o[k] !== undefined && !["podsCidr", "servicesCidr"].includes(k)) {
      c.fail(
        `network.${k}`,
        k === "nat" || k === "natPerZone"
          ? `ES1 creates NAT only for a network of its own; an existing network ('${c.key("network.existing")}') brings its own egress`
          : `set either '${c.key(`network.${k}`)}' (a new network) or '${c.key("network.existing")}', not both`,
      );
    }
  }
  return { o, existing };
}

function requiredString(
  c: ClusterReader,
  rel: string,
  value: unknown,
  pattern: { re: RegExp; says: string },
): string {
  if (value === undefined || value === null) {
    c.fail(rel, `required: ${pattern.says}`);
    return "";
  }
  return c.r.string(`cluster.${rel}`, value, "", pattern);
}

function parseGkeNetwork(c: ClusterReader, region: string): GkeNetworkSettings {
  const { o, existing } = networkSections(
    c,
    ["cidr", "podsCidr", "servicesCidr", "nat"],
    ["network", "subnetwork", "podsRangeName", "servicesRangeName"],
  );
  if (existing) {
    const rangeName = {
      re: /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
      says: "the name of a secondary range of the subnetwork",
    };
    const subnetwork = requiredString(c, "network.existing.subnetwork", existing.subnetwork, {
      re: /^(projects\/[^/]+\/)?regions\/[^/]+\/subnetworks\/[^/]+$/,
      says: "projects/<project>/regions/<region>/subnetworks/<name>",
    });
    const subnetRegion = /regions\/([^/]+)\//.exec(subnetwork)?.[1];
    if (subnetRegion && region && subnetRegion !== region) {
      c.fail(
        "network.existing.subnetwork",
        `the subnetwork is in region ${show(subnetRegion)}, not the cluster's region ${show(region)} ('${c.key("region")}')`,
      );
    }
    return {
      kind: "existing",
      network: requiredString(c, "network.existing.network", existing.network, {
        re: /^(projects\/[^/]+\/global\/networks\/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
        says: "projects/<project>/global/networks/<name>",
      }),
      subnetwork,
      podsRangeName: requiredString(c, "network.existing.podsRangeName", existing.podsRangeName, rangeName),
      servicesRangeName: requiredString(
        c,
        "network.existing.servicesRangeName",
        existing.servicesRangeName,
        rangeName,
      ),
    };
  }
  const cidr = c.cidr("network.cidr", o.cidr, "10.10.0.0/20");
  const pods = c.cidr("network.podsCidr", o.podsCidr, "10.16.0.0/14");
  const services = c.cidr("network.servicesCidr", o.servicesCidr, "10.20.0.0/20");
  c.disjoint([
    ["network.cidr", cidr],
    ["network.podsCidr", pods],
    ["network.servicesCidr", services],
  ]);
  return {
    kind: "new",
    cidr: cidr.text,
    podsCidr: pods.text,
    servicesCidr: services.text,
    nat: c.r.boolean("cluster.network.nat", o.nat, true),
  };
}

function parseEksNetwork(c: ClusterReader, environment: Environment): EksNetworkSettings {
  const { o, existing } = networkSections(
    c,
    ["cidr", "nat", "natPerZone"],
    ["vpcId", "privateSubnetIds", "publicSubnetIds"],
  );
  if (existing) {
    const subnetIds = (rel: string) => {
      const ids = c.r.stringList(`cluster.network.existing.${rel}`, existing[rel]);
      ids.forEach((s, i) => {
        if (!/^subnet-[0-9a-f]{8,17}$/.test(s)) {
          c.fail(
            `network.existing.${rel}[${i}]`,
            `${show(s)} is not valid: expected a subnet ID such as subnet-0123456789abcdef0`,
          );
        }
      });
      return ids;
    };
    const privateSubnetIds = subnetIds("privateSubnetIds");
    const publicSubnetIds = subnetIds("publicSubnetIds");
    if (privateSubnetIds.length < 2) {
      c.fail(
        "network.existing.privateSubnetIds",
        "list at least two private subnets in different availability zones (EKS places the control plane's interfaces there)",
      );
    }
    const privateNodes = c.r.boolean("cluster.privateNodes", c.obj.privateNodes, true);
    if (!privateNodes && publicSubnetIds.length === 0) {
      c.fail(
        "network.existing.publicSubnetIds",
        `nodes with public addresses ('${c.key("privateNodes")}: false') need public subnets: list them here`,
      );
    }
    return {
      kind: "existing",
      vpcId: requiredString(c, "network.existing.vpcId", existing.vpcId, {
        re: /^vpc-[0-9a-f]{8,17}$/,
        says: "a VPC ID such as vpc-0123456789abcdef0",
      }),
      privateSubnetIds,
      publicSubnetIds,
    };
  }
  const cidr = c.cidr("network.cidr", o.cidr, "10.0.0.0/16");
  const prefix = cidr.block?.prefix;
  if (prefix !== undefined && (prefix < 16 || prefix > 22)) {
    c.fail(
      "network.cidr",
      `/${prefix} is out of range: an ES1 VPC is /16 to /22 (one private and one public subnet per zone)`,
    );
  }
  return {
    kind: "new",
    cidr: cidr.text,
    nat: c.r.boolean("cluster.network.nat", o.nat, true),
    natPerZone: c.r.boolean("cluster.network.natPerZone", o.natPerZone, environment === "prod"),
  };
}

function parseAksNetwork(c: ClusterReader): AksNetworkSettings {
  const { o, existing } = networkSections(
    c,
    ["cidr", "podsCidr", "servicesCidr", "nat"],
    ["subnetId", "outboundType"],
  );
  const pods = c.cidr("network.podsCidr", o.podsCidr, "10.244.0.0/16");
  const services = c.cidr("network.servicesCidr", o.servicesCidr, "10.41.0.0/16");
  const ranges = {
    podsCidr: pods.text,
    servicesCidr: services.text,
  };
  if (existing) {
    c.disjoint([
      ["network.podsCidr", pods],
      ["network.servicesCidr", services],
    ]);
    return {
      ...ranges,
      kind: "existing",
      subnetId: requiredString(c, "network.existing.subnetId", existing.subnetId, {
        re: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i,
        says: "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
      }),
      outboundType: c.r.oneOf(
        "cluster.network.existing.outboundType",
        existing.outboundType,
        AKS_OUTBOUND_TYPES,
        "loadBalancer",
      ),
    };
  }
  const cidr = c.cidr("network.cidr", o.cidr, "10.40.0.0/16");
  c.disjoint([
    ["network.cidr", cidr],
    ["network.podsCidr", pods],
    ["network.servicesCidr", services],
  ]);
  return {
    ...ranges,
    kind: "new",
    cidr: cidr.text,
    nat: c.r.boolean("cluster.network.nat", o.nat, true),
  };
}
