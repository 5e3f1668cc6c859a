import * as pulumi from "@pulumi/pulumi";

/**
 * A stack-config mistake. It is a RunError so Pulumi prints the message alone (no stack trace),
 * and it is thrown while Settings are parsed, before any resource is registered.
 */
export class ConfigError extends pulumi.RunError {
  constructor(
    /** The full config key, e.g. `es1:cluster.provider`. */
    public readonly key: string,
    /** What is wrong and what is allowed. */
    public readonly problem: string,
  ) {
    super(`Invalid stack configuration '${key}': ${problem}`);
    this.name = "ConfigError";
  }
}

/** Several config mistakes at once, so a user fixes them in one round. */
export class ConfigErrors extends pulumi.RunError {
  constructor(public readonly errors: ConfigError[]) {
    super(
      errors.length === 1
        ? errors[0].message
        : `Invalid stack configuration (${errors.length} problems):\n` +
            errors.map((e) => `  - ${e.message}`).join("\n"),
    );
    this.name = "ConfigErrors";
  }
}

/** JSON rendering of a bad value for messages, short enough to read. */
export function show(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
