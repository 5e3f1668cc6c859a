import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A password: the value from stack config when one is set, otherwise generated once by
 * @pulumi/random and kept in (encrypted) state, so it is stable across updates. Always secret.
 */
export function credential(
  name: string,
  configured: pulumi.Output<string> | undefined,
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  if (configured) return pulumi.secret(configured);
  // Letters and digits only: these passwords end up in connection URLs and config files.
  const generated = new random.RandomPassword(name, { length: 32, special: false }, opts);
  return pulumi.secret(generated.result);
}
