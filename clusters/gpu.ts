import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NODE_POOLS } from "./types";

/** NVIDIA's device plugin, pinned: it advertises `nvidia.com/gpu` so pods can request GPUs. */
export const NVIDIA_DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";

/**
 * The NVIDIA device plugin on the aiml pool, for clouds whose GPU nodes bring the driver but not
 * the plugin (EKS GPU AMIs, AKS GPU pools). GKE installs both itself.
 */
export function nvidiaDevicePlugin(
  name: string,
  opts: { provider: k8s.Provider; parent: pulumi.Resource },
): k8s.apps.v1.DaemonSet {
  const labels = { "app.kubernetes.io/name": "nvidia-device-plugin", "app.kubernetes.io/part-of": "es1" };
  const aiml = NODE_POOLS.aiml;
  return new k8s.apps.v1.DaemonSet(
    name,
    {
      metadata: { name: "nvidia-device-plugin", namespace: "kube-system", labels },
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: "RollingUpdate" },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: aiml.labels,
            tolerations: [
              ...aiml.taints.map((t) => ({ key: t.key, operator: "Exists", effect: t.effect })),
              { key: "CriticalAddonsOnly", operator: "Exists" },
            ],
            priorityClassName: "system-node-critical",
            containers: [
              {
                name: "nvidia-device-plugin",
                image: NVIDIA_DEVICE_PLUGIN_IMAGE,
                env: [{ name: "FAIL_ON_INIT_ERROR", value: "false" }],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                volumeMounts: [{ name: "device-plugins", mountPath: "/var/lib/kubelet/device-plugins" }],
              },
            ],
            volumes: [{ name: "device-plugins", hostPath: { path: "/var/lib/kubelet/device-plugins" } }],
          },
        },
      },
    },
    opts,
  );
}
