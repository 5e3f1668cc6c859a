/**
 * Outputs the clouds compute and the cluster components read (endpoints, CAs, ARNs, identities),
 * and answers of the invokes they call, so the mocked program runs every code path.
 */

/** Kubeconfig AKS hands out for an Entra ID cluster in exec format: kubelogin with device-code login. */
export const AKS_EXEC_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://es1-azure-dev.hcp.westeurope.azmk8s.io:443
  name: es1
users:
- name: clusterUser_es1
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args:
      - get-token
      - --login
      - devicecode
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
`;

export const AKS_CERT_KUBECONFIG = `apiVersion: v1
kind: Config
users:
- name: clusterUser_es1
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

const CA = "Q0E=";

/** Extra state for a resource of the given type, on top of its inputs. */
export function cloudOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (type.startsWith("aws:") && inputs.arn === undefined) out.arn = `arn:aws:mock::123456789012:${name}`;
  switch (type) {
    case "gcp:container/cluster:Cluster":
      return { endpoint: "203.0.113.10", masterAuth: { clusterCaCertificate: CA } };
    case "gcp:serviceaccount/account:Account": {
      const email = `${String(inputs.accountId)}@mock.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}` };
    }
    case "aws:eks/cluster:Cluster":
      return {
        ...out,
        endpoint: "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        certificateAuthority: { data: CA },
        identities: [{ oidcs: [{ issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF" }] }],
        vpcConfig: { ...(inputs.vpcConfig as object), clusterSecurityGroupId: "sg-0123456789abcdef0" },
      };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...out, latestVersion: 1 };
    case "aws:kms/key:Key":
      return { ...out, keyId: `${name}-key-id` };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return { name: inputs.resourceName, principalId: `${name}-principal`, clientId: `${name}-client` };
    case "azure-native:storage:StorageAccount":
      return {
        name: inputs.accountName,
        primaryEndpoints: { blob: `https://${String(inputs.accountName)}.blob.core.windows.net/` },
      };
    case "azure-native:storage:BlobContainer":
      return { name: inputs.containerName };
    case "random:index/randomString:RandomString":
      return { result: "k3x9q2" };
    case "azure-native:network:PublicIPAddress":
      return { ipAddress: "203.0.113.20" };
    case "azure-native:keyvault:Key":
      return {
        keyUriWithVersion: "https://es1kms.vault.azure.net/keys/es1-secrets/0123456789abcdef0123456789abcdef",
      };
    case "azure-native:containerservice:ManagedCluster":
      return {
        name: inputs.resourceName,
        oidcIssuerProfile: { issuerURL: "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/" },
      };
    case "azure-native:resources:ResourceGroup":
      return { name: inputs.resourceGroupName };
    case "azure-native:keyvault:Vault":
      return { name: `${name}-vault` };
    case "azure-native:network:VirtualNetwork":
      return { name: inputs.virtualNetworkName };
  }
  return out;
}

/** The answer of an invoke, or undefined to echo its inputs. */
export function cloudInvoke(
  token: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
  switch (token) {
    case "gcp:organizations/getProject:getProject":
      return { ...inputs, number: "123456789012" };
    case "aws:ec2/getVpc:getVpc":
      return { ...inputs, cidrBlock: "10.50.0.0/16" };
    case "azure-native:authorization:getClientConfig":
      return {
        subscriptionId: "00000000-0000-0000-0000-000000000001",
        tenantId: "00000000-0000-0000-0000-000000000002",
        clientId: "mock-client",
        objectId: "mock-object",
      };
    case "azure-native:containerservice:listManagedClusterUserCredentials": {
      const kubeconfig = inputs.format === "exec" ? AKS_EXEC_KUBECONFIG : AKS_CERT_KUBECONFIG;
      return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
    }
  }
  return undefined;
}
