// Reads what preflight needs to know of a cluster (ClusterFacts) with the stack's own credentials:
// version, nodes, storage and ingress classes, CRD ownership (metadata only), a Pod Security probe
// (a server-side dry run: nothing is created) and SelfSubjectAccessReviews. Read-only otherwise.
import { KubeAccess, KubeHttpError, kubeRequest } from "./kube";
import type { AccessNeed } from "./preflight-needs";
import type { ClusterFacts, CrdFacts, NodeFacts } from "./preflight";

interface Meta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Metadata only: CRD objects run to hundreds of kilobytes each. */
export const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

function get<T>(access: KubeAccess, apiPath: string, accept?: string): Promise<T> {
  return kubeRequest<T>(access, "GET", apiPath, undefined, 15_000, accept);
}

function post<T>(access: KubeAccess, apiPath: string, json: unknown): Promise<T> {
  return kubeRequest<T>(access, "POST", apiPath, { contentType: "application/json", json });
}

async function readNodes(access: KubeAccess): Promise<NodeFacts[]> {
  const list = await get<{
    items?: {
      metadata: Meta;
      spec?: { taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean };
      status?: { allocatable?: Record<string, string> };
    }[];
  }>(access, "/api/v1/nodes");
  return (list.items ?? []).map((n) => ({
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
    taints: n.spec?.taints ?? [],
    unschedulable: n.spec?.unschedulable === true,
    allocatable: n.status?.allocatable ?? {},
  }));
}

async function readCrds(access: KubeAccess): Promise<CrdFacts[]> {
  const list = await get<{ items?: { metadata: Meta }[] }>(
    access,
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    METADATA_LIST,
  );
  return (list.items ?? []).map((c) => ({
    name: c.metadata.name,
    labels: c.metadata.labels ?? {},
    annotations: c.metadata.annotations ?? {},
  }));
}

/**
 * Whether Pod Security admission is on: a server-side dry run of a namespace labelled with an
 * enforce level that does not exist. The PodSecurity plugin refuses it; without the plugin the API
 * server accepts it. Nothing is stored either way.
 */
async function probePodSecurity(access: KubeAccess): Promise<ClusterFacts["podSecurity"]> {
  const label = "pod-security.kubernetes.io/enforce";
  try {
    await post(access, "/api/v1/namespaces?dryRun=All", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { generateName: "es1-preflight-", labels: { [label]: "es1-preflight-probe" } },
    });
  } catch (e) {
    if (e instanceof KubeHttpError && e.message.includes(label))
      return { enforced: true, detail: `on (an invalid ${label} label is refused)` };
    return { error: `the dry run was refused otherwise: ${e instanceof Error ? e.message : String(e)}` };
  }
  return {
    enforced: false,
    detail: `a namespace labelled ${label}=<an invalid level> was accepted: nothing enforces the label`,
  };
}

async function review(access: KubeAccess, need: AccessNeed): Promise<ClusterFacts["access"][number]> {
  try {
    const r = await post<{ status?: { allowed?: boolean; reason?: string } }>(
      access,
      "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: {
            verb: need.verb,
            group: need.group,
            resource: need.resource,
            ...(need.namespace ? { namespace: need.namespace } : {}),
          },
        },
      },
    );
    return {
      need,
      allowed: r.status?.allowed === true,
      ...(r.status?.reason ? { reason: r.status.reason } : {}),
    };
  } catch (e) {
    if (!(e instanceof KubeHttpError)) throw e;
    return { need, allowed: false, reason: `the review was refused: ${e.message}` };
  }
}

/** The API server's version: the first request, so an unreachable server fails once, on its own. */
export function readVersion(access: KubeAccess): Promise<ClusterFacts["version"]> {
  return get<ClusterFacts["version"]>(access, "/version");
}

/** Everything else preflight compares. */
export async function readClusterFacts(
  access: KubeAccess,
  version: ClusterFacts["version"],
  needs: readonly AccessNeed[],
): Promise<ClusterFacts> {
  const [nodes, storageClasses, ingressClasses, gatewayClasses, crds, podSecurity, reviewed] =
    await Promise.all([
      readNodes(access),
      get<{ items?: { metadata: Meta; provisioner: string; allowVolumeExpansion?: boolean }[] }>(
        access,
        "/apis/storage.k8s.io/v1/storageclasses",
      ).then((l) =>
        (l.items ?? []).map((s) => ({
          name: s.metadata.name,
          provisioner: s.provisioner,
          allowVolumeExpansion: s.allowVolumeExpansion === true,
          isDefault: s.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        })),
      ),
      get<{ items?: { metadata: Meta }[] }>(
        access,
        "/apis/networking.k8s.io/v1/ingressclasses",
        METADATA_LIST,
      ).then((l) => (l.items ?? []).map((i) => i.metadata.name)),
      // Absent (404) when the cluster has no Gateway API CRDs.
      get<{ items?: { metadata: Meta }[] }>(
        access,
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
        METADATA_LIST,
      )
        .then((l) => (l.items ?? []).map((i) => i.metadata.name))
        .catch(() => undefined),
      readCrds(access),
      probePodSecurity(access).catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) })),
      Promise.all(needs.map((n) => review(access, n))),
    ]);
  return {
    version,
    nodes,
    storageClasses,
    ingressClasses,
    ...(gatewayClasses !== undefined ? { gatewayClasses } : {}),
    crds,
    podSecurity,
    access: reviewed,
  };
}
