import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CloudClusterSettings, CLUSTER_KEYS } from "../../config";
import { PROJECT_ROOT } from "../../lib/paths";
import { ProgramFailed, runProgram } from "./harness";
import { assertRefused, settingsOf } from "./cluster-helpers";

const GKE = { provider: "gke", project: "acme-es1", region: "europe-west1" };
const EKS = { provider: "eks", region: "eu-west-1" };
const AKS = { provider: "aks", region: "westeurope" };
const EXISTING_VPC = {
  vpcId: "vpc-0123456789abcdef0",
  privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
};

function cloud(environment: "dev" | "prod", cluster: Record<string, unknown>): CloudClusterSettings {
  const s = settingsOf({ environment, cluster }).cluster;
  assert.notStrictEqual(s.provider, "existing");
  return s as CloudClusterSettings;
}

describe("Cluster settings", () => {
  describe("defaults", () => {
    it("sizes dev and prod pools differently and lets each pool override any default", () => {
      const dev = cloud("dev", EKS).nodePools;
      const prod = cloud("prod", {
        ...EKS,
        nodePools: { platform: { machineType: "m7i.4xlarge", maxNodes: 30 } },
      }).nodePools;
      assert.deepStrictEqual(dev.system, {
        machineType: "t3.large",
        diskType: "gp3",
        diskSizeGb: 50,
        minNodes: 1,
        maxNodes: 2,
      });
      assert.strictEqual(prod.system.minNodes, 3);
      assert.deepStrictEqual(prod.platform, {
        machineType: "m7i.4xlarge",
        diskType: "gp3",
        diskSizeGb: 100,
        minNodes: 3,
        maxNodes: 30,
      });
      assert.strictEqual(dev.aiml, undefined);
    });

    it("protects prod clusters from deletion, encrypts their Secrets with a KMS key, keeps dev cheap", () => {
      const prod = cloud("prod", GKE);
      const dev = cloud("dev", GKE);
      assert.deepStrictEqual([prod.deletionProtection, prod.secretsEncryption.enabled], [true, true]);
      assert.deepStrictEqual([dev.deletionProtection, dev.secretsEncryption.enabled], [false, false]);
      assert.strictEqual(cloud("prod", { ...GKE, deletionProtection: false }).deletionProtection, false);
    });

    it("makes nodes private, the endpoint public, workload identity on, and tags for cost allocation", () => {
      const s = cloud("dev", { ...AKS, tags: { team: "ml" } });
      assert.strictEqual(s.privateNodes, true);
      assert.deepStrictEqual(s.endpoint, { private: false, authorizedNetworks: [], bastion: false });
      assert.strictEqual(s.workloadIdentity, true);
      assert.deepStrictEqual(s.tags, { team: "ml", "es1-stack": "test", "es1-environment": "dev" });
      assert.strictEqual(s.kubernetesVersion, "1.33");
      assert.strictEqual(s.storageClass, "managed-csi-premium");
    });

    it("spreads EKS over two zones in dev and three in prod, AKS prod over three zones", () => {
      assert.deepStrictEqual(cloud("dev", EKS).zones, ["eu-west-1a", "eu-west-1b"]);
      assert.deepStrictEqual(cloud("prod", EKS).zones, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
      assert.deepStrictEqual(cloud("prod", { ...AKS }).zones, ["1", "2", "3"]);
      assert.deepStrictEqual(cloud("prod", { ...AKS, zones: [1, 2] }).zones, ["1", "2"]);
    });

    it("picks the GPU pool's machine type from its accelerator", () => {
      const aiml = cloud("prod", { ...GKE, nodePools: { aiml: { acceleratorType: "nvidia-tesla-t4" } } })
        .nodePools.aiml;
      assert.deepStrictEqual(aiml, {
        machineType: "n1-standard-8",
        diskType: "pd-ssd",
        diskSizeGb: 200,
        minNodes: 0,
        maxNodes: 2,
        acceleratorType: "nvidia-tesla-t4",
        acceleratorCount: 1,
      });
    });

    it("takes an unquoted AWS account ID from YAML", () => {
      const s = cloud("dev", { ...EKS, accountId: 123456789012 });
      assert.ok(s.provider === "eks");
      assert.strictEqual(s.accountId, "123456789012");
    });
  });

  describe("refuses, naming the keys", () => {
    it("a GPU pool without an accelerator type", () =>
      assertRefused(
        { ...GKE, nodePools: { aiml: { maxNodes: 2 } } },
        /'es1:cluster\.nodePools\.aiml\.acceleratorType': required: .*GPU.*nvidia-l4/,
      ));

    it("an accelerator the cloud does not offer", () =>
      assertRefused(
        { ...EKS, nodePools: { aiml: { acceleratorType: "nvidia-l4-typo" } } },
        /'es1:cluster\.nodePools\.aiml\.acceleratorType': "nvidia-l4-typo" is not allowed; use one of: nvidia-t4, nvidia-a10g/,
      ));

    it("a GPU machine type that does not carry the accelerator", () =>
      assertRefused(
        { ...AKS, nodePools: { aiml: { acceleratorType: "nvidia-t4", machineType: "Standard_D4s_v5" } } },
        /'es1:cluster\.nodePools\.aiml\.machineType': "Standard_D4s_v5" does not carry nvidia-t4 \('es1:cluster\.nodePools\.aiml\.acceleratorType'\)/,
      ));

    it("a GPU count where the machine type decides it", () =>
      assertRefused(
        { ...EKS, nodePools: { aiml: { acceleratorType: "nvidia-t4", acceleratorCount: 2 } } },
        /'es1:cluster\.nodePools\.aiml\.acceleratorCount': unknown key/,
      ));

    it("min nodes above max nodes", () =>
      assertRefused(
        { ...GKE, nodePools: { platform: { minNodes: 5, maxNodes: 3 } } },
        /'es1:cluster\.nodePools\.platform\.minNodes': 5 is more than 'es1:cluster\.nodePools\.platform\.maxNodes' \(3\)/,
      ));

    it("a max nodes below the profile's min nodes", () =>
      assertRefused(
        { ...EKS, nodePools: { infrastructure: { maxNodes: 2 } } },
        /'es1:cluster\.nodePools\.infrastructure\.minNodes': 3 is more than 'es1:cluster\.nodePools\.infrastructure\.maxNodes' \(2\)/,
        "prod",
      ));

    it("a system pool that may scale to zero", () =>
      assertRefused(
        { ...AKS, nodePools: { system: { minNodes: 0 } } },
        /'es1:cluster\.nodePools\.system\.minNodes': 0 is out of range; use 1 to 1000/,
      ));

    it("an unknown pool name", () =>
      assertRefused(
        { ...GKE, nodePools: { gpu: { minNodes: 1 } } },
        /'es1:cluster\.nodePools\.gpu': unknown node pool; the ES1 pools are: system, infrastructure, platform, aiml/,
      ));

    it("a machine type, disk type or disk size the cloud does not have", () => {
      assertRefused(
        { ...AKS, nodePools: { platform: { machineType: "D4s_v5" } } },
        /'es1:cluster\.nodePools\.platform\.machineType': "D4s_v5" is not valid: use an Azure VM size/,
      );
      assertRefused(
        { ...GKE, nodePools: { system: { diskType: "gp3" } } },
        /'es1:cluster\.nodePools\.system\.diskType': "gp3" is not allowed; use one of: pd-balanced/,
      );
      assertRefused(
        { ...AKS, nodePools: { system: { diskSizeGb: 10 } } },
        /'es1:cluster\.nodePools\.system\.diskSizeGb': 10 is out of range; use 30 to 2048/,
      );
    });

    it("a GKE zone outside the region", () =>
      assertRefused(
        { ...GKE, zones: ["europe-west1-b", "us-central1-a"] },
        /'es1:cluster\.zones\[1\]': zone "us-central1-a" is not in region "europe-west1" \('es1:cluster\.region'\)/,
      ));

    it("an EKS zone outside the region", () =>
      assertRefused(
        { ...EKS, zones: ["eu-west-1a", "eu-west-2b"] },
        /'es1:cluster\.zones\[1\]': zone "eu-west-2b" is not in region "eu-west-1"/,
      ));

    it("an Azure zone that does not exist", () =>
      assertRefused(
        { ...AKS, zones: [1, 4] },
        /'es1:cluster\.zones\[1\]': "4" is not an Azure availability zone/,
      ));

    it("an EKS cluster in one zone", () =>
      assertRefused(
        { ...EKS, zones: ["eu-west-1a"] },
        /'es1:cluster\.zones': EKS needs .* at least two availability zones/,
      ));

    it("a zonal GKE cluster without its zone", () =>
      assertRefused(
        { ...GKE, regional: false },
        /'es1:cluster\.zones': a zonal cluster \('es1:cluster\.regional: false'\)/,
      ));

    it("a private endpoint with no authorized network or bastion path", () =>
      assertRefused(
        { ...GKE, endpoint: { private: true } },
        /'es1:cluster\.endpoint\.private': .*no path to it.*'es1:cluster\.endpoint\.authorizedNetworks'.*'es1:cluster\.endpoint\.bastion: true'/,
      ));

    it("a private endpoint with public nodes", () =>
      assertRefused(
        { ...EKS, privateNodes: false, endpoint: { private: true, bastion: true } },
        /'es1:cluster\.endpoint\.private': a private API endpoint needs private nodes; remove 'es1:cluster\.privateNodes: false'/,
      ));

    it("authorized networks on a private AKS cluster", () =>
      assertRefused(
        { ...AKS, endpoint: { private: true, authorizedNetworks: ["10.8.0.0/16"] } },
        /'es1:cluster\.endpoint\.authorizedNetworks': AKS does not support authorized IP ranges on a private cluster/,
      ));

    it("a bastion path to a public endpoint", () =>
      assertRefused(
        { ...GKE, endpoint: { bastion: true } },
        /'es1:cluster\.endpoint\.bastion': applies only to a private endpoint/,
      ));

    it("a Kubernetes version in an unknown format", () =>
      assertRefused(
        { ...GKE, kubernetesVersion: "v1.33" },
        /'es1:cluster\.kubernetesVersion': "v1\.33" is not valid: use a minor version such as 1\.33/,
      ));

    it("a patch version on EKS, which pins minor versions only", () =>
      assertRefused(
        { ...EKS, kubernetesVersion: "1.33.5" },
        /'es1:cluster\.kubernetesVersion': "1\.33\.5" is not valid: EKS pins a minor version/,
      ));

    it("a bad CIDR in the authorized networks", () =>
      assertRefused(
        { ...EKS, endpoint: { authorizedNetworks: ["203.0.113.0/24", "10.0.0.0/33"] } },
        /'es1:cluster\.endpoint\.authorizedNetworks\[1\]': "10\.0\.0\.0\/33" is not valid: expected an IPv4 CIDR block/,
      ));

    it("a CIDR with host bits set", () =>
      assertRefused(
        { ...GKE, network: { cidr: "10.10.0.1/20" } },
        /'es1:cluster\.network\.cidr': "10\.10\.0\.1\/20" is not valid: host bits are set; the network address is 10\.10\.0\.0\/20/,
      ));

    it("overlapping node, pod and service ranges", () =>
      assertRefused(
        { ...AKS, network: { podsCidr: "10.40.0.0/16" } },
        /'es1:cluster\.network\.cidr': overlaps 'es1:cluster\.network\.podsCidr'/,
      ));

    it("a VPC too small for a private and a public subnet per zone", () =>
      assertRefused(
        { ...EKS, network: { cidr: "10.0.0.0/24" } },
        /'es1:cluster\.network\.cidr': \/24 is out of range/,
      ));

    it("a new network and an existing one at once", () =>
      assertRefused(
        { ...EKS, network: { cidr: "10.0.0.0/16", existing: EXISTING_VPC } },
        /'es1:cluster\.network\.cidr': set either 'es1:cluster\.network\.cidr' \(a new network\) or 'es1:cluster\.network\.existing', not both/,
      ));

    it("NAT settings for an existing network", () =>
      assertRefused(
        { ...EKS, network: { nat: false, existing: EXISTING_VPC } },
        /'es1:cluster\.network\.nat': ES1 creates NAT only for a network of its own/,
      ));

    it("an existing EKS network with fewer than two private subnets", () =>
      assertRefused(
        {
          ...EKS,
          network: { existing: { ...EXISTING_VPC, privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa"] } },
        },
        /'es1:cluster\.network\.existing\.privateSubnetIds': list at least two private subnets/,
      ));

    it("public EKS nodes in an existing network without public subnets", () =>
      assertRefused(
        { ...EKS, privateNodes: false, network: { existing: EXISTING_VPC } },
        /'es1:cluster\.network\.existing\.publicSubnetIds': nodes with public addresses/,
      ));

    it("EKS zones next to an existing network", () =>
      assertRefused(
        { ...EKS, zones: ["eu-west-1a", "eu-west-1b"], network: { existing: EXISTING_VPC } },
        /'es1:cluster\.zones': the zones come from the subnets of the existing network/,
      ));

    it("an existing GKE subnetwork in another region", () =>
      assertRefused(
        {
          ...GKE,
          network: {
            existing: {
              network: "shared",
              subnetwork: "projects/acme-net/regions/us-east1/subnetworks/es1",
              podsRangeName: "pods",
              servicesRangeName: "services",
            },
          },
        },
        /'es1:cluster\.network\.existing\.subnetwork': the subnetwork is in region "us-east1", not the cluster's region "europe-west1"/,
      ));

    it("an existing GKE network without its secondary ranges", () =>
      assertRefused(
        {
          ...GKE,
          network: {
            existing: {
              network: "shared",
              subnetwork: "regions/europe-west1/subnetworks/es1",
              podsRangeName: "pods",
            },
          },
        },
        /'es1:cluster\.network\.existing\.servicesRangeName': required/,
      ));

    it("a KMS key in another region than the cluster", () =>
      assertRefused(
        {
          ...GKE,
          secretsEncryption: {
            enabled: true,
            keyId: "projects/p/locations/us-east1/keyRings/r/cryptoKeys/k",
          },
        },
        /'es1:cluster\.secretsEncryption\.keyId': .* the key is in "us-east1"; GKE needs a key in the cluster's region "europe-west1"/,
      ));

    it("a KMS key that is not a key ARN", () =>
      assertRefused(
        { ...EKS, secretsEncryption: { enabled: true, keyId: "alias/es1" } },
        /'es1:cluster\.secretsEncryption\.keyId': "alias\/es1" is not valid: expected a KMS key ARN/,
      ));

    it("a Key Vault key without its vault", () =>
      assertRefused(
        {
          ...AKS,
          secretsEncryption: {
            enabled: true,
            keyId: "https://es1.vault.azure.net/keys/etcd/0123456789abcdef0123456789abcdef",
          },
        },
        /'es1:cluster\.secretsEncryption\.keyVaultId': give 'es1:cluster\.secretsEncryption\.keyId' and 'es1:cluster\.secretsEncryption\.keyVaultId' together/,
      ));

    it("a key with encryption switched off", () =>
      assertRefused(
        {
          ...EKS,
          secretsEncryption: { enabled: false, keyId: "arn:aws:kms:eu-west-1:123456789012:key/0a1b" },
        },
        /'es1:cluster\.secretsEncryption\.keyId': a key is given but 'es1:cluster\.secretsEncryption\.enabled' is false/,
      ));

    it("a missing region and a region of another cloud", () => {
      assertRefused(
        { provider: "gke", project: "acme-es1" },
        /'es1:cluster\.region': required: the GKE region/,
      );
      assertRefused(
        { ...EKS, region: "europe-west1" },
        /'es1:cluster\.region': "europe-west1" is not valid: use a region name such as eu-west-1/,
      );
    });

    it("a GKE cluster without its project", () =>
      assertRefused(
        { provider: "gke", region: "europe-west1" },
        /'es1:cluster\.project': required: the ID of the Google Cloud project/,
      ));

    it("a key another provider reads", () =>
      assertRefused(
        { ...EKS, project: "acme-es1" },
        /'es1:cluster\.project': unknown key; allowed keys of 'es1:cluster': .*accountId/,
      ));

    it("a label GCP would refuse, and overriding the cost tags", () => {
      assertRefused(
        { ...GKE, tags: { Team: "ML" } },
        /'es1:cluster\.tags\.Team': .* is not a valid GCP label/,
      );
      assertRefused(
        { ...AKS, tags: { "es1-stack": "other" } },
        /'es1:cluster\.tags\.es1-stack': ES1 sets es1-stack and es1-environment itself/,
      );
    });

    it("identifiers in the wrong format", () => {
      assertRefused(
        { ...EKS, accountId: "12345" },
        /'es1:cluster\.accountId': "12345" is not valid: an AWS account ID is 12 digits/,
      );
      assertRefused(
        { ...AKS, entraAdminGroupIds: ["admins"] },
        /'es1:cluster\.entraAdminGroupIds\[0\]': "admins" is not valid: expected an Entra ID group object ID/,
      );
      assertRefused(
        { ...EKS, adminPrincipals: ["admin"] },
        /'es1:cluster\.adminPrincipals\[0\]': "admin" is not valid: expected an IAM role or user ARN/,
      );
      assertRefused(
        { ...GKE, name: "1st" },
        /'es1:cluster\.name': "1st" is not valid for GKE: start with a letter/,
      );
    });

    it("a StorageClass the cloud component does not provide", () =>
      assertRefused(
        { ...EKS, storageClass: "gp2" },
        /'es1:cluster\.storageClass': "gp2" is not allowed; use one of: gp3/,
      ));

    it("before any resource is registered", async () => {
      await assert.rejects(
        runProgram({ "es1:cluster": JSON.stringify({ ...GKE, nodePools: { aiml: {} } }) }),
        (e: unknown) => {
          assert.ok(e instanceof ProgramFailed);
          assert.match(e.message, /es1:cluster\.nodePools\.aiml\.acceleratorType/);
          assert.deepStrictEqual(e.registered, []);
          return true;
        },
      );
    });
  });
});

describe("Cluster docs", () => {
  it("document every key each cloud provider reads, and the existing provider's", () => {
    const docs = (p: string) =>
      fs.readFileSync(path.join(PROJECT_ROOT, "docs", "clusters", `${p}.md`), "utf8");
    for (const [provider, keys] of Object.entries(CLUSTER_KEYS)) {
      const page = docs(provider);
      for (const key of keys)
        assert.match(page, new RegExp("`" + key + "[`.]"), `${provider}.md lacks ${key}`);
    }
    for (const key of ["kubeconfig", "context", "storageClass", "ingressClass", "ingressAnnotations"]) {
      assert.match(docs("existing"), new RegExp("`" + key + "`"));
    }
  });
});
