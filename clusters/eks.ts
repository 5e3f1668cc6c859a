// Submodule imports: the package root costs type-checking time for every AWS service.
import { Tag as AutoscalingTag } from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { SecurityGroupIngressRule } from "@pulumi/aws/vpc";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EksClusterSettings } from "../config";
import { subnet } from "../lib/cidr";
import {
  ADDON_CHARTS,
  addonRelease,
  AddonSources,
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  clusterAutoscalerValues,
  metricsServerValues,
  scaleFromZeroTags,
} from "./addons";
import { assumeRolePolicy, kubeSystem, workloadTrust } from "./aws-identity";
import { s3BackupStore } from "./eks-backup";
import { nvidiaDevicePlugin } from "./gpu";
import { clusterProvider, execKubeconfig } from "./k8s-access";
import { configuredPools, cloudClusterContract } from "./pools";
import { BackupStoreRequest, Cluster, NODE_POOLS, Taint } from "./types";

const TAINT_EFFECTS: Record<Taint["effect"], string> = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
};

/** Interface endpoints private nodes need to join and pull images when the VPC has no NAT. */
const AIRGAP_ENDPOINTS = [
  "ec2",
  "ecr.api",
  "ecr.dkr",
  "sts",
  "eks",
  "eks-auth",
  "elasticloadbalancing",
  "logs",
];

/** The service account of the EBS CSI controller, which the driver's IAM role is bound to. */
const EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa";

/** The AWS partition of a region, for ARNs of AWS-managed policies. */
export function awsPartition(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** Graviton instance families (m7g, c6gn, ...) need the ARM AMI. */
function amiType(machineType: string, gpu: boolean): string {
  if (gpu) return "AL2023_x86_64_NVIDIA";
  return /^[a-z]+\d+g[a-z]*\./.test(machineType) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

/** What the Cluster Autoscaler may do (its chart's documented minimum for AWS). */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: "*",
      },
      {
        // Resizing only this cluster's groups.
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: "*",
        Condition: {
          StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" },
        },
      },
    ],
  });
}

interface EksNetwork {
  vpcId: pulumi.Input<string>;
  vpcCidr: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  publicSubnetIds: pulumi.Input<string>[];
  dependsOn: pulumi.Resource[];
}

/**
 * A production EKS cluster: its own VPC (public and private subnets per zone, NAT or VPC endpoints
 * for air-gapped sites) or an existing one, access-entry authentication, KMS envelope encryption of
 * Secrets, managed add-ons (VPC CNI with NetworkPolicy enforcement, EBS CSI with its own IAM role),
 * a default encrypted gp3 StorageClass, and managed node groups for the ES1 pools.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly cluster: Cluster;

  constructor(
    name: string,
    args: EksClusterSettings,
    addons: AddonSources,
    opts?: pulumi.ComponentResourceOptions,
    backupStore?: BackupStoreRequest,
  ) {
    super("es1:clusters:Eks", name, {}, opts);
    const partition = awsPartition(args.region);
    // Tags reach every AWS resource; allowedAccountIds stops a run with credentials of another account.
    const awsProvider = new AwsProvider(
      name,
      {
        region: args.region,
        allowedAccountIds: args.accountId ? [args.accountId] : undefined,
        defaultTags: { tags: args.tags },
      },
      { parent: this },
    );
    const o = { parent: this, provider: awsProvider };
    const policy = (p: string) => `arn:${partition}:iam::aws:policy/${p}`;

    const network = this.network(name, args, o);

    const clusterRole = new iam.Role(
      `${name}-cluster`,
      { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com") },
      o,
    );
    const clusterPolicy = new iam.RolePolicyAttachment(
      `${name}-cluster`,
      { role: clusterRole.name, policyArn: policy("AmazonEKSClusterPolicy") },
      o,
    );
    const encryption = this.secretsKey(name, args, clusterRole, o);

    const { endpoint } = args;
    const cluster = new eks.Cluster(
      name,
      {
        name: args.name,
        roleArn: clusterRole.arn,
        version: args.kubernetesVersion,
        vpcConfig: {
          subnetIds: network.privateSubnetIds,
          // Nodes always reach the API privately; the public endpoint is for Pulumi and people.
          endpointPrivateAccess: true,
          endpointPublicAccess: !endpoint.private,
          publicAccessCidrs: endpoint.private
            ? undefined
            : endpoint.authorizedNetworks.length > 0
              ? endpoint.authorizedNetworks
              : ["0.0.0.0/0"],
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        // The CNI, kube-proxy and CoreDNS come as managed add-ons below, configured by ES1.
        bootstrapSelfManagedAddons: false,
        encryptionConfig: encryption
          ? { provider: { keyArn: encryption.keyArn }, resources: ["secrets"] }
          : undefined,
        enabledClusterLogTypes: args.environment === "prod" ? ["api", "audit", "authenticator"] : [],
        kubernetesNetworkConfig: { ipFamily: "ipv4" },
        // Extended support costs several times standard support: upgrade instead.
        upgradePolicy: { supportType: "STANDARD" },
        deletionProtection: args.deletionProtection,
      },
      { ...o, dependsOn: [clusterPolicy, ...network.dependsOn, ...(encryption?.dependsOn ?? [])] },
    );

    this.privateEndpointAccess(name, args, cluster, network, o);
    for (const [i, principalArn] of args.adminPrincipals.entries()) {
      const entry = new eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: cluster.name, principalArn, type: "STANDARD" },
        o,
      );
      new eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        { ...o, dependsOn: [entry] },
      );
    }

    const addon = (
      addonName: string,
      extra: Partial<eks.AddonArgs> = {},
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cluster.name,
          addonName,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          ...extra,
        },
        { ...o, dependsOn },
      );
    // Nodes become Ready only once the CNI runs; its network policy agent enforces NetworkPolicy.
    const vpcCni = addon("vpc-cni", { configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }) });
    const kubeProxy = addon("kube-proxy");
    const podIdentityAgent = args.workloadIdentity ? addon("eks-pod-identity-agent") : undefined;

    const nodeGroups = this.nodeGroups(name, args, cluster, network, policy, [vpcCni, kubeProxy], o);
    const coreDns = addon("coredns", {}, nodeGroups);
    // Workloads' IAM roles: bound through Pod Identity, or through IRSA (the cluster's OIDC issuer).
    const oidcProvider = podIdentityAgent ? undefined : this.oidcProvider(name, cluster, o);
    const ebsCsi = this.ebsCsiDriver(name, policy, addon, nodeGroups, podIdentityAgent, oidcProvider, o);

    const kubeconfig = execKubeconfig({
      name: args.name,
      server: cluster.endpoint,
      caData: cluster.certificateAuthority.apply((ca) => ca.data ?? ""),
      exec: {
        command: "aws",
        args: ["--region", args.region, "eks", "get-token", "--cluster-name", args.name, "--output", "json"],
        installHint:
          "Install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
      },
    });
    const provider = clusterProvider(
      name,
      { kubeconfig, clusterId: cluster.arn },
      { parent: this, dependsOn: [...nodeGroups, coreDns, ebsCsi] },
    );

    // EKS has no default StorageClass: ES1's is encrypted gp3, and keeps volumes of prod stacks.
    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-gp3`,
      {
        metadata: {
          name: args.storageClass,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: args.environment === "prod" ? "Retain" : "Delete",
        parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      },
      { parent: this, provider },
    );
    if (args.nodePools.aiml) nvidiaDevicePlugin(`${name}-nvidia-device-plugin`, { provider, parent: this });
    // EKS ships neither a node autoscaler nor metrics-server; the platform relies on both.
    this.clusterAutoscaler(name, args, cluster, addons, provider, podIdentityAgent, oidcProvider, o);
    addonRelease("metrics-server", ADDON_CHARTS.metricsServer, metricsServerValues(addons), addons, {
      provider,
      parent: this,
    });

    const store = backupStore
      ? s3BackupStore(name, args, backupStore, cluster, { podIdentityAgent, oidcProvider }, o)
      : undefined;
    this.cluster = cloudClusterContract("eks", args, provider, kubeconfig, store);
    this.registerOutputs({
      clusterArn: cluster.arn,
      endpoint: cluster.endpoint,
      storageClass: storageClass.metadata.name,
    });
  }

  /**
   * A new VPC: per zone a private subnet (nodes, internal load balancers) and a public one (NAT,
   * internet-facing load balancers); NAT per zone or shared, or VPC endpoints when NAT is off.
   */
  private network(name: string, args: EksClusterSettings, o: pulumi.CustomResourceOptions): EksNetwork {
    const net = args.network;
    if (net.kind === "existing") {
      const vpc = ec2.getVpcOutput({ id: net.vpcId }, o);
      return {
        vpcId: net.vpcId,
        vpcCidr: vpc.cidrBlock,
        privateSubnetIds: net.privateSubnetIds,
        publicSubnetIds: net.publicSubnetIds,
        dependsOn: [],
      };
    }
    const vpc = new ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: net.cidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { Name: `${args.name}-vpc` },
      },
      o,
    );
    const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: args.name } }, o);
    const publicRoutes = new ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: { Name: `${args.name}-public` },
      },
      o,
    );
    // Private subnets get most of the space: the VPC CNI gives every pod a VPC address.
    const bits = Math.ceil(Math.log2(args.zones.length + 1));
    const publicBlock = subnet(net.cidr, bits, 2 ** bits - 1);
    const dependsOn: pulumi.Resource[] = [];
    const publicSubnets = args.zones.map((zone, i) => {
      const s = new ec2.Subnet(
        `${name}-public-${zone}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnet(publicBlock, bits, i),
          mapPublicIpOnLaunch: !args.privateNodes,
          tags: { Name: `${args.name}-public-${zone}`, "kubernetes.io/role/elb": "1" },
        },
        o,
      );
      dependsOn.push(
        new ec2.RouteTableAssociation(
          `${name}-public-${zone}`,
          { subnetId: s.id, routeTableId: publicRoutes.id },
          o,
        ),
      );
      return s;
    });
    const natGateways =
      net.nat && args.privateNodes
        ? publicSubnets.slice(0, net.natPerZone ? publicSubnets.length : 1).map((s, i) => {
            const zone = args.zones[i];
            const ip = new ec2.Eip(
              `${name}-nat-${zone}`,
              { domain: "vpc", tags: { Name: `${args.name}-nat-${zone}` } },
              o,
            );
            return new ec2.NatGateway(
              `${name}-nat-${zone}`,
              { allocationId: ip.id, subnetId: s.id, tags: { Name: `${args.name}-nat-${zone}` } },
              { ...o, dependsOn: [igw] },
            );
          })
        : [];
    const privateRouteTables: ec2.RouteTable[] = [];
    const privateSubnets = args.zones.map((zone, i) => {
      const s = new ec2.Subnet(
        `${name}-private-${zone}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnet(net.cidr, bits, i),
          tags: { Name: `${args.name}-private-${zone}`, "kubernetes.io/role/internal-elb": "1" },
        },
        o,
      );
      const nat = natGateways[Math.min(i, natGateways.length - 1)];
      const routes = new ec2.RouteTable(
        `${name}-private-${zone}`,
        {
          vpcId: vpc.id,
          routes: nat ? [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] : [],
          tags: { Name: `${args.name}-private-${zone}` },
        },
        o,
      );
      privateRouteTables.push(routes);
      dependsOn.push(
        new ec2.RouteTableAssociation(
          `${name}-private-${zone}`,
          { subnetId: s.id, routeTableId: routes.id },
          o,
        ),
      );
      return s;
    });
    if (!net.nat && args.privateNodes) {
      dependsOn.push(...this.airgapEndpoints(name, args, vpc, privateSubnets, privateRouteTables, o));
    }
    return {
      vpcId: vpc.id,
      vpcCidr: vpc.cidrBlock,
      privateSubnetIds: privateSubnets.map((s) => s.id),
      publicSubnetIds: publicSubnets.map((s) => s.id),
      dependsOn,
    };
  }

  /** Without NAT, nodes reach AWS APIs through VPC endpoints (S3 for image layers as a gateway). */
  private airgapEndpoints(
    name: string,
    args: EksClusterSettings,
    vpc: ec2.Vpc,
    subnets: ec2.Subnet[],
    routeTables: ec2.RouteTable[],
    o: pulumi.CustomResourceOptions,
  ): pulumi.Resource[] {
    const sg = new ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: "HTTPS from the VPC to AWS service endpoints",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [vpc.cidrBlock] }],
        tags: { Name: `${args.name}-endpoints` },
      },
      o,
    );
    const s3 = new ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: routeTables.map((t) => t.id),
      },
      o,
    );
    return [
      s3,
      ...AIRGAP_ENDPOINTS.map(
        (service) =>
          new ec2.VpcEndpoint(
            `${name}-${service.replace(/\./g, "-")}`,
            {
              vpcId: vpc.id,
              serviceName: `com.amazonaws.${args.region}.${service}`,
              vpcEndpointType: "Interface",
              privateDnsEnabled: true,
              subnetIds: subnets.map((s) => s.id),
              securityGroupIds: [sg.id],
            },
            o,
          ),
      ),
    ];
  }

  /** Envelope encryption of Secrets with the configured KMS key or a new rotating one. */
  private secretsKey(
    name: string,
    args: EksClusterSettings,
    clusterRole: iam.Role,
    o: pulumi.CustomResourceOptions,
  ): { keyArn: pulumi.Input<string>; dependsOn: pulumi.Resource[] } | undefined {
    const enc = args.secretsEncryption;
    if (!enc.enabled) return undefined;
    const keyArn = enc.keyId ?? this.newSecretsKey(name, args, o);
    const use = new iam.RolePolicy(
      `${name}-cluster-kms`,
      {
        role: clusterRole.name,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants"],
              Resource: keyArn,
            },
          ],
        }),
      },
      o,
    );
    return { keyArn, dependsOn: [use] };
  }

  /** A rotating KMS key with an alias; a short deletion window in dev, where stacks come and go. */
  private newSecretsKey(name: string, args: EksClusterSettings, o: pulumi.CustomResourceOptions) {
    const key = new kms.Key(
      `${name}-secrets`,
      {
        description: `ES1 ${args.name}: envelope encryption of Kubernetes Secrets`,
        enableKeyRotation: true,
        deletionWindowInDays: args.environment === "prod" ? 30 : 7,
      },
      o,
    );
    new kms.Alias(`${name}-secrets`, { name: `alias/es1-${args.name}-secrets`, targetKeyId: key.keyId }, o);
    return key.arn;
  }

  /** A private API endpoint admits HTTPS from the authorized networks, or from the whole VPC for a bastion. */
  private privateEndpointAccess(
    name: string,
    args: EksClusterSettings,
    cluster: eks.Cluster,
    network: EksNetwork,
    o: pulumi.CustomResourceOptions,
  ): void {
    if (!args.endpoint.private) return;
    const sources: [string, pulumi.Input<string>][] = args.endpoint.authorizedNetworks.map((c, i) => [
      `${i}`,
      c,
    ]);
    if (args.endpoint.bastion) sources.push(["vpc", network.vpcCidr]);
    for (const [suffix, cidrIpv4] of sources) {
      new SecurityGroupIngressRule(
        `${name}-api-${suffix}`,
        {
          securityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
          cidrIpv4,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          description: "Kubernetes API from an ES1 authorized network",
        },
        o,
      );
    }
  }

  /** One managed node group per pool, on a launch template for gp3 disks, IMDSv2 and instance tags. */
  private nodeGroups(
    name: string,
    args: EksClusterSettings,
    cluster: eks.Cluster,
    network: EksNetwork,
    policy: (p: string) => string,
    dependsOn: pulumi.Resource[],
    o: pulumi.CustomResourceOptions,
  ): eks.NodeGroup[] {
    const nodeRole = new iam.Role(
      `${name}-nodes`,
      { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com") },
      o,
    );
    const attachments = [
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
      "AmazonEC2ContainerRegistryReadOnly",
      // Shell access through SSM Session Manager instead of SSH keys.
      "AmazonSSMManagedInstanceCore",
    ].map(
      (p) =>
        new iam.RolePolicyAttachment(`${name}-nodes-${p}`, { role: nodeRole.name, policyArn: policy(p) }, o),
    );
    const subnetIds = args.privateNodes ? network.privateSubnetIds : network.publicSubnetIds;

    return configuredPools(args.nodePools).map(({ name: pool, size }) => {
      const placement = NODE_POOLS[pool];
      const template = new ec2.LaunchTemplate(
        `${name}-${pool}`,
        {
          description: `ES1 ${args.name} ${pool} nodes`,
          updateDefaultVersion: true,
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: size.diskSizeGb,
                volumeType: size.diskType,
                encrypted: "true",
                deleteOnTermination: "true",
              },
            },
          ],
          // IMDSv2 only, one hop: pods cannot borrow the node's role (they use Pod Identity or IRSA).
          metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
          // Default tags do not reach instances and volumes a node group launches.
          tagSpecifications: ["instance", "volume"].map((resourceType) => ({
            resourceType,
            tags: { ...args.tags, Name: `${args.name}-${pool}` },
          })),
        },
        o,
      );
      const group = new eks.NodeGroup(
        `${name}-${pool}`,
        {
          clusterName: cluster.name,
          nodeRoleArn: nodeRole.arn,
          subnetIds,
          instanceTypes: [size.machineType],
          amiType: amiType(size.machineType, pool === "aiml"),
          capacityType: "ON_DEMAND",
          launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
          scalingConfig: { minSize: size.minNodes, maxSize: size.maxNodes, desiredSize: size.minNodes },
          updateConfig: { maxUnavailable: 1 },
          labels: placement.labels,
          taints: placement.taints.map((t) => ({
            key: t.key,
            value: t.value,
            effect: TAINT_EFFECTS[t.effect],
          })),
        },
        // The cluster autoscaler owns the desired size.
        { ...o, dependsOn: [...attachments, ...dependsOn], ignoreChanges: ["scalingConfig.desiredSize"] },
      );
      // The autoscaler's template of a node of this pool, so it grows the pool from 0 nodes too
      // (EKS tags a managed group's Auto Scaling group for discovery, not with its labels).
      const autoscalingGroupName = group.resources.apply((r) => r?.[0]?.autoscalingGroups?.[0]?.name ?? "");
      const gpus = pool === "aiml" ? args.nodePools.aiml?.acceleratorCount : undefined;
      for (const [key, value] of Object.entries(
        scaleFromZeroTags(placement.labels, placement.taints, gpus),
      )) {
        const what = key.slice(key.lastIndexOf("node-template/") + "node-template/".length);
        new AutoscalingTag(
          `${name}-${pool}-${what.replace(/[^a-z0-9]+/gi, "-")}`,
          { autoscalingGroupName, tag: { key, value, propagateAtLaunch: false } },
          o,
        );
      }
      return group;
    });
  }

  /** The cluster's OIDC issuer as an IAM identity provider, for IRSA. */
  private oidcProvider(
    name: string,
    cluster: eks.Cluster,
    o: pulumi.CustomResourceOptions,
  ): iam.OpenIdConnectProvider {
    const issuer = cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
    return new iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuer, clientIdLists: ["sts.amazonaws.com"] },
      o,
    );
  }

  /**
   * The Cluster Autoscaler with an IAM role of its own, so every pool, the GPU pool included,
   * grows from its minimum: it may resize only node groups tagged as this cluster's (EKS tags
   * managed node groups' Auto Scaling groups so), and reads the rest.
   */
  private clusterAutoscaler(
    name: string,
    args: EksClusterSettings,
    cluster: eks.Cluster,
    addons: AddonSources,
    provider: k8s.Provider,
    podIdentityAgent: eks.Addon | undefined,
    oidcProvider: iam.OpenIdConnectProvider | undefined,
    o: pulumi.CustomResourceOptions,
  ): void {
    const role = new iam.Role(
      `${name}-cluster-autoscaler`,
      { assumeRolePolicy: workloadTrust([kubeSystem(CLUSTER_AUTOSCALER_SERVICE_ACCOUNT)], oidcProvider) },
      o,
    );
    const access = new iam.RolePolicy(
      `${name}-cluster-autoscaler`,
      { role: role.name, policy: clusterAutoscalerPolicy(args.name) },
      o,
    );
    const binding: pulumi.Resource[] = podIdentityAgent
      ? [
          new eks.PodIdentityAssociation(
            `${name}-cluster-autoscaler`,
            {
              clusterName: cluster.name,
              namespace: "kube-system",
              serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
              roleArn: role.arn,
            },
            { ...o, dependsOn: [podIdentityAgent] },
          ),
        ]
      : [];
    // Created here, not by the chart: with IRSA it carries the role, an output of this program.
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-cluster-autoscaler`,
      {
        metadata: {
          name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
          namespace: "kube-system",
          annotations: podIdentityAgent ? {} : { "eks.amazonaws.com/role-arn": role.arn },
        },
      },
      { parent: this, provider },
    );
    addonRelease(
      "cluster-autoscaler",
      ADDON_CHARTS.clusterAutoscaler,
      clusterAutoscalerValues({ clusterName: args.name, region: args.region, sources: addons }),
      addons,
      { provider, parent: this, dependsOn: [serviceAccount, access, ...binding] },
    );
  }

  /**
   * The EBS CSI driver add-on with an IAM role of its own: bound through Pod Identity when
   * workload identity is on, through IRSA (the cluster's OIDC provider) otherwise.
   */
  private ebsCsiDriver(
    name: string,
    policy: (p: string) => string,
    addon: (addonName: string, extra?: Partial<eks.AddonArgs>, dependsOn?: pulumi.Resource[]) => eks.Addon,
    nodeGroups: pulumi.Resource[],
    podIdentityAgent: eks.Addon | undefined,
    oidcProvider: iam.OpenIdConnectProvider | undefined,
    o: pulumi.CustomResourceOptions,
  ): eks.Addon {
    const trust = workloadTrust([kubeSystem(EBS_CSI_SERVICE_ACCOUNT)], oidcProvider);
    const role = new iam.Role(`${name}-ebs-csi`, { assumeRolePolicy: trust }, o);
    const attachment = new iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: role.name, policyArn: policy("service-role/AmazonEBSCSIDriverPolicy") },
      o,
    );
    return addon(
      "aws-ebs-csi-driver",
      podIdentityAgent
        ? { podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT }] }
        : { serviceAccountRoleArn: role.arn },
      [...nodeGroups, attachment, ...(podIdentityAgent ? [podIdentityAgent] : [])],
    );
  }
}
