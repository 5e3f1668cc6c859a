import * as fs from "fs";
import * as path from "path";
import { ChartMirror } from "../config/airgap";

/** A chart as its upstream publishes it, pinned to one exact version. */
export interface UpstreamChart {
  /** Chart name in its repository. */
  chart: string;
  /** Helm repository URL, or `oci://<registry>/<path>` for charts published only to OCI. */
  repo: string;
  /** Exact version: a range would turn into an upgrade whenever upstream publishes. */
  version: string;
}

/** A chart from a Helm repository. */
export interface RepoChart {
  kind: "repo";
  chart: string;
  version: string;
  repo: string;
}

/** A chart from an OCI registry: `oci://<registry>/<path>/<chart>`. */
export interface OciChart {
  kind: "oci";
  ref: string;
  version: string;
}

/** A chart archive or directory in a local mirror. */
export interface MirroredChart {
  kind: "mirrored";
  path: string;
  version: string;
}

export type ResolvedChart = RepoChart | OciChart | MirroredChart;

/** Where a chart would be in a directory mirror: an archive, or a directory named after the chart. */
export function mirrorCandidates(dir: string, c: UpstreamChart): string[] {
  return [path.join(dir, `${c.chart}-${c.version}.tgz`), path.join(dir, c.chart)];
}

function chartYamlVersion(dir: string): string | undefined {
  const file = path.join(dir, "Chart.yaml");
  if (!fs.existsSync(file)) return undefined;
  return /^version:\s*["']?([^"'\s]+)/m.exec(fs.readFileSync(file, "utf8"))?.[1];
}

/** Why a chart cannot be taken from a directory mirror, or undefined when it can. */
export function mirrorProblem(dir: string, c: UpstreamChart): string | undefined {
  const [archive, chartDir] = mirrorCandidates(dir, c);
  if (fs.existsSync(archive)) return undefined;
  const found = chartYamlVersion(chartDir);
  if (found === c.version) return undefined;
  return found
    ? `${chartDir} holds ${c.chart} ${found}, but ${c.version} is pinned`
    : `neither ${archive} nor a chart directory ${chartDir} exists`;
}

/**
 * The one chart resolver: every upstream chart comes from its repository, from an OCI registry or
 * from a directory mirror, as `es1:airgap.charts` says, always at its pinned version.
 */
export function resolveChart(c: UpstreamChart, mirror: ChartMirror): ResolvedChart {
  switch (mirror.kind) {
    case "upstream":
      return c.repo.startsWith("oci://")
        ? { kind: "oci", ref: `${c.repo.replace(/\/+$/, "")}/${c.chart}`, version: c.version }
        : { kind: "repo", chart: c.chart, version: c.version, repo: c.repo };
    case "oci":
      return { kind: "oci", ref: `${mirror.base}/${c.chart}`, version: c.version };
    case "directory": {
      const problem = mirrorProblem(mirror.dir, c);
      if (problem)
        throw new Error(`chart ${c.chart} ${c.version} is missing from es1:airgap.charts: ${problem}`);
      const [archive, chartDir] = mirrorCandidates(mirror.dir, c);
      return { kind: "mirrored", path: fs.existsSync(archive) ? archive : chartDir, version: c.version };
    }
  }
}
