// README's "What a stack deploys" diagram kept true to the code: every release, Service and port,
// pool, platform service and observability object it names is the program's, and each shared
// component's arrows are the stores it needs (config/sizing.ts NEEDS).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { POOL_NAMES } from "../../clusters/types";
import { NEEDS } from "../../config/sizing";
import { RELEASES, releaseName } from "../../infrastructure/catalog";
import { INFRASTRUCTURE_NAMESPACE, SERVICES } from "../../infrastructure/layout";
import { ALERTS_RULE_NAME, DASHBOARDS_CONFIGMAP } from "../../infrastructure/observability";
import { ALERTMANAGER_CONFIG_SECRET } from "../../infrastructure/observability/alerting";
import { PROJECT_ROOT } from "../../lib/paths";
import { customerObjects, PLATFORM_RELEASE } from "../../platform/values";
import { fencedBlocks } from "../markdown";

const SECTION = "What a stack deploys";

function diagram(): string {
  const blocks = fencedBlocks("README.md").filter((b) => b.heading === SECTION && b.info === "mermaid");
  assert.strictEqual(blocks.length, 1, `README.md has one mermaid block under '## ${SECTION}'`);
  return blocks[0].text;
}

/** Node ids of the diagram's shared components, by component. */
const NODE: Record<string, string> = {
  postgresql: "pg",
  redis: "redis",
  airflow: "airflow",
  mlflow: "mlflow",
  n8n: "n8n",
  langflow: "langflow",
  langfuse: "langfuse",
  ollama: "ollama",
};

describe("README: the diagram of what a stack deploys", () => {
  const text = diagram();
  const edges = new Set(
    [...text.matchAll(/^\s*(\w+)\s*-\.?->(?:\|[^|]*\|)?\s*(\w+)\s*$/gm)].map((m) => `${m[1]}->${m[2]}`),
  );

  it("names every release of the shared infrastructure and the platform's", () => {
    for (const name of ["es1-base", ...RELEASES.map(releaseName)]) assert.ok(text.includes(name), name);
    assert.ok(text.includes(`namespace ${INFRASTRUCTURE_NAMESPACE}`));
    assert.ok(text.includes(customerObjects("customer").namespace));
    assert.ok(text.includes(PLATFORM_RELEASE));
  });

  it("gives the Services their names and ports", () => {
    for (const [name, s] of Object.entries(SERVICES)) {
      const shown = s.component === "monitoring" ? `:${s.port}` : `${s.service}:${s.port}`;
      assert.ok(text.includes(shown), `${name}: ${shown}`);
    }
  });

  it("shows each platform service the chart deploys, the customer's objects, every node pool", () => {
    const helpers = fs.readFileSync(path.join(PROJECT_ROOT, "platform/chart/templates/_helpers.tpl"), "utf8");
    const suffixes = [...helpers.matchAll(/^\w+: \{suffix: ([a-z-]+),/gm)].map((m) => m[1]);
    assert.strictEqual(suffixes.length, 6);
    for (const suffix of suffixes) assert.ok(text.includes(`${PLATFORM_RELEASE}-${suffix}`), suffix);
    const objects = customerObjects("customer");
    for (const name of [objects.license, objects.shippedKeys]) assert.ok(text.includes(name), name);
    for (const pool of POOL_NAMES) assert.ok(text.includes(pool), pool);
    for (const name of [DASHBOARDS_CONFIGMAP, ALERTS_RULE_NAME, ALERTMANAGER_CONFIG_SECRET])
      assert.ok(text.includes(name), name);
  });

  it("draws each shared component's arrows to the stores it needs, and no other", () => {
    for (const [component, needs] of Object.entries(NEEDS)) {
      const from = NODE[component];
      if (from === undefined) continue;
      const drawn = Object.entries(NODE)
        .filter(([, id]) => edges.has(`${from}->${id}`))
        .map(([c]) => c)
        .sort();
      assert.deepStrictEqual(drawn, [...needs].sort(), component);
    }
  });
});
