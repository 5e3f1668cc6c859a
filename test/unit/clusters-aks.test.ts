import * as assert from "assert";
import { ProgramRun } from "./harness";
import { assertSecretKubeconfig, at, byName, runCluster } from "./cluster-helpers";

const T = {
  group: "azure-native:resources:ResourceGroup",
  vnet: "azure-native:network:VirtualNetwork",
  subnet: "azure-native:network:Subnet",
  nat: "azure-native:network:NatGateway",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  role: "azure-native:authorization:RoleAssignment",
  vault: "azure-native:keyvault:Vault",
  key: "azure-native:keyvault:Key",
  cluster: "azure-native:containerservice:ManagedCluster",
  pool: "azure-native:containerservice:AgentPool",
  lock: "azure-native:authorization:ManagementLockByScope",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  component: "es1:clusters:Aks",
};

const AZURE = { provider: "aks", region: "westeurope" };
const ADMINS = "00000000-0000-0000-0000-0000000000aa";

describe("AKS cluster", () => {
  describe("prod, new VNet, GPU pool, private API through a bastion, Entra ID admins", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("prod", {
        ...AZURE,
        endpoint: { private: true, bastion: true },
        entraAdminGroupIds: [ADMINS],
        nodePools: { aiml: { acceleratorType: "nvidia-t4" }, infrastructure: { diskSizeGb: 512 } },
      });
    });

    it("creates a resource group, a VNet whose node subnet leaves by a NAT gateway, and a control-plane identity", () => {
      assert.strictEqual(run.one(T.group).inputs.resourceGroupName, "aks-prod-rg");
      assert.deepStrictEqual(at(run.one(T.vnet).inputs, "addressSpace.addressPrefixes"), ["10.40.0.0/16"]);
      const subnet = run.one(T.subnet).inputs;
      assert.strictEqual(subnet.addressPrefix, "10.40.0.0/17");
      assert.strictEqual(at(subnet, "natGateway.id"), "cluster-nat-id");
      assert.strictEqual(subnet.defaultOutboundAccess, false);
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(at(c, "identity.userAssignedIdentities"), ["cluster-identity-id"]);
      assert.strictEqual(at(c, "networkProfile.outboundType"), "userAssignedNATGateway");
    });

    it("enforces NetworkPolicy with Cilium on Azure CNI overlay", () => {
      const net = at(run.one(T.cluster).inputs, "networkProfile") as Record<string, unknown>;
      assert.strictEqual(net.networkPlugin, "azure");
      assert.strictEqual(net.networkPluginMode, "overlay");
      assert.strictEqual(net.networkPolicy, "cilium");
      assert.strictEqual(net.networkDataplane, "cilium");
      assert.strictEqual(net.podCidr, "10.244.0.0/16");
      assert.strictEqual(net.dnsServiceIP, "10.41.0.10");
    });

    it("is private, with workload identity, Key Vault KMS, Entra ID admins and no local accounts", () => {
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(at(c, "apiServerAccessProfile.enablePrivateCluster"), true);
      assert.deepStrictEqual(c.oidcIssuerProfile, { enabled: true });
      assert.deepStrictEqual(at(c, "securityProfile.workloadIdentity"), { enabled: true });
      assert.deepStrictEqual(at(c, "securityProfile.azureKeyVaultKms"), {
        enabled: true,
        keyId: "https://es1kms.vault.azure.net/keys/es1-secrets/0123456789abcdef0123456789abcdef",
        keyVaultNetworkAccess: "Public",
      });
      assert.strictEqual(at(run.one(T.vault).inputs, "properties.enablePurgeProtection"), true);
      assert.deepStrictEqual(c.aadProfile, {
        managed: true,
        enableAzureRBAC: true,
        adminGroupObjectIDs: [ADMINS],
      });
      assert.strictEqual(c.disableLocalAccounts, true);
      assert.deepStrictEqual(at(c, "sku.tier"), "Standard");
      const roles = run.byType(T.role).map((r) => String(r.inputs.roleDefinitionId).split("/").pop());
      assert.deepStrictEqual(roles.sort(), [
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "4d97b98b-1d4f-4787-a291-c67834d212e7",
      ]);
    });

    it("locks the production cluster against deletion", () => {
      const lock = run.one(T.lock).inputs;
      assert.strictEqual(lock.level, "CanNotDelete");
      assert.strictEqual(lock.scope, "cluster-id");
    });

    it("runs the system pool in the cluster and the others as user pools with their labels and taints", () => {
      const system = at(run.one(T.cluster).inputs, "agentPoolProfiles.0") as Record<string, unknown>;
      assert.strictEqual(system.mode, "System");
      assert.deepStrictEqual(system.nodeLabels, { "es1-pool": "system" });
      assert.deepStrictEqual(system.nodeTaints, []);
      assert.deepStrictEqual(system.availabilityZones, ["1", "2", "3"]);
      assert.strictEqual(system.enableNodePublicIP, false);
      const pools = byName(run, T.pool);
      assert.deepStrictEqual(Object.keys(pools).sort(), [
        "cluster-aiml",
        "cluster-infrastructure",
        "cluster-platform",
      ]);
      const infra = pools["cluster-infrastructure"].inputs;
      assert.strictEqual(infra.agentPoolName, "infra");
      assert.strictEqual(infra.mode, "User");
      assert.deepStrictEqual(infra.nodeTaints, ["es1-pool=infrastructure:NoSchedule"]);
      assert.strictEqual(infra.osDiskSizeGB, 512);
      assert.deepStrictEqual([infra.minCount, infra.maxCount, infra.enableAutoScaling], [3, 6, true]);
      const aiml = pools["cluster-aiml"].inputs;
      assert.strictEqual(aiml.vmSize, "Standard_NC4as_T4_v3");
      assert.deepStrictEqual(aiml.nodeTaints, ["nvidia.com/gpu=present:NoSchedule"]);
      assert.deepStrictEqual(aiml.gpuProfile, { driver: "Install" });
      assert.strictEqual(aiml.minCount, 0);
      run.one(T.daemonSet);
    });

    it("tags every resource for cost allocation", () => {
      const tags = { "es1-stack": "aks-prod", "es1-environment": "prod" };
      for (const type of [T.group, T.vnet, T.nat, T.cluster, T.pool, T.vault]) {
        for (const r of run.byType(type)) assert.deepStrictEqual(r.inputs.tags, tags, `${r.name}`);
      }
    });

    it("hands out the user kubeconfig as a secret, signing in with the Azure CLI instead of a device code", () => {
      const kubeconfig = assertSecretKubeconfig(run, "cluster-id");
      assert.match(kubeconfig, /- --login\n\s+- azurecli/);
      assert.doesNotMatch(kubeconfig, /devicecode/);
      assert.strictEqual(run.outputs.storageClass, "managed-csi-premium");
      assert.strictEqual(run.outputs.cloud, "aks");
      run.one(T.component);
    });
  });

  describe("dev, existing subnet, no GPU, public API with authorized networks, Calico", () => {
    let run: ProgramRun;
    const subnetId =
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub/subnets/aks";
    before(async () => {
      run = await runCluster("dev", {
        ...AZURE,
        networkPolicy: "calico",
        endpoint: { authorizedNetworks: ["203.0.113.0/24"] },
        network: { existing: { subnetId, outboundType: "userDefinedRouting" } },
      });
    });

    it("creates no network, puts nodes in the given subnet and routes egress as told", () => {
      assert.strictEqual(run.byType(T.vnet).length, 0);
      assert.strictEqual(run.byType(T.nat).length, 0);
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(at(c, "agentPoolProfiles.0.vnetSubnetID"), subnetId);
      assert.strictEqual(at(c, "networkProfile.outboundType"), "userDefinedRouting");
      assert.strictEqual(at(c, "networkProfile.networkPolicy"), "calico");
      assert.strictEqual(at(c, "networkProfile.networkDataplane"), "azure");
      assert.strictEqual(run.one(T.role).inputs.scope, subnetId);
    });

    it("authorizes only the given ranges, without lock, KMS or Entra ID, on the free tier", () => {
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(at(c, "apiServerAccessProfile.authorizedIPRanges"), ["203.0.113.0/24"]);
      assert.strictEqual(at(c, "apiServerAccessProfile.enablePrivateCluster"), false);
      assert.strictEqual(run.byType(T.lock).length, 0);
      assert.strictEqual(run.byType(T.vault).length, 0);
      assert.strictEqual(at(c, "securityProfile.azureKeyVaultKms"), undefined);
      assert.strictEqual(c.disableLocalAccounts, false);
      assert.strictEqual(at(c, "sku.tier"), "Free");
      assert.strictEqual(run.byType(T.pool).length, 2);
      assert.strictEqual(run.byType(T.daemonSet).length, 0);
      assert.match(assertSecretKubeconfig(run, "cluster-id"), /client-certificate-data/);
    });
  });

  describe("dev, new VNet with NAT and authorized networks", () => {
    it("authorizes the NAT gateway's address too, so nodes reach the public API", async () => {
      const run = await runCluster("dev", { ...AZURE, endpoint: { authorizedNetworks: ["203.0.113.0/24"] } });
      assert.deepStrictEqual(at(run.one(T.cluster).inputs, "apiServerAccessProfile.authorizedIPRanges"), [
        "203.0.113.0/24",
        "203.0.113.20/32",
      ]);
    });
  });

  describe("dev, new air-gapped VNet", () => {
    it("creates no NAT and makes the cluster network isolated, pulling its images through the cache", async () => {
      const run = await runCluster("dev", { ...AZURE, network: { nat: false }, kubernetesVersion: "1.33.5" });
      assert.strictEqual(run.byType(T.nat).length, 0);
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(at(c, "networkProfile.outboundType"), "none");
      assert.deepStrictEqual(c.bootstrapProfile, { artifactSource: "Cache" });
      assert.strictEqual(c.kubernetesVersion, "1.33.5");
      assert.strictEqual(at(c, "autoUpgradeProfile.upgradeChannel"), "none");
    });
  });
});
