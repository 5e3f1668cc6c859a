import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { PROJECT_ROOT } from "../lib/paths";
import { NAMESPACE, parseSettings, Settings, SettingsSource } from "./settings";
import { readStackSettings, storedInPlainText } from "./stored";

export * from "./airgap";
export * from "./alerting";
export * from "./backup";
export * from "./errors";
export * from "./cluster";
export * from "./components";
export * from "./credentials";
export * from "./customers";
export * from "./network";
export * from "./settings";

// The SDK knows which keys were stored encrypted but keeps the function internal; without it,
// every value is trusted to be encrypted.
const isConfigSecret =
  (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret ?? (() => true);

/** Stack config as a SettingsSource: the one place the program reads `pulumi.Config`. */
export function stackConfigSource(): SettingsSource {
  const config = new pulumi.Config(NAMESPACE);
  const prefix = `${NAMESPACE}:`;
  let settingsFile: string | undefined;
  return {
    keys: () =>
      Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length)),
    get: (key) => {
      const raw = config.get(key);
      if (raw === undefined) return undefined;
      // Structured values (`pulumi config set --path`) arrive as JSON text.
      if (/^\s*[[{]/.test(raw)) {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          return raw;
        }
      }
      return raw;
    },
    isSecret: (key) => isConfigSecret(`${prefix}${key}`),
    isPlainEntry: (key) => {
      const [top, ...entry] = key.split(".");
      settingsFile ??= readStackSettings(PROJECT_ROOT, pulumi.getStack()) ?? "";
      return storedInPlainText(settingsFile, `${prefix}${top}`, entry);
    },
  };
}

/** Settings of the running stack; relative paths in config are relative to the project directory. */
export function loadSettings(cwd: string = PROJECT_ROOT): Settings {
  return parseSettings(stackConfigSource(), {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    cwd,
  });
}
