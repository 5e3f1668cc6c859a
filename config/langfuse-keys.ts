// es1:langfuseKeys: per customer, the API keys of its own Langfuse project. Langfuse OSS makes
// one organization, project and key pair at start (LANGFUSE_INIT_*); further projects come from its
// UI, or from the Admin API of its Enterprise edition only, so the platform team creates each
// customer's project and gives its keys here (docs/customers.md, Isolation). A customer without
// keys sends no traces.
import { isPlainObject, PlainObject, Reader } from "./reader";

export interface LangfuseKeys {
  publicKey: string;
  secretKey: string;
}

const KEY_FORMATS = {
  publicKey: { re: /^pk-lf-[A-Za-z0-9-]+$/, says: "a Langfuse public key (pk-lf-…)" },
  secretKey: { re: /^sk-lf-[A-Za-z0-9-]+$/, says: "a Langfuse secret key (sk-lf-…)" },
} as const;

/**
 * Parses `es1:langfuseKeys` (`<customer>: { publicKey, secretKey }`): stored encrypted, each entry
 * too, for listed customers only. Messages name keys, never values.
 */
export function parseLangfuseKeys(
  r: Reader,
  customers: readonly string[],
  isSecret: (key: string) => boolean,
  isPlainEntry: (key: string) => boolean,
): Record<string, LangfuseKeys> {
  const obj = r.secretObject(
    "langfuseKeys",
    r.raw("langfuseKeys"),
    "customer names to Langfuse project keys",
  );
  if (!obj || Object.keys(obj).length === 0) return {};
  if (!isSecret("langfuseKeys")) {
    r.fail(
      "langfuseKeys",
      "Langfuse keys must be stored encrypted: pulumi config set --secret --path es1:langfuseKeys.<customer>.secretKey ...",
    );
    return {};
  }
  const out: Record<string, LangfuseKeys> = {};
  for (const [name, entry] of Object.entries(obj)) {
    const key = `langfuseKeys.${name}`;
    if (!customers.includes(name)) {
      r.fail(key, `no customer '${name}' in es1:customers; remove its keys or add the customer`);
      continue;
    }
    if (!isPlainObject(entry)) {
      r.fail(key, "expected { publicKey, secretKey } (not shown: it may be a secret)");
      continue;
    }
    r.knownKeys(key, entry, Object.keys(KEY_FORMATS));
    const keys: Partial<LangfuseKeys> = {};
    for (const k of Object.keys(KEY_FORMATS) as (keyof LangfuseKeys)[]) {
      const v = (entry as PlainObject)[k];
      const at = `${key}.${k}`;
      if (v === undefined) r.fail(at, `required: ${KEY_FORMATS[k].says} of ${name}'s Langfuse project`);
      // Each entry on its own: a plain key beside an encrypted one is still plain text.
      else if (isPlainEntry(at))
        r.fail(
          at,
          `stored in plain text beside encrypted entries; set it again with pulumi config set --secret --path es1:${at}`,
        );
      else if (typeof v !== "string" || !KEY_FORMATS[k].re.test(v))
        r.fail(at, `the value set is not valid; expected ${KEY_FORMATS[k].says}`);
      else keys[k] = v;
    }
    if (keys.publicKey !== undefined && keys.secretKey !== undefined)
      out[name] = { publicKey: keys.publicKey, secretKey: keys.secretKey };
  }
  return out;
}
