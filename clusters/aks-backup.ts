// AKS's backup store: a storage account of the stack's (HTTPS and TLS 1.2 only, no public blobs,
// no shared keys: Entra ID alone authorizes) with one private container, written only by a
// user-assigned identity that exactly the consumers' Kubernetes service accounts may act as
// (workload identity: a federated credential per service account).
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { AksClusterSettings } from "../config";
import { serviceAccountSubject, storageAccountName, storeOptions, storeSuffix } from "./backup-store";
import { BackupStoreRequest, CloudBackupStore } from "./types";

/** Built-in role: read, write and delete blobs (and list them) — on the container only. */
export const STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
/** The container backups go to. */
export const BACKUP_CONTAINER = "es1-backups";
/** Days a deleted blob or container can be undeleted (soft delete), whatever the retention. */
const SOFT_DELETE_DAYS = 7;

export function azureBackupStore(
  name: string,
  args: AksClusterSettings,
  request: BackupStoreRequest,
  group: resources.ResourceGroup,
  cluster: containerservice.ManagedCluster,
  roleDefinition: (id: string) => pulumi.Output<string>,
  o: pulumi.CustomResourceOptions,
): CloudBackupStore {
  const suffix = storeSuffix(name, o);
  const account = new storage.StorageAccount(
    `${name}-backups`,
    {
      resourceGroupName: group.name,
      accountName: suffix.apply((s) => storageAccountName(args.name, s)),
      location: args.region,
      kind: "StorageV2",
      sku: { name: args.zones.length > 0 ? "Standard_ZRS" : "Standard_LRS" },
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      // Barman Cloud signs in with the workload identity: account keys and SAS are not needed.
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      tags: args.tags,
    },
    storeOptions(o, request.protect),
  );
  // Barman Cloud's retention deletes old backups; a deleted or overwritten blob stays a
  // previous version for retentionDays more, then the lifecycle rule removes it.
  const service = new storage.BlobServiceProperties(
    `${name}-backups`,
    {
      resourceGroupName: group.name,
      accountName: account.name,
      blobServicesName: "default",
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
      containerDeleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
    },
    o,
  );
  const lifecycle = new storage.ManagementPolicy(
    `${name}-backups`,
    {
      resourceGroupName: group.name,
      accountName: account.name,
      managementPolicyName: "default",
      policy: {
        rules: [
          {
            name: "es1-backups-retention",
            enabled: true,
            type: "Lifecycle",
            definition: {
              filters: { blobTypes: ["blockBlob"] },
              actions: { version: { delete: { daysAfterCreationGreaterThan: request.retentionDays } } },
            },
          },
        ],
      },
    },
    { ...o, dependsOn: [service] },
  );
  const container = new storage.BlobContainer(
    `${name}-backups-container`,
    {
      resourceGroupName: group.name,
      accountName: account.name,
      containerName: BACKUP_CONTAINER,
      publicAccess: "None",
    },
    storeOptions(o, request.protect),
  );

  const identity = new managedidentity.UserAssignedIdentity(
    `${name}-backups`,
    {
      resourceGroupName: group.name,
      resourceName: `${args.name}-backups`,
      location: args.region,
      tags: args.tags,
    },
    o,
  );
  // On the container only: no account-, group- or subscription-level role.
  const grant = new authorization.RoleAssignment(
    `${name}-backups`,
    {
      scope: container.id,
      roleDefinitionId: roleDefinition(STORAGE_BLOB_DATA_CONTRIBUTOR),
      principalId: identity.principalId,
      principalType: "ServicePrincipal",
    },
    o,
  );
  const issuer = cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");
  // Exactly the consumers' Kubernetes service accounts may act as it.
  // Azure refuses concurrent writes of one identity's federated credentials: one after another.
  const credentials: managedidentity.FederatedIdentityCredential[] = [];
  for (const sa of request.consumers) {
    const previous = credentials[credentials.length - 1];
    credentials.push(
      new managedidentity.FederatedIdentityCredential(
        `${name}-backups-${sa.namespace}-${sa.name}`,
        {
          resourceGroupName: group.name,
          resourceName: identity.name,
          federatedIdentityCredentialResourceName: `${sa.namespace}-${sa.name}`,
          issuer,
          subject: serviceAccountSubject(sa),
          audiences: ["api://AzureADTokenExchange"],
        },
        { ...o, dependsOn: previous ? [previous] : [] },
      ),
    );
  }
  const blobEndpoint = account.primaryEndpoints.apply((e) => e.blob.replace(/\/$/, ""));
  return {
    kind: "azure",
    bucket: container.name,
    url: pulumi.interpolate`${blobEndpoint}/${container.name}`,
    region: args.region,
    storageAccount: account.name,
    resourceGroup: group.name,
    serviceAccountAnnotations: { "azure.workload.identity/client-id": identity.clientId },
    velero: {
      provider: "azure",
      config: { storageAccount: account.name, resourceGroup: group.name, useAAD: "true" },
    },
    podLabels: { "azure.workload.identity/use": "true" },
    ready: [grant, lifecycle, ...credentials],
  };
}
