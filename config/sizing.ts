import type { SizingProfile } from "./settings";

/** The shared components of es1-infrastructure, in the order they are documented. */
export const COMPONENTS = [
  "postgresql",
  "redis",
  "monitoring",
  "airflow",
  "ollama",
  "mlflow",
  "n8n",
  "langflow",
  "langfuse",
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Container resources as Kubernetes quantities. */
export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { memory: string; cpu?: string };
}

/**
 * How big one component runs. `replicas` is its scaled workload (PostgreSQL instances, Airflow
 * and n8n workers, Langfuse web and worker, ...); `storage` its main volume.
 */
export interface ComponentSize {
  replicas: number;
  /** Absent for components that keep no volume of their own (n8n keeps everything in PostgreSQL). */
  storage?: string;
  resources: Resources;
}

function res(cpu: string, memory: string, memoryLimit: string = memory): Resources {
  return { requests: { cpu, memory }, limits: { memory: memoryLimit } };
}

/**
 * The sizing profiles. `minimal` fits a laptop or CI cluster, `default` a shared dev cluster,
 * `production` the gcp-prod shape. CPU limits are left off on purpose: they throttle
 * latency-sensitive services without protecting anything memory limits do not.
 */
export const SIZING: Record<SizingProfile, Record<ComponentName, ComponentSize>> = {
  minimal: {
    postgresql: { replicas: 1, storage: "2Gi", resources: res("100m", "256Mi", "512Mi") },
    redis: { replicas: 1, storage: "1Gi", resources: res("50m", "64Mi", "256Mi") },
    monitoring: { replicas: 1, storage: "5Gi", resources: res("100m", "512Mi", "1Gi") },
    airflow: { replicas: 1, storage: "2Gi", resources: res("100m", "512Mi", "1Gi") },
    ollama: { replicas: 1, storage: "10Gi", resources: res("250m", "1Gi", "4Gi") },
    mlflow: { replicas: 1, storage: "2Gi", resources: res("50m", "256Mi", "512Mi") },
    n8n: { replicas: 1, resources: res("50m", "256Mi", "512Mi") },
    langflow: { replicas: 1, storage: "1Gi", resources: res("100m", "512Mi", "1Gi") },
    langfuse: { replicas: 1, storage: "5Gi", resources: res("100m", "512Mi", "1Gi") },
  },
  default: {
    postgresql: { replicas: 2, storage: "20Gi", resources: res("250m", "1Gi", "2Gi") },
    redis: { replicas: 1, storage: "8Gi", resources: res("100m", "256Mi", "1Gi") },
    monitoring: { replicas: 1, storage: "50Gi", resources: res("250m", "2Gi", "4Gi") },
    airflow: { replicas: 2, storage: "10Gi", resources: res("250m", "1Gi", "2Gi") },
    ollama: { replicas: 1, storage: "50Gi", resources: res("1", "4Gi", "16Gi") },
    mlflow: { replicas: 1, storage: "20Gi", resources: res("100m", "512Mi", "1Gi") },
    n8n: { replicas: 2, resources: res("100m", "512Mi", "1Gi") },
    langflow: { replicas: 1, storage: "5Gi", resources: res("250m", "1Gi", "2Gi") },
    langfuse: { replicas: 1, storage: "20Gi", resources: res("250m", "1Gi", "2Gi") },
  },
  production: {
    postgresql: { replicas: 3, storage: "100Gi", resources: res("1", "4Gi", "8Gi") },
    redis: { replicas: 1, storage: "20Gi", resources: res("500m", "2Gi", "4Gi") },
    monitoring: { replicas: 2, storage: "200Gi", resources: res("1", "8Gi", "16Gi") },
    airflow: { replicas: 3, storage: "50Gi", resources: res("500m", "2Gi", "4Gi") },
    ollama: { replicas: 1, storage: "200Gi", resources: res("4", "16Gi", "48Gi") },
    mlflow: { replicas: 1, storage: "100Gi", resources: res("250m", "1Gi", "2Gi") },
    n8n: { replicas: 3, resources: res("250m", "1Gi", "2Gi") },
    langflow: { replicas: 1, storage: "20Gi", resources: res("500m", "2Gi", "4Gi") },
    langfuse: { replicas: 2, storage: "100Gi", resources: res("500m", "2Gi", "4Gi") },
  },
};

/** Components a component cannot run without (it keeps its data or queue there). */
export const NEEDS: Record<ComponentName, readonly ComponentName[]> = {
  postgresql: [],
  redis: [],
  monitoring: [],
  airflow: ["postgresql", "redis"],
  ollama: [],
  mlflow: ["postgresql"],
  n8n: ["postgresql", "redis"],
  langflow: ["postgresql"],
  langfuse: ["postgresql", "redis"],
};

/**
 * Upper bound of `replicas` per component; 1 where the chart or the product cannot scale out
 * (Valkey has no failover yet; Ollama, Langflow and MLflow keep their files on one ReadWriteOnce volume).
 */
export const MAX_REPLICAS: Record<ComponentName, number> = {
  postgresql: 9,
  redis: 1,
  monitoring: 3,
  airflow: 20,
  ollama: 1,
  mlflow: 1,
  n8n: 20,
  langflow: 1,
  langfuse: 10,
};
