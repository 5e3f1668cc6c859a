import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CredentialFormat } from "../config/credentials";

/**
 * A credential: the value from stack config when one is set, otherwise generated once by
 * @pulumi/random and kept in (encrypted) state, so it is stable across updates. Always secret.
 */
export function credential(
  name: string,
  configured: pulumi.Output<string> | undefined,
  opts: pulumi.CustomResourceOptions,
  format: CredentialFormat = "password",
): pulumi.Output<string> {
  if (configured) return pulumi.secret(configured);
  switch (format) {
    case "password": {
      // Letters and digits only: these passwords end up in connection URLs and config files.
      const generated = new random.RandomPassword(name, { length: 32, special: false }, opts);
      return pulumi.secret(generated.result);
    }
    case "fernet": {
      // A Fernet key is 32 random bytes in URL-safe base64 (with its padding).
      const bytes = new random.RandomBytes(name, { length: 32 }, opts);
      return pulumi.secret(bytes.base64.apply((b) => b.replace(/\+/g, "-").replace(/\//g, "_")));
    }
    case "hex256": {
      const bytes = new random.RandomBytes(name, { length: 32 }, opts);
      return pulumi.secret(bytes.hex);
    }
  }
}
