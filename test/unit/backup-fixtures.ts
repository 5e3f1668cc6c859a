// es1:backup as the backup tests set it, and the problems a config is refused with.
import * as assert from "assert";
import { ConfigErrors } from "../../config";
import { settingsFrom } from "./values-fixtures";

export const ACCESS_KEY = "AKIAES1BACKUPTEST";
export const SECRET_KEY = "s3cr3t-backup-key-value";

/** es1:backup as a site sets it (the credentials stored with --secret). */
export function backupConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    objectStore: {
      endpoint: "https://s3.site.example:9000",
      bucket: "es1-backups",
      accessKeyId: ACCESS_KEY,
      secretAccessKey: SECRET_KEY,
    },
    ...extra,
  };
}

/** The messages es1:backup = `backup` is refused with (it must be refused). */
export function backupProblems(
  backup: unknown,
  extra: Record<string, unknown> = {},
  secret = true,
): string[] {
  try {
    settingsFrom({ backup, ...extra }, secret ? ["backup"] : []);
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  assert.fail("expected the config to be refused");
}
