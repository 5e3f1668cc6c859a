// Whether a customer's platform workloads are Ready at a given version: the check `es1 rollout`
// makes after each wave. The rules are kubectl rollout status's: the controller has seen the
// latest spec, every replica runs it, and every replica is available.
import { KubeReader } from "./kube";

interface Workload {
  kind?: string;
  metadata: { name: string; generation?: number };
  spec: {
    replicas?: number;
    template: { spec: { containers: { name: string; image: string }[] } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface WorkloadReadiness {
  kind: "Deployment" | "StatefulSet";
  name: string;
  ready: boolean;
  /** Why it is not Ready (or not at the version), for the report. */
  reason?: string;
}

export interface CustomerReadiness {
  customer: string;
  namespace: string;
  version: string;
  ready: boolean;
  workloads: WorkloadReadiness[];
  /** The cluster could not be read (the reason). */
  error?: string;
}

function tagOf(image: string): string | undefined {
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(colon + 1) : undefined;
}

/** One workload's readiness at `version` (every container image tagged with it). */
export function workloadReadiness(
  kind: WorkloadReadiness["kind"],
  w: Workload,
  version: string,
): WorkloadReadiness {
  const name = w.metadata.name;
  const not = (reason: string): WorkloadReadiness => ({ kind, name, ready: false, reason });
  const stale = w.spec.template.spec.containers.filter((c) => tagOf(c.image) !== version);
  if (stale.length > 0)
    return not(`runs ${stale.map((c) => `${c.name}=${c.image}`).join(", ")}, not version ${version}`);
  const want = w.spec.replicas ?? 1;
  const s = w.status ?? {};
  if ((s.observedGeneration ?? 0) < (w.metadata.generation ?? 0))
    return not("its controller has not yet seen the latest spec");
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return not(`${updated} of ${want} replicas updated`);
  if (kind === "Deployment") {
    if ((s.replicas ?? 0) > updated) return not(`${(s.replicas ?? 0) - updated} old replicas still running`);
    const available = s.availableReplicas ?? 0;
    if (available < want) return not(`${available} of ${want} replicas available`);
  } else {
    if (s.updateRevision && s.currentRevision !== s.updateRevision)
      return not("its rolling update has not finished");
    const ready = s.readyReplicas ?? 0;
    if (ready < want) return not(`${ready} of ${want} replicas ready`);
  }
  return { kind, name, ready: true };
}

/** Reads one customer's platform workloads (the es1-platform release) and checks them. */
export async function customerReadiness(
  kube: KubeReader,
  customer: { name: string; namespace: string; release: string },
  version: string,
): Promise<CustomerReadiness> {
  const selector = encodeURIComponent(`app.kubernetes.io/instance=${customer.release}`);
  const list = (resource: string) =>
    kube
      .get<{ items: Workload[] }>(
        `/apis/apps/v1/namespaces/${customer.namespace}/${resource}?labelSelector=${selector}`,
      )
      .then((l) => l.items);
  const [deployments, statefulSets] = await Promise.all([list("deployments"), list("statefulsets")]);
  const workloads = [
    ...deployments.map((d) => workloadReadiness("Deployment", d, version)),
    ...statefulSets.map((s) => workloadReadiness("StatefulSet", s, version)),
  ];
  return {
    customer: customer.name,
    namespace: customer.namespace,
    version,
    // A release with no workloads at all is not a running platform.
    ready: workloads.length > 0 && workloads.every((w) => w.ready),
    workloads,
  };
}
