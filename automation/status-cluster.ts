// Reads what `es1 status` judges from the cluster, read-only, in process (no helm binary needed):
// each release's latest Helm record (the release Secrets), then the workloads and operator-managed
// resources its manifest declares.
import { KubeAccess, KubeHttpError, kubeRequest } from "./kube";
import { METADATA_LIST } from "./preflight-cluster";
import {
  decodeHelmRelease,
  HelmRelease,
  LiveManaged,
  LiveWorkload,
  MANAGED_KINDS,
  managedStatus,
  manifestObjects,
  ReleaseStatus,
  releaseStatus,
  WORKLOAD_KINDS,
  WorkloadKind,
  workloadStatus,
} from "./status";

/** GET of one object: undefined when it does not exist, an error for any other refusal. */
async function getObject<T>(access: KubeAccess, apiPath: string, accept?: string): Promise<T | undefined> {
  try {
    return await kubeRequest<T>(access, "GET", apiPath, undefined, 30_000, accept);
  } catch (e) {
    if (e instanceof KubeHttpError && e.status === 404) return undefined;
    throw e;
  }
}

/** The latest revision of a release, from Helm's Secrets (label owner=helm, name, version). */
export async function latestHelmRelease(
  access: KubeAccess,
  ref: { name: string; namespace: string },
): Promise<HelmRelease | undefined> {
  const selector = encodeURIComponent(`owner=helm,name=${ref.name}`);
  // Metadata first: each record holds the whole rendered manifest (megabytes for CRD charts).
  const list = await getObject<{ items?: { metadata: { name: string; labels?: Record<string, string> } }[] }>(
    access,
    `/api/v1/namespaces/${ref.namespace}/secrets?labelSelector=${selector}`,
    METADATA_LIST,
  );
  const latest = (list?.items ?? [])
    .map((s) => ({ name: s.metadata.name, version: Number(s.metadata.labels?.version ?? 0) }))
    .sort((a, b) => b.version - a.version)[0];
  if (latest === undefined) return undefined;
  const secret = await getObject<{ data?: { release?: string } }>(
    access,
    `/api/v1/namespaces/${ref.namespace}/secrets/${latest.name}`,
  );
  const data = secret?.data?.release;
  return data === undefined ? undefined : decodeHelmRelease(data);
}

const WORKLOAD_PATHS: Record<WorkloadKind, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
};

const MANAGED_PLURALS: Record<string, string> = {
  Cluster: "clusters",
  ClickHouseCluster: "clickhouseclusters",
  KeeperCluster: "keeperclusters",
};

/** One release: its Helm record, and the live state of what its manifest declares. */
export async function readRelease(
  access: KubeAccess,
  ref: { name: string; namespace: string },
): Promise<ReleaseStatus> {
  const release = await latestHelmRelease(access, ref);
  if (release === undefined) return releaseStatus(ref, undefined, [], []);
  const objects = manifestObjects(release.manifest);
  const workloads = await Promise.all(
    objects
      .filter((o) => (WORKLOAD_KINDS as readonly string[]).includes(o.kind))
      .map(async (o) => {
        const path = `/apis/apps/v1/namespaces/${o.namespace ?? ref.namespace}/${WORKLOAD_PATHS[o.kind as WorkloadKind]}/${o.name}`;
        return workloadStatus(o, await getObject<LiveWorkload>(access, path));
      }),
  );
  const managed = await Promise.all(
    objects
      .filter((o) => MANAGED_KINDS[`${o.apiVersion}/${o.kind}`] !== undefined)
      .map(async (o) => {
        const path = `/apis/${o.apiVersion}/namespaces/${o.namespace ?? ref.namespace}/${MANAGED_PLURALS[o.kind]}/${o.name}`;
        return managedStatus(o, await getObject<LiveManaged>(access, path));
      }),
  );
  return releaseStatus(ref, release, workloads, managed);
}
