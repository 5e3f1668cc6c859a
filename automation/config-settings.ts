// `--set key=value`: stack config given on the command line. No Pulumi import here, so argument
// parsing stays cheap to load and to test.

/** A stack config value: `key` in Pulumi's path syntax (`es1:cluster.context`, `a.b[0].c`). */
export interface ConfigSetting {
  key: string;
  value: string;
}

/** The key as `pulumi config set --path` takes it: keys without a namespace are `es1:` keys. */
export function qualifyKey(key: string): string {
  const head = key.split(/[.[]/)[0];
  return head.includes(":") ? key : `es1:${key}`;
}

/** Parses `key=value` (the first `=` separates them; the value may be empty), or undefined. */
export function parseSetting(text: string): ConfigSetting | undefined {
  const eq = text.indexOf("=");
  if (eq <= 0) return undefined;
  const key = text.slice(0, eq).trim();
  if (key === "" || /\s/.test(key) || key.startsWith(":") || key.endsWith(":")) return undefined;
  return { key: qualifyKey(key), value: text.slice(eq + 1) };
}
