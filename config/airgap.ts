import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { configPath } from "./cluster";
import { show } from "./errors";
import { Reader } from "./reader";

/** Where Helm charts come from. */
export type ChartMirror =
  /** Each chart's upstream repository (needs internet access from the machine running Pulumi). */
  | { kind: "upstream" }
  /** An OCI registry holding every chart as `<base>/<chart>:<version>`. */
  | { kind: "oci"; base: string }
  /** A directory of chart archives (`<chart>-<version>.tgz`) or chart directories (`<chart>/`). */
  | { kind: "directory"; dir: string };

/** Name of the pull Secret the program writes in every namespace it creates (es1:airgap.registryAuth). */
export const REGISTRY_PULL_SECRET = "es1-registry";

/** A login to the site registry: the program turns it into a dockerconfigjson Secret. */
export interface RegistryAuth {
  username: string;
  /** Password or token: a Pulumi secret, never in values, outputs or logs. */
  password: pulumi.Output<string>;
}

export interface AirgapSettings {
  charts: ChartMirror;
  /** Registry host (and optional path) every image is pulled from instead of its public one. */
  registry?: string;
  /**
   * Secrets (type dockerconfigjson) in each namespace that give access to that registry: those
   * named in es1:airgap.imagePullSecrets, and REGISTRY_PULL_SECRET when registryAuth is set.
   */
  imagePullSecrets: string[];
  /** es1:airgap.registryAuth: the program writes REGISTRY_PULL_SECRET from it. */
  registryAuth?: RegistryAuth;
}

const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._/-][a-z0-9]+)*)?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Parses `es1:airgap`: the chart mirror, the image registry and its pull secrets. */
export function parseAirgap(
  r: Reader,
  cwd: string,
  isSecret: (key: string) => boolean = () => false,
): AirgapSettings {
  const obj = r.object("airgap", r.raw("airgap")) ?? {};
  r.knownKeys("airgap", obj, ["charts", "registry", "imagePullSecrets", "registryAuth"]);

  let charts: ChartMirror = { kind: "upstream" };
  const source = r.optionalString("airgap.charts", obj.charts);
  if (source?.startsWith("oci://")) {
    const base = source.replace(/\/+$/, "");
    if (!/^oci:\/\/[^/\s]+(\/[^\s]+)?$/.test(base)) {
      r.fail("airgap.charts", `${show(source)} is not an OCI location; use oci://<registry>[/<path>]`);
    } else {
      charts = { kind: "oci", base };
    }
  } else if (source !== undefined) {
    const dir = configPath(cwd, source);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      r.fail(
        "airgap.charts",
        `${show(source)} is not a directory; give a directory of chart archives or an oci://<registry>/<path>`,
      );
    } else {
      charts = { kind: "directory", dir };
    }
  }

  const registry = r.optionalString("airgap.registry", obj.registry);
  if (registry !== undefined && !REGISTRY.test(registry)) {
    r.fail(
      "airgap.registry",
      `${show(registry)} is not a registry; use a host with optional port and path, e.g. registry.internal:5000/es1`,
    );
  }
  const imagePullSecrets = r.stringList("airgap.imagePullSecrets", obj.imagePullSecrets);
  for (const name of imagePullSecrets) {
    if (!DNS_NAME.test(name)) r.fail("airgap.imagePullSecrets", `${show(name)} is not a Secret name`);
    if (name === REGISTRY_PULL_SECRET && obj.registryAuth !== undefined)
      r.fail(
        "airgap.imagePullSecrets",
        `${show(name)} is the Secret the program writes from registryAuth; leave it out`,
      );
  }
  const registryAuth = parseRegistryAuth(r, obj.registryAuth, registry, isSecret("airgap"));
  return {
    charts,
    registry: registry && REGISTRY.test(registry) ? registry : undefined,
    imagePullSecrets: registryAuth ? [...imagePullSecrets, REGISTRY_PULL_SECRET] : imagePullSecrets,
    ...(registryAuth ? { registryAuth } : {}),
  };
}

/** `es1:airgap.registryAuth`: username and password (or token), stored encrypted, for the registry set. */
function parseRegistryAuth(
  r: Reader,
  value: unknown,
  registry: string | undefined,
  secret: boolean,
): RegistryAuth | undefined {
  if (value === undefined) return undefined;
  const auth = r.object("airgap.registryAuth", value) ?? {};
  r.knownKeys("airgap.registryAuth", auth, ["username", "password"]);
  const username = r.optionalString("airgap.registryAuth.username", auth.username);
  if (username === undefined || username === "" || /[:\s]/.test(username))
    r.fail("airgap.registryAuth.username", "is required: the registry user (no ':' or spaces)");
  if (typeof auth.password !== "string" || auth.password === "")
    r.fail(
      "airgap.registryAuth.password",
      "is required: the registry password or token, set with pulumi config set --secret --path es1:airgap.registryAuth.password …",
    );
  if (registry === undefined)
    r.fail("airgap.registryAuth", "needs es1:airgap.registry: the registry these credentials are for");
  if (auth.password !== undefined && !secret) {
    r.fail(
      "airgap.registryAuth.password",
      "is a credential and must be stored encrypted: pulumi config set --secret --path es1:airgap.registryAuth.password …",
    );
    return undefined;
  }
  if (username === undefined || typeof auth.password !== "string" || registry === undefined) return undefined;
  return { username, password: pulumi.secret(auth.password) };
}
