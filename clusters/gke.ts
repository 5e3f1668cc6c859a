// Submodule imports: the package root costs type-checking time for every GCP service.
import * as compute from "@pulumi/gcp/compute";
import * as container from "@pulumi/gcp/container";
import * as kms from "@pulumi/gcp/kms";
import * as organizations from "@pulumi/gcp/organizations";
import * as projects from "@pulumi/gcp/projects";
import { Provider as GcpProvider } from "@pulumi/gcp/provider";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import { GkeClusterSettings } from "../config";
import { gcsBackupStore } from "./gke-backup";
import { clusterProvider, execKubeconfig } from "./k8s-access";
import { configuredPools, cloudClusterContract } from "./pools";
import { BackupStoreRequest, Cluster, NODE_POOLS, Taint } from "./types";

/** Secondary ranges of a subnetwork ES1 creates. */
const PODS_RANGE = "pods";
const SERVICES_RANGE = "services";

/** What the node service account may do: the least GKE nodes need, plus pulling images. */
const NODE_ROLES = ["roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader"];

const TAINT_EFFECTS: Record<Taint["effect"], string> = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
};

/** GCP label values allow lower-case letters, digits, '-' and '_' only (a stack name may have more). */
export function gcpLabels(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).map(([k, v]) => [
      k,
      v
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, "_")
        .slice(0, 63),
    ]),
  );
}

/**
 * A production GKE Standard cluster: VPC-native networking with Dataplane V2 (NetworkPolicy
 * enforced), private nodes behind Cloud NAT, Workload Identity, Cloud KMS secrets encryption,
 * shielded nodes with a least-privilege service account, and the four ES1 node pools.
 */
export class GkeCluster extends pulumi.ComponentResource {
  readonly cluster: Cluster;

  constructor(
    name: string,
    args: GkeClusterSettings,
    opts?: pulumi.ComponentResourceOptions,
    backupStore?: BackupStoreRequest,
  ) {
    super("es1:clusters:Gke", name, {}, opts);
    const labels = gcpLabels(args.tags);
    // Labels reach every resource that has them, including ones a later change adds.
    const gcpProvider = new GcpProvider(
      name,
      { project: args.project, region: args.region, defaultLabels: labels },
      { parent: this },
    );
    const o = { parent: this, provider: gcpProvider };
    const location = args.regional ? args.region : args.zones[0];

    const network = this.network(name, args, o);
    const nodeAccount = this.nodeServiceAccount(name, args, o);
    const encryption = this.secretsEncryption(name, args, labels, o);

    const { endpoint } = args;
    const authorizedNetworks =
      endpoint.authorizedNetworks.length > 0 || endpoint.private
        ? {
            cidrBlocks: endpoint.authorizedNetworks.map((cidrBlock) => ({ cidrBlock, displayName: "es1" })),
            gcpPublicCidrsAccessEnabled: false,
          }
        : undefined;
    const cluster = new container.Cluster(
      name,
      {
        name: args.name,
        location,
        nodeLocations: args.regional ? undefined : args.zones.slice(1),
        // Node pools are managed below; the default pool is only a bootstrap requirement.
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        nodeConfig: {
          serviceAccount: nodeAccount.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        },
        network: network.network,
        subnetwork: network.subnetwork,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: {
          clusterSecondaryRangeName: network.podsRange,
          servicesSecondaryRangeName: network.servicesRange,
        },
        // Dataplane V2 enforces NetworkPolicy; tenant isolation depends on it.
        datapathProvider: "ADVANCED_DATAPATH",
        privateClusterConfig: {
          enablePrivateNodes: args.privateNodes,
          enablePrivateEndpoint: endpoint.private,
        },
        masterAuthorizedNetworksConfig: authorizedNetworks,
        workloadIdentityConfig: args.workloadIdentity
          ? { workloadPool: `${args.project}.svc.id.goog` }
          : undefined,
        databaseEncryption: encryption
          ? { state: "ENCRYPTED", keyName: encryption.keyName }
          : { state: "DECRYPTED" },
        releaseChannel: {
          channel: args.releaseChannel === "none" ? "UNSPECIFIED" : args.releaseChannel.toUpperCase(),
        },
        minMasterVersion: args.kubernetesVersion,
        enableShieldedNodes: true,
        addonsConfig: {
          gcePersistentDiskCsiDriverConfig: { enabled: true },
          httpLoadBalancing: { disabled: false },
        },
        // GKE's Gateway controller and its GatewayClasses (es1:access, docs/access.md).
        gatewayApiConfig: { channel: "CHANNEL_STANDARD" },
        deletionProtection: args.deletionProtection,
        resourceLabels: labels,
      },
      // The default pool's nodeConfig only matters at creation; GKE drops the pool afterwards.
      {
        ...o,
        dependsOn: [...network.dependsOn, ...(encryption?.dependsOn ?? [])],
        ignoreChanges: ["nodeConfig"],
      },
    );

    // GKE spreads a regional pool over three zones unless told which.
    const zoneCount = args.zones.length || 3;
    const pools = configuredPools(args.nodePools).map(({ name: pool, size }) => {
      const placement = NODE_POOLS[pool];
      const gpu = pool === "aiml" ? args.nodePools.aiml : undefined;
      return new container.NodePool(
        `${name}-${pool}`,
        {
          cluster: cluster.name,
          location,
          nodeLocations: args.zones.length > 0 ? args.zones : undefined,
          // Per zone: the pool's minimum spread over its zones.
          initialNodeCount: Math.ceil(size.minNodes / zoneCount),
          // Totals, so min/max mean the same on every cloud whatever the number of zones.
          autoscaling: {
            totalMinNodeCount: size.minNodes,
            totalMaxNodeCount: size.maxNodes,
            locationPolicy: "BALANCED",
          },
          management: { autoRepair: true, autoUpgrade: true },
          upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
          nodeConfig: {
            machineType: size.machineType,
            diskType: size.diskType,
            diskSizeGb: size.diskSizeGb,
            imageType: "COS_CONTAINERD",
            labels: placement.labels,
            taints: placement.taints.map((t) => ({
              key: t.key,
              value: t.value,
              effect: TAINT_EFFECTS[t.effect],
            })),
            serviceAccount: nodeAccount.email,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            workloadMetadataConfig: args.workloadIdentity ? { mode: "GKE_METADATA" } : undefined,
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            metadata: { "disable-legacy-endpoints": "true" },
            resourceLabels: labels,
            // GKE installs the driver and the device plugin on GPU nodes itself.
            guestAccelerators: gpu
              ? [
                  {
                    type: gpu.acceleratorType,
                    count: gpu.acceleratorCount,
                    gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" },
                  },
                ]
              : undefined,
          },
        },
        // The autoscaler owns the node count after creation.
        { ...o, ignoreChanges: ["initialNodeCount"] },
      );
    });

    const contextName = `gke_${args.project}_${location}_${args.name}`;
    const kubeconfig = execKubeconfig({
      name: contextName,
      server: pulumi.interpolate`https://${cluster.endpoint}`,
      caData: cluster.masterAuth.clusterCaCertificate.apply((ca) => ca ?? ""),
      exec: {
        command: "gke-gcloud-auth-plugin",
        args: [],
        installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
        provideClusterInfo: true,
      },
    });
    const provider = clusterProvider(
      name,
      { kubeconfig, clusterId: cluster.id },
      { parent: this, dependsOn: pools },
    );

    const store = backupStore ? gcsBackupStore(name, args, backupStore, labels, cluster, o) : undefined;
    this.cluster = cloudClusterContract("gke", args, provider, kubeconfig, store);
    this.registerOutputs({
      clusterId: cluster.id,
      endpoint: cluster.endpoint,
      storageClass: args.storageClass,
    });
  }

  /** A new VPC with one subnetwork and its pod/service ranges (plus Cloud NAT), or the configured one. */
  private network(name: string, args: GkeClusterSettings, o: pulumi.CustomResourceOptions) {
    const net = args.network;
    if (net.kind === "existing") {
      return {
        network: net.network,
        subnetwork: net.subnetwork,
        podsRange: net.podsRangeName,
        servicesRange: net.servicesRangeName,
        dependsOn: [] as pulumi.Resource[],
      };
    }
    const vpc = new compute.Network(
      `${name}-vpc`,
      { name: `${args.name}-vpc`, autoCreateSubnetworks: false, routingMode: "REGIONAL" },
      o,
    );
    const subnetwork = new compute.Subnetwork(
      `${name}-nodes`,
      {
        name: `${args.name}-nodes`,
        region: args.region,
        network: vpc.id,
        ipCidrRange: net.cidr,
        // Private nodes reach Google APIs (images, logging) without NAT.
        privateIpGoogleAccess: true,
        secondaryIpRanges: [
          { rangeName: PODS_RANGE, ipCidrRange: net.podsCidr },
          { rangeName: SERVICES_RANGE, ipCidrRange: net.servicesCidr },
        ],
      },
      o,
    );
    const dependsOn: pulumi.Resource[] = [subnetwork];
    // Air-gapped sites switch NAT off; private nodes then reach only Google APIs.
    if (net.nat && args.privateNodes) {
      const router = new compute.Router(
        `${name}-router`,
        { name: `${args.name}-router`, region: args.region, network: vpc.id },
        o,
      );
      dependsOn.push(
        new compute.RouterNat(
          `${name}-nat`,
          {
            name: `${args.name}-nat`,
            router: router.name,
            region: args.region,
            natIpAllocateOption: "AUTO_ONLY",
            sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
            logConfig: { enable: true, filter: "ERRORS_ONLY" },
          },
          o,
        ),
      );
    }
    return {
      network: vpc.id,
      subnetwork: subnetwork.id,
      podsRange: PODS_RANGE,
      servicesRange: SERVICES_RANGE,
      dependsOn,
    };
  }

  /** Nodes run as a service account of their own, not the project's Editor default. */
  private nodeServiceAccount(name: string, args: GkeClusterSettings, o: pulumi.CustomResourceOptions) {
    const accountId = `${args.name.slice(0, 23).replace(/-+$/, "")}-nodes`;
    const account = new serviceaccount.Account(
      `${name}-nodes`,
      { accountId, displayName: `ES1 nodes of ${args.name}` },
      o,
    );
    for (const role of NODE_ROLES) {
      new projects.IAMMember(
        `${name}-nodes-${role.split("/")[1].replace(/\./g, "-")}`,
        { project: args.project, role, member: account.member },
        o,
      );
    }
    return account;
  }

  /** The Cloud KMS key for application-layer secrets encryption: the configured one, or a new one. */
  private secretsEncryption(
    name: string,
    args: GkeClusterSettings,
    labels: Record<string, string>,
    o: pulumi.CustomResourceOptions,
  ): { keyName: pulumi.Input<string>; dependsOn: pulumi.Resource[] } | undefined {
    const enc = args.secretsEncryption;
    if (!enc.enabled) return undefined;
    // A key of the user's: granting GKE's service agent access to it is the user's (docs/clusters/gke.md).
    if (enc.keyId) return { keyName: enc.keyId, dependsOn: [] };
    // Key rings cannot be deleted in GCP: the name is generated so a re-created stack never collides.
    const ring = new kms.KeyRing(`${name}-kms`, { location: args.region }, o);
    const key = new kms.CryptoKey(
      `${name}-secrets`,
      { keyRing: ring.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s", labels },
      o,
    );
    const project = organizations.getProjectOutput({ projectId: args.project }, o);
    const grant = new kms.CryptoKeyIAMMember(
      `${name}-secrets-gke-agent`,
      {
        cryptoKeyId: key.id,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: pulumi.interpolate`serviceAccount:service-${project.number}@container-engine-robot.iam.gserviceaccount.com`,
      },
      o,
    );
    return { keyName: key.id, dependsOn: [grant] };
  }
}
