import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedChart } from "./charts";
import { JsonObject } from "./json";
import { PROJECT_ROOT } from "./paths";

/** A chart directory of this repository. */
export interface LocalChart {
  kind: "local";
  /** Path relative to the project directory (absolute paths differ between machines and cause diffs). */
  path: string;
  /** sha256 of every file of the chart. */
  checksum: string;
  /** Chart.yaml's appVersion: what the chart deploys when no image tag is given. */
  appVersion?: string;
}

/** A chart of this repository, or an upstream chart where the resolver found it. */
export type ChartSource = LocalChart | ResolvedChart;

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/** Hash of a chart's files (names and contents), independent of where the checkout lives. */
export function chartChecksum(dir: string): string {
  const h = crypto.createHash("sha256");
  for (const f of filesUnder(dir)) {
    h.update(path.relative(dir, f).split(path.sep).join("/"));
    h.update("\0");
    h.update(fs.readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex");
}

const localCharts = new Map<string, LocalChart>();

/**
 * A chart of this repository, by its directory relative to the project root. Hashed once per
 * run: the platform chart serves every customer.
 */
export function localChart(relDir: string): LocalChart {
  const known = localCharts.get(relDir);
  if (known) return known;
  const chart = hashLocalChart(relDir);
  localCharts.set(relDir, chart);
  return chart;
}

function hashLocalChart(relDir: string): LocalChart {
  const abs = path.resolve(PROJECT_ROOT, relDir);
  if (!fs.existsSync(path.join(abs, "Chart.yaml"))) {
    throw new Error(`chart directory ${relDir} has no Chart.yaml`);
  }
  const rel = path.relative(PROJECT_ROOT, abs).split(path.sep).join("/");
  const appVersion = /^appVersion:\s*["']?([^"'\s#]+)/m.exec(
    fs.readFileSync(path.join(abs, "Chart.yaml"), "utf8"),
  )?.[1];
  return {
    kind: "local",
    path: `./${rel}`,
    checksum: chartChecksum(abs),
    ...(appVersion ? { appVersion } : {}),
  };
}

export interface ReleaseArgs {
  /** Helm release name: also the Pulumi resource name, so releases are predictable and importable. */
  name: string;
  /** Pulumi resource name when the release name repeats across namespaces (one per customer). */
  resourceName?: string;
  namespace: pulumi.Input<string>;
  chart: ChartSource;
  /** Plain data; an Output only where a value is a cloud resource's (an identity's ID). */
  values: JsonObject | pulumi.Output<JsonObject>;
  /** Seconds Helm waits for the release's workloads. */
  timeoutSeconds: number;
  provider: k8s.Provider;
}

/** The Release inputs that say which chart to install, with the values it gets. */
export function chartInputs(
  chart: ChartSource,
  values: JsonObject | pulumi.Output<JsonObject>,
): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts" | "values"> {
  switch (chart.kind) {
    case "local":
      return {
        chart: chart.path,
        values: pulumi.Output.isInstance(values)
          ? values.apply((v) => ({ ...v, es1ChartChecksum: chart.checksum }))
          : { ...values, es1ChartChecksum: chart.checksum },
      };
    case "repo":
      return { chart: chart.chart, version: chart.version, repositoryOpts: { repo: chart.repo }, values };
    case "oci":
      return { chart: chart.ref, version: chart.version, values };
    case "mirrored":
      // A local archive or directory carries its own version; Helm takes the path as it is.
      return { chart: chart.path, values };
  }
}

/** How many revisions Helm keeps: each is a Secret holding the values and manifest. */
export const MAX_HISTORY = 5;

/**
 * The one way this program creates a Helm Release, so every release follows the same rules:
 * explicit name, bounded history, atomic install/upgrade, and, for charts of this repo, a
 * checksum of the chart files in the values, because Pulumi only notices a local chart change
 * through its version.
 */
export function helmRelease(
  args: ReleaseArgs,
  opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    args.resourceName ?? args.name,
    {
      name: args.name,
      namespace: args.namespace,
      ...chartInputs(args.chart, args.values),
      maxHistory: MAX_HISTORY,
      atomic: true,
      cleanupOnFail: true,
      timeout: args.timeoutSeconds,
      createNamespace: false,
    },
    // Same name and namespace on replacement: Helm refuses a second release of the same name.
    { ...opts, provider: args.provider, deleteBeforeReplace: true },
  );
}
