import * as fs from "fs";
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

export interface AirgapSettings {
  charts: ChartMirror;
  /** Registry host (and optional path) every image is pulled from instead of its public one. */
  registry?: string;
  /** Secrets (type dockerconfigjson) in each namespace that give access to that registry. */
  imagePullSecrets: string[];
}

const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._/-][a-z0-9]+)*)?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Parses `es1:airgap`: the chart mirror, the image registry and its pull secrets. */
export function parseAirgap(r: Reader, cwd: string): AirgapSettings {
  const obj = r.object("airgap", r.raw("airgap")) ?? {};
  r.knownKeys("airgap", obj, ["charts", "registry", "imagePullSecrets"]);

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
  }
  return { charts, registry: registry && REGISTRY.test(registry) ? registry : undefined, imagePullSecrets };
}
