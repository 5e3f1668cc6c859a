import type { Environment } from "./settings";

/** Size of one node pool: what every provider's pools are made of. */
export interface PoolSize {
  machineType: string;
  diskType: string;
  diskSizeGb: number;
  /** Autoscaling bounds for the whole pool (all zones together). */
  minNodes: number;
  maxNodes: number;
}

export type BasePoolName = "system" | "infrastructure" | "platform";

/** A GPU a provider offers for the aiml pool, with the machine types that carry it. */
export interface Accelerator {
  /** Default machine type for this GPU. */
  machineType: string;
  /** Machine types that carry this GPU. */
  machineTypes: RegExp;
  /** GPUs per node of the default machine type (GKE attaches them explicitly). */
  count: number;
}

/**
 * What config validation needs to know about one cloud: its naming formats and the sizing
 * defaults of the dev and prod profiles. The clusters/ components hold how these become resources.
 */
export interface CloudCatalog {
  cloud: string;
  region: { re: RegExp; example: string };
  /** Kubernetes version formats the cloud accepts. */
  kubernetesVersion: { re: RegExp; says: string };
  defaultKubernetesVersion: string;
  machineType: { re: RegExp; says: string };
  diskTypes: readonly string[];
  diskSizeGb: { min: number; max: number };
  storageClasses: readonly string[];
  pools: Record<Environment, Record<BasePoolName, PoolSize>>;
  /** Disk and scaling of the aiml pool; its machine type follows the GPU. */
  gpuPool: Record<Environment, Omit<PoolSize, "machineType">>;
  accelerators: Record<string, Accelerator>;
}

export const GKE_CATALOG: CloudCatalog = {
  cloud: "GKE",
  region: { re: /^[a-z]+-[a-z]+\d+$/, example: "europe-west1" },
  kubernetesVersion: {
    re: /^1\.\d{2}(\.\d{1,3}(-gke\.\d+)?)?$/,
    says: "use a minor version such as 1.33, a patch such as 1.33.5 or a GKE build such as 1.33.5-gke.1080000",
  },
  defaultKubernetesVersion: "1.33",
  machineType: {
    re: /^[a-z][a-z0-9]*-[a-z0-9-]+$/,
    says: "use a Compute Engine machine type such as e2-standard-4",
  },
  diskTypes: ["pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced"],
  diskSizeGb: { min: 20, max: 65536 },
  storageClasses: ["standard-rwo", "premium-rwo"],
  pools: {
    dev: {
      system: {
        machineType: "e2-standard-2",
        diskType: "pd-balanced",
        diskSizeGb: 50,
        minNodes: 1,
        maxNodes: 2,
      },
      infrastructure: {
        machineType: "e2-standard-4",
        diskType: "pd-balanced",
        diskSizeGb: 100,
        minNodes: 1,
        maxNodes: 3,
      },
      platform: {
        machineType: "e2-standard-4",
        diskType: "pd-balanced",
        diskSizeGb: 100,
        minNodes: 1,
        maxNodes: 3,
      },
    },
    prod: {
      system: {
        machineType: "e2-standard-4",
        diskType: "pd-balanced",
        diskSizeGb: 100,
        minNodes: 3,
        maxNodes: 5,
      },
      infrastructure: {
        machineType: "n2-standard-8",
        diskType: "pd-ssd",
        diskSizeGb: 200,
        minNodes: 3,
        maxNodes: 6,
      },
      platform: {
        machineType: "n2-standard-8",
        diskType: "pd-balanced",
        diskSizeGb: 100,
        minNodes: 3,
        maxNodes: 12,
      },
    },
  },
  gpuPool: {
    dev: { diskType: "pd-balanced", diskSizeGb: 200, minNodes: 0, maxNodes: 1 },
    prod: { diskType: "pd-ssd", diskSizeGb: 200, minNodes: 0, maxNodes: 2 },
  },
  accelerators: {
    "nvidia-l4": { machineType: "g2-standard-8", machineTypes: /^g2-/, count: 1 },
    "nvidia-tesla-t4": { machineType: "n1-standard-8", machineTypes: /^n1-/, count: 1 },
    "nvidia-tesla-v100": { machineType: "n1-standard-8", machineTypes: /^n1-/, count: 1 },
    "nvidia-tesla-a100": { machineType: "a2-highgpu-1g", machineTypes: /^a2-highgpu-/, count: 1 },
    "nvidia-a100-80gb": { machineType: "a2-ultragpu-1g", machineTypes: /^a2-ultragpu-/, count: 1 },
    "nvidia-h100-80gb": { machineType: "a3-highgpu-8g", machineTypes: /^a3-/, count: 8 },
  },
};

export const EKS_CATALOG: CloudCatalog = {
  cloud: "EKS",
  region: { re: /^[a-z]{2}(-gov)?-[a-z]+-\d$/, example: "eu-west-1" },
  kubernetesVersion: {
    re: /^1\.\d{2}$/,
    says: "EKS pins a minor version such as 1.33 (AWS applies the patch releases)",
  },
  defaultKubernetesVersion: "1.33",
  machineType: { re: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, says: "use an EC2 instance type such as m6i.xlarge" },
  diskTypes: ["gp3", "gp2", "io1", "io2"],
  diskSizeGb: { min: 20, max: 16384 },
  storageClasses: ["gp3"],
  pools: {
    dev: {
      system: { machineType: "t3.large", diskType: "gp3", diskSizeGb: 50, minNodes: 1, maxNodes: 2 },
      infrastructure: {
        machineType: "m6i.xlarge",
        diskType: "gp3",
        diskSizeGb: 100,
        minNodes: 1,
        maxNodes: 3,
      },
      platform: { machineType: "m6i.xlarge", diskType: "gp3", diskSizeGb: 100, minNodes: 1, maxNodes: 3 },
    },
    prod: {
      system: { machineType: "m6i.large", diskType: "gp3", diskSizeGb: 100, minNodes: 3, maxNodes: 5 },
      infrastructure: {
        machineType: "m6i.2xlarge",
        diskType: "gp3",
        diskSizeGb: 200,
        minNodes: 3,
        maxNodes: 6,
      },
      platform: { machineType: "m6i.2xlarge", diskType: "gp3", diskSizeGb: 100, minNodes: 3, maxNodes: 12 },
    },
  },
  gpuPool: {
    dev: { diskType: "gp3", diskSizeGb: 200, minNodes: 0, maxNodes: 1 },
    prod: { diskType: "gp3", diskSizeGb: 200, minNodes: 0, maxNodes: 2 },
  },
  accelerators: {
    "nvidia-t4": { machineType: "g4dn.xlarge", machineTypes: /^g4dn\./, count: 1 },
    "nvidia-a10g": { machineType: "g5.xlarge", machineTypes: /^g5\./, count: 1 },
    "nvidia-l4": { machineType: "g6.xlarge", machineTypes: /^g6\./, count: 1 },
    "nvidia-l40s": { machineType: "g6e.xlarge", machineTypes: /^g6e\./, count: 1 },
    "nvidia-a100": { machineType: "p4d.24xlarge", machineTypes: /^p4de?\./, count: 8 },
    "nvidia-h100": { machineType: "p5.48xlarge", machineTypes: /^p5\./, count: 8 },
  },
};

export const AKS_CATALOG: CloudCatalog = {
  cloud: "AKS",
  region: { re: /^[a-z][a-z0-9]+$/, example: "westeurope" },
  kubernetesVersion: {
    re: /^1\.\d{2}(\.\d{1,3})?$/,
    says: "use a minor version such as 1.33 or a patch such as 1.33.5",
  },
  defaultKubernetesVersion: "1.33",
  machineType: { re: /^Standard_[A-Za-z0-9_]+$/, says: "use an Azure VM size such as Standard_D4s_v5" },
  diskTypes: ["Managed", "Ephemeral"],
  diskSizeGb: { min: 30, max: 2048 },
  storageClasses: ["managed-csi-premium", "managed-csi"],
  pools: {
    dev: {
      system: {
        machineType: "Standard_D2s_v5",
        diskType: "Managed",
        diskSizeGb: 64,
        minNodes: 1,
        maxNodes: 2,
      },
      infrastructure: {
        machineType: "Standard_D4s_v5",
        diskType: "Managed",
        diskSizeGb: 128,
        minNodes: 1,
        maxNodes: 3,
      },
      platform: {
        machineType: "Standard_D4s_v5",
        diskType: "Managed",
        diskSizeGb: 128,
        minNodes: 1,
        maxNodes: 3,
      },
    },
    prod: {
      system: {
        machineType: "Standard_D4s_v5",
        diskType: "Managed",
        diskSizeGb: 128,
        minNodes: 3,
        maxNodes: 5,
      },
      infrastructure: {
        machineType: "Standard_D8s_v5",
        diskType: "Managed",
        diskSizeGb: 256,
        minNodes: 3,
        maxNodes: 6,
      },
      platform: {
        machineType: "Standard_D8s_v5",
        diskType: "Managed",
        diskSizeGb: 128,
        minNodes: 3,
        maxNodes: 12,
      },
    },
  },
  gpuPool: {
    dev: { diskType: "Managed", diskSizeGb: 256, minNodes: 0, maxNodes: 1 },
    prod: { diskType: "Managed", diskSizeGb: 256, minNodes: 0, maxNodes: 2 },
  },
  accelerators: {
    "nvidia-t4": { machineType: "Standard_NC4as_T4_v3", machineTypes: /^Standard_NC\d+as_T4_v3$/, count: 1 },
    "nvidia-a10": {
      machineType: "Standard_NV36ads_A10_v5",
      machineTypes: /^Standard_NV\d+adm?s_A10_v5$/,
      count: 1,
    },
    "nvidia-a100": {
      machineType: "Standard_NC24ads_A100_v4",
      machineTypes: /^Standard_NC\d+ads_A100_v4$/,
      count: 1,
    },
    "nvidia-h100": {
      machineType: "Standard_NC40ads_H100_v5",
      machineTypes: /^Standard_NC\d+ads_H100_v5$/,
      count: 1,
    },
  },
};
