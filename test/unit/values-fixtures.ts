// Settings and ValuesContexts for tests of the values builders, from config as a user writes it.
import * as os from "os";
import { CloudName, NODE_POOLS } from "../../clusters/types";
import { parseSettings, Settings, SettingsSource } from "../../config";
import { valuesContext } from "../../infrastructure";
import { ValuesContext } from "../../infrastructure/values";

/** Settings parsed from `es1:*` values (without the namespace), e.g. `{ sizing: "minimal" }`. */
export function settingsFrom(values: Record<string, unknown>, secretKeys: string[] = []): Settings {
  const src: SettingsSource = {
    keys: () => Object.keys(values),
    get: (k) => values[k],
    isSecret: (k) => secretKeys.includes(k),
  };
  return parseSettings(src, { project: "es1-platform", stack: "test", cwd: os.tmpdir() });
}

/** A ValuesContext on a cluster with every ES1 pool (GPUs included) and StorageClass `fast-ssd`. */
export function contextFrom(
  values: Record<string, unknown>,
  cloud: CloudName = "gke",
  secretKeys: string[] = [],
): ValuesContext {
  return valuesContext(settingsFrom(values, secretKeys), {
    cloud,
    storageClass: "fast-ssd",
    nodePools: NODE_POOLS,
  });
}

// `npx ts-node -T test/unit/values-fixtures.ts <release> [es1 config as JSON]` prints the values
// one release gets, e.g. to render a chart with them.
if (require.main === module) {
  const [key, config] = process.argv.slice(2);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { VALUES } = require("../../infrastructure/values") as typeof import("../../infrastructure/values");
  const builder = VALUES[key as keyof typeof VALUES];
  if (!builder) throw new Error(`unknown release ${key}; known: ${Object.keys(VALUES).join(", ")}`);
  process.stdout.write(
    `${JSON.stringify(builder(contextFrom(config ? JSON.parse(config) : {})), null, 2)}\n`,
  );
}
