// The local cluster's volume provisioner. kwok simulates kubelets but nothing provisions
// volumes, so a pod with a PersistentVolumeClaim would never schedule. This loop binds every
// pending claim of the `standard` StorageClass to a PersistentVolume made for it, and removes
// those volumes once released, as a cloud provisioner would. No data is stored anywhere.
//
//   node scripts/kwok-volumes.js <kubeconfig>     (started and stopped by scripts/cluster.sh)
"use strict";
const { execFileSync } = require("child_process");

const kubeconfig = process.argv[2];
const CLASS = "standard";
const LABEL = "es1-kwok-volume";

function kubectl(args, input) {
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    input,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function once() {
  const claims = JSON.parse(kubectl(["get", "pvc", "-A", "-o", "json"])).items;
  const volumes = [];
  for (const c of claims) {
    if (c.status?.phase !== "Pending" || (c.spec.storageClassName ?? CLASS) !== CLASS) continue;
    volumes.push({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `pvc-${c.metadata.uid}`, labels: { [LABEL]: "true" } },
      spec: {
        capacity: { storage: c.spec.resources?.requests?.storage ?? "1Gi" },
        accessModes: c.spec.accessModes ?? ["ReadWriteOnce"],
        storageClassName: CLASS,
        persistentVolumeReclaimPolicy: "Retain",
        volumeMode: c.spec.volumeMode ?? "Filesystem",
        hostPath: { path: `/var/lib/es1-kwok-volumes/${c.metadata.uid}` },
        claimRef: { namespace: c.metadata.namespace, name: c.metadata.name, uid: c.metadata.uid },
      },
    });
  }
  if (volumes.length > 0)
    kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: volumes }));
  const released = JSON.parse(kubectl(["get", "pv", "-l", `${LABEL}=true`, "-o", "json"])).items.filter(
    (v) => v.status?.phase === "Released",
  );
  if (released.length > 0) kubectl(["delete", "pv", "--wait=false", ...released.map((v) => v.metadata.name)]);
}

function loop() {
  try {
    once();
  } catch (e) {
    // The API server may be restarting; try again on the next tick.
    process.stderr.write(`[kwok-volumes] ${String(e.message).split("\n")[0]}\n`);
  }
  setTimeout(loop, 1000);
}
loop();
