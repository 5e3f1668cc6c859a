import * as assert from "assert";
import { ProgramRun } from "./harness";
import { assertSecretKubeconfig, at, byName, runCluster } from "./cluster-helpers";

const T = {
  network: "gcp:compute/network:Network",
  subnetwork: "gcp:compute/subnetwork:Subnetwork",
  nat: "gcp:compute/routerNat:RouterNat",
  router: "gcp:compute/router:Router",
  cluster: "gcp:container/cluster:Cluster",
  pool: "gcp:container/nodePool:NodePool",
  key: "gcp:kms/cryptoKey:CryptoKey",
  keyGrant: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
  account: "gcp:serviceaccount/account:Account",
  iam: "gcp:projects/iAMMember:IAMMember",
  provider: "pulumi:providers:gcp",
  component: "es1:clusters:Gke",
};

const GCP = { provider: "gke", project: "acme-es1-prod", region: "europe-west1" };

describe("GKE cluster", () => {
  describe("prod, new network, GPU pool, private endpoint with authorized networks", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster(
        "prod",
        {
          ...GCP,
          zones: ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
          endpoint: { private: true, authorizedNetworks: ["10.8.0.0/16"] },
          nodePools: { aiml: { acceleratorType: "nvidia-l4" }, platform: { maxNodes: 20 } },
          tags: { "cost-center": "cc-42" },
        },
        "gcp-prod",
      );
    });

    it("creates a VPC-native subnetwork with pod and service ranges, Private Google Access and Cloud NAT", () => {
      run.one(T.network);
      const subnet = run.one(T.subnetwork).inputs;
      assert.strictEqual(subnet.ipCidrRange, "10.10.0.0/20");
      assert.strictEqual(subnet.privateIpGoogleAccess, true);
      assert.deepStrictEqual(subnet.secondaryIpRanges, [
        { rangeName: "pods", ipCidrRange: "10.16.0.0/14" },
        { rangeName: "services", ipCidrRange: "10.20.0.0/20" },
      ]);
      run.one(T.router);
      assert.strictEqual(
        run.one(T.nat).inputs.sourceSubnetworkIpRangesToNat,
        "ALL_SUBNETWORKS_ALL_IP_RANGES",
      );
    });

    it("enforces NetworkPolicy with Dataplane V2, private nodes and endpoint, authorized networks", () => {
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(run.one(T.cluster).name, "cluster");
      assert.strictEqual(c.name, "gcp-prod");
      assert.strictEqual(c.datapathProvider, "ADVANCED_DATAPATH");
      assert.strictEqual(c.networkingMode, "VPC_NATIVE");
      assert.deepStrictEqual(c.ipAllocationPolicy, {
        clusterSecondaryRangeName: "pods",
        servicesSecondaryRangeName: "services",
      });
      assert.deepStrictEqual(c.privateClusterConfig, {
        enablePrivateNodes: true,
        enablePrivateEndpoint: true,
      });
      assert.deepStrictEqual(c.masterAuthorizedNetworksConfig, {
        cidrBlocks: [{ cidrBlock: "10.8.0.0/16", displayName: "es1" }],
        gcpPublicCidrsAccessEnabled: false,
      });
      assert.strictEqual(c.location, "europe-west1");
      assert.strictEqual(c.removeDefaultNodePool, true);
    });

    it("turns on Workload Identity, KMS secrets encryption, deletion protection, the stable channel and a pinned version", () => {
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(c.workloadIdentityConfig, { workloadPool: "acme-es1-prod.svc.id.goog" });
      assert.strictEqual(at(c, "databaseEncryption.state"), "ENCRYPTED");
      assert.strictEqual(at(c, "databaseEncryption.keyName"), `${run.one(T.key).name}-id`);
      assert.strictEqual(run.one(T.key).inputs.rotationPeriod, "7776000s");
      assert.strictEqual(
        run.one(T.keyGrant).inputs.member,
        "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com",
      );
      assert.strictEqual(c.deletionProtection, true);
      assert.deepStrictEqual(c.releaseChannel, { channel: "STABLE" });
      assert.strictEqual(c.minMasterVersion, "1.33");
    });

    it("gives each pool its ES1 labels and taints, prod sizes, and the aiml pool L4 GPUs with drivers", () => {
      const pools = byName(run, T.pool);
      assert.deepStrictEqual(Object.keys(pools).sort(), [
        "cluster-aiml",
        "cluster-infrastructure",
        "cluster-platform",
        "cluster-system",
      ]);
      assert.deepStrictEqual(at(pools["cluster-system"].inputs, "nodeConfig.taints"), []);
      assert.deepStrictEqual(at(pools["cluster-infrastructure"].inputs, "nodeConfig.labels"), {
        "es1-pool": "infrastructure",
      });
      assert.deepStrictEqual(at(pools["cluster-infrastructure"].inputs, "nodeConfig.taints"), [
        { key: "es1-pool", value: "infrastructure", effect: "NO_SCHEDULE" },
      ]);
      assert.strictEqual(
        at(pools["cluster-infrastructure"].inputs, "nodeConfig.machineType"),
        "n2-standard-8",
      );
      assert.strictEqual(at(pools["cluster-infrastructure"].inputs, "nodeConfig.diskType"), "pd-ssd");
      assert.deepStrictEqual(at(pools["cluster-platform"].inputs, "autoscaling"), {
        totalMinNodeCount: 3,
        totalMaxNodeCount: 20,
        locationPolicy: "BALANCED",
      });
      const aiml = pools["cluster-aiml"].inputs;
      assert.deepStrictEqual(at(aiml, "nodeConfig.taints"), [
        { key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" },
      ]);
      assert.strictEqual(
        (at(aiml, "nodeConfig.labels") as Record<string, string>)["nvidia.com/gpu.present"],
        "true",
      );
      assert.strictEqual(at(aiml, "nodeConfig.machineType"), "g2-standard-8");
      assert.deepStrictEqual(at(aiml, "nodeConfig.guestAccelerators"), [
        { type: "nvidia-l4", count: 1, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } },
      ]);
      assert.deepStrictEqual(at(aiml, "nodeLocations"), [
        "europe-west1-b",
        "europe-west1-c",
        "europe-west1-d",
      ]);
      for (const pool of Object.values(pools)) {
        assert.deepStrictEqual(at(pool.inputs, "nodeConfig.workloadMetadataConfig"), {
          mode: "GKE_METADATA",
        });
        assert.match(String(at(pool.inputs, "nodeConfig.serviceAccount")), /^gcp-prod-nodes@/);
      }
    });

    it("runs nodes as their own least-privilege service account", () => {
      assert.strictEqual(run.one(T.account).inputs.accountId, "gcp-prod-nodes");
      assert.deepStrictEqual(
        run
          .byType(T.iam)
          .map((m) => m.inputs.role)
          .sort(),
        ["roles/artifactregistry.reader", "roles/container.defaultNodeServiceAccount"],
      );
    });

    it("labels every resource for cost allocation", () => {
      const labels = { "cost-center": "cc-42", "es1-stack": "gcp-prod", "es1-environment": "prod" };
      assert.deepStrictEqual(run.one(T.provider).inputs.defaultLabels, JSON.stringify(labels));
      assert.deepStrictEqual(run.one(T.cluster).inputs.resourceLabels, labels);
      assert.deepStrictEqual(at(run.byType(T.pool)[0].inputs, "nodeConfig.resourceLabels"), labels);
    });

    it("hands out a secret exec kubeconfig and the standard-rwo StorageClass, children under the component", () => {
      const kubeconfig = JSON.parse(assertSecretKubeconfig(run, "cluster-id")) as Record<string, unknown>;
      assert.strictEqual(at(kubeconfig, "users.0.user.exec.command"), "gke-gcloud-auth-plugin");
      assert.strictEqual(at(kubeconfig, "clusters.0.cluster.server"), "https://203.0.113.10");
      assert.strictEqual(run.outputs.cloud, "gke");
      assert.strictEqual(run.outputs.storageClass, "standard-rwo");
      run.one(T.component);
    });
  });

  describe("dev, existing network, no GPU, public endpoint", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("dev", {
        ...GCP,
        network: {
          existing: {
            network: "projects/acme-net/global/networks/shared",
            subnetwork: "projects/acme-net/regions/europe-west1/subnetworks/es1",
            podsRangeName: "es1-pods",
            servicesRangeName: "es1-services",
          },
        },
      });
    });

    it("uses the given network and ranges and creates none", () => {
      assert.strictEqual(run.byType(T.network).length, 0);
      assert.strictEqual(run.byType(T.subnetwork).length, 0);
      assert.strictEqual(run.byType(T.nat).length, 0);
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(c.network, "projects/acme-net/global/networks/shared");
      assert.strictEqual(c.subnetwork, "projects/acme-net/regions/europe-west1/subnetworks/es1");
      assert.deepStrictEqual(c.ipAllocationPolicy, {
        clusterSecondaryRangeName: "es1-pods",
        servicesSecondaryRangeName: "es1-services",
      });
    });

    it("keeps nodes private with a public endpoint, no deletion protection nor KMS key, the regular channel, dev sizes", () => {
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(c.privateClusterConfig, {
        enablePrivateNodes: true,
        enablePrivateEndpoint: false,
      });
      assert.strictEqual(c.masterAuthorizedNetworksConfig, undefined);
      assert.strictEqual(c.deletionProtection, false);
      assert.deepStrictEqual(c.databaseEncryption, { state: "DECRYPTED" });
      assert.strictEqual(run.byType(T.key).length, 0);
      assert.deepStrictEqual(c.releaseChannel, { channel: "REGULAR" });
      const pools = byName(run, T.pool);
      assert.deepStrictEqual(Object.keys(pools).sort(), [
        "cluster-infrastructure",
        "cluster-platform",
        "cluster-system",
      ]);
      assert.strictEqual(at(pools["cluster-system"].inputs, "nodeConfig.machineType"), "e2-standard-2");
      assert.strictEqual(at(pools["cluster-system"].inputs, "autoscaling.totalMinNodeCount"), 1);
    });
  });

  describe("dev, new air-gapped network, private endpoint through a bastion", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("dev", {
        ...GCP,
        regional: false,
        zones: ["europe-west1-b"],
        kubernetesVersion: "1.33.5-gke.1080000",
        releaseChannel: "none",
        storageClass: "premium-rwo",
        network: { nat: false, cidr: "10.60.0.0/20" },
        endpoint: { private: true, bastion: true },
        secretsEncryption: {
          keyId: "projects/acme-kms/locations/europe-west1/keyRings/es1/cryptoKeys/etcd",
          enabled: true,
        },
      });
    });

    it("creates no NAT and admits only the cluster network to the private endpoint", () => {
      assert.strictEqual(run.byType(T.router).length, 0);
      assert.strictEqual(run.byType(T.nat).length, 0);
      assert.strictEqual(run.one(T.subnetwork).inputs.ipCidrRange, "10.60.0.0/20");
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(c.masterAuthorizedNetworksConfig, {
        cidrBlocks: [],
        gcpPublicCidrsAccessEnabled: false,
      });
      assert.strictEqual(at(c, "privateClusterConfig.enablePrivateEndpoint"), true);
    });

    it("is zonal, pins the GKE build without a channel, and uses the configured KMS key and StorageClass", () => {
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(c.location, "europe-west1-b");
      assert.strictEqual(c.minMasterVersion, "1.33.5-gke.1080000");
      assert.deepStrictEqual(c.releaseChannel, { channel: "UNSPECIFIED" });
      assert.deepStrictEqual(c.databaseEncryption, {
        state: "ENCRYPTED",
        keyName: "projects/acme-kms/locations/europe-west1/keyRings/es1/cryptoKeys/etcd",
      });
      assert.strictEqual(run.byType(T.key).length, 0);
      assert.strictEqual(run.outputs.storageClass, "premium-rwo");
    });
  });
});
