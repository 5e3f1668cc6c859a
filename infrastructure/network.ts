// The NetworkPolicies of es1-infrastructure (DESIGN.md principle 8, "closed by default"): every
// pod starts denied in and out; each flow below is one a component needs, written next to who
// needs it, grounded in the Services and ports the pinned charts render (docs/customers.md,
// "Isolation", gives the resulting matrix). Pure data: Settings in, NetworkPolicy specs out.
import { ComponentName } from "../config/sizing";
import { NetworkSettings } from "../config/network";
import { INFRASTRUCTURE_NAMESPACE, NODE_EXPORTER_NAMESPACE } from "./layout";

/** Labels of customer platform namespaces (platform/index.ts). */
export const PLATFORM_NAMESPACE_LABELS = { "es1-role": "platform" } as const;

/**
 * The label platform/chart puts on the pods that send traces, only when their customer has a
 * Langfuse project of its own (es1:langfuseKeys): Langfuse admits those pods alone.
 */
export const LANGFUSE_CLIENT_LABELS = { "es1-langfuse-client": "true" } as const;

/** Where the cluster DNS runs. */
const DNS_NAMESPACE = { "kubernetes.io/metadata.name": "kube-system" };
const DNS_PODS = { "k8s-app": "kube-dns" };

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

/** Pods of one kind in es1-infrastructure, as their chart (or operator) labels them. */
interface Group {
  component: ComponentName;
  pods: LabelSelector;
  /** Only when this release is planned (operators Langfuse may bring). */
  withOperators?: boolean;
}

/**
 * Pod groups, by the labels the pinned charts put on their pod templates (and, for pods an
 * operator makes, the labels that operator sets: CloudNativePG `cnpg.io/cluster`, the Prometheus
 * Operator `app.kubernetes.io/name`, the ClickHouse operator `clickhouse.com/role`).
 */
export const GROUPS = {
  cnpgOperator: {
    component: "postgresql",
    pods: { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg" } },
  },
  // The Barman Cloud plugin (es1:backup; release es1-postgresql-backup): no pods without backups.
  barmanCloud: {
    component: "postgresql",
    pods: { matchLabels: { "app.kubernetes.io/name": "plugin-barman-cloud" } },
  },
  // Every CloudNativePG instance here: es1-postgresql and, after es1 restore, the cluster it made.
  postgresql: {
    component: "postgresql",
    pods: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }] },
  },
  // The cluster chart's `helm test` Job (database-ping-test).
  postgresqlTest: {
    component: "postgresql",
    pods: { matchLabels: { "app.kubernetes.io/component": "database-ping-test" } },
  },
  valkey: {
    component: "redis",
    pods: { matchLabels: { "app.kubernetes.io/name": "valkey", "app.kubernetes.io/instance": "es1-redis" } },
  },
  prometheus: { component: "monitoring", pods: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } },
  alertmanager: {
    component: "monitoring",
    pods: { matchLabels: { "app.kubernetes.io/name": "alertmanager" } },
  },
  grafana: { component: "monitoring", pods: { matchLabels: { "app.kubernetes.io/name": "grafana" } } },
  prometheusOperator: {
    component: "monitoring",
    pods: { matchLabels: { app: "kube-prometheus-stack-operator" } },
  },
  kubeStateMetrics: {
    component: "monitoring",
    pods: { matchLabels: { "app.kubernetes.io/name": "kube-state-metrics" } },
  },
  airflow: { component: "airflow", pods: { matchLabels: { tier: "airflow", release: "es1-airflow" } } },
  ollama: {
    component: "ollama",
    pods: { matchLabels: { "app.kubernetes.io/name": "ollama", "app.kubernetes.io/instance": "es1-ollama" } },
  },
  mlflow: {
    component: "mlflow",
    pods: { matchLabels: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "es1-mlflow" } },
  },
  // Main and queue workers.
  n8n: { component: "n8n", pods: { matchLabels: { "app.kubernetes.io/instance": "es1-n8n" } } },
  langflow: {
    component: "langflow",
    pods: { matchLabels: { "app.kubernetes.io/instance": "es1-langflow" } },
  },
  // Web and worker.
  langfuse: {
    component: "langfuse",
    pods: {
      matchLabels: { "app.kubernetes.io/name": "langfuse", "app.kubernetes.io/instance": "es1-langfuse" },
    },
  },
  // The web pods alone: what customers and the SDKs call.
  langfuseWeb: {
    component: "langfuse",
    pods: {
      matchLabels: {
        "app.kubernetes.io/name": "langfuse",
        "app.kubernetes.io/instance": "es1-langfuse",
        app: "web",
      },
    },
  },
  langfuseS3: {
    component: "langfuse",
    pods: { matchLabels: { "app.kubernetes.io/name": "s3", "app.kubernetes.io/instance": "es1-langfuse" } },
  },
  // The chart's bucket-creation hook Job: the release's only pod without a name label.
  langfuseHook: {
    component: "langfuse",
    pods: {
      matchLabels: { "app.kubernetes.io/instance": "es1-langfuse" },
      matchExpressions: [{ key: "app.kubernetes.io/name", operator: "DoesNotExist" }],
    },
  },
  clickhouse: {
    component: "langfuse",
    pods: { matchLabels: { "clickhouse.com/role": "clickhouse-server" } },
  },
  keeper: { component: "langfuse", pods: { matchLabels: { "clickhouse.com/role": "clickhouse-keeper" } } },
  clickhouseOperator: {
    component: "langfuse",
    withOperators: true,
    pods: { matchLabels: { "app.kubernetes.io/name": "clickhouse-operator" } },
  },
  certManager: {
    component: "langfuse",
    withOperators: true,
    pods: { matchLabels: { "app.kubernetes.io/instance": "es1-cert-manager" } },
  },
  certManagerWebhook: {
    component: "langfuse",
    withOperators: true,
    pods: {
      matchLabels: {
        "app.kubernetes.io/instance": "es1-cert-manager",
        "app.kubernetes.io/component": "webhook",
      },
    },
  },
} as const satisfies Record<string, Group>;
export type GroupName = keyof typeof GROUPS;

/** A port: a number, or a container port's name (resolved on the destination pods). */
export interface Port {
  port: number | string;
  protocol?: "TCP" | "UDP";
}

/** Who is at the other end of a flow, besides a group of es1-infrastructure. */
export type Peer =
  | { group: GroupName }
  /** Every customer platform namespace; with `pods`, only those pods of them. */
  | { platforms: true; pods?: LabelSelector }
  /** The Kubernetes API server (es1:network.apiServerCidrs). */
  | { apiServer: true }
  /** The nodes (kubelet, node-exporter on the host network): es1:network.nodeCidrs. */
  | { nodes: true }
  /** An address outside the cluster a setting names (es1:network.egress). */
  | { cidr: string };

export interface Flow {
  from: Peer;
  to: Peer;
  ports: Port[];
  /** Why the flow exists (shown as the rule's comment in docs and errors). */
  why: string;
}

const tcp = (...ports: (number | string)[]): Port[] => ports.map((port) => ({ port, protocol: "TCP" }));
const g = (group: GroupName): Peer => ({ group });
const PLATFORMS: Peer = { platforms: true };
const API: Peer = { apiServer: true };
const NODES: Peer = { nodes: true };

/** Container ports of customer platforms Prometheus scrapes (platform/chart's port names). */
export const PLATFORM_METRICS_PORTS = ["http", "metrics", "license"] as const;

/** Every flow es1-infrastructure needs, whatever is switched on (filtered by flows()). */
function allFlows(): Flow[] {
  const f: Flow[] = [];
  const add = (from: Peer | Peer[], to: Peer, ports: Port[], why: string) => {
    for (const src of Array.isArray(from) ? from : [from]) f.push({ from: src, to, ports, why });
  };
  // PostgreSQL (CloudNativePG).
  add(
    [g("airflow"), g("mlflow"), g("n8n"), g("langflow"), g("langfuse"), g("postgresqlTest"), PLATFORMS],
    g("postgresql"),
    tcp(5432),
    "databases of the applications and of each customer",
  );
  add(g("postgresql"), g("postgresql"), tcp(5432, 8000), "streaming replication between instances");
  add(
    g("cnpgOperator"),
    g("postgresql"),
    tcp(8000),
    "the operator asks each instance manager for its status",
  );
  add([g("cnpgOperator"), g("postgresql")], API, [], "CloudNativePG reconciles through the API");
  add(API, g("cnpgOperator"), tcp(9443), "admission webhooks of CloudNativePG");
  add(
    g("cnpgOperator"),
    g("barmanCloud"),
    tcp(9090),
    "the operator calls the Barman Cloud plugin (es1:backup)",
  );
  add(g("barmanCloud"), API, [], "the Barman Cloud plugin reconciles its ObjectStores");
  // Valkey.
  add([g("airflow"), g("n8n"), g("langfuse"), PLATFORMS], g("valkey"), tcp(6379), "queues and caches");
  // Monitoring: Prometheus scrapes, Grafana queries, Alertmanager receives.
  add(g("prometheus"), g("postgresql"), tcp(9187), "scrape");
  add(g("prometheus"), g("cnpgOperator"), tcp(8080), "scrape");
  add(g("prometheus"), g("valkey"), tcp(9121), "scrape");
  add(g("prometheus"), g("prometheus"), tcp(9090, 8080), "scrape itself and its config reloader");
  add(g("prometheus"), g("alertmanager"), tcp(9093, 8080), "alerts, and scrape");
  add(g("grafana"), g("alertmanager"), tcp(9093), "Grafana's Alertmanager data source");
  add(g("grafana"), g("prometheus"), tcp(9090), "Grafana's Prometheus data source");
  add(g("prometheus"), g("grafana"), tcp(3000), "scrape");
  add(g("prometheus"), g("kubeStateMetrics"), tcp(8080), "scrape");
  add(g("prometheus"), g("prometheusOperator"), tcp(10250), "scrape");
  add(g("prometheus"), g("airflow"), tcp(9102), "scrape (StatsD exporter)");
  add(g("prometheus"), g("mlflow"), tcp(5000), "scrape");
  add(g("prometheus"), g("n8n"), tcp(5678), "scrape");
  add(g("prometheus"), g("langfuseS3"), tcp(9324), "scrape");
  add(g("prometheus"), g("clickhouseOperator"), tcp(8080), "scrape");
  add(g("prometheus"), g("certManager"), tcp(9402), "scrape");
  add(g("prometheus"), PLATFORMS, tcp(...PLATFORM_METRICS_PORTS), "scrape customer platforms");
  add(g("prometheus"), NODES, tcp(10250, 9100), "scrape kubelets and node-exporter (host network)");
  add(
    [g("prometheus"), g("prometheusOperator"), g("kubeStateMetrics"), g("grafana")],
    API,
    [],
    "service discovery, the operator, object state, Grafana's dashboard sidecar",
  );
  add(API, g("prometheusOperator"), tcp(10250), "admission webhook of the Prometheus Operator");
  // `es1 status` asks Prometheus for volume usage through the API server's service proxy.
  add(API, g("prometheus"), tcp(9090), "es1 status: volume usage through the API server's service proxy");
  // Airflow: its components talk to each other (API server, logs, StatsD).
  add(
    g("airflow"),
    g("airflow"),
    [...tcp(8080, 8793, 8794), { port: 9125, protocol: "UDP" }],
    "execution API, task logs, StatsD",
  );
  // The shared AI services.
  add([PLATFORMS, g("langflow"), g("n8n"), g("airflow")], g("ollama"), tcp(11434), "model inference");
  // The shared MLflow serves the shared applications; each customer has its own (platform/mlflow.ts).
  add(g("airflow"), g("mlflow"), tcp(5000), "experiment tracking and models");
  add(
    [{ platforms: true, pods: { matchLabels: LANGFUSE_CLIENT_LABELS } }, g("langfuse")],
    g("langfuseWeb"),
    tcp(3000),
    "traces (web) of customers with a Langfuse project of their own; the worker calls the web",
  );
  // Langfuse's own stores.
  add(g("langfuse"), g("clickhouse"), tcp(8123, 9000), "traces in ClickHouse");
  add(
    [g("langfuse"), g("langfuseHook")],
    g("langfuseS3"),
    tcp(8333, 9333),
    "event and media blobs; bucket creation",
  );
  add(
    g("langfuseS3"),
    g("langfuseS3"),
    tcp(9333, 19333, 8080, 18080, 8888, 18888, 8333),
    "SeaweedFS all-in-one",
  );
  add(g("clickhouse"), g("clickhouse"), tcp(9000, 9009), "replication between ClickHouse replicas");
  add(g("clickhouse"), g("keeper"), tcp(2181, 9181), "coordination");
  add(g("keeper"), g("keeper"), tcp(9234), "Keeper's Raft");
  add(g("clickhouseOperator"), g("clickhouse"), tcp(8123, 9000), "the operator checks the servers");
  add(g("clickhouseOperator"), g("keeper"), tcp(2181, 9181), "the operator checks the Keepers");
  add([g("clickhouseOperator"), g("certManager")], API, [], "operators reconcile through the API");
  add(API, g("clickhouseOperator"), tcp(9443), "admission webhook of the ClickHouse operator");
  add(API, g("certManagerWebhook"), tcp(10250), "admission webhook of cert-manager");
  return f;
}

export interface NetworkPolicySpec {
  name: string;
  spec: {
    podSelector: LabelSelector;
    policyTypes: ("Ingress" | "Egress")[];
    ingress?: { from: Record<string, unknown>[]; ports: Port[] }[];
    egress?: { to: Record<string, unknown>[]; ports: Port[] }[];
  };
}

function peerSelectors(p: Peer, net: NetworkSettings): Record<string, unknown>[] {
  if ("group" in p) return [{ podSelector: GROUPS[p.group].pods }];
  if ("platforms" in p)
    return [
      {
        namespaceSelector: { matchLabels: PLATFORM_NAMESPACE_LABELS },
        ...(p.pods ? { podSelector: p.pods } : {}),
      },
    ];
  if ("apiServer" in p) return net.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  if ("nodes" in p)
    return [
      ...net.nodeCidrs.map((cidr) => ({ ipBlock: { cidr } })),
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": NODE_EXPORTER_NAMESPACE } } },
    ];
  return [{ ipBlock: { cidr: p.cidr } }];
}

/** What the stack switches on that decides which flows exist. */
export interface NetworkInputs {
  enabled: (c: ComponentName) => boolean;
  /** Whether the stack installs cert-manager and the ClickHouse operator (Langfuse's operators). */
  langfuseOperators: boolean;
  network: NetworkSettings;
}

function groupOn(name: GroupName, inp: NetworkInputs): boolean {
  const grp: Group = GROUPS[name];
  return inp.enabled(grp.component) && (!grp.withOperators || inp.langfuseOperators);
}

/** The flows of this stack: both ends switched on, plus the egress its settings name. */
export function flows(inp: NetworkInputs): Flow[] {
  const on = (p: Peer) => !("group" in p) || groupOn(p.group, inp);
  const out = allFlows().filter((f) => on(f.from) && on(f.to));
  for (const e of inp.network.egress) {
    for (const name of Object.keys(GROUPS) as GroupName[]) {
      if (GROUPS[name].component === e.component && groupOn(name, inp))
        out.push({
          from: g(name),
          to: { cidr: e.cidr },
          ports: tcp(...e.ports),
          why: `es1:network.egress: ${e.name}`,
        });
    }
  }
  return out;
}

/** The API server answers on a few well-known ports (443 for the Service, 6443 on the hosts). */
const API_PORTS = tcp(443, 6443);

/** Every flow names its ports; those to the API server take the API's. */
function portsOf(f: Flow): Port[] {
  if (f.ports.length > 0) return f.ports;
  if ("apiServer" in f.to || "apiServer" in f.from) return API_PORTS;
  throw new Error(`flow without ports: ${f.why}`);
}

/** Deny everything in a namespace, then let every pod resolve names. */
function closedNamespace(): NetworkPolicySpec[] {
  return [
    { name: "es1-default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      name: "es1-dns",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: { matchLabels: DNS_NAMESPACE }, podSelector: { matchLabels: DNS_PODS } },
            ],
            ports: [
              { port: 53, protocol: "UDP" },
              { port: 53, protocol: "TCP" },
            ],
          },
        ],
      },
    },
  ];
}

/**
 * es1-velero's policies (VELERO_NAMESPACE): closed, then every pod there — the server, the
 * node-agent (kopia uploads the volumes' files itself), the CRD and repository maintenance Jobs,
 * all Velero's — may reach the API server and the object store (es1:network.egress rules with
 * `component: velero`). Nothing calls into the namespace.
 */
export function veleroPolicies(net: NetworkSettings): NetworkPolicySpec[] {
  const store = net.egress.filter((e) => e.component === "velero");
  return [
    ...closedNamespace(),
    {
      name: "es1-velero",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: peerSelectors(API, net), ports: API_PORTS },
          ...store.map((e) => ({ to: [{ ipBlock: { cidr: e.cidr } }], ports: tcp(...e.ports) })),
        ],
      },
    },
  ];
}

/**
 * es1-infrastructure's policies: deny everything, DNS for every pod, then per group one policy
 * with the ingress its consumers need and the egress it needs.
 */
export function networkPolicies(inp: NetworkInputs): NetworkPolicySpec[] {
  const fs = flows(inp);
  const out: NetworkPolicySpec[] = closedNamespace();
  for (const name of Object.keys(GROUPS) as GroupName[]) {
    if (!groupOn(name, inp)) continue;
    const ingress = fs
      .filter((f) => "group" in f.to && f.to.group === name)
      .map((f) => ({ from: peerSelectors(f.from, inp.network), ports: portsOf(f) }));
    const egress = fs
      .filter((f) => "group" in f.from && f.from.group === name)
      .map((f) => ({ to: peerSelectors(f.to, inp.network), ports: portsOf(f) }));
    // Prometheus scrapes CoreDNS' metrics (the chart's coredns ServiceMonitor).
    if (name === "prometheus")
      egress.push({
        to: [{ namespaceSelector: { matchLabels: DNS_NAMESPACE }, podSelector: { matchLabels: DNS_PODS } }],
        ports: tcp(9153),
      });
    if (ingress.length === 0 && egress.length === 0) continue;
    const types: ("Ingress" | "Egress")[] = [];
    if (ingress.length > 0) types.push("Ingress");
    if (egress.length > 0) types.push("Egress");
    out.push({
      name: `es1-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      spec: {
        podSelector: GROUPS[name].pods,
        policyTypes: types,
        ...(ingress.length > 0 ? { ingress } : {}),
        ...(egress.length > 0 ? { egress } : {}),
      },
    });
  }
  return out;
}

/**
 * node-exporter's namespace: closed too, Prometheus scrapes it. (Its pods use the host network,
 * where most NetworkPolicy engines do not apply; Prometheus' egress to the nodes covers that.)
 */
export function nodeExporterPolicies(): NetworkPolicySpec[] {
  return [
    {
      name: "es1-node-exporter",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": INFRASTRUCTURE_NAMESPACE },
                },
                podSelector: GROUPS.prometheus.pods,
              },
            ],
            ports: tcp(9100),
          },
        ],
      },
    },
  ];
}
