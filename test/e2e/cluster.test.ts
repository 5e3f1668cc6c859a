import * as assert from "assert";
import { clusterUp, kubectl, kubectlWithInput, mustGet } from "./kube";

interface NodeList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    spec: { taints?: { key: string }[] };
    status: { capacity: Record<string, string> };
  }[];
}

const NS = "es1-cluster-check";

const workloads = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      nodeSelector: { es1-pool: platform }
      tolerations: [{ key: es1-pool, value: platform, effect: NoSchedule }]
      containers: [{ name: web, image: registry.local/web:1 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: ${NS} }
spec:
  replicas: 1
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      nodeSelector: { es1-pool: infrastructure }
      tolerations: [{ key: es1-pool, value: infrastructure, effect: NoSchedule }]
      containers:
        - name: db
          image: registry.local/db:1
          volumeMounts: [{ name: data, mountPath: /data }]
  # Bound by the local cluster's volume provisioner, or the pod would never schedule.
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: ${NS} }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: migrate, image: registry.local/migrate:1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: gpu, namespace: ${NS} }
spec:
  nodeSelector: { es1-pool: aiml }
  tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]
  containers:
    - name: model
      image: registry.local/model:1
      resources: { limits: { nvidia.com/gpu: "1" } }
`;

describe("local cluster (kwok)", function () {
  let kubeconfig: string;

  before(function () {
    kubeconfig = clusterUp();
  });

  after(function () {
    if (kubeconfig) kubectl(kubeconfig, "delete", "namespace", NS, "--ignore-not-found", "--wait=false");
  });

  it("has one labelled, tainted node per ES1 pool, with GPUs on the aiml pool", function () {
    const nodes = mustGet<NodeList>(kubeconfig, "nodes").items;
    const pools = new Map(nodes.map((n) => [n.metadata.labels["es1-pool"], n]));
    const mustPool = (p: string) => {
      const n = pools.get(p);
      if (!n) throw new Error(`no ${p} node`);
      return n;
    };
    for (const pool of ["system", "infrastructure", "platform", "aiml"])
      assert.ok(pools.has(pool), `no ${pool} node`);
    assert.deepStrictEqual(mustPool("system").spec.taints ?? [], []);
    assert.deepStrictEqual(
      (mustPool("infrastructure").spec.taints ?? []).map((t) => t.key),
      ["es1-pool"],
    );
    assert.strictEqual(mustPool("aiml").status.capacity["nvidia.com/gpu"], "1");
  });

  it("runs Deployments and StatefulSets (with volumes) to Ready and Jobs to completion on the right pools", function () {
    kubectl(kubeconfig, "delete", "namespace", NS, "--ignore-not-found", "--wait=true");
    kubectl(kubeconfig, "create", "namespace", NS);
    kubectlWithInput(kubeconfig, workloads, "apply", "-f", "-");
    kubectl(kubeconfig, "-n", NS, "rollout", "status", "deployment/web", "--timeout=120s");
    kubectl(kubeconfig, "-n", NS, "rollout", "status", "statefulset/db", "--timeout=120s");
    kubectl(kubeconfig, "-n", NS, "wait", "--for=condition=complete", "job/migrate", "--timeout=120s");
    kubectl(kubeconfig, "-n", NS, "wait", "--for=condition=Ready", "pod/gpu", "--timeout=120s");

    const pods = mustGet<{ items: { metadata: { name: string }; spec: { nodeName: string } }[] }>(
      kubeconfig,
      "-n",
      NS,
      "pods",
    ).items;
    const nodeOf = (prefix: string) =>
      pods.filter((p) => p.metadata.name.startsWith(prefix)).map((p) => p.spec.nodeName);
    assert.ok(
      nodeOf("web-").every((n) => n.startsWith("es1-platform-")),
      `web on ${nodeOf("web-").join(",")}`,
    );
    assert.deepStrictEqual(nodeOf("db-"), ["es1-infrastructure-0"]);
    const claim = mustGet<{ spec: { storageClassName: string }; status: { phase: string } }>(
      kubeconfig,
      "-n",
      NS,
      "pvc",
      "data-db-0",
    );
    assert.deepStrictEqual([claim.spec.storageClassName, claim.status.phase], ["standard", "Bound"]);
    assert.deepStrictEqual(nodeOf("gpu"), ["es1-aiml-0"]);
    // The taints keep workloads without tolerations off the dedicated pools.
    assert.deepStrictEqual(nodeOf("migrate-"), ["es1-system-0"]);
  });
});
