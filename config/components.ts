import { show } from "./errors";
import { PlainObject, Reader } from "./reader";
import { COMPONENTS, ComponentName, ComponentSize, MAX_REPLICAS, NEEDS, Resources, SIZING } from "./sizing";
import type { SizingProfile } from "./settings";

export * from "./sizing";

export interface ComponentSettings {
  enabled: boolean;
  /** The sizing profile's values with this stack's overrides applied. */
  size: ComponentSize;
}

export interface OllamaSettings extends ComponentSettings {
  /** Run on the GPU pool; unset means "when the cluster has one". */
  gpu?: boolean;
  /** Models pulled at start: names from the Ollama library, or references into a mirror. */
  models: string[];
}

export interface LangfuseSettings extends ComponentSettings {
  /** Install cert-manager and the ClickHouse operator (cluster-wide); false when the cluster has them. */
  installOperators: boolean;
}

export type ComponentsSettings = Record<Exclude<ComponentName, "ollama" | "langfuse">, ComponentSettings> & {
  ollama: OllamaSettings;
  langfuse: LangfuseSettings;
};

const CPU = /^([0-9]+(\.[0-9]+)?|[0-9]+m)$/;
const BYTES = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const MODEL = /^[a-z0-9][a-z0-9._:/-]*$/i;

const SIZE_KEYS = ["enabled", "replicas", "storage", "resources"] as const;
const EXTRA_KEYS: Partial<Record<ComponentName, readonly string[]>> = {
  ollama: ["gpu", "models"],
  langfuse: ["installOperators"],
};

function quantity(
  r: Reader,
  path: string,
  value: unknown,
  fallback: string,
  re: RegExp,
  example: string,
): string {
  if (value === undefined || value === null) return fallback;
  const s = typeof value === "number" ? String(value) : value;
  if (typeof s !== "string" || !re.test(s)) {
    r.fail(path, `${show(value)} is not a Kubernetes quantity; use e.g. ${example}`);
    return fallback;
  }
  return s;
}

function parseResources(r: Reader, path: string, value: unknown, base: Resources): Resources {
  const o = r.object(path, value);
  if (!o) return base;
  r.knownKeys(path, o, ["requests", "limits"]);
  const req = r.object(`${path}.requests`, o.requests) ?? {};
  const lim = r.object(`${path}.limits`, o.limits) ?? {};
  r.knownKeys(`${path}.requests`, req, ["cpu", "memory"]);
  r.knownKeys(`${path}.limits`, lim, ["cpu", "memory"]);
  const out: Resources = {
    requests: {
      cpu: quantity(r, `${path}.requests.cpu`, req.cpu, base.requests.cpu, CPU, '"500m" or "2"'),
      memory: quantity(r, `${path}.requests.memory`, req.memory, base.requests.memory, BYTES, '"512Mi"'),
    },
    limits: {
      memory: quantity(r, `${path}.limits.memory`, lim.memory, base.limits.memory, BYTES, '"1Gi"'),
    },
  };
  if (lim.cpu !== undefined) out.limits.cpu = quantity(r, `${path}.limits.cpu`, lim.cpu, "", CPU, '"2"');
  return out;
}

function parseComponent(
  r: Reader,
  name: ComponentName,
  value: unknown,
  base: ComponentSize,
): ComponentSettings {
  const path = `components.${name}`;
  const o: PlainObject = r.object(path, value) ?? {};
  r.knownKeys(path, o, [...SIZE_KEYS, ...(EXTRA_KEYS[name] ?? [])]);
  const size: ComponentSize = {
    replicas: r.integer(`${path}.replicas`, o.replicas, base.replicas, { min: 1, max: MAX_REPLICAS[name] }),
    resources: parseResources(r, `${path}.resources`, o.resources, base.resources),
  };
  if (base.storage !== undefined) {
    size.storage = quantity(r, `${path}.storage`, o.storage, base.storage, BYTES, '"20Gi"');
  } else if (o.storage !== undefined) {
    r.fail(`${path}.storage`, `${name} keeps no volume of its own; remove the key`);
  }
  return { enabled: r.boolean(`${path}.enabled`, o.enabled, true), size };
}

/**
 * Parses `es1:components`: which shared components run and how big, starting from the sizing
 * profile. A component whose dependency is switched off is refused here, not at install time.
 */
export function parseComponents(r: Reader, sizing: SizingProfile): ComponentsSettings {
  const all = r.object("components", r.raw("components")) ?? {};
  r.knownKeys("components", all, COMPONENTS);
  const parsed = Object.fromEntries(
    COMPONENTS.map((name) => [name, parseComponent(r, name, all[name], SIZING[sizing][name])]),
  ) as Record<ComponentName, ComponentSettings>;

  const ollamaRaw = r.object("components.ollama", all.ollama) ?? {};
  const gpu =
    ollamaRaw.gpu === undefined ? undefined : r.boolean("components.ollama.gpu", ollamaRaw.gpu, false);
  const models = r.stringList("components.ollama.models", ollamaRaw.models);
  models.forEach((m, i) => {
    if (!MODEL.test(m))
      r.fail(`components.ollama.models[${i}]`, `${show(m)} is not a model reference, e.g. "llama3.2:1b"`);
  });

  for (const name of COMPONENTS) {
    if (!parsed[name].enabled) continue;
    for (const needed of NEEDS[name]) {
      if (!parsed[needed].enabled) {
        r.fail(
          `components.${name}.enabled`,
          `${name} keeps its data in ${needed}, which '${r.key(`components.${needed}.enabled`)}' switches off; ` +
            `switch ${name} off too or leave ${needed} on`,
        );
      }
    }
  }
  const langfuseRaw = r.object("components.langfuse", all.langfuse) ?? {};
  const installOperators = r.boolean(
    "components.langfuse.installOperators",
    langfuseRaw.installOperators,
    true,
  );
  return {
    ...parsed,
    ollama: { ...parsed.ollama, gpu, models },
    langfuse: { ...parsed.langfuse, installOperators },
  };
}
