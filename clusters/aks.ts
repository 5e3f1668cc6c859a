import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as network from "@pulumi/azure-native/network";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AksClusterSettings, NodePoolSettings } from "../config";
import { hostAddress, subnet } from "../lib/cidr";
import { azureBackupStore } from "./aks-backup";
import { nvidiaDevicePlugin } from "./gpu";
import { clusterProvider } from "./k8s-access";
import { configuredPools, cloudClusterContract } from "./pools";
import { BackupStoreRequest, Cluster, NODE_POOLS, PoolName } from "./types";

/** Built-in Azure role definitions the cluster identity is granted. */
const ROLES = {
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
  keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
};

/** AKS Linux pool names are at most 12 lower-case letters and digits. */
const AKS_POOL_NAMES: Record<PoolName, string> = {
  system: "system",
  infrastructure: "infra",
  platform: "platform",
  aiml: "aiml",
};

/**
 * Turns the kubeconfig AKS hands out for Entra ID clusters (kubelogin with device-code login, which
 * waits for a person) into one that signs in with the Azure CLI's session, as Pulumi runs unattended.
 */
export function nonInteractiveKubelogin(kubeconfig: string): string {
  return kubeconfig
    .replace(/(-\s*--login\s*\n\s*-\s*)devicecode/g, "$1azurecli")
    .replace(/(-l\s+)devicecode/g, "$1azurecli");
}

/**
 * A production AKS cluster: a VNet and node subnet of its own (or an existing subnet), Azure CNI
 * overlay with a NetworkPolicy engine, private nodes behind a NAT gateway (or network isolated
 * without egress), OIDC issuer and workload identity, Key Vault KMS encryption of Secrets, an
 * optional private API, Entra ID admins, and the four ES1 pools.
 */
export class AksCluster extends pulumi.ComponentResource {
  readonly cluster: Cluster;

  constructor(
    name: string,
    args: AksClusterSettings,
    opts?: pulumi.ComponentResourceOptions,
    backupStore?: BackupStoreRequest,
  ) {
    super("es1:clusters:Aks", name, {}, opts);
    const azureProvider = new AzureProvider(
      name,
      { subscriptionId: args.subscriptionId, location: args.region },
      { parent: this },
    );
    const o = { parent: this, provider: azureProvider };
    const tags = args.tags;
    const location = args.region;
    const client = authorization.getClientConfigOutput(o);
    const roleDefinition = (id: string) =>
      pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;

    const group = new resources.ResourceGroup(
      `${name}-rg`,
      { resourceGroupName: args.resourceGroup, location, tags },
      o,
    );
    // A user-assigned identity exists before the cluster, so it can be granted the subnet and key first.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { resourceGroupName: group.name, resourceName: `${args.name}-control-plane`, location, tags },
      o,
    );
    const grant = (grantName: string, scope: pulumi.Input<string>, role: string) =>
      new authorization.RoleAssignment(
        `${name}-${grantName}`,
        {
          scope,
          roleDefinitionId: roleDefinition(role),
          principalId: identity.principalId,
          principalType: "ServicePrincipal",
        },
        o,
      );

    const net = this.network(name, args, group, o);
    const grants = [grant("subnet", net.subnetId, ROLES.networkContributor)];
    const kms = this.secretsKey(name, args, group, client.tenantId, o);
    if (kms) grants.push(grant("kms", kms.vaultId, ROLES.keyVaultCryptoUser));

    const { endpoint } = args;
    const entra = args.entraAdminGroupIds.length > 0;
    // A patch pinned in config must not be moved by AKS, or every update would try to undo it.
    const pinnedPatch = /^\d+\.\d+\.\d+$/.test(args.kubernetesVersion);
    const zones = args.zones.length > 0 ? args.zones : undefined;
    const poolProfile = (pool: PoolName, size: NodePoolSettings) => {
      const placement = NODE_POOLS[pool];
      return {
        vmSize: size.machineType,
        osDiskType: size.diskType,
        osDiskSizeGB: size.diskSizeGb,
        osType: "Linux",
        type: "VirtualMachineScaleSets",
        enableAutoScaling: true,
        minCount: size.minNodes,
        maxCount: size.maxNodes,
        count: size.minNodes,
        availabilityZones: zones,
        vnetSubnetID: net.subnetId,
        enableNodePublicIP: !args.privateNodes,
        nodeLabels: placement.labels,
        nodeTaints: placement.taints.map((t) => `${t.key}=${t.value}:${t.effect}`),
        upgradeSettings: { maxSurge: "33%" },
        tags,
      };
    };
    const systemPool = args.nodePools.system;
    const authorizedIpRanges =
      !endpoint.private && endpoint.authorizedNetworks.length > 0
        ? // Nodes reach a public API through the NAT gateway: its address must be authorized too.
          pulumi
            .output(net.egressIp)
            .apply((ip) => [...endpoint.authorizedNetworks, ...(ip ? [`${ip}/32`] : [])])
        : undefined;
    const cluster = new containerservice.ManagedCluster(
      name,
      {
        resourceGroupName: group.name,
        resourceName: args.name,
        location,
        dnsPrefix: args.name,
        kubernetesVersion: args.kubernetesVersion,
        sku: {
          name: "Base",
          tier: args.tier === "free" ? "Free" : args.tier === "standard" ? "Standard" : "Premium",
        },
        identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
        nodeResourceGroup: `${args.resourceGroup}-nodes`,
        enableRBAC: true,
        // The system pool is created with the cluster (AKS requires one); the others are AgentPools.
        agentPoolProfiles: [
          { ...poolProfile("system", systemPool), name: AKS_POOL_NAMES.system, mode: "System" },
        ],
        networkProfile: {
          networkPlugin: "azure",
          networkPluginMode: "overlay",
          networkDataplane: args.networkPolicy === "cilium" ? "cilium" : "azure",
          // The NetworkPolicy engine: tenant isolation depends on it.
          networkPolicy: args.networkPolicy,
          podCidr: args.network.podsCidr,
          serviceCidr: args.network.servicesCidr,
          dnsServiceIP: hostAddress(args.network.servicesCidr, 10),
          outboundType: net.outboundType,
          loadBalancerSku: "standard",
        },
        // Without egress, AKS pulls its own images through a private registry cache.
        bootstrapProfile: net.outboundType === "none" ? { artifactSource: "Cache" } : undefined,
        apiServerAccessProfile: {
          enablePrivateCluster: endpoint.private,
          privateDNSZone: endpoint.private ? "system" : undefined,
          authorizedIPRanges: authorizedIpRanges,
        },
        oidcIssuerProfile: { enabled: args.workloadIdentity },
        securityProfile: {
          workloadIdentity: { enabled: args.workloadIdentity },
          azureKeyVaultKms: kms
            ? { enabled: true, keyId: kms.keyId, keyVaultNetworkAccess: "Public" }
            : undefined,
          imageCleaner: { enabled: true, intervalHours: 168 },
        },
        aadProfile: entra
          ? { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: args.entraAdminGroupIds }
          : undefined,
        // With Entra ID admins, nobody holds a static cluster certificate.
        disableLocalAccounts: entra,
        autoUpgradeProfile: {
          upgradeChannel: pinnedPatch ? "none" : "patch",
          nodeOSUpgradeChannel: "NodeImage",
        },
        storageProfile: { diskCSIDriver: { enabled: true }, snapshotController: { enabled: true } },
        tags,
      },
      // The autoscaler owns the node count after creation.
      { ...o, dependsOn: [...grants, ...net.dependsOn], ignoreChanges: ["agentPoolProfiles[0].count"] },
    );

    const pools = configuredPools(args.nodePools)
      .filter(({ name: pool }) => pool !== "system")
      .map(
        ({ name: pool, size }) =>
          new containerservice.AgentPool(
            `${name}-${pool}`,
            {
              ...poolProfile(pool, size),
              resourceGroupName: group.name,
              resourceName: cluster.name,
              agentPoolName: AKS_POOL_NAMES[pool],
              mode: "User",
              // AKS installs the NVIDIA driver on GPU VM sizes; the device plugin is deployed below.
              gpuProfile: pool === "aiml" ? { driver: "Install" } : undefined,
            },
            { ...o, ignoreChanges: ["count"] },
          ),
      );

    if (args.deletionProtection) {
      // Azure has no deletion flag on AKS; a CanNotDelete lock blocks deleting the cluster and its pools.
      new authorization.ManagementLockByScope(
        `${name}-lock`,
        {
          scope: cluster.id,
          lockName: "es1-deletion-protection",
          level: "CanNotDelete",
          notes: "ES1 production cluster: remove es1:cluster.deletionProtection before deleting",
        },
        { ...o, dependsOn: pools },
      );
    }

    const credentials = containerservice.listManagedClusterUserCredentialsOutput(
      { resourceGroupName: group.name, resourceName: cluster.name, format: entra ? "exec" : undefined },
      o,
    );
    const kubeconfig = pulumi.secret(
      credentials.kubeconfigs.apply((configs) => {
        const text = Buffer.from(configs[0]?.value ?? "", "base64").toString("utf8");
        return entra ? nonInteractiveKubelogin(text) : text;
      }),
    );
    const provider = clusterProvider(
      name,
      { kubeconfig, clusterId: cluster.id },
      { parent: this, dependsOn: pools },
    );
    if (args.nodePools.aiml) nvidiaDevicePlugin(`${name}-nvidia-device-plugin`, { provider, parent: this });

    const store = backupStore
      ? azureBackupStore(name, args, backupStore, group, cluster, roleDefinition, o)
      : undefined;
    this.cluster = cloudClusterContract("aks", args, provider, kubeconfig, store);
    this.registerOutputs({ clusterId: cluster.id, storageClass: args.storageClass });
  }

  /** A VNet with a node subnet behind a NAT gateway, or the configured subnet. */
  private network(
    name: string,
    args: AksClusterSettings,
    group: resources.ResourceGroup,
    o: pulumi.CustomResourceOptions,
  ): {
    subnetId: pulumi.Input<string>;
    outboundType: string;
    egressIp?: pulumi.Input<string | undefined>;
    dependsOn: pulumi.Resource[];
  } {
    const net = args.network;
    if (net.kind === "existing")
      return { subnetId: net.subnetId, outboundType: net.outboundType, dependsOn: [] };
    const vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      {
        resourceGroupName: group.name,
        virtualNetworkName: `${args.name}-vnet`,
        location: args.region,
        addressSpace: { addressPrefixes: [net.cidr] },
        tags: args.tags,
      },
      o,
    );
    let natGateway: network.NatGateway | undefined;
    let egressIp: pulumi.Output<string | undefined> | undefined;
    if (net.nat) {
      const ip = new network.PublicIPAddress(
        `${name}-nat`,
        {
          resourceGroupName: group.name,
          publicIpAddressName: `${args.name}-nat`,
          location: args.region,
          sku: { name: "Standard" },
          publicIPAllocationMethod: "Static",
          tags: args.tags,
        },
        o,
      );
      natGateway = new network.NatGateway(
        `${name}-nat`,
        {
          resourceGroupName: group.name,
          natGatewayName: `${args.name}-nat`,
          location: args.region,
          sku: { name: "Standard" },
          publicIpAddresses: [{ id: ip.id }],
          idleTimeoutInMinutes: 4,
          tags: args.tags,
        },
        o,
      );
      egressIp = ip.ipAddress;
    }
    // Nodes take the first half of the VNet (pods live in the overlay); the rest stays for
    // private endpoints or a bastion.
    const nodes = new network.Subnet(
      `${name}-nodes`,
      {
        resourceGroupName: group.name,
        virtualNetworkName: vnet.name,
        subnetName: "nodes",
        addressPrefix: subnet(net.cidr, 1, 0),
        natGateway: natGateway ? { id: natGateway.id } : undefined,
        // Private nodes get no implicit internet route, only the NAT gateway's (if any).
        defaultOutboundAccess: !args.privateNodes,
      },
      o,
    );
    return {
      subnetId: nodes.id,
      // Without NAT the cluster is network isolated: no egress at all.
      outboundType: net.nat ? "userAssignedNATGateway" : "none",
      egressIp,
      dependsOn: [nodes],
    };
  }

  /** The Key Vault key for KMS encryption of Secrets: the configured one, or a new vault and key. */
  private secretsKey(
    name: string,
    args: AksClusterSettings,
    group: resources.ResourceGroup,
    tenantId: pulumi.Input<string>,
    o: pulumi.CustomResourceOptions,
  ): { keyId: pulumi.Input<string>; vaultId: pulumi.Input<string> } | undefined {
    const enc = args.secretsEncryption;
    if (!enc.enabled) return undefined;
    if (enc.keyId && enc.keyVaultId) return { keyId: enc.keyId, vaultId: enc.keyVaultId };
    // Vault names are global; Pulumi generates one. Purge protection keeps the key recoverable.
    const vault = new keyvault.Vault(
      `${name}-kms`,
      {
        resourceGroupName: group.name,
        location: args.region,
        properties: {
          tenantId,
          sku: { family: "A", name: "standard" },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          enablePurgeProtection: true,
          softDeleteRetentionInDays: args.environment === "prod" ? 90 : 7,
          publicNetworkAccess: "Enabled",
        },
        tags: args.tags,
      },
      o,
    );
    const key = new keyvault.Key(
      `${name}-kms`,
      {
        resourceGroupName: group.name,
        vaultName: vault.name,
        keyName: "es1-secrets",
        properties: { kty: "RSA", keySize: 2048, keyOps: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] },
        tags: args.tags,
      },
      o,
    );
    return { keyId: key.keyUriWithVersion, vaultId: vault.id };
  }
}
