// The values the program gives every release it plans, for a matrix of stack configs, so the charts
// tier renders the real upstream charts with exactly those values. Each case is stack config as a
// user writes it, parsed into Settings and turned into a ValuesContext the way the program does.
//
//   ts-node -T test/charts/program-values.ts write MIRROR OUT
//     writes OUT/<n>.json, one per distinct (release, values, API versions), and OUT/renders.tsv:
//     file, release, Helm release name, chart archive, API versions (comma-separated), cases
//     (separated by ";"); OUT/airflow-statsd-monitor.json the ServiceMonitor the program creates
//     for Airflow (the same in every case that has one).
//   ts-node -T test/charts/program-values.ts selects MONITOR.json RENDER.yaml...
//     checks that a ServiceMonitor selects one Service of each rendered chart, on a port it names.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { NODE_POOLS } from "../../clusters/types";
import { placements } from "../../clusters/pools";
import { parseSettings, Settings, SIZING_PROFILES } from "../../config";
import { COMPONENTS, ComponentName } from "../../config/sizing";
import { plannedReleases, valuesContext } from "../../infrastructure";
import { ReleaseKey, releaseName, resolveCharts } from "../../infrastructure/catalog";
import { VALUES } from "../../infrastructure/values";
import { airflowStatsdMonitor } from "../../infrastructure/values/airflow";
import { PROJECT_ROOT } from "../../lib/paths";
import { customerMlflowObjects, customerMlflowValues } from "../../platform/mlflow";

/** One stack config: the `es1:*` keys as a user writes them (without the namespace). */
interface Case {
  name: string;
  config: Record<string, unknown>;
}

const AIRGAP = { registry: "mirror.example:5000/es1", imagePullSecrets: ["mirror-pull"] };

/** Components whose data lives in a store: off with the store, or the config is refused. */
const NEEDS: Partial<Record<ComponentName, readonly ComponentName[]>> = {
  postgresql: ["airflow", "mlflow", "n8n", "langflow", "langfuse"],
  redis: ["airflow", "n8n", "langfuse"],
};

function off(...names: ComponentName[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, { enabled: false }]));
}

/**
 * Sizing × air gap × monitoring, then each component off in turn, then what else changes values:
 * Langfuse without its operators, a cloud cluster with a GPU pool, customers in the stack.
 */
export function matrix(): Case[] {
  const cases: Case[] = [];
  for (const sizing of SIZING_PROFILES) {
    for (const airgap of [false, true]) {
      for (const monitoring of [true, false]) {
        cases.push({
          name: `${sizing}${airgap ? ", air gap" : ""}${monitoring ? "" : ", monitoring off"}`,
          config: {
            sizing,
            ...(sizing === "production" ? { environment: "prod" } : {}),
            ...(airgap ? { airgap: AIRGAP } : {}),
            ...(monitoring ? {} : { components: off("monitoring") }),
          },
        });
      }
    }
  }
  for (const c of COMPONENTS) {
    cases.push({ name: `${c} off`, config: { components: off(c, ...(NEEDS[c] ?? [])) } });
  }
  cases.push(
    { name: "langfuse without operators", config: { components: { langfuse: { installOperators: false } } } },
    {
      name: "gke with a GPU pool",
      config: {
        cluster: {
          provider: "gke",
          project: "acme-es1",
          region: "europe-west1",
          nodePools: { aiml: { acceleratorType: "nvidia-l4" } },
        },
        components: { ollama: { models: ["llama3.2:1b"] } },
      },
    },
    {
      name: "customers, one leaving with its data",
      config: {
        customers: { beam: {}, nordlys: { enabled: false, purgeData: true }, rimbal: { enabled: false } },
        access: { mode: "ingress" },
      },
    },
    {
      // The Barman Cloud plugin, PostgreSQL's plugin entry and Velero (its location, plugin image).
      name: "backups to an object store",
      config: {
        backup: {
          objectStore: {
            endpoint: "https://s3.site.example:9000",
            bucket: "es1-backups",
            accessKeyId: "AKIACHARTS",
            secretAccessKey: "charts-secret-key",
          },
          volumes: { components: { ollama: true } },
        },
      },
    },
    {
      // Routed shared UIs: Grafana's root_url, Langfuse's NextAuth URL, cert-manager's Gateway API solver.
      name: "gateway access with ACME",
      config: {
        cluster: { provider: "gke", project: "acme-es1", region: "europe-west1" },
        access: { baseDomain: "es1.example.com", tls: { issuer: "acme", acmeEmail: "ops@example.com" } },
      },
    },
    {
      // es1:access.sso: Grafana's generic OAuth, Airflow's webserver_config.py, Langfuse's custom
      // OIDC provider, MLflow's oauth2-proxy sidecar, each reading the client secret from es1-sso.
      name: "single sign-on for the shared UIs",
      config: {
        cluster: { provider: "gke", project: "acme-es1", region: "europe-west1" },
        access: {
          baseDomain: "es1.example.com",
          tls: { issuer: "acme", acmeEmail: "ops@example.com" },
          sso: {
            issuer: "https://login.example.com/realms/es1",
            clientId: "es1",
            clientSecret: "charts-client-secret",
            provider: "keycloak",
            adminGroups: ["es1-admins"],
            viewerGroups: ["es1-viewers"],
          },
        },
      },
    },
  );
  return cases;
}

/** Settings exactly as the program parses them (customers/ is read from the project). */
function settingsOf(config: Record<string, unknown>): Settings {
  return parseSettings(
    // es1:backup and es1:access (the SSO client secret) hold credentials: stored as secrets, as
    // the program requires.
    {
      keys: () => Object.keys(config),
      get: (k) => config[k],
      isSecret: (k) => k === "backup" || k === "access",
    },
    { project: "es1-platform", stack: "charts", cwd: PROJECT_ROOT },
  );
}

/** The Cluster contract's plain part, as each cluster provider reports it. */
function clusterOf(s: Settings): Parameters<typeof valuesContext>[1] {
  const c = s.cluster;
  if (c.provider === "existing")
    return { cloud: "existing", storageClass: c.storageClass, nodePools: NODE_POOLS };
  return { cloud: c.provider, storageClass: c.storageClass, nodePools: placements(c.nodePools) };
}

/** API groups and kinds the cluster serves when the stack is deployed (charts test for them). */
function apiVersions(s: Settings): string[] {
  const planned = plannedReleases(s);
  const c = s.components;
  const out: string[] = [];
  if (planned.includes("monitoring-crds"))
    out.push(
      "monitoring.coreos.com/v1",
      ...["ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe"].map(
        (k) => `monitoring.coreos.com/v1/${k}`,
      ),
    );
  if (planned.includes("postgresql-operator"))
    out.push("postgresql.cnpg.io/v1", "postgresql.cnpg.io/v1/Cluster");
  // Langfuse without installOperators runs where the cluster already has both operators.
  if (c.langfuse.enabled)
    out.push(
      "cert-manager.io/v1",
      "cert-manager.io/v1/Certificate",
      "cert-manager.io/v1/Issuer",
      "clickhouse.com/v1alpha1",
      "clickhouse.com/v1alpha1/ClickHouseCluster",
      "clickhouse.com/v1alpha1/KeeperCluster",
    );
  return out;
}

interface Render {
  file: string;
  key: ReleaseKey;
  /** The Helm release name, when not the catalog's (a customer's own MLflow). */
  name?: string;
  chart: string;
  apis: string[];
  cases: string[];
}

function write(mirror: string, out: string): void {
  fs.mkdirSync(out, { recursive: true });
  const monitors = new Set<string>();
  const renders = new Map<string, Render>();
  for (const c of matrix()) {
    const settings = settingsOf({ ...c.config, airgap: { ...(c.config.airgap as object), charts: mirror } });
    const planned = plannedReleases(settings);
    const charts = resolveCharts(planned, settings.airgap.charts);
    const ctx = valuesContext(settings, clusterOf(settings));
    const apis = apiVersions(settings);
    // Each enabled customer's own MLflow (platform/mlflow.ts), from the mlflow chart.
    const customerMlflows = planned.includes("mlflow")
      ? settings.customers
          .filter((x) => x.enabled)
          .map((x) => ({
            key: "mlflow" as const,
            name: customerMlflowObjects(x.name).release,
            values: customerMlflowValues({
              customer: x,
              database: {
                host: "es1-postgresql-rw.es1-infrastructure.svc",
                port: 5432,
                name: `${x.name}_mlflow`,
              },
              platformPool: ctx.pools.platform,
              registry: settings.airgap.registry,
              imagePullSecrets: settings.airgap.imagePullSecrets,
              monitoring: ctx.monitoring,
            }),
          }))
      : [];
    for (const { key, name, values: v } of [
      ...planned.map((key) => ({ key, name: undefined, values: VALUES[key](ctx) })),
      ...customerMlflows,
    ]) {
      const chart = charts[key];
      if (chart?.kind !== "mirrored") throw new Error(`${key}: not resolved from the mirror ${mirror}`);
      const values = JSON.stringify(v, null, 2);
      const id = crypto
        .createHash("sha256")
        .update(`${key}\0${values}\0${apis.join(",")}`)
        .digest("hex");
      let r = renders.get(id);
      if (!r) {
        r = {
          file: `${renders.size + 1}.json`,
          key,
          ...(name ? { name } : {}),
          chart: chart.path,
          apis,
          cases: [],
        };
        renders.set(id, r);
        fs.writeFileSync(path.join(out, r.file), `${values}\n`);
      }
      r.cases.push(c.name);
    }
    const monitor = airflowStatsdMonitor(ctx);
    if (monitor) monitors.add(JSON.stringify(monitor, null, 2));
  }
  if (monitors.size !== 1)
    throw new Error(`expected one Airflow ServiceMonitor over the matrix, got ${monitors.size}`);
  fs.writeFileSync(path.join(out, "airflow-statsd-monitor.json"), `${[...monitors][0]}\n`);
  const rows = [...renders.values()].map((r) =>
    [r.file, r.key, r.name ?? releaseName(r.key), r.chart, r.apis.join(","), r.cases.join(";")].join("\t"),
  );
  fs.writeFileSync(path.join(out, "renders.tsv"), `${rows.join("\n")}\n`);
}

interface Manifest {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { ports?: { name?: string }[] };
}

/** Whether the monitor selects a rendered Service by its labels, on a port that Service names. */
function selects(renderFile: string, monitorFile: string): string | undefined {
  const monitor = JSON.parse(fs.readFileSync(monitorFile, "utf8")) as ReturnType<typeof airflowStatsdMonitor>;
  if (!monitor) return "no ServiceMonitor";
  const spec = monitor.spec as {
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string }[];
  };
  const services = yaml
    .loadAll(fs.readFileSync(renderFile, "utf8"))
    .filter((d): d is Manifest => typeof d === "object" && d !== null && (d as Manifest).kind === "Service");
  const match = services.filter((s) =>
    Object.entries(spec.selector.matchLabels).every(([k, v]) => s.metadata?.labels?.[k] === v),
  );
  if (match.length !== 1)
    return `selector ${JSON.stringify(spec.selector.matchLabels)} matches ${match.length} Services of the render`;
  const ports = (match[0].spec?.ports ?? []).map((p) => p.name);
  const missing = spec.endpoints.map((e) => e.port).filter((p) => !ports.includes(p));
  if (missing.length > 0)
    return `Service ${match[0].metadata?.name} has no port ${missing.join(", ")} (${ports.join(", ")})`;
  process.stdout.write(
    `${monitor.metadata.name} selects Service ${match[0].metadata?.name}, port ${ports.join(", ")}\n`,
  );
  return undefined;
}

if (require.main === module) {
  const [mode, a, ...rest] = process.argv.slice(2);
  if (mode === "write" && a && rest.length === 1) write(path.resolve(a), path.resolve(rest[0]));
  else if (mode === "selects" && a && rest.length > 0) {
    const problems = rest.flatMap((r) => {
      const problem = selects(r, a);
      return problem ? [`${r}: ${problem}`] : [];
    });
    if (problems.length > 0) {
      process.stderr.write(`${problems.join("\n")}\n`);
      process.exit(1);
    }
  } else {
    process.stderr.write("usage: program-values.ts write MIRROR OUT | selects MONITOR.json RENDER.yaml...\n");
    process.exit(2);
  }
}
