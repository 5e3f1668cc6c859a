import type { SizingProfile } from "../config/settings";
import { JsonObject } from "../lib/json";

/** How one customer platform scales, per sizing profile. */
export interface PlatformSize {
  /** Replicas of each service; the minimum when autoscaling. */
  replicas: number;
  /** Horizontal autoscaling of gateway, API, UI and router (off: fixed replicas). */
  maxReplicas?: number;
  /** Requests and limits of each service container. */
  resources: JsonObject;
  /** ResourceQuota of the customer namespace (room for the services at their most and MLflow). */
  quota: Record<string, string>;
  /** The customer's own MLflow (platform/mlflow.ts): one replica, its container and its artifact volume. */
  mlflow: {
    resources: { requests: { cpu: string; memory: string }; limits: { memory: string } };
    storage: string;
  };
}

export const PLATFORM_SIZING: Record<SizingProfile, PlatformSize> = {
  minimal: {
    replicas: 1,
    resources: { requests: { cpu: "25m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    quota: { "requests.cpu": "4", "requests.memory": "8Gi", "limits.memory": "16Gi", pods: "50" },
    mlflow: {
      resources: { requests: { cpu: "50m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      storage: "2Gi",
    },
  },
  default: {
    replicas: 2,
    maxReplicas: 6,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    quota: { "requests.cpu": "16", "requests.memory": "32Gi", "limits.memory": "64Gi", pods: "120" },
    mlflow: {
      resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "2Gi" } },
      storage: "10Gi",
    },
  },
  production: {
    replicas: 3,
    maxReplicas: 12,
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
    quota: { "requests.cpu": "48", "requests.memory": "96Gi", "limits.memory": "192Gi", pods: "300" },
    mlflow: {
      resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "4Gi" } },
      storage: "50Gi",
    },
  },
};
