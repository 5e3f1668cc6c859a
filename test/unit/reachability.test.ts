import * as assert from "assert";
import { Connection, Expectations, parsePorts, rangeInside, violations } from "../e2e/reachability";

// The matrix checker of the isolation e2e test, on connections as netpol-analyzer prints them
// (`netpolicy list -o json`), so a policy that opens a path is known to fail the test.

const INFRA = "es1-infrastructure";
const PROM = `${INFRA}/prometheus-es1-monitoring-prometheus-0[Pod]`;
const PG = `${INFRA}/es1-postgresql-1[Pod]`;

const expect: Expectations = {
  infrastructureNamespace: INFRA,
  customerNamespaces: ["beam-platform", "rimbal-platform"],
  prometheus: ["prometheus-es1-monitoring-prometheus"],
  scrapePorts: { "beam-platform/es1-platform-gateway": [8080, 9090, 9091] },
  stores: {
    "^es1-postgresql-\\d+$": {
      customers: [5432],
      from: {
        "es1-n8n": [5432],
        "es1-postgresql-operator": [8000],
        "prometheus-es1-monitoring-prometheus": [9187],
      },
    },
  },
  customerServices: { "es1-ollama": [11434] },
  egress: [
    {
      from: ["es1-postgresql-operator", "prometheus-es1-monitoring-prometheus"],
      cidrs: ["10.0.0.2/32"],
      ports: [443, 6443],
    },
    { from: ["prometheus-es1-monitoring-prometheus"], cidrs: ["10.0.0.0/30"], ports: [10250] },
  ],
  customerEgress: { "rimbal-platform": { cidrs: ["203.0.113.10/32"], ports: [443] } },
  ingress: [{ to: ["es1-postgresql-operator"], cidrs: ["10.0.0.2/32"], ports: [9443] }],
};

/** What the analyzer lists for the installation as it should be. */
const CLOSED: Connection[] = [
  { src: "beam-platform/es1-platform-manager-api[Deployment]", dst: PG, conn: "TCP 5432" },
  {
    src: "beam-platform/es1-platform-manager-api[Deployment]",
    dst: `${INFRA}/es1-ollama[Deployment]`,
    conn: "TCP 11434",
  },
  {
    src: "beam-platform/es1-platform-gateway[Deployment]",
    dst: "beam-platform/es1-platform-manager-api[Deployment]",
    conn: "TCP 8000",
  },
  { src: `${INFRA}/es1-n8n[Deployment]`, dst: PG, conn: "TCP 5432" },
  { src: `${INFRA}/es1-postgresql-operator[Deployment]`, dst: PG, conn: "TCP 8000" },
  { src: `${INFRA}/es1-postgresql-operator[Deployment]`, dst: "10.0.0.2-10.0.0.2", conn: "TCP 443,6443" },
  { src: "10.0.0.2-10.0.0.2", dst: `${INFRA}/es1-postgresql-operator[Deployment]`, conn: "TCP 9443" },
  { src: PROM, dst: PG, conn: "TCP 9187" },
  { src: PROM, dst: "beam-platform/es1-platform-gateway[Deployment]", conn: "TCP 8080,9090-9091" },
  // Two rules cover the API server's address: their ports add up.
  { src: PROM, dst: "10.0.0.2-10.0.0.2", conn: "TCP 443,6443,10250" },
  { src: PROM, dst: "10.0.0.0-10.0.0.1", conn: "TCP 10250" },
];

describe("isolation matrix checker", () => {
  it("reads the analyzer's connections: ports, ranges", () => {
    assert.deepStrictEqual(parsePorts("TCP 53,UDP 53"), {
      all: false,
      tcp: [[53, 53]],
      udp: [[53, 53]],
      other: false,
    });
    assert.deepStrictEqual(parsePorts("TCP 9090-9091"), {
      all: false,
      tcp: [[9090, 9091]],
      udp: [],
      other: false,
    });
    assert.deepStrictEqual(parsePorts("All Connections"), { all: true });
    assert.ok(rangeInside(["10.0.0.2", "10.0.0.2"], ["10.0.0.0/30"]));
    assert.ok(!rangeInside(["0.0.0.0", "9.255.255.255"], ["10.0.0.0/8"]));
  });

  it("passes the installation as it should be", () => {
    assert.deepStrictEqual(violations(CLOSED, expect), []);
  });

  it("names every path a deliberately open policy adds", () => {
    // What the analyzer lists once n8n's pods get `egress: [{}]` and beam's gateway `ingress: [{}]`.
    const open: Connection[] = [
      ...CLOSED,
      {
        src: `${INFRA}/es1-n8n[Deployment]`,
        dst: "beam-platform/es1-platform-gateway[Deployment]",
        conn: "All Connections",
      },
      { src: `${INFRA}/es1-n8n[Deployment]`, dst: "0.0.0.0-255.255.255.255", conn: "All Connections" },
      {
        src: "rimbal-platform/es1-platform-crewai[Deployment]",
        dst: "beam-platform/es1-platform-gateway[Deployment]",
        conn: "All Connections",
      },
      {
        src: "0.0.0.0-255.255.255.255",
        dst: "beam-platform/es1-platform-gateway[Deployment]",
        conn: "All Connections",
      },
      { src: PROM, dst: "beam-platform/es1-platform-gateway[Deployment]", conn: "TCP 22" },
      {
        src: "beam-platform/es1-platform-crewai[Deployment]",
        dst: `${INFRA}/es1-monitoring-grafana[Deployment]`,
        conn: "TCP 3000",
      },
      { src: `${INFRA}/es1-langflow[Deployment]`, dst: PG, conn: "TCP 5432" },
      { src: `${INFRA}/es1-n8n[Deployment]`, dst: PG, conn: "TCP 5432,8000" },
      { src: "0.0.0.0-255.255.255.255", dst: `${INFRA}/es1-n8n[Deployment]`, conn: "TCP 5678" },
      { src: PROM, dst: "10.0.0.4-10.0.0.255", conn: "TCP 10250" },
      {
        src: "beam-platform/es1-platform-gateway[Deployment]",
        dst: "0.0.0.0-255.255.255.255",
        conn: "TCP 443",
      },
    ];
    const found = violations(open, expect);
    const why = (src: string, dst: string) => found.find((v) => v.startsWith(`${src} => ${dst} `));
    assert.match(
      why(`${INFRA}/es1-n8n[Deployment]`, "beam-platform/es1-platform-gateway[Deployment]") ?? "",
      /only Prometheus/,
    );
    assert.match(
      why(`${INFRA}/es1-n8n[Deployment]`, "0.0.0.0-255.255.255.255") ?? "",
      /egress outside the cluster no setting names/,
    );
    assert.match(
      why(
        "rimbal-platform/es1-platform-crewai[Deployment]",
        "beam-platform/es1-platform-gateway[Deployment]",
      ) ?? "",
      /one customer reaches another/,
    );
    assert.match(
      why("0.0.0.0-255.255.255.255", "beam-platform/es1-platform-gateway[Deployment]") ?? "",
      /reachable from outside/,
    );
    assert.match(
      why(PROM, "beam-platform/es1-platform-gateway[Deployment]") ?? "",
      /beyond its metrics ports/,
    );
    assert.match(
      why("beam-platform/es1-platform-crewai[Deployment]", `${INFRA}/es1-monitoring-grafana[Deployment]`) ??
        "",
      /does not use/,
    );
    assert.match(why(`${INFRA}/es1-langflow[Deployment]`, PG) ?? "", /not its consumer/);
    assert.match(why(`${INFRA}/es1-n8n[Deployment]`, PG) ?? "", /beyond its ports/);
    assert.match(
      why("0.0.0.0-255.255.255.255", `${INFRA}/es1-n8n[Deployment]`) ?? "",
      /from outside the cluster/,
    );
    assert.match(why(PROM, "10.0.0.4-10.0.0.255") ?? "", /no setting names/);
    assert.match(
      why("beam-platform/es1-platform-gateway[Deployment]", "0.0.0.0-255.255.255.255") ?? "",
      /customer reaches outside/,
    );
    assert.strictEqual(found.length, 11, found.join("\n"));
  });
});
