// Secrets and ConfigMaps are updated in place, never deleted and recreated: the Kubernetes
// provider's default replaces them when their data changes, and with fixed names a replacement
// is a delete first (es1-redis-users would be briefly absent when a customer is added).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { K8S_PROVIDER, runCluster } from "./cluster-helpers";
import { ProgramRun, runProgram } from "./harness";

function assertMutable(run: ProgramRun): void {
  const providers = run.byType(K8S_PROVIDER);
  assert.ok(providers.length > 0, "a Kubernetes provider is registered");
  // Provider settings reach the engine as strings.
  for (const p of providers) {
    assert.strictEqual(String(p.inputs.enableSecretMutable), "true", `${p.name}: Secrets updated in place`);
    assert.strictEqual(
      String(p.inputs.enableConfigMapMutable),
      "true",
      `${p.name}: ConfigMaps updated in place`,
    );
  }
  // The provider replaces an `immutable` object whatever it is told.
  for (const type of ["kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap"])
    for (const r of run.byType(type))
      assert.notStrictEqual(r.inputs.immutable, true, `${r.name} is immutable`);
}

describe("shared Secrets and ConfigMaps are updated in place", () => {
  it("on an existing cluster", async () => {
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "es1-mutable-")), "kubeconfig");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
    const run = await runProgram({ "es1:cluster": JSON.stringify({ provider: "existing", kubeconfig }) });
    assert.ok(
      run.byType("kubernetes:core/v1:Secret").some((s) => s.name === "es1-redis-users"),
      "es1-redis-users is one of them",
    );
    assertMutable(run);
  });

  it("on a cluster the program creates", async () => {
    assertMutable(
      await runCluster("dev", { provider: "gke", project: "acme-es1-dev", region: "europe-west1" }),
    );
  });
});
