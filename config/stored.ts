// Which entries of a structured config key were stored in plain text. Pulumi marks a whole key
// secret when any part of it is encrypted, so `es1:secrets` with one `secure:` entry and one plain
// one reads as "encrypted"; the stack's settings file (Pulumi.<stack>.yaml) says per entry.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

function isSecure(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).join() === "secure";
}

/** Whether any value under `v` is stored in plain text. */
function hasPlain(v: unknown): boolean {
  if (isSecure(v)) return false;
  if (Array.isArray(v)) return v.some(hasPlain);
  if (typeof v === "object" && v !== null) return Object.values(v).some(hasPlain);
  return v !== null && v !== undefined;
}

/**
 * Whether the entry at `key` (`es1:secrets`) and `entry` (`["postgresqlSuperuserPassword"]`) of a
 * stack settings file's `config` holds anything in plain text. False when the file does not hold it.
 */
export function storedInPlainText(settingsFile: string, key: string, entry: readonly string[]): boolean {
  const doc = yaml.load(settingsFile) as { config?: Record<string, unknown> } | undefined;
  let v: unknown = doc?.config?.[key];
  for (const part of entry) {
    if (typeof v !== "object" || v === null || isSecure(v)) return false;
    v = (v as Record<string, unknown>)[part];
  }
  return v !== undefined && hasPlain(v);
}

/** The settings file of `stack` in `projectDir` (`org/project/stack` uses its last part), if any. */
export function readStackSettings(projectDir: string, stack: string): string | undefined {
  const file = path.join(projectDir, `Pulumi.${stack.split("/").pop()}.yaml`);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}
