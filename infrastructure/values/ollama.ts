import { JsonObject } from "../../lib/json";
import { image, infraPlacement, placement, pullSecretRefs, resources, ValuesContext } from "./context";

/** PersistentVolumeClaim Pulumi makes for Ollama's models, so they survive restarts and reinstalls. */
export const OLLAMA_CLAIM = "es1-ollama-models";

/**
 * Where a model is pulled from: as given when it names a registry, otherwise from the Ollama
 * library, or from the same path in the mirror registry when one is set.
 */
export function modelReference(ctx: ValuesContext, model: string): string {
  const first = model.split("/")[0];
  if (model.includes("/") && (first.includes(".") || first.includes(":"))) return model;
  if (!ctx.registry) return model;
  return `${ctx.registry}/${model.includes("/") ? model : `library/${model}`}`;
}

/** Ollama (otwld chart): on the GPU pool when there is one, models on a volume of their own. */
export function ollamaValues(ctx: ValuesContext): JsonObject {
  const { size, models } = ctx.components.ollama;
  return {
    fullnameOverride: "es1-ollama",
    replicaCount: size.replicas,
    image: { repository: image(ctx, "docker.io/ollama/ollama") },
    imagePullSecrets: pullSecretRefs(ctx),
    ollama: {
      gpu: { enabled: ctx.ollamaGpu, type: "nvidia", number: 1 },
      models: { pull: models.map((m) => modelReference(ctx, m)) },
    },
    persistentVolume: { enabled: true, existingClaim: OLLAMA_CLAIM },
    // One ReadWriteOnce volume.
    updateStrategy: { type: "Recreate" },
    resources: resources(size.resources),
    ...(ctx.ollamaGpu ? placement(ctx, "aiml") : infraPlacement(ctx)),
  };
}
