import * as assert from "assert";
import { ProgramRun } from "./harness";
import { assertSecretKubeconfig, at, byName, runCluster } from "./cluster-helpers";

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  nat: "aws:ec2/natGateway:NatGateway",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  cluster: "aws:eks/cluster:Cluster",
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  addon: "aws:eks/addon:Addon",
  key: "aws:kms/key:Key",
  apiRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  accessEntry: "aws:eks/accessEntry:AccessEntry",
  accessPolicy: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  provider: "pulumi:providers:aws",
  component: "es1:clusters:Eks",
};

const AWS = { provider: "eks", region: "eu-west-1", accountId: "123456789012" };

describe("EKS cluster", () => {
  describe("prod, new VPC, GPU pool, private endpoint with authorized networks", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("prod", {
        ...AWS,
        endpoint: { private: true, authorizedNetworks: ["10.8.0.0/16"] },
        nodePools: { aiml: { acceleratorType: "nvidia-a10g", machineType: "g5.2xlarge" } },
        adminPrincipals: ["arn:aws:iam::123456789012:role/platform-admins"],
      });
    });

    it("creates a VPC with a private and a public subnet per zone and a NAT gateway per zone", () => {
      assert.strictEqual(run.one(T.vpc).inputs.cidrBlock, "10.0.0.0/16");
      const subnets = byName(run, T.subnet);
      assert.strictEqual(subnets["cluster-private-eu-west-1a"].inputs.cidrBlock, "10.0.0.0/18");
      assert.strictEqual(subnets["cluster-private-eu-west-1c"].inputs.cidrBlock, "10.0.128.0/18");
      assert.strictEqual(subnets["cluster-public-eu-west-1b"].inputs.cidrBlock, "10.0.208.0/20");
      assert.strictEqual(
        (subnets["cluster-private-eu-west-1a"].inputs.tags as Record<string, string>)[
          "kubernetes.io/role/internal-elb"
        ],
        "1",
      );
      assert.strictEqual(
        (subnets["cluster-public-eu-west-1a"].inputs.tags as Record<string, string>)[
          "kubernetes.io/role/elb"
        ],
        "1",
      );
      assert.strictEqual(run.byType(T.nat).length, 3);
      assert.strictEqual(run.byType(T.endpoint).length, 0);
    });

    it("uses access entries, a private-only endpoint open to the authorized networks, KMS, deletion protection", () => {
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(c.name, "eks-prod");
      assert.strictEqual(c.version, "1.33");
      assert.deepStrictEqual(c.accessConfig, {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: true,
      });
      assert.strictEqual(at(c, "vpcConfig.endpointPublicAccess"), false);
      assert.strictEqual(at(c, "vpcConfig.endpointPrivateAccess"), true);
      assert.deepStrictEqual(at(c, "encryptionConfig.resources"), ["secrets"]);
      assert.strictEqual(
        at(c, "encryptionConfig.provider.keyArn"),
        "arn:aws:mock::123456789012:cluster-secrets",
      );
      assert.strictEqual(run.one(T.key).inputs.enableKeyRotation, true);
      assert.strictEqual(c.deletionProtection, true);
      assert.strictEqual(c.bootstrapSelfManagedAddons, false);
      const rule = run.one(T.apiRule).inputs;
      assert.deepStrictEqual(
        [rule.cidrIpv4, rule.fromPort, rule.securityGroupId],
        ["10.8.0.0/16", 443, "sg-0123456789abcdef0"],
      );
      assert.strictEqual(
        run.one(T.accessEntry).inputs.principalArn,
        "arn:aws:iam::123456789012:role/platform-admins",
      );
      assert.match(String(run.one(T.accessPolicy).inputs.policyArn), /AmazonEKSClusterAdminPolicy$/);
    });

    it("enforces NetworkPolicy in the VPC CNI and binds the EBS CSI driver to its role through Pod Identity", () => {
      const addons = Object.fromEntries(run.byType(T.addon).map((a) => [a.inputs.addonName, a.inputs]));
      assert.deepStrictEqual(Object.keys(addons).sort(), [
        "aws-ebs-csi-driver",
        "coredns",
        "eks-pod-identity-agent",
        "kube-proxy",
        "vpc-cni",
      ]);
      assert.deepStrictEqual(JSON.parse(String(addons["vpc-cni"].configurationValues)), {
        enableNetworkPolicy: "true",
      });
      assert.deepStrictEqual(addons["aws-ebs-csi-driver"].podIdentityAssociations, [
        { roleArn: "arn:aws:mock::123456789012:cluster-ebs-csi", serviceAccount: "ebs-csi-controller-sa" },
      ]);
      assert.strictEqual(run.byType(T.oidc).length, 0);
    });

    it("gives each managed node group its labels and taints in private subnets, the aiml group the NVIDIA AMI", () => {
      const groups = byName(run, T.nodeGroup);
      assert.deepStrictEqual(Object.keys(groups).sort(), [
        "cluster-aiml",
        "cluster-infrastructure",
        "cluster-platform",
        "cluster-system",
      ]);
      assert.deepStrictEqual(groups["cluster-platform"].inputs.taints, [
        { key: "es1-pool", value: "platform", effect: "NO_SCHEDULE" },
      ]);
      assert.deepStrictEqual(groups["cluster-platform"].inputs.labels, { "es1-pool": "platform" });
      assert.deepStrictEqual(groups["cluster-platform"].inputs.scalingConfig, {
        minSize: 3,
        maxSize: 12,
        desiredSize: 3,
      });
      assert.deepStrictEqual(groups["cluster-system"].inputs.taints, []);
      const aiml = groups["cluster-aiml"].inputs;
      assert.strictEqual(aiml.amiType, "AL2023_x86_64_NVIDIA");
      assert.deepStrictEqual(aiml.instanceTypes, ["g5.2xlarge"]);
      assert.deepStrictEqual(aiml.taints, [
        { key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" },
      ]);
      assert.strictEqual(groups["cluster-system"].inputs.amiType, "AL2023_x86_64_STANDARD");
      assert.strictEqual((aiml.subnetIds as string[]).length, 3);
      assert.match(String((aiml.subnetIds as string[])[0]), /private/);
      const template = byName(run, T.launchTemplate)["cluster-infrastructure"].inputs;
      assert.deepStrictEqual(at(template, "blockDeviceMappings.0.ebs"), {
        volumeSize: 200,
        volumeType: "gp3",
        encrypted: "true",
        deleteOnTermination: "true",
      });
      assert.strictEqual(at(template, "metadataOptions.httpTokens"), "required");
      const daemonSet = run.one(T.daemonSet).inputs;
      assert.deepStrictEqual(at(daemonSet, "spec.template.spec.nodeSelector"), {
        "es1-pool": "aiml",
        "nvidia.com/gpu.present": "true",
      });
    });

    it("creates the default encrypted gp3 StorageClass through the cluster's provider, retaining prod volumes", () => {
      const sc = run.one(T.storageClass).inputs;
      assert.strictEqual(at(sc, "metadata.name"), "gp3");
      assert.strictEqual(
        (at(sc, "metadata.annotations") as Record<string, string>)[
          "storageclass.kubernetes.io/is-default-class"
        ],
        "true",
      );
      assert.strictEqual(sc.provisioner, "ebs.csi.aws.com");
      assert.strictEqual(sc.volumeBindingMode, "WaitForFirstConsumer");
      assert.strictEqual(sc.reclaimPolicy, "Retain");
      assert.deepStrictEqual(sc.parameters, {
        type: "gp3",
        encrypted: "true",
        "csi.storage.k8s.io/fstype": "ext4",
      });
      assert.strictEqual(run.outputs.storageClass, "gp3");
      assert.strictEqual(run.outputs.cloud, "eks");
    });

    it("tags every resource for cost allocation and refuses other accounts' credentials", () => {
      const p = run.one(T.provider).inputs;
      assert.deepStrictEqual(JSON.parse(String(p.defaultTags)), {
        tags: { "es1-stack": "eks-prod", "es1-environment": "prod" },
      });
      assert.deepStrictEqual(JSON.parse(String(p.allowedAccountIds)), ["123456789012"]);
      const template = run.byType(T.launchTemplate)[0].inputs;
      assert.strictEqual(at(template, "tagSpecifications.0.tags.es1-stack"), "eks-prod");
    });

    it("hands out a secret kubeconfig that gets tokens from aws eks get-token", () => {
      const kubeconfig = JSON.parse(
        assertSecretKubeconfig(run, "arn:aws:mock::123456789012:cluster"),
      ) as unknown;
      assert.strictEqual(at(kubeconfig, "users.0.user.exec.command"), "aws");
      assert.deepStrictEqual(at(kubeconfig, "users.0.user.exec.args"), [
        "--region",
        "eu-west-1",
        "eks",
        "get-token",
        "--cluster-name",
        "eks-prod",
        "--output",
        "json",
      ]);
      run.one(T.component);
    });
  });

  describe("dev, existing VPC, no GPU, public endpoint, IRSA", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("dev", {
        ...AWS,
        workloadIdentity: false,
        endpoint: { authorizedNetworks: ["203.0.113.0/24"] },
        network: {
          existing: {
            vpcId: "vpc-0123456789abcdef0",
            privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
          },
        },
      });
    });

    it("creates no network and places the cluster in the given private subnets", () => {
      assert.strictEqual(run.byType(T.vpc).length, 0);
      assert.strictEqual(run.byType(T.subnet).length, 0);
      const c = run.one(T.cluster).inputs;
      assert.deepStrictEqual(at(c, "vpcConfig.subnetIds"), [
        "subnet-0aaaaaaaaaaaaaaaa",
        "subnet-0bbbbbbbbbbbbbbbb",
      ]);
      assert.deepStrictEqual(run.byType(T.nodeGroup)[0].inputs.subnetIds, [
        "subnet-0aaaaaaaaaaaaaaaa",
        "subnet-0bbbbbbbbbbbbbbbb",
      ]);
    });

    it("opens the public endpoint to the authorized networks only, without KMS key or deletion protection", () => {
      const c = run.one(T.cluster).inputs;
      assert.strictEqual(at(c, "vpcConfig.endpointPublicAccess"), true);
      assert.deepStrictEqual(at(c, "vpcConfig.publicAccessCidrs"), ["203.0.113.0/24"]);
      assert.strictEqual(c.encryptionConfig, undefined);
      assert.strictEqual(run.byType(T.key).length, 0);
      assert.strictEqual(c.deletionProtection, false);
      assert.strictEqual(run.byType(T.apiRule).length, 0);
    });

    it("binds the EBS CSI driver through IRSA, deletes dev volumes with their claims, runs no device plugin", () => {
      const oidc = run.one(T.oidc).inputs;
      assert.deepStrictEqual(oidc.clientIdLists, ["sts.amazonaws.com"]);
      const ebs = run.byType(T.addon).find((a) => a.inputs.addonName === "aws-ebs-csi-driver");
      assert.strictEqual(ebs?.inputs.serviceAccountRoleArn, "arn:aws:mock::123456789012:cluster-ebs-csi");
      assert.ok(!run.byType(T.addon).some((a) => a.inputs.addonName === "eks-pod-identity-agent"));
      assert.strictEqual(run.one(T.storageClass).inputs.reclaimPolicy, "Delete");
      assert.strictEqual(run.byType(T.daemonSet).length, 0);
      assert.strictEqual(run.byType(T.nodeGroup).length, 3);
      assert.deepStrictEqual(
        run.byType(T.nodeGroup).find((g) => g.name === "cluster-system")?.inputs.instanceTypes,
        ["t3.large"],
      );
    });
  });

  describe("dev, new air-gapped VPC, private endpoint through a bastion", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("dev", {
        ...AWS,
        network: { cidr: "10.30.0.0/16", nat: false },
        endpoint: { private: true, bastion: true },
      });
    });

    it("reaches AWS APIs through VPC endpoints instead of NAT", () => {
      assert.strictEqual(run.byType(T.nat).length, 0);
      const endpoints = run.byType(T.endpoint).map((e) => String(e.inputs.serviceName));
      for (const service of ["s3", "ecr.api", "ecr.dkr", "sts", "ec2", "eks-auth"]) {
        assert.ok(endpoints.includes(`com.amazonaws.eu-west-1.${service}`), `no ${service} endpoint`);
      }
      assert.strictEqual(
        run.byType(T.subnet).length,
        4,
        "two zones in dev: a private and a public subnet each",
      );
    });

    it("admits the whole VPC to the private endpoint for the bastion", () => {
      const rule = run.one(T.apiRule).inputs;
      assert.strictEqual(rule.cidrIpv4, "10.30.0.0/16");
      assert.strictEqual(at(run.one(T.cluster).inputs, "vpcConfig.endpointPublicAccess"), false);
    });
  });
});
